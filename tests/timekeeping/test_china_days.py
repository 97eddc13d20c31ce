"""Chinese public holidays and make-up working days, from the State Council's notices (via the packages)."""

from __future__ import annotations

from datetime import date

import pytest
from holidays.calendars.gregorian import JAN
from holidays.countries.china import China, ChinaStaticHolidays
from pydantic import ValidationError

from api.settings import Settings
from timekeeping.china_days import (
    covered,
    is_makeup_workday,
    is_public_holiday,
    parse_notice,
    supplied,
    supply,
)


def test_2026_from_the_notice_rest_days_in_lieu_and_make_up_days_included() -> None:
    assert covered(2026)
    for day in (date(2026, 1, 1), date(2026, 2, 17), date(2026, 9, 25), date(2026, 10, 1), date(2026, 10, 7)):
        assert is_public_holiday(day), day
    # ordinary days and weekends are neither
    assert not is_public_holiday(date(2026, 9, 24))
    assert not is_public_holiday(date(2026, 11, 7))  # a Saturday
    # the Sundays and Saturdays worked for the National Day bridge
    assert is_makeup_workday(date(2026, 9, 20)) and is_makeup_workday(date(2026, 10, 10))
    assert not is_public_holiday(date(2026, 9, 20))
    assert not is_makeup_workday(date(2026, 9, 19))


def test_2027_statutory_days_by_rule_until_the_notice_is_in_the_table() -> None:
    # New Year, the Spring Festival (6 Feb 2027 is New Year's Day of the lunar year), Labour Day, National Day
    for day in (date(2027, 1, 1), date(2027, 2, 6), date(2027, 5, 1), date(2027, 10, 1)):
        assert is_public_holiday(day), day
    assert not is_public_holiday(date(2027, 3, 10))
    if not covered(2027):
        assert not is_makeup_workday(date(2027, 9, 26))  # unknown before the notice


def test_the_package_has_no_make_up_days_for_2027_and_no_rule_gives_them() -> None:
    """Evidence for the docstring: `holidays` offers China no workday category, and every make-up day it
    knows comes from a notice's pair (2026's Sunday 4 January for Friday 2 January); 2027 has none."""
    assert China.supported_categories == ("public", "half_day")
    pairs = ChinaStaticHolidays.special_public_holidays
    assert (JAN, 2, JAN, 4) in pairs[2026] and 2027 not in pairs and max(pairs) == 2026
    # the rule moves 2027's weekend statutory days to the next working days (in lieu), nothing more
    assert is_public_holiday(date(2027, 2, 9)) and is_public_holiday(date(2027, 10, 5))
    assert not is_makeup_workday(date(2027, 2, 20)) and not is_makeup_workday(date(2027, 9, 26))


def test_an_operator_supplies_a_notice_the_packages_do_not_carry() -> None:
    notice = parse_notice("2027-02-20=work, 2027-02-11=rest 2027-10-06=rest,2027-09-26=work")
    assert notice.work == {date(2027, 2, 20), date(2027, 9, 26)}
    assert notice.rest == {date(2027, 2, 11), date(2027, 10, 6)}
    before = supplied()
    try:
        supply(notice)
        assert is_makeup_workday(date(2027, 2, 20)) and not is_public_holiday(date(2027, 2, 20))
        assert is_public_holiday(date(2027, 2, 11)) and not is_makeup_workday(date(2027, 2, 11))
        assert is_public_holiday(date(2027, 10, 6))
        assert not is_makeup_workday(date(2027, 2, 21))  # a Sunday not named stays an ordinary weekend
        supply(parse_notice("2027-02-10=work"))  # a day the rule gives in lieu, worked by the notice
        assert not is_public_holiday(date(2027, 2, 10)) and is_makeup_workday(date(2027, 2, 10))
    finally:
        supply(before)
    assert not is_makeup_workday(date(2027, 2, 20)) and is_public_holiday(date(2027, 2, 10))


@pytest.mark.parametrize(
    "text", ["2027-02-20", "2027-02-20=holiday", "2027-02-30=work", "2027-02-20=work 2027-02-20=rest"]
)
def test_a_bad_notice_is_refused(text: str) -> None:
    with pytest.raises(ValueError):
        parse_notice(text)


def test_the_service_refuses_to_start_with_a_bad_notice() -> None:
    assert Settings(china_notice="2027-02-20=work").china_notice == "2027-02-20=work"
    with pytest.raises(ValidationError, match="2027-02-20=weekday"):
        Settings(china_notice="2027-02-20=weekday")
