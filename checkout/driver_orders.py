"""The driver's own orders, through our API: list (newest first, with a cursor), detail, payment
(wx.requestPayment parameters from the order core), cancel and the invoice request.

Our view is the checkout row and the order the order core last told us about (its callbacks keep it
current; the invoice request, which changes no state and sends no callback, stores the order it reads
back). The verification code and its QR payload are shown only while the order is paid or fueling: an
unpaid order has nothing to redeem, a finished one nothing left to redeem."""

from __future__ import annotations

import asyncio
import base64
import re
from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

import orjson
from sqlalchemy import Connection, Engine, RowMapping

from checkout import repository as repo
from checkout.client import OrderCoreClient, OrderCoreRejected, OrderCoreUnavailable
from checkout.errors import (
    CheckoutNotFound,
    InvoiceNotYet,
    OrderCoreConflict,
    OrderCoreDown,
    OrderCoreRefused,
    OrderNotCancellable,
    OrderNotPayable,
)

T = TypeVar("T")
CHECKOUT_ID = re.compile(r"^chk_[0-9a-f]{1,60}$")
CODE_STATES = frozenset({"paid", "fueling"})
CANCELLABLE = frozenset({"ordered", "paid"})
MAX_PAGE = 50


class InvalidOrderCursor(ValueError):
    """A cursor this service did not issue."""


@dataclass(frozen=True)
class OrderPage:
    items: list[dict[str, Any]]
    next_cursor: str | None


def order_view(row: RowMapping) -> dict[str, Any]:
    """The driver's view of one checkout and its order."""
    order: dict[str, Any] = dict(row["order_json"] or {})
    show_code = row["state"] in CODE_STATES
    return {
        "checkout_id": row["id"],
        "order_id": row["order_id"],
        "state": row["state"],
        "station_id": row["station_id"],
        "position": row["position"],
        "nozzle": row["nozzle"],
        "grade": row["grade"],
        "payable": format(row["payable"], ".2f"),
        "currency": row["currency"],
        "coupons": list(order.get("coupons") or []),
        "points_used": int(row["points_used"]),
        "verification_code": order.get("verification_code") if show_code else None,
        "qr_payload": order.get("qr_payload") if show_code else None,
        "paid_at": (order.get("payment") or {}).get("paid_at"),
        "cancel_reason": order.get("cancel_reason") or row["cancel_reason"],
        "invoice_request": order.get("invoice_request"),
        "created_at": row["created_at"].isoformat(),
    }


def _cursor(row: RowMapping) -> str:
    raw = orjson.dumps([row["created_at"].isoformat(), row["id"]])
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_order_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        created, checkout_id = orjson.loads(base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)))
        at = datetime.fromisoformat(created)
        if at.utcoffset() is None or not isinstance(checkout_id, str) or not CHECKOUT_ID.match(checkout_id):
            raise ValueError("not a cursor")
        return at, checkout_id
    except (ValueError, TypeError):
        raise InvalidOrderCursor("cursor is not one this service issued") from None


class DriverOrders:
    def __init__(self, engine: Engine, client: OrderCoreClient) -> None:
        self.engine = engine
        self.client = client

    async def _db(self, fn: Callable[[Connection], T], *, write: bool = False) -> T:
        def run() -> T:
            with self.engine.begin() if write else self.engine.connect() as conn:
                return fn(conn)

        return await asyncio.to_thread(run)

    async def page(self, driver_id: str, limit: int, cursor: str | None) -> OrderPage:
        after = decode_order_cursor(cursor) if cursor else None
        rows = await self._db(lambda c: repo.driver_orders(c, driver_id, limit + 1, after))
        more = len(rows) > limit
        rows = rows[:limit]
        return OrderPage([order_view(r) for r in rows], _cursor(rows[-1]) if more and rows else None)

    async def _own(self, driver_id: str, checkout_id: str) -> RowMapping:
        row = await self._db(lambda c: repo.get(c, checkout_id))
        if row is None or row["driver_id"] != driver_id or row["order_id"] is None:
            raise CheckoutNotFound(f"you have no order {checkout_id}")
        return row

    async def detail(self, driver_id: str, checkout_id: str) -> dict[str, Any]:
        return order_view(await self._own(driver_id, checkout_id))

    async def payment(self, driver_id: str, checkout_id: str) -> dict[str, Any]:
        row = await self._own(driver_id, checkout_id)
        if row["state"] != "ordered":
            raise OrderNotPayable(f"order {checkout_id} is {row['state']}: there is nothing to pay")
        return await _asking(self.client.payment_params(row["order_id"]))

    async def cancel(self, driver_id: str, checkout_id: str, reason: str, now: datetime) -> dict[str, Any]:
        row = await self._own(driver_id, checkout_id)
        if row["state"] in ("cancelled", "refunded"):
            return order_view(row)
        if row["state"] not in CANCELLABLE:
            raise OrderNotCancellable(f"order {checkout_id} is {row['state']}: it can no longer be cancelled")
        order = await _asking(self.client.cancel_order(row["order_id"], reason))
        # The callback applies the cancellation (coupons and points back); the answer shows it already.
        return {**order_view(row), "state": order["state"], "cancel_reason": order.get("cancel_reason")}

    async def invoice(
        self, driver_id: str, checkout_id: str, invoice: dict[str, Any], now: datetime
    ) -> tuple[dict[str, Any], bool]:
        """The order with its invoice request, and whether this call recorded it."""
        row = await self._own(driver_id, checkout_id)
        if row["state"] != "completed":
            raise InvoiceNotYet(f"order {checkout_id} is {row['state']}: ask for the invoice once completed")
        await _asking(self.client.request_invoice(row["order_id"], invoice))
        order = await _asking(self.client.get_order(row["order_id"]))
        new = not (row["order_json"] or {}).get("invoice_request")
        await self._db(lambda c: repo.set_state(c, checkout_id, now, order_json=order), write=True)
        fresh = await self._db(lambda c: repo.get(c, checkout_id))
        assert fresh is not None
        return order_view(fresh), new


async def _asking(call: Awaitable[dict[str, Any]]) -> dict[str, Any]:
    """The order core's answer; its refusals and its absence as our problems (409/502, 503)."""
    try:
        return await call
    except OrderCoreRejected as exc:
        raise (OrderCoreConflict if exc.status == 409 else OrderCoreRefused)(str(exc), exc.problem) from None
    except OrderCoreUnavailable as exc:
        detail = f"{exc}: nothing was changed, try again in {max(1, round(exc.retry_after))} s"
        raise OrderCoreDown(detail, exc.retry_after, exc.attempts, exc.breaker_open) from None
