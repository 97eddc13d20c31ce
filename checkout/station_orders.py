"""What station staff do with the orders of their station, through our API (issue 15, staff roles): the
attendant redeems a driver's code (or QR) and confirms the fueling, the cashier refunds. The order core
does each; its callbacks bring our checkout row up to date, and the answer shows the state it reported.

The station is checked here, on our checkout row (an order of another station is "not found", so staff
cannot probe other stations' orders); for a redeemed code the order core checks it, with the station."""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from typing import Any, TypeVar

from sqlalchemy import Connection, Engine, RowMapping

from checkout import repository as repo
from checkout.client import OrderCoreClient, OrderCoreRejected
from checkout.driver_orders import _asking, order_view
from checkout.errors import CheckoutNotFound

T = TypeVar("T")


class StationOrders:
    def __init__(self, engine: Engine, client: OrderCoreClient) -> None:
        self.engine = engine
        self.client = client

    async def _db(self, fn: Callable[[Connection], T]) -> T:
        def run() -> T:
            with self.engine.connect() as conn:
                return fn(conn)

        return await asyncio.to_thread(run)

    async def _at_station(self, station_id: int, checkout_id: str) -> RowMapping:
        row = await self._db(lambda c: repo.get(c, checkout_id))
        if row is None or row["station_id"] != station_id or row["order_id"] is None:
            raise CheckoutNotFound(f"station {station_id} has no order {checkout_id}")
        return row

    async def refund(self, station_id: int, checkout_id: str, reason: str) -> dict[str, Any]:
        row = await self._at_station(station_id, checkout_id)
        order = await _asking(self.client.refund_order(row["order_id"], reason))
        return {**order_view(row), "state": _our_state(order), "cancel_reason": order.get("cancel_reason")}

    async def complete(
        self, station_id: int, checkout_id: str, amount: str, litres: str | None
    ) -> dict[str, Any]:
        row = await self._at_station(station_id, checkout_id)
        order = await _asking(self.client.complete_order(row["order_id"], amount, litres))
        return {**order_view(row), "state": _our_state(order)}

    async def redeem(self, station_id: int, code: str | None, qr_payload: str | None) -> dict[str, Any]:
        try:
            order = await self.client.redeem(station_id, code, qr_payload)
        except OrderCoreRejected as exc:
            if exc.status == 404:  # no such code at this station (the order core's answer)
                raise CheckoutNotFound(f"station {station_id} has no paid order with this code") from None
            order = await _asking(_raise(exc))
        row = await self._db(lambda c: repo.by_order(c, str(order["order_id"])))
        if row is None:  # an order not placed through us: nothing of ours to show
            raise CheckoutNotFound(f"order {order['order_id']} was not placed through this service")
        return {**order_view(row), "state": _our_state(order)}


async def _raise(exc: Exception) -> dict[str, Any]:
    raise exc


def _our_state(order: dict[str, Any]) -> str:
    """Our name of the order core's state (it calls an unpaid order 'created', we 'ordered')."""
    state = str(order["state"])
    return "ordered" if state == "created" else state
