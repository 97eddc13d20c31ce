"""Problem details (RFC 9457) for every error, and the one table mapping domain errors to statuses."""

from __future__ import annotations

import logging
import math
import re
import weakref
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response
from starlette.routing import Match, Route, compile_path

from access.driver_tokens import InvalidDriverToken
from api.auth_operator import OperatorUnauthorized
from api.auth_partner import PartnerForbidden, PartnerUnauthorized, QuotaExceeded
from api.auth_station import RoleForbidden, StationForbidden, StationUnauthorized
from api.language import preferred_language
from api.pricing_schemas import InvalidFill
from api.problem_titles import content_language, title_in
from api.problems import PROBLEM_MEDIA_TYPE
from api.query_string import ParameterErrors
from changelog import InvalidCursor
from checkout import errors as checkout_errors
from geo.errors import (
    GeoError,
    InvalidCoordinates,
    InvalidHours,
    InvalidRoute,
    InvalidSearch,
    StationNotFound,
    TileNotFound,
    UnknownGrade,
    UnknownRegion,
)
from geo.live_index import IndexNotReady
from geo.province_outlines import BasemapMissing
from occupancy import errors as occupancy_errors
from partners import errors as partner_errors
from pricing import store
from pricing.effective import PriceUnavailable
from pricing.live_prices import PricesNotReady
from pricing.promotions import NotAllowed
from pricing.quotes import QuoteAlreadyUsed, QuoteExpired, QuoteInvalid

log = logging.getLogger(__name__)

# exception class -> (status, problem type slug, title)
DOMAIN_ERRORS: dict[type[Exception], tuple[int, str, str]] = {
    InvalidCoordinates: (400, "invalid-coordinates", "Invalid coordinates"),
    InvalidSearch: (400, "invalid-search", "Invalid search parameters"),
    InvalidRoute: (400, "invalid-route", "Invalid route"),
    InvalidHours: (400, "invalid-opening-hours", "Invalid opening hours"),
    UnknownGrade: (400, "unknown-grade", "Unknown fuel grade"),
    UnknownRegion: (404, "region-not-found", "Region not found"),
    GeoError: (400, "invalid-parameter", "Invalid parameter"),
    StationNotFound: (404, "station-not-found", "Station not found"),
    TileNotFound: (404, "tile-not-found", "No such tile"),
    InvalidFill: (400, "invalid-fill", "Invalid fill"),
    PriceUnavailable: (422, "price-unavailable", "No current price"),
    NotAllowed: (422, "coupon-not-applicable", "These coupons cannot be used for this fill"),
    QuoteInvalid: (400, "invalid-quote", "Invalid quote token"),
    QuoteExpired: (410, "quote-expired", "Quote expired"),
    QuoteAlreadyUsed: (409, "quote-already-used", "Quote already used"),
    StationUnauthorized: (401, "unauthorized", "Station credential required"),
    StationForbidden: (403, "forbidden", "Not this station's credential"),
    RoleForbidden: (403, "role-forbidden", "Not this role's action"),
    IndexNotReady: (503, "index-not-ready", "Search index not ready"),
    PricesNotReady: (503, "prices-not-ready", "Prices are being reloaded"),
    BasemapMissing: (503, "basemap-not-installed", "Map basemap not installed"),
    InvalidDriverToken: (401, "invalid-driver-token", "Driver identity refused"),
    OperatorUnauthorized: (401, "unauthorized", "Operator token required"),
    PartnerUnauthorized: (401, "partner-unauthorized", "Partner key required"),
    PartnerForbidden: (403, "scope-missing", "The key lacks this scope"),
    store.TemplateNotFound: (404, "coupon-template-not-found", "Coupon template not found"),
    store.PaymentPromotionNotFound: (404, "payment-promotion-not-found", "Payment promotion not found"),
    store.DriverNotFound: (404, "driver-not-found", "Driver not found"),
    store.AlreadyExists: (409, "already-exists", "Already exists"),
    store.CouponsUnavailable: (409, "coupons-unavailable", "Coupons not available"),
    store.ReservationNotFound: (404, "reservation-not-found", "Reservation not found"),
    store.ReservationExpired: (409, "reservation-expired", "Reservation expired"),
    occupancy_errors.UnreadableBatch: (400, "unreadable-batch", "Unreadable occupancy batch"),
    occupancy_errors.BatchTooLarge: (413, "batch-too-large", "Occupancy batch too large"),
    occupancy_errors.GradeNotSold: (422, "grade-not-sold", "The station sells no such grade"),
    occupancy_errors.MomentNotRetained: (422, "as-of-not-retained", "That moment is no longer retained"),
    occupancy_errors.UnknownPosition: (404, "position-not-found", "Fueling position not found"),
    occupancy_errors.ClaimConflict: (409, "claim-conflict", "Order already holds another position"),
    checkout_errors.InvalidIdempotencyKey: (
        400,
        "invalid-idempotency-key",
        "Idempotency-Key missing or invalid",
    ),
    checkout_errors.DriverRequired: (401, "driver-required", "Signed-in driver required"),
    checkout_errors.OpenOrderExists: (409, "open-order-exists", "An open order holds this nozzle"),
    checkout_errors.OrderNotPayable: (409, "order-not-payable", "Order is not waiting for payment"),
    checkout_errors.OrderNotCancellable: (409, "order-not-cancellable", "Order can no longer be cancelled"),
    checkout_errors.InvoiceNotYet: (409, "invoice-not-yet", "Invoice only once the order is completed"),
    checkout_errors.QuoteNotForDriver: (403, "quote-not-yours", "Quote issued to another driver"),
    checkout_errors.StationClosed: (409, "station-closed", "Station closed"),
    checkout_errors.UnknownNozzle: (422, "unknown-nozzle", "No such position or nozzle"),
    checkout_errors.NozzleGradeMismatch: (422, "nozzle-grade-mismatch", "Nozzle serves another grade"),
    checkout_errors.NozzleOffline: (409, "nozzle-offline", "Nozzle offline"),
    checkout_errors.PointsUnavailable: (409, "points-unavailable", "Points not available"),
    checkout_errors.CouponNotAvailable: (409, "coupons-unavailable", "Coupon not available"),
    checkout_errors.IdempotencyConflict: (
        409,
        "idempotency-conflict",
        "Idempotency-Key reused with another body",
    ),
    checkout_errors.CheckoutInProgress: (409, "checkout-in-progress", "Checkout in progress"),
    checkout_errors.CheckoutCancelled: (409, "checkout-cancelled", "Checkout cancelled"),
    checkout_errors.CheckoutNotFound: (404, "checkout-not-found", "Checkout not found"),
    checkout_errors.OrderCoreDown: (503, "order-core-unavailable", "Order core unavailable"),
    checkout_errors.OrderCoreConflict: (409, "order-core-conflict", "Order core refused: conflict"),
    checkout_errors.OrderCoreRefused: (502, "order-core-rejected", "Order core refused the order"),
    checkout_errors.InvalidSignature: (401, "invalid-signature", "Callback signature invalid"),
    checkout_errors.InvalidEvent: (400, "invalid-event", "Not an order event"),
    InvalidCursor: (400, "invalid-cursor", "Invalid change-log cursor"),
    partner_errors.FeedResyncRequired: (410, "resync-required", "Take a new snapshot: cursor not followable"),
    partner_errors.PoiIdTaken: (409, "poi-id-taken", "POI id already given to another station"),
    partner_errors.PoiIdNotFound: (404, "poi-id-not-found", "No such POI id"),
    partner_errors.SubscriptionNotFound: (404, "subscription-not-found", "Webhook subscription not found"),
    partner_errors.ReplayTooLarge: (422, "replay-too-large", "Too many changes to replay"),
}


def problem(
    status: int,
    slug: str,
    title: str,
    detail: str,
    instance: str | None = None,
    *,
    accept_language: str = "",
    **extra: Any,
) -> Response:
    """A problem response; `title` is the English title, answered in Chinese unless `accept_language` (the
    request's Accept-Language) prefers English (api/problem_titles.py)."""
    language = preferred_language(accept_language)
    body: dict[str, Any] = {
        "type": f"/problems/{slug}",
        "title": title_in(language, slug, title),
        "status": status,
        "detail": detail,
    }
    if instance:
        body["instance"] = instance
    body.update(extra)
    headers = {"Content-Language": content_language(language)}
    if status == 503:
        headers["Retry-After"] = "5"
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _language(request: Request) -> str:
    return request.headers.get("accept-language", "")


def _domain_handler(request: Request, exc: Exception) -> Response:
    for cls in type(exc).__mro__:
        if cls in DOMAIN_ERRORS:
            status, slug, title = DOMAIN_ERRORS[cls]
            if not isinstance(exc, checkout_errors.CheckoutError):
                return problem(
                    status, slug, title, str(exc), request.url.path, accept_language=_language(request)
                )
            response = problem(
                status,
                slug,
                title,
                str(exc),
                request.url.path,
                accept_language=_language(request),
                **exc.problem_fields(),
            )
            if exc.retry_after is not None:  # a checkout error says when to come back
                response.headers["Retry-After"] = str(max(1, math.ceil(exc.retry_after)))  # never too early
            return response
    raise exc


def _quota_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, QuotaExceeded)
    title = "Daily quota used up" if exc.slug == "daily-quota-exceeded" else "Too many requests"
    response = problem(429, exc.slug, title, str(exc), request.url.path, accept_language=_language(request))
    response.headers.update(exc.headers)
    return response


def _parameter_errors_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, ParameterErrors)
    return problem(
        exc.status,
        exc.slug,
        exc.title,
        str(exc),
        request.url.path,
        accept_language=_language(request),
        errors=exc.errors,
    )


def _validation_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "in": str(err["loc"][0]) if err.get("loc") else "request",
            "name": ".".join(str(part) for part in err["loc"][1:]) if err.get("loc") else "",
            "message": err.get("msg", "invalid"),
        }
        for err in exc.errors()
    ]
    names = ", ".join(e["name"] or e["in"] for e in errors)
    return problem(
        400,
        "invalid-parameter",
        "Invalid request parameters",
        f"invalid value for: {names}",
        request.url.path,
        accept_language=_language(request),
        errors=errors,
    )


def _http_handler(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    response = problem(
        exc.status_code,
        slug,
        str(exc.detail),
        str(exc.detail),
        request.url.path,
        accept_language=_language(request),
    )
    response.headers.update(exc.headers or {})
    if exc.status_code == 405:  # every method of the path, not only those of the first route matched
        response.headers["Allow"] = ", ".join(allowed_methods(request))
    return response


_DOCUMENTED: weakref.WeakKeyDictionary[FastAPI, list[tuple[re.Pattern[str], set[str]]]] = (
    weakref.WeakKeyDictionary()
)


def allowed_methods(request: Request) -> list[str]:
    """The methods the OpenAPI document declares for the request's path (and those of the plain routes
    it leaves out, such as /docs)."""
    app = request.app
    if app not in _DOCUMENTED:
        _DOCUMENTED[app] = [
            (compile_path(path)[0], {m.upper() for m in operations})
            for path, operations in app.openapi()["paths"].items()
        ]
    path = request.url.path
    methods = {m for regex, declared in _DOCUMENTED[app] if regex.match(path) for m in declared}
    for route in app.router.routes:
        if isinstance(route, Route) and route.methods and route.matches(request.scope)[0] != Match.NONE:
            methods |= route.methods
    return sorted(methods)


def _unexpected_handler(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return problem(
        500,
        "internal-error",
        "Internal error",
        "the service failed to answer",
        request.url.path,
        accept_language=_language(request),
    )


def install_error_handlers(app: FastAPI) -> None:
    for cls in DOMAIN_ERRORS:
        app.add_exception_handler(cls, _domain_handler)
    app.add_exception_handler(RequestValidationError, _validation_handler)
    app.add_exception_handler(ParameterErrors, _parameter_errors_handler)
    app.add_exception_handler(QuotaExceeded, _quota_handler)
    app.add_exception_handler(StarletteHTTPException, _http_handler)
    app.add_exception_handler(Exception, _unexpected_handler)
