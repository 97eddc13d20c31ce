"""Day partitions (db/partitions.py) of occupancy_events and waiting_reports: created ahead, rows moved
out of the DEFAULT partition into their day's partition, whole days dropped past the retention.

Dropping is one DROP TABLE per day, whatever it holds (no DELETE). Each partition change is its own short
transaction under `lock_timeout`, so it never queues for long behind a reader (and every ingest behind it):
a change that times out fails the step and is tried again next round.

Every retained day has its partition, up to a few days ahead. One is created when it is missing, while
rows of that day may already sit in the DEFAULT partition (rows written before the first round, a clock
moved back, a retention made longer): the new table is filled with them, they leave the DEFAULT partition
and the table is attached, in one transaction that holds the DEFAULT partition exclusively (an ATTACH
scans it). Their ids stay the same, so a worker's tail, which follows ids, sees nothing change.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta

from sqlalchemy import Connection, Engine, text

from db.partitions import china_day, day_bounds, default_name, partition_day, partition_name

_CHILDREN = text(
    "SELECT c.relname FROM pg_inherits i JOIN pg_class c ON c.oid = i.inhrelid "
    "WHERE i.inhparent = CAST(:table AS regclass) ORDER BY c.relname"
)
_DEFAULT_DAYS = "SELECT DISTINCT (ts AT TIME ZONE 'Asia/Shanghai')::date FROM {default} ORDER BY 1"


@dataclass
class PartitionChanges:
    table: str
    created: list[str] = field(default_factory=list)
    dropped: list[str] = field(default_factory=list)
    moved_rows: int = 0  # out of the DEFAULT partition into a day partition
    expired_default_rows: int = 0  # deleted from the DEFAULT partition: older than the retention


def day_partitions(conn: Connection, table: str) -> dict[date, str]:
    """The day partitions `table` has now, by day (other partitions, DEFAULT included, left out)."""
    days: dict[date, str] = {}
    for (name,) in conn.execute(_CHILDREN, {"table": table}):
        day = partition_day(table, name)
        if day is not None:
            days[day] = name
    return days


def retained_from(now: datetime, retention: timedelta) -> date:
    """The oldest China day kept: a day is dropped once all of it is older than `now - retention`."""
    return china_day(now - retention)


def maintain(
    engine: Engine,
    table: str,
    now: datetime,
    *,
    retention: timedelta,
    ahead_days: int,
    lock_timeout_ms: int = 5000,
) -> PartitionChanges:
    """Create the partitions of every retained day up to `ahead_days` days after today (China days),
    moving DEFAULT rows of those days into them, delete DEFAULT rows older than the retention and drop
    the day partitions older than it. Returns what changed."""
    if retention < timedelta(days=1):
        raise ValueError("the retention must be at least one day")
    if ahead_days < 0:
        raise ValueError("ahead_days must not be negative")
    changes = PartitionChanges(table)
    oldest = retained_from(now, retention)
    today = china_day(now)
    with engine.connect() as conn:
        existing = day_partitions(conn, table)
        in_default = list(conn.execute(text(_DEFAULT_DAYS.format(default=default_name(table)))).scalars())
    # Every retained day, not just the days ahead: a backfill (or a late batch) of a past day lands in its
    # partition at once, and the DEFAULT partition stays empty unless rows arrive outside the window.
    wanted = {oldest + timedelta(days=n) for n in range((today - oldest).days + ahead_days + 1)}
    wanted |= {day for day in in_default if day >= oldest}
    for day in sorted(wanted - existing.keys()):
        changes.moved_rows += _create(engine, table, day, lock_timeout_ms)
        changes.created.append(partition_name(table, day))
    if any(day < oldest for day in in_default):
        changes.expired_default_rows = _expire_default(engine, table, oldest, lock_timeout_ms)
    for day, name in sorted(existing.items()):
        if day < oldest:
            _drop(engine, name, lock_timeout_ms)
            changes.dropped.append(name)
    return changes


def _locked(conn: Connection, lock_timeout_ms: int) -> None:
    conn.execute(text("SELECT set_config('lock_timeout', :ms, true)"), {"ms": f"{int(lock_timeout_ms)}ms"})


def _create(engine: Engine, table: str, day: date, lock_timeout_ms: int) -> int:
    """Create one day's partition with the DEFAULT partition's rows of that day; the rows moved."""
    name, default = partition_name(table, day), default_name(table)
    start, end = (b.isoformat() for b in day_bounds(day))
    bounds = {"start": start, "end": end}
    with engine.begin() as conn:
        _locked(conn, lock_timeout_ms)
        conn.execute(text(f"LOCK TABLE {default} IN ACCESS EXCLUSIVE MODE"))
        conn.execute(text(f"CREATE TABLE {name} (LIKE {table} INCLUDING DEFAULTS INCLUDING CONSTRAINTS)"))
        moved = conn.execute(
            text(
                f"WITH gone AS (DELETE FROM {default} WHERE ts >= CAST(:start AS timestamptz) "  # noqa: S608
                f"AND ts < CAST(:end AS timestamptz) RETURNING *) INSERT INTO {name} SELECT * FROM gone"
            ),
            bounds,
        ).rowcount
        # The partition bound is DDL (no parameters): both instants are our own ISO strings.
        conn.execute(
            text(f"ALTER TABLE {table} ATTACH PARTITION {name} FOR VALUES FROM ('{start}') TO ('{end}')")
        )
    return int(moved)


def _expire_default(engine: Engine, table: str, oldest: date, lock_timeout_ms: int) -> int:
    with engine.begin() as conn:
        _locked(conn, lock_timeout_ms)
        deleted = conn.execute(
            text(f"DELETE FROM {default_name(table)} WHERE ts < CAST(:start AS timestamptz)"),  # noqa: S608
            {"start": day_bounds(oldest)[0].isoformat()},
        ).rowcount
    return int(deleted)


def _drop(engine: Engine, name: str, lock_timeout_ms: int) -> None:
    with engine.begin() as conn:
        _locked(conn, lock_timeout_ms)
        conn.execute(text(f"DROP TABLE {name}"))


def partition_of(conn: Connection, table: str, ids: Iterable[int]) -> dict[int, str]:
    """Which partition holds each row id (tests and the CLI's report)."""
    rows = conn.execute(
        text(f"SELECT id, tableoid::regclass::text FROM {table} WHERE id = ANY(:ids)"),  # noqa: S608
        {"ids": list(ids)},
    )
    return {int(r[0]): str(r[1]) for r in rows}
