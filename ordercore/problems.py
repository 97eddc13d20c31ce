"""HTTP edge: the one table mapping order-core domain errors to RFC 9457 problems."""

from __future__ import annotations

import logging
from typing import Any

import orjson
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.responses import Response

from ordercore import machine, wxpay

log = logging.getLogger(__name__)
PROBLEM_MEDIA_TYPE = "application/problem+json"

# exception class -> (status, problem type slug, title)
DOMAIN_ERRORS: dict[type[Exception], tuple[int, str, str]] = {
    machine.OrderNotFound: (404, "order-not-found", "Order not found"),
    machine.IdempotencyConflict: (409, "idempotency-conflict", "Idempotency key reused with another body"),
    machine.IllegalTransition: (409, "illegal-transition", "Not allowed in the order's state"),
    machine.OrderNotPaid: (409, "order-not-paid", "Order not paid"),
    machine.CodeAlreadyRedeemed: (409, "code-already-redeemed", "Code already redeemed"),
    machine.OrderNotCompleted: (409, "order-not-completed", "Order not completed"),
    machine.AmountMismatch: (422, "amount-mismatch", "Amount is not the payable amount"),
    machine.AmountExceedsPayable: (422, "amount-exceeds-payable", "Amount exceeds the payable amount"),
    machine.InvalidQr: (422, "invalid-qr", "Invalid QR payload"),
    wxpay.InvalidPayment: (422, "invalid-payment", "Invalid payment parameters"),
    machine.InvalidOrder: (422, "invalid-request", "Invalid order"),
}


class Unauthorized(Exception):
    pass


class InjectedFault(Exception):
    def __init__(self, status: int) -> None:
        super().__init__(f"fault injected by /sandbox/faults (status {status})")
        self.status = status


def problem(
    status: int, slug: str, title: str, detail: str, instance: str | None = None, **extra: Any
) -> Response:
    body: dict[str, Any] = {"type": f"/problems/{slug}", "title": title, "status": status, "detail": detail}
    if instance:
        body["instance"] = instance
    body.update({k: v for k, v in extra.items() if v is not None})
    headers = {"Retry-After": "1"} if status == 503 else None
    return Response(orjson.dumps(body), status_code=status, media_type=PROBLEM_MEDIA_TYPE, headers=headers)


def _domain(request: Request, exc: Exception) -> Response:
    for cls in type(exc).__mro__:
        if cls in DOMAIN_ERRORS:
            status, slug, title = DOMAIN_ERRORS[cls]
            state = getattr(exc, "state", None)
            return problem(
                status, slug, title, str(exc), request.url.path, state=None if state is None else state.value
            )
    raise exc


def _validation(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, RequestValidationError)
    errors = [
        {
            "in": str(err["loc"][0]) if err.get("loc") else "body",
            "name": ".".join(str(part) for part in err["loc"][1:]) if err.get("loc") else "",
            "message": str(err.get("msg", "invalid")),
        }
        for err in exc.errors()
    ]
    names = ", ".join(e["name"] or e["in"] for e in errors)
    return problem(
        422,
        "invalid-request",
        "Invalid request",
        f"invalid value for: {names}",
        request.url.path,
        errors=errors,
    )


def _unauthorized(request: Request, exc: Exception) -> Response:
    return problem(401, "unauthorized", "Unauthorized", "a valid bearer token is required", request.url.path)


def _injected(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, InjectedFault)
    return problem(exc.status, "injected-fault", "Injected fault", str(exc), request.url.path)


def _http(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, StarletteHTTPException)
    slug = {404: "not-found", 405: "method-not-allowed"}.get(exc.status_code, "http-error")
    return problem(exc.status_code, slug, str(exc.detail), str(exc.detail), request.url.path)


def _unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error on %s", request.url.path, exc_info=exc)
    return problem(
        500, "internal-error", "Internal error", "the order core failed to answer", request.url.path
    )


def install(app: FastAPI) -> None:
    for cls in DOMAIN_ERRORS:
        app.add_exception_handler(cls, _domain)
    app.add_exception_handler(RequestValidationError, _validation)
    app.add_exception_handler(Unauthorized, _unauthorized)
    app.add_exception_handler(InjectedFault, _injected)
    app.add_exception_handler(StarletteHTTPException, _http)
    app.add_exception_handler(Exception, _unexpected)
