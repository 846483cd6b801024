"""Cut-offs from each show's release calendar, who is active at a cut-off, and the churn label.

A *cut-off* is a day: what a household did up to and including it is known, what came after is
the future. A show's candidate cut-offs are the days before each of its release days, so the
label window opens with a release. The label of a household active on a show at cut-off ``T``:
**churned** when it downloads none of the show's next :data:`NEXT_EPISODES` episodes (the first
ones released after ``T``) by :data:`GRACE_DAYS` days after the last of them was released. The
label is *fully observed* when that day is on or before the data's last day.

The split is in time: a *boundary* day is chosen from the shows' latest fully observed cut-offs
(their median). The holdout is each show's latest fully observed cut-off on or after the
boundary; training cut-offs are any show's cut-offs whose labels had closed by the boundary. So
the model learns nothing that happened after the boundary (a model trained on that day could
not have) and is judged on what came later.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# The label: no download of the show's next NEXT_EPISODES episodes ...
NEXT_EPISODES = 3
# ... within GRACE_DAYS days of the last of them being released (a listener a few days behind
# has not churned, and an episode's launch spike is over within a week).
GRACE_DAYS = 7
# Every feature looks back WINDOW_DAYS days from the cut-off (the cut-off included), and a
# cut-off needs that much data before it: so a training cut-off near the start of the data and
# the scoring cut-off on its last day see the same window, and nothing the model learns depends on
# how much history happened to be loaded.
WINDOW_DAYS = 21
# A household is active on a show at a cut-off when it downloaded one of the show's episodes in
# the window; only active households are labelled and scored.
ACTIVE_DAYS = WINDOW_DAYS
MIN_HISTORY_DAYS = WINDOW_DAYS
# Training uses at most this many cut-offs per show (the latest eligible ones).
TRAIN_CUTOFFS_PER_SHOW = 4

DAY = pd.Timedelta(days=1)


@dataclass(frozen=True)
class ShowCutoff:
    """One show at one cut-off, with its label window when it has one."""

    show_id: str
    cutoff: pd.Timestamp
    label_episodes: tuple[str, ...] = ()
    label_end: pd.Timestamp | None = None


def release_days(episodes: pd.DataFrame, show_id: str) -> list[pd.Timestamp]:
    """The show's distinct release days, oldest first."""
    days = episodes.loc[episodes["show_id"] == show_id, "release_date"]
    return sorted(pd.Timestamp(d) for d in days.unique())


def label_window(
    episodes: pd.DataFrame, show_id: str, cutoff: pd.Timestamp
) -> tuple[tuple[str, ...], pd.Timestamp] | None:
    """The show's next NEXT_EPISODES episodes after ``cutoff`` and the day their label closes,
    or None when fewer have been released."""
    show = episodes[(episodes["show_id"] == show_id) & (episodes["release_date"] > cutoff)]
    show = show.sort_values(["release_date", "episode_id"]).head(NEXT_EPISODES)
    if len(show) < NEXT_EPISODES:
        return None
    end = pd.Timestamp(show["release_date"].iloc[-1]) + GRACE_DAYS * DAY
    return tuple(show["episode_id"]), end


def candidate_cutoffs(
    episodes: pd.DataFrame, show_id: str, first_day: pd.Timestamp, last_day: pd.Timestamp
) -> list[ShowCutoff]:
    """Every day before a release of the show with enough history and a fully observed label,
    oldest first."""
    out = []
    for release in release_days(episodes, show_id):
        cutoff = release - DAY
        if cutoff - (MIN_HISTORY_DAYS - 1) * DAY < first_day:
            continue
        window = label_window(episodes, show_id, cutoff)
        if window is None or window[1] > last_day:
            continue
        out.append(ShowCutoff(show_id, cutoff, window[0], window[1]))
    return out


@dataclass(frozen=True)
class Split:
    """The holdout cut-off per show, the training cut-offs and the boundary between them."""

    holdout: list[ShowCutoff]
    training: list[ShowCutoff]
    boundary: pd.Timestamp | None


def choose_split(
    episodes: pd.DataFrame, shows: list[str], first_day: pd.Timestamp, last_day: pd.Timestamp
) -> Split:
    """The boundary is the (lower) median of the shows' latest fully observed cut-offs: the
    shows whose latest cut-off is on or after it form the holdout (at least half of them), and
    every show's cut-offs whose labels closed by the boundary are training cut-offs."""
    candidates = {s: candidate_cutoffs(episodes, s, first_day, last_day) for s in shows}
    latest = sorted(c[-1].cutoff for c in candidates.values() if c)
    if not latest:
        return Split([], [], None)
    boundary = latest[(len(latest) - 1) // 2]
    holdout = [c[-1] for c in candidates.values() if c and c[-1].cutoff >= boundary]
    training = []
    for show_cutoffs in candidates.values():
        known = [c for c in show_cutoffs if c.label_end is not None and c.label_end <= boundary]
        training.extend(known[-TRAIN_CUTOFFS_PER_SHOW:])
    return Split(holdout, training, boundary)


def latest_observed(
    episodes: pd.DataFrame, show_id: str, first_day: pd.Timestamp, last_day: pd.Timestamp
) -> ShowCutoff | None:
    """The show's latest cut-off with a fully observed label (its holdout cut-off)."""
    candidates = candidate_cutoffs(episodes, show_id, first_day, last_day)
    return candidates[-1] if candidates else None


def active_pairs(downloads: pd.DataFrame, show_id: str, cutoff: pd.Timestamp) -> pd.DataFrame:
    """Households active on the show at the cut-off: a download of it in the ACTIVE_DAYS days
    up to and including the cut-off. Columns household_id, show_id, cutoff."""
    recent = downloads[
        (downloads["show_id"] == show_id)
        & (downloads["download_date"] <= cutoff)
        & (downloads["download_date"] > cutoff - ACTIVE_DAYS * DAY)
    ]
    households = np.sort(recent["household_id"].unique())
    return pd.DataFrame(
        {
            "household_id": pd.array(households, dtype="string"),
            "show_id": pd.array([show_id] * len(households), dtype="string"),
            "cutoff": pd.Series([cutoff] * len(households), dtype="datetime64[ns]"),
        }
    )


def churn_labels(downloads: pd.DataFrame, window: ShowCutoff, households: pd.Series) -> np.ndarray:
    """1 for each household that downloaded none of the window's episodes after the cut-off up
    to the label's end, else 0."""
    came_back = downloads[
        (downloads["show_id"] == window.show_id)
        & downloads["episode_id"].isin(window.label_episodes)
        & (downloads["download_date"] > window.cutoff)
        & (downloads["download_date"] <= window.label_end)
    ]["household_id"].unique()
    return (~households.isin(came_back)).to_numpy(dtype=np.int64)
