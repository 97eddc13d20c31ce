"""A clean slate of day partitions for upkeep tests, and rows put straight into the partitioned tables."""

from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import Engine, text

from db.partitions import PARTITIONED, partition_day
from upkeep.partitions import day_partitions


def drop_day_partitions(engine: Engine) -> None:
    """Drop every day partition (rows of other tests go to DEFAULT; the engine fixture empties it)."""
    with engine.begin() as conn:
        for table in PARTITIONED:
            for name in day_partitions(conn, table).values():
                assert partition_day(table, name) is not None
                conn.execute(text(f"DROP TABLE {name}"))


def insert_event(engine: Engine, station_id: int, seq: int, ts: datetime, state: str = "idle") -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                text(
                    "INSERT INTO occupancy_events (station_id, position, nozzle, seq, state, ts) "
                    "VALUES (:s, 1, 1, :seq, :state, :ts) RETURNING id"
                ),
                {"s": station_id, "seq": seq, "state": state, "ts": ts},
            ).scalar_one()
        )


def insert_report(engine: Engine, station_id: int, ts: datetime, vehicles: int = 2) -> int:
    with engine.begin() as conn:
        return int(
            conn.execute(
                text(
                    "INSERT INTO waiting_reports (station_id, waiting_vehicles, ts) "
                    "VALUES (:s, :v, :ts) RETURNING id"
                ),
                {"s": station_id, "v": vehicles, "ts": ts},
            ).scalar_one()
        )


def span(first: date, last: date, table: str = "occupancy_events") -> list[str]:
    """The names of the day partitions from `first` to `last`, both included."""
    return [f"{table}_p{first + timedelta(days=n):%Y%m%d}" for n in range((last - first).days + 1)]
