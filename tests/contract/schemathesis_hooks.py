"""Constraints between fields that JSON Schema cannot state, told to schemathesis (SCHEMATHESIS_HOOKS).

Only these are filtered out of the generated bodies; both are documented on the fields and refused with a
400 naming the body: a rule's `valid_to` must lie after its `valid_from`, and a member level has at most
one discount per grade."""

from __future__ import annotations

from datetime import datetime
from typing import Any

import schemathesis


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
