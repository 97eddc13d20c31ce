"""The signed-in driver's own routes: coupons (and whether each applies here), points, member level,
orders (list, detail, payment, cancel, invoice). Every one needs the driver identity (api/driver_identity)."""

from __future__ import annotations

from decimal import Decimal
from typing import Annotated, Any

from fastapi import APIRouter, Path, Query, Request, Response
from starlette.concurrency import run_in_threadpool

from api.checked_route import CheckedRoute
from api.decimal_text import AMOUNT, VOLUME
from api.driver_identity import DRIVER_PROBLEMS, SignedInDriverDep
from api.grade_text import OptionalGradeQuery
from api.language import ACCEPT_LANGUAGE_DOC, language_of
from api.me_answers import CancelBody, InvoiceBody, MyCoupons, MyLevel, MyOrder, MyOrders, MyPoints, WxPayment
from api.problems import problem_responses
from api.query_string import ParameterErrors
from api.routes.nearby import DEFAULT_COLUMN_GRADE
from api.services import services_of
from api.strict_types import MAX_ID
from checkout import driver_profile
from checkout.driver_orders import CHECKOUT_ID, MAX_PAGE, DriverOrders, InvalidOrderCursor
from geo.grades import normalize_grade
from pricing.coupon_fit import coupon_fits
from pricing.effective import PricingRequest
from pricing.fills import DEFAULT_FILL_AMOUNT, FillRequest
from pricing.money import Money
from pricing.texts import reason_text, state_text

router = APIRouter(prefix="/v1/me", tags=["driver"], route_class=CheckedRoute)
CheckoutId = Annotated[str, Path(max_length=64, pattern=CHECKOUT_ID.pattern, description="the checkout id")]
_TEXTS = {"parameters": [ACCEPT_LANGUAGE_DOC]}
_ORDER_CORE = {502: ["order-core-rejected"], 503: ["order-core-unavailable"]}


def _orders(request: Request) -> DriverOrders:
    services = services_of(request)
    return DriverOrders(services.engine, services.checkout.client)


@router.get(
    "/coupons",
    operation_id="myCoupons",
    summary="My coupons, each with its state and (for a station and fill) whether it applies and why not",
    response_model=MyCoupons,
    responses=problem_responses(
        {
            400: ["invalid-parameter", "unknown-grade"],
            **DRIVER_PROBLEMS,
            404: ["station-not-found"],
            422: ["price-unavailable"],
        }
    ),
    openapi_extra=_TEXTS,
)
async def my_coupons(
    request: Request,
    driver_id: SignedInDriverDep,
    station_id: Annotated[
        int | None,
        Query(ge=1, le=MAX_ID, description="the station at hand: whether each coupon applies there"),
    ] = None,
    grade: OptionalGradeQuery = None,
    amount: Annotated[
        str | None, Query(pattern=AMOUNT, description="with station_id: the fill, yuan (default 300)")
    ] = None,
    litres: Annotated[
        str | None, Query(pattern=VOLUME, description="with station_id: the fill in litres (before amount)")
    ] = None,
) -> dict[str, Any]:
    services = services_of(request)
    now, language = services.clock.now(), language_of(request)
    asked = None
    code = normalize_grade(DEFAULT_COLUMN_GRADE if grade is None else grade)  # unknown: 400, station or not
    if station_id is not None:  # what applies there: 92# and ¥300 unless told (litres before amount)
        fill = (
            FillRequest.by_litres(Decimal(litres))
            if litres is not None
            else FillRequest.by_amount(Money.of(Decimal(amount or DEFAULT_FILL_AMOUNT)))
        )
        asked = PricingRequest(station_id, code, fill, now, driver_id, use_points=False)

    def read() -> list[Any]:
        with services.engine.connect() as conn:
            return coupon_fits(conn, driver_id, now, asked)

    fits = await run_in_threadpool(read)
    items = [
        {
            "id": f.coupon.id,
            "template_id": f.coupon.template.id,
            "name": f.coupon.template.name,
            "label": f.coupon.template.discount.label(),
            "state": f.coupon.state.value,
            "state_text": state_text(f.coupon.state, language),
            "expires_at": f.coupon.expires_at.isoformat() if f.coupon.expires_at else None,
            "applies": f.applies,
            "reason": f.reason.value if f.reason else None,
            "reason_text": reason_text(f.reason, language) if f.reason else None,
            "detail": f.detail,
        }
        for f in fits
    ]
    return {
        "driver_id": driver_id,
        "station_id": station_id,
        "grade": asked.grade if asked else None,
        "items": items,
    }


@router.get(
    "/points",
    operation_id="myPoints",
    summary="My points: balance, held by open checkouts, available",
    response_model=MyPoints,
    responses=problem_responses(DRIVER_PROBLEMS),
)
async def my_points(request: Request, driver_id: SignedInDriverDep) -> dict[str, Any]:
    services = services_of(request)
    now = services.clock.now()

    def read() -> dict[str, Any]:
        with services.engine.connect() as conn:
            return driver_profile.points(conn, driver_id, now)

    return {"driver_id": driver_id, **await run_in_threadpool(read)}


@router.get(
    "/level",
    operation_id="myLevel",
    summary="My member level (its display name from the operator's data) and whether I am new",
    response_model=MyLevel,
    responses=problem_responses(DRIVER_PROBLEMS),
    openapi_extra=_TEXTS,
)
async def my_level(request: Request, driver_id: SignedInDriverDep) -> dict[str, Any]:
    services = services_of(request)
    language = language_of(request)

    def read() -> dict[str, Any]:
        with services.engine.connect() as conn:
            return driver_profile.level(conn, driver_id, language)

    return {"driver_id": driver_id, **await run_in_threadpool(read)}


@router.get(
    "/orders",
    operation_id="myOrders",
    summary="My orders, newest first (a cursor pages further)",
    response_model=MyOrders,
    responses=problem_responses({400: ["invalid-parameter"], **DRIVER_PROBLEMS}),
)
async def my_orders(
    request: Request,
    driver_id: SignedInDriverDep,
    limit: Annotated[int, Query(ge=1, le=MAX_PAGE)] = 20,
    cursor: Annotated[str | None, Query(max_length=256, description="next_cursor of the page before")] = None,
) -> dict[str, Any]:
    try:
        page = await _orders(request).page(driver_id, limit, cursor)
    except InvalidOrderCursor as exc:
        raise ParameterErrors([{"in": "query", "name": "cursor", "message": str(exc)}]) from None
    return {"items": page.items, "next_cursor": page.next_cursor}


@router.get(
    "/orders/{checkout_id}",
    operation_id="myOrder",
    summary="One of my orders (the verification code only once paid)",
    response_model=MyOrder,
    responses=problem_responses({**DRIVER_PROBLEMS, 404: ["checkout-not-found"]}),
)
async def my_order(request: Request, driver_id: SignedInDriverDep, checkout_id: CheckoutId) -> dict[str, Any]:
    return await _orders(request).detail(driver_id, checkout_id)


@router.post(
    "/orders/{checkout_id}/payment",
    operation_id="payMyOrder",
    summary="The wx.requestPayment parameters of my unpaid order",
    response_model=WxPayment,
    responses=problem_responses(
        {**DRIVER_PROBLEMS, 404: ["checkout-not-found"], 409: ["order-not-payable", "order-core-conflict"]}
        | _ORDER_CORE
    ),
)
async def pay_my_order(
    request: Request, driver_id: SignedInDriverDep, checkout_id: CheckoutId
) -> dict[str, Any]:
    return await _orders(request).payment(driver_id, checkout_id)


@router.post(
    "/orders/{checkout_id}/cancel",
    operation_id="cancelMyOrder",
    summary="Cancel my order (unpaid: cancelled; paid, not yet fueling: refunded)",
    response_model=MyOrder,
    responses=problem_responses(
        {
            **DRIVER_PROBLEMS,
            404: ["checkout-not-found"],
            409: ["order-not-cancellable", "order-core-conflict"],
        }
        | _ORDER_CORE,
        body=True,
    ),
)
async def cancel_my_order(
    request: Request, driver_id: SignedInDriverDep, checkout_id: CheckoutId, body: CancelBody | None = None
) -> dict[str, Any]:
    reason = (body or CancelBody()).reason
    now = services_of(request).clock.now()
    return await _orders(request).cancel(driver_id, checkout_id, reason, now)


@router.post(
    "/orders/{checkout_id}/invoice",
    operation_id="requestMyInvoice",
    status_code=201,
    summary="Ask for the e-invoice of my completed order (title, tax id, email); the order shows its status",
    response_model=MyOrder,
    responses={
        200: {"description": "The invoice was requested before: the order as it stands", "model": MyOrder},
        **problem_responses(
            {**DRIVER_PROBLEMS, 404: ["checkout-not-found"], 409: ["invoice-not-yet", "order-core-conflict"]}
            | _ORDER_CORE,
            body=True,
        ),
    },
)
async def request_my_invoice(
    request: Request,
    response: Response,
    driver_id: SignedInDriverDep,
    checkout_id: CheckoutId,
    body: InvoiceBody,
) -> dict[str, Any]:
    now = services_of(request).clock.now()
    order, new = await _orders(request).invoice(driver_id, checkout_id, body.model_dump(), now)
    if not new:
        response.status_code = 200
    return order
