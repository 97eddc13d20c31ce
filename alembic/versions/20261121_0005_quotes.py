"""Quotes: every signed quote, so that checkout can use each one once.

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.create_table(
        "quotes",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("token_sha256", sa.Text(), nullable=False),
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("driver_id", sa.Text(), nullable=True),
        sa.Column("payable", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("issued_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("consumed_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("consumed_ref", sa.Text(), nullable=True),
        sa.CheckConstraint("payable >= 0.01", name=op.f("ck_quotes_payable_positive")),
        sa.CheckConstraint("expires_at > issued_at", name=op.f("ck_quotes_expiry_after_issue")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_quotes")),
    )
    op.create_index("ix_quotes_expires_at", "quotes", ["expires_at"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_quotes_expires_at", table_name="quotes")
    op.drop_table("quotes")
