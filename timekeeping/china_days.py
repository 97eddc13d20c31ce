"""Which days are Chinese public holidays (rest days) and which weekend days are make-up working days.

The schedule is the State Council's yearly notice (国务院办公厅关于节假日安排的通知).
`chinesecalendar` carries it whole,
rest days in lieu and make-up working days included, for the years it knows (to 2026 in 1.11). For a later
year not yet in it (2027: the notice appears in November of the year before, after that release), `holidays`
gives the statutory days by rule (New Year, the Spring Festival's first days, Qingming, Labour Day, Dragon
Boat, Mid-Autumn, National Day: lunar dates computed), a statutory day on a weekend moved to the next
working day by its rule (2027: 9-10 February, 3-4 May, 4-5 October), but no make-up working days, which only
the notice fixes; `covered(year)` says which kind of answer a year gets.

Make-up working days (调休) from 2027 on: `holidays` 0.109 has none. Its China class offers the categories
`public` and `half_day` only (no `workday`, which some countries have), and the make-up days it knows are the
"substituted from" halves of its `special_public_holidays` pairs, typed in from each notice up to 2026. No
rule derives them: the notice picks the weekend days to move case by case (2025's National Day took one
Sunday and one Saturday, 2026's New Year one Sunday, 2025's New Year none). Until a package release carries
a year's notice, an operator supplies its days with `STATIONS_CHINA_NOTICE` (`supply`, `parse_notice`):
`2027-02-20=work,2027-02-11=rest`. A supplied day wins over both packages.
"""

from __future__ import annotations

import datetime
from dataclasses import dataclass
from functools import lru_cache

import chinese_calendar
import holidays


@dataclass(frozen=True, slots=True)
class Notice:
    """Days an operator supplies from a notice the packages do not carry yet."""

    rest: frozenset[datetime.date] = frozenset()
    work: frozenset[datetime.date] = frozenset()


_supplied = Notice()


def parse_notice(text: str) -> Notice:
    """`YYYY-MM-DD=rest` (a day off) or `YYYY-MM-DD=work` (a make-up working day), comma or space
    separated. ValueError on anything else, or a day given both ways."""
    rest: set[datetime.date] = set()
    work: set[datetime.date] = set()
    for item in text.replace(",", " ").split():
        day_text, sep, kind = item.partition("=")
        if not sep or kind not in ("rest", "work"):
            raise ValueError(f"{item!r}: expected YYYY-MM-DD=rest or YYYY-MM-DD=work")
        day = datetime.date.fromisoformat(day_text)
        (rest if kind == "rest" else work).add(day)
    both = rest & work
    if both:
        raise ValueError(f"{min(both).isoformat()} is given as both rest and work")
    return Notice(frozenset(rest), frozenset(work))


def supply(notice: Notice) -> None:
    """Make the process answer with `notice`'s days (the app does this from its settings at start)."""
    global _supplied
    _supplied = notice


def supplied() -> Notice:
    return _supplied


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
    not yet in the table). Ordinary weekends are not. A supplied day wins."""
    if day in _supplied.rest:
        return True
    if day in _supplied.work:
        return False
    if covered(day.year):
        return day in chinese_calendar.holidays
    return day in _rule_based(day.year)


def is_makeup_workday(day: datetime.date) -> bool:
    """A Saturday or Sunday worked in exchange for a holiday's bridge day (known only from the notice:
    the package's, else a supplied one)."""
    if day in _supplied.work:
        return True
    if day in _supplied.rest:
        return False
    return covered(day.year) and day in chinese_calendar.workdays
