"""SQL of the order core (schema `ordercore`). Every function runs on the caller's connection/transaction.

The times an order records and its expiry are the order core's clock (`now`, a bound parameter), not the
database's: one clock decides, and a test can move it. Delivery scheduling (the outbox) uses the
database's."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from decimal import Decimal
from typing import Any

import orjson
from sqlalchemy import Connection, RowMapping, text

# An order with its e-invoice request and whether it is unpaid past its expiry at :now.
_SELECT = """
    SELECT o.*, (o.state = 'created' AND o.expires_at <= :now) AS due,
           i.title AS inv_title, i.tax_id AS inv_tax_id, i.email AS inv_email, i.amount AS inv_amount,
           i.status AS inv_status, i.requested_at AS inv_requested_at
    FROM ordercore.orders o LEFT JOIN ordercore.invoice_requests i ON i.order_id = o.id
"""
_BY_ID = text(_SELECT + " WHERE o.id = :id")
_BY_ID_LOCKED = text(_SELECT + " WHERE o.id = :id FOR UPDATE OF o")
_BY_KEY = text(_SELECT + " WHERE o.idempotency_key = :key")
_BY_KEY_LOCKED = text(_SELECT + " WHERE o.idempotency_key = :key FOR UPDATE OF o")

_INSERT = text(
    """
    INSERT INTO ordercore.orders (
        id, idempotency_key, request_sha256, state, station_id, position, nozzle, grade, fill_kind,
        fill_value, litres, list_amount, payable, currency, coupons, points_used, driver_id, quote_id,
        quote_token, invoice, verification_code, callback_url, created_at, updated_at, expires_at)
    VALUES (
        :id, :idempotency_key, :request_sha256, 'created', :station_id, :position, :nozzle, :grade,
        :fill_kind, :fill_value, :litres, :list_amount, :payable, :currency, :coupons, :points_used,
        :driver_id, :quote_id, :quote_token, CAST(:invoice AS jsonb), :verification_code, :callback_url,
        :now, :now, CAST(:now AS timestamptz) + make_interval(secs => :ttl))
    ON CONFLICT (idempotency_key) DO NOTHING
    RETURNING id
    """
)

# One statement for every transition: each optional column keeps its value unless given.
_UPDATE = text(
    """
    UPDATE ordercore.orders SET
        state = :state,
        updated_at = :now,
        payment_method = COALESCE(:payment_method, payment_method),
        payment_transaction_id = COALESCE(:payment_transaction_id, payment_transaction_id),
        payment_amount = COALESCE(:payment_amount, payment_amount),
        paid_at = CASE WHEN :paid THEN :now ELSE paid_at END,
        code_redeemed_at = CASE WHEN :redeemed THEN :now ELSE code_redeemed_at END,
        dispensed_litres = CASE WHEN :completed THEN :dispensed_litres ELSE dispensed_litres END,
        dispensed_amount = CASE WHEN :completed THEN :dispensed_amount ELSE dispensed_amount END,
        completed_at = CASE WHEN :completed THEN :now ELSE completed_at END,
        cancel_reason = COALESCE(:cancel_reason, cancel_reason)
    WHERE id = :id
    """
)
_UPDATE_DEFAULTS: dict[str, Any] = {
    "payment_method": None,
    "payment_transaction_id": None,
    "payment_amount": None,
    "paid": False,
    "redeemed": False,
    "completed": False,
    "dispensed_litres": None,
    "dispensed_amount": None,
    "cancel_reason": None,
}

_INSERT_TRANSITION = text(
    """
    INSERT INTO ordercore.order_transitions (order_id, from_state, to_state, reason)
    VALUES (:order_id, :from_state, :to_state, :reason)
    """
)
_INSERT_EVENT = text(
    """
    INSERT INTO ordercore.outbox (event_id, order_id, target_url, body)
    VALUES (:event_id, :order_id, :target_url, CAST(:body AS jsonb))
    """
)
_INSERT_INVOICE = text(
    """
    INSERT INTO ordercore.invoice_requests (order_id, title, tax_id, email, amount)
    VALUES (:order_id, :title, :tax_id, :email, :amount)
    ON CONFLICT (order_id) DO NOTHING
    RETURNING order_id
    """
)
# The station's order holding a code: its live order if any, else the latest one that had it.
_BY_CODE = text(
    """
    SELECT id FROM ordercore.orders
    WHERE station_id = :station_id AND verification_code = :code
    ORDER BY (state IN ('created', 'paid', 'fueling')) DESC, created_at DESC
    LIMIT 1
    """
)
_DUE_FOR_EXPIRY = text(
    """
    SELECT id FROM ordercore.orders
    WHERE state = 'created' AND expires_at <= :now
    ORDER BY expires_at
    LIMIT :limit
    FOR UPDATE SKIP LOCKED
    """
)


def get(conn: Connection, order_id: str, now: datetime, *, lock: bool = False) -> RowMapping | None:
    return conn.execute(_BY_ID_LOCKED if lock else _BY_ID, {"id": order_id, "now": now}).mappings().first()


def get_by_key(conn: Connection, key: str, now: datetime, *, lock: bool = False) -> RowMapping | None:
    return conn.execute(_BY_KEY_LOCKED if lock else _BY_KEY, {"key": key, "now": now}).mappings().first()


def insert(conn: Connection, values: Mapping[str, Any]) -> bool:
    """Insert a new order created at values["now"], expiring values["ttl"] seconds later; False when the
    idempotency key is taken (by a concurrent create)."""
    params = dict(values)
    params["invoice"] = None if values["invoice"] is None else orjson.dumps(values["invoice"]).decode()
    return conn.execute(_INSERT, params).first() is not None


def update(conn: Connection, order_id: str, state: str, now: datetime, **fields: Any) -> None:
    unknown = set(fields) - set(_UPDATE_DEFAULTS)
    if unknown:
        raise TypeError(f"unknown order fields {sorted(unknown)}")
    conn.execute(_UPDATE, {**_UPDATE_DEFAULTS, **fields, "id": order_id, "state": state, "now": now})


def add_transition(
    conn: Connection, order_id: str, from_state: str | None, to_state: str, reason: str | None
) -> None:
    conn.execute(
        _INSERT_TRANSITION,
        {"order_id": order_id, "from_state": from_state, "to_state": to_state, "reason": reason},
    )


def add_event(
    conn: Connection, event_id: str, order_id: str, target_url: str, body: Mapping[str, Any]
) -> None:
    params = {
        "event_id": event_id,
        "order_id": order_id,
        "target_url": target_url,
        "body": orjson.dumps(body).decode(),
    }
    conn.execute(_INSERT_EVENT, params)


def add_invoice_request(conn: Connection, order_id: str, invoice: Mapping[str, Any], amount: Decimal) -> bool:
    """Record the order's e-invoice request; False when it already has one."""
    row = conn.execute(
        _INSERT_INVOICE,
        {
            "order_id": order_id,
            "title": invoice["title"],
            "tax_id": invoice.get("tax_id"),
            "email": invoice["email"],
            "amount": amount,
        },
    ).first()
    return row is not None


def find_by_code(conn: Connection, station_id: int, code: str) -> str | None:
    found = conn.execute(_BY_CODE, {"station_id": station_id, "code": code}).scalar()
    return None if found is None else str(found)


def lock_due_for_expiry(conn: Connection, now: datetime, limit: int) -> list[str]:
    return [str(r) for r in conn.execute(_DUE_FOR_EXPIRY, {"limit": limit, "now": now}).scalars()]


def transitions(conn: Connection, order_id: str) -> list[tuple[str | None, str, str | None]]:
    rows = conn.execute(
        text(
            "SELECT from_state, to_state, reason FROM ordercore.order_transitions"
            " WHERE order_id = :id ORDER BY id"
        ),
        {"id": order_id},
    )
    return [(r.from_state, r.to_state, r.reason) for r in rows]
