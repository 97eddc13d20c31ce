"""Checkout: a signed quote becomes an order at the order core; the order core's callbacks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Header, Path, Request, Response
from pydantic import BaseModel, ConfigDict, Field

from api.deps import clock_of
from api.errors import PROBLEM_MEDIA_TYPE, PROBLEM_RESPONSES
from api.routes.prices import DriverHeader
from checkout.reconcile import Reconciler
from checkout.service import CheckoutRequest, CheckoutService

router = APIRouter(tags=["checkout"])


class CheckoutBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quote_token: str = Field(min_length=1, max_length=4096, description="the token of POST /v1/quotes")
    position: int = Field(ge=1, le=32767, description="fueling position number at the quote's station")
    nozzle: int = Field(ge=1, le=32767, description="nozzle number within the position")


def _problem(description: str) -> dict[str, Any]:
    return {"description": description, "content": {PROBLEM_MEDIA_TYPE: {}}}


CHECKOUT_RESPONSES: dict[int | str, dict[str, Any]] = {
    **PROBLEM_RESPONSES,
    200: {"description": "The stored outcome of this Idempotency-Key (same order)"},
    401: _problem("driver-required: no X-Driver-Id"),
    403: _problem("quote-not-yours"),
    409: _problem(
        "quote-already-used, coupons-unavailable (names each coupon and why), points-unavailable, "
        "idempotency-conflict, checkout-in-progress (Retry-After), checkout-cancelled, "
        "station-closed, nozzle-offline, order-core-conflict"
    ),
    410: _problem("quote-expired"),
    422: _problem("unknown-nozzle, nozzle-grade-mismatch"),
    502: _problem("order-core-rejected: the order core refused the order (reservations released)"),
    503: _problem("order-core-unavailable: no order was placed, no coupon spent (Retry-After)"),
}


@router.post(
    "/v1/checkout",
    status_code=201,
    responses=CHECKOUT_RESPONSES,
    summary="Turn a quote into an order at the order core (idempotent per driver and Idempotency-Key)",
)
async def create_checkout(
    body: CheckoutBody,
    request: Request,
    response: Response,
    driver_id: DriverHeader = None,
    idempotency_key: Annotated[
        str | None, Header(alias="Idempotency-Key", description="1-128 of [A-Za-z0-9_.:-]; reuse it to retry")
    ] = None,
) -> dict[str, Any]:
    service: CheckoutService = request.app.state.checkout
    asked = CheckoutRequest(driver_id, idempotency_key, body.quote_token, body.position, body.nozzle)
    result = await service.checkout(asked, clock_of(request).now())
    if not result.created:
        response.status_code = 200
    return result.body


@router.get(
    "/v1/checkout/{checkout_id}",
    summary="A checkout and its order, as the callbacks left it",
    responses=CHECKOUT_RESPONSES,
)
async def get_checkout(
    checkout_id: Annotated[str, Path(max_length=64)], request: Request, driver_id: DriverHeader = None
) -> dict[str, Any]:
    service: CheckoutService = request.app.state.checkout
    return await service.get(driver_id, checkout_id)


@router.post(
    "/v1/ordercore/events",
    summary="Order-core callback (signed, idempotent by event_id)",
    responses={401: _problem("invalid-signature"), 400: _problem("invalid-event")},
)
async def ordercore_event(
    request: Request,
    signature: Annotated[str | None, Header(alias="X-Ordercore-Signature")] = None,
) -> dict[str, Any]:
    reconciler: Reconciler = request.app.state.checkout_reconciler
    return await reconciler.handle_event(signature, await request.body(), clock_of(request).now())
