"""Callback targets: each order keeps the callback URL of the order core that created it, and each outbox
event says where it goes, so that order cores with different receivers can share one database (tests,
staging) without delivering each other's events.

Revision ID: oc0002
Revises: oc0001
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "oc0002"
down_revision: str | None = "oc0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute(
        """
        ALTER TABLE ordercore.orders ADD COLUMN callback_url text NOT NULL DEFAULT '';
        ALTER TABLE ordercore.orders ALTER COLUMN callback_url DROP DEFAULT;
        ALTER TABLE ordercore.outbox ADD COLUMN target_url text NOT NULL DEFAULT '';
        ALTER TABLE ordercore.outbox ALTER COLUMN target_url DROP DEFAULT;
        DROP INDEX ordercore.outbox_pending;
        CREATE INDEX outbox_pending ON ordercore.outbox (target_url, order_id, id) WHERE delivered_at IS NULL;
        """
    )


def downgrade() -> None:
    op.execute(
        """
        DROP INDEX ordercore.outbox_pending;
        ALTER TABLE ordercore.outbox DROP COLUMN target_url;
        ALTER TABLE ordercore.orders DROP COLUMN callback_url;
        CREATE INDEX outbox_pending ON ordercore.outbox (order_id, id) WHERE delivered_at IS NULL;
        """
    )
