"""The best publish day and hour per show, from how well each release slot launched.

An episode's *launch* is its downloads in the 168 hours after its release (timestamps of the
IAB-valid downloads against the episode's ``published_at``); its *reference* is its downloads on
days 8 to 21 after the release day, when the release slot no longer matters. The log of their
ratio measures how well the episode launched for its show's audience, whatever the show's size:

    log((launch + 1) / (reference + 1)) = mu + hour_effect(release hour) + weekday_effect + noise

The hour-of-day and weekday effects are shared by the tenant's shows and fitted by weighted
ridge regression (weights from the Poisson noise of both counts plus the spread between
episodes). A show that released in several slots gets its own deviations for them, shrunk
toward the tenant's pattern by ``SHOW_PRIOR`` episodes, so a show with few episodes follows the
tenant's pattern. Only slots the data supports are recommended: an hour of the day and a
weekday the tenant released at least ``MIN_SLOT_EPISODES`` fitted episodes in.

The expected first-7-day downloads of the show's next episode released at slot ``s`` is the
mean over its latest launches of ``launch * exp(effect(s) - effect(slot it came out in))``; the
best slot maximises it, and the lift compares it with the show's usual slot (the most common
among its latest releases). The lift's 80% range comes from refitting on episodes resampled with
replacement. It is observational: a show's own slot effect cannot be told from its audience's
habits, and slots nobody released in are not judged at all.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

HOURS_PER_WEEK = 168
LAUNCH_HOURS = 168
REFERENCE_DAYS = (8, 21)  # ages (days after the release day) of the reference downloads
PRIOR_SD = 0.3  # widest ridge prior on the hour and weekday effects, log scale
MIN_PRIOR_VAR = 1e-4
SHOW_PRIOR = 5.0  # episodes' worth of shrinkage of a show's own slot deviations
MIN_TAU2 = 0.005
RECENT_EPISODES = 8
MIN_EPISODES = 6
MIN_SLOT_EPISODES = 3
MEANINGFUL_LIFT_PCT = 1.0
BOOTSTRAP = 40
SEED = 20_261_109
WEEKDAYS = ("Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday")


@dataclass(frozen=True)
class ShowSlot:
    """One show's recommendation (weekday 0 = Monday, hours UTC)."""

    show_id: str
    best_weekday: int
    best_hour_utc: int
    expected_downloads_7d: float
    usual_weekday: int
    usual_hour_utc: int
    usual_expected_downloads_7d: float
    expected_lift_pct: float
    lift_lower_80_pct: float
    lift_upper_80_pct: float
    episodes_observed: int
    confidence: str
    note: str


@dataclass(frozen=True)
class PublishTimes:
    shows: list[ShowSlot]
    episodes: int  # episodes the slot effects were fitted on
    slot_effect: np.ndarray  # tenant log effect per hour of the week (Monday 00:00 first)


def launches(
    episodes: pd.DataFrame, episode_days: pd.DataFrame, download_hours: pd.DataFrame,
    data_end: date,
) -> pd.DataFrame:  # fmt: skip
    """Every episode whose launch week the data saw whole: episode_id, show_id, published_at,
    slot (hour of the week of its release), launch (downloads in the first 168 hours) and
    reference (downloads on days 8-21 after the release day; null when not all seen yet)."""
    columns = ["episode_id", "show_id", "published_at", "slot", "launch", "reference"]
    if episodes.empty or episode_days.empty or download_hours.empty:
        return pd.DataFrame(columns=columns)
    data_start = episode_days["day"].min()
    eps = episodes.dropna(subset=["published_at", "show_id"]).copy()
    release = eps["published_at"].dt.floor("h")
    seen = (release.dt.date >= data_start) & (
        (release + pd.Timedelta(hours=LAUNCH_HOURS)).dt.date <= data_end
    )
    eps = eps[seen].assign(release=release[seen]).reset_index(drop=True)
    if eps.empty:
        return pd.DataFrame(columns=columns)
    eps["slot"] = eps["release"].dt.day_of_week * 24 + eps["release"].dt.hour
    cells = download_hours.merge(eps[["episode_id", "release"]], on="episode_id")
    hour_start = pd.to_datetime(cells["day"]) + pd.to_timedelta(cells["hour"], unit="h")
    since = (hour_start - cells["release"]) / pd.Timedelta(hours=1)
    first_week = cells[(since >= 0) & (since < LAUNCH_HOURS)]
    eps["launch"] = (
        eps["episode_id"].map(first_week.groupby("episode_id")["downloads"].sum()).fillna(0.0)
    )
    lo, hi = REFERENCE_DAYS
    daily = episode_days.merge(eps[["episode_id", "pub_date"]], on="episode_id")
    age = np.array([(d - p).days for d, p in zip(daily["day"], daily["pub_date"], strict=True)])
    reference = daily[(age >= lo) & (age <= hi)].groupby("episode_id")["downloads"].sum()
    complete = eps["pub_date"].map(lambda p: p + timedelta(days=hi) <= data_end)
    eps["reference"] = np.where(
        complete, eps["episode_id"].map(reference).fillna(0.0).to_numpy(float), np.nan
    )
    return eps[columns]


def _design(slots: np.ndarray) -> np.ndarray:
    """Hour-of-day and weekday indicators of each slot (no intercept: the ridge keeps them
    identified and an unseen hour or weekday at 0)."""
    hour = slots % 24
    weekday = slots // 24
    return np.column_stack(
        [(hour == h).astype(float) for h in range(24)]
        + [(weekday == d).astype(float) for d in range(7)]
    )


def _fit_effects(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray]:
    """Empirical-Bayes ridge fit of the log launch ratio: the tenant's effect per hour of the
    week (mean 0 over the week) and each episode's residual.

    A first fit with a weak prior separates hours from weekdays; the spread of the hours' mean
    launch ratios beyond their noise (and likewise the weekdays') is the prior variance of the
    final fit. So
    when slots hardly differ, the effects shrink toward 0 instead of their noise passing for a
    best slot (the best of many noisy estimates is high by chance)."""
    slots = frame["slot"].to_numpy(int)
    launch = frame["launch"].to_numpy(float)
    reference = frame["reference"].to_numpy(float)
    y = np.log((launch + 1) / (reference + 1))
    noise = 1 / (launch + 1) + 1 / (reference + 1)
    x = np.column_stack([np.ones(len(y)), _design(slots)])
    groups = (np.arange(1, 25), np.arange(25, 32))  # columns of the hours and the weekdays

    def fit(prior_var: list[float], tau2: float) -> np.ndarray:
        penalty = np.zeros(x.shape[1])
        for cols, var in zip(groups, prior_var, strict=True):
            penalty[cols] = 1 / var
        w = 1 / (noise + tau2)
        precision = x.T @ (w[:, None] * x) + np.diag(penalty)
        return np.linalg.solve(precision, x.T @ (w * y))

    weak = [PRIOR_SD**2, PRIOR_SD**2]
    tau2 = MIN_TAU2
    for _ in range(2):  # the spread between episodes beyond their counts' noise
        beta = fit(weak, tau2)
        tau2 = max(float(np.mean((y - x @ beta) ** 2 - noise)), MIN_TAU2)
    beta = fit(weak, tau2)
    # One-way random-effects moments: the spread of the hours' (weekdays') mean launch ratios,
    # the other factor's effects taken out, beyond the noise of those means.
    w = 1 / (noise + tau2)
    prior_var = []
    for other, key in (
        (groups[1], slots % 24),
        (groups[0], slots // 24),
    ):
        adjusted = y - x[:, other] @ beta[other]
        levels = np.unique(key)
        if len(levels) < 2:
            prior_var.append(MIN_PRIOR_VAR)
            continue
        means = np.array([np.average(adjusted[key == k], weights=w[key == k]) for k in levels])
        errors = np.array([1 / w[key == k].sum() for k in levels])
        spread = float(np.var(means, ddof=1) - errors.mean())
        prior_var.append(float(np.clip(spread, MIN_PRIOR_VAR, PRIOR_SD**2)))
    beta = fit(prior_var, tau2)
    effect = _design(np.arange(HOURS_PER_WEEK)) @ beta[1:]
    return effect - effect.mean(), y - x @ beta


def supported_slots(slots: np.ndarray) -> np.ndarray:
    """Whether each hour of the week is a slot the data can judge: its hour of the day and its
    weekday each had MIN_SLOT_EPISODES releases."""
    hours = np.bincount(slots % 24, minlength=24) >= MIN_SLOT_EPISODES
    days = np.bincount(slots // 24, minlength=7) >= MIN_SLOT_EPISODES
    week = np.arange(HOURS_PER_WEEK)
    return hours[week % 24] & days[week // 24]


def _usual_slot(published: pd.Series) -> int:
    """The show's most common release slot over its latest episodes (ties: the latest)."""
    latest = published.sort_values().tail(RECENT_EPISODES).dt.floor("h")
    slots = list(latest.dt.day_of_week * 24 + latest.dt.hour)
    counts = pd.Series(slots).value_counts()
    top = set(counts[counts == counts.max()].index)
    return int(next(s for s in reversed(slots) if s in top))


def _show_curves(
    launched: pd.DataFrame, fitted: pd.DataFrame, effect: np.ndarray, residual: np.ndarray
) -> dict[str, np.ndarray]:
    """Expected first-7-day downloads of each show's next episode by release slot."""
    own = pd.DataFrame({"show_id": fitted["show_id"].to_numpy(), "slot": fitted["slot"].to_numpy(),
                        "r": residual})  # fmt: skip
    out = {}
    for show, group in launched.groupby("show_id"):
        show_effect = effect.copy()
        mine = own[own["show_id"] == show]
        if mine["slot"].nunique() > 1:
            # Deviations of the show's own slots from its mean, shrunk toward the tenant's.
            centred = mine["r"] - mine["r"].mean()
            by_slot = centred.groupby(mine["slot"]).agg(["sum", "count"])
            for slot, row in by_slot.iterrows():
                show_effect[int(slot)] += row["sum"] / (row["count"] + SHOW_PRIOR)
        recent = group.sort_values("published_at").tail(RECENT_EPISODES)
        moved = recent["launch"].to_numpy(float)[:, None] * np.exp(
            show_effect[None, :] - show_effect[recent["slot"].to_numpy(int)][:, None]
        )
        out[str(show)] = moved.mean(axis=0)
    return out


def _confidence(episodes: int, lower: float, lift: float) -> tuple[str, str]:
    if lift <= 1e-9:
        return "medium", "the usual slot is already the best the model finds"
    if lower < MEANINGFUL_LIFT_PCT:
        return "low", (
            f"the gain may be under {MEANINGFUL_LIFT_PCT:g}% (the low end of its 80% range):"
            " keep the usual slot unless other reasons favour a change"
        )
    if episodes < RECENT_EPISODES:
        return "medium", (
            f"{episodes} launches of the show: its slot effects are mostly the tenant's"
        )
    return "high", f"the gain stays above {MEANINGFUL_LIFT_PCT:g}% across resampled episodes"


def fit_publish_times(
    episodes: pd.DataFrame, episode_days: pd.DataFrame, download_hours: pd.DataFrame,
    data_end: date | None,
) -> PublishTimes | None:  # fmt: skip
    """Fit on every episode whose launch and reference were seen; None with fewer than
    MIN_EPISODES of them."""
    if data_end is None:
        return None
    launched = launches(episodes, episode_days, download_hours, data_end)
    fitted = launched.dropna(subset=["reference"]).reset_index(drop=True)
    if len(fitted) < MIN_EPISODES or fitted["launch"].sum() <= 0:
        return None
    effect, residual = _fit_effects(fitted)
    curves = _show_curves(launched, fitted, effect, residual)
    supported = supported_slots(fitted["slot"].to_numpy(int))
    rng = np.random.default_rng(SEED)
    boot: dict[str, list[np.ndarray]] = {s: [] for s in curves}
    for _ in range(BOOTSTRAP):
        sample = fitted.iloc[rng.integers(0, len(fitted), size=len(fitted))].reset_index(drop=True)
        b_effect, b_residual = _fit_effects(sample)
        for show, curve in _show_curves(launched, sample, b_effect, b_residual).items():
            boot[show].append(curve)
    shows = []
    for show, curve in sorted(curves.items()):
        if curve.max() <= 0:
            continue  # no download in any launch: nothing to compare
        published = episodes.loc[episodes["show_id"] == show, "published_at"].dropna()
        usual = _usual_slot(published)
        # The best supported slot, or the usual one when it is better still.
        best = int(np.argmax(np.where(supported, curve, -np.inf)))
        if curve[usual] >= curve[best]:
            best = usual
        lift = 100 * (curve[best] / curve[usual] - 1) if curve[usual] > 0 else 0.0
        lifts = [100 * (c[best] / c[usual] - 1) for c in boot[show] if c[usual] > 0]
        lower = float(np.percentile(lifts, 10)) if lifts else lift
        upper = float(np.percentile(lifts, 90)) if lifts else lift
        observed = int((launched["show_id"] == show).sum())
        confidence, why = _confidence(observed, lower, lift)
        note = (
            f"{confidence}: {why}. Usually {WEEKDAYS[usual // 24]} {usual % 24:02d}:00 UTC, "
            f"best {WEEKDAYS[best // 24]} {best % 24:02d}:00 UTC; {observed} launches of the show, "
            f"slot effects from {len(fitted)} of the tenant's episodes"
        )
        shows.append(
            ShowSlot(
                show_id=show,
                best_weekday=best // 24,
                best_hour_utc=best % 24,
                expected_downloads_7d=float(curve[best]),
                usual_weekday=usual // 24,
                usual_hour_utc=usual % 24,
                usual_expected_downloads_7d=float(curve[usual]),
                expected_lift_pct=float(lift),
                lift_lower_80_pct=min(lower, float(lift)),
                lift_upper_80_pct=max(upper, float(lift)),
                episodes_observed=observed,
                confidence=confidence,
                note=note,
            )
        )
    return PublishTimes(shows=shows, episodes=len(fitted), slot_effect=effect)
