"""An example on every operation: the request body and every response of the OpenAPI document.

Hand-written where a client developer reads first (the station detail, prices, quotes, checkout);
elsewhere built from the schema itself (each field's own example, else its default, first enum value or
a value of its type), so the example always matches the schema. Request examples carry only the
required fields and are sent as they are by schemathesis' examples phase."""

from __future__ import annotations

from typing import Any

QUESTION = {
    "station_id": 1,
    "grade": "92",
    "fill": {"by_amount": "300.00"},
    "payment_channels": ["wechat_pay"],
}
REQUESTS: dict[str, Any] = {
    "redeemOrderCode": {"code": "123456"},  # one of code and qr_payload (neither is required alone)
    "effectivePrice": QUESTION,
    "createQuote": QUESTION,
    "verifyQuote": {"token": "k1.eyJxdW90ZV9pZCI6ICIuLi4ifQ.3f9a"},
    "createCheckout": {"quote_token": "k1.eyJxdW90ZV9pZCI6ICIuLi4ifQ.3f9a", "position": 1, "nozzle": 1},
    "putStationPrices": {
        "prices": [
            {"grade": "92", "tier": "pump", "price": "7.89"},
            {"grade": "92", "tier": "platform", "price": "7.59"},
        ]
    },
}
_BREAKDOWN = {
    "currency": "CNY",
    "pump_price": "7.89",
    "platform_price": "7.59",
    "gross": "300.00",
    "lines": [
        {
            "kind": "station",
            "rule_id": "1",
            "description": "station price 7.59 instead of 7.89",
            "amount": "11.41",
            "reason": "platform price",
            "measured_on": "300.00",
        }
    ],
    "payable": "288.59",
    "litres": "38.02",
    "effective_price_per_litre": "7.59",
    "coupon_ids": [],
    "payment_promotion_ids": [],
    "payment_channel": None,
    "points_used": 0,
    "unused_coupons": [],
}
_QUOTE = {
    **_BREAKDOWN,
    "quote_id": "5f0c2b9e8a7d4c3b9e1f2a3b4c5d6e7f",
    "station_id": 1,
    "grade": "92",
    "driver_id": "wx-driver-1",
    "fill": {"mode": "by_amount", "amount": "300.00"},
    "issued_at": "2026-11-22T00:00:00+00:00",
    "expires_at": "2026-11-22T00:05:00+00:00",
}
RESPONSES: dict[str, Any] = {
    "effectivePrice": {**_BREAKDOWN, "station_id": 1, "grade": "92", "as_of": "2026-11-22T00:00:00+00:00"},
    "createQuote": {**_QUOTE, "token": "k1.eyJxdW90ZV9pZCI6ICIuLi4ifQ.3f9a"},
    "verifyQuote": {"valid": True, "used": False, "quote": _QUOTE},
    "createCheckout": {
        "checkout_id": "chk_3b9e1f2a",
        "state": "ordered",
        "quote_id": "5f0c2b9e8a7d4c3b9e1f2a3b4c5d6e7f",
        "order": {
            "order_id": "ord_8k2m",
            "state": "created",
            "payable": "288.59",
            "currency": "CNY",
            "verification_code": "481920",
            "qr_payload": "ocv1.ord_8k2m.481920." + "0" * 64,
        },
    },
}


def _resolve(components: dict[str, Any], schema: dict[str, Any]) -> dict[str, Any]:
    while "$ref" in schema:
        schema = components[schema["$ref"].rsplit("/", 1)[1]]
    return schema


def example_of(components: dict[str, Any], schema: dict[str, Any], required_only: bool = False) -> Any:
    """A value matching `schema` (components: the document's component schemas)."""
    schema = _resolve(components, schema)
    if "example" in schema:
        return schema["example"]
    if schema.get("examples"):
        return schema["examples"][0]
    if schema.get("default") is not None:
        return schema["default"]
    if "const" in schema:
        return schema["const"]
    if schema.get("enum"):
        return schema["enum"][0]
    if "allOf" in schema:
        merged: dict[str, Any] = {}
        for part in schema["allOf"]:
            value = example_of(components, part, required_only)
            merged.update(value if isinstance(value, dict) else {})
        return merged
    for key in ("oneOf", "anyOf"):
        if key in schema:
            options = [o for o in schema[key] if o.get("type") != "null"] or schema[key]
            return example_of(components, options[0], required_only)
    kind = schema.get("type")
    if kind == "object" or "properties" in schema:
        required = set(schema.get("required", []))
        return {
            name: example_of(components, prop, required_only)
            for name, prop in schema.get("properties", {}).items()
            if name in required or not required_only
        }
    if kind == "array":
        return [example_of(components, schema["items"], required_only)] if schema.get("items") else []
    if kind == "integer":
        return max(1, int(schema.get("minimum", 1)))
    if kind == "number":
        return 1.5
    if kind == "boolean":
        return True
    if kind == "null":
        return None
    if schema.get("format") == "date-time":
        return "2026-11-22T08:00:00+08:00"
    return "string"


def add_examples(spec: dict[str, Any]) -> None:
    """Fill in an example for every request body and response media type that has none."""
    components = spec.get("components", {}).get("schemas", {})
    for operations in spec.get("paths", {}).values():
        for op in operations.values():
            op_id = op.get("operationId", "")
            for content in op.get("requestBody", {}).get("content", {}).values():
                if "example" not in content and "examples" not in content:
                    fallback = example_of(components, content.get("schema", {}), required_only=True)
                    content["example"] = REQUESTS.get(op_id, fallback)
            for status, response in op.get("responses", {}).items():
                for content in response.get("content", {}).values():
                    if "example" not in content and "examples" not in content:
                        fallback = example_of(components, content.get("schema", {}))
                        content["example"] = RESPONSES.get(op_id, fallback) if status < "300" else fallback
