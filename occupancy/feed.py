"""Each worker's live book, fed from PostgreSQL: recent history at start-up, then a tail by row id.

Row ids come from sequences, and transactions commit out of order: a row with a lower id can appear
after higher ones were read. `IdTracker` remembers the ids skipped over for `hold_s` seconds and the
tail re-reads them until they show up or the hold expires. Rows this worker stored itself are applied
at once by the request that stored them (read-your-writes) and skipped when the tail meets them.

The book is touched from one thread only (the event loop): `fetch` (database, thread pool) returns a
Delta and `apply` (event loop) puts it into the book.
"""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field
from datetime import timedelta
from typing import Any, Protocol

import sqlalchemy as sa

from occupancy.events import NozzleEvent, NozzleState, PositionClaim, PositionLayout, WaitingReport
from occupancy.layouts import Layout, LayoutCache
from timekeeping.clock import Clock, SystemClock

log = logging.getLogger(__name__)
Item = NozzleEvent | WaitingReport | PositionClaim
_STATES = {s.value: s for s in NozzleState}
MAX_TRACKED_GAP = 100_000  # a larger jump (bulk delete, restore) is not waited for id by id


class Book(Protocol):
    def set_layout(self, station_id: int, positions: Sequence[PositionLayout]) -> None: ...
    def has_layout(self, station_id: int) -> bool: ...
    def apply(self, items: Iterable[Item]) -> None: ...


class IdTracker:
    """The highest id read so far and the lower ids skipped over (each waited for until its deadline)."""

    def __init__(self, hold_s: float = 10.0) -> None:
        self.hold_s = hold_s
        self.last = 0
        self.missing: dict[int, float] = {}

    def observe(self, ids: Iterable[int], now: float) -> None:
        deadline = now + self.hold_s
        for i in ids:
            if i > self.last:
                if 1 < i - self.last <= MAX_TRACKED_GAP:
                    self.missing.update(dict.fromkeys(range(self.last + 1, i), deadline))
                self.last = i
            else:
                self.missing.pop(i, None)

    def expire(self, now: float) -> None:
        if self.missing:
            self.missing = {i: d for i, d in self.missing.items() if d > now}

    def ranges(self) -> tuple[list[int], list[int]]:
        """The missing ids as inclusive ranges (lows, highs)."""
        lows: list[int] = []
        highs: list[int] = []
        for i in sorted(self.missing):
            if highs and highs[-1] == i - 1:
                highs[-1] = i
            else:
                lows.append(i)
                highs.append(i)
        return lows, highs


@dataclass(frozen=True)
class _Table:
    after: sa.TextClause  # rows with id > :last, by id, at most :limit
    within: sa.TextClause  # rows with an id in the ranges (:lows, :highs)
    since: sa.TextClause  # rows with ts >= :cutoff, by id
    top: sa.TextClause  # the highest id
    convert: Callable[[Any], Item]

    @property
    def after_raw(self) -> str:
        """`after` for a DB-API cursor (pyformat parameters)."""
        return self.after.text.replace(":last", "%(last)s").replace(":limit", "%(limit)s")


# Event times leave the database as epoch seconds (float8): cheaper than datetimes, and what the book uses.
TABLES = (
    _Table(
        sa.text(
            "SELECT id, station_id, position, nozzle, seq, state, extract(epoch FROM ts)::float8 "
            "FROM occupancy_events WHERE id > :last ORDER BY id LIMIT :limit"
        ),
        sa.text(
            "SELECT id, station_id, position, nozzle, seq, state, extract(epoch FROM ts)::float8 "
            "FROM occupancy_events "
            "JOIN unnest(CAST(:lows AS bigint[]), CAST(:highs AS bigint[])) AS r(lo, hi) "
            "ON id BETWEEN r.lo AND r.hi"
        ),
        sa.text(
            "SELECT id, station_id, position, nozzle, seq, state, extract(epoch FROM ts)::float8 "
            "FROM occupancy_events WHERE ts >= :cutoff ORDER BY id"
        ),
        sa.text("SELECT coalesce(max(id), 0) FROM occupancy_events"),
        lambda r: NozzleEvent(r[1], r[2], r[3], _STATES[r[5]], r[6], r[4]),
    ),
    _Table(
        sa.text(
            "SELECT id, station_id, waiting_vehicles, extract(epoch FROM ts)::float8 "
            "FROM waiting_reports WHERE id > :last ORDER BY id LIMIT :limit"
        ),
        sa.text(
            "SELECT id, station_id, waiting_vehicles, extract(epoch FROM ts)::float8 "
            "FROM waiting_reports "
            "JOIN unnest(CAST(:lows AS bigint[]), CAST(:highs AS bigint[])) AS r(lo, hi) "
            "ON id BETWEEN r.lo AND r.hi"
        ),
        sa.text(
            "SELECT id, station_id, waiting_vehicles, extract(epoch FROM ts)::float8 "
            "FROM waiting_reports WHERE ts >= :cutoff ORDER BY id"
        ),
        sa.text("SELECT coalesce(max(id), 0) FROM waiting_reports"),
        lambda r: WaitingReport(r[1], r[2], r[3]),
    ),
    _Table(
        sa.text(
            "SELECT id, station_id, position, ref, extract(epoch FROM ts)::float8 "
            "FROM position_claims WHERE id > :last ORDER BY id LIMIT :limit"
        ),
        sa.text(
            "SELECT id, station_id, position, ref, extract(epoch FROM ts)::float8 "
            "FROM position_claims "
            "JOIN unnest(CAST(:lows AS bigint[]), CAST(:highs AS bigint[])) AS r(lo, hi) "
            "ON id BETWEEN r.lo AND r.hi"
        ),
        sa.text(
            "SELECT id, station_id, position, ref, extract(epoch FROM ts)::float8 "
            "FROM position_claims WHERE ts >= :cutoff ORDER BY id"
        ),
        sa.text("SELECT coalesce(max(id), 0) FROM position_claims"),
        lambda r: PositionClaim(r[1], r[2], r[3], r[4]),
    ),
)
TRACK_BACK_IDS = 10_000  # at start-up, gaps among the newest ids are waited for like the tail's
# A TRUNCATE gives every table (and partition) a new file. The partitioned tables have none of their own:
# their DEFAULT partitions stand for them (dropping an old day's partition is retention, not a reset).
_GENERATION = sa.text(
    "SELECT pg_relation_filenode('occupancy_events_default'), "
    "pg_relation_filenode('waiting_reports_default'), pg_relation_filenode('position_claims'), "
    "(SELECT version FROM catalogue_version)"
)


@dataclass
class Delta:
    items: list[Item] = field(default_factory=list)
    layouts: dict[int, Layout] = field(default_factory=dict)
    reset: bool = False  # the tables were truncated or replaced: start a new book first


class LiveFeed:
    """Fetches what the book has not seen yet; `book_factory` makes a fresh book after a reset. `clock`
    decides which history is recent; waits for rows of uncommitted transactions (`hold_s`) are real time."""

    def __init__(
        self,
        engine: sa.Engine,
        book_factory: Callable[[], Book],
        layouts: LayoutCache,
        *,
        history_days: int,
        hold_s: float = 10.0,
        chunk: int = 50_000,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        self.layouts = layouts
        self.book_factory = book_factory
        self.book: Book = book_factory()
        self.history_days = history_days
        self.chunk = chunk
        self.hold_s = hold_s
        self.trackers = [IdTracker(hold_s) for _ in TABLES]
        self.own: list[dict[int, float]] = [{} for _ in TABLES]  # ids applied by this worker's requests
        self._own_lock = threading.Lock()  # the event loop adds to `own`, the tail (a thread) takes from it
        self.generation: tuple[int, int, int] | None = None
        self.loaded = False
        self.last_poll: float | None = None

    # ---- start-up ----------------------------------------------------------------------------------
    def load(self) -> int:
        """Read the last `history_days` into a new book and swap it in (the tail must not run meanwhile)."""
        started = time.perf_counter()
        book = self.book_factory()
        trackers = [IdTracker(self.hold_s) for _ in TABLES]
        cutoff = self.clock.now() - timedelta(days=self.history_days)
        count = 0
        with self.engine.connect() as conn:
            generation = conn.execute(_GENERATION).one()
            self.layouts.reset(int(generation[3]))
            for tracker, table in zip(trackers, TABLES, strict=True):
                tracker.last = max(0, int(conn.execute(table.top).scalar_one()) - TRACK_BACK_IDS)
                result = conn.execution_options(stream_results=True, yield_per=self.chunk).execute(
                    table.since, {"cutoff": cutoff}
                )
                for rows in result.partitions():
                    _apply(book, self._delta(conn, book, [table.convert(r) for r in rows]))
                    tracker.observe((int(r[0]) for r in rows if r[0] > tracker.last), time.time())
                    count += len(rows)
        self.book, self.trackers, self.own = book, trackers, [{} for _ in TABLES]
        self.generation = (int(generation[0]), int(generation[1]), int(generation[2]))
        self.loaded = True
        log.info(
            "occupancy: %d items of the last %d days in %.1fs",
            count,
            self.history_days,
            time.perf_counter() - started,
        )
        return count

    # ---- tail --------------------------------------------------------------------------------------
    def fetch(self) -> Delta:
        """New rows since the last fetch (thread pool); Delta.reset when the tables were truncated."""
        now = time.time()
        delta = Delta()
        with self.engine.connect() as conn:
            generation = conn.execute(_GENERATION).one()
            nodes = (int(generation[0]), int(generation[1]), int(generation[2]))
            if nodes != self.generation:
                return Delta(reset=True)
            version = int(generation[3])
            if version != self.layouts.version:
                stations = self.layouts.reset(version)
                delta.layouts.update(self.layouts.get_many(conn, stations))
            items: list[Item] = []
            for number, table in enumerate(TABLES):
                tracker, own = self.trackers[number], self.own[number]
                tracker.expire(now)
                # The DB-API cursor: plain tuples, without a Row object per row (this runs for every event).
                cursor = conn.connection.cursor()
                try:
                    cursor.execute(table.after_raw, {"last": tracker.last, "limit": self.chunk})
                    found: list[Any] = list(cursor.fetchall())
                finally:
                    cursor.close()
                if tracker.missing:
                    lows, highs = tracker.ranges()
                    found += conn.execute(table.within, {"lows": lows, "highs": highs}).all()
                tracker.observe((r[0] for r in found), now)
                if own:
                    with self._own_lock:
                        found = [r for r in found if own.pop(r[0], None) is None]
                        cutoff = now - 3 * self.hold_s
                        if len(own) > 10_000 or (own and min(own.values()) < cutoff):
                            self.own[number] = {i: t for i, t in own.items() if t >= cutoff}
                items.extend(table.convert(r) for r in found)
            converted = self._delta(conn, self.book, items)
        converted.layouts.update(delta.layouts)
        self.last_poll = now
        return converted

    def _delta(self, conn: sa.Connection, book: Book, items: list[Item]) -> Delta:
        """The items with the layouts of their stations the book does not have yet."""
        unknown = {i.station_id for i in items if not book.has_layout(i.station_id)}
        return Delta(items, self.layouts.get_many(conn, unknown) if unknown else {})

    def apply(self, delta: Delta) -> None:
        """Put a Delta into the book (event loop thread); a reset Delta is handled by the caller."""
        _apply(self.book, delta)

    # ---- this worker's own writes -------------------------------------------------------------------
    def apply_own(
        self,
        layout: tuple[int, Layout] | None,
        events: Sequence[tuple[int, Item]],
        reports: Sequence[tuple[int, Item]] = (),
        claims: Sequence[tuple[int, Item]] = (),
    ) -> None:
        """What a request of this worker just committed: into the book now, skipped later by the tail."""
        now = time.time()
        if layout is not None and not self.book.has_layout(layout[0]):
            self.book.set_layout(layout[0], list(layout[1].values()))
        for number, stored in enumerate((events, reports, claims)):
            if stored:
                with self._own_lock:
                    own = self.own[number]
                    for row_id, _ in stored:
                        own[row_id] = now
                self.book.apply([item for _, item in stored])

    def ensure_layout(self, conn: sa.Connection, station_id: int) -> Layout | None:
        """The station's layout (thread pool); None when the station does not exist."""
        return self.layouts.get(conn, station_id)

    def set_layout(self, station_id: int, layout: Layout) -> None:
        if not self.book.has_layout(station_id):
            self.book.set_layout(station_id, list(layout.values()))


def _apply(book: Book, delta: Delta) -> None:
    for station_id, layout in delta.layouts.items():
        book.set_layout(station_id, list(layout.values()))
    if delta.items:
        book.apply(delta.items)
