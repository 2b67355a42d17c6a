"""Working days in the PRC: weekends and public holidays off, adjusted weekend working days (调休) on,
from the maintained `holidays` library (holidays.country_holidays("CN"))."""
from datetime import date, datetime, timedelta
from functools import lru_cache

import holidays
from django.utils import timezone


@lru_cache(maxsize=32)
def _calendar(year):
    return holidays.country_holidays("CN", years=[year])


def is_working_day(day: date) -> bool:
    return _calendar(day.year).is_working_day(day)


def add_working_days(start: datetime, days: int) -> datetime:
    """The same local time of day on the `days`-th working day after `start`'s (local) date.
    Zero days returns `start` unchanged."""
    local = timezone.localtime(start)
    day, left = local.date(), days
    while left > 0:
        day += timedelta(days=1)
        if is_working_day(day):
            left -= 1
    return local.replace(year=day.year, month=day.month, day=day.day)


def working_days_between(start: date, end: date) -> int:
    """Working days in (start, end]."""
    count, day = 0, start
    while day < end:
        day += timedelta(days=1)
        count += is_working_day(day)
    return count
