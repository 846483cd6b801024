"""The publish-slot estimate on hand-made launches."""

from __future__ import annotations

from datetime import date, datetime, timedelta

import numpy as np
import pandas as pd
import pytest

from models_ml.forecasts.publish_times import (
    _usual_slot,
    fit_publish_times,
    launches,
    supported_slots,
)

D0 = date(2026, 1, 5)  # a Monday


def _world(shows: dict[str, int], early_boost: float) -> tuple[pd.DataFrame, ...]:
    """Shows releasing every 8 days (so the weekday turns), at 02:10 UTC every third episode and
    16:10 otherwise; a launch week of 100 downloads (times ``early_boost`` at 02:10) and 60
    downloads on day 10 after the release."""
    episodes, hours, daily = [], [], [("old", "A", D0 - timedelta(days=1), 1.0)]
    for s, (show, count) in enumerate(shows.items()):
        for k in range(count):
            hour = 2 if k % 3 == 0 else 16
            released = datetime.combine(D0 + timedelta(days=8 * k + s), datetime.min.time())
            released = released.replace(hour=hour, minute=10)
            episode = f"{show}{k}"
            episodes.append((episode, show, released, released.date()))
            launch = 100.0 * (early_boost if hour == 2 else 1.0)
            later = released + timedelta(hours=30)
            hours.append((episode, show, released.date(), hour, 0.6 * launch))
            hours.append((episode, show, later.date(), later.hour, 0.4 * launch))
            daily.append((episode, show, released.date() + timedelta(days=10), 60.0))
    frames = (
        pd.DataFrame(episodes, columns=["episode_id", "show_id", "published_at", "pub_date"]),
        pd.DataFrame(daily, columns=["episode_id", "show_id", "day", "downloads"]),
        pd.DataFrame(hours, columns=["episode_id", "show_id", "day", "hour", "downloads"]),
    )
    return frames


def test_launches_count_the_first_168_hours_and_days_8_to_21() -> None:
    episodes, daily, hours = _world({"A": 3}, early_boost=1.3)
    end = episodes["pub_date"].max() + timedelta(days=25)
    frame = launches(episodes, daily, hours, end).set_index("episode_id")
    assert frame.loc["A0", "launch"] == pytest.approx(130.0)
    assert frame.loc["A1", "launch"] == pytest.approx(100.0)
    assert frame.loc["A1", "reference"] == 60.0
    # Released Tuesday (day 8 + 0) at 16:10: hour 16 of weekday 1.
    assert frame.loc["A1", "slot"] == 24 + 16
    # A release whose days 8-21 are not all in the data has a launch but no reference yet.
    short = launches(episodes, daily, hours, episodes["pub_date"].max() + timedelta(days=9))
    assert np.isnan(short.set_index("episode_id").loc["A2", "reference"])


def test_usual_slot_is_the_most_common_recent_one_ties_going_to_the_latest() -> None:
    tuesday_8 = [datetime(2026, 1, 6, 8, 5) + timedelta(days=7 * k) for k in range(5)]
    friday_9 = [datetime(2026, 3, 13, 9, 30), datetime(2026, 3, 20, 9, 40)]
    assert _usual_slot(pd.Series(tuesday_8 + friday_9)) == 24 + 8
    tie = [datetime(2026, 1, 6, 8), datetime(2026, 1, 9, 9)]  # Tuesday 08, then Friday 09
    assert _usual_slot(pd.Series(tie)) == 4 * 24 + 9


def test_only_hours_and_weekdays_with_three_releases_are_supported() -> None:
    slots = np.array([0 * 24 + 5, 1 * 24 + 5, 2 * 24 + 5, 0 * 24 + 9, 0 * 24 + 9])
    supported = supported_slots(slots)
    assert supported[0 * 24 + 5] and supported[3 * 24 + 5] is np.False_
    assert not supported[0 * 24 + 9]  # only two releases at 09:00
    assert supported.sum() == 1  # hour 5 on Monday (weekday 0 has three releases)


def test_the_best_slot_is_the_hour_that_launches_better_for_every_show() -> None:
    episodes, daily, hours = _world({"A": 12, "B": 12, "C": 12, "D": 12, "E": 3}, 1.3)
    end = episodes["pub_date"].max() + timedelta(days=25)
    fitted = fit_publish_times(episodes, daily, hours, end)
    assert fitted is not None
    shows = {s.show_id: s for s in fitted.shows}
    assert set(shows) == {"A", "B", "C", "D", "E"}
    ratio = np.log(131 / 61) - np.log(101 / 61)  # the true effect of 02:00 over 16:00
    for show in shows.values():
        assert show.best_hour_utc == 2
        assert show.usual_hour_utc == 16  # the latest releases are mostly at 16:10
        # Shrunk a little toward no effect, never beyond the truth.
        assert 0.5 * (np.exp(ratio) - 1) * 100 < show.expected_lift_pct
        assert show.expected_lift_pct < (np.exp(ratio) - 1) * 100 + 1
        assert show.lift_lower_80_pct <= show.expected_lift_pct <= show.lift_upper_80_pct
        assert show.expected_downloads_7d == pytest.approx(
            show.usual_expected_downloads_7d * (1 + show.expected_lift_pct / 100)
        )
    # Show E has three launches: it follows the tenant's pattern, with less confidence.
    assert shows["E"].episodes_observed == 3
    assert shows["E"].expected_lift_pct == pytest.approx(shows["A"].expected_lift_pct, abs=3)
    assert shows["A"].confidence == "high"
    assert shows["E"].confidence == "medium"


def test_no_slot_effect_gives_no_confident_change() -> None:
    episodes, daily, hours = _world({"A": 12, "B": 12, "C": 12}, early_boost=1.0)
    end = episodes["pub_date"].max() + timedelta(days=25)
    fitted = fit_publish_times(episodes, daily, hours, end)
    assert fitted is not None
    for show in fitted.shows:
        assert abs(show.expected_lift_pct) < 1.0
        assert show.confidence != "high"


def test_too_few_launches_fit_nothing() -> None:
    episodes, daily, hours = _world({"A": 4}, early_boost=1.3)
    end = episodes["pub_date"].max() + timedelta(days=25)
    assert fit_publish_times(episodes, daily, hours, end) is None
