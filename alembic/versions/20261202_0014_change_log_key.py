"""Change log: its primary key becomes (xid, id), so reading one transaction can only go along it.

change_log_rows() (0008) runs its query with a generic plan (a function with SET clauses is planned once,
without the arguments' values). With the demo load's one transaction holding 3.15 M of the log's 3.26 M rows,
the statistics say an xid matches half the table, and the generic plan walked the id primary key with a
filter on xid: 0.5–2.9 s and 47,000–162,000 buffers to read a transaction of one row, paid by every worker on
every change until the load left retention. Nothing looks a row up by id alone (readers go by (xid, id),
retention deletes by xid), so the id-only index goes: the (xid, id) key is the only ordered path left, and
every plan, generic or not, reads a transaction's rows from where the cursor stands.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "0014"
down_revision: str | None = "0013"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("ALTER TABLE change_log DROP CONSTRAINT pk_change_log")
    op.execute("ALTER TABLE change_log ADD CONSTRAINT pk_change_log PRIMARY KEY (xid, id)")
    op.drop_index("ix_change_log_xid_id", table_name="change_log")


def downgrade() -> None:
    op.create_index("ix_change_log_xid_id", "change_log", ["xid", "id"], unique=False)
    op.execute("ALTER TABLE change_log DROP CONSTRAINT pk_change_log")
    op.execute("ALTER TABLE change_log ADD CONSTRAINT pk_change_log PRIMARY KEY (id)")
