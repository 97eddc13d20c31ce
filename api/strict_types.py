"""JSON scalars read as the schema says: a boolean is `true`/`false` (never 0, 1 or "yes"), an integer is a
JSON integer (8 or 8.0, never `true` or "8"). Pydantic's lax mode would take all of these.

Identifiers and counters stop at 2**53 - 1: the largest integer every JSON client (JavaScript among
them) reads exactly, and one JSON Schema validators compare exactly."""

from __future__ import annotations

from typing import Annotated

from pydantic import BeforeValidator, Strict

MAX_ID = 2**53 - 1


def whole(value: object) -> object:
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise ValueError("an integer (a JSON number without a fraction)")
    if isinstance(value, float):
        if not value.is_integer():
            raise ValueError("an integer (a JSON number without a fraction)")
        return int(value)
    return value


Flag = Annotated[bool, Strict()]
Whole = Annotated[int, BeforeValidator(whole)]
