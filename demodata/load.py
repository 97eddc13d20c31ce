"""Bulk load of StationRecords into PostGIS with COPY, in one transaction.

The catalogue tables are locked (ACCESS EXCLUSIVE) for the whole load, so nobody else can take ids from
their sequences: ids are numbered from each sequence's next value and the sequences are moved past the
last id used before the commit. Identifier, position and nozzle rows therefore reference their parents
without reading anything back. A background thread turns records into COPY payloads while the main thread
streams the previous batch to the server.

Row-by-row foreign-key checks dominated COPY time (nozzles outnumber stations ~16:1), so the catalogue's
foreign keys are dropped for the load and re-added from their own catalogue definitions before the
commit: re-adding validates every row in one pass, and a violation aborts the whole transaction.
Likewise, when the catalogue starts empty, the primary-key and unique constraints and the plain indexes
(GiST, H3, brand ...) are dropped and rebuilt from their own definitions after the COPY: one sorted build
per index is much faster than index upkeep row by row, and duplicates still abort the transaction.
Station rows come from StationRecord.station_row(), so geom, H3 cells and content_hash are exactly what
the ingest path stores. Any failure rolls everything back; ANALYZE runs after the commit.

With `prices` (demodata.prices), each batch also COPYs the stations' synthetic prices into station_prices,
in the same transaction: its foreign key to stations is dropped and re-added like the catalogue's (and,
when station_prices starts empty, its keys, its no-overlap exclusion constraint (GiST, upkept row by row
it cost ~140 us per row) and its indexes too), and price_version is bumped explicitly once
before the commit so running services reload their price book.
"""

from __future__ import annotations

import io
import queue
import threading
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime
from itertools import islice
from typing import Any

from psycopg2 import sql

from demodata.copyrows import TABLE_COLUMNS, Batch, NextIds, build_batch
from demodata.prices import PRICE_COLUMNS, station_prices
from geo.records import StationRecord

CATALOGUE_TABLES = ("stations", "station_identifiers", "fueling_positions", "nozzles")
_SEQUENCE_TABLES = ("stations", "fueling_positions", "nozzles")
PRICE_TABLE = "station_prices"
_DONE = object()


@dataclass(frozen=True)
class Prices:
    """Load synthetic prices with the stations: seed of the network, and the load time
    (timestamps' origin)."""

    seed: int
    loaded_at: datetime


@dataclass
class LoadCounts:
    stations: int = 0
    identifiers: int = 0
    positions: int = 0
    nozzles: int = 0
    brands: Counter[str] = field(default_factory=Counter)
    prices: int = 0

    def add(self, batch: Batch) -> None:
        self.stations += batch.stations
        self.identifiers += batch.identifiers
        self.positions += batch.positions
        self.nozzles += batch.nozzles
        self.brands.update(batch.brands)


def _copy(cur: Any, table: str, payload: bytes) -> None:
    if payload:
        names = PRICE_COLUMNS if table == PRICE_TABLE else TABLE_COLUMNS[table]
        columns = sql.SQL(", ").join(sql.Identifier(c) for c in names)
        statement = sql.SQL("COPY {} ({}) FROM STDIN").format(sql.Identifier(table), columns)
        cur.copy_expert(statement, io.BytesIO(payload), size=1 << 20)


def _drop_constraints(
    cur: Any, kinds: list[str], tables: tuple[str, ...] = CATALOGUE_TABLES
) -> list[tuple[str, str, str]]:
    """Drop the constraints of `kinds` (pg_constraint.contype: 'f', 'p', 'u', 'x') of `tables`, foreign keys
    first.

    Returns (table, name, definition) in drop order; re-add them in reverse order.
    """
    # A key that a foreign key outside the catalogue depends on (prices -> stations.id) stays in place.
    cur.execute(
        "SELECT c.conrelid::regclass::text, c.conname, pg_get_constraintdef(c.oid) FROM pg_constraint c "
        "WHERE c.contype = ANY(%(kinds)s::char[]) AND c.conrelid = ANY(%(tables)s::regclass[]) "
        "AND (c.contype = 'f' OR NOT EXISTS (SELECT 1 FROM pg_constraint r WHERE r.contype = 'f' "
        "     AND r.conindid = c.conindid AND NOT r.conrelid = ANY(%(tables)s::regclass[]))) "
        "ORDER BY c.contype <> 'f', 1, 2",
        {"kinds": kinds, "tables": list(tables)},
    )
    found = [(str(t), str(n), str(d)) for t, n, d in cur.fetchall()]
    for table, name, _ in found:
        cur.execute(
            sql.SQL("ALTER TABLE {} DROP CONSTRAINT {}").format(sql.Identifier(table), sql.Identifier(name))
        )
    return found


def _restore_constraints(cur: Any, found: list[tuple[str, str, str]]) -> None:
    for table, name, definition in reversed(found):
        # The definition is PostgreSQL's own rendering of the constraint that was just dropped.
        cur.execute(
            sql.SQL("ALTER TABLE {} ADD CONSTRAINT {} ").format(sql.Identifier(table), sql.Identifier(name))
            + sql.SQL(definition)
        )


def _drop_plain_indexes(cur: Any, tables: tuple[str, ...] = CATALOGUE_TABLES) -> list[tuple[str, str]]:
    """Drop the catalogue's indexes that back no constraint; returns (name, definition) to rebuild them."""
    cur.execute(
        "SELECT i.indexrelid::regclass::text, pg_get_indexdef(i.indexrelid) FROM pg_index i "
        "WHERE i.indrelid = ANY(%s::regclass[]) "
        "AND NOT EXISTS (SELECT 1 FROM pg_constraint c WHERE c.conindid = i.indexrelid) "
        "ORDER BY 1",
        (list(tables),),
    )
    found = [(str(n), str(d)) for n, d in cur.fetchall()]
    for name, _ in found:
        cur.execute(sql.SQL("DROP INDEX {}").format(sql.Identifier(name)))
    return found


def _rebuild_indexes(cur: Any, found: list[tuple[str, str]]) -> None:
    cur.execute("SET LOCAL maintenance_work_mem = '256MB'")
    for _, definition in found:
        cur.execute(sql.SQL(definition))  # PostgreSQL's own rendering of the index just dropped


def _sequences(cur: Any) -> dict[str, str]:
    seqs: dict[str, str] = {}
    for table in _SEQUENCE_TABLES:
        cur.execute("SELECT pg_get_serial_sequence(%s, 'id')", (table,))
        seqs[table] = cur.fetchone()[0]
    return seqs


def _next_ids(cur: Any, seqs: dict[str, str]) -> NextIds:
    """The next free id per table: one past both the sequence position and the largest stored id."""
    found: list[int] = []
    for table in _SEQUENCE_TABLES:
        cur.execute(
            sql.SQL("SELECT GREATEST((SELECT max(id) FROM {}), nextval(%s::regclass) - 1)").format(
                sql.Identifier(table)
            ),
            (seqs[table],),
        )
        found.append(int(cur.fetchone()[0]) + 1)
    return NextIds(*found)


def _advance_sequences(cur: Any, seqs: dict[str, str], ids: NextIds) -> None:
    for table, next_id in zip(_SEQUENCE_TABLES, (ids.station, ids.position, ids.nozzle), strict=True):
        cur.execute("SELECT setval(%s::regclass, %s, false)", (seqs[table], next_id))


def _put(out: queue.Queue[Any], item: Any, stop: threading.Event) -> None:
    while not stop.is_set():
        try:
            out.put(item, timeout=0.2)
            return
        except queue.Full:
            continue


def _produce(
    records: Iterable[StationRecord],
    ids: NextIds,
    size: int,
    out: queue.Queue[Any],
    stop: threading.Event,
    prices: Prices | None = None,
) -> None:
    try:
        it = iter(records)
        start = 0
        while not stop.is_set() and (chunk := list(islice(it, size))):
            first = ids.station
            batch = build_batch(chunk, ids)
            payload, rows = b"", 0
            if prices is not None:
                priced = station_prices(chunk, seed=prices.seed, start=start, loaded_at=prices.loaded_at)
                payload, rows = priced.copy_payload(first), len(priced)
            start += len(chunk)
            _put(out, (batch, payload, rows), stop)
        _put(out, _DONE, stop)
    except BaseException as exc:  # handed to the consumer, which re-raises it
        _put(out, exc, stop)


def load(
    conn: Any,
    records: Iterable[StationRecord],
    *,
    replace: bool = False,
    chunk_size: int = 10_000,
    progress: Callable[[int], object] | None = None,
    prices: Prices | None = None,
) -> LoadCounts:
    """COPY `records` into the catalogue on psycopg2 connection `conn` and commit; roll back on any error.

    `replace` empties the catalogue first, in the same transaction. `prices` also loads synthetic prices
    for the records (station i of the stream priced from (prices.seed, i)) and bumps price_version.
    `progress(k)` is called after each batch with the number of stations just loaded.
    """
    counts = LoadCounts()
    stop = threading.Event()
    try:
        with conn.cursor() as cur:
            tables = sql.SQL(", ").join(sql.Identifier(t) for t in CATALOGUE_TABLES)
            if replace:
                cur.execute(sql.SQL("TRUNCATE {} RESTART IDENTITY CASCADE").format(tables))
            cur.execute(sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(tables))
            price_constraints: list[tuple[str, str, str]] = []
            price_indexes: list[tuple[str, str]] = []
            if prices is not None:
                cur.execute(
                    sql.SQL("LOCK TABLE {} IN ACCESS EXCLUSIVE MODE").format(sql.Identifier(PRICE_TABLE))
                )
                cur.execute(
                    sql.SQL("SELECT NOT EXISTS (SELECT 1 FROM {})").format(sql.Identifier(PRICE_TABLE))
                )
                no_prices = bool(cur.fetchone()[0])
                price_constraints = _drop_constraints(
                    cur, ["f", "p", "u", "x"] if no_prices else ["f"], (PRICE_TABLE,)
                )
                price_indexes = _drop_plain_indexes(cur, (PRICE_TABLE,)) if no_prices else []
            seqs = _sequences(cur)
            ids = _next_ids(cur, seqs)
            cur.execute("SELECT NOT EXISTS (SELECT 1 FROM stations)")
            empty = bool(cur.fetchone()[0])
            constraints = _drop_constraints(cur, ["f", "p", "u"] if empty else ["f"])
            indexes = _drop_plain_indexes(cur) if empty else []
            batches: queue.Queue[Any] = queue.Queue(maxsize=2)
            worker = threading.Thread(
                target=_produce,
                args=(records, ids, chunk_size, batches, stop, prices),
                name="demodata-rows",
                daemon=True,
            )
            worker.start()
            while (item := batches.get()) is not _DONE:
                if isinstance(item, BaseException):
                    raise item
                batch, price_payload, price_rows = item
                for table in CATALOGUE_TABLES:
                    _copy(cur, table, batch.payloads[table])
                _copy(cur, PRICE_TABLE, price_payload)
                counts.add(batch)
                counts.prices += price_rows
                if progress:
                    progress(batch.stations)
            worker.join()
            _rebuild_indexes(cur, indexes + price_indexes)
            _restore_constraints(cur, price_constraints + constraints)
            _advance_sequences(cur, seqs, ids)
            if prices is not None:
                # The statement trigger on station_prices does fire for COPY (checked: once per COPY,
                # even of 0 rows); this explicit bump also covers a load that COPYs no price at all.
                cur.execute("UPDATE price_version SET version = version + 1, changed_at = now()")
        conn.commit()
    except BaseException:
        stop.set()
        conn.rollback()
        raise
    analyze(conn, (*CATALOGUE_TABLES, PRICE_TABLE) if prices is not None else CATALOGUE_TABLES)
    return counts


def analyze(conn: Any, tables: tuple[str, ...] = CATALOGUE_TABLES) -> None:
    previous = conn.autocommit
    conn.autocommit = True
    try:
        with conn.cursor() as cur:
            for table in tables:
                cur.execute(sql.SQL("ANALYZE {}").format(sql.Identifier(table)))
    finally:
        conn.autocommit = previous
