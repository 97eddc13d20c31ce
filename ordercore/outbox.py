"""Delivery of callback events from the outbox: signed POSTs, retried with exponential backoff until a 2xx,
in order per order (an order's next event waits for the previous one). Runs beside request handling: the
database work goes to threads, the HTTP calls are async.

Each event is addressed to the callback URL of the order core that created its order; a sender delivers
the events addressed to its own callback URL.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine, text

from ordercore import signing
from timekeeping.clock import Clock, SystemClock

log = logging.getLogger(__name__)

# Heads of each order's undelivered events for this sender's URL that are due, leased for `lease` seconds
# so that a second sender (another process) does not send them at the same time.
_CLAIM = text(
    """
    WITH heads AS (
        SELECT DISTINCT ON (order_id) id, next_attempt_at
        FROM ordercore.outbox WHERE delivered_at IS NULL AND target_url = :url
        ORDER BY order_id, id
    ), due AS (
        SELECT id FROM heads WHERE next_attempt_at <= now() ORDER BY id LIMIT :limit
    )
    UPDATE ordercore.outbox o SET next_attempt_at = now() + make_interval(secs => :lease)
    FROM due WHERE o.id = due.id AND o.next_attempt_at <= now()
    RETURNING o.id, o.event_id, o.body, o.attempts
    """
)
_DELIVERED = text(
    "UPDATE ordercore.outbox SET delivered_at = now(), attempts = attempts + 1, last_error = NULL "
    "WHERE id = :id"
)
_FAILED = text(
    """
    UPDATE ordercore.outbox
    SET attempts = attempts + 1, last_error = :error, next_attempt_at = now() + make_interval(secs => :delay)
    WHERE id = :id
    """
)


@dataclass(frozen=True)
class Pending:
    id: int
    event_id: str
    body: bytes
    attempts: int


@dataclass(frozen=True)
class Outcome:
    pending: Pending
    error: str | None  # None: delivered


def backoff_seconds(attempts: int, base: float, cap: float) -> float:
    """Delay before the next try after `attempts` failed ones: base, 2·base, 4·base … capped."""
    return float(min(cap, base * 2 ** max(0, attempts - 1)))


class OutboxSender:
    def __init__(
        self,
        engine: Engine,
        *,
        url: str,
        secret: bytes,
        timeout: float,
        backoff_base: float,
        backoff_cap: float,
        batch: int = 50,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()  # the signature's time (receivers refuse stale ones)
        self.url = url
        self.secret = secret
        self.timeout = timeout
        self.backoff_base = backoff_base
        self.backoff_cap = backoff_cap
        self.batch = batch

    def claim(self) -> list[Pending]:
        lease = self.timeout + 5
        with self.engine.begin() as conn:
            rows = conn.execute(_CLAIM, {"limit": self.batch, "lease": lease, "url": self.url}).all()
        return [Pending(r.id, r.event_id, orjson.dumps(r.body), r.attempts) for r in rows]

    def record(self, outcomes: Sequence[Outcome]) -> None:
        with self.engine.begin() as conn:
            for o in outcomes:
                if o.error is None:
                    conn.execute(_DELIVERED, {"id": o.pending.id})
                else:
                    delay = backoff_seconds(o.pending.attempts + 1, self.backoff_base, self.backoff_cap)
                    conn.execute(_FAILED, {"id": o.pending.id, "error": o.error[:500], "delay": delay})

    async def _send(self, client: httpx.AsyncClient, pending: Pending) -> Outcome:
        headers = {
            "Content-Type": "application/json",
            signing.HEADER: signing.sign(self.secret, pending.body, int(self.clock.now().timestamp())),
        }
        try:
            response = await client.post(
                self.url, content=pending.body, headers=headers, timeout=self.timeout
            )
        except httpx.HTTPError as exc:
            return Outcome(pending, f"{type(exc).__name__}: {exc}")
        if 200 <= response.status_code < 300:
            return Outcome(pending, None)
        return Outcome(pending, f"HTTP {response.status_code}: {response.text[:200]}")

    async def deliver_once(self, client: httpx.AsyncClient) -> int:
        """Send every due head event once; the number delivered."""
        pending = await asyncio.to_thread(self.claim)
        if not pending:
            return 0
        outcomes = await asyncio.gather(*(self._send(client, p) for p in pending))
        await asyncio.to_thread(self.record, outcomes)
        for o in outcomes:
            if o.error is not None:
                log.warning(
                    "callback %s not delivered (attempt %d): %s",
                    o.pending.event_id,
                    o.pending.attempts + 1,
                    o.error,
                )
        return sum(o.error is None for o in outcomes)

    async def run_forever(self, poll_seconds: float) -> None:
        async with httpx.AsyncClient() as client:
            while True:
                try:
                    delivered = await self.deliver_once(client)
                except Exception:  # the database may be away for a while: keep trying
                    log.exception("outbox delivery failed")
                    delivered = 0
                if delivered == 0:
                    await asyncio.sleep(poll_seconds)


def pending_count(engine: Engine) -> int:
    with engine.connect() as conn:
        count: Any = conn.execute(
            text("SELECT count(*) FROM ordercore.outbox WHERE delivered_at IS NULL")
        ).scalar()
        return int(count)
