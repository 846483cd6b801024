"""Each show's response to spend: predicted incremental revenue ``a × (1 - exp(-spend / b))``.

Why this shape. Ads bought on a show reach its audience at random: ``I`` impressions spread over
``N`` listening households reach ``N × (1 - exp(-I / N))`` of them, and what an ad causes comes
from the households it reaches (a second hearing adds little to the first). With ``c`` the
show's cost per impression, spend ``s`` buys ``s / c`` impressions, so revenue is
``a × (1 - exp(-s / b))`` with ``b = c × N``: the spend that buys one impression per household
of the audience, where returns have fallen to ``1/e`` of the first dollar's.

How it is set, per show, for a period of ``period_days`` (30 by default):

* ``c``: the show's cost over its impressions (every placement that delivered);
* ``N``: the show's largest monthly unique-listener count (``int_listeners``);
* the reference point: the show's spend per period while it was on air (its cost over the
  weeks in which its ads delivered, scaled to the period), ``s0``, and what that spend is
  predicted to return, ``R0 = predicted ROAS × s0 × incremental share / household-IP share``:
  the model's ROAS for a repeat of the show's placement mix booked now (attributed, observed
  households, within the horizon), discounted to what the ads caused (incrementality.py), and
  scaled from the observed households to all of them by the show's share of impressions on
  household networks (observed revenue comes from those households only);
* ``a = R0 / (1 - exp(-s0 / b))``: the curve passes through the reference point.

The frequency cap (impressions per listener per week) gives the most a show can absorb:
``cap × weekly listeners × period_days / 7`` impressions, at ``c`` each.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from models_ml.roi.features import AUDIENCE_WEEKS
from models_ml.roi.reads import RoiData


def active_weeks(data: RoiData, frame: pd.DataFrame) -> pd.Series:
    """Per show, the ISO weeks in which its ads delivered at least one impression."""
    if data.impressions.empty:
        return pd.Series(dtype=float)
    days = data.impressions.merge(
        frame[["placement_id", "show_id"]], on="placement_id", how="inner"
    )
    days = days[days["impressions"] > 0]
    iso = pd.to_datetime(days["impression_date"]).dt.isocalendar()
    weeks = days.assign(week=iso["year"].astype(str) + "-" + iso["week"].astype(str))
    return weeks.groupby("show_id")["week"].nunique().astype(float)


def audience(data: RoiData, as_of: pd.Timestamp) -> pd.DataFrame:
    """Per show: largest monthly listeners, and mean weekly listeners over the last complete
    weeks before ``as_of`` (all weeks when none is complete yet)."""
    rows = data.listeners
    months = rows[rows["period"] == "month"].groupby("show_id")["listeners"].max()
    weeks = rows[rows["period"] == "week"].copy()
    weeks["ends"] = pd.to_datetime(weeks["period_start"]) + pd.Timedelta(days=7)
    weekly = {}
    for show, group in weeks.sort_values("ends").groupby("show_id"):
        done = group[group["ends"] <= as_of]
        weekly[show] = float(
            (done if not done.empty else group)["listeners"].tail(AUDIENCE_WEEKS).mean()
        )
    return pd.DataFrame(
        {"monthly_listeners": months, "weekly_listeners": pd.Series(weekly, dtype=float)}
    )


def show_responses(
    data: RoiData,
    frame: pd.DataFrame,
    predicted_roas: pd.Series,
    incremental_share: pd.Series,
    tenant_share: float | None,
    period_days: int,
    frequency_cap_per_week: float,
) -> pd.DataFrame:
    """One row per show that has delivered ads: the response curve and its frequency cap.

    ``predicted_roas`` and ``incremental_share`` are indexed by show; a show without an
    incremental share of its own takes the tenant's, and 1 when the tenant has no estimate.
    """
    priced = frame[(frame["cost"] > 0) & (frame["total_impressions"] > 0)]
    if priced.empty or data.data_end is None:
        return pd.DataFrame()
    by_show = priced.groupby("show_id").agg(
        cost=("cost", "sum"),
        impressions=("total_impressions", "sum"),
        horizon_impressions=("impressions", "sum"),
        household_ip_impressions=("household_ip_impressions", "sum"),
    )
    as_of = pd.Timestamp(data.data_end) + pd.Timedelta(days=1)
    shows = by_show.join(active_weeks(data, priced).rename("active_weeks")).join(
        audience(data, as_of)
    )
    shows["predicted_roas"] = predicted_roas.reindex(shows.index)
    default_share = 1.0 if tenant_share is None else tenant_share
    shows["incremental_share"] = incremental_share.reindex(shows.index).fillna(default_share)
    shows = shows.dropna(
        subset=["monthly_listeners", "weekly_listeners", "active_weeks", "predicted_roas"]
    )
    shows = shows[(shows["monthly_listeners"] > 0) & (shows["active_weeks"] > 0)]
    if shows.empty:
        return pd.DataFrame()

    shows["cost_per_impression"] = shows["cost"] / shows["impressions"]
    shows["household_ip_share"] = (
        (
            shows["household_ip_impressions"]
            / shows["horizon_impressions"].where(shows["horizon_impressions"] > 0)
        )
        .fillna(1.0)
        .clip(lower=0.05, upper=1.0)
    )
    shows["reference_spend"] = shows["cost"] / (shows["active_weeks"] * 7.0 / period_days)
    shows["saturation_spend"] = shows["cost_per_impression"] * shows["monthly_listeners"]
    reference_revenue = (
        shows["predicted_roas"]
        * shows["reference_spend"]
        * shows["incremental_share"]
        / shows["household_ip_share"]
    )
    reached = 1.0 - np.exp(-shows["reference_spend"] / shows["saturation_spend"])
    shows["saturation_revenue"] = reference_revenue / reached
    shows["frequency_cap_spend"] = (
        frequency_cap_per_week
        * shows["weekly_listeners"]
        * (period_days / 7.0)
        * shows["cost_per_impression"]
    )
    shows.index.name = "show_id"
    return shows.reset_index().sort_values("show_id").reset_index(drop=True)


def response_revenue(saturation_revenue: float, saturation_spend: float, spend: float) -> float:
    """Predicted incremental revenue of ``spend`` on a show with curve ``(a, b)``."""
    if spend <= 0 or saturation_spend <= 0:
        return 0.0
    return float(saturation_revenue * (1.0 - math.exp(-spend / saturation_spend)))
