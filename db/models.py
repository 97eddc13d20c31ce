"""Table definitions (SQLAlchemy Core). Alembic migrations create them; `alembic check` keeps them in step."""

from __future__ import annotations

from geoalchemy2 import Geometry
from sqlalchemy import (
    BigInteger,
    Boolean,
    CheckConstraint,
    Column,
    DateTime,
    ForeignKey,
    Index,
    MetaData,
    SmallInteger,
    Table,
    Text,
    UniqueConstraint,
    func,
    text,
)
from sqlalchemy.dialects.postgresql import ARRAY, JSONB

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
    CheckConstraint(
        "ST_X(geom) BETWEEN -180 AND 180 AND ST_Y(geom) BETWEEN -90 AND 90", name="geom_range"
    ),
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
