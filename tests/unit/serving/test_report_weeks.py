"""The report's week: ISO weeks, their UTC bounds on a tenant's clock (across daylight-saving
changes, hand-computed), the latest complete week, and refusals of bad input."""

from __future__ import annotations

from datetime import UTC, date, datetime, timedelta, timezone

import pytest

from serving.reports.weeks import (
    InvalidWeek,
    ReportWeek,
    UnknownTimeZone,
    latest_complete_week,
    local_day,
    week_of,
)


def test_parse_and_format_round_trip() -> None:
    week = ReportWeek.parse("2026-W47")
    assert week == ReportWeek(2026, 47)
    assert str(week) == "2026-W47"
    assert str(ReportWeek.parse(" 2026-W03 ")) == "2026-W03"
    assert week.first_day == date(2026, 11, 16)
    assert week.last_day == date(2026, 11, 22)
    assert week.days()[0].strftime("%a") == "Mon" and week.days()[-1].strftime("%a") == "Sun"
    assert len(week.days()) == 7
    assert week.label() == "2026-W47 (Mon 16 Nov – Sun 22 Nov 2026)"


def test_iso_years_differ_from_calendar_years_at_their_edges() -> None:
    # 2026 starts on a Thursday, so it has 53 ISO weeks; 1 January 2027 is in 2026-W53.
    assert ReportWeek.parse("2026-W53").last_day == date(2027, 1, 3)
    assert ReportWeek.containing(date(2027, 1, 1)) == ReportWeek(2026, 53)
    assert ReportWeek.containing(date(2027, 1, 4)) == ReportWeek(2027, 1)
    assert ReportWeek(2026, 53).next() == ReportWeek(2027, 1)
    assert ReportWeek(2027, 1).previous() == ReportWeek(2026, 53)
    # 29 December 2025 (a Monday) starts 2026-W01.
    assert ReportWeek(2026, 1).first_day == date(2025, 12, 29)


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("2026-47", "write an ISO week as YYYY-Www"),
        ("2026W47", "write an ISO week as YYYY-Www"),
        ("2026-W7", "write an ISO week as YYYY-Www"),
        ("last week", "write an ISO week as YYYY-Www"),
        ("", "write an ISO week as YYYY-Www"),
        ("2026-W00", "2026 has weeks 1 to 53"),
        ("2026-W54", "2026 has weeks 1 to 53"),
        ("2025-W53", "2025 has weeks 1 to 52"),
    ],
)
def test_bad_weeks_are_refused_with_the_expected_form(text: str, message: str) -> None:
    with pytest.raises(InvalidWeek, match=message) as raised:
        ReportWeek.parse(text)
    assert isinstance(raised.value, ValueError)


def test_a_week_built_directly_is_checked_too() -> None:
    with pytest.raises(InvalidWeek, match="2027 has weeks 1 to 52"):
        ReportWeek(2027, 53)
    with pytest.raises(InvalidWeek, match="year must be 1 to 9999"):
        ReportWeek(0, 1)


def test_utc_bounds_in_utc_are_the_dates_themselves() -> None:
    start, end = ReportWeek(2026, 47).utc_bounds("UTC")
    assert (start, end) == (datetime(2026, 11, 16), datetime(2026, 11, 23))
    assert start.tzinfo is None and end.tzinfo is None


@pytest.mark.parametrize(
    ("tz", "week", "start", "end", "hours"),
    [
        # London: BST starts Sun 29 Mar 2026 at 01:00 UTC. Mon 23 Mar 00:00 GMT = 00:00 UTC;
        # Mon 30 Mar 00:00 BST = Sun 29 Mar 23:00 UTC.
        ("Europe/London", "2026-W13", datetime(2026, 3, 23, 0), datetime(2026, 3, 29, 23), 167),
        # BST ends Sun 25 Oct 2026 at 01:00 UTC. Mon 19 Oct 00:00 BST = Sun 18 Oct 23:00 UTC;
        # Mon 26 Oct 00:00 GMT = 00:00 UTC.
        ("Europe/London", "2026-W43", datetime(2026, 10, 18, 23), datetime(2026, 10, 26, 0), 169),
        # New York: EDT starts Sun 8 Mar 2026 at 02:00 local. Mon 2 Mar 00:00 EST (UTC-5) =
        # 05:00 UTC; Mon 9 Mar 00:00 EDT (UTC-4) = 04:00 UTC.
        ("America/New_York", "2026-W10", datetime(2026, 3, 2, 5), datetime(2026, 3, 9, 4), 167),
        # EDT ends Sun 1 Nov 2026. Mon 26 Oct 00:00 EDT = 04:00 UTC; Mon 2 Nov 00:00 EST =
        # 05:00 UTC.
        ("America/New_York", "2026-W44", datetime(2026, 10, 26, 4), datetime(2026, 11, 2, 5), 169),
        # An ordinary winter week in New York: five hours behind all week.
        ("America/New_York", "2026-W47", datetime(2026, 11, 16, 5), datetime(2026, 11, 23, 5), 168),
    ],
)
def test_utc_bounds_across_daylight_saving_changes(
    tz: str, week: str, start: datetime, end: datetime, hours: int
) -> None:
    bounds = ReportWeek.parse(week).utc_bounds(tz)
    assert bounds == (start, end)
    assert bounds[1] - bounds[0] == timedelta(hours=hours)


def test_consecutive_weeks_tile_time_without_gap_or_overlap() -> None:
    week = ReportWeek(2026, 12)
    for _ in range(4):  # across London's spring change
        assert week.utc_bounds("Europe/London")[1] == week.next().utc_bounds("Europe/London")[0]
        week = week.next()


def test_week_of_a_moment_depends_on_the_time_zone() -> None:
    # Monday 23 Nov 2026 03:00 UTC is still Sunday evening in New York.
    moment = datetime(2026, 11, 23, 3, 0)
    assert week_of(moment, "UTC") == ReportWeek(2026, 48)
    assert week_of(moment, "Europe/London") == ReportWeek(2026, 48)
    assert week_of(moment, "America/New_York") == ReportWeek(2026, 47)
    assert local_day(moment, "America/New_York") == date(2026, 11, 22)
    # An aware moment means the same instant as its naive UTC twin.
    aware = datetime(2026, 11, 22, 22, 0, tzinfo=timezone(timedelta(hours=-5)))
    assert week_of(aware, "UTC") == week_of(moment, "UTC")


def test_the_week_bounds_hold_exactly_the_moments_week_of_puts_in_it() -> None:
    week = ReportWeek(2026, 44)
    start, end = week.utc_bounds("America/New_York")
    assert week_of(start, "America/New_York") == week
    assert week_of(end - timedelta(microseconds=1), "America/New_York") == week
    assert week_of(end, "America/New_York") == week.next()
    assert week_of(start - timedelta(microseconds=1), "America/New_York") == week.previous()


def test_latest_complete_week_is_the_one_before_now_on_the_tenant_clock() -> None:
    # Monday 23 Nov 2026 00:30 UTC: W47 has just ended in London, not yet in New York.
    now = datetime(2026, 11, 23, 0, 30)
    assert latest_complete_week(now, "Europe/London") == ReportWeek(2026, 47)
    assert latest_complete_week(now, "America/New_York") == ReportWeek(2026, 46)
    assert latest_complete_week(now.replace(tzinfo=UTC), "Europe/London") == ReportWeek(2026, 47)
    # Mid-week: the week before.
    assert latest_complete_week(datetime(2026, 11, 25, 12), "UTC") == ReportWeek(2026, 47)
    # Exactly at Monday 00:00 local the previous week is complete.
    assert latest_complete_week(datetime(2026, 11, 23, 5, 0), "America/New_York") == ReportWeek(
        2026, 47
    )


@pytest.mark.parametrize("tz", ["Mars/Olympus_Mons", "", "../../etc/passwd", "Europe/"])
def test_unknown_time_zones_are_refused_by_name(tz: str) -> None:
    with pytest.raises(UnknownTimeZone, match="time zone") as raised:
        ReportWeek(2026, 47).utc_bounds(tz)
    assert repr(tz) in str(raised.value)
    with pytest.raises(UnknownTimeZone):
        latest_complete_week(datetime(2026, 11, 25), tz)
