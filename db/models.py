"""Table definitions (SQLAlchemy Core). Alembic migrations create them; `alembic check` keeps them in step."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    Date,
    DateTime,
    Float,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    Integer,
    MetaData,
    Numeric,
    PrimaryKeyConstraint,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB
from sqlalchemy.sql.schema import SchemaItem

NAMING_CONVENTION = {
    "ix": "ix_%(table_name)s_%(column_0_N_name)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}

metadata = MetaData(naming_convention=NAMING_CONVENTION)

STATION_STATUSES = ("open", "temporarily_closed", "closed")

stations = Table(
    "stations",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False),
    Column("brand", Text, nullable=False),
    Column("address", Text, nullable=False, server_default=""),
    Column("province", Text, nullable=True),
    Column("city", Text, nullable=True),
    Column("county", Text, nullable=True),
    Column("adcode", Text, nullable=True),
    # WGS-84 always; GCJ-02/BD-09 exist only at the edges.
    Column("geom", Geometry("POINT", srid=4326, spatial_index=False), nullable=False),
    # H3 cells (int form) at the resolutions the search and the viewport use.
    Column("h3_r5", BigInteger, nullable=False),
    Column("h3_r7", BigInteger, nullable=False),
    Column("h3_r9", BigInteger, nullable=False),
    Column("timezone", Text, nullable=False, server_default="Asia/Shanghai"),
    # None = hours unknown; see geo/hours.py for the format.
    Column("opening_hours", JSONB, nullable=True),
    Column("services", ARRAY(Text), nullable=False, server_default="{}"),
    Column("grades", ARRAY(Text), nullable=False, server_default="{}"),
    Column("status", Text, nullable=False, server_default="open"),
    Column("content_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("status IN ('open', 'temporarily_closed', 'closed')", name="status"),
    CheckConstraint("adcode IS NULL OR adcode ~ '^[0-9]{6}$'", name="adcode"),
    CheckConstraint("length(btrim(name)) > 0", name="name_not_blank"),
    CheckConstraint("ST_X(geom) BETWEEN -180 AND 180 AND ST_Y(geom) BETWEEN -90 AND 90", name="geom_range"),
    Index("ix_stations_geom", "geom", postgresql_using="gist"),
    Index("ix_stations_h3_r5", "h3_r5"),
    Index("ix_stations_h3_r7", "h3_r7"),
    Index("ix_stations_h3_r9", "h3_r9"),
    Index("ix_stations_brand", "brand"),
)

# One station may be known under several sources (an Amap POI id, a feed id, ...).
station_identifiers = Table(
    "station_identifiers",
    metadata,
    Column("source", Text, primary_key=True),
    Column("external_id", Text, primary_key=True),
    Column(
        "station_id",
        BigInteger,
        ForeignKey("stations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    # The record hash this source last ingested (migration 0002); NULL = compare with stations.content_hash.
    Column("content_hash", Text, nullable=True),
    Index("ix_station_identifiers_station_id", "station_id"),
)

# A fueling position is where one vehicle stands; it has one or more nozzles.
fueling_positions = Table(
    "fueling_positions",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column(
        "station_id",
        BigInteger,
        ForeignKey("stations.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("number", SmallInteger, nullable=False),
    UniqueConstraint("station_id", "number"),
    CheckConstraint("number > 0", name="number_positive"),
)

nozzles = Table(
    "nozzles",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column(
        "position_id",
        BigInteger,
        ForeignKey("fueling_positions.id", ondelete="CASCADE"),
        nullable=False,
    ),
    Column("number", SmallInteger, nullable=False),
    Column("grade", Text, nullable=False),
    UniqueConstraint("position_id", "number"),
    CheckConstraint("number > 0", name="number_positive"),
)

# Bumped by statement triggers on the catalogue tables; in-memory indexes poll it.
catalogue_version = Table(
    "catalogue_version",
    metadata,
    Column("singleton", Boolean, primary_key=True, server_default=text("true")),
    Column("version", BigInteger, nullable=False, server_default="1"),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("singleton", name="singleton"),
)


# ---- Prices (migration 0003) -------------------------------------------------------------------------
# Official price zones (价区) per province, as the provincial notices define them.
price_zones = Table(
    "price_zones",
    metadata,
    Column("province_code", Text, primary_key=True),
    Column("zone_code", Text, primary_key=True),
    Column("province_name", Text, nullable=False),
    Column("zone_name", Text, nullable=False),
    Column("source_url", Text, nullable=True),
    CheckConstraint("province_code ~ '^[0-9]{2}0000$'", name="province_code"),
)

# regions/regions.json: a region string (province + city + county) -> its zone.
price_zone_regions = Table(
    "price_zone_regions",
    metadata,
    Column("region", Text, primary_key=True),
    Column("province_code", Text, nullable=False),
    Column("zone_code", Text, nullable=False),
    # The part after the province ("昆明", "曲靖会泽"); NULL for the province itself.
    Column("locality", Text, nullable=True),
    ForeignKeyConstraint(
        ["province_code", "zone_code"],
        ["price_zones.province_code", "price_zones.zone_code"],
        name="fk_price_zone_regions_zone_price_zones",
        ondelete="CASCADE",
    ),
    Index("ix_price_zone_regions_province_code", "province_code"),
)

# Maximum retail (guide) price per zone and grade; effective_to NULL = in force now. No overlapping
# windows per (province, zone, grade): an exclusion constraint in migration 0003 enforces it.
guide_prices = Table(
    "guide_prices",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("province_code", Text, nullable=False),
    Column("zone_code", Text, nullable=False),
    Column("grade", Text, nullable=False),
    Column("price", Numeric(10, 3), nullable=False),
    Column("currency", Text, nullable=False, server_default="CNY"),
    Column("effective_from", DateTime(timezone=True), nullable=False),
    Column("effective_to", DateTime(timezone=True), nullable=True),
    Column("source", Text, nullable=False),
    Column("source_url", Text, nullable=True),
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
    ForeignKeyConstraint(
        ["province_code", "zone_code"],
        ["price_zones.province_code", "price_zones.zone_code"],
        name="fk_guide_prices_zone_price_zones",
        ondelete="CASCADE",
    ),
    CheckConstraint("price > 0", name="price_positive"),
    CheckConstraint("effective_to IS NULL OR effective_to > effective_from", name="window"),
    UniqueConstraint("province_code", "zone_code", "grade", "effective_from"),
)

# A station's own prices: tier 'pump' | 'platform' | 'member:<level>' | 'attended' (Italy, servito).
station_prices = Table(
    "station_prices",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("station_id", BigInteger, ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
    Column("grade", Text, nullable=False),
    Column("tier", Text, nullable=False),
    Column("price", Numeric(10, 3), nullable=False),
    Column("currency", Text, nullable=False, server_default="CNY"),
    Column("effective_from", DateTime(timezone=True), nullable=False),
    Column("effective_to", DateTime(timezone=True), nullable=True),
    Column("source", Text, nullable=False),
    Column("confirmed_at", DateTime(timezone=True), nullable=False),
    CheckConstraint("price > 0", name="price_positive"),
    CheckConstraint("effective_to IS NULL OR effective_to > effective_from", name="window"),
    CheckConstraint("tier ~ '^(pump|platform|attended|member:[a-z0-9_-]+)$'", name="tier"),
    UniqueConstraint("station_id", "grade", "tier", "effective_from"),
    Index("ix_station_prices_current", "station_id", postgresql_where=text("effective_to IS NULL")),
)

# Which zone's guide price applies to a station (stations-ingest price-zones).
station_price_zones = Table(
    "station_price_zones",
    metadata,
    Column("station_id", BigInteger, ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True),
    Column("province_code", Text, nullable=False),
    Column("zone_code", Text, nullable=False),
    Column("resolved_by", Text, nullable=False),
    ForeignKeyConstraint(
        ["province_code", "zone_code"],
        ["price_zones.province_code", "price_zones.zone_code"],
        name="fk_station_price_zones_zone_price_zones",
        ondelete="CASCADE",
    ),
)

# Per-station API credentials: token '<key_id>.<secret>'; only a salted scrypt hash of the secret is kept.
station_credentials = Table(
    "station_credentials",
    metadata,
    Column("key_id", Text, primary_key=True),
    Column("station_id", BigInteger, ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    # station_admin (prices, occupancy events) | cashier | attendant (access/credentials.py ROLES)
    Column("role", Text, nullable=False, server_default="station_admin"),
    CheckConstraint("role IN ('station_admin', 'cashier', 'attendant')", name="role"),
    Index("ix_station_credentials_station_id", "station_id"),
)

# Partners (issue 15): accounts, their API keys (scrypt-hashed secrets, scopes, rotation expiry), each key's
# token bucket (UNLOGGED) and each partner's requests per China day; partner_take() (migration 0012) is the
# one statement a request runs.
partners = Table(
    "partners",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("name", Text, nullable=False, unique=True),
    Column("coord", Text, nullable=False, server_default="wgs84"),
    Column("language", Text, nullable=False, server_default="zh"),
    Column("rate_per_second", Float, nullable=False),
    Column("burst", Integer, nullable=False),
    Column("daily_quota", BigInteger, nullable=True),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("coord IN ('wgs84', 'gcj02', 'bd09')", name="coord"),
    CheckConstraint("language IN ('zh', 'en')", name="language"),
    CheckConstraint("rate_per_second > 0", name="rate"),
    CheckConstraint("burst >= 1", name="burst"),
    CheckConstraint("daily_quota IS NULL OR daily_quota >= 0", name="daily_quota"),
    CheckConstraint("length(btrim(name)) > 0", name="name"),
)
partner_keys = Table(
    "partner_keys",
    metadata,
    Column("key_id", Text, primary_key=True),
    Column("partner_id", BigInteger, ForeignKey("partners.id", ondelete="CASCADE"), nullable=False),
    Column("secret_hash", Text, nullable=False),
    Column("scopes", ARRAY(Text), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("revoked_at", DateTime(timezone=True), nullable=True),
    Column("replaces", Text, nullable=True),
    Index("ix_partner_keys_partner_id", "partner_id"),
)
partner_buckets = Table(
    "partner_buckets",
    metadata,
    Column("key_id", Text, primary_key=True),
    Column("tokens", Float, nullable=False),
    Column("at", DateTime(timezone=True), nullable=False),
    prefixes=["UNLOGGED"],
)
partner_usage = Table(
    "partner_usage",
    metadata,
    Column("partner_id", BigInteger, ForeignKey("partners.id", ondelete="CASCADE"), primary_key=True),
    Column("day", Date, primary_key=True),
    Column("served", BigInteger, nullable=False, server_default="0"),
    Column("refused", BigInteger, nullable=False, server_default="0"),
)

# Bumped by statement triggers on guide_prices, station_prices and station_price_zones.
price_version = Table(
    "price_version",
    metadata,
    Column("singleton", Boolean, primary_key=True, server_default=text("true")),
    Column("version", BigInteger, nullable=False, server_default="1"),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("singleton", name="singleton"),
)


# ---- Promotions (migration 0004) ---------------------------------------------------------------------
# Engine data classes in pricing/offers.py and pricing/rules.py; reads and writes in pricing/store.py.
DISCOUNT_KINDS = ("amount_off", "percent_off", "per_litre_off")
COUPON_STATES = ("available", "reserved", "used", "expired")
# One discount per row: 满threshold减amount | percent % off (cap) | per_litre off each litre (litre_cap).
DISCOUNT_CHECK = (
    "(kind = 'amount_off' AND amount > 0 AND threshold >= 0 AND percent IS NULL AND cap IS NULL "
    "AND per_litre IS NULL AND litre_cap IS NULL) OR "
    "(kind = 'percent_off' AND percent > 0 AND percent < 100 AND (cap IS NULL OR cap > 0) "
    "AND amount IS NULL AND threshold IS NULL AND per_litre IS NULL AND litre_cap IS NULL) OR "
    "(kind = 'per_litre_off' AND per_litre > 0 AND (litre_cap IS NULL OR litre_cap > 0) "
    "AND amount IS NULL AND threshold IS NULL AND percent IS NULL AND cap IS NULL)"
)
WINDOW_CHECK = "valid_from IS NULL OR valid_to IS NULL OR valid_to > valid_from"


def _rule_columns() -> list[SchemaItem]:
    """Discount, scope and conditions shared by coupon templates and payment promotions."""
    return [
        Column("name", Text, nullable=False, server_default=""),
        Column("kind", Text, nullable=False),
        Column("currency", Text, nullable=False, server_default="CNY"),
        Column("threshold", Numeric(12, 2), nullable=True),
        Column("amount", Numeric(12, 2), nullable=True),
        Column("percent", Numeric(5, 2), nullable=True),
        Column("cap", Numeric(12, 2), nullable=True),
        Column("per_litre", Numeric(10, 3), nullable=True),
        Column("litre_cap", Numeric(10, 2), nullable=True),
        Column("grades", ARRAY(Text), nullable=False, server_default="{}"),
        Column("stations", ARRAY(Text), nullable=False, server_default="{}"),
        Column("brands", ARRAY(Text), nullable=False, server_default="{}"),
        Column("cities", ARRAY(Text), nullable=False, server_default="{}"),
        Column("valid_from", DateTime(timezone=True), nullable=True),
        Column("valid_to", DateTime(timezone=True), nullable=True),
        Column("min_spend", Numeric(12, 2), nullable=True),
        Column("first_order_only", Boolean, nullable=False, server_default=text("false")),
        Column("per_user_limit", Integer, nullable=True),
        Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
        CheckConstraint(DISCOUNT_CHECK, name="discount"),
        CheckConstraint(WINDOW_CHECK, name="window"),
        CheckConstraint("min_spend IS NULL OR min_spend > 0", name="min_spend_positive"),
        CheckConstraint("per_user_limit IS NULL OR per_user_limit >= 0", name="per_user_limit"),
        CheckConstraint("currency IN ('CNY', 'EUR')", name="currency"),
    ]


# A driver of the mini-program: member level, orders completed (0 = first order), points (100 = ¥1).
drivers = Table(
    "drivers",
    metadata,
    Column("id", Text, primary_key=True),
    Column("member_level", Text, nullable=True),
    Column("completed_orders", Integer, nullable=False, server_default="0"),
    Column("points_balance", BigInteger, nullable=False, server_default="0"),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("completed_orders >= 0", name="completed_orders"),
    CheckConstraint("points_balance >= 0", name="points_balance"),
    CheckConstraint("member_level IS NULL OR member_level ~ '^[a-z0-9_-]+$'", name="member_level"),
    CheckConstraint("length(btrim(id)) > 0", name="id_not_blank"),
)

# Member discount per litre for a level; grade NULL = every grade (a row for the grade overrides it).
member_levels = Table(
    "member_levels",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("level", Text, nullable=False),
    Column("grade", Text, nullable=True),
    Column("per_litre_discount", Numeric(10, 3), nullable=False),
    CheckConstraint("per_litre_discount >= 0", name="discount"),
    CheckConstraint("level ~ '^[a-z0-9_-]+$'", name="level"),
    Index(
        "uq_member_levels_level_grade",
        "level",
        "grade",
        unique=True,
        postgresql_where=text("grade IS NOT NULL"),
    ),
    Index("uq_member_levels_level_all_grades", "level", unique=True, postgresql_where=text("grade IS NULL")),
)

# The operator's display name of a member level (drivers read it instead of the code): Chinese, English.
member_level_names = Table(
    "member_level_names",
    metadata,
    Column("level", Text, primary_key=True),
    Column("name_zh", Text, nullable=False),
    Column("name_en", Text, nullable=True),
    CheckConstraint("level ~ '^[a-z0-9_-]+$'", name="level"),
    CheckConstraint("length(btrim(name_zh)) > 0", name="name_zh"),
)

coupon_templates = Table(
    "coupon_templates",
    metadata,
    Column("id", Text, primary_key=True),
    *_rule_columns(),
    Column("exclusive", Boolean, nullable=False, server_default=text("false")),
    Column("stacks_with_payment", Boolean, nullable=False, server_default=text("true")),
)

# A coupon held by a driver. Stored 'reserved' past reserved_until reads as available; an instance past
# its template's valid_to (or its own expires_at) reads as expired (pricing/store.py).
coupon_instances = Table(
    "coupon_instances",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("template_id", Text, ForeignKey("coupon_templates.id", ondelete="RESTRICT"), nullable=False),
    Column("driver_id", Text, ForeignKey("drivers.id", ondelete="CASCADE"), nullable=False),
    Column("state", Text, nullable=False, server_default="available"),
    Column("expires_at", DateTime(timezone=True), nullable=True),
    Column("reserved_until", DateTime(timezone=True), nullable=True),
    Column("reservation_ref", Text, nullable=True),
    Column("used_at", DateTime(timezone=True), nullable=True),
    Column("issued_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("state IN ('available', 'reserved', 'used', 'expired')", name="state"),
    CheckConstraint(
        "(state = 'available' AND reserved_until IS NULL AND reservation_ref IS NULL "
        "AND used_at IS NULL) OR "
        "(state = 'reserved' AND reserved_until IS NOT NULL AND reservation_ref IS NOT NULL "
        "AND used_at IS NULL) OR "
        "(state = 'used' AND reservation_ref IS NOT NULL AND used_at IS NOT NULL) OR state = 'expired'",
        name="state_fields",
    ),
    Index("ix_coupon_instances_driver_id", "driver_id"),
    Index(
        "ix_coupon_instances_reservation_ref",
        "reservation_ref",
        postgresql_where=text("reservation_ref IS NOT NULL"),
    ),
)

payment_promotions = Table(
    "payment_promotions",
    metadata,
    Column("id", Text, primary_key=True),
    Column("channel", Text, nullable=False),
    *_rule_columns(),
    Column("stacks_with_coupons", Boolean, nullable=False, server_default=text("true")),
)

# The operator's declared stacking policy and points rule (one row; absent = the engine's defaults).
promotion_policy = Table(
    "promotion_policy",
    metadata,
    Column("singleton", Boolean, primary_key=True, server_default=text("true")),
    Column("max_coupons", Integer, nullable=False),
    Column("max_payment_promotions", Integer, nullable=False),
    Column("coupons_with_payment", Boolean, nullable=False),
    Column("station_discount", Boolean, nullable=False),
    Column("member_discount", Boolean, nullable=False),
    Column("points_enabled", Boolean, nullable=False),
    Column("points_per_yuan", Integer, nullable=False),
    Column("points_max_share", Numeric(4, 3), nullable=False),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("singleton", name="singleton"),
    CheckConstraint("max_coupons >= 0 AND max_payment_promotions >= 0", name="maxima"),
    CheckConstraint("points_per_yuan > 0 AND points_per_yuan % 100 = 0", name="points_per_yuan"),
    CheckConstraint("points_max_share >= 0 AND points_max_share <= 1", name="points_max_share"),
)

# Every signed quote; checkout marks one consumed (once) so a replayed token is refused.
quotes = Table(
    "quotes",
    metadata,
    Column("id", Text, primary_key=True),
    Column("token_sha256", Text, nullable=False),
    Column("station_id", BigInteger, nullable=False),
    Column("driver_id", Text, nullable=True),
    Column("payable", Numeric(12, 2), nullable=False),
    Column("currency", Text, nullable=False),
    Column("payload", JSONB, nullable=False),
    Column("issued_at", DateTime(timezone=True), nullable=False),
    Column("expires_at", DateTime(timezone=True), nullable=False),
    Column("consumed_at", DateTime(timezone=True), nullable=True),
    Column("consumed_ref", Text, nullable=True),
    CheckConstraint("payable >= 0.01", name="payable_positive"),
    CheckConstraint("expires_at > issued_at", name="expiry_after_issue"),
    Index("ix_quotes_expires_at", "expires_at"),
)


# ---- Occupancy (migration 0006) ----------------------------------------------------------------------
NOZZLE_STATES_CHECK = "state IN ('idle', 'calling', 'authorized', 'fueling', 'completed', 'offline')"

# Every accepted nozzle event; (station, position, nozzle, seq) is the controller's identity of an event
# (the ingest keeps it unique; the constraint must hold the partition key ts too). Partitioned by China day
# (migration 0011, upkeep/partitions.py): the primary key holds ts as well.
occupancy_events = Table(
    "occupancy_events",
    metadata,
    Column("id", BigInteger, primary_key=True, server_default=text("nextval('occupancy_events_id_seq')")),
    Column("station_id", BigInteger, ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
    Column("position", SmallInteger, nullable=False),
    Column("nozzle", SmallInteger, nullable=False),
    Column("seq", BigInteger, nullable=False),
    Column("state", Text, nullable=False),
    Column("ts", DateTime(timezone=True), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(NOZZLE_STATES_CHECK, name="state"),
    UniqueConstraint("station_id", "position", "nozzle", "seq", "ts"),
    Index("ix_occupancy_events_station_id_ts", "station_id", "ts"),
    postgresql_partition_by="RANGE (ts)",
)

# The highest-seq event of each nozzle, so ingest checks a new event's transition without a scan.
nozzle_heads = Table(
    "nozzle_heads",
    metadata,
    Column("station_id", BigInteger, ForeignKey("stations.id", ondelete="CASCADE"), primary_key=True),
    Column("position", SmallInteger, primary_key=True),
    Column("nozzle", SmallInteger, primary_key=True),
    Column("seq", BigInteger, nullable=False),
    Column("state", Text, nullable=False),
    Column("ts", DateTime(timezone=True), nullable=False),
    CheckConstraint(NOZZLE_STATES_CHECK, name="state"),
)

# Stations that count their queue report the vehicles waiting on the forecourt (all grades).
# Partitioned by China day like occupancy_events.
waiting_reports = Table(
    "waiting_reports",
    metadata,
    Column("id", BigInteger, primary_key=True, server_default=text("nextval('waiting_reports_id_seq')")),
    Column("station_id", BigInteger, ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
    Column("waiting_vehicles", SmallInteger, nullable=False),
    Column("ts", DateTime(timezone=True), primary_key=True),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("waiting_vehicles BETWEEN 0 AND 500", name="waiting_vehicles_range"),
    UniqueConstraint("station_id", "ts"),
    postgresql_partition_by="RANGE (ts)",
)

# A paid order holds its fueling position until the pump reports a later event there (one per order).
position_claims = Table(
    "position_claims",
    metadata,
    Column("id", BigInteger, primary_key=True, autoincrement=True),
    Column("station_id", BigInteger, ForeignKey("stations.id", ondelete="CASCADE"), nullable=False),
    Column("position", SmallInteger, nullable=False),
    Column("ref", Text, nullable=False),
    Column("ts", DateTime(timezone=True), nullable=False),
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    UniqueConstraint("ref"),
    Index("ix_position_claims_ts", "ts"),  # retention (upkeep/claims.py)
)

CHECKOUT_STATES_CHECK = (
    "state IN ('pending', 'ordered', 'failed', 'cancelled', 'paid', 'fueling', 'completed', 'refunded')"
)

# A driver's checkout (migration 0007): one per (driver, Idempotency-Key); its id is the reservation ref of
# the quote and coupons and the Idempotency-Key sent to the order core (checkout/).
checkouts = Table(
    "checkouts",
    metadata,
    Column("id", Text, primary_key=True),
    Column("driver_id", Text, nullable=False),
    Column("idempotency_key", Text, nullable=False),
    Column("request_sha256", Text, nullable=False),
    Column("quote_id", Text, nullable=False),
    Column("station_id", BigInteger, nullable=False),
    Column("position", SmallInteger, nullable=False),
    Column("nozzle", SmallInteger, nullable=False),
    Column("grade", Text, nullable=False),
    Column("payable", Numeric(12, 2), nullable=False),
    Column("currency", Text, nullable=False),
    Column("points_used", BigInteger, nullable=False, server_default="0"),
    Column("points_deducted", Boolean, nullable=False, server_default=text("false")),
    Column("state", Text, nullable=False, server_default="pending"),
    Column("order_id", Text, nullable=True),
    Column("order_json", JSONB, nullable=True),
    Column("problem", JSONB, nullable=True),  # the last answer when failed
    Column("reservation_ref", Text, nullable=True),
    Column("hold_until", DateTime(timezone=True), nullable=True),
    Column("attempt_until", DateTime(timezone=True), nullable=True),  # lease of an attempt in progress
    Column("reconcile_until", DateTime(timezone=True), nullable=True),  # ask the core for a late order
    Column("cancel_reason", Text, nullable=True),  # a cancellation the order core has yet to confirm
    Column("created_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Column("updated_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint(CHECKOUT_STATES_CHECK, name="state"),
    CheckConstraint("payable >= 0.01", name="payable_positive"),
    CheckConstraint("points_used >= 0", name="points_used"),
    UniqueConstraint("driver_id", "idempotency_key"),
    Index("ix_checkouts_state", "state"),
    Index("uq_checkouts_order_id", "order_id", unique=True, postgresql_where=text("order_id IS NOT NULL")),
)

# Order-core callback events already applied (a redelivered event_id is acknowledged and skipped).
ordercore_events = Table(
    "ordercore_events",
    metadata,
    Column("event_id", Text, primary_key=True),
    Column("order_id", Text, nullable=False),
    Column("state", Text, nullable=False),
    Column("received_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    Index("ix_ordercore_events_order_id", "order_id"),
)


# ---- Change log (migration 0008) ---------------------------------------------------------------------
# Statement triggers on the catalogue, price and promotion tables append which rows changed (not their
# values); changelog/ reads them in commit order. op: I insert, U update, D delete, T truncate (all gone).
change_log = Table(
    "change_log",
    metadata,
    Column("id", BigInteger, nullable=False, autoincrement=True),
    Column("xid", BigInteger, nullable=False),  # the writing transaction (pg_current_xact_id())
    Column("entity", Text, nullable=False),
    Column("entity_id", BigInteger, nullable=True),
    Column("entity_key", Text, nullable=True),  # the key of an entity without a bigint id
    Column("station_id", BigInteger, nullable=True),
    Column("position_id", BigInteger, nullable=True),  # a nozzle's position
    Column("op", Text, nullable=False),
    Column("changed_at", DateTime(timezone=True), nullable=False, server_default=func.now()),
    CheckConstraint("op IN ('I', 'U', 'D', 'T')", name="op"),
    # (xid, id), not id: a transaction's rows are read along it, and no other ordered path may tempt a
    # generic plan (migration 0014).
    PrimaryKeyConstraint("xid", "id"),
)

# One row per writing transaction; its seq (commit order) is stamped at commit by a deferred trigger.
change_tx = Table(
    "change_tx",
    metadata,
    Column("xid", BigInteger, primary_key=True, autoincrement=False),
    Column("seq", BigInteger, nullable=True),
    Column("committed_at", DateTime(timezone=True), nullable=True),
    UniqueConstraint("seq"),
    Index("ix_change_tx_committed_at", "committed_at"),
)

# The last seq handed out (its row lock orders commits) and the seq retention has pruned through.
change_counter = Table(
    "change_counter",
    metadata,
    Column("singleton", Boolean, primary_key=True, server_default=text("true")),
    Column("seq", BigInteger, nullable=False, server_default="0"),
    Column("pruned_through", BigInteger, nullable=False, server_default="0"),
    Column("pruned_at", DateTime(timezone=True), nullable=True),
    CheckConstraint("singleton", name="singleton"),
)
