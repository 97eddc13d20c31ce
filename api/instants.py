"""Instants the API accepts: aware times inside the range every layer can hold and compute with.

Python's datetime ends at years 1 and 9999: an offset can carry a time at either end outside it (0001-01-01
at +14:00 is year 0 in UTC), and PostgreSQL hands such a stored time back as something Python cannot
build, so one bad value would fail every later read (and an answer near the end adds minutes to it).
Times are therefore refused (400) outside [1900-01-01, 9000-01-01) in UTC.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime, BeforeValidator, WithJsonSchema

from timekeeping.rfc3339 import instant_text

__all__ = ["AS_OF_QUERY", "AnyTime", "Instant", "instant_text", "within_range"]

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)
MAX_OFFSET = timedelta(hours=14)  # the widest offset any time zone uses (PostgreSQL refuses 16:00 and up)


def within_range(value: datetime) -> datetime:
    """The time itself (naive: read as UTC); ValueError outside [EARLIEST, LATEST) or with an offset
    wider than any time zone's."""
    offset = value.utcoffset()
    if offset is not None and abs(offset) > MAX_OFFSET:
        raise ValueError("the offset must lie between -14:00 and +14:00")
    aware = value if offset is not None else value.replace(tzinfo=UTC)
    if not EARLIEST <= aware < LATEST:
        raise ValueError(f"must lie between {EARLIEST.date()} and {LATEST.date()} (UTC)")
    return value


# Documented as years 1901 to 8998, which no offset can carry outside the range, and an offset no wider
# than +-14:00 (or Z).
YEARS = (
    r"^(19[0-9][1-9]|19[1-9]0|[2-7][0-9]{3}|8[0-8][0-9]{2}|89[0-8][0-9]|899[0-8])-"
    r".*([Zz]|[+-](0[0-9]|1[0-3]):[0-5][0-9]|[+-]14:00)$"
)
_DOC = {"type": "string", "format": "date-time", "pattern": YEARS}


def _text_only(value: object) -> object:
    # pydantic would read a number, or a string of one ("0.5"), as Unix time
    if isinstance(value, int | float) or (isinstance(value, str) and not re.match(r"[0-9]{4}-", value)):
        raise ValueError("a time is an RFC 3339 string with an offset, e.g. 2026-11-22T08:00:00+08:00")
    return value


Instant = Annotated[
    AwareDatetime, BeforeValidator(_text_only), AfterValidator(within_range), WithJsonSchema(_DOC)
]
AS_OF_QUERY = {"format": "date-time", "pattern": YEARS}
AnyTime = Annotated[datetime, AfterValidator(within_range)]  # naive ones too (read as UTC)
