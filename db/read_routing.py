"""Which engine a read goes to: a streaming replica when it is close enough to the primary, else the primary.

Lag is measured by WAL position first, not by `now() - pg_last_xact_replay_timestamp()` alone: an idle
primary makes that timestamp look old though the replica has replayed everything. Each check reads the
primary's `pg_current_wal_lsn()` and then the replica's `pg_last_wal_replay_lsn()`; the replica is caught
up when it has replayed what the primary had written just before (lag 0). Otherwise its lag in seconds is
an upper bound, the smaller of: the time since the newest earlier primary sample the replica has
replayed past, and the time since the last commit it replayed (only meaningful when it is behind).
The primary's position is its WAL *flush* position: WAL is streamed once flushed, so with
synchronous_commit=off a commit can be visible on the primary for up to wal_writer_delay (200 ms) before
any replica can have it; that much is outside the bound. A replica past
`max_lag_s` is not read (the primary is); a replica that fails (connection refused, reset, recovery
ended) is left alone for `retry_after_s`, and the read that met the failure is done again on the primary.
A check is reused for `check_every_s`, so a decision usually costs no round trip.

Reads only: writes, LISTEN (NOTIFY is not delivered on a replica) and anything that locks for a write
always use the primary engine. Transport-free: no FastAPI here.
"""

from __future__ import annotations

import logging
import threading
import time
from collections import deque
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, TypeVar

from sqlalchemy import Engine, text
from sqlalchemy.exc import DBAPIError

log = logging.getLogger(__name__)
T = TypeVar("T")

_PRIMARY_LSN = text("SELECT pg_current_wal_flush_lsn() - '0/0'::pg_lsn")
_REPLICA_LSN = text(
    "SELECT pg_is_in_recovery(), COALESCE(pg_last_wal_replay_lsn() - '0/0'::pg_lsn, 0), "
    "COALESCE(pg_is_wal_replay_paused(), false), "
    "EXTRACT(epoch FROM clock_timestamp() - pg_last_xact_replay_timestamp())::float8"
)
_SAMPLES = 256  # primary positions kept to turn a replica position into seconds


class ReplicaUnfit(Exception):
    """The replica answered but cannot serve reads (it is a primary now, not in recovery)."""


@dataclass
class Lag:
    seconds: float
    bytes: int
    paused: bool
    measured_at: float  # monotonic


class ReadRouting:
    """Chooses the engine of each read. With no replica every read is the primary's, as before."""

    def __init__(
        self,
        primary: Engine,
        replica: Engine | None = None,
        *,
        max_lag_s: float = 5.0,
        retry_after_s: float = 5.0,
        check_every_s: float = 0.25,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.primary, self.replica = primary, replica
        self.max_lag_s, self.retry_after_s, self.check_every_s = max_lag_s, retry_after_s, check_every_s
        self._monotonic = monotonic
        self._lock = threading.Lock()
        self._samples: deque[tuple[float, int]] = deque(maxlen=_SAMPLES)  # (monotonic, primary lsn)
        self.lag: Lag | None = None
        self.down_until = 0.0  # monotonic: the replica is not tried before this
        self.last_error: str | None = None
        self.in_use = False  # the last decision chose the replica
        self.replica_reads = 0
        self.primary_reads = 0
        self.fallbacks = 0  # reads that wanted the replica and went to the primary (lag or failure)
        self.failures = 0  # replica failures seen (each starts a back-off)

    @property
    def configured(self) -> bool:
        return self.replica is not None

    # ---- the decision ------------------------------------------------------------------------------
    def choose(self) -> Engine:
        """The engine for one read now (cheap: a lag check at most every check_every_s)."""
        if self.replica is None:
            self.primary_reads += 1
            return self.primary
        now = self._monotonic()
        with self._lock:
            if now < self.down_until:
                return self._to_primary()
            lag = self.lag
            stale = lag is None or now - lag.measured_at >= self.check_every_s
        if stale:
            try:
                lag = self.measure()
            except (DBAPIError, ReplicaUnfit) as exc:
                self.replica_failed(exc)
                with self._lock:
                    return self._to_primary()
        with self._lock:
            if lag is None or lag.seconds > self.max_lag_s:
                return self._to_primary()
            self.in_use = True
            self.replica_reads += 1
            return self.replica

    def _to_primary(self) -> Engine:
        self.in_use = False
        self.fallbacks += 1
        self.primary_reads += 1
        return self.primary

    def read(self, fn: Callable[[Engine], T]) -> T:
        """fn(engine) on the chosen engine; a replica failure during it runs fn again on the primary, so
        fn must only read (and may be run twice)."""
        engine = self.choose()
        if engine is self.primary:
            return fn(engine)
        try:
            return fn(engine)
        except DBAPIError as exc:
            if not _is_connection_error(exc):
                raise
            self.replica_failed(exc)
            with self._lock:
                self._to_primary()
            return fn(self.primary)

    def replica_failed(self, exc: BaseException) -> None:
        with self._lock:
            self.failures += 1
            self.down_until = self._monotonic() + self.retry_after_s
            self.last_error = type(exc).__name__
            self.lag = None
            self.in_use = False
        assert self.replica is not None
        self.replica.dispose()  # pooled connections to a replica that went away are dead
        log.warning("read replica failed (%s): reads go to the primary for %.1f s", exc, self.retry_after_s)

    def dispose(self) -> None:
        if self.replica is not None:
            self.replica.dispose()

    # ---- lag ---------------------------------------------------------------------------------------
    def measure(self) -> Lag:
        """Read the primary's position, then the replica's; the lag (also kept as self.lag)."""
        assert self.replica is not None
        with self.primary.connect() as conn:
            primary_lsn = int(conn.execute(_PRIMARY_LSN).scalar_one())
        sampled = self._monotonic()
        with self.replica.connect() as conn:
            recovering, replayed, paused, since_replayed_commit = conn.execute(_REPLICA_LSN).one()
        if not recovering:
            raise ReplicaUnfit("the replica is not in recovery (promoted?): not reading from it")
        replayed = int(replayed)
        now = self._monotonic()
        with self._lock:
            self._samples.append((sampled, primary_lsn))
            if replayed >= primary_lsn:
                seconds = 0.0
                self._samples.clear()
                self._samples.append((sampled, primary_lsn))
            else:
                # Two upper bounds of the age of the oldest commit not replayed: replayed past the
                # primary's position at time t, nothing older than t is missing; and nothing committed
                # before the last commit replayed is missing. Neither known: over the bound.
                bounds = (
                    [now - max(t for t, lsn in self._samples if lsn <= replayed)]
                    if any(lsn <= replayed for _, lsn in self._samples)
                    else []
                )
                if since_replayed_commit is not None:
                    bounds.append(max(0.0, float(since_replayed_commit)))
                seconds = min(bounds) if bounds else self.max_lag_s + self.check_every_s
            lag = Lag(seconds, max(0, primary_lsn - replayed), bool(paused), now)
            self.lag = lag
        return lag

    def state(self) -> dict[str, Any]:
        lag = self.lag
        down = self.configured and self._monotonic() < self.down_until
        return {
            "configured": self.configured,
            "in_use": self.in_use,
            "available": self.configured and not down,
            "lag_seconds": round(lag.seconds, 3) if lag is not None and not down else None,
            "lag_bytes": lag.bytes if lag is not None and not down else None,
            "replay_paused": lag.paused if lag is not None and not down else None,
            "max_lag_seconds": self.max_lag_s,
            "replica_reads": self.replica_reads,
            "primary_reads": self.primary_reads,
            "fallbacks": self.fallbacks,
            "failures": self.failures,
            "last_error": self.last_error,
        }


def _is_connection_error(exc: DBAPIError) -> bool:
    # Lost connection (server stopped, reset) or a recovery conflict cancelling the replica's query.
    code = getattr(exc.orig, "pgcode", None)
    return bool(exc.connection_invalidated) or code is None or code.startswith(("08", "57", "40001"))
