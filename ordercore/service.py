"""Order-core operations. Each runs in one transaction holding the order's row lock; every state change
writes the order's history and its callback event (outbox) in that same transaction. Each operation reads
its clock once: that instant is when the change happened and what decides whether an order has expired."""

from __future__ import annotations

import secrets
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal
from typing import Any

from sqlalchemy import Connection, Engine, RowMapping
from sqlalchemy.exc import IntegrityError

from ordercore import codes, repository, wxpay
from ordercore.machine import (
    EXPIRED_REASON,
    AmountExceedsPayable,
    AmountMismatch,
    CodeAlreadyRedeemed,
    IdempotencyConflict,
    IllegalTransition,
    OrderNotCompleted,
    OrderNotFound,
    OrderNotPaid,
    State,
    check_transition,
)
from ordercore.render import event_json, order_json
from ordercore.schemas import CancelIn, CompleteIn, CreateOrder, InvoiceIn, PayIn, RedeemIn, money
from timekeeping.clock import Clock, SystemClock

Order = dict[str, Any]
_CODE_ATTEMPTS = 50


def _new_id(prefix: str) -> str:
    return f"{prefix}_{secrets.token_hex(12)}"


@dataclass(frozen=True)
class Created:
    order: Order
    new: bool


class OrderCore:
    def __init__(
        self,
        engine: Engine,
        *,
        qr_secret: bytes,
        payment_ttl_seconds: int,
        callback_url: str,
        clock: Clock | None = None,
    ) -> None:
        self.engine = engine
        self.clock = clock or SystemClock()
        # The callbacks of the orders this order core creates go there (whichever order core changes them).
        self.callback_url = callback_url
        self.qr_secret = qr_secret
        self.payment_ttl_seconds = payment_ttl_seconds

    # --- reads ----------------------------------------------------------------------------------------

    def get(self, order_id: str) -> Order:
        now = self.clock.now()
        with self.engine.begin() as conn:
            row = repository.get(conn, order_id, now)
            if row is None:
                raise OrderNotFound(f"no order {order_id}")
            if row["due"]:  # expired but not swept yet: expire it now, so nobody sees it as created
                row = self._locked(conn, order_id, now)
            return self._json(row)

    def find_by_key(self, key: str) -> list[Order]:
        now = self.clock.now()
        with self.engine.begin() as conn:
            row = repository.get_by_key(conn, key, now)
            if row is None:
                return []
            if row["due"]:
                row = self._locked(conn, row["id"], now)
            return [self._json(row)]

    # --- create ---------------------------------------------------------------------------------------

    def create(self, key: str, body: CreateOrder) -> Created:
        digest = body.request_sha256()
        now = self.clock.now()
        with self.engine.begin() as conn:
            existing = repository.get_by_key(conn, key, now, lock=True)
            if existing is None:
                order_id = self._insert(conn, key, digest, body, now)
                if order_id is not None:
                    row = self._reload(conn, order_id, now)
                    self._record(conn, None, row, None)
                    return Created(self._json(row), new=True)
                existing = repository.get_by_key(conn, key, now, lock=True)  # a concurrent create won the key
                assert existing is not None
            if existing["request_sha256"] != digest:
                raise IdempotencyConflict(f"idempotency key {key!r} was used with a different request body")
            return Created(self._json(self._expire_if_due(conn, existing, now)), new=False)

    def _insert(
        self, conn: Connection, key: str, digest: str, body: CreateOrder, now: datetime
    ) -> str | None:
        values = {
            "idempotency_key": key,
            "request_sha256": digest,
            "station_id": body.station_id,
            "position": body.position,
            "nozzle": body.nozzle,
            "grade": body.grade,
            "fill_kind": body.fill.kind,
            "fill_value": body.fill.value,
            "litres": body.litres,
            "list_amount": money(body.list_amount),
            "payable": money(body.payable),
            "currency": body.currency,
            "coupons": list(body.coupons),
            "points_used": body.points_used,
            "driver_id": body.driver_id,
            "quote_id": body.quote_id,
            "quote_token": body.quote_token,
            "ttl": self.payment_ttl_seconds,
            "now": now,
            "callback_url": self.callback_url,
            "invoice": None if body.invoice is None else body.invoice.model_dump(mode="json"),
        }
        for _ in range(_CODE_ATTEMPTS):
            order_id = _new_id("ord")
            try:
                with conn.begin_nested():  # a code taken by another live order of the station: draw again
                    inserted = repository.insert(
                        conn, {**values, "id": order_id, "verification_code": codes.new_code()}
                    )
            except IntegrityError:
                continue
            return order_id if inserted else None
        raise RuntimeError(
            f"no free verification code at station {body.station_id} after {_CODE_ATTEMPTS} draws"
        )

    # --- transitions ----------------------------------------------------------------------------------

    def pay(self, order_id: str, body: PayIn) -> Order:
        return self._pay(order_id, body.method, money(body.amount))

    def payment_params(self, order_id: str) -> wxpay.PaymentParams:
        """What wx.requestPayment needs to pay this unpaid order (WeChat Pay's sandbox)."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            row = self._locked(conn, order_id, now)
            check_transition(State(row["state"]), State.PAID)
        return wxpay.prepay(wxpay.merchant_key(self.qr_secret), order_id, int(now.timestamp()))

    def pay_by_wechat(self, params: wxpay.PaymentParams) -> Order:
        """WeChat's side of wx.requestPayment in the sandbox: the signed parameters pay their order."""
        order_id = wxpay.verify(wxpay.merchant_key(self.qr_secret), params)
        return self._pay(order_id, "sandbox", None)

    def _pay(self, order_id: str, method: str, amount: Decimal | None) -> Order:
        """Pay the order (`amount` None: its payable, as WeChat charges what the prepay order says)."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            row = self._locked(conn, order_id, now)
            state = State(row["state"])
            if state in (State.PAID, State.FUELING, State.COMPLETED):
                return self._json(row)
            check_transition(state, State.PAID)
            if amount is not None and amount != row["payable"]:
                raise AmountMismatch(f"amount {amount} is not the order's payable {row['payable']}")
            return self._transition(
                conn,
                row,
                now,
                State.PAID,
                None,
                payment_method=method,
                payment_transaction_id=_new_id("txn"),
                payment_amount=row["payable"],
                paid=True,
            )

    def redeem(self, body: RedeemIn) -> Order:
        now = self.clock.now()
        with self.engine.begin() as conn:
            if body.qr_payload is not None:
                scanned = codes.verify_qr(self.qr_secret, body.qr_payload)
                order_id, code = scanned.order_id, scanned.code
            else:
                assert body.code is not None
                found = repository.find_by_code(conn, body.station_id, body.code)
                if found is None:
                    raise OrderNotFound(f"no order with this code at station {body.station_id}")
                order_id, code = found, body.code
            row = self._locked(
                conn, order_id, now, missing=f"no order with this code at station {body.station_id}"
            )
            if row["station_id"] != body.station_id or row["verification_code"] != code:
                raise OrderNotFound(f"no order with this code at station {body.station_id}")
            state = State(row["state"])
            if row["code_redeemed_at"] is not None:
                raise CodeAlreadyRedeemed(state)
            if state is State.CREATED:
                raise OrderNotPaid(state)
            check_transition(state, State.FUELING)
            return self._transition(conn, row, now, State.FUELING, None, redeemed=True)

    def complete(self, order_id: str, body: CompleteIn) -> Order:
        now = self.clock.now()
        with self.engine.begin() as conn:
            row = self._locked(conn, order_id, now)
            state = State(row["state"])
            if state is State.COMPLETED:
                return self._json(row)
            check_transition(state, State.COMPLETED)
            amount = money(body.amount)
            if amount > row["payable"]:
                raise AmountExceedsPayable(
                    f"amount {amount} is more than the order's payable {row['payable']}"
                )
            repository.update(
                conn,
                order_id,
                State.COMPLETED.value,
                now,
                completed=True,
                dispensed_litres=body.litres,
                dispensed_amount=amount,
            )
            if row["invoice"] is not None:
                repository.add_invoice_request(conn, order_id, row["invoice"], amount)
            updated = self._reload(conn, order_id, now)
            self._record(conn, state, updated, None)
            return self._json(updated)

    def cancel(self, order_id: str, body: CancelIn) -> Order:
        now = self.clock.now()
        with self.engine.begin() as conn:
            row = self._locked(conn, order_id, now)
            state = State(row["state"])
            if state in (State.CANCELLED, State.REFUNDED):
                return self._json(row)
            if state is State.CREATED:
                return self._transition(
                    conn, row, now, State.CANCELLED, body.reason, cancel_reason=body.reason
                )
            if state is State.PAID:
                return self._transition(
                    conn, row, now, State.REFUNDED, body.reason, cancel_reason=body.reason
                )
            raise IllegalTransition(state, State.CANCELLED.value)

    def refund(self, order_id: str, body: CancelIn) -> Order:
        now = self.clock.now()
        with self.engine.begin() as conn:
            row = self._locked(conn, order_id, now)
            state = State(row["state"])
            if state is State.REFUNDED:
                return self._json(row)
            check_transition(state, State.REFUNDED)
            return self._transition(conn, row, now, State.REFUNDED, body.reason, cancel_reason=body.reason)

    def request_invoice(self, order_id: str, body: InvoiceIn) -> tuple[dict[str, Any], bool]:
        """The order's e-invoice request and whether this call recorded it."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            row = self._locked(conn, order_id, now)
            state = State(row["state"])
            if state is not State.COMPLETED:
                raise OrderNotCompleted(state)
            amount = row["dispensed_amount"] if row["dispensed_amount"] is not None else row["payable"]
            new = repository.add_invoice_request(conn, order_id, body.model_dump(mode="json"), amount)
            invoice = self._json(self._reload(conn, order_id, now))["invoice_request"]
            assert invoice is not None
            return invoice, new

    def expire_due(self, limit: int = 100) -> int:
        """Cancel (reason "expired") unpaid orders past their expiry; the number expired."""
        now = self.clock.now()
        with self.engine.begin() as conn:
            ids = repository.lock_due_for_expiry(conn, now, limit)
            for order_id in ids:
                self._expire_if_due(conn, self._reload(conn, order_id, now), now)
            return len(ids)

    # --- helpers --------------------------------------------------------------------------------------

    def _json(self, row: RowMapping) -> Order:
        return order_json(row, self.qr_secret)

    def _reload(self, conn: Connection, order_id: str, now: datetime) -> RowMapping:
        row = repository.get(conn, order_id, now, lock=True)
        assert row is not None
        return row

    def _locked(
        self, conn: Connection, order_id: str, now: datetime, missing: str | None = None
    ) -> RowMapping:
        """The order, row-locked for this transaction, expired first if it is unpaid past its expiry at
        `now`."""
        row = repository.get(conn, order_id, now, lock=True)
        if row is None:
            raise OrderNotFound(missing or f"no order {order_id}")
        return self._expire_if_due(conn, row, now)

    def _expire_if_due(self, conn: Connection, row: RowMapping, now: datetime) -> RowMapping:
        if not row["due"]:
            return row
        repository.update(conn, row["id"], State.CANCELLED.value, now, cancel_reason=EXPIRED_REASON)
        updated = self._reload(conn, row["id"], now)
        self._record(conn, State.CREATED, updated, EXPIRED_REASON)
        return updated

    def _transition(
        self,
        conn: Connection,
        row: RowMapping,
        now: datetime,
        target: State,
        reason: str | None,
        **fields: Any,
    ) -> Order:
        previous = State(row["state"])
        check_transition(previous, target)
        repository.update(conn, row["id"], target.value, now, **fields)
        updated = self._reload(conn, row["id"], now)
        self._record(conn, previous, updated, reason)
        return self._json(updated)

    def _record(self, conn: Connection, previous: State | None, row: RowMapping, reason: str | None) -> None:
        """History and callback event of the change that left the order as `row`."""
        prev = None if previous is None else previous.value
        repository.add_transition(conn, row["id"], prev, row["state"], reason)
        event_id = _new_id("evt")
        body = event_json(event_id, prev, self._json(row))
        repository.add_event(conn, event_id, row["id"], row["callback_url"], body)
