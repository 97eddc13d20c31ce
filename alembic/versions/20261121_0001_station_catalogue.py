"""Station catalogue: stations, identifiers, fueling positions, nozzles, catalogue version.

Revision ID: 0001
Revises:
Create Date: 2026-11-21
"""

from __future__ import annotations

from collections.abc import Sequence

import geoalchemy2
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.execute("CREATE EXTENSION IF NOT EXISTS postgis")
    op.create_table(
        "stations",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("name", sa.Text(), nullable=False),
        sa.Column("brand", sa.Text(), nullable=False),
        sa.Column("address", sa.Text(), server_default="", nullable=False),
        sa.Column("province", sa.Text(), nullable=True),
        sa.Column("city", sa.Text(), nullable=True),
        sa.Column("county", sa.Text(), nullable=True),
        sa.Column("adcode", sa.Text(), nullable=True),
        sa.Column(
            "geom",
            geoalchemy2.types.Geometry(geometry_type="POINT", srid=4326, spatial_index=False),
            nullable=False,
        ),
        sa.Column("h3_r5", sa.BigInteger(), nullable=False),
        sa.Column("h3_r7", sa.BigInteger(), nullable=False),
        sa.Column("h3_r9", sa.BigInteger(), nullable=False),
        sa.Column("timezone", sa.Text(), server_default="Asia/Shanghai", nullable=False),
        sa.Column("opening_hours", postgresql.JSONB(astext_type=sa.Text()), nullable=True),
        sa.Column("services", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("grades", postgresql.ARRAY(sa.Text()), server_default="{}", nullable=False),
        sa.Column("status", sa.Text(), server_default="open", nullable=False),
        sa.Column("content_hash", sa.Text(), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "status IN ('open', 'temporarily_closed', 'closed')", name=op.f("ck_stations_status")
        ),
        sa.CheckConstraint("adcode IS NULL OR adcode ~ '^[0-9]{6}$'", name=op.f("ck_stations_adcode")),
        sa.CheckConstraint("length(btrim(name)) > 0", name=op.f("ck_stations_name_not_blank")),
        sa.CheckConstraint(
            "ST_X(geom) BETWEEN -180 AND 180 AND ST_Y(geom) BETWEEN -90 AND 90",
            name=op.f("ck_stations_geom_range"),
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_stations")),
    )
    op.create_index("ix_stations_geom", "stations", ["geom"], unique=False, postgresql_using="gist")
    op.create_index("ix_stations_h3_r5", "stations", ["h3_r5"], unique=False)
    op.create_index("ix_stations_h3_r7", "stations", ["h3_r7"], unique=False)
    op.create_index("ix_stations_h3_r9", "stations", ["h3_r9"], unique=False)
    op.create_index("ix_stations_brand", "stations", ["brand"], unique=False)

    op.create_table(
        "station_identifiers",
        sa.Column("source", sa.Text(), nullable=False),
        sa.Column("external_id", sa.Text(), nullable=False),
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_station_identifiers_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("source", "external_id", name=op.f("pk_station_identifiers")),
    )
    op.create_index("ix_station_identifiers_station_id", "station_identifiers", ["station_id"], unique=False)

    op.create_table(
        "fueling_positions",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.CheckConstraint("number > 0", name=op.f("ck_fueling_positions_number_positive")),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_fueling_positions_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_fueling_positions")),
        sa.UniqueConstraint("station_id", "number", name=op.f("uq_fueling_positions_station_id_number")),
    )
    op.create_table(
        "nozzles",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("position_id", sa.BigInteger(), nullable=False),
        sa.Column("number", sa.SmallInteger(), nullable=False),
        sa.Column("grade", sa.Text(), nullable=False),
        sa.CheckConstraint("number > 0", name=op.f("ck_nozzles_number_positive")),
        sa.ForeignKeyConstraint(
            ["position_id"],
            ["fueling_positions.id"],
            name=op.f("fk_nozzles_position_id_fueling_positions"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_nozzles")),
        sa.UniqueConstraint("position_id", "number", name=op.f("uq_nozzles_position_id_number")),
    )

    op.create_table(
        "catalogue_version",
        sa.Column("singleton", sa.Boolean(), server_default=sa.text("true"), nullable=False),
        sa.Column("version", sa.BigInteger(), server_default="1", nullable=False),
        sa.Column("changed_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint("singleton", name=op.f("ck_catalogue_version_singleton")),
        sa.PrimaryKeyConstraint("singleton", name=op.f("pk_catalogue_version")),
    )
    op.execute("INSERT INTO catalogue_version (singleton, version) VALUES (true, 1)")
    op.execute(
        """
        CREATE FUNCTION bump_catalogue_version() RETURNS trigger LANGUAGE plpgsql AS $$
        BEGIN
            UPDATE catalogue_version SET version = version + 1, changed_at = now();
            RETURN NULL;
        END $$
        """
    )
    for table in ("stations", "station_identifiers", "fueling_positions", "nozzles"):
        op.execute(
            f"CREATE TRIGGER {table}_bump_catalogue_version AFTER INSERT OR UPDATE OR DELETE OR TRUNCATE "
            f"ON {table} FOR EACH STATEMENT EXECUTE FUNCTION bump_catalogue_version()"
        )


def downgrade() -> None:
    for table in ("stations", "station_identifiers", "fueling_positions", "nozzles"):
        op.execute(f"DROP TRIGGER IF EXISTS {table}_bump_catalogue_version ON {table}")
    op.execute("DROP FUNCTION IF EXISTS bump_catalogue_version()")
    op.drop_table("catalogue_version")
    op.drop_table("nozzles")
    op.drop_table("fueling_positions")
    op.drop_index("ix_station_identifiers_station_id", table_name="station_identifiers")
    op.drop_table("station_identifiers")
    op.drop_index("ix_stations_brand", table_name="stations")
    op.drop_index("ix_stations_h3_r9", table_name="stations")
    op.drop_index("ix_stations_h3_r7", table_name="stations")
    op.drop_index("ix_stations_h3_r5", table_name="stations")
    op.drop_index("ix_stations_geom", table_name="stations", postgresql_using="gist")
    op.drop_table("stations")
