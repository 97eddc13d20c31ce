"""The OpenAPI patterns of the search filters: exactly the names geo/ resolves (the brand alias table, the
service names), comma-separated, so a value that matches always resolves; and the form of a region (an
adcode, or a Chinese name), which resolves when the catalogue holds the place (else 404 region-not-found)."""

from __future__ import annotations

import re

from geo.brands import BRAND_TABLE
from geo.services import SERVICES

_SEPARATOR = " ?[,，、] ?"


def _spelling(name: str) -> str:
    """Letters in either case, a space optional."""
    return "".join(
        f"[{c.upper()}{c.lower()}]" if c.isascii() and c.isalpha() else " ?" if c == " " else re.escape(c)
        for c in name
    )


def _list_of(names: list[str]) -> str:
    one = "(?:" + "|".join(_spelling(n) for n in sorted(set(names), key=lambda n: (-len(n), n))) + ")"
    return f"^{one}(?:{_SEPARATOR}{one})*$"


BRAND_PATTERN = _list_of([n for b in BRAND_TABLE for n in (b.code, b.full_name, *b.short_names, *b.english)])
SERVICES_PATTERN = _list_of([*SERVICES, *SERVICES.values()])
REGION_PATTERN = r"^(?:[0-9]{6}|[\u3400-\u4dbf\u4e00-\u9fff]{2,24})$"
