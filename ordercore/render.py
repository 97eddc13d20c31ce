"""Orders and callback events as the contract's JSON (money with 2 places, times RFC 3339 UTC)."""

from __future__ import annotations

from collections.abc import Mapping
from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

from ordercore.codes import qr_payload
from ordercore.schemas import CENT


def money_text(value: Decimal) -> str:
    return format(value.quantize(CENT), "f")


def decimal_text(value: Decimal | None) -> str | None:
    return None if value is None else format(value, "f")


def time_text(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def invoice_json(row: Mapping[Any, Any]) -> dict[str, Any] | None:
    if row["inv_requested_at"] is None:
        return None
    return {
        "title": row["inv_title"],
        "tax_id": row["inv_tax_id"],
        "email": row["inv_email"],
        "amount": money_text(row["inv_amount"]),
        "status": row["inv_status"],
        "requested_at": time_text(row["inv_requested_at"]),
    }


def order_json(row: Mapping[Any, Any], qr_secret: bytes) -> dict[str, Any]:
    """The Order schema from a row of repository.ORDER_COLUMNS."""
    payment = None
    if row["paid_at"] is not None:
        payment = {
            "method": row["payment_method"],
            "transaction_id": row["payment_transaction_id"],
            "amount": money_text(row["payment_amount"]),
            "paid_at": time_text(row["paid_at"]),
        }
    dispensed = None
    if row["dispensed_amount"] is not None:
        dispensed = {
            "litres": decimal_text(row["dispensed_litres"]),
            "amount": money_text(row["dispensed_amount"]),
        }
    return {
        "order_id": row["id"],
        "idempotency_key": row["idempotency_key"],
        "state": row["state"],
        "station_id": row["station_id"],
        "position": row["position"],
        "nozzle": row["nozzle"],
        "grade": row["grade"],
        "fill": {"kind": row["fill_kind"], "value": decimal_text(row["fill_value"])},
        "litres": decimal_text(row["litres"]),
        "list_amount": money_text(row["list_amount"]),
        "payable": money_text(row["payable"]),
        "currency": row["currency"],
        "coupons": list(row["coupons"]),
        "points_used": row["points_used"],
        "driver_id": row["driver_id"],
        "quote_id": row["quote_id"],
        "verification_code": row["verification_code"],
        "qr_payload": qr_payload(qr_secret, row["id"], row["verification_code"]),
        "payment": payment,
        "cancel_reason": row["cancel_reason"],
        "invoice_request": invoice_json(row),
        "redeemed_at": time_text(row["code_redeemed_at"]),
        "dispensed": dispensed,
        "created_at": time_text(row["created_at"]),
        "updated_at": time_text(row["updated_at"]),
        "expires_at": time_text(row["expires_at"]),
    }


def event_json(event_id: str, previous_state: str | None, order: dict[str, Any]) -> dict[str, Any]:
    return {
        "event_id": event_id,
        "type": "order.state_changed",
        "order_id": order["order_id"],
        "idempotency_key": order["idempotency_key"],
        "previous_state": previous_state,
        "state": order["state"],
        "occurred_at": order["updated_at"],
        "order": order,
    }
