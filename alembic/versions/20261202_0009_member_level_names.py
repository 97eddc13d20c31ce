"""Member level display names (issue 11, part 6): the operator's name of each level, in Chinese and
optionally English, shown to drivers instead of the level's code.

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0009"
down_revision: str | None = "0008"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "member_level_names",
        sa.Column("level", sa.Text(), nullable=False),
        sa.Column("name_zh", sa.Text(), nullable=False),
        sa.Column("name_en", sa.Text(), nullable=True),
        sa.CheckConstraint("level ~ '^[a-z0-9_-]+$'", name=op.f("ck_member_level_names_level")),
        sa.CheckConstraint("length(btrim(name_zh)) > 0", name=op.f("ck_member_level_names_name_zh")),
        sa.PrimaryKeyConstraint("level", name=op.f("pk_member_level_names")),
    )


def downgrade() -> None:
    op.drop_table("member_level_names")
