"""The robust seasonal baseline: what a daily series usually does on this weekday, and how far a
day is from it in robust standard deviations.

For day t of a series y (one value per calendar day; NaN before the series starts):

- level(t): the median of the previous ``LEVEL_DAYS`` days (at least ``MIN_HISTORY`` of them);
- weekday factor(t): the median, over the previous ``SEASON_WEEKS`` same weekdays, of
  y(s) / level(s) (at least ``MIN_SEASON_POINTS`` of them), clipped to [1/4, 4];
- expected(t) = level(t) x factor(t);
- spread(t): 1.4826 x the median absolute residual |y(s) - expected(s)| of the previous
  ``LEVEL_DAYS`` days (the MAD of a residual centred on zero), never below the counting noise
  sqrt(max(expected, 1) x unit) (a Poisson count of events each worth ``unit``);
- z(t) = (y(t) - expected(t)) / spread(t).

Every statistic looks back only (the day itself is never in its own baseline), and medians keep
one earlier anomaly from moving the baseline of the days after it.

The functions take one series, or a frame of many (one column per series, indexed by day), and
work on all columns at once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TypeVar

import numpy as np
import pandas as pd

LEVEL_DAYS = 28
MIN_HISTORY = 14
SEASON_WEEKS = 8
MIN_SEASON_POINTS = 3
MAD_TO_SD = 1.4826
FACTOR_RANGE = (0.25, 4.0)

Values = TypeVar("Values", pd.Series, pd.DataFrame)


@dataclass(frozen=True)
class Baseline:
    """Expected value, robust spread and z of each day (shaped like the input)."""

    expected: pd.Series | pd.DataFrame
    spread: pd.Series | pd.DataFrame
    z: pd.Series | pd.DataFrame


def _trailing_median(values: Values, days: int, min_periods: int) -> Values:
    return values.shift(1).rolling(days, min_periods=min_periods).median()


def seasonal_baseline(
    values: Values, unit: float | pd.Series = 1.0, weekly: bool = True
) -> Baseline:
    """The seasonal baseline of ``values`` (indexed by consecutive calendar days); NaN where
    the history is too short. ``unit``: the worth of one event (per column for a frame).
    ``weekly``: a day needs its weekday factor (``MIN_SEASON_POINTS`` same weekdays of history)
    to be scored; otherwise the factor is 1 until it has them (for short series such as a
    campaign's flight, where a weekday pattern has no time to show)."""
    y = values.astype(float)
    level = _trailing_median(y, LEVEL_DAYS, MIN_HISTORY)
    ratio = y / level.where(level > 0)
    weekday = pd.DatetimeIndex(y.index).day_of_week
    factor = ratio.groupby(weekday).transform(
        lambda s: _trailing_median(s, SEASON_WEEKS, MIN_SEASON_POINTS)
    )
    factor = factor.clip(*FACTOR_RANGE)
    if not weekly:
        factor = factor.fillna(1.0)
    expected = level * factor
    mad = _trailing_median((y - expected).abs(), LEVEL_DAYS, MIN_HISTORY // 2)
    events = np.maximum(expected, 1.0)
    noise = np.sqrt(events.mul(unit, axis=1) if isinstance(y, pd.DataFrame) else events * unit)
    spread = np.maximum(MAD_TO_SD * mad.fillna(0.0), noise)
    return Baseline(expected=expected, spread=spread, z=(y - expected) / spread)


@dataclass(frozen=True)
class Deviation:
    """Usual value (trailing median), robust spread and deviation of each day."""

    usual: pd.Series | pd.DataFrame
    spread: pd.Series | pd.DataFrame
    deviation: pd.Series | pd.DataFrame


def robust_deviation(values: Values, floor: float) -> Deviation:
    """How far each day's value is above (+) or below (-) the median of the previous
    ``LEVEL_DAYS`` days, in robust standard deviations (1.4826 x the median absolute residual
    of the previous days, never below ``floor``). The non-seasonal version, for shares."""
    x = values.astype(float)
    usual = _trailing_median(x, LEVEL_DAYS, MIN_HISTORY)
    mad = _trailing_median((x - usual).abs(), LEVEL_DAYS, MIN_HISTORY // 2)
    spread = np.maximum(MAD_TO_SD * mad.fillna(0.0), floor)
    return Deviation(usual=usual, spread=spread, deviation=(x - usual) / spread)
