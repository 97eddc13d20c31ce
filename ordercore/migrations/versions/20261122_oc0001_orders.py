"""Order core: orders, their transition history, e-invoice requests, the callback outbox.

Revision ID: oc0001
Revises:
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

from alembic import op

revision: str = "oc0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

UPGRADE = """
CREATE TABLE ordercore.orders (
    id text PRIMARY KEY,
    idempotency_key text NOT NULL UNIQUE,
    request_sha256 text NOT NULL,
    state text NOT NULL
        CHECK (state IN ('created', 'paid', 'fueling', 'completed', 'cancelled', 'refunded')),
    station_id bigint NOT NULL,
    position integer NOT NULL,
    nozzle integer NOT NULL,
    grade text NOT NULL,
    fill_kind text NOT NULL CHECK (fill_kind IN ('amount', 'litres', 'full')),
    fill_value numeric,
    litres numeric,
    list_amount numeric(12, 2) NOT NULL,
    payable numeric(12, 2) NOT NULL CHECK (payable >= 0),
    currency text NOT NULL,
    coupons text[] NOT NULL DEFAULT '{}',
    points_used integer NOT NULL DEFAULT 0,
    driver_id text NOT NULL,
    quote_id text NOT NULL,
    quote_token text NOT NULL,
    invoice jsonb,
    verification_code text NOT NULL CHECK (verification_code ~ '^[0-9]{6}$'),
    code_redeemed_at timestamptz,
    payment_method text,
    payment_transaction_id text UNIQUE,
    payment_amount numeric(12, 2),
    paid_at timestamptz,
    dispensed_litres numeric,
    dispensed_amount numeric(12, 2),
    completed_at timestamptz,
    cancel_reason text,
    expires_at timestamptz NOT NULL,
    created_at timestamptz NOT NULL DEFAULT now(),
    updated_at timestamptz NOT NULL DEFAULT now()
);
-- A code identifies one live order of its station.
CREATE UNIQUE INDEX orders_live_code ON ordercore.orders (station_id, verification_code)
    WHERE state IN ('created', 'paid', 'fueling');
CREATE INDEX orders_code ON ordercore.orders (station_id, verification_code, created_at);
CREATE INDEX orders_unpaid_expiry ON ordercore.orders (expires_at) WHERE state = 'created';

CREATE TABLE ordercore.order_transitions (
    id bigserial PRIMARY KEY,
    order_id text NOT NULL REFERENCES ordercore.orders (id) ON DELETE CASCADE,
    from_state text,
    to_state text NOT NULL,
    reason text,
    occurred_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX order_transitions_order ON ordercore.order_transitions (order_id, id);

CREATE TABLE ordercore.invoice_requests (
    order_id text PRIMARY KEY REFERENCES ordercore.orders (id) ON DELETE CASCADE,
    title text NOT NULL,
    tax_id text,
    email text NOT NULL,
    amount numeric(12, 2) NOT NULL,
    status text NOT NULL DEFAULT 'requested',
    requested_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE ordercore.outbox (
    id bigserial PRIMARY KEY,
    event_id text NOT NULL UNIQUE,
    order_id text NOT NULL REFERENCES ordercore.orders (id) ON DELETE CASCADE,
    body jsonb NOT NULL,
    attempts integer NOT NULL DEFAULT 0,
    next_attempt_at timestamptz NOT NULL DEFAULT now(),
    delivered_at timestamptz,
    last_error text,
    created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX outbox_pending ON ordercore.outbox (order_id, id) WHERE delivered_at IS NULL;
"""


def upgrade() -> None:
    op.execute(UPGRADE)


def downgrade() -> None:
    op.execute(
        "DROP TABLE ordercore.outbox, ordercore.invoice_requests, ordercore.order_transitions, "
        "ordercore.orders"
    )
