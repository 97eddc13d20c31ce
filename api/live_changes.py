"""Each worker follows the change log (changelog/) and patches its live state in place: station snapshot,
price book, list memo and forecourt layouts. LISTEN wakes it when a transaction commits; a timer fetch
catches anything a lost notification missed. A full reload happens only at start-up, when a station the
snapshot never held appears, or when the log was truncated or pruned past this worker's cursor.

How far behind the log the worker is (`behind_seconds`: since the oldest commit it has not applied) is
reported by /readyz, which turns unready past settings.change_log_max_behind_seconds.

Reads (fetches and reloads) go through db.read_routing: a streaming replica when one is configured and
close enough, else the primary. A lagging replica returns fewer changes, never wrong ones: the cursor only
moves forward (a fetch from a replica behind it returns nothing), a reload never installs a snapshot
older than what was applied (it goes to the primary instead), and the primary's head is known from the
NOTIFY payloads (LISTEN stays on the primary), so the worker keeps fetching until it has applied it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import os
import time
from collections.abc import AsyncIterator
from dataclasses import dataclass, field
from typing import Any

from sqlalchemy import Engine, text
from starlette.concurrency import run_in_threadpool

from changelog import CHANNEL, Change, Cursor, ResyncNeeded, head, read_changes
from db.read_routing import ReadRouting
from geo import repository as geo_repository
from geo.live_index import LiveIndex
from geo.patch import patch_stations
from geo.repository import SnapshotBehind
from listing.memo import MemberMemo
from occupancy.feed import LiveFeed
from occupancy.layouts import Layout, load_layouts
from pricing import repository as price_repository
from pricing.live_prices import LivePrices
from pricing.patch import patch_prices
from pricing.repository import CurrentPrice

log = logging.getLogger(__name__)
# On list answers (prices, status, waits): how far behind the change log the answering worker is.
BEHIND_HEADER = "X-Change-Log-Behind"
BEHIND_HEADER_DOC = {
    BEHIND_HEADER: {
        "description": "seconds since the oldest change this worker has not applied yet (0.000: up to date)",
        "required": True,
        "schema": {"type": "string", "pattern": r"^[0-9]+\.[0-9]{3}$"},
    }
}
PAGE = 5_000
# After a wake, wait this long before reading: a stream of commits (stations posting prices all over the
# country) is read in one fetch per gap instead of one per commit; visibility pays at most this much.
MIN_GAP_S = 0.05
MAX_CHANGES = 50_000  # per fetch: a bigger backlog (a national load) is a reload
# Known to be behind the primary's head (a lagging replica answered): fetch again this soon.
BEHIND_RETRY_S = 0.1
_VERSIONS = text("SELECT (SELECT version FROM catalogue_version), (SELECT version FROM price_version)")
_POSITION_STATIONS = text("SELECT id, station_id FROM fueling_positions WHERE id = ANY(:ids)")
# Taken first, in the order the demo loader and the tests' TRUNCATE lock them: reading them one by one
# (positions before stations, say) deadlocked with a loader holding them exclusively.
_READ_LOCKS = text(
    "LOCK TABLE stations, station_identifiers, fueling_positions, nozzles, station_prices "
    "IN ACCESS SHARE MODE"
)
_RESYNC_ENTITIES = {"station", "price", "position", "nozzle"}  # a TRUNCATE of these: reload


@dataclass
class Fetched:
    cursor: str
    seq: int  # the last transaction applied with this fetch (0: none)
    head: int
    reload: bool = False
    stations: list[dict[str, Any]] = field(default_factory=list)
    gone: list[int] = field(default_factory=list)
    price_stations: list[int] = field(default_factory=list)
    prices: list[CurrentPrice] = field(default_factory=list)
    layouts: dict[int, Layout] = field(default_factory=dict)
    catalogue_version: int = 0
    price_version: int = 0
    changes: int = 0


def _affected(changes: list[Change], position_station: dict[int, int]) -> tuple[set[int], set[int], set[int]]:
    stations: set[int] = set()
    prices: set[int] = set()
    layouts: set[int] = set()
    for c in changes:
        if c.entity == "station" and c.entity_id is not None:
            stations.add(c.entity_id)
        elif c.entity == "price" and c.station_id is not None:
            prices.add(c.station_id)
        elif c.entity == "position" and c.station_id is not None:
            layouts.add(c.station_id)
        elif c.entity == "nozzle" and c.position_id is not None:
            station = position_station.get(c.position_id)
            if station is not None:
                layouts.add(station)
    return stations, prices, layouts


class ChangeFollower:
    def __init__(
        self,
        engine: Engine,
        index: LiveIndex,
        prices: LivePrices,
        feed: LiveFeed,
        memo: MemberMemo,
        max_behind_s: float,
        reads: ReadRouting | None = None,
    ) -> None:
        self.engine, self.index, self.prices, self.feed, self.memo = engine, index, prices, feed, memo
        self.reads = reads or ReadRouting(engine)
        self.max_behind_s = max_behind_s
        self.cursor = str(Cursor.after(index.loaded_seq))
        self.applied_seq = index.loaded_seq
        self.head_seq = index.loaded_seq
        self.pending_since: float | None = None  # monotonic: when the first unapplied commit was noticed
        self.reloads = 0
        self.applied_changes = 0
        self.apply_seconds = 0.0  # event-loop time spent patching
        self.fetch_seconds = 0.0  # thread-pool time spent reading the log and the changed rows
        self._wake = asyncio.Event()

    # ---- lag ------------------------------------------------------------------------------------------
    def noticed(self, seq: int = 0) -> None:
        """A commit was signalled (`seq`: its change-log seq when the notification said, 0 when unknown)."""
        self.head_seq = max(self.head_seq, seq)
        if self.pending_since is None:
            self.pending_since = time.monotonic()
        self._wake.set()

    def behind_header(self) -> dict[str, str]:
        return {BEHIND_HEADER: f"{self.behind_seconds():.3f}"}

    def behind_seconds(self) -> float:
        return 0.0 if self.pending_since is None else time.monotonic() - self.pending_since

    def state(self) -> dict[str, Any]:
        return {
            "applied_seq": self.applied_seq,
            "head_seq": self.head_seq,
            "behind_seconds": round(self.behind_seconds(), 3),
            "max_behind_seconds": self.max_behind_s,
            "reloads": self.reloads,
            "worker": os.getpid(),
            "applied_changes": self.applied_changes,
            "fetch_seconds": round(self.fetch_seconds, 6),
            "apply_seconds": round(self.apply_seconds, 6),
        }

    # ---- fetch (thread pool) -----------------------------------------------------------------------
    def fetch(self) -> Fetched:
        return self.reads.read(self.fetch_from)

    def fetch_from(self, engine: Engine) -> Fetched:
        with engine.connect() as conn:
            conn = conn.execution_options(isolation_level="REPEATABLE READ")
            with conn.begin():
                conn.execute(_READ_LOCKS)
                top = head(conn)
                changes: list[Change] = []
                cursor = self.cursor
                try:
                    while len(changes) < MAX_CHANGES:
                        page = read_changes(conn, cursor, PAGE)
                        changes += page.changes
                        cursor = page.cursor
                        if len(page.changes) < PAGE:
                            break
                except ResyncNeeded:
                    return Fetched(cursor=self.cursor, seq=0, head=top, reload=True)
                done = Fetched(cursor=cursor, seq=changes[-1].seq if changes else 0, head=top)
                done.changes = len(changes)
                if len(changes) >= MAX_CHANGES or any(
                    c.op == "T" and c.entity in _RESYNC_ENTITIES for c in changes
                ):
                    done.reload = True
                    return done
                nozzle_positions = [c.position_id for c in changes if c.entity == "nozzle" and c.position_id]
                position_station = (
                    {int(p): int(s) for p, s in conn.execute(_POSITION_STATIONS, {"ids": nozzle_positions})}
                    if nozzle_positions
                    else {}
                )
                stations, prices, layouts = _affected(changes, position_station)
                if stations:
                    done.stations = geo_repository.station_rows(conn, sorted(stations))
                    done.gone = sorted(stations - {int(r["id"]) for r in done.stations})
                if prices:
                    done.price_stations = sorted(prices)
                    done.prices = price_repository.current_prices_of(conn, done.price_stations)
                held = [s for s in layouts if self.feed.book.has_layout(s)]
                if held:
                    done.layouts = load_layouts(conn, held)
                done.catalogue_version, done.price_version = (int(v) for v in conn.execute(_VERSIONS).one())
                return done

    # ---- apply (event loop) ------------------------------------------------------------------------
    def apply(self, f: Fetched) -> bool:
        """Patch the live state; False when only a reload can (then nothing was changed)."""
        started = time.perf_counter()
        snap = self.index.snapshot
        book = self.prices.book(snap.version)
        patched = patch_stations(snap, f.stations, f.gone)
        if patched.unknown:
            return False
        positions = patch_prices(book, snap.ids, f.price_stations, f.prices)
        self.memo.forget(positions + patched.stations)
        if patched.stations:
            self.index.forget_open_states()
        # Versions only go forward: a fetch from a replica behind the cursor reads older counters.
        if f.catalogue_version > snap.version:
            snap.version = book.catalogue_version = f.catalogue_version
        book.price_version = max(book.price_version, f.price_version)
        for station_id, layout in f.layouts.items():
            self.feed.layouts.forget(station_id)
            self.feed.book.set_layout(station_id, list(layout.values()))
        self.apply_seconds += time.perf_counter() - started
        self.applied_changes += f.changes
        return True

    async def reload(self) -> None:
        """A full reload (start-up work): a new snapshot and price book, then follow from its seq."""
        await run_in_threadpool(load_index, self.reads, self.index, self.applied_seq)
        self.cursor = str(Cursor.after(self.index.loaded_seq))
        self.applied_seq = max(self.applied_seq, self.index.loaded_seq)
        self.reloads += 1

    async def step(self) -> None:
        started = time.perf_counter()
        f = await run_in_threadpool(self.fetch)
        self.fetch_seconds += time.perf_counter() - started
        self.head_seq = max(self.head_seq, f.head)
        if f.reload or not self.apply(f):
            log.info("change log: reloading the station index (%d changes)", f.changes)
            await self.reload()
        else:
            # Never backwards: a replica behind the cursor reads nothing, and nothing older is applied.
            if Cursor.parse(f.cursor) > Cursor.parse(self.cursor):
                self.cursor = f.cursor
            if f.seq > self.applied_seq:
                self.applied_seq = f.seq
        if self.applied_seq >= self.head_seq:
            self.pending_since = None
        else:  # the replica answered behind the primary's head: read again soon (the tick is 1 s)
            asyncio.get_running_loop().call_later(BEHIND_RETRY_S, self._wake.set)

    async def run(self, every_s: float, min_gap_s: float = MIN_GAP_S) -> None:
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._wake.wait(), timeout=every_s)
            await asyncio.sleep(min_gap_s)  # commits in the next moments come with this one fetch
            self._wake.clear()
            try:
                await self.step()
            except Exception:  # the next wake or tick tries again; readyz shows the growing lag
                log.exception("change log: applying changes failed")
                if self.pending_since is None:
                    self.pending_since = time.monotonic()


def _listen(engine: Engine, follower: ChangeFollower) -> Any:
    """A connection LISTENing on the log's channel, read by the event loop when it becomes readable."""
    raw = engine.raw_connection()
    dbapi: Any = raw.driver_connection
    dbapi.autocommit = True
    with dbapi.cursor() as cur:
        cur.execute(f"LISTEN {CHANNEL}")

    def readable() -> None:
        dbapi.poll()
        if dbapi.notifies:
            seq = max((int(n.payload) for n in dbapi.notifies if n.payload.isdigit()), default=0)
            dbapi.notifies.clear()
            follower.noticed(seq)

    asyncio.get_running_loop().add_reader(dbapi.fileno(), readable)
    return raw


@contextlib.asynccontextmanager
async def following(
    engine: Engine, follower: ChangeFollower, every_s: float
) -> AsyncIterator[ChangeFollower]:
    raw = _listen(engine, follower)
    task = asyncio.create_task(follower.run(every_s))
    follower.noticed()  # catch up with whatever committed since the load
    try:
        yield follower
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task
        asyncio.get_running_loop().remove_reader(raw.driver_connection.fileno())
        raw.close()


def load_index(reads: ReadRouting, index: LiveIndex, min_seq: int = 0) -> None:
    """Load the snapshot and the price book through the routing; from the primary when the chosen replica
    has not reached `min_seq` (what this worker has applied already: a reload never goes back)."""
    try:
        reads.read(lambda engine: index.load(engine, min_seq=min_seq))
    except SnapshotBehind:
        index.load(reads.primary, min_seq=min_seq)
