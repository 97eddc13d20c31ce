"""Chinese public holidays and make-up working days, from the State Council's notices (via the packages)."""

from __future__ import annotations

from datetime import date

from timekeeping.china_days import covered, is_makeup_workday, is_public_holiday


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
