"""Pruning what exactly-once delivery no longer needs: the order core's delivered outbox events, the order-
core callbacks this service has applied (`ordercore_events`) and old position claims. Batched DELETEs, each
batch its own transaction.

What must stay, and why the bounds hold:
- `ordercore.outbox`: an undelivered event is never deleted (`delivered_at IS NULL`): the sender retries it
  until it gets a 2xx, in order per order, and only undelivered rows take part in that order. A delivered
  row serves nothing but inspection (event ids are random, never reused): kept `outbox_retention`. Only when
  the reference order core's schema is in this database (bin/run); a real order core prunes its own.
- `ordercore_events`: the callback dedup. Our row commits in the transaction that applies the event and
  answers 2xx; the order core sends an event again only if it never saw that 2xx (lost answer: after its
  lease of callback timeout + 5 s, then with backoff) and keeps doing so while it cannot reach us. A replay
  of an old request is refused by the signature's 300 s tolerance (checkout/callbacks.py). So a row is
  needed for as long as the order core may still be retrying: a row is pruned only when it is older than
  `events_retention` (default 30 days, far beyond any retry) AND its order's checkout is in a final state
  (completed, cancelled, refunded), so that even a very late redelivery cannot move a live checkout. A
  checkout's own Idempotency-Key (the `checkouts` row) and its quote are never pruned here.
- `position_claims`: a paid order's hold on its position lasts until the pump's next event there; the book
  loads `occupancy_history_days` of them. Older than the occupancy retention, they only repeat history.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from sqlalchemy import Engine, TextClause, text

FINAL_CHECKOUT_STATES = ("completed", "cancelled", "refunded")

_HAS_ORDERCORE = text("SELECT to_regclass('ordercore.outbox') IS NOT NULL")
_OUTBOX = text(
    """
    DELETE FROM ordercore.outbox WHERE id IN (
        SELECT id FROM ordercore.outbox
        WHERE delivered_at IS NOT NULL AND delivered_at < :cutoff ORDER BY id LIMIT :n
    )
    """
)
_EVENTS = text(
    """
    DELETE FROM ordercore_events WHERE event_id IN (
        SELECT e.event_id FROM ordercore_events e
        WHERE e.received_at < :cutoff
          AND NOT EXISTS (
              SELECT 1 FROM checkouts c
              WHERE c.order_id = e.order_id AND c.state <> ALL(CAST(:final AS text[]))
          )
        LIMIT :n
    )
    """
)
_CLAIMS = text(
    "DELETE FROM position_claims WHERE id IN "
    "(SELECT id FROM position_claims WHERE ts < :cutoff ORDER BY ts LIMIT :n)"
)


def _batched(engine: Engine, statement: TextClause, params: dict[str, Any], batch: int) -> int:
    if batch < 1:
        raise ValueError("batch must be at least 1")
    total = 0
    while True:
        with engine.begin() as conn:
            deleted = int(conn.execute(statement, {**params, "n": batch}).rowcount)
        total += deleted
        if deleted < batch:
            return total


def prune_ordercore_outbox(
    engine: Engine, now: datetime, keep: timedelta, *, batch: int = 5000
) -> int | None:
    """Delete delivered outbox events older than `keep`; None when this database has no order core."""
    with engine.connect() as conn:
        if not conn.execute(_HAS_ORDERCORE).scalar_one():
            return None
    return _batched(engine, _OUTBOX, {"cutoff": now - keep}, batch)


def prune_ordercore_events(engine: Engine, now: datetime, keep: timedelta, *, batch: int = 5000) -> int:
    """Delete applied order-core callbacks older than `keep` whose checkout is final (or unknown)."""
    return _batched(engine, _EVENTS, {"cutoff": now - keep, "final": list(FINAL_CHECKOUT_STATES)}, batch)


def prune_position_claims(engine: Engine, now: datetime, keep: timedelta, *, batch: int = 5000) -> int:
    """Delete position claims whose ts is older than `keep`."""
    return _batched(engine, _CLAIMS, {"cutoff": now - keep}, batch)
