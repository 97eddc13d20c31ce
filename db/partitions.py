"""Day partitions of occupancy_events and waiting_reports (migration 0011): one per China day, named
`<table>_pYYYYMMDD`, holding [00:00, 24:00) Asia/Shanghai (UTC+8 all year, no DST), and `<table>_default`
for any row no day partition takes. Upkeep (upkeep/partitions.py) creates and drops them."""

from __future__ import annotations

import re
from datetime import UTC, date, datetime, time, timedelta, timezone

CHINA = timezone(timedelta(hours=8), "CST")
PARTITIONED = ("occupancy_events", "waiting_reports")
_NAME = re.compile(r"^(?P<table>" + "|".join(PARTITIONED) + r")_(?:p(?P<day>\d{8})|default)$")


def china_day(instant: datetime) -> date:
    """The China calendar day of an aware instant."""
    return instant.astimezone(CHINA).date()


def day_bounds(day: date) -> tuple[datetime, datetime]:
    """[start, end) of a China day, as UTC instants."""
    start = datetime.combine(day, time(0), CHINA).astimezone(UTC)
    return start, start + timedelta(days=1)


def partition_name(table: str, day: date) -> str:
    return f"{table}_p{day:%Y%m%d}"


def default_name(table: str) -> str:
    return f"{table}_default"


def is_partition(name: str) -> bool:
    """Whether a table name is one of the day (or DEFAULT) partitions (not in db.models: alembic skips it)."""
    return _NAME.match(name) is not None


def partition_day(table: str, name: str) -> date | None:
    """The China day a partition of `table` named by `partition_name` holds; None for any other name."""
    match = _NAME.match(name)
    if match is None or match["table"] != table or match["day"] is None:
        return None
    try:
        return datetime.strptime(match["day"], "%Y%m%d").date()
    except ValueError:
        return None
