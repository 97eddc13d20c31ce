"""Delivering webhooks: signed POSTs, in order per station, retried with exponential backoff, the
subscription disabled after `max_failures` consecutive failed attempts.

Each round takes the head of every (subscription, station) queue (the pending delivery of least
(seq, change id)) that is due; a later delivery of that station waits until the head is delivered, so a
station's events arrive in commit order. Attempts of one round run concurrently (distinct stations), their
outcomes are stored afterwards. Time comes from the caller (`now`): tests drive rounds with a manual clock.
"""

from __future__ import annotations

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import orjson
from sqlalchemy import Engine, text

from partners.signing import ATTEMPT_HEADER, EVENT_HEADER, SIGNATURE_HEADER, TIMESTAMP_HEADER, signature

_DUE = text(
    """
    SELECT h.id, h.subscription_id, h.event_id, h.payload::text, h.attempts, s.url, s.secret
    FROM (
        SELECT DISTINCT ON (d.subscription_id, d.station_id) d.*
        FROM webhook_deliveries AS d
        WHERE d.state = 'pending'
        ORDER BY d.subscription_id, d.station_id, d.seq, d.change_id
    ) AS h
    JOIN webhook_subscriptions AS s ON s.id = h.subscription_id AND s.active
    WHERE h.next_attempt_at <= :now
    ORDER BY h.next_attempt_at, h.id
    LIMIT :n
    """
)
_DELIVERED = text(
    "UPDATE webhook_deliveries SET state = 'delivered', attempts = attempts + 1, last_status = :status, "
    "last_error = NULL, delivered_at = :now WHERE id = :id"
)
_FAILED = text(
    "UPDATE webhook_deliveries SET attempts = attempts + 1, last_status = :status, last_error = :error, "
    "next_attempt_at = :next WHERE id = :id"
)
_SUB_OK = text("UPDATE webhook_subscriptions SET consecutive_failures = 0 WHERE id = :id")
_SUB_FAILED = text(
    """
    UPDATE webhook_subscriptions SET consecutive_failures = consecutive_failures + 1,
           active = active AND consecutive_failures + 1 < :max_failures,
           disabled_at = CASE WHEN active AND consecutive_failures + 1 >= :max_failures THEN :now
                              ELSE disabled_at END
    WHERE id = :id
    RETURNING active
    """
)


@dataclass(frozen=True)
class Policy:
    base_backoff_s: float = 5.0  # the wait after the first failure; doubled after each further one
    max_backoff_s: float = 3600.0
    max_failures: int = 8  # consecutive failed attempts (any station) that disable a subscription
    timeout_s: float = 10.0
    batch: int = 100
    concurrency: int = 8


@dataclass
class Round:
    attempted: int = 0
    delivered: int = 0
    failed: int = 0
    disabled: int = 0  # subscriptions disabled this round


@dataclass(frozen=True)
class _Attempt:
    id: int
    subscription_id: int
    status: int | None
    error: str | None


def backoff(policy: Policy, attempts: int) -> timedelta:
    """The wait after the `attempts`-th failed attempt (1, 2, ...): base * 2^(attempts-1), capped."""
    return timedelta(seconds=min(policy.max_backoff_s, policy.base_backoff_s * 2 ** (attempts - 1)))


def _post(client: httpx.Client, row: Any, now: datetime) -> _Attempt:
    body = row.payload.encode()
    timestamp = int(now.timestamp())
    headers = {
        "Content-Type": "application/json",
        TIMESTAMP_HEADER: str(timestamp),
        SIGNATURE_HEADER: signature(row.secret, timestamp, body),
        EVENT_HEADER: row.event_id,
        ATTEMPT_HEADER: str(row.attempts + 1),
    }
    try:
        response = client.post(row.url, content=body, headers=headers)
    except httpx.HTTPError as exc:
        return _Attempt(row.id, row.subscription_id, None, f"{type(exc).__name__}: {exc}"[:500])
    ok = 200 <= response.status_code < 300
    return _Attempt(row.id, row.subscription_id, response.status_code, None if ok else response.text[:500])


def deliver_round(
    engine: Engine,
    now: datetime,
    policy: Policy = Policy(),
    client: httpx.Client | None = None,
    progress: Callable[[Round], object] | None = None,
) -> Round:
    """Attempt every due head-of-queue delivery once (up to policy.batch) and store the outcomes."""
    done = Round()
    with engine.connect() as conn:
        due = list(conn.execute(_DUE, {"now": now, "n": policy.batch}))
    if not due:
        return done
    own = client is None
    http = client or httpx.Client(timeout=policy.timeout_s, follow_redirects=False)
    try:
        with ThreadPoolExecutor(max_workers=min(policy.concurrency, len(due))) as pool:
            attempts = list(pool.map(lambda row: _post(http, row, now), due))
    finally:
        if own:
            http.close()
    disabled: set[int] = set()  # every subscription of `due` was active when the round began
    with engine.begin() as conn:
        for a in attempts:
            done.attempted += 1
            if a.status is not None and 200 <= a.status < 300:
                done.delivered += 1
                conn.execute(_DELIVERED, {"status": a.status, "now": now, "id": a.id})
                conn.execute(_SUB_OK, {"id": a.subscription_id})
                continue
            done.failed += 1
            attempts_so_far = next(r.attempts for r in due if r.id == a.id) + 1
            conn.execute(
                _FAILED,
                {
                    "status": a.status,
                    "error": a.error or f"HTTP {a.status}",
                    "next": now + backoff(policy, attempts_so_far),
                    "id": a.id,
                },
            )
            still_active = conn.execute(
                _SUB_FAILED, {"id": a.subscription_id, "max_failures": policy.max_failures, "now": now}
            ).scalar()
            if not still_active:
                disabled.add(a.subscription_id)
    done.disabled = len(disabled)
    if progress is not None:
        progress(done)
    return done


def payload_of(raw: bytes) -> dict[str, Any]:
    """A delivery's body as the receiver reads it."""
    parsed: dict[str, Any] = orjson.loads(raw)
    return parsed
