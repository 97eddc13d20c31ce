"""Checkout: one row per (driver, idempotency key) turning a quote into an order at the order core, and
the order core's callback events already applied (idempotency by event id).

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = "state IN ('pending', 'ordered', 'failed', 'cancelled', 'paid', 'fueling', 'completed', 'refunded')"


def upgrade() -> None:
    op.create_table(
        "checkouts",
        sa.Column("id", sa.Text(), nullable=False),
        sa.Column("driver_id", sa.Text(), nullable=False),
        sa.Column("idempotency_key", sa.Text(), nullable=False),
        sa.Column("request_sha256", sa.Text(), nullable=False),
        sa.Column("quote_id", sa.Text(), nullable=False),
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("nozzle", sa.SmallInteger(), nullable=False),
        sa.Column("grade", sa.Text(), nullable=False),
        sa.Column("payable", sa.Numeric(12, 2), nullable=False),
        sa.Column("currency", sa.Text(), nullable=False),
        sa.Column("points_used", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("points_deducted", sa.Boolean(), server_default=sa.text("false"), nullable=False),
        sa.Column("state", sa.Text(), server_default="pending", nullable=False),
        sa.Column("order_id", sa.Text(), nullable=True),
        sa.Column("order_json", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("problem", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("reservation_ref", sa.Text(), nullable=True),
        sa.Column("hold_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("attempt_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("reconcile_until", sa.DateTime(timezone=True), nullable=True),
        sa.Column("cancel_reason", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(STATES, name=op.f("ck_checkouts_state")),
        sa.CheckConstraint("payable >= 0.01", name=op.f("ck_checkouts_payable_positive")),
        sa.CheckConstraint("points_used >= 0", name=op.f("ck_checkouts_points_used")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_checkouts")),
        sa.UniqueConstraint(
            "driver_id", "idempotency_key", name=op.f("uq_checkouts_driver_id_idempotency_key")
        ),
    )
    op.create_index("ix_checkouts_state", "checkouts", ["state"], unique=False)
    op.create_index(
        "uq_checkouts_order_id",
        "checkouts",
        ["order_id"],
        unique=True,
        postgresql_where=sa.text("order_id IS NOT NULL"),
    )
    op.create_table(
        "ordercore_events",
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("order_id", sa.Text(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.PrimaryKeyConstraint("event_id", name=op.f("pk_ordercore_events")),
    )
    op.create_index("ix_ordercore_events_order_id", "ordercore_events", ["order_id"], unique=False)


def downgrade() -> None:
    op.drop_index("ix_ordercore_events_order_id", table_name="ordercore_events")
    op.drop_table("ordercore_events")
    op.drop_index("uq_checkouts_order_id", table_name="checkouts")
    op.drop_index("ix_checkouts_state", table_name="checkouts")
    op.drop_table("checkouts")
