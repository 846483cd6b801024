"""The campaign forecast: impressions from the placements' episodes, conversions from the
impressions, revenue from the conversions.

* **Impressions.** A placement delivers its ad to a share of its episode's downloads (its
  delivery rate, shrunk toward the tenant's rate for its position and insertion type), and an
  episode's downloads follow the tenant's age curve and weekday factors at the episode's level
  (:mod:`downloads_curve`). A placement whose episode is not out yet is expected on one of the
  show's next release days (its cadence), at the show's level then.
* **Conversions.** Observed linear credits on day ``d`` are ``effect * sum_j lag_rate[j] *
  impressions[d - j]``: the tenant's credited conversions per impression ``j`` days later
  (estimated from the impressions that had ``j`` days to convert, so recent ones do not count
  as duds), times the campaign's effect (1 for the tenant's average campaign; Gamma-Poisson
  shrinkage toward 1).
* **Revenue.** Conversions times the campaign's revenue per credited conversion (shrunk toward
  the tenant's).
* **Intervals.** Monte Carlo draws of the predictive distribution: a campaign-wide level error
  on impressions and one on the effect (log-normal; their spread is measured by forecasting the
  last weeks before the cut-off from earlier cut-offs), negative binomial days (dispersion from
  the daily in-sample residuals), and Gamma sums of order values around the campaign's mean
  value. The 80% interval is the draws' 10th to 90th percentile, per day and for the remaining
  total.
"""

from __future__ import annotations

import zlib
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pandas as pd

from models_ml.forecasts.campaign_daily import METRICS, Forecast, daily_series, day_range
from models_ml.forecasts.data import TenantData
from models_ml.forecasts.downloads_curve import (
    DownloadsShape,
    episode_levels,
    fit_downloads_shape,
    observation_grid,
)

# Lags (days from touch to conversion) pooled into one rate each.
LAG_EDGES = (0, 1, 2, 3, 7, 14, 21, 30, 45, 61, 91)
MAX_LAG = LAG_EDGES[-1] - 1
DEFAULT_LOOKBACK_DAYS = 30
WEEK = 7
MAX_FLIGHT_WEEKS = 26
# A campaign is forecast (and judged) once its flight has run this many days.
MIN_ELAPSED_DAYS = 3


@dataclass(frozen=True)
class Settings:
    """Hyper-parameters of a version (none is tuned on the holdout)."""

    interval: float = 0.8
    draws: int = 1000
    seed: int = 20_261_108
    # Prior strengths: downloads for a placement's delivery rate and a group's, expected
    # conversions for a campaign's effect, conversions for its revenue per conversion.
    placement_prior: float = 30.0
    group_prior: float = 200.0
    effect_prior: float = 3.0
    flight_week_prior: float = 10.0
    value_prior: float = 5.0
    # Earlier cut-offs (weekly) whose forecasts of the weeks up to the cut-off measure the
    # level errors; defaults when there are none.
    spread_origins: int = 4
    min_sigma: float = 0.05
    default_sigma: float = 0.3
    default_inverse_dispersion: float = 0.1


@dataclass(frozen=True)
class MeanParams:
    """What the point forecast rests on, learnt from the data known at ``fitted_through``."""

    fitted_through: date
    shape: DownloadsShape
    delivery_rate: dict[str, float]  # "<position>/<insertion_type>" and "*" (every placement)
    lag_rate: np.ndarray  # credited conversions per impression, by lag 0..MAX_LAG days
    value_per_conversion: float


@dataclass(frozen=True)
class NoiseParams:
    """How far the point forecast strays: level errors (log scale) and daily dispersion."""

    impressions_sigma: float
    conversions_sigma: float
    impressions_inverse_dispersion: float
    conversions_inverse_dispersion: float
    value_cv: float
    spread_cases: int  # campaign forecasts the sigmas were measured on


@dataclass(frozen=True)
class TenantParams:
    mean: MeanParams
    noise: NoiseParams

    @property
    def fitted_through(self) -> date:
        return self.mean.fitted_through

    def summary(self) -> dict[str, object]:
        m, n = self.mean, self.noise
        return {
            "fitted_through": m.fitted_through.isoformat(),
            "delivery_rate": {k: round(v, 4) for k, v in sorted(m.delivery_rate.items())},
            "conversions_per_1000_impressions": round(1000 * float(m.lag_rate.sum()), 4),
            "value_per_conversion": round(m.value_per_conversion, 2),
            "weekday_factors": [round(float(w), 3) for w in m.shape.weekday],
            "impressions_sigma": round(n.impressions_sigma, 3),
            "conversions_sigma": round(n.conversions_sigma, 3),
            "impressions_inverse_dispersion": round(n.impressions_inverse_dispersion, 4),
            "conversions_inverse_dispersion": round(n.conversions_inverse_dispersion, 4),
            "value_cv": round(n.value_cv, 3),
            "spread_cases": n.spread_cases,
        }


class RangeSums:
    """Sums of a daily value per key over day ranges (cumulative sums, binary search): the
    downloads of an episode over a campaign's flight, without a pandas filter per placement."""

    def __init__(self, frame: pd.DataFrame, key: str, value: str) -> None:
        self._by_key: dict[object, tuple[np.ndarray, np.ndarray]] = {}
        if frame.empty:
            return
        ordinal = np.array([d.toordinal() for d in frame["day"]], dtype=np.int64)
        keys = frame[key].to_numpy()
        values = frame[value].to_numpy(float)
        order = np.lexsort((ordinal, pd.factorize(keys)[0]))
        keys, ordinal, values = keys[order], ordinal[order], values[order]
        bounds = np.flatnonzero(np.r_[True, keys[1:] != keys[:-1], True])
        for lo, hi in zip(bounds[:-1], bounds[1:], strict=True):
            self._by_key[keys[lo]] = (ordinal[lo:hi], np.r_[0.0, np.cumsum(values[lo:hi])])

    def total(self, key: object, first: date, last: date) -> float:
        """The sum over ``first`` to ``last``, both included (0 for an unknown key)."""
        found = self._by_key.get(key)
        if found is None or first > last:
            return 0.0
        days, cumulative = found
        lo = np.searchsorted(days, first.toordinal(), side="left")
        hi = np.searchsorted(days, last.toordinal(), side="right")
        return float(cumulative[hi] - cumulative[lo])


def _group(position: object, insertion: object) -> str:
    return f"{position or 'unknown'}/{insertion or 'unknown'}"


@dataclass(frozen=True)
class CampaignMeans:
    """A campaign's point forecast over ``days`` and what its conversions rest on."""

    days: list[date]
    impressions: np.ndarray
    exposure_from_past: np.ndarray  # expected conversions from impressions up to as_of
    lag_matrix: np.ndarray  # future impressions -> expected conversions (tenant rate)
    seen: float  # credited conversions so far in flight
    expected_so_far: float  # what the tenant rate expected of them
    effect: float
    week_factor: np.ndarray  # per forecast day
    value: float
    credited: float  # credits behind ``value``

    @property
    def conversions(self) -> np.ndarray:
        return (
            self.effect
            * self.week_factor
            * (self.exposure_from_past + self.impressions @ self.lag_matrix)
        )


class Snapshot:
    """The tenant's campaigns as known at the end of ``as_of``, under a version's mean params:
    episode levels, release cadences, placement delivery rates, impressions and credits."""

    def __init__(self, data: TenantData, as_of: date, mean: MeanParams, settings: Settings) -> None:
        self.data = data
        self.as_of = as_of
        self.mean = mean
        self.settings = settings
        grid = observation_grid(data.episodes, data.episode_days, as_of)
        self.levels = episode_levels(mean.shape, grid, data.episodes, as_of)
        self.pub_date = dict(
            zip(data.episodes["episode_id"], data.episodes["pub_date"], strict=True)
        )
        self.campaigns = {
            c.campaign_id: (c.start_date, c.end_date)
            for c in data.campaigns.itertuples(index=False)
        }
        self._downloads = RangeSums(data.episode_days, "episode_id", "downloads")
        self._delivered = data.placement_days.groupby("placement_id")["impressions"].sum()
        self._impressions = {
            c: g.groupby("day")["impressions"].sum()
            for c, g in data.placement_days.groupby("campaign_id")
        }
        self._credits = {c: g for c, g in data.credit_days.groupby("campaign_id")}
        self._placements = {c: g for c, g in data.placements.groupby("campaign_id")}
        self._cadence = self._show_cadence()
        self.rates = self._placement_rates()
        self.week_factor = self._flight_week_factors()

    def placements_of(self, campaign_id: str) -> pd.DataFrame:
        return self._placements.get(campaign_id, self.data.placements.iloc[0:0])

    def impressions_of(self, campaign_id: str) -> pd.Series:
        return self._impressions.get(campaign_id, pd.Series(dtype=float))

    def credits_of(self, campaign_id: str) -> pd.DataFrame:
        return self._credits.get(campaign_id, self.data.credit_days.iloc[0:0])

    def _show_cadence(self) -> dict[str, tuple[pd.Timestamp, float]]:
        """Per show: its latest release and the median days between its recent releases."""
        out = {}
        for show, group in self.data.episodes.groupby("show_id"):
            times = group["published_at"].sort_values()
            gaps = times.diff().dt.total_seconds().dropna().tail(8) / 86400
            cadence = float(gaps.median()) if len(gaps) else 7.0
            out[str(show)] = (times.iloc[-1], max(cadence, 0.5))
        return out

    def release_days(self, show_id: object, last: date) -> list[date]:
        """The days a show's next episodes are expected on, after ``as_of`` and up to ``last``;
        every day of that span when the cadence foresees none."""
        span = day_range(self.as_of + timedelta(days=1), last)
        if not isinstance(show_id, str) or show_id not in self._cadence:
            return span
        latest, cadence = self._cadence[show_id]
        out, k = [], 1
        while (day := (latest + pd.Timedelta(days=cadence * k)).date()) <= last:
            if day > self.as_of:
                out.append(day)
            k += 1
        return out or span

    def flight_downloads(self, episode_id: str, first: date, last: date) -> float:
        return self._downloads.total(episode_id, first, last)

    def _flight_so_far(self, campaign_id: str) -> tuple[date, date] | None:
        if campaign_id not in self.campaigns:
            return None
        start, end = self.campaigns[campaign_id]
        last = min(end, self.as_of)
        return (start, last) if start <= last else None

    def _placement_rates(self) -> dict[str, float]:
        """Each placement's delivery rate: its impressions per download of its episode in flight
        so far, shrunk toward its group's rate."""
        group_rate = self.mean.delivery_rate
        prior_weight = self.settings.placement_prior
        rates = {}
        for p in self.data.placements.itertuples(index=False):
            prior = group_rate.get(_group(p.position, p.insertion_type), group_rate["*"])
            span = self._flight_so_far(p.campaign_id)
            downloads = self.flight_downloads(p.episode_id, *span) if span else 0.0
            delivered = float(self._delivered.get(p.placement_id, 0.0))
            rates[p.placement_id] = (delivered + prior_weight * prior) / (downloads + prior_weight)
        return rates

    def expected_impressions(
        self, campaign_id: str, days: list[date], released_only: bool = False
    ) -> np.ndarray:
        """Expected impressions of the campaign on ``days``. Episodes not out by ``as_of`` come
        on the show's expected release days (``released_only`` leaves them out: the in-sample
        fit of past days)."""
        out = np.zeros(len(days))
        if not days:
            return out
        for p in self.placements_of(campaign_id).itertuples(index=False):
            rate = self.rates.get(p.placement_id, self.mean.delivery_rate["*"])
            pub = self.pub_date.get(p.episode_id)
            if pub is not None:
                level = self.levels.episode.get(p.episode_id)
                if level is None:
                    level = self.levels.of_show(p.show_id, pub)
                age = np.array([(d - pub).days for d in days])
                out += rate * level * self.mean.shape.unit(age, days)
            elif not released_only:
                # Unreleased episodes come out by the flight's end, not by the last day asked.
                candidates = self.release_days(
                    p.show_id, max(self.campaigns[campaign_id][1], days[-1])
                )
                profile = np.zeros(len(days))
                for release in candidates:
                    age = np.array([(d - release).days for d in days])
                    level = self.levels.of_show(p.show_id, release)
                    profile += level * self.mean.shape.unit(age, days)
                out += rate * profile / len(candidates)
        return out

    def conversion_exposure(self, impressions: pd.Series, days: list[date]) -> np.ndarray:
        return lagged_exposure(self.mean.lag_rate, impressions, days)

    def _observed_and_exposure(self, campaign_id: str) -> tuple[list[date], np.ndarray, np.ndarray]:
        """Flight days so far, the credits on each and the tenant lag rate's expectation."""
        span = self._flight_so_far(campaign_id)
        if span is None:
            return [], np.zeros(0), np.zeros(0)
        days = day_range(*span)
        credits = self.credits_of(campaign_id)
        observed = (
            credits.groupby("day")["credit"].sum().reindex(pd.Index(days), fill_value=0.0)
            .to_numpy(float)
        )  # fmt: skip
        return days, observed, self.conversion_exposure(self.impressions_of(campaign_id), days)

    def _flight_week_factors(self) -> np.ndarray:
        """Credited conversions over the lag rate's expectation, by week of flight, pooled over
        the campaigns (shrunk toward 1): later weeks reach households that heard the ad before,
        which convert less per impression. Weeks no campaign reached yet repeat the last one."""
        num: dict[int, float] = {}
        den: dict[int, float] = {}
        for campaign_id in self.campaigns:
            days, observed, exposure = self._observed_and_exposure(campaign_id)
            for w in range(0, len(days), WEEK):
                num[w // WEEK] = num.get(w // WEEK, 0.0) + float(observed[w : w + WEEK].sum())
                den[w // WEEK] = den.get(w // WEEK, 0.0) + float(exposure[w : w + WEEK].sum())
        prior = self.settings.flight_week_prior
        factors = [1.0]
        for week in range(MAX_FLIGHT_WEEKS):
            if week in num:
                factors.append((num[week] + prior) / (den[week] + prior))
            else:
                factors.append(factors[-1])
        return np.array(factors[1:])

    def week_factors(self, campaign_id: str, days: list[date]) -> np.ndarray:
        start, _ = self.campaigns[campaign_id]
        weeks = np.array([min((d - start).days // WEEK, MAX_FLIGHT_WEEKS - 1) for d in days])
        return self.week_factor[np.maximum(weeks, 0)] if len(days) else np.zeros(0)

    def effect(self, campaign_id: str) -> tuple[float, float, float, np.ndarray, np.ndarray]:
        """Credited conversions so far in flight, the expectation of them (tenant lag rate and
        flight-week factors), the campaign's effect (Gamma posterior mean, prior mean 1), and
        both by day."""
        days, observed, exposure = self._observed_and_exposure(campaign_id)
        if not days:
            return 0.0, 0.0, 1.0, observed, exposure
        expected = exposure * self.week_factors(campaign_id, days)
        prior = self.settings.effect_prior
        effect = (observed.sum() + prior) / (expected.sum() + prior)
        return float(observed.sum()), float(expected.sum()), float(effect), observed, expected

    def means(self, campaign_id: str, days: list[date]) -> CampaignMeans:
        impressions = self.expected_impressions(campaign_id, days)
        h = len(days)
        lag_matrix = np.zeros((h, h))
        for j in range(min(h, MAX_LAG + 1)):
            lag_matrix += np.eye(h, k=j) * self.mean.lag_rate[j]
        seen, expected, effect, _, _ = self.effect(campaign_id)
        credits = self.credits_of(campaign_id)
        credited = float(credits["credit"].sum())
        prior = self.settings.value_prior
        value = (float(credits["revenue"].sum()) + prior * self.mean.value_per_conversion) / (
            credited + prior
        )
        return CampaignMeans(
            days=days,
            impressions=impressions,
            exposure_from_past=self.conversion_exposure(self.impressions_of(campaign_id), days),
            lag_matrix=lag_matrix,
            seen=seen,
            expected_so_far=expected,
            effect=effect,
            value=value,
            credited=credited,
            week_factor=self.week_factors(campaign_id, days),
        )

    def forecastable(self, campaign_ids: list[str] | None = None) -> list[str]:
        """Campaigns in flight at ``as_of`` (run MIN_ELAPSED_DAYS, not ended), or those of
        ``campaign_ids`` among them."""
        out = []
        for c, (start, end) in sorted(self.campaigns.items()):
            if campaign_ids is not None and c not in campaign_ids:
                continue
            if start + timedelta(days=MIN_ELAPSED_DAYS - 1) <= self.as_of < end:
                out.append(c)
        return out


def lagged_exposure(lag_rate: np.ndarray, impressions: pd.Series, days: list[date]) -> np.ndarray:
    """``sum_j lag_rate[j] * impressions[d - j]`` for each day ``d`` of ``days`` (impressions by
    day; a day without a value had none)."""
    if not days:
        return np.zeros(0)
    lag = len(lag_rate) - 1
    span = day_range(days[0] - timedelta(days=lag), days[-1])
    series = impressions.reindex(pd.Index(span), fill_value=0.0).to_numpy(float)
    return np.convolve(series, lag_rate)[: len(span)][lag:]


def has_history(data: TenantData, origin: date) -> bool:
    """Whether impressions reach back a whole lookback window before ``origin``: only then has
    every lag of the conversions been seen."""
    if data.placement_days.empty:
        return False
    lookback = int(np.ceil(data.lookback_days or DEFAULT_LOOKBACK_DAYS))
    return data.placement_days["day"].min() + timedelta(days=lookback) <= origin


def _group_rates(data: TenantData, as_of: date, settings: Settings) -> dict[str, float]:
    """Impressions per in-flight download of the placements' episodes: tenant-wide, and per
    position and insertion type (shrunk toward the tenant-wide rate)."""
    flights = {c.campaign_id: (c.start_date, c.end_date) for c in data.campaigns.itertuples()}
    downloads_by_episode = RangeSums(data.episode_days, "episode_id", "downloads")
    delivered_by_placement = data.placement_days.groupby("placement_id")["impressions"].sum()
    delivered: dict[str, float] = {}
    downloads: dict[str, float] = {}
    for p in data.placements.itertuples(index=False):
        if p.campaign_id not in flights:
            continue
        start, end = flights[p.campaign_id]
        end = min(end, as_of)
        if start > end:
            continue
        key = _group(p.position, p.insertion_type)
        in_flight = downloads_by_episode.total(p.episode_id, start, end)
        downloads[key] = downloads.get(key, 0.0) + in_flight
        delivered[key] = delivered.get(key, 0.0) + float(
            delivered_by_placement.get(p.placement_id, 0.0)
        )
    total = sum(downloads.values())
    overall = sum(delivered.values()) / total if total > 0 else 0.0
    rates = {"*": overall}
    for key, down in downloads.items():
        rates[key] = (delivered[key] + settings.group_prior * overall) / (
            down + settings.group_prior
        )
    return rates


def lag_rates(
    credit_days: pd.DataFrame, placement_days: pd.DataFrame, as_of: date, lookback_days: float
) -> np.ndarray:
    """Credited conversions per impression by lag: credits at lag ``j`` over the impressions that
    had ``j`` days to convert by ``as_of``, pooled within the lag buckets. A bucket no impression
    was old enough for takes the rate of the one before it (up to the lookback window: no credit
    beyond it)."""
    lag = np.array(
        [(d - t).days for d, t in zip(credit_days["day"], credit_days["touch_day"], strict=True)],
        dtype=int,
    )
    keep = (lag >= 0) & (lag <= MAX_LAG)
    credit = credit_days["credit"].to_numpy(float)[keep]
    num = np.bincount(lag[keep], weights=credit, minlength=MAX_LAG + 1)
    imp = placement_days.groupby("day")["impressions"].sum()
    age = np.array([(as_of - d).days for d in imp.index], dtype=int)
    by_age = np.bincount(
        np.clip(age, 0, MAX_LAG), weights=imp.to_numpy(float), minlength=MAX_LAG + 1
    )
    den = by_age[::-1].cumsum()[::-1]  # den[j]: impressions at least j days old
    out = np.zeros(MAX_LAG + 1)
    last = None
    window = min(int(np.floor(lookback_days)), MAX_LAG)
    for lo, hi in zip(LAG_EDGES[:-1], LAG_EDGES[1:], strict=True):
        if lo > window:
            break
        hi = min(hi, window + 1)
        d = den[lo:hi].sum()
        if d > 0:
            last = num[lo:hi].sum() / d
        if last is not None:
            out[lo:hi] = last
    return out


def fit_mean_params(data: TenantData, as_of: date, settings: Settings) -> MeanParams | None:
    """Fit on the data known at the end of ``as_of`` (``data`` already cut there); None
    without downloads to learn the curve from."""
    shape = fit_downloads_shape(observation_grid(data.episodes, data.episode_days, as_of))
    if shape is None:
        return None
    credit = data.credit_days["credit"].sum()
    return MeanParams(
        fitted_through=as_of,
        shape=shape,
        delivery_rate=_group_rates(data, as_of, settings),
        lag_rate=lag_rates(
            data.credit_days,
            data.placement_days,
            as_of,
            data.lookback_days or DEFAULT_LOOKBACK_DAYS,
        ),
        value_per_conversion=float(data.credit_days["revenue"].sum() / credit) if credit else 0.0,
    )


class Fits:
    """Mean fits by cut-off over one tenant's data, each made once: a back-test's cut-offs are
    weekly, and each cut-off's noise estimate refits the weekly cut-offs before it."""

    def __init__(self, data: TenantData, settings: Settings) -> None:
        self.data = data
        self.settings = settings
        self._at: dict[date, tuple[TenantData, Snapshot | None]] = {}

    def at(self, cut_off: date) -> tuple[TenantData, Snapshot | None]:
        """The data known at the end of ``cut_off`` and the snapshot of a fit on it (None
        without downloads)."""
        if cut_off not in self._at:
            known = self.data.known_at(cut_off)
            mean = fit_mean_params(known, cut_off, self.settings)
            snapshot = Snapshot(known, cut_off, mean, self.settings) if mean else None
            self._at[cut_off] = (known, snapshot)
        return self._at[cut_off]


def _level_errors(fits: Fits, as_of: date) -> tuple[float, float, int]:
    """Mean squared log error beyond Poisson noise of impressions and conversions totals, when
    the weeks up to ``as_of`` are forecast from weekly cut-offs before it (the same procedure,
    fitted on what each cut-off knew)."""
    known_now, _ = fits.at(as_of)
    imp_errors, conv_errors = [], []
    for k in range(1, fits.settings.spread_origins + 1):
        origin = as_of - timedelta(days=WEEK * k)
        if not has_history(known_now, origin):
            break
        _, snapshot = fits.at(origin)
        if snapshot is None:
            continue
        for campaign_id in snapshot.forecastable():
            _, end = snapshot.campaigns[campaign_id]
            days = day_range(origin + timedelta(days=1), min(end, as_of))
            means = snapshot.means(campaign_id, days)
            actual = daily_series(known_now, campaign_id, days)
            for errors, forecast, observed in (
                (imp_errors, means.impressions.sum(), actual["impressions"].sum()),
                (conv_errors, means.conversions.sum(), actual["conversions"].sum()),
            ):
                ratio = np.log((observed + 1) / (forecast + 1))
                errors.append(ratio**2 - 1 / (forecast + 1))
    if not imp_errors:
        return float("nan"), float("nan"), 0
    return float(np.mean(imp_errors)), float(np.mean(conv_errors)), len(imp_errors)


def _daily_inverse_dispersion(snapshot: Snapshot, settings: Settings) -> tuple[float, float]:
    """Negative binomial ``k`` (variance ``mu + k mu^2``) of daily impressions (around the
    week's level) and daily conversions (around the campaign's effect), in-sample."""
    imp_num = imp_den = conv_num = conv_den = 0.0
    for campaign_id in snapshot.campaigns:
        span = snapshot._flight_so_far(campaign_id)
        if span is None:
            continue
        days = day_range(*span)
        actual = daily_series(snapshot.data, campaign_id, days)["impressions"]
        fitted = snapshot.expected_impressions(campaign_id, days, released_only=True)
        for w in range(0, len(days), WEEK):
            y, m = actual[w : w + WEEK], fitted[w : w + WEEK]
            if m.sum() <= 0:
                continue
            adjusted = m * y.sum() / m.sum()
            imp_num += float(np.sum((y - adjusted) ** 2 - adjusted))
            imp_den += float(np.sum(adjusted**2))
        _, _, effect, observed, expected = snapshot.effect(campaign_id)
        mu = effect * expected
        conv_num += float(np.sum((observed - mu) ** 2 - mu))
        conv_den += float(np.sum(mu**2))
    default = settings.default_inverse_dispersion
    return (
        max(imp_num / imp_den, 1e-3) if imp_den > 0 else default,
        max(conv_num / conv_den, 1e-3) if conv_den > 0 else default,
    )


def fit_tenant_params(
    data: TenantData, as_of: date, settings: Settings, fits: Fits | None = None
) -> TenantParams | None:
    """Mean and noise parameters from the data known at the end of ``as_of`` (``fits``: the
    cache of a back-test over the same data)."""
    fits = fits or Fits(data, settings)
    known, snapshot = fits.at(as_of)
    if snapshot is None:
        return None
    imp_mse, conv_mse, cases = _level_errors(fits, as_of)
    imp_k, conv_k = _daily_inverse_dispersion(snapshot, settings)
    values = known.order_values["revenue"].to_numpy(float)
    value_cv = float(values.std() / values.mean()) if len(values) > 1 and values.mean() > 0 else 0.5

    def sigma(mse: float) -> float:
        if not np.isfinite(mse):
            return settings.default_sigma
        return float(np.sqrt(max(mse, settings.min_sigma**2)))

    return TenantParams(
        mean=snapshot.mean,
        noise=NoiseParams(
            impressions_sigma=sigma(imp_mse),
            conversions_sigma=sigma(conv_mse),
            impressions_inverse_dispersion=imp_k,
            conversions_inverse_dispersion=conv_k,
            value_cv=value_cv,
            spread_cases=cases,
        ),
    )


def _negative_binomial(rng: np.random.Generator, mean: np.ndarray, k: float) -> np.ndarray:
    """Gamma-Poisson draws with the given means and variance ``mean + k * mean**2``."""
    k = max(k, 1e-6)
    return rng.poisson(rng.gamma(shape=1 / k, scale=np.maximum(mean, 0.0) * k)).astype(float)


def _lognormal(rng: np.random.Generator, sigma: float, n: int) -> np.ndarray:
    """Multiplicative errors with mean 1."""
    return rng.lognormal(-(sigma**2) / 2, sigma, size=(n, 1))


def forecast_campaigns(
    data: TenantData, params: TenantParams, as_of: date, settings: Settings,
    campaign_ids: list[str] | None = None, snapshot: Snapshot | None = None,
) -> list[Forecast]:  # fmt: skip
    """Forecast the campaigns in flight at the end of ``as_of`` (or those of ``campaign_ids``
    among them) to the end of their flights, from ``data`` as known at ``as_of`` (``snapshot``:
    the same, already built with ``params.mean``)."""
    if snapshot is None or snapshot.mean is not params.mean or snapshot.as_of != as_of:
        snapshot = Snapshot(data, as_of, params.mean, settings)
    noise = params.noise
    lo_q, hi_q = 50 * (1 - settings.interval), 50 * (1 + settings.interval)
    out = []
    for campaign_id in snapshot.forecastable(campaign_ids):
        start, end = snapshot.campaigns[campaign_id]
        days = day_range(as_of + timedelta(days=1), end)
        means = snapshot.means(campaign_id, days)
        past = daily_series(data, campaign_id, day_range(start, as_of))
        rng = np.random.default_rng(
            [settings.seed, zlib.crc32(campaign_id.encode()), as_of.toordinal()]
        )
        n = settings.draws
        imp = _negative_binomial(
            rng,
            _lognormal(rng, noise.impressions_sigma, n) * means.impressions[None, :],
            noise.impressions_inverse_dispersion,
        )
        # The effect's own error: what the conversions' level error leaves beyond the
        # impressions' (carried by the drawn impressions), at least its posterior spread.
        posterior_var = 1 / (means.seen + settings.effect_prior)
        effect_sigma = np.sqrt(
            max(noise.conversions_sigma**2 - noise.impressions_sigma**2, posterior_var)
        )
        effect = means.effect * _lognormal(rng, effect_sigma, n)
        exposure = means.week_factor * (means.exposure_from_past[None, :] + imp @ means.lag_matrix)
        conv = _negative_binomial(rng, effect * exposure, noise.conversions_inverse_dispersion)
        cv = max(noise.value_cv, 1e-3)
        value = means.value * _lognormal(
            rng, cv / np.sqrt(means.credited + settings.value_prior), n
        )
        rev = np.where(
            conv > 0,
            rng.gamma(shape=np.where(conv > 0, conv / cv**2, 1.0), scale=value * cv**2),
            0.0,
        )
        draws = {"impressions": imp, "conversions": conv, "revenue": rev}
        point = {
            "impressions": means.impressions,
            "conversions": means.conversions,
            "revenue": means.conversions * means.value,
        }
        out.append(
            Forecast(
                campaign_id=campaign_id,
                as_of=as_of,
                start_date=start,
                end_date=end,
                days=days,
                to_date={m: float(past[m].sum()) for m in METRICS},
                mean=point,
                lower={m: np.percentile(draws[m], lo_q, axis=0) for m in METRICS},
                upper={m: np.percentile(draws[m], hi_q, axis=0) for m in METRICS},
                total={
                    m: (
                        float(point[m].sum()),
                        float(np.percentile(draws[m].sum(axis=1), lo_q)),
                        float(np.percentile(draws[m].sum(axis=1), hi_q)),
                    )
                    for m in METRICS
                },
            )
        )
    return out
