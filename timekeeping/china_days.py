"""Which days are Chinese public holidays (rest days) and which weekend days are make-up working days.

The schedule is the State Council's yearly notice (国务院办公厅关于节假日安排的通知).
`chinesecalendar` carries it whole,
rest days in lieu and make-up working days included, for the years it knows (to 2026 in 1.11). For a later
year not yet in it (2027: the notice appears in November of the year before, after that release), `holidays`
gives the statutory days by rule (New Year, the Spring Festival's first days, Qingming, Labour Day, Dragon
Boat, Mid-Autumn, National Day: lunar dates computed), without the rest days in lieu or the make-up working
days, which only the notice fixes; `covered(year)` says which kind of answer a year gets.
"""

from __future__ import annotations

import datetime
from functools import lru_cache

import chinese_calendar
import holidays


@lru_cache(maxsize=8)
def _rule_based(year: int) -> frozenset[datetime.date]:
    return frozenset(holidays.country_holidays("CN", years=year))


@lru_cache(maxsize=64)
def covered(year: int) -> bool:
    """Whether the year's State Council notice is known (else statutory days by rule only)."""
    try:
        chinese_calendar.is_holiday(datetime.date(year, 6, 1))
    except NotImplementedError:
        return False
    return True


def is_public_holiday(day: datetime.date) -> bool:
    """A day off for the public holidays (the notice's rest days, in lieu included; by rule for a year
    not yet in the table). Ordinary weekends are not."""
    if covered(day.year):
        return day in chinese_calendar.holidays
    return day in _rule_based(day.year)


def is_makeup_workday(day: datetime.date) -> bool:
    """A Saturday or Sunday worked in exchange for a holiday's bridge day (known only from the notice)."""
    return covered(day.year) and day in chinese_calendar.workdays
