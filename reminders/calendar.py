"""The province's working calendar: Monday to Friday, less Vietnamese public holidays (Tết
included, from the `holidays` package), with the days the government swaps around a holiday, and
the province's own changes from the settings.

Where the days come from, strongest first: the settings (`BOT_WORKING_SATURDAYS`,
`BOT_EXTRA_DAYS_OFF`), the government's decided swaps listed below for the years the `holidays`
release we depend on does not know yet, then `holidays` itself (its public holidays, days off
in lieu, and the Saturdays it knows are worked).
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from datetime import date, datetime, time, timedelta
from functools import cache
from typing import TYPE_CHECKING
from zoneinfo import ZoneInfo

if TYPE_CHECKING:
    import holidays

SATURDAY = 5

# The government's decisions on swapped days that `holidays` does not carry yet; date → reason
# (Vietnamese, as the decision words it). When a newer `holidays` release knows them, they may go.
DECIDED_DAYS_OFF: dict[date, str] = {
    date(2026, 1, 2): "Nghỉ Tết Dương lịch 2026 (hoán đổi, làm bù thứ Bảy 10/01/2026)",
}
DECIDED_WORKING_SATURDAYS: dict[date, str] = {
    date(2026, 1, 10): "Làm bù cho ngày nghỉ 02/01/2026 (Tết Dương lịch)",
}


@cache
def _public_holidays(language: str) -> holidays.HolidayBase:
    # Years are filled in on first look-up of a date (expand=True). Imported here: a process
    # that never plans (the chat path) does not carry its tables.
    import holidays

    return holidays.country_holidays("VN", language=language)


@cache
def _worked_weekend_days(year: int) -> frozenset[date]:
    """The weekend days of `year` that `holidays` knows are worked (swapped for a day off)."""
    import holidays

    calendar = holidays.country_holidays("VN", years=year)
    return frozenset(d for d in getattr(calendar, "weekend_workdays", ()) if d.year == year)


@dataclass(frozen=True)
class DayOff:
    """A weekday nobody works, or a Saturday everybody does, and why."""

    day: date
    reason: str


class WorkCalendar:
    def __init__(
        self,
        zone: ZoneInfo,
        *,
        morning: time,
        closing: time,
        extra_days_off: Iterable[date],
        working_saturdays: Iterable[date],
    ) -> None:
        self.zone = zone
        self.morning = morning
        self.closing = closing
        self.extra_days_off = frozenset(extra_days_off)
        self.working_saturdays = frozenset(working_saturdays)

    def is_working_day(self, day: date) -> bool:
        if day in self.working_saturdays:
            return True
        if day in self.extra_days_off:
            return False
        if day in DECIDED_WORKING_SATURDAYS or day in _worked_weekend_days(day.year):
            return True
        if day.weekday() >= SATURDAY or day in DECIDED_DAYS_OFF:
            return False
        return day not in _public_holidays("en_US")

    def holiday_name(self, day: date, language: str = "en_US") -> str | None:
        return _public_holidays(language).get(day)

    def days_off(self, year: int, *, language: str) -> list[DayOff]:
        """The weekdays of `year` nobody works: holidays, swapped days and local days off."""
        names = {"vi": "vi", "en": "en_US"}.get(language, "en_US")
        result = []
        day = date(year, 1, 1)
        while day.year == year:
            if day.weekday() < SATURDAY and not self.is_working_day(day):
                reason = (
                    DECIDED_DAYS_OFF.get(day)
                    or self.holiday_name(day, names)
                    or ("BOT_EXTRA_DAYS_OFF" if day in self.extra_days_off else "")
                )
                result.append(DayOff(day, reason))
            day += timedelta(days=1)
        return result

    def worked_saturdays(self, year: int) -> list[DayOff]:
        """The Saturdays of `year` that are working days, and why."""
        result = []
        day = date(year, 1, 1) + timedelta(days=(SATURDAY - date(year, 1, 1).weekday()) % 7)
        while day.year == year:
            if self.is_working_day(day):
                if day in self.working_saturdays:
                    reason = "BOT_WORKING_SATURDAYS"
                elif day in DECIDED_WORKING_SATURDAYS:
                    reason = DECIDED_WORKING_SATURDAYS[day]
                else:
                    reason = "holidays"
                result.append(DayOff(day, reason))
            day += timedelta(days=7)
        return result

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
