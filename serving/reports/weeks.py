"""The report's week: an ISO week (Monday to Sunday) in the tenant's time zone.

A tenant in London and one in New York both mean "last week" as their own Monday 00:00 to the
next Monday 00:00 on their wall clocks; the warehouse keeps timestamps as naive UTC, so a week
becomes a pair of naive UTC bounds to filter on. Days (the daily marts' UTC dates) filter on the
week's seven dates instead.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

_WEEK_PATTERN = re.compile(r"^(\d{4})-W(\d{2})$")


class InvalidWeek(ValueError):
    """A week that is not an ISO week such as ``2026-W47``."""


class UnknownTimeZone(ValueError):
    """A time zone name that is not in the IANA database (zoneinfo)."""


def zone(tz: str) -> ZoneInfo:
    """The IANA time zone ``tz`` (e.g. ``Europe/London``), or a clear error naming it."""
    if not isinstance(tz, str) or not tz.strip():
        raise UnknownTimeZone(f"time zone must be an IANA name such as 'Europe/London', not {tz!r}")
    try:
        return ZoneInfo(tz)
    except (ZoneInfoNotFoundError, ValueError) as exc:
        raise UnknownTimeZone(
            f"unknown time zone {tz!r}: use an IANA name such as 'Europe/London' or "
            "'America/New_York'"
        ) from exc


@dataclass(frozen=True, order=True)
class ReportWeek:
    """An ISO 8601 week: ``year`` is the ISO year (the year of the week's Thursday)."""

    year: int
    week: int

    def __post_init__(self) -> None:
        if not (isinstance(self.year, int) and isinstance(self.week, int)):
            raise InvalidWeek(f"not an ISO week: year {self.year!r}, week {self.week!r}")
        if not 1 <= self.year <= 9999:
            raise InvalidWeek(f"week {self.week} of year {self.year}: the year must be 1 to 9999")
        try:
            date.fromisocalendar(self.year, self.week, 1)
        except ValueError as exc:
            raise InvalidWeek(
                f"{self.year}-W{self.week:02d} is not an ISO week: {self.year} has weeks 1 to "
                f"{_weeks_in(self.year)}"
            ) from exc

    @classmethod
    def parse(cls, text: str) -> ReportWeek:
        """``"2026-W47"`` → ``ReportWeek(2026, 47)``; anything else is refused, with the form."""
        match = _WEEK_PATTERN.fullmatch(text.strip()) if isinstance(text, str) else None
        if match is None:
            raise InvalidWeek(
                f"invalid week {text!r}: write an ISO week as YYYY-Www, e.g. 2026-W47"
            )
        return cls(int(match.group(1)), int(match.group(2)))

    @classmethod
    def containing(cls, day: date) -> ReportWeek:
        """The ISO week that ``day`` falls in."""
        iso = day.isocalendar()
        return cls(iso.year, iso.week)

    def __str__(self) -> str:
        return f"{self.year}-W{self.week:02d}"

    @property
    def first_day(self) -> date:
        """The week's Monday."""
        return date.fromisocalendar(self.year, self.week, 1)

    @property
    def last_day(self) -> date:
        """The week's Sunday."""
        return date.fromisocalendar(self.year, self.week, 7)

    def days(self) -> list[date]:
        """Monday to Sunday."""
        return [self.first_day + timedelta(days=i) for i in range(7)]

    def previous(self) -> ReportWeek:
        return ReportWeek.containing(self.first_day - timedelta(days=7))

    def next(self) -> ReportWeek:
        return ReportWeek.containing(self.first_day + timedelta(days=7))

    def utc_bounds(self, tz: str) -> tuple[datetime, datetime]:
        """Naive UTC ``[start, end)`` of the week on ``tz``'s wall clock: Monday 00:00 to the next
        Monday 00:00. Across a daylight-saving change the week is 167 or 169 hours long."""
        return _local_midnight_utc(self.first_day, tz), _local_midnight_utc(
            self.first_day + timedelta(days=7), tz
        )

    def label(self) -> str:
        """``2026-W47 (Mon 16 Nov – Sun 22 Nov 2026)`` for titles."""
        first, last = self.first_day, self.last_day
        return f"{self} ({first:%a} {first.day} {first:%b} – {last:%a} {last.day} {last:%b %Y})"


def local_day(moment: datetime, tz: str) -> date:
    """The date on ``tz``'s wall clock at ``moment`` (naive means UTC)."""
    return _local(moment, tz).date()


def week_of(moment: datetime, tz: str) -> ReportWeek:
    """The week ``moment`` falls in on ``tz``'s wall clock; a naive ``moment`` is UTC (as the
    warehouse's timestamps are)."""
    return ReportWeek.containing(local_day(moment, tz))


def latest_complete_week(now: datetime, tz: str) -> ReportWeek:
    """The newest week that has ended on ``tz``'s wall clock at ``now`` (naive means UTC): the
    week before the one ``now`` is in, since that one has at least its last moment to come."""
    return week_of(now, tz).previous()


def _local(moment: datetime, tz: str) -> datetime:
    aware = moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)
    return aware.astimezone(zone(tz))


def _local_midnight_utc(day: date, tz: str) -> datetime:
    # fold=0: a midnight skipped by a clock change maps to the instant of the change, and a
    # midnight that happens twice to its first occurrence; either way the day starts there.
    local = datetime.combine(day, time(0), tzinfo=zone(tz))
    return local.astimezone(UTC).replace(tzinfo=None)


def _weeks_in(year: int) -> int:
    # 28 December is always in the year's last ISO week.
    return date(year, 12, 28).isocalendar().week
