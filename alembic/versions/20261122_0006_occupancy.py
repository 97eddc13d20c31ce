"""Occupancy: nozzle events from forecourt controllers, each nozzle's latest event, waiting-vehicle
reports and position claims of paid orders.

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-22
"""

from __future__ import annotations

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = "state IN ('idle', 'calling', 'authorized', 'fueling', 'completed', 'offline')"


def upgrade() -> None:
    op.create_table(
        "occupancy_events",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("nozzle", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(STATES, name=op.f("ck_occupancy_events_state")),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_occupancy_events_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_occupancy_events")),
        sa.UniqueConstraint(
            "station_id",
            "position",
            "nozzle",
            "seq",
            name=op.f("uq_occupancy_events_station_id_position_nozzle_seq"),
        ),
    )
    op.create_index(
        "ix_occupancy_events_station_id_ts", "occupancy_events", ["station_id", "ts"], unique=False
    )
    op.create_table(
        "nozzle_heads",
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("nozzle", sa.SmallInteger(), nullable=False),
        sa.Column("seq", sa.BigInteger(), nullable=False),
        sa.Column("state", sa.Text(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(STATES, name=op.f("ck_nozzle_heads_state")),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_nozzle_heads_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("station_id", "position", "nozzle", name=op.f("pk_nozzle_heads")),
    )
    op.create_table(
        "waiting_reports",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("waiting_vehicles", sa.SmallInteger(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("received_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.CheckConstraint(
            "waiting_vehicles BETWEEN 0 AND 500", name=op.f("ck_waiting_reports_waiting_vehicles_range")
        ),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_waiting_reports_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waiting_reports")),
        sa.UniqueConstraint("station_id", "ts", name=op.f("uq_waiting_reports_station_id_ts")),
    )
    op.create_table(
        "position_claims",
        sa.Column("id", sa.BigInteger(), autoincrement=True, nullable=False),
        sa.Column("station_id", sa.BigInteger(), nullable=False),
        sa.Column("position", sa.SmallInteger(), nullable=False),
        sa.Column("ref", sa.Text(), nullable=False),
        sa.Column("ts", sa.DateTime(timezone=True), nullable=False),
        sa.Column("created_at", sa.DateTime(timezone=True), server_default=sa.text("now()"), nullable=False),
        sa.ForeignKeyConstraint(
            ["station_id"],
            ["stations.id"],
            name=op.f("fk_position_claims_station_id_stations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_position_claims")),
        sa.UniqueConstraint("ref", name=op.f("uq_position_claims_ref")),
    )


def downgrade() -> None:
    op.drop_table("position_claims")
    op.drop_table("waiting_reports")
    op.drop_table("nozzle_heads")
    op.drop_index("ix_occupancy_events_station_id_ts", table_name="occupancy_events")
    op.drop_table("occupancy_events")
