"""The worker's live search index: the current Snapshot, its refresh, and open-now states per minute."""

from __future__ import annotations

import gc
import logging
import threading
import time
from collections.abc import Callable
from datetime import UTC, datetime
from zoneinfo import ZoneInfo

import numpy as np
from sqlalchemy import Engine

from geo import repository
from geo.hours import minute_of_week
from geo.snapshot import STATUS_CODES, Snapshot, build_snapshot

log = logging.getLogger(__name__)


class IndexNotReady(RuntimeError):
    pass


class LiveIndex:
    def __init__(
        self, engine: Engine, on_new_snapshot: Callable[[Snapshot, Engine], object] | None = None
    ) -> None:
        self._engine = engine
        # Called with each new snapshot and the engine it was read from, before it is served (to build
        # what is aligned with it, read from the same database: never older than the snapshot).
        self._on_new_snapshot = on_new_snapshot
        self._snapshot: Snapshot | None = None
        self._reload_lock = threading.Lock()
        self._open_cache: tuple[int, int, np.ndarray] | None = None  # (version, utc minute, states)
        self.loaded_at: datetime | None = None
        self.loaded_seq = 0
        self.load_seconds: float | None = None

    @property
    def snapshot(self) -> Snapshot:
        snap = self._snapshot
        if snap is None:
            raise IndexNotReady("the station index is still loading")
        return snap

    @property
    def ready(self) -> bool:
        return self._snapshot is not None

    def load(self, engine: Engine | None = None, min_seq: int = 0) -> Snapshot:
        """A new snapshot from `engine` (default the one given at construction: the primary); raises
        repository.SnapshotBehind when that database's change log is below `min_seq` (nothing replaced)."""
        engine = engine or self._engine
        with self._reload_lock:
            started = time.perf_counter()
            version, seq, rows = repository.index_rows(engine, min_seq=min_seq)
            snap = build_snapshot(rows, version)
            self.loaded_seq = seq  # the change log's head when the rows were read: follow from there
            if self._on_new_snapshot is not None:
                self._on_new_snapshot(snap, engine)
            self._snapshot = snap
            # The snapshot lives until the next reload: keep the collector from rescanning it.
            gc.collect()
            gc.freeze()
            self.loaded_at = datetime.now(UTC)
            self.load_seconds = time.perf_counter() - started
            log.info("station index v%d: %d stations in %.1fs", version, len(snap), self.load_seconds)
            return snap

    def forget_open_states(self) -> None:
        """A patch changed hours or status: the next open_state recomputes."""
        self._open_cache = None

    def open_state(self, now: datetime) -> np.ndarray:
        """Per snapshot position at `now` (the app clock's): 1 open, 0 closed (or temporarily closed),
        -1 hours unknown."""
        snap = self.snapshot
        minute = int(now.timestamp() // 60)
        cached = self._open_cache
        if cached is not None and cached[0] == snap.version and cached[1] == minute:
            return cached[2]
        states = compute_open_state(snap, now)
        self._open_cache = (snap.version, minute, states)
        return states


def compute_open_state(snap: Snapshot, now: datetime) -> np.ndarray:
    states = np.full(len(snap), -1, dtype=np.int8)
    known = snap.schedule >= 0
    for code, name in enumerate(snap.timezones):
        local = now.astimezone(ZoneInfo(name))
        open_by_schedule = snap.schedules.open_at(minute_of_week(local))
        chosen = known & (snap.timezone == code)
        states[chosen] = open_by_schedule[snap.schedule[chosen]].astype(np.int8)
    states[snap.status == STATUS_CODES["temporarily_closed"]] = 0
    return states
