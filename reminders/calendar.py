"""The province's working calendar: Monday to Friday, less Vietnamese public holidays (Tết
included, from the `holidays` package), less extra days off, plus the Saturdays the government
declares working days when it swaps days around a holiday."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import date, datetime, time, timedelta
from functools import cached_property
from zoneinfo import ZoneInfo

import holidays

SATURDAY = 5


class WorkCalendar:
    def __init__(
        self,
        zone: ZoneInfo,
        *,
        morning: time = time(8, 0),
        closing: time = time(17, 0),
        extra_days_off: Iterable[date] = (),
        working_saturdays: Iterable[date] = (),
    ) -> None:
        self.zone = zone
        self.morning = morning
        self.closing = closing
        self.extra_days_off = frozenset(extra_days_off)
        self.working_saturdays = frozenset(working_saturdays)

    @cached_property
    def _public_holidays(self) -> holidays.HolidayBase:
        # Years are filled in on first look-up of a date (expand=True).
        return holidays.country_holidays("VN")

    def is_working_day(self, day: date) -> bool:
        if day in self.working_saturdays:
            return True
        if day.weekday() >= SATURDAY or day in self.extra_days_off:
            return False
        return day not in self._public_holidays

    def holiday_name(self, day: date) -> str | None:
        return self._public_holidays.get(day)

    def working_day_on_or_before(self, day: date) -> date:
        while not self.is_working_day(day):
            day -= timedelta(days=1)
        return day

    def working_days_before(self, day: date, count: int) -> date:
        """The working day `count` working days before `day` (0: `day`, or the one before it)."""
        result = self.working_day_on_or_before(day)
        for _ in range(count):
            result = self.working_day_on_or_before(result - timedelta(days=1))
        return result

    def working_days_after(self, day: date, count: int) -> date:
        """The `count`-th working day after `day`."""
        result = day
        for _ in range(count):
            result += timedelta(days=1)
            while not self.is_working_day(result):
                result += timedelta(days=1)
        return result

    def next_working_day(self, day: date) -> date:
        return self.working_days_after(day, 1)

    def morning_of(self, day: date) -> datetime:
        """The start of the working day `day`, in the province's zone."""
        return datetime.combine(day, self.morning, tzinfo=self.zone)

    def is_working_time(self, moment: datetime) -> bool:
        local = moment.astimezone(self.zone)
        return self.is_working_day(local.date()) and self.morning <= local.time() < self.closing

    def latest_working_moment(self, moment: datetime) -> datetime:
        """`moment` if it is working time, else the morning of the working day before it (or of
        its own day, when it falls before closing on a working day)."""
        if self.is_working_time(moment):
            return moment
        local = moment.astimezone(self.zone)
        if self.is_working_day(local.date()) and local.time() >= self.closing:
            return self.morning_of(local.date())
        return self.morning_of(self.working_days_before(local.date() - timedelta(days=1), 0))

    def next_working_morning(self, moment: datetime) -> datetime:
        """The next start of a working day strictly after `moment`."""
        local = moment.astimezone(self.zone)
        if self.is_working_day(local.date()) and local.time() < self.morning:
            return self.morning_of(local.date())
        return self.morning_of(self.next_working_day(local.date()))
