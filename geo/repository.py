"""Catalogue reads: rows for the in-memory index, the catalogue version, one station in full."""

from __future__ import annotations

from collections.abc import Iterator
from importlib import resources
from typing import Any

from sqlalchemy import Connection, Engine, text

from geo.errors import StationNotFound


def _sql(name: str) -> str:
    return resources.files("geo").joinpath("sql", name).read_text(encoding="utf-8")


# Both from geo/sql/station_rows.sql: every searchable station (closed ones are not searchable), and some
# stations whatever their status (a change-log patch must learn that they closed).
_SEARCHABLE = _sql("station_rows.sql") + "WHERE s.status <> 'closed'\nORDER BY s.id\n"
_THESE = _sql("station_rows.sql") + "WHERE s.id = ANY(%(ids)s)\nORDER BY s.id\n"


def catalogue_version(engine: Engine) -> int:
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT version FROM catalogue_version")).scalar_one())


class SnapshotBehind(Exception):
    """The database read from (a lagging replica) has not reached the change-log seq asked for."""


def index_rows(
    engine: Engine, batch: int = 20_000, min_seq: int = 0
) -> tuple[int, int, Iterator[dict[str, Any]]]:
    """The catalogue version, the change log's head seq and an iterator over the searchable stations
    (closed ones left out), read in one repeatable-read transaction so the rows match both. Raises
    SnapshotBehind (before reading any row) when the head is below `min_seq`."""
    conn = engine.raw_connection()
    dbapi = conn.driver_connection
    assert dbapi is not None
    dbapi.set_session(isolation_level="REPEATABLE READ", readonly=True)
    with dbapi.cursor() as cur:
        cur.execute("SELECT version FROM catalogue_version")
        row = cur.fetchone()
        assert row is not None
        version = int(row[0])
        cur.execute("SELECT seq FROM change_counter")
        seq_row = cur.fetchone()
        seq = int(seq_row[0]) if seq_row is not None else 0
    if seq < min_seq:
        dbapi.rollback()
        dbapi.set_session(
            isolation_level="READ COMMITTED", readonly="default"
        )  # a replica refuses READ WRITE
        conn.close()
        raise SnapshotBehind(f"change log at seq {seq}, wanted at least {min_seq}")

    def rows() -> Iterator[dict[str, Any]]:
        try:
            with dbapi.cursor(name="index_rows") as cur:
                cur.itersize = batch
                cur.execute(_SEARCHABLE)
                names: list[str] | None = None
                for values in cur:
                    if names is None:  # the columns of geo/sql/station_rows.sql, as it names them
                        names = [column.name for column in cur.description]
                    yield dict(zip(names, values, strict=True))
            dbapi.rollback()
        finally:
            dbapi.set_session(
                isolation_level="READ COMMITTED", readonly="default"
            )  # a replica refuses READ WRITE
            conn.close()

    return version, seq, rows()


def station_detail(engine: Engine, station_id: int) -> dict[str, Any]:
    with engine.connect() as conn:
        row = conn.execute(text(_sql("station_detail.sql")), {"id": station_id}).mappings().first()
    if row is None:
        raise StationNotFound(station_id)
    return dict(row)


def station_rows(conn: Connection, station_ids: list[int]) -> list[dict[str, Any]]:
    """Current rows of these stations, closed ones included."""
    dbapi = conn.connection.driver_connection
    assert dbapi is not None
    with dbapi.cursor() as cur:
        cur.execute(_THESE, {"ids": station_ids})
        names = [d[0] for d in cur.description]
        return [dict(zip(names, values, strict=True)) for values in cur.fetchall()]


def ping(engine: Engine) -> None:
    with engine.connect() as conn:
        conn.execute(text("SELECT 1"))
