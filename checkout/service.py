"""The checkout flow: a signed quote, a position and a nozzle become one order at the order core.

1. The same (driver, Idempotency-Key) with the same body answers the stored outcome (an order), with
   another body IdempotencyConflict; while another request with the key is talking to the order core
   the duplicate waits briefly for its outcome (then CheckoutInProgress).
2. The quote is verified (signature, expiry, this driver); the station is open now, the nozzle exists
   at the position, serves the quote's grade and is not offline.
3. One transaction: the checkout row (pending, leased), the quote consumed under ref = checkout id, the
   quote's coupons reserved under the same ref for `hold_seconds`, its points checked against what the
   driver's other live checkouts already promised.
4. Outside any transaction: the order core, with Idempotency-Key = checkout id (so a retry, now or with
   the same key later, finds the order instead of making a second one).
5. No answer: the order core is asked whether an order exists for the key; if none (or unreachable),
   the coupons are released, the quote given back and the checkout marked failed (OrderCoreDown, 503).
   The sweeper keeps asking for a while and cancels an order that appears late.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import math
import re
import time
import uuid
from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, TypeVar
from zoneinfo import ZoneInfo

import orjson
from sqlalchemy import Connection, Engine, RowMapping

from checkout import repository as repo
from checkout.breaker import BreakerOpen
from checkout.client import OrderCoreClient, OrderCoreRejected, OrderCoreUnavailable
from checkout.errors import (
    CheckoutCancelled,
    CheckoutInProgress,
    CheckoutNotFound,
    CouponNotAvailable,
    DriverRequired,
    IdempotencyConflict,
    InvalidIdempotencyKey,
    NozzleGradeMismatch,
    NozzleOffline,
    OpenOrderExists,
    OrderCoreConflict,
    OrderCoreDown,
    OrderCoreRefused,
    PointsUnavailable,
    QuoteNotForDriver,
    StationClosed,
    UnknownNozzle,
)
from geo.errors import StationNotFound
from geo.grades import normalize_grade
from geo.hours import OpeningHours
from occupancy.events import NozzleState
from pricing import quotes, store
from pricing.quotes import SigningKeys

T = TypeVar("T")
KEY_PATTERN = re.compile(r"^[A-Za-z0-9_.:-]{1,128}$")
FILL_KINDS = {"by_amount": "amount", "by_litres": "litres", "fill_up": "full"}
ORDER_STATES = {
    "created": "ordered",
    "paid": "paid",
    "fueling": "fueling",
    "completed": "completed",
    "cancelled": "cancelled",
    "refunded": "refunded",
}
# nozzle_state(station_id, position, nozzle, as_of epoch seconds) -> the live state, None when unknown
NozzleLookup = Callable[[int, int, int, float], NozzleState | None]


@dataclass(frozen=True)
class CheckoutRequest:
    driver_id: str | None
    idempotency_key: str | None
    quote_token: str
    position: int
    nozzle: int

    def sha256(self) -> str:
        body = {"quote_token": self.quote_token, "position": self.position, "nozzle": self.nozzle}
        return hashlib.sha256(orjson.dumps(body, option=orjson.OPT_SORT_KEYS)).hexdigest()


@dataclass(frozen=True)
class CheckoutResult:
    created: bool  # True: this request placed the order (201); False: the stored outcome (200)
    body: dict[str, Any]


@dataclass(frozen=True)
class CheckoutConfig:
    keys: SigningKeys
    hold_seconds: int = 1200  # coupon hold: longer than the order core's payment TTL (900 s)
    lease_seconds: float = 30.0  # an attempt longer than this is taken as abandoned
    reconcile_seconds: float = 1200.0  # how long the sweeper looks for a late order after a failure
    duplicate_wait_seconds: float = 5.0  # how long a concurrent duplicate waits for the first's outcome


def body_of(row: RowMapping) -> dict[str, Any]:
    """The checkout; the order's verification code and QR payload only once it is paid (and until it is
    redeemed and done): an unpaid order has nothing to show the attendant."""
    order = row["order_json"]
    if order is not None and row["state"] not in ("paid", "fueling"):
        order = {**order, "verification_code": None, "qr_payload": None}
    return {"checkout_id": row["id"], "state": row["state"], "quote_id": row["quote_id"], "order": order}


def order_request(payload: dict[str, Any], request: CheckoutRequest, driver_id: str) -> dict[str, Any]:
    """The CreateOrder body: everything from the signed quote, so a retry sends the very same body."""
    fill = payload["fill"]
    value = fill.get("amount") if fill["mode"] == "by_amount" else fill.get("litres")
    return {
        "quote_id": payload["quote_id"],
        "quote_token": request.quote_token,
        "station_id": payload["station_id"],
        "position": request.position,
        "nozzle": request.nozzle,
        "grade": payload["grade"],
        "fill": {"kind": FILL_KINDS[fill["mode"]], "value": value},
        "litres": payload["litres"],
        "list_amount": payload["gross"],
        "payable": payload["payable"],
        "currency": payload["currency"],
        "coupons": list(payload["coupon_ids"]),
        "points_used": int(payload["points_used"]),
        "driver_id": driver_id,
    }


class CheckoutService:
    def __init__(
        self,
        engine: Engine,
        client: OrderCoreClient,
        config: CheckoutConfig,
        nozzle_state: NozzleLookup | None = None,
    ) -> None:
        self.engine = engine
        self.client = client
        self.config = config
        self.nozzle_state = nozzle_state

    async def _db(self, fn: Callable[[Connection], T], *, write: bool = True) -> T:
        def run() -> T:
            with self.engine.begin() if write else self.engine.connect() as conn:
                return fn(conn)

        return await asyncio.to_thread(run)

    # ---- the request -------------------------------------------------------------------------------------
    async def checkout(self, request: CheckoutRequest, now: datetime) -> CheckoutResult:
        driver_id, key = request.driver_id, request.idempotency_key
        if not driver_id:
            raise DriverRequired("checkout needs the signed-in driver (Authorization: Bearer <driver token>)")
        if key is None or not KEY_PATTERN.match(key):
            raise InvalidIdempotencyKey(
                "Idempotency-Key is required: 1-128 characters of A-Z a-z 0-9 _ . : -"
            )
        sha = request.sha256()
        deadline = time.monotonic() + self.config.duplicate_wait_seconds
        while True:
            row: RowMapping | None = await self._db(lambda c: repo.find(c, driver_id, key), write=False)
            if row is not None:
                stored = self._stored_outcome(row, sha, now)
                if stored is not None:
                    return stored
                if (
                    row["state"] == "pending"
                    and row["attempt_until"] is not None
                    and row["attempt_until"] >= now
                ):
                    if time.monotonic() > deadline:
                        raise CheckoutInProgress(f"checkout {row['id']} with this key is still being placed")
                    await asyncio.sleep(0.1)
                    continue
            payload = await self._validate(request, driver_id, now)
            checkout_id = row["id"] if row is not None else "chk_" + uuid.uuid4().hex
            reserve = functools.partial(
                self._reserve,
                checkout_id=checkout_id,
                new=row is None,
                request=request,
                payload=payload,
                sha=sha,
                now=now,
            )
            if await self._db(reserve):
                return await self._place(checkout_id, order_request(payload, request, driver_id), now)
            await asyncio.sleep(0.05)  # a concurrent duplicate got there first: wait for its outcome

    def _stored_outcome(self, row: RowMapping, sha: str, now: datetime) -> CheckoutResult | None:
        if row["request_sha256"] != sha:
            raise IdempotencyConflict(
                f"Idempotency-Key {row['idempotency_key']!r} was used for another checkout request"
            )
        if row["state"] in repo.LIVE_STATES:
            return CheckoutResult(False, body_of(row))
        if row["state"] == "cancelled":
            raise CheckoutCancelled(
                f"the order of checkout {row['id']} was cancelled ({row['cancel_reason'] or 'cancelled'}); "
                "ask for a new quote and check out with a new Idempotency-Key"
            )
        return None

    async def _validate(self, request: CheckoutRequest, driver_id: str, now: datetime) -> dict[str, Any]:
        payload = quotes.verify(self.config.keys, request.quote_token, now)
        if payload.get("driver_id") != driver_id:
            raise QuoteNotForDriver(
                f"quote {payload['quote_id']} was issued "
                + ("without a driver" if payload.get("driver_id") is None else "to another driver")
                + "; ask for a quote signed in as yourself"
            )
        station_id = int(payload["station_id"])
        found = await self._db(
            lambda c: repo.station_and_nozzle(c, station_id, request.position, request.nozzle), write=False
        )
        if found is None:
            raise StationNotFound(station_id)
        if found["status"] != "open":
            raise StationClosed(f"station {station_id} is {found['status'].replace('_', ' ')}")
        if found["opening_hours"] is not None:
            local = now.astimezone(ZoneInfo(found["timezone"]))
            if not OpeningHours.from_json(found["opening_hours"]).is_open(local):
                raise StationClosed(f"station {station_id} is closed now ({local:%a %H:%M} local time)")
        where = f"station {station_id} position {request.position} nozzle {request.nozzle}"
        if found["position_id"] is None:
            raise UnknownNozzle(f"station {station_id} has no fueling position {request.position}")
        if found["grade"] is None:
            raise UnknownNozzle(f"{where} does not exist")
        if normalize_grade(found["grade"]) != payload["grade"]:
            raise NozzleGradeMismatch(f"{where} serves {found['grade']}, the quote is for {payload['grade']}")
        if self.nozzle_state is not None:
            state = self.nozzle_state(station_id, request.position, request.nozzle, now.timestamp())
            if state is NozzleState.OFFLINE:
                raise NozzleOffline(f"{where} is offline; choose another nozzle")
        return payload

    def _reserve(
        self,
        conn: Connection,
        checkout_id: str,
        new: bool,
        request: CheckoutRequest,
        payload: dict[str, Any],
        sha: str,
        now: datetime,
    ) -> bool:
        """Take the checkout for this attempt and reserve what it spends, all or nothing. False when a
        concurrent request with the same key holds it."""
        assert request.driver_id is not None and request.idempotency_key is not None
        lease = now + timedelta(seconds=self.config.lease_seconds)
        store.ensure_driver(conn, request.driver_id)  # a new driver's first order
        if new:
            row = {
                "id": checkout_id,
                "driver_id": request.driver_id,
                "idempotency_key": request.idempotency_key,
                "request_sha256": sha,
                "quote_id": payload["quote_id"],
                "station_id": int(payload["station_id"]),
                "position": request.position,
                "nozzle": request.nozzle,
                "grade": payload["grade"],
                "payable": payload["payable"],
                "currency": payload["currency"],
                "points_used": int(payload["points_used"]),
                "state": "pending",
                "attempt_until": lease,
                "created_at": now,
            }
            if not repo.insert(conn, row):
                return False
        elif not repo.claim_retry(conn, checkout_id, now, lease):
            return False
        quotes.consume(conn, self.config.keys, request.quote_token, checkout_id, now)
        coupons = list(payload["coupon_ids"])
        hold_until = now + timedelta(seconds=self.config.hold_seconds)
        if coupons:
            try:
                store.reserve(conn, request.driver_id, coupons, checkout_id, self.config.hold_seconds, now)
            except store.CouponsUnavailable as exc:
                raise _coupon_problem(exc) from None
        points = int(payload["points_used"])
        if points:
            free = repo.points_free(conn, request.driver_id, checkout_id, now)
            if free is None or free < points:
                raise PointsUnavailable(
                    f"the quote uses {points} points; {max(free or 0, 0)} are free (the rest are promised to "
                    "your other checkouts or spent)"
                )
        # Last, under the driver's row lock (taken by the coupon hold, else here): so a race of one driver's
        # checkouts is decided by what they spend first, and two open orders at one nozzle never both pass.
        station_id = int(payload["station_id"])
        at = (station_id, request.position, request.nozzle)
        other = repo.open_order_at(conn, request.driver_id, checkout_id, at, now)
        if other is not None:
            raise OpenOrderExists(
                f"you already have an open order ({other}) at station {station_id} position "
                f"{request.position} nozzle {request.nozzle}: pay for it or cancel it first"
            )
        repo.hold(conn, checkout_id, hold_until)
        return True

    async def _place(self, checkout_id: str, body: dict[str, Any], now: datetime) -> CheckoutResult:
        try:
            order = await self.client.create_order(checkout_id, body)
        except OrderCoreRejected as exc:
            problem = {"status": exc.status, "upstream": exc.problem, "detail": str(exc)}
            await self._db(lambda c: self._give_up(c, checkout_id, problem, now, reconcile=False))
            detail = f"{exc}; no order was placed and no coupon was spent"
            raise (OrderCoreConflict if exc.status == 409 else OrderCoreRefused)(
                detail, exc.problem
            ) from None
        except (OrderCoreUnavailable, BreakerOpen) as exc:
            late = await self._find_late_order(checkout_id, exc)
            if late is None:
                return await self._unavailable(checkout_id, exc, now)
            order = late
        return await self._db(lambda c: self._adopt(c, checkout_id, order, now))

    async def _find_late_order(self, checkout_id: str, exc: Exception) -> dict[str, Any] | None:
        if isinstance(exc, BreakerOpen):
            return None  # not calling it at all: nothing was sent under this attempt
        try:
            return await self.client.find_by_key(checkout_id)
        except (OrderCoreUnavailable, BreakerOpen, OrderCoreRejected):
            return None

    async def _unavailable(
        self, checkout_id: str, exc: OrderCoreUnavailable | BreakerOpen, now: datetime
    ) -> CheckoutResult:
        # Whole seconds, rounded up: never before this worker's breaker lets a call through again.
        retry_after = max(1, math.ceil(exc.retry_after))
        if isinstance(exc, BreakerOpen):
            attempts, breaker_open, what = (
                0,
                True,
                f"{exc} (this worker's circuit breaker is open: no attempt made)",
            )
        else:
            attempts, breaker_open, what = exc.attempts, exc.breaker_open, str(exc)
        detail = (
            f"{what}. No order was placed and no coupon was spent; the quote stays usable: "
            f"retry with the same Idempotency-Key in {retry_after} s"
        )
        problem = {
            "status": 503,
            "type": "/problems/order-core-unavailable",
            "detail": detail,
            "attempts": attempts,
            "breaker": "open" if breaker_open else "closed",
        }
        adopted = await self._db(lambda c: self._give_up(c, checkout_id, problem, now, reconcile=True))
        if adopted is not None:  # a callback announced the order meanwhile
            return await self._db(lambda c: self._adopt(c, checkout_id, adopted, now))
        raise OrderCoreDown(detail, retry_after, attempts, breaker_open)

    def _give_up(
        self, conn: Connection, checkout_id: str, problem: dict[str, Any], now: datetime, *, reconcile: bool
    ) -> dict[str, Any] | None:
        """Release what the attempt reserved and mark it failed; the order instead, when a callback
        already announced one."""
        row = repo.get(conn, checkout_id, lock=True)
        assert row is not None
        if row["order_json"] is not None:
            return dict(row["order_json"])
        if row["state"] != "pending":
            return None
        store.release(conn, checkout_id)
        repo.unconsume_quote(conn, row["quote_id"], checkout_id)
        until = now + timedelta(seconds=self.config.reconcile_seconds) if reconcile else None
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
        return None

    def _adopt(
        self, conn: Connection, checkout_id: str, order: dict[str, Any], now: datetime
    ) -> CheckoutResult:
        """Store the order the core answered with (this attempt's, or one made earlier under the key)."""
        row = repo.get(conn, checkout_id, lock=True)
        assert row is not None
        if order["state"] in ("cancelled", "refunded"):
            store.release(conn, checkout_id)
            repo.set_state(
                conn,
                checkout_id,
                now,
                state=order["state"],
                order_id=order["order_id"],
                order_json=order,
                attempt_until=None,
                cancel_reason=order.get("cancel_reason"),
            )
            raise CheckoutCancelled(
                f"order {order['order_id']} for this key is {order['state']} ({order.get('cancel_reason')}); "
                "ask for a new quote and check out with a new Idempotency-Key"
            )
        if row["state"] == "cancelled":
            raise CheckoutCancelled(f"checkout {checkout_id} was cancelled ({row['cancel_reason']})")
        if row["state"] in ("pending", "failed"):
            repo.store_order(conn, checkout_id, ORDER_STATES[order["state"]], order, now)
        fresh = repo.get(conn, checkout_id)
        assert fresh is not None
        return CheckoutResult(True, body_of(fresh))

    async def get(self, driver_id: str | None, checkout_id: str) -> dict[str, Any]:
        if not driver_id:
            raise DriverRequired("checkout needs the signed-in driver (Authorization: Bearer <driver token>)")
        row = await self._db(lambda c: repo.get(c, checkout_id), write=False)
        if row is None or row["driver_id"] != driver_id:
            raise CheckoutNotFound(f"checkout {checkout_id} not found")
        return {**body_of(row), "problem": row["problem"]}


def _coupon_problem(exc: store.CouponsUnavailable) -> CouponNotAvailable:
    why = {
        "reserved": "is held by another checkout",
        "used": "was already used",
        "expired": "has expired",
        "unknown": "is not one of your coupons",
    }
    parts = [f"coupon {cid} {why.get(state, state)}" for cid, state in exc.coupons.items()]
    detail = "; ".join(parts) if parts else str(exc)
    return CouponNotAvailable(f"{detail}: ask for a new quote (it will price without it)", exc.coupons)
