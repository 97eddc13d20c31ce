"""Opening hours.

JSON form stored in stations.opening_hours (null = unknown):
  {"always_open": true}
  {"weekly": {"mon": [["06:00", "22:00"]], "tue": [["06:00", "12:00"], ["14:00", "22:00"]], ...}}
A missing day is closed that day. An interval whose end is not after its start runs past midnight
("22:00"-"06:00" on Monday covers Monday 22:00 to Tuesday 06:00); "24:00" is allowed as an end.
Times are station local time (stations.timezone, Asia/Shanghai by default).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from geo.errors import InvalidHours

DAYS = ("mon", "tue", "wed", "thu", "fri", "sat", "sun")
MINUTES_PER_DAY = 1440
MINUTES_PER_WEEK = 7 * MINUTES_PER_DAY


def _minutes(text: str) -> int:
    try:
        hh, mm = text.split(":")
        h, m = int(hh), int(mm)
    except (ValueError, AttributeError):
        raise InvalidHours(f"time {text!r} is not HH:MM") from None
    if not (0 <= h <= 24 and 0 <= m < 60) or (h == 24 and m != 0):
        raise InvalidHours(f"time {text!r} is out of range")
    return h * 60 + m


def _hhmm(minutes: int) -> str:
    return f"{minutes // 60:02d}:{minutes % 60:02d}"


@dataclass(frozen=True)
class OpeningHours:
    always_open: bool
    # Minute-of-week intervals [start, end), 0 = Monday 00:00, non-overlapping, sorted, end <= 10080.
    week: tuple[tuple[int, int], ...] = ()
    # The intervals as given, for the JSON round trip.
    weekly: tuple[tuple[str, tuple[tuple[str, str], ...]], ...] = ()

    @classmethod
    def from_json(cls, data: Any) -> OpeningHours:
        if not isinstance(data, dict):
            raise InvalidHours("opening hours must be an object")
        if data.get("always_open") is True:
            return cls(always_open=True)
        weekly = data.get("weekly")
        if not isinstance(weekly, dict):
            raise InvalidHours('opening hours need "always_open": true or a "weekly" object')
        unknown = set(weekly) - set(DAYS)
        if unknown:
            raise InvalidHours(f"unknown day(s) {sorted(unknown)}; use {', '.join(DAYS)}")
        spans: list[tuple[int, int]] = []
        kept: list[tuple[str, tuple[tuple[str, str], ...]]] = []
        for day_index, day in enumerate(DAYS):
            intervals = weekly.get(day) or []
            if not isinstance(intervals, list):
                raise InvalidHours(f"{day}: intervals must be a list of [open, close] pairs")
            pairs: list[tuple[str, str]] = []
            for pair in intervals:
                if not (isinstance(pair, list | tuple) and len(pair) == 2):
                    raise InvalidHours(f"{day}: interval {pair!r} is not [open, close]")
                start, end = _minutes(pair[0]), _minutes(pair[1])
                if start == MINUTES_PER_DAY:
                    raise InvalidHours(f"{day}: an interval cannot open at 24:00")
                base = day_index * MINUTES_PER_DAY
                if end > start:
                    spans.append((base + start, base + end))
                else:  # runs past midnight, wrapping Sunday into Monday
                    spans.append((base + start, base + MINUTES_PER_DAY))
                    nxt = ((day_index + 1) % 7) * MINUTES_PER_DAY
                    if end > 0:
                        spans.append((nxt, nxt + end))
                pairs.append((str(pair[0]), str(pair[1])))
            if pairs:
                kept.append((day, tuple(pairs)))
        merged: list[tuple[int, int]] = []
        for start, end in sorted(spans):
            if merged and start <= merged[-1][1]:
                merged[-1] = (merged[-1][0], max(merged[-1][1], end))
            else:
                merged.append((start, end))
        if merged == [(0, MINUTES_PER_WEEK)]:
            return cls(always_open=True)
        return cls(always_open=False, week=tuple(merged), weekly=tuple(kept))

    def to_json(self) -> dict[str, Any]:
        if self.always_open:
            return {"always_open": True}
        return {"weekly": {day: [list(p) for p in pairs] for day, pairs in self.weekly}}

    def is_open_at_minute(self, minute_of_week: int) -> bool:
        if self.always_open:
            return True
        return any(start <= minute_of_week < end for start, end in self.week)

    def is_open(self, local: datetime) -> bool:
        return self.is_open_at_minute(minute_of_week(local))

    def day(self, local: datetime) -> list[tuple[str, str]]:
        """The hours of the local day of `local`, clipped to that day ("00:00" to "24:00"): an interval
        from the evening before shows from 00:00, one running past midnight ends at 24:00."""
        if self.always_open:
            return [("00:00", "24:00")]
        start = local.weekday() * MINUTES_PER_DAY
        end = start + MINUTES_PER_DAY
        return [
            (_hhmm(max(a, start) - start), _hhmm(min(b, end) - start))
            for a, b in self.week
            if a < end and b > start
        ]


def minute_of_week(local: datetime) -> int:
    return local.weekday() * MINUTES_PER_DAY + local.hour * 60 + local.minute


def daily(open_at: str, close_at: str) -> OpeningHours:
    """The same interval every day (a convenience for feeds and the demo generator)."""
    return OpeningHours.from_json({"weekly": {day: [[open_at, close_at]] for day in DAYS}})


__all__ = ["DAYS", "OpeningHours", "daily", "minute_of_week", "_hhmm"]
