"""What keeps checkouts and the order core in step after the request: callback handling (verify, apply,
then ask the order core to cancel what must not stay live) and a periodic sweep:

- coupon holds past their hold time are released (rows say 'available' again);
- attempts whose lease ran out (a worker died mid-call) are settled: the order adopted if the core has
  one for the key, otherwise the reservations released and the checkout marked failed;
- failed checkouts are checked against the order core for a while: an order that appeared late is
  cancelled there (every order ends up live once for its checkout, or cancelled);
- cancellations the order core has not confirmed yet are sent again.
Workers may sweep concurrently: every change is a conditional update under the checkout's row lock.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine

from checkout import repository as repo
from checkout.breaker import BreakerOpen, BreakerState
from checkout.callbacks import Applied, apply_event, parse_event, verify_signature
from checkout.client import OrderCoreClient, OrderCoreRejected, OrderCoreUnavailable
from checkout.service import ORDER_STATES, CheckoutConfig
from pricing import store
from timekeeping.clock import Clock, SystemClock

log = logging.getLogger(__name__)
T = TypeVar("T")
CORE_ERRORS = (OrderCoreUnavailable, OrderCoreRejected, BreakerOpen)


@dataclass
class SweepReport:
    holds_released: list[str] = field(default_factory=list)
    attempts_settled: int = 0
    late_orders_cancelled: int = 0
    cancellations_sent: int = 0


class Reconciler:
    def __init__(
        self,
        engine: Engine,
        client: OrderCoreClient,
        config: CheckoutConfig,
        secret: bytes,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.client = client
        self.config = config
        self.secret = secret
        self.clock = clock or SystemClock()

    async def _db(self, fn: Callable[[Connection], T]) -> T:
        def run() -> T:
            with self.engine.begin() as conn:
                return fn(conn)

        return await asyncio.to_thread(run)

    # ---- callbacks -----------------------------------------------------------------------------------------
    async def handle_event(self, signature: str | None, body: bytes, now: datetime) -> dict[str, Any]:
        verify_signature(self.secret, signature, body, now.timestamp())
        event = parse_event(body)
        applied: Applied = await self._db(lambda c: apply_event(c, event, now, self.config.hold_seconds))
        if applied.cancel is not None and applied.checkout_id is not None:
            await self._cancel(applied.checkout_id, event.order_id, applied.cancel)
        return {"event_id": event.event_id, "outcome": applied.outcome}

    async def _cancel(self, checkout_id: str, order_id: str, reason: str) -> bool:
        try:
            await self.client.cancel_order(order_id, reason[:200])
        except OrderCoreRejected as exc:  # e.g. already fueling: asking again would not help
            log.error("order core refused to cancel order %s: %s", order_id, exc)
            await self._db(lambda c: repo.set_state(c, checkout_id, self.clock.now(), cancel_reason=None))
            return False
        except CORE_ERRORS as exc:
            log.warning("cancel of order %s failed (%s); the sweeper retries", order_id, exc)
            return False
        await self._db(lambda c: repo.set_state(c, checkout_id, self.clock.now(), cancel_reason=None))
        return True

    # ---- the sweep -----------------------------------------------------------------------------------------
    async def sweep_once(self, now: datetime) -> SweepReport:
        report = SweepReport()
        report.holds_released = await self._db(lambda c: store.release_expired(c, now))
        await self._db(lambda c: repo.stop_reconciling(c, now))
        if self.client.breaker.state is BreakerState.OPEN:
            return report  # nothing below can reach the order core now
        for cid in await self._db(lambda c: repo.abandoned_attempts(c, now)):
            report.attempts_settled += await self._settle_abandoned(cid, now)
        for cid in await self._db(lambda c: repo.to_reconcile(c, now)):
            report.late_orders_cancelled += await self._reconcile(cid, now)
        for cid, order_id, reason in await self._db(repo.cancellations_due):
            report.cancellations_sent += await self._cancel(cid, order_id, reason)
        return report

    async def _settle_abandoned(self, checkout_id: str, now: datetime) -> int:
        try:
            order = await self.client.find_by_key(checkout_id)
        except CORE_ERRORS:
            return 0

        def settle(conn: Connection) -> int:
            row = repo.get(conn, checkout_id, lock=True)
            if row is None or row["state"] != "pending" or row["attempt_until"] >= now:
                return 0  # taken up again meanwhile
            if order is not None and order["state"] not in ("cancelled", "refunded"):
                repo.store_order(conn, checkout_id, ORDER_STATES[order["state"]], order, now)
                return 1
            store.release(conn, checkout_id)
            repo.unconsume_quote(conn, row["quote_id"], checkout_id)
            problem = {
                "status": 503,
                "type": "/problems/order-core-unavailable",
                "detail": "the attempt was abandoned; no order was placed",
            }
            until = now + timedelta(seconds=self.config.reconcile_seconds)
            repo.set_state(
                conn,
                checkout_id,
                now,
                state="failed",
                problem=problem,
                attempt_until=None,
                hold_until=None,
                reconcile_until=until,
            )
            return 1

        return await self._db(settle)

    async def _reconcile(self, checkout_id: str, now: datetime) -> int:
        try:
            order = await self.client.find_by_key(checkout_id)
        except CORE_ERRORS:
            return 0
        if order is None or order["state"] in ("cancelled", "refunded"):
            return 0
        reason = "checkout gave up on this order (the order core did not answer in time)"

        def mark(conn: Connection) -> bool:
            row = repo.get(conn, checkout_id, lock=True)
            if row is None or row["state"] != "failed":
                return False
            repo.set_state(
                conn,
                checkout_id,
                now,
                state="cancelled",
                order_id=order["order_id"],
                order_json=order,
                cancel_reason=reason,
                reconcile_until=None,
            )
            return True

        if not await self._db(mark):
            return 0
        await self._cancel(checkout_id, order["order_id"], reason)
        return 1

    async def run_forever(self, every: float) -> None:
        while True:
            await asyncio.sleep(every)
            try:
                report = await self.sweep_once(self.clock.now())
                if report.holds_released or report.attempts_settled or report.late_orders_cancelled:
                    log.info("checkout sweep: %s", report)
            except Exception:  # the next tick tries again
                log.exception("checkout sweep failed")
