"""Checkout: a signed quote becomes an order at the order core; the order core's callbacks."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Depends, Path, Request, Response
from fastapi.security import APIKeyHeader
from pydantic import BaseModel, ConfigDict, Field

from api.checked_route import CheckedRoute
from api.checkout_answers import ORDER_EVENT_BODY, Checkout, EventOutcome
from api.deps import clock_of
from api.driver_identity import DRIVER_PROBLEMS, DriverDep
from api.problems import problem_responses
from api.services import services_of
from api.strict_types import Whole
from checkout.service import KEY_PATTERN, CheckoutRequest

router = APIRouter(tags=["checkout"], route_class=CheckedRoute)
_signature = APIKeyHeader(
    name="X-Ordercore-Signature",
    scheme_name="ordercoreSignature",
    auto_error=False,
    description="t=<unix seconds>,v1=<HMAC-SHA256 hex of t.body> with the shared callback secret",
)


class CheckoutBody(BaseModel):
    model_config = ConfigDict(extra="forbid")

    quote_token: str = Field(min_length=1, max_length=4096, description="the token of POST /v1/quotes")
    position: Whole = Field(ge=1, le=32767, description="fueling position number at the quote's station")
    nozzle: Whole = Field(ge=1, le=32767, description="nozzle number within the position")


CHECKOUT_PROBLEMS = {
    400: ["invalid-idempotency-key", "invalid-quote"],
    **DRIVER_PROBLEMS,
    403: ["quote-not-yours"],
    404: ["station-not-found"],
    409: [
        "quote-already-used",
        "coupons-unavailable",
        "points-unavailable",
        "idempotency-conflict",
        "checkout-in-progress",
        "checkout-cancelled",
        "station-closed",
        "nozzle-offline",
        "order-core-conflict",
    ],
    410: ["quote-expired"],
    422: ["unknown-nozzle", "nozzle-grade-mismatch"],
    502: ["order-core-rejected"],
    503: ["order-core-unavailable"],
}
IDEMPOTENCY_KEY = {
    "name": "Idempotency-Key",
    "in": "header",
    "required": True,
    "description": "1-128 of [A-Za-z0-9_.:-]; reuse it to retry (400 invalid-idempotency-key otherwise)",
    "schema": {"type": "string", "pattern": KEY_PATTERN.pattern},
    "example": "chk-2026-11-22-0001",
}


def _idempotency_key(request: Request) -> str | None:
    """Read here, checked by the checkout service (after the driver), answered as invalid-idempotency-key."""
    return request.headers.get("idempotency-key")


_CREATED: dict[int | str, dict[str, Any]] = {
    201: {"description": "The order was created (its checkout, state and the order core's order)"},
    200: {
        "description": "The stored outcome of this Idempotency-Key (same order)",
        "model": Checkout,
    },
}


@router.post(
    "/v1/checkout",
    operation_id="createCheckout",
    status_code=201,
    response_model=Checkout,
    responses={**_CREATED, **problem_responses(CHECKOUT_PROBLEMS, body=True)},
    summary="Turn a quote into an order at the order core (idempotent per driver and Idempotency-Key)",
    openapi_extra={"parameters": [IDEMPOTENCY_KEY]},
)
async def create_checkout(
    body: CheckoutBody,
    request: Request,
    response: Response,
    driver_id: DriverDep,
    idempotency_key: Annotated[str | None, Depends(_idempotency_key)],
) -> dict[str, Any]:
    service = services_of(request).checkout
    asked = CheckoutRequest(driver_id, idempotency_key, body.quote_token, body.position, body.nozzle)
    result = await service.checkout(asked, clock_of(request).now())
    if not result.created:
        response.status_code = 200
    return result.body


@router.get(
    "/v1/checkout/{checkout_id}",
    operation_id="getCheckout",
    summary="A checkout and its order, as the callbacks left it",
    response_model=Checkout,
    responses=problem_responses({**DRIVER_PROBLEMS, 404: ["checkout-not-found"]}),
)
async def get_checkout(
    checkout_id: Annotated[str, Path(max_length=64)], request: Request, driver_id: DriverDep
) -> dict[str, Any]:
    service = services_of(request).checkout
    return await service.get(driver_id, checkout_id)


@router.post(
    "/v1/ordercore/events",
    operation_id="orderCoreEvent",
    summary="Order-core callback (signed, idempotent by event_id)",
    response_model=EventOutcome,
    responses=problem_responses({400: ["invalid-event"], 401: ["invalid-signature"]}, body=True),
    openapi_extra={"requestBody": ORDER_EVENT_BODY},
)
async def ordercore_event(
    request: Request, signature: Annotated[str | None, Depends(_signature)]
) -> dict[str, Any]:
    reconciler = services_of(request).reconciler
    return await reconciler.handle_event(signature, await request.body(), clock_of(request).now())
