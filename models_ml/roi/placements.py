"""One row per placement: when it started, what it cost, and what it returned within the horizon.

A placement's results keep arriving for weeks (its episode is downloaded for the whole flight
and buyers respond up to the attribution window later), so the latest placements always look
worse than they will be. The family therefore measures every placement over the same horizon:
revenue and conversions credited to it from its start to ``horizon_days`` later. A placement is
*mature* once that horizon has passed (its start plus the horizon is on or before the last day
of conversions): only mature placements have an actual ROAS and are trained and evaluated on.
"""

from __future__ import annotations

from datetime import date, timedelta

import numpy as np
import pandas as pd

from models_ml.roi.reads import RoiData

UNKNOWN_SHOW = "(unknown show)"


def placement_start(frame: pd.DataFrame) -> pd.Series:
    """The first day a placement can deliver: its campaign's start, or its episode's publication
    when the episode came out later (dynamic insertion into the back catalogue starts at the
    flight; a new episode carries the ad from its release)."""
    campaign_start = pd.to_datetime(frame["campaign_start"])
    published = pd.to_datetime(frame["published_date"])
    later = published.notna() & (campaign_start.isna() | (published > campaign_start))
    return campaign_start.where(~later, published).dt.normalize()


def _sum_before(
    daily: pd.DataFrame, date_column: str, value_columns: list[str], cutoffs: pd.Series
) -> pd.DataFrame:
    """Per placement, the sum of ``value_columns`` on days strictly before its cutoff date."""
    if daily.empty:
        return pd.DataFrame(0.0, index=cutoffs.index, columns=value_columns)
    days = daily.copy()
    days[date_column] = pd.to_datetime(days[date_column])
    days = days.merge(cutoffs.rename("_cutoff"), left_on="placement_id", right_index=True)
    days = days[days[date_column] < days["_cutoff"]]
    sums = days.groupby("placement_id")[value_columns].sum()
    return sums.reindex(cutoffs.index).fillna(0.0)


def placement_frame(data: RoiData, horizon_days: int) -> pd.DataFrame:
    """Placements indexed by ``placement_id`` with their start, horizon results and maturity.

    Columns added: ``start`` (Timestamp), ``horizon_end`` (first day after the horizon),
    ``revenue``, ``conversions``, ``impressions``, ``household_ip_impressions`` (within the
    horizon), ``total_impressions`` (whole flight), ``mature``, ``roas`` (revenue / cost, mature
    placements with a positive cost only), ``cac`` (cost / conversions, when there are any).
    """
    frame = data.placements.copy()
    frame["show_id"] = frame["show_id"].fillna(UNKNOWN_SHOW)
    frame["cost"] = pd.to_numeric(frame["cost"], errors="coerce")
    frame = frame.set_index("placement_id", drop=False)
    frame.index.name = None
    frame["start"] = placement_start(frame)
    frame["horizon_end"] = frame["start"] + pd.Timedelta(days=horizon_days)

    results = _sum_before(
        data.credits, "conversion_date", ["conversions", "revenue"], frame["horizon_end"]
    )
    delivery = _sum_before(
        data.impressions,
        "impression_date",
        ["impressions", "household_ip_impressions"],
        frame["horizon_end"],
    )
    frame = frame.join(results).join(delivery)
    if data.impressions.empty:
        frame["total_impressions"] = 0.0
    else:
        totals = data.impressions.groupby("placement_id")["impressions"].sum()
        frame["total_impressions"] = totals.reindex(frame.index).fillna(0.0)

    if data.data_end is None:
        frame["mature"] = False
    else:
        # Mature: every day of the horizon (start .. horizon_end - 1) is at most the last day.
        last_day = pd.Timestamp(data.data_end)
        frame["mature"] = frame["horizon_end"] <= last_day + pd.Timedelta(days=1)
    frame["mature"] &= frame["start"].notna()
    priced = frame["cost"].notna() & (frame["cost"] > 0)
    known = frame["mature"] & priced
    frame["roas"] = np.where(known, frame["revenue"] / frame["cost"].where(priced), np.nan)
    has_conversions = known & (frame["conversions"] > 0)
    frame["cac"] = np.where(
        has_conversions, frame["cost"] / frame["conversions"].where(has_conversions), np.nan
    )
    return frame


def data_window(frame: pd.DataFrame) -> tuple[date | None, date | None]:
    """First start and last horizon day of the mature placements (the data a model learnt)."""
    mature = frame[frame["mature"]]
    if mature.empty:
        return None, None
    first = mature["start"].min().date()
    last = (mature["horizon_end"].max() - timedelta(days=1)).date()
    return first, last
