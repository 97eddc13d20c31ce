"""Change log: which catalogue, price and promotion rows changed, captured by statement triggers (COPY
included) and numbered in commit order.

Every captured statement appends one change_log row per changed row (INSERT ... SELECT from the statement's
transition table) and registers its transaction in change_tx. A deferred constraint trigger on change_tx
runs once per transaction at commit: it takes the next seq from the single change_counter row (whose row
lock is held until commit, so seqs are handed out in commit order and seq n+1 is never visible without n),
stamps the change_tx row and sends pg_notify('change_log', seq). Readers follow (seq, id) (changelog/).

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import NamedTuple

import sqlalchemy as sa
from alembic import op

revision: str = "0008"
down_revision: str | None = "0007"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


class Captured(NamedTuple):
    """How one table's rows are named in the log: SQL expressions over a transition-table row `r`."""

    table: str
    entity: str
    entity_id: str = "NULL::bigint"
    entity_key: str = "NULL::text"
    station_id: str = "NULL::bigint"
    position_id: str = "NULL::bigint"


# Not nozzle_heads: it is live occupancy state moved by every accepted forecourt event (occupancy_events is
# that stream); logging it would put each ingest batch through the commit counter.
CAPTURED = (
    Captured("stations", "station", entity_id="r.id", station_id="r.id"),
    Captured(
        "station_identifiers",
        "station_identifier",
        entity_key="r.source || '/' || r.external_id",
        station_id="r.station_id",
    ),
    Captured("fueling_positions", "position", entity_id="r.id", station_id="r.station_id"),
    # No station lookup here: the demo loader COPYs nozzles with the positions' primary key dropped.
    Captured("nozzles", "nozzle", entity_id="r.id", position_id="r.position_id"),
    Captured("station_prices", "price", entity_id="r.id", station_id="r.station_id"),
    Captured(
        "station_price_zones",
        "station_price_zone",
        entity_key="r.province_code || '/' || r.zone_code",
        station_id="r.station_id",
    ),
    Captured("price_zones", "price_zone", entity_key="r.province_code || '/' || r.zone_code"),
    Captured("price_zone_regions", "price_zone_region", entity_key="r.region"),
    Captured(
        "guide_prices", "guide_price", entity_id="r.id", entity_key="r.province_code || '/' || r.zone_code"
    ),
    Captured("member_levels", "member_level", entity_id="r.id", entity_key="r.level"),
    Captured("coupon_templates", "coupon_template", entity_key="r.id"),
    Captured("payment_promotions", "payment_promotion", entity_key="r.id"),
    Captured("promotion_policy", "promotion_policy"),
)
EVENTS = (("INSERT", "insert"), ("UPDATE", "update"), ("DELETE", "delete"))


def _capture_function(c: Captured) -> str:
    columns = f"{c.entity_id}, {c.entity_key}, {c.station_id}, {c.position_id}"
    insert = (
        "INSERT INTO change_log (xid, entity, entity_id, entity_key, station_id, position_id, op) "
        f"SELECT tx, '{c.entity}', k.*, "
    )
    # An UPDATE names each changed entity once, and both names when the update moved it (a new key).
    return f"""
        CREATE FUNCTION change_log_{c.table}() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            tx bigint := pg_current_xact_id()::text::bigint;
            n bigint;
        BEGIN
            IF TG_OP = 'INSERT' THEN
                {insert}'I' FROM (SELECT {columns} FROM new_rows r) k;
            ELSIF TG_OP = 'UPDATE' THEN
                {insert}'U' FROM (
                    SELECT {columns} FROM new_rows r UNION SELECT {columns} FROM old_rows r
                ) k;
            ELSE
                {insert}'D' FROM (SELECT {columns} FROM old_rows r) k;
            END IF;
            GET DIAGNOSTICS n = ROW_COUNT;
            IF n > 0 THEN
                INSERT INTO change_tx (xid) VALUES (tx) ON CONFLICT DO NOTHING;
            END IF;
            RETURN NULL;
        END $$
    """  # noqa: S608 (the SQL is built from this migration's constants)


def upgrade() -> None:
    op.create_table(
        "change_counter",
        sa.Column("singleton", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("seq", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("pruned_through", sa.BigInteger(), server_default="0", nullable=False),
        sa.Column("pruned_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint("singleton", name=op.f("ck_change_counter_singleton")),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_change_counter")),
    )
    op.execute("INSERT INTO change_counter (singleton, seq, pruned_through) VALUES (true, 0, 0)")
    op.create_table(
        "change_tx",
        sa.Column("xid", sa.BigInteger(), autoincrement=False, nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=True),
        sa.Column("committed_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("xid", name=op.f("pk_change_tx")),
        sa.UniqueConstraint("seq", name=op.f("uq_change_tx_seq")),
    )
    op.create_index("ix_change_tx_committed_at", "change_tx", ["committed_at"], unique=False)
    op.create_table(
        "change_log",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("xid", sa.BigInteger(), nullable=False),
        sa.Column("entity", sa.Text(), nullable=False),
        sa.Column("entity_id", sa.BigInteger(), nullable=True),
        sa.Column("entity_key", sa.Text(), nullable=True),
        sa.Column("station_id", sa.BigInteger(), nullable=True),
        sa.Column("position_id", sa.BigInteger(), nullable=True),
        sa.Column("op", sa.Text(), nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("op IN ('I', 'U', 'D', 'T')", name=op.f("ck_change_log_op")),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_change_log")),
    )
    op.create_index("ix_change_log_xid_id", "change_log", ["xid", "id"], unique=False)
    # A transaction's rows after an id, in id order: always along the (xid, id) index. A transaction just
    # committed is in no statistics, and a planner guessing it small would read all of a 600,000-row COPY
    # into a bitmap and sort it for every page.
    op.execute(
        """
        CREATE FUNCTION change_log_rows(tx bigint, after_id bigint, n bigint) RETURNS SETOF change_log
        LANGUAGE sql STABLE SET enable_bitmapscan = off SET enable_seqscan = off AS $$
            SELECT * FROM change_log WHERE xid = tx AND id > after_id ORDER BY id LIMIT n
        $$
        """
    )
    op.execute(
        """
        CREATE FUNCTION change_tx_commit() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            s bigint;
        BEGIN
            UPDATE change_counter SET seq = seq + 1 RETURNING seq INTO s;
            UPDATE change_tx SET seq = s, committed_at = clock_timestamp() WHERE xid = NEW.xid;
            PERFORM pg_notify('change_log', s::text);
            RETURN NULL;
        END $$
        """
    )
    op.execute(
        "CREATE CONSTRAINT TRIGGER zz_change_tx_commit AFTER INSERT ON change_tx "
        "DEFERRABLE INITIALLY DEFERRED FOR EACH ROW EXECUTE FUNCTION change_tx_commit()"
    )
    op.execute(
        """
        CREATE FUNCTION change_log_truncate() RETURNS trigger LANGUAGE plpgsql AS $$
        DECLARE
            tx bigint := pg_current_xact_id()::text::bigint;
        BEGIN
            INSERT INTO change_log (xid, entity, op) VALUES (tx, TG_ARGV[0], 'T');
            INSERT INTO change_tx (xid) VALUES (tx) ON CONFLICT DO NOTHING;
            RETURN NULL;
        END $$
        """
    )
    for c in CAPTURED:
        op.execute(_capture_function(c))
        for event, name in EVENTS:
            transition = {
                "INSERT": "NEW TABLE AS new_rows",
                "UPDATE": "NEW TABLE AS new_rows OLD TABLE AS old_rows",
                "DELETE": "OLD TABLE AS old_rows",
            }[event]
            op.execute(
                f"CREATE TRIGGER {c.table}_change_log_{name} AFTER {event} ON {c.table} "
                f"REFERENCING {transition} FOR EACH STATEMENT EXECUTE FUNCTION change_log_{c.table}()"
            )
        op.execute(
            f"CREATE TRIGGER {c.table}_change_log_truncate AFTER TRUNCATE ON {c.table} "
            f"FOR EACH STATEMENT EXECUTE FUNCTION change_log_truncate('{c.entity}')"
        )


def downgrade() -> None:
    for c in CAPTURED:
        for _, name in (*EVENTS, ("TRUNCATE", "truncate")):
            op.execute(f"DROP TRIGGER IF EXISTS {c.table}_change_log_{name} ON {c.table}")
        op.execute(f"DROP FUNCTION IF EXISTS change_log_{c.table}()")
    op.execute("DROP FUNCTION IF EXISTS change_log_truncate()")
    op.execute("DROP TRIGGER IF EXISTS zz_change_tx_commit ON change_tx")
    op.execute("DROP FUNCTION IF EXISTS change_tx_commit()")
    op.execute("DROP FUNCTION IF EXISTS change_log_rows(bigint, bigint, bigint)")
    op.drop_index("ix_change_log_xid_id", table_name="change_log")
    op.drop_table("change_log")
    op.drop_index("ix_change_tx_committed_at", table_name="change_tx")
    op.drop_table("change_tx")
    op.drop_table("change_counter")
