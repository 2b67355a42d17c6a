"""Working days from the `holidays` library: 2026 National Day week and its adjusted working days."""
from datetime import date, datetime
from zoneinfo import ZoneInfo

from kernel.workdays import add_working_days, is_working_day, working_days_between

SH = ZoneInfo("Asia/Shanghai")


def test_national_day_week_2026_is_off_and_adjusted_weekends_are_on():
    assert not any(is_working_day(date(2026, 10, d)) for d in range(1, 8))
    assert is_working_day(date(2026, 9, 20))  # Sunday worked for the holiday (调休)
    assert is_working_day(date(2026, 10, 10))  # Saturday worked
    assert not is_working_day(date(2026, 10, 11))  # ordinary Sunday
    assert is_working_day(date(2026, 10, 8))


def test_deadline_skips_the_holiday_and_counts_the_adjusted_saturday():
    start = datetime(2026, 9, 30, 10, 0, tzinfo=SH)  # Wednesday before the holiday
    # working days after 30 Sep: 8 Oct (Thu), 9 Oct (Fri), 10 Oct (Sat, adjusted), 12 Oct (Mon), 13 Oct (Tue)
    assert add_working_days(start, 3) == datetime(2026, 10, 10, 10, 0, tzinfo=SH)
    assert add_working_days(start, 5) == datetime(2026, 10, 13, 10, 0, tzinfo=SH)
    assert add_working_days(start, 0) == start


def test_ordinary_week_skips_the_weekend():
    assert add_working_days(datetime(2026, 11, 20, 9, 0, tzinfo=SH), 1) == datetime(2026, 11, 23, 9, 0, tzinfo=SH)
    assert working_days_between(date(2026, 9, 30), date(2026, 10, 13)) == 5
