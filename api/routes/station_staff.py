"""Station staff's order actions (issue 15, staff roles): the attendant redeems a driver's code and
confirms the fueling, the cashier refunds; each only at the credential's own station. Price updates
(the station admin's) are in api/routes/prices.py, the controller's events in api/routes/occupancy.py."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request

from api.auth_station import STAFF_PROBLEMS, AttendantDep, CashierDep, at_station
from api.checked_route import CheckedRoute
from api.me_answers import MyOrder
from api.problems import problem_responses
from api.routes.me import CheckoutId
from api.services import services_of
from api.staff_bodies import CompleteBody, RedeemBody, RefundBody
from api.strict_types import MAX_ID
from checkout.station_orders import StationOrders

router = APIRouter(prefix="/v1/stations/{station_id}", tags=["station staff"], route_class=CheckedRoute)
StationId = Annotated[int, Path(ge=1, le=MAX_ID, description="the station (the credential's own)")]
_ORDER_CORE = {502: ["order-core-rejected"], 503: ["order-core-unavailable"]}
_NO_STORE = {"Cache-Control": "no-store"}


def _orders(request: Request) -> StationOrders:
    services = services_of(request)
    return StationOrders(services.engine, services.checkout.client)


def _problems(extra: dict[int, list[str]]) -> dict[int | str, dict[str, Any]]:
    return problem_responses(
        {**STAFF_PROBLEMS, 404: ["checkout-not-found"], 409: ["order-core-conflict"], **extra} | _ORDER_CORE,
        body=True,
    )


@router.post(
    "/redeem",
    operation_id="redeemOrderCode",
    summary="Attendant: redeem a paid order's code (or QR) at this station; the order is now fueling",
    response_model=MyOrder,
    responses=_problems({}),
)
async def redeem(request: Request, station_id: StationId, staff: AttendantDep, body: RedeemBody) -> Any:
    at_station(staff, station_id)
    return await _orders(request).redeem(station_id, body.code, body.qr_payload)


@router.post(
    "/orders/{checkout_id}/complete",
    operation_id="completeStationOrder",
    summary="Attendant: confirm the fueling of an order at this station (amount and litres dispensed)",
    response_model=MyOrder,
    responses=_problems({}),
)
async def complete(
    request: Request, station_id: StationId, checkout_id: CheckoutId, staff: AttendantDep, body: CompleteBody
) -> dict[str, Any]:
    at_station(staff, station_id)
    return await _orders(request).complete(station_id, checkout_id, body.amount, body.litres)


@router.post(
    "/orders/{checkout_id}/refund",
    operation_id="refundStationOrder",
    summary="Cashier: refund a paid or completed order of this station",
    response_model=MyOrder,
    responses=_problems({}),
)
async def refund(
    request: Request, station_id: StationId, checkout_id: CheckoutId, staff: CashierDep, body: RefundBody
) -> dict[str, Any]:
    at_station(staff, station_id)
    return await _orders(request).refund(station_id, checkout_id, body.reason)
