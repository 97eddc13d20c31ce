"""Price ladder: price zones and their regions, guide prices, station prices, station zones,
per-station API credentials, and a price_version counter (the catalogue_version trigger does not fire
on price tables; in-memory indexes poll price_version to reload prices).

Price windows never overlap per key: exclusion constraints over tstzrange(effective_from, effective_to)
(btree_gist for the equality parts).

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

_VERSIONED = ("guide_prices", "station_prices", "station_price_zones")


def _zone_fk(table: str) -> sa.ForeignKeyConstraint:
    return sa.ForeignKeyConstraint(
        ["province_code", "zone_code"],
        ["price_zones.province_code", "price_zones.zone_code"],
        name=f"fk_{table}_zone_price_zones",
        ondelete="CASCADE",
    )


def _price_columns() -> list[sa.Column]:  # type: ignore[type-arg]
    return [
        sa.Column("price", sa.Numeric(10, 3), nullable=False),
        sa.Column("currency", sa.Text(), server_default="CNY", nullable=False),
        sa.Column("effective_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("effective_to", sa.DateTime(timezone=True), nullable=True),
        sa.Column("source", sa.Text(), nullable=False),
    ]


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "price_zones",
        sa.Column("province_code", sa.Text(), nullable=False),
        sa.Column("zone_code", sa.Text(), nullable=False),
        sa.Column("province_name", sa.Text(), nullable=False),
        sa.Column("zone_name", sa.Text(), nullable=False),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.CheckConstraint("province_code ~ '^[0-9]{2}0000$'", name=op.f("ck_price_zones_province_code")),
        sa.PrimaryKeyConstraint("province_code", "zone_code", name=op.f("pk_price_zones")),
    )
    op.create_table(
        "price_zone_regions",
        sa.Column("region", sa.Text(), nullable=False),
        sa.Column("province_code", sa.Text(), nullable=False),
        sa.Column("zone_code", sa.Text(), nullable=False),
        sa.Column("locality", sa.Text(), nullable=True),
        _zone_fk("price_zone_regions"),
        sa.PrimaryKeyConstraint("region", name=op.f("pk_price_zone_regions")),
    )
    op.create_index("ix_price_zone_regions_province_code", "price_zone_regions", ["province_code"])
    op.create_table(
        "guide_prices",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("province_code", sa.Text(), nullable=False),
        sa.Column("zone_code", sa.Text(), nullable=False),
        sa.Column("grade", sa.Text(), nullable=False),
        *_price_columns(),
        sa.Column("source_url", sa.Text(), nullable=True),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        _zone_fk("guide_prices"),
        sa.CheckConstraint("price > 0", name=op.f("ck_guide_prices_price_positive")),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to > effective_from", name=op.f("ck_guide_prices_window")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_guide_prices")),
        sa.UniqueConstraint(
            "province_code",
            "zone_code",
            "grade",
            "effective_from",
            name=op.f("uq_guide_prices_province_code_zone_code_grade_effective_from"),
        ),
    )
    op.create_table(
        "station_prices",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("grade", sa.Text(), nullable=False),
        sa.Column("tier", sa.Text(), nullable=False),
        *_price_columns(),
        sa.Column("confirmed_at", sa.DateTime(timezone=True), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_station_prices_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.CheckConstraint("price > 0", name=op.f("ck_station_prices_price_positive")),
        sa.CheckConstraint(
            "effective_to IS NULL OR effective_to > effective_from", name=op.f("ck_station_prices_window")
        ),
        sa.CheckConstraint(
            "tier ~ '^(pump|platform|attended|member:[a-z0-9_-]+)$'", name=op.f("ck_station_prices_tier")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_station_prices")),
        sa.UniqueConstraint(
            "station_id",
            "grade",
            "tier",
            "effective_from",
            name=op.f("uq_station_prices_station_id_grade_tier_effective_from"),
        ),
    )
    op.create_index(
        "ix_station_prices_current",
        "station_prices",
        ["station_id"],
        postgresql_where=sa.text("effective_to IS NULL"),
    )
    for table, key in (
        ("guide_prices", "province_code WITH =, zone_code WITH =, grade WITH ="),
        ("station_prices", "station_id WITH =, grade WITH =, tier WITH ="),
    ):
        op.execute(
            f"ALTER TABLE {table} ADD CONSTRAINT {table}_no_overlap EXCLUDE USING gist "
            f"({key}, tstzrange(effective_from, effective_to) WITH &&)"
        )
    op.create_table(
        "station_price_zones",
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("province_code", sa.Text(), nullable=False),
        sa.Column("zone_code", sa.Text(), nullable=False),
        sa.Column("resolved_by", sa.Text(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_station_price_zones_station_id_stations"),
            ondelete="CASCADE",
        ),
        _zone_fk("station_price_zones"),
        sa.PrimaryKeyConstraint("station_id", name=op.f("pk_station_price_zones")),
    )
    op.create_table(
        "station_credentials",
        sa.Column("key_id", sa.Text(), nullable=False),
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("secret_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_station_credentials_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("key_id", name=op.f("pk_station_credentials")),
    )
    op.create_index("ix_station_credentials_station_id", "station_credentials", ["station_id"])

    op.create_table(
        "price_version",
        sa.Column("singleton", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("singleton", name=op.f("ck_price_version_singleton")),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_price_version")),
    )
    op.execute("INSERT INTO price_version (singleton, version) VALUES (true, 1)")
    op.execute(
        """
        CREATE FUNCTION bump_price_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE price_version SET version = version + 1, changed_at = now();
            RETURN NULL;
        END $$
        """
    )
    for table in _VERSIONED:
        op.execute(
            f"CREATE TRIGGER {table}_bump_price_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_price_version()"
        )


def downgrade() -> None:
    for table in _VERSIONED:
        op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_price_version ON {table}")
    op.execute("DROP FUNCTION IF EXISTS bump_price_version()")
    op.drop_table("price_version")
    op.drop_index("ix_station_credentials_station_id", table_name="station_credentials")
    op.drop_table("station_credentials")
    op.drop_table("station_price_zones")
    op.drop_index("ix_station_prices_current", table_name="station_prices")
    op.drop_table("station_prices")
    op.drop_table("guide_prices")
    op.drop_index("ix_price_zone_regions_province_code", table_name="price_zone_regions")
    op.drop_table("price_zone_regions")
    op.drop_table("price_zones")
