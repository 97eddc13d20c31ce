"""One upkeep round, run by one process at a time: a session-level PostgreSQL advisory lock (on its own
connection, held for the round) decides, so two workers or two nodes never both run it; the others skip
the round. Steps: day partitions of each partitioned table (create ahead, move DEFAULT rows, drop past the
retention), prune the order core's delivered outbox, the applied order-core callbacks, old position claims
and the change log (`changelog.retention.prune`). Each step is logged with its counts; a failing step is
logged and the next step runs (it is tried again next round). Time is the caller's `now`."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, text

from changelog.retention import prune as prune_change_log
from db.partitions import PARTITIONED
from timekeeping.clock import Clock
from upkeep import outboxes, partitions

log = logging.getLogger(__name__)

# pg_try_advisory_lock(int4, int4) keys live apart from the one-bigint keys (the ingest's per-station
# locks): (12, 3) = issue 12 part 3.
LOCK_KEYS = {"a": 12, "b": 3}
_TRY_LOCK = text("SELECT pg_try_advisory_lock(:a, :b)")
_UNLOCK = text("SELECT pg_advisory_unlock(:a, :b)")


@dataclass(frozen=True)
class UpkeepPolicy:
    """How far ahead and how long back; every retention is measured from the round's `now`."""

    occupancy_retention: timedelta = timedelta(days=15)  # the estimator learns from 14 days
    partitions_ahead_days: int = 3
    outbox_retention: timedelta = timedelta(days=7)
    ordercore_events_retention: timedelta = timedelta(days=30)
    change_log_retention: timedelta = timedelta(days=7)
    lock_timeout_ms: int = 5000
    batch: int = 5000


@dataclass
class StepResult:
    name: str
    counts: dict[str, Any] = field(default_factory=dict)
    error: str | None = None
    seconds: float = 0.0


@dataclass
class RoundReport:
    ran: bool  # False: another process held the upkeep lock
    steps: list[StepResult] = field(default_factory=list)

    @property
    def failed(self) -> list[str]:
        return [s.name for s in self.steps if s.error is not None]


def _steps(
    engine: Engine, policy: UpkeepPolicy, now: datetime
) -> list[tuple[str, Callable[[], dict[str, Any]]]]:
    def partition_step(table: str) -> Callable[[], dict[str, Any]]:
        def run() -> dict[str, Any]:
            changes = partitions.maintain(
                engine,
                table,
                now,
                retention=policy.occupancy_retention,
                ahead_days=policy.partitions_ahead_days,
                lock_timeout_ms=policy.lock_timeout_ms,
            )
            return {
                "created": changes.created,
                "dropped": changes.dropped,
                "moved_rows": changes.moved_rows,
                "expired_default_rows": changes.expired_default_rows,
            }

        return run

    def outbox() -> dict[str, Any]:
        deleted = outboxes.prune_ordercore_outbox(engine, now, policy.outbox_retention, batch=policy.batch)
        return {"deleted": deleted} if deleted is not None else {"skipped": "no ordercore schema here"}

    def events() -> dict[str, Any]:
        return {
            "deleted": outboxes.prune_ordercore_events(
                engine, now, policy.ordercore_events_retention, batch=policy.batch
            )
        }

    def claims() -> dict[str, Any]:
        return {
            "deleted": outboxes.prune_position_claims(
                engine, now, policy.occupancy_retention, batch=policy.batch
            )
        }

    def change_log() -> dict[str, Any]:
        done = prune_change_log(engine, policy.change_log_retention, now)
        return {
            "transactions": done.transactions,
            "changes": done.changes,
            "pruned_through": done.pruned_through,
        }

    steps = [(f"partitions {table}", partition_step(table)) for table in PARTITIONED]
    steps += [
        ("ordercore outbox", outbox),
        ("ordercore events", events),
        ("position claims", claims),
        ("change log", change_log),
    ]
    return steps


def run_round(
    engine: Engine,
    policy: UpkeepPolicy,
    now: datetime,
    *,
    on_step: Callable[[StepResult], object] | None = None,
) -> RoundReport:
    """One round if no other process is running one (else `ran` is False and nothing is done)."""
    with engine.connect() as lock_conn:
        got = bool(lock_conn.execute(_TRY_LOCK, LOCK_KEYS).scalar_one())
        lock_conn.commit()
        if not got:
            log.debug("upkeep: another process holds the upkeep lock; skipping this round")
            return RoundReport(ran=False)
        try:
            report = RoundReport(ran=True)
            for name, step in _steps(engine, policy, now):
                result = StepResult(name)
                started = time.perf_counter()
                try:
                    result.counts = step()
                except Exception as exc:  # logged, tried again next round; the other steps still run
                    result.error = f"{type(exc).__name__}: {exc}".splitlines()[0][:300]
                    log.exception("upkeep: %s failed", name)
                else:
                    log.info("upkeep: %s: %s", name, result.counts)
                result.seconds = time.perf_counter() - started
                report.steps.append(result)
                if on_step is not None:
                    on_step(result)
            return report
        finally:
            lock_conn.execute(_UNLOCK, LOCK_KEYS)
            lock_conn.commit()


async def run_forever(engine: Engine, policy: UpkeepPolicy, clock: Clock, every_seconds: float) -> None:
    """A round now and then every `every_seconds` (real time) until cancelled; nothing it meets stops it."""
    while True:
        try:
            await asyncio.to_thread(run_round, engine, policy, clock.now())
        except Exception:  # the database may be away for a while: the next round tries again
            log.exception("upkeep round failed")
        await asyncio.sleep(every_seconds)
