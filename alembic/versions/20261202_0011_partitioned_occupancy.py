"""Occupancy events and waiting-vehicle reports partitioned by China day (Asia/Shanghai, UTC+8, no DST),
each with a DEFAULT partition so an insert never fails; existing rows are moved.

A partitioned table's primary key and unique constraints must contain the partition key, so the primary
keys become (id, ts) and the events' controller identity (station, position, nozzle, seq) becomes unique
with ts. Exactly-once ingest does not rest on that constraint: the ingest holds the station's advisory
lock and finds a repeated seq (whatever its ts) through nozzle_heads and the neighbour lookup.

The migration creates one partition for each China day that already holds rows (no clock involved); the
days ahead and retention are upkeep's (`upkeep/partitions.py`), which also moves rows that landed in a
DEFAULT partition into their day's partition. position_claims (one row per paid order, unique by ref) is
retained by a plain DELETE instead.

Revision ID: 0011
Revises: 0009
Create Date: 2026-12-02
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, timedelta

import sqlalchemy as sa
from alembic import op

revision: str = "0011"
down_revision: str | None = "0009"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

STATES = "state IN ('idle', 'calling', 'authorized', 'fueling', 'completed', 'offline')"
DAY_ZONE = "+08"  # China Standard Time all year, as an ISO offset in timestamp literals
DAY_ZONE_NAME = "Asia/Shanghai"  # for AT TIME ZONE (which reads "+08" as POSIX, i.e. west of Greenwich)

# (table, column definitions, constraints) of the partitioned tables; the columns as migration 0006 made them.
EVENTS_COLUMNS = f"""
    id bigint NOT NULL DEFAULT nextval('occupancy_events_id_seq'),
    station_id bigint NOT NULL,
    position smallint NOT NULL,
    nozzle smallint NOT NULL,
    seq bigint NOT NULL,
    state text NOT NULL,
    ts timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_occupancy_events PRIMARY KEY (id, ts),
    CONSTRAINT uq_occupancy_events_station_id_position_nozzle_seq_ts
        UNIQUE (station_id, position, nozzle, seq, ts),
    CONSTRAINT ck_occupancy_events_state CHECK ({STATES}),
    CONSTRAINT fk_occupancy_events_station_id_stations FOREIGN KEY (station_id)
        REFERENCES stations (id) ON DELETE CASCADE
"""
REPORTS_COLUMNS = """
    id bigint NOT NULL DEFAULT nextval('waiting_reports_id_seq'),
    station_id bigint NOT NULL,
    waiting_vehicles smallint NOT NULL,
    ts timestamptz NOT NULL,
    received_at timestamptz NOT NULL DEFAULT now(),
    CONSTRAINT pk_waiting_reports PRIMARY KEY (id, ts),
    CONSTRAINT uq_waiting_reports_station_id_ts UNIQUE (station_id, ts),
    CONSTRAINT ck_waiting_reports_waiting_vehicles_range CHECK (waiting_vehicles BETWEEN 0 AND 500),
    CONSTRAINT fk_waiting_reports_station_id_stations FOREIGN KEY (station_id)
        REFERENCES stations (id) ON DELETE CASCADE
"""
EVENTS_OLD = ("pk_occupancy_events", "uq_occupancy_events_station_id_position_nozzle_seq")
REPORTS_OLD = ("pk_waiting_reports", "uq_waiting_reports_station_id_ts")
EVENTS_INDEXES = ("CREATE INDEX ix_occupancy_events_station_id_ts ON occupancy_events (station_id, ts)",)
EVENTS_COPY = "id, station_id, position, nozzle, seq, state, ts, received_at"
REPORTS_COPY = "id, station_id, waiting_vehicles, ts, received_at"


def _days(table: str) -> list[date]:
    rows = op.get_bind().execute(
        sa.text(f"SELECT DISTINCT (ts AT TIME ZONE '{DAY_ZONE_NAME}')::date FROM {table} ORDER BY 1")  # noqa: S608
    )
    return [r[0] for r in rows]


def _partition(table: str, columns: str, old_constraints: Sequence[str], copy: str) -> None:
    old = f"{table}_unpartitioned"
    op.execute(f"ALTER TABLE {table} RENAME TO {old}")
    for name in old_constraints:  # their index names are free again
        op.execute(f"ALTER TABLE {old} DROP CONSTRAINT {name}")
    op.execute(f"ALTER TABLE {old} ALTER COLUMN id DROP DEFAULT")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
    op.execute(f"CREATE TABLE {table} ({columns}) PARTITION BY RANGE (ts)")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    for day in _days(old):
        start, end = day.isoformat(), (day + timedelta(days=1)).isoformat()
        op.execute(
            f"CREATE TABLE {table}_p{day:%Y%m%d} PARTITION OF {table} "
            f"FOR VALUES FROM ('{start} 00:00{DAY_ZONE}') TO ('{end} 00:00{DAY_ZONE}')"
        )
    op.execute(f"CREATE TABLE {table}_default PARTITION OF {table} DEFAULT")
    op.execute(f"INSERT INTO {table} ({copy}) SELECT {copy} FROM {old}")  # noqa: S608
    op.execute(f"DROP TABLE {old}")


def upgrade() -> None:
    op.execute("DROP INDEX ix_occupancy_events_station_id_ts")
    _partition("occupancy_events", EVENTS_COLUMNS, EVENTS_OLD, EVENTS_COPY)
    for statement in EVENTS_INDEXES:
        op.execute(statement)
    _partition("waiting_reports", REPORTS_COLUMNS, REPORTS_OLD, REPORTS_COPY)
    op.create_index("ix_position_claims_ts", "position_claims", ["ts"], unique=False)


def _unpartition(table: str, columns: str, copy: str) -> None:
    """Back to one plain table with migration 0006's keys (an events seq repeated with another ts in two
    rows would make this fail: the ingest never stores one)."""
    part = f"{table}_partitioned"
    op.execute(f"ALTER TABLE {table} RENAME TO {part}")
    op.execute(f"ALTER TABLE {part} ALTER COLUMN id DROP DEFAULT")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY NONE")
    for name in (f"pk_{table}", f"uq_{table}_station_id_position_nozzle_seq_ts", f"uq_{table}_station_id_ts"):
        op.execute(f"ALTER TABLE {part} DROP CONSTRAINT IF EXISTS {name}")
    plain = columns.replace("PRIMARY KEY (id, ts)", "PRIMARY KEY (id)").replace(
        "CONSTRAINT uq_occupancy_events_station_id_position_nozzle_seq_ts\n        UNIQUE (station_id, "
        "position, nozzle, seq, ts)",
        "CONSTRAINT uq_occupancy_events_station_id_position_nozzle_seq "
        "UNIQUE (station_id, position, nozzle, seq)",
    )
    op.execute(f"CREATE TABLE {table} ({plain})")
    op.execute(f"ALTER SEQUENCE {table}_id_seq OWNED BY {table}.id")
    op.execute(f"INSERT INTO {table} ({copy}) SELECT {copy} FROM {part}")  # noqa: S608
    op.execute(f"DROP TABLE {part}")


def downgrade() -> None:
    op.drop_index("ix_position_claims_ts", table_name="position_claims")
    _unpartition("waiting_reports", REPORTS_COLUMNS, REPORTS_COPY)
    op.execute("DROP INDEX ix_occupancy_events_station_id_ts")
    _unpartition("occupancy_events", EVENTS_COLUMNS, EVENTS_COPY)
    for statement in EVENTS_INDEXES:
        op.execute(statement)
