"""Constraints between fields that JSON Schema cannot state, told to schemathesis (SCHEMATHESIS_HOOKS).

Only these are filtered out of the generated requests; each is documented on its fields and refused with
a 400 naming them: a rule's `valid_to` must lie after its `valid_from`; a member level has at most one
discount per grade; a nearby cursor is one the service could have issued (it decodes); compare takes at
most one fill (an amount, litres, or tank capacity with level; none is ¥300); an order-list cursor is one
the service issued; a viewport's bbox has minLon <= maxLon and minLat <= maxLat, inside the world."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import schemathesis

from api.map_params import parse_bbox
from checkout.driver_orders import InvalidOrderCursor, decode_order_cursor
from geo.errors import InvalidSearch
from geo.nearby import decode_cursor


def _instant(value: object) -> datetime | None:
    try:
        return datetime.fromisoformat(value) if isinstance(value, str) else None
    except ValueError:
        return None


@schemathesis.hook
def filter_body(context: Any, body: Any) -> bool:
    if not isinstance(body, dict):
        return True
    start, end = _instant(body.get("valid_from")), _instant(body.get("valid_to"))
    aware = start is not None and end is not None and None not in (start.utcoffset(), end.utcoffset())
    if aware and end is not None and start is not None and end <= start:
        return False
    discounts = body.get("discounts")
    if isinstance(discounts, list) and all(isinstance(d, dict) for d in discounts):
        grades = [d.get("grade") for d in discounts]
        if len(grades) != len({str(g) for g in grades}):
            return False
    return True


def _given(query: dict[str, Any], name: str) -> bool:
    return query.get(name) not in (None, "")


@schemathesis.hook
def filter_query(context: Any, query: Any) -> bool:
    path = getattr(getattr(context, "operation", None), "path", "")
    if not isinstance(query, dict):
        return True
    if path == "/v1/stations/nearby" and _given(query, "cursor"):
        try:
            decode_cursor(str(query["cursor"]))
        except InvalidSearch:
            return False
    if path == "/v1/me/orders" and _given(query, "cursor"):
        try:
            decode_order_cursor(str(query["cursor"]))
        except InvalidOrderCursor:
            return False
    if path == "/v1/stations" and _given(query, "bbox"):
        try:
            parse_bbox(query["bbox"])
        except ValueError:
            return False
    if path == "/v1/prices/compare":
        tank, level = _given(query, "tank_capacity"), _given(query, "level")
        fills = _given(query, "amount") + _given(query, "litres") + (tank or level)
        return fills <= 1 and tank == level
    return True
