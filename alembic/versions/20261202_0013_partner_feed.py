"""Partner feed: partners' own POI ids for stations (logged in the change log, so a partner's feed shows
an id it attached), webhook subscriptions, their deliveries and the delivery worker's cursor.

partner_id is the key of the partners table (migration 0012, the access branch).

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0013"
down_revision: str | None = "0012"  # the lead re-chains: the FKs below need 0012's partners
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

# As migration 0008's capture functions: one change_log row per changed row, the transaction registered.
_CAPTURE = """
CREATE FUNCTION change_log_partner_poi_ids() RETURNS trigger LANGUAGE plpgsql AS $$
DECLARE
    tx bigint := pg_current_xact_id()::text::bigint;
    n bigint;
BEGIN
    IF TG_OP = 'INSERT' THEN
        INSERT INTO change_log (xid, entity, entity_key, station_id, op)
        SELECT tx, 'poi_id', r.partner_id::text, r.station_id, 'I' FROM new_rows r;
    ELSIF TG_OP = 'UPDATE' THEN
        INSERT INTO change_log (xid, entity, entity_key, station_id, op)
        SELECT tx, 'poi_id', k.partner_id::text, k.station_id, 'U' FROM (
            SELECT partner_id, station_id FROM new_rows UNION SELECT partner_id, station_id FROM old_rows
        ) k;
    ELSE
        INSERT INTO change_log (xid, entity, entity_key, station_id, op)
        SELECT tx, 'poi_id', r.partner_id::text, r.station_id, 'D' FROM old_rows r;
    END IF;
    GET DIAGNOSTICS n = ROW_COUNT;
    IF n > 0 THEN
        INSERT INTO change_tx (xid) VALUES (tx) ON CONFLICT DO NOTHING;
    END IF;
    RETURN NULL;
END $$
"""
_TRANSITIONS = {
    "insert": ("INSERT", "NEW TABLE AS new_rows"),
    "update": ("UPDATE", "NEW TABLE AS new_rows OLD TABLE AS old_rows"),
    "delete": ("DELETE", "OLD TABLE AS old_rows"),
}


def upgrade() -> None:
    op.create_table(
        "partner_poi_ids",
        sa.Column("partner_id", sa.BigInteger(), nullable=False),
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("poi_id", sa.Text(), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("length(poi_id) BETWEEN 1 AND 128", name=op.f("ck_partner_poi_ids_poi_id_length")),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_partner_poi_ids_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_partner_poi_ids_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("partner_id", "station_id", name=op.f("pk_partner_poi_ids")),
        sa.UniqueConstraint("partner_id", "poi_id", name=op.f("uq_partner_poi_ids_partner_id_poi_id")),
    )
    op.create_index("ix_partner_poi_ids_station_id", "partner_poi_ids", ["station_id"])
    op.execute(_CAPTURE)
    for name, (event, transition) in _TRANSITIONS.items():
        op.execute(
            f"CREATE TRIGGER partner_poi_ids_change_log_{name} AFTER {event} ON partner_poi_ids "
            f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION change_log_partner_poi_ids()"
        )
    op.execute(
        "CREATE TRIGGER partner_poi_ids_change_log_truncate AFTER TRUNCATE ON partner_poi_ids "
        "FOR EACH STATEMENT EXECUTE FUNCTION change_log_truncate('poi_id')"
    )

    op.create_table(
        "webhook_subscriptions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("partner_id", sa.BigInteger(), nullable=False),
        sa.Column("url", sa.Text(), nullable=False),
        sa.Column("secret", sa.Text(), nullable=False),
        sa.Column("coord", sa.Text(), server_default="wgs84", nullable=False),
        sa.Column("adcode", sa.Text(), nullable=True),
        sa.Column("brands", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("grades", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("tiers", postgresql.ARRAY(sa.Text()), server_default="{pump}", nullable=False),
        sa.Column("threshold", sa.Numeric(10, 2), server_default="0", nullable=False),
        sa.Column("active", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("consecutive_failures", sa.Integer(), server_default="0", nullable=False),
        sa.Column("disabled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "adcode IS NULL OR adcode ~ '^[0-9]{6}$'", name=op.f("ck_webhook_subscriptions_adcode")
        ),
        sa.CheckConstraint("threshold >= 0", name=op.f("ck_webhook_subscriptions_threshold")),
        sa.CheckConstraint(
            "coord IN ('wgs84', 'gcj02', 'bd09')", name=op.f("ck_webhook_subscriptions_coord")
        ),
        sa.ForeignKeyConstraint(
            ["partner_id"],
            ["partners.id"],
            name=op.f("fk_webhook_subscriptions_partner_id_partners"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_subscriptions")),
    )
    op.create_index("ix_webhook_subscriptions_partner_id", "webhook_subscriptions", ["partner_id"])
    op.create_table(
        "webhook_deliveries",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("subscription_id", sa.BigInteger(), nullable=False),
        sa.Column("event_id", sa.Text(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("change_id", sa.BigInteger(), nullable=False),
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column("state", sa.Text(), server_default="pending", nullable=False),
        sa.Column("attempts", sa.Integer(), server_default="0", nullable=False),
        sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("last_status", sa.Integer(), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("delivered_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "state IN ('pending', 'delivered', 'abandoned')", name=op.f("ck_webhook_deliveries_state")
        ),
        sa.ForeignKeyConstraint(
            ["subscription_id"],
            ["webhook_subscriptions.id"],
            name=op.f("fk_webhook_deliveries_subscription_id_webhook_subscriptions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_webhook_deliveries")),
    )
    # The next delivery of each station is the pending one of least (seq, change_id).
    op.create_index(
        "ix_webhook_deliveries_pending",
        "webhook_deliveries",
        ["subscription_id", "station_id", "seq", "change_id"],
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_index(
        "uq_webhook_deliveries_pending_event",
        "webhook_deliveries",
        ["subscription_id", "event_id"],
        unique=True,
        postgresql_where=sa.text("state = 'pending'"),
    )
    op.create_table(
        "webhook_cursor",
        sa.Column("singleton", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("cursor", sa.Text(), nullable=True),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("singleton", name=op.f("ck_webhook_cursor_singleton")),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_webhook_cursor")),
    )
    op.execute("INSERT INTO webhook_cursor (singleton, cursor) VALUES (true, NULL)")


def downgrade() -> None:
    op.drop_table("webhook_cursor")
    op.drop_index("uq_webhook_deliveries_pending_event", table_name="webhook_deliveries")
    op.drop_index("ix_webhook_deliveries_pending", table_name="webhook_deliveries")
    op.drop_table("webhook_deliveries")
    op.drop_index("ix_webhook_subscriptions_partner_id", table_name="webhook_subscriptions")
    op.drop_table("webhook_subscriptions")
    for name in (*_TRANSITIONS, "truncate"):
        op.execute(f"DROP TRIGGER IF EXISTS partner_poi_ids_change_log_{name} ON partner_poi_ids")
    op.execute("DROP FUNCTION IF EXISTS change_log_partner_poi_ids()")
    op.drop_index("ix_partner_poi_ids_station_id", table_name="partner_poi_ids")
    op.drop_table("partner_poi_ids")
