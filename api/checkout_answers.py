"""Bodies of the checkout routes and of the order core's callback."""

from __future__ import annotations

from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field

from api.price_answers import DecimalString

JSON_VALUE_REF = {"$ref": "#/components/schemas/JsonValue"}  # api/contract.py


class Order(BaseModel):
    """The order core's order as it last told us (contracts/ordercore.openapi.yaml, `Order`)."""

    model_config = ConfigDict(extra="allow")
    order_id: str
    state: str = Field(description="created, paid, fueling, completed, cancelled, refunded, expired ...")
    payable: DecimalString
    currency: str
    verification_code: str | None = Field(
        description="six digits, shown to the attendant; null until the order is paid and once it is done"
    )
    qr_payload: str | None = Field(description="the attendant's QR; null like verification_code")


class Checkout(BaseModel):
    checkout_id: str
    state: str = Field(description="pending, ordered, failed, cancelled ...")
    quote_id: str
    order: Order | None = Field(description="null until the order core has answered")


class EventOutcome(BaseModel):
    event_id: str
    outcome: Literal["applied", "duplicate", "unknown-order"]


_EVENT_SCHEMA: dict[str, Any] = {
    "type": "object",
    "additionalProperties": JSON_VALUE_REF,
    "required": ["event_id", "order_id", "idempotency_key", "state", "order"],
    "properties": {
        "event_id": {"type": "string"},
        "order_id": {"type": "string"},
        "idempotency_key": {"type": "string"},
        "previous_state": {"type": ["string", "null"]},
        "state": {"type": "string"},
        "order": {"type": "object", "additionalProperties": JSON_VALUE_REF},
    },
}
ORDER_EVENT_BODY = {
    "required": True,
    "description": "an order.state_changed event, signed (X-Ordercore-Signature) over these exact bytes",
    "content": {
        "application/json": {
            "schema": _EVENT_SCHEMA,
            "example": {
                "event_id": "evt_01",
                "order_id": "ord_01",
                "idempotency_key": "chk_01",
                "previous_state": "created",
                "state": "paid",
                "order": {"order_id": "ord_01", "state": "paid"},
            },
        }
    },
}
