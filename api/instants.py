"""Instants the API accepts: aware times inside the range every layer can hold and compute with.

Python's datetime ends at years 1 and 9999: an offset can carry a time at either end outside it (0001-01-01
at +14:00 is year 0 in UTC), and PostgreSQL hands such a stored time back as something Python cannot
build, so one bad value would fail every later read (and an answer near the end adds minutes to it).
Times are therefore refused (400) outside [1900-01-01, 9000-01-01) in UTC.
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Annotated

from pydantic import AfterValidator, AwareDatetime

EARLIEST = datetime(1900, 1, 1, tzinfo=UTC)
LATEST = datetime(9000, 1, 1, tzinfo=UTC)


def within_range(value: datetime) -> datetime:
    """The time itself (naive: read as UTC); ValueError outside [EARLIEST, LATEST)."""
    aware = value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
    if not EARLIEST <= aware < LATEST:
        raise ValueError(f"must lie between {EARLIEST.date()} and {LATEST.date()} (UTC)")
    return value


Instant = Annotated[AwareDatetime, AfterValidator(within_range)]
AnyTime = Annotated[datetime, AfterValidator(within_range)]  # naive ones too (read as UTC)
