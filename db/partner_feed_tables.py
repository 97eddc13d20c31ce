"""Tables of the partner feed (migration 0013): partners' POI ids, webhook subscriptions, deliveries and
the delivery worker's cursor. On db.models' metadata (alembic/env.py imports this module for `alembic
check`)."""

from __future__ import annotations

from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    Numeric,
    PrimaryKeyConstraint,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

from db.models import metadata

# A partner's own id of a station: one per partner and station, unique per partner (logged as 'poi_id').
partner_poi_ids = Table(
    "partner_poi_ids",
    metadata,
    Column("partner_id", BigInteger, ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
    Column("station_id", BigInteger, ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
    Column("poi_id", Text, nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    PrimaryKeyConstraint("partner_id", "station_id"),
    UniqueConstraint("partner_id", "poi_id"),
    CheckConstraint("length(poi_id) BETWEEN 1 AND 128", name="poi_id_length"),
    Index("ix_partner_poi_ids_station_id", "station_id"),
)

webhook_subscriptions = Table(
    "webhook_subscriptions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("partner_id", BigInteger, ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
    Column("url", Text, nullable=False),
    Column("secret", Text, nullable=False),  # signs deliveries: kept to sign, shown once at creation
    Column("coord", Text, nullable=False, server_default="wgs84"),
    Column("adcode", Text, nullable=True),  # province (xx0000), city (xxxx00) or county
    Column("brands", ARRAY(Text), nullable=False, server_default="{}"),  # empty: every brand
    Column("grades", ARRAY(Text), nullable=False, server_default="{}"),  # empty: every grade
    Column("tiers", ARRAY(Text), nullable=False, server_default="{pump}"),
    Column("threshold", Numeric(10, 2), nullable=False, server_default="0"),  # yuan per litre
    Column("active", Boolean, nullable=False, server_default=text("true")),
    Column("consecutive_failures", Integer, nullable=False, server_default="0"),
    Column("disabled_at", DateTime(timezone=True), nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("adcode IS NULL OR adcode ~ '^[0-9]{6}$'", name="adcode"),
    CheckConstraint("threshold >= 0", name="threshold"),
    CheckConstraint("coord IN ('wgs84', 'gcj02', 'bd09')", name="coord"),
    Index("ix_webhook_subscriptions_partner_id", "partner_id"),
)

webhook_deliveries = Table(
    "webhook_deliveries",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column(
        "subscription_id",
        BigInteger,
        ForeignKey("webhook_subscriptions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("event_id", Text, nullable=False),
    Column("seq", BigInteger, nullable=False),  # the change log's transaction and row: delivery order
    Column("change_id", BigInteger, nullable=False),
    Column("station_id", BigInteger, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("state", Text, nullable=False, server_default="pending"),
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_attempt_at", DateTime(timezone=True), nullable=False),
    Column("last_status", Integer, nullable=True),
    Column("last_error", Text, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False),
    Column("delivered_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("state IN ('pending', 'delivered', 'abandoned')", name="state"),
    Index(
        "ix_webhook_deliveries_pending",
        "subscription_id",
        "station_id",
        "seq",
        "change_id",
        postgresql_where=text("state = 'pending'"),
    ),
    Index(
        "uq_webhook_deliveries_pending_event",
        "subscription_id",
        "event_id",
        unique=True,
        postgresql_where=text("state = 'pending'"),
    ),
)

webhook_cursor = Table(
    "webhook_cursor",
    metadata,
    Column("singleton", Boolean, primary_key=True, server_default=text("true")),
    Column("cursor", Text, nullable=True),  # the delivery worker's change-log cursor (NULL: not started)
    Column("updated_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("singleton", name="singleton"),
)
