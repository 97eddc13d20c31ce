"""The one form of a time in every answer: RFC 3339 in UTC with milliseconds and its offset."""

from __future__ import annotations

from datetime import UTC, datetime


def instant_text(value: datetime) -> str:
    """'2026-11-24T02:00:00.000+00:00'; a naive time is read as UTC."""
    aware = value if value.utcoffset() is not None else value.replace(tzinfo=UTC)
    return aware.astimezone(UTC).isoformat(timespec="milliseconds")
