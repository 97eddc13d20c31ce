"""HTTP routes of the order core (contracts/ordercore.openapi.yaml). Handlers are sync: they run in the
thread pool, next to the async outbox sender."""

from __future__ import annotations

import hmac
import time
from typing import Annotated, Any

import orjson
from fastapi import APIRouter, Depends, Header, Path, Query, Request
from sqlalchemy import text
from starlette.responses import Response

from ordercore.faults import HOLD_LIMIT_S, Fault, FaultInjector, Faults
from ordercore.problems import InjectedFault, Unauthorized, problem
from ordercore.schemas import (
    IDEMPOTENCY_KEY_PATTERN,
    ORDER_ID_PATTERN,
    CancelIn,
    CompleteIn,
    CreateOrder,
    FaultsIn,
    InvoiceIn,
    PayIn,
    RedeemIn,
    WxPaymentIn,
)
from ordercore.service import OrderCore
from ordercore.wxpay import PaymentParams


def _json(body: Any, status: int = 200) -> Response:
    return Response(orjson.dumps(body), status_code=status, media_type="application/json")


def require_token(request: Request, authorization: Annotated[str | None, Header()] = None) -> None:
    expected = f"Bearer {request.app.state.settings.api_token.get_secret_value()}"
    if authorization is None or not hmac.compare_digest(authorization.encode(), expected.encode()):
        raise Unauthorized()


def _core(request: Request) -> OrderCore:
    core: OrderCore = request.app.state.core
    return core


def _faults(request: Request) -> FaultInjector:
    injector: FaultInjector = request.app.state.faults
    return injector


OrderId = Annotated[str, Path(pattern=ORDER_ID_PATTERN)]
IdempotencyKey = Annotated[str, Header(alias="Idempotency-Key", pattern=IDEMPOTENCY_KEY_PATTERN)]

router = APIRouter(dependencies=[Depends(require_token)], tags=["orders"])
health = APIRouter(tags=["health"])
# WeChat's side of wx.requestPayment in the sandbox: called by the mini-program (in tests, by the test),
# never with the service token; the paySign is its credential.
wechat = APIRouter(tags=["x-sandbox"])
sandbox = APIRouter(prefix="/sandbox", dependencies=[Depends(require_token)], tags=["x-sandbox"])


@router.post("/v1/orders", status_code=201)
def create_order(request: Request, body: CreateOrder, idempotency_key: IdempotencyKey) -> Response:
    fault = _faults(request).take() if request.app.state.settings.sandbox_admin else None
    if fault is not None and not fault.after_commit:
        _inject(fault)
    created = _core(request).create(idempotency_key, body)
    if fault is not None and fault.after_commit:
        _inject(fault)
    return _json(created.order, 201 if created.new else 200)


def _inject(fault: Fault) -> None:
    """Hold, delay, fail: in that order (the handler runs in a worker thread, so waiting here is fine)."""
    if fault.released is not None:
        fault.released.wait(HOLD_LIMIT_S)
    time.sleep(fault.delay_seconds)
    if fault.fail_status is not None:
        raise InjectedFault(fault.fail_status)


@router.get("/v1/orders")
def find_orders(
    request: Request, idempotency_key: Annotated[str, Query(pattern=IDEMPOTENCY_KEY_PATTERN)]
) -> Response:
    return _json({"items": _core(request).find_by_key(idempotency_key)})


@router.get("/v1/orders/{order_id}")
def get_order(request: Request, order_id: OrderId) -> Response:
    return _json(_core(request).get(order_id))


@router.post("/v1/orders/{order_id}/cancel")
def cancel_order(request: Request, order_id: OrderId, body: CancelIn) -> Response:
    return _json(_core(request).cancel(order_id, body))


@router.post("/v1/orders/{order_id}/refund")
def refund_order(request: Request, order_id: OrderId, body: CancelIn) -> Response:
    return _json(_core(request).refund(order_id, body))


@router.post("/v1/orders/{order_id}/pay")
def pay_order(request: Request, order_id: OrderId, body: PayIn) -> Response:
    return _json(_core(request).pay(order_id, body))


@router.post("/v1/orders/{order_id}/payment-params")
def payment_params(request: Request, order_id: OrderId) -> Response:
    return _json(_core(request).payment_params(order_id).as_json())


@wechat.post("/sandbox/wxpay/pay")
def wechat_pay(request: Request, body: WxPaymentIn) -> Response:
    params = PaymentParams(body.timeStamp, body.nonceStr, body.package, body.signType, body.paySign)
    return _json(_core(request).pay_by_wechat(params))


@router.post("/v1/attendant/redeem", tags=["attendant"])
def redeem(request: Request, body: RedeemIn) -> Response:
    return _json(_core(request).redeem(body))


@router.post("/v1/orders/{order_id}/complete", tags=["attendant"])
def complete_order(request: Request, order_id: OrderId, body: CompleteIn) -> Response:
    return _json(_core(request).complete(order_id, body))


@router.post("/v1/orders/{order_id}/invoice-request", status_code=201)
def request_invoice(request: Request, order_id: OrderId, body: InvoiceIn) -> Response:
    invoice, new = _core(request).request_invoice(order_id, body)
    return _json({"invoice_request": invoice}, 201 if new else 200)


@health.get("/healthz")
def healthz() -> Response:
    return _json({"status": "ok"})


@health.get("/readyz")
def readyz(request: Request) -> Response:
    try:
        with request.app.state.engine.connect() as conn:
            conn.execute(text("SELECT version_num FROM ordercore.alembic_version")).scalar_one()
    except Exception as exc:  # not reachable, or not migrated (python -m ordercore migrate)
        return problem(503, "not-ready", "Not ready", f"database not ready: {type(exc).__name__}", "/readyz")
    return _json({"status": "ok"})


@sandbox.get("/faults")
def get_faults(request: Request) -> Response:
    return _json(_faults(request).faults.as_json())


@sandbox.post("/faults")
def set_faults(request: Request, body: FaultsIn) -> Response:
    faults = Faults(body.delay_ms, body.fail_status, body.fail_count, body.fail_after_commit, body.hold)
    _faults(request).set(faults)
    return _json(faults.as_json())


@sandbox.delete("/faults", status_code=204)
def clear_faults(request: Request) -> Response:
    _faults(request).clear()
    return Response(status_code=204)
