"""Decimal strings in request bodies: a JSON string matching a pattern, never a JSON number.

The pattern is the whole rule (digits, places, range where it can be written as one), so the OpenAPI
says exactly what is accepted: `"300.00"` yes, `300`, `300.5` or `"300.005"` (for money) no. A Decimal
built in Python (a query parameter parsed elsewhere) passes as it is."""

from __future__ import annotations

import re
from dataclasses import dataclass
from decimal import Decimal
from typing import Any

from pydantic import GetCoreSchemaHandler, GetJsonSchemaHandler
from pydantic.json_schema import JsonSchemaValue
from pydantic_core import CoreSchema, core_schema


@dataclass(frozen=True)
class DecimalText:
    """Metadata for `Annotated[Decimal, DecimalText(pattern, description, example)]`: the string must match
    `pattern` (anchored); the OpenAPI shows a string with that pattern."""

    pattern: str
    description: str
    example: str

    def parse(self, value: object) -> object:
        if isinstance(value, Decimal):
            return value
        if not isinstance(value, str):
            raise ValueError(f'a decimal number as a JSON string, e.g. "{self.example}", never a JSON number')
        if re.fullmatch(self.pattern, value) is None:
            raise ValueError(f"{self.description}: a string matching {self.pattern}")
        return Decimal(value)

    def __get_pydantic_core_schema__(self, source: Any, handler: GetCoreSchemaHandler) -> CoreSchema:
        return core_schema.no_info_before_validator_function(self.parse, handler(source))

    def __get_pydantic_json_schema__(
        self, schema: CoreSchema, handler: GetJsonSchemaHandler
    ) -> JsonSchemaValue:
        return {
            "type": "string",
            "pattern": self.pattern,
            "description": self.description,
            "examples": [self.example],
        }


def digits(integer: int, places: int, *, signed: bool = False) -> str:
    """At most `integer` digits before the point and `places` after it."""
    sign = "-?" if signed else ""
    return rf"^{sign}[0-9]{{1,{integer}}}(\.[0-9]{{1,{places}}})?$"


# 0.01 to 100000 (yuan), at most two places
AMOUNT = r"^([1-9][0-9]{0,4}(\.[0-9]{1,2})?|100000(\.00?)?|0\.(0[1-9]|[1-9][0-9]?))$"
# 0.01 to 2000 (litres), at most two places
VOLUME = r"^([1-9][0-9]{0,2}(\.[0-9]{1,2})?|1[0-9]{3}(\.[0-9]{1,2})?|2000(\.00?)?|0\.(0[1-9]|[1-9][0-9]?))$"
# 0 (empty) to 0.999 (almost full)
LEVEL = r"^0(\.[0-9]{1,3})?$"
