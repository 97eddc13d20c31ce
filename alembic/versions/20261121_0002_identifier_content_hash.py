"""station_identifiers.content_hash: what each source last said about the station (ingest re-runs).

A station known to two sources (linked by the ingest) keeps the content of the source that created it;
the other source's identifier remembers its own record hash here, so re-running that source finds it
unchanged. NULL (rows written before this column, or by loaders that do not set it) means: compare with
stations.content_hash.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("station_identifiers", sa.Column("content_hash", sa.Text(), nullable=True))


def downgrade() -> None:
    op.drop_column("station_identifiers", "content_hash")
