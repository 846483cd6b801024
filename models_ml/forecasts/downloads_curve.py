"""How an episode's daily downloads fall with its age: the curve every impression forecast
stands on.

Downloads of episode ``e`` on day ``d`` are modelled as Poisson with mean
``level[e] * curve[age bucket] * weekday[d]`` (age in days since the publication day), fitted by
alternating multiplicative updates (the Poisson maximum likelihood of a three-way log-linear
model) over every day the episode was observable, zero-download days included. ``curve`` is
scaled so that an episode's first 30 days sum to 1, which makes ``level`` its expected first-30-day
downloads. The shape (curve and weekday factors) belongs to a model version; the levels are
re-estimated under it from the downloads known on the forecast day (:func:`episode_levels`).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import numpy as np
import pandas as pd

# Age buckets (days since the publication day): day by day over the launch, then wider.
AGE_EDGES = (0, 1, 2, 3, 4, 5, 6, 7, 8, 10, 12, 14, 17, 21, 25, 30, 40, 50, 60, 90, 120, 180, 365)
MAX_AGE = AGE_EDGES[-1]
ITERATIONS = 40
# Gamma prior strength (in expected downloads) pulling an episode's level toward its show's.
LEVEL_PRIOR = 2.0
RECENT_EPISODES = 8
# An episode tells its show's level only when it was seen over this share of its first month.
INFORMATIVE_EXPOSURE = 0.3
# The launch-size trend needs this many informative episodes over this many days.
MIN_TREND_EPISODES = 6
MIN_TREND_SPAN_DAYS = 21
MAX_TREND_PER_DAY = float(np.log(2) / 90)


def age_bucket(age: np.ndarray) -> np.ndarray:
    """Bucket index of each age in days (ages past the last edge share the last bucket)."""
    clipped = np.clip(np.asarray(age), 0, MAX_AGE)
    return np.searchsorted(np.asarray(AGE_EDGES), clipped, side="right") - 1


@dataclass(frozen=True)
class DownloadsShape:
    """Expected downloads per unit of level by age bucket, and weekday factors (Monday first,
    mean 1)."""

    curve: np.ndarray
    weekday: np.ndarray

    def unit(self, age: np.ndarray, days: np.ndarray | list[date]) -> np.ndarray:
        """Expected downloads of a unit-level episode at each age (days) on each day (0 before
        publication)."""
        age = np.asarray(age)
        weekday = np.array([d.weekday() for d in days], dtype=int)
        return np.where(age >= 0, self.curve[age_bucket(age)] * self.weekday[weekday], 0.0)


@dataclass(frozen=True)
class EpisodeLevels:
    """Expected first-30-day downloads per episode (shrunk toward its show's), per show at the
    reference day (its latest episodes, moved to that day by the trend), of the tenant (median
    episode), and the tenant's trend in launch size (log change per day)."""

    episode: dict[str, float]
    show: dict[str, float]
    tenant: float
    trend_per_day: float
    reference_day: date

    def of_show(self, show_id: object, on: date) -> float:
        """A new episode's expected level when the show publishes it on ``on``."""
        base = self.show.get(show_id, self.tenant) if isinstance(show_id, str) else self.tenant
        return base * float(np.exp(self.trend_per_day * (on - self.reference_day).days))


def observation_grid(
    episodes: pd.DataFrame, episode_days: pd.DataFrame, as_of: date
) -> pd.DataFrame:
    """Every (episode, day) from its publication (or the data's first day) to ``as_of``, with
    its downloads (0 when the marts have no row) and age in days."""
    columns = ["episode_id", "show_id", "day", "pub", "downloads", "age"]
    if episodes.empty or episode_days.empty:
        return pd.DataFrame(columns=columns)
    first = episode_days["day"].min().toordinal()
    last = as_of.toordinal()
    pub = np.array([p.toordinal() for p in episodes["pub_date"]])
    start = np.maximum(pub, first)
    # Episodes older than the curve's last age only add to its tail: left out.
    keep = (start <= last) & (last - pub <= MAX_AGE)
    counts = np.where(keep, last - start + 1, 0)
    if counts.sum() == 0:
        return pd.DataFrame(columns=columns)
    row = np.repeat(np.arange(len(episodes)), counts)
    offset = np.arange(counts.sum()) - np.repeat(np.cumsum(counts) - counts, counts)
    ordinal = start[row] + offset
    grid = pd.DataFrame(
        {
            "episode_id": episodes["episode_id"].to_numpy()[row],
            "show_id": episodes["show_id"].to_numpy()[row],
            "day": [date.fromordinal(int(o)) for o in ordinal],
            "pub": episodes["pub_date"].to_numpy()[row],
            "age": ordinal - pub[row],
        }
    )
    observed = episode_days.groupby(["episode_id", "day"], as_index=False)["downloads"].sum()
    grid = grid.merge(observed, on=["episode_id", "day"], how="left").fillna({"downloads": 0.0})
    return grid[columns]


def fit_downloads_shape(grid: pd.DataFrame) -> DownloadsShape | None:
    """The Poisson fit of level x curve x weekday on ``grid``; None without downloads."""
    if grid.empty or grid["downloads"].sum() <= 0:
        return None
    y = grid["downloads"].to_numpy(float)
    ep_codes, _ = pd.factorize(grid["episode_id"])
    bucket = age_bucket(grid["age"].to_numpy())
    n_buckets = len(AGE_EDGES)
    weekday_of = np.array([d.weekday() for d in grid["day"]], dtype=int)
    level = np.bincount(ep_codes, weights=y) + 1e-9
    curve = np.ones(n_buckets)
    weekday = np.ones(7)
    for _ in range(ITERATIONS):
        fitted = curve[bucket] * weekday[weekday_of]
        level = np.bincount(ep_codes, weights=y) / np.maximum(
            np.bincount(ep_codes, weights=fitted), 1e-12
        )
        rest = level[ep_codes] * weekday[weekday_of]
        num = np.bincount(bucket, weights=y, minlength=n_buckets)
        den = np.bincount(bucket, weights=rest, minlength=n_buckets)
        curve = _fill_gaps(np.where(den > 0, num / np.maximum(den, 1e-12), np.nan))
        rest = level[ep_codes] * curve[bucket]
        weekday = np.bincount(weekday_of, weights=y, minlength=7) / np.maximum(
            np.bincount(weekday_of, weights=rest, minlength=7), 1e-12
        )
        # A weekday never observed (a few days of data) keeps a neutral factor.
        weekday = np.where(np.bincount(weekday_of, minlength=7) > 0, weekday, np.nan)
        weekday = np.where(np.isfinite(weekday) & (weekday > 0), weekday, np.nanmean(weekday))
        weekday = weekday / weekday.mean()
    # Scale: the first 30 days of a unit-level episode sum to 1 (weekdays average out).
    curve = curve / float(np.sum(curve[age_bucket(np.arange(30))]))
    return DownloadsShape(curve=curve, weekday=weekday)


def launch_trend(stats: pd.DataFrame) -> float:
    """The tenant's common trend in episode launch size: the within-show weighted slope of log
    level on publication day, 0 without enough episodes or days, clipped to a halving or
    doubling per quarter so that a few episodes cannot extrapolate wildly."""
    if len(stats) < MIN_TREND_EPISODES:
        return 0.0
    t = np.array([p.toordinal() for p in stats["pub"]], dtype=float)
    y = np.log((stats["y"].to_numpy(float) + 0.5) / stats["exposure"].to_numpy(float))
    w = np.minimum(stats["exposure"].to_numpy(float), 1.0)
    frame = pd.DataFrame({"show": stats["show_id"].to_numpy(), "t": t, "y": y, "w": w})
    sums = frame.assign(wt=w * t, wy=w * y).groupby("show")[["w", "wt", "wy"]].transform("sum")
    dt = t - sums["wt"].to_numpy() / sums["w"].to_numpy()
    dy = y - sums["wy"].to_numpy() / sums["w"].to_numpy()
    sxx = float(np.sum(w * dt * dt))
    if t.max() - t.min() < MIN_TREND_SPAN_DAYS or sxx <= 0:
        return 0.0
    slope = float(np.sum(w * dt * dy) / sxx)
    return float(np.clip(slope, -MAX_TREND_PER_DAY, MAX_TREND_PER_DAY))


def episode_levels(
    shape: DownloadsShape, grid: pd.DataFrame, episodes: pd.DataFrame, reference_day: date
) -> EpisodeLevels:
    """Each episode's level under ``shape``: Poisson with a Gamma prior centred on its show's
    level at its publication (the show's latest launches, moved along the tenant's trend)."""
    if grid.empty:
        return EpisodeLevels({}, {}, 0.0, 0.0, reference_day)
    exposure_rows = shape.unit(grid["age"].to_numpy(), list(grid["day"]))
    stats = (
        grid.assign(exposure=exposure_rows)
        .groupby(["episode_id", "show_id", "pub"], as_index=False, dropna=False)
        .agg(y=("downloads", "sum"), exposure=("exposure", "sum"))
    )
    stats = stats[stats["exposure"] > 0]
    stats["raw"] = stats["y"] / stats["exposure"]
    informative = stats[stats["exposure"] >= INFORMATIVE_EXPOSURE]
    basis = informative if len(informative) else stats
    trend = launch_trend(informative)
    # Each launch moved to the reference day along the trend, then the show's latest averaged.
    moved = basis["raw"] * np.exp(
        trend * np.array([(reference_day - p).days for p in basis["pub"]], dtype=float)
    )
    basis = basis.assign(moved=moved)
    tenant = float(basis["moved"].median()) if len(basis) else 0.0
    show = {
        str(s): float(g.sort_values("pub").tail(RECENT_EPISODES)["moved"].mean())
        for s, g in basis.groupby("show_id")
    }
    levels = EpisodeLevels({}, show, tenant, trend, reference_day)
    for row in stats.itertuples(index=False):
        prior = max(levels.of_show(row.show_id, row.pub), 1e-9)
        # Gamma(LEVEL_PRIOR, LEVEL_PRIOR / prior) prior, Poisson likelihood: the posterior mean.
        levels.episode[row.episode_id] = float(
            (row.y + LEVEL_PRIOR) / (row.exposure + LEVEL_PRIOR / prior)
        )
    return levels


def _fill_gaps(curve: np.ndarray) -> np.ndarray:
    """Replace unobserved buckets by the nearest observed younger bucket (or the first observed
    one): ages nobody reached yet are assumed to hold the last level seen."""
    out = curve.copy()
    known = np.flatnonzero(np.isfinite(out))
    if not len(known):
        return np.ones_like(out)
    for i in range(len(out)):
        if not np.isfinite(out[i]):
            younger = known[known < i]
            out[i] = out[younger[-1]] if len(younger) else out[known[0]]
    return np.maximum(out, 1e-9)
