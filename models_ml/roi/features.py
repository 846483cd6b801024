"""The features of a placement, each computed from what was known on an *as-of* date.

What the placement is (show, position, read type, insertion type, cost, ad length, ad load of
its episode, how many placements its campaign bought on the show, how old the episode is) is
known when it is booked. What the show has returned before (its past ROAS, CAC, revenue per
impression, impressions per dollar, frequency) and its audience are history: a placement
counts in another's history only once its own horizon has passed by the as-of date, a
campaign's reach and frequency once its flight has ended, a week of listeners once the week is
over. Training rows are featured as of their own start; holdout rows as of the training cutoff
(never later), so the holdout sees nothing the model could not have known when it was trained.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models_ml.roi.reads import RoiData

POSITION_CODES = {"pre": 0.0, "mid": 1.0, "post": 2.0}

FEATURES: list[str] = [
    "position_code",
    "host_read",
    "dynamic_insertion",
    "log_cost",
    "ad_seconds",
    "ad_load",
    "episode_age_days",
    "flight_days",
    "flight_share_in_horizon",
    "campaign_show_placements",
    "show_weekly_listeners",
    "cost_per_weekly_listener",
    "show_past_frequency",
    "show_past_placements",
    "show_past_roas",
    "show_past_cac",
    "show_past_revenue_per_impression",
    "show_past_impressions_per_dollar",
    "campaign_past_roas",
    "tenant_past_roas",
]

# Weeks of listeners averaged for a show's audience (the most recent complete ones).
AUDIENCE_WEEKS = 4


def _as_of_sums(
    keys: pd.Series,
    available: pd.Series,
    values: pd.DataFrame,
    query_keys: pd.Series,
    query_dates: pd.Series,
) -> pd.DataFrame:
    """For each query (key, date): the sums of ``values`` over entries of the same key whose
    ``available`` date is on or before the query date, with their count as ``n``.

    Sorted cumulative sums and a binary search per group: linear in the entries, so a tenant
    with thousands of placements costs milliseconds.
    """
    columns = [*values.columns, "n"]
    out = pd.DataFrame(0.0, index=query_dates.index, columns=columns)
    entries = values.assign(n=1.0, _key=keys.to_numpy(), _at=available.to_numpy())
    entries = entries[entries["_at"].notna()]
    queries = pd.DataFrame({"_key": query_keys.to_numpy(), "_at": query_dates.to_numpy()})
    queries.index = query_dates.index
    for key, group in entries.groupby("_key", sort=True):
        asked = queries[(queries["_key"] == key) & queries["_at"].notna()]
        if asked.empty:
            continue
        group = group.sort_values("_at", kind="mergesort")
        cumulative = group[columns].cumsum().to_numpy()
        times = group["_at"].to_numpy(dtype="datetime64[ns]")
        found = np.searchsorted(times, asked["_at"].to_numpy(dtype="datetime64[ns]"), "right")
        padded = np.vstack([np.zeros((1, len(columns))), cumulative])
        out.loc[asked.index, columns] = padded[found]
    return out


def _ratio(numerator: pd.Series, denominator: pd.Series) -> pd.Series:
    return (numerator / denominator.where(denominator > 0)).astype(float)


def _history(frame: pd.DataFrame, as_of: pd.Series, key: str) -> pd.DataFrame:
    """Sums over the placements of the same ``key`` (show, campaign, tenant) mature by as-of."""
    known = frame["mature"] & (frame["cost"] > 0)
    past = frame[known]
    values = pd.DataFrame(
        {
            "roas": past["roas"],
            "cost": past["cost"],
            "revenue": past["revenue"],
            "conversions": past["conversions"],
            "impressions": past["impressions"],
        }
    )
    keys = past[key] if key != "tenant" else pd.Series("tenant", index=past.index)
    query_keys = frame[key] if key != "tenant" else pd.Series("tenant", index=frame.index)
    return _as_of_sums(keys, past["horizon_end"], values, query_keys, as_of)


def _show_frequency(data: RoiData, frame: pd.DataFrame, as_of: pd.Series) -> pd.Series:
    """Impressions per household reached on the show by campaigns whose flight had ended."""
    reach = data.campaign_show_reach
    if reach.empty:
        return pd.Series(np.nan, index=frame.index)
    ends = frame.drop_duplicates("campaign_id").set_index("campaign_id")["campaign_end"]
    available = pd.to_datetime(reach["campaign_id"].map(ends)) + pd.Timedelta(days=1)
    sums = _as_of_sums(
        reach["show_id"],
        available,
        reach[["impressions", "reach"]].astype(float),
        frame["show_id"],
        as_of,
    )
    return _ratio(sums["impressions"], sums["reach"])


def _weekly_listeners(data: RoiData, frame: pd.DataFrame, as_of: pd.Series) -> pd.Series:
    """The show's mean unique listeners over its last complete weeks before the as-of date."""
    weeks = data.listeners[data.listeners["period"] == "week"]
    result = pd.Series(np.nan, index=frame.index)
    if weeks.empty:
        return result
    weeks = weeks.assign(ends=pd.to_datetime(weeks["period_start"]) + pd.Timedelta(days=7))
    by_show = {show: group.sort_values("ends") for show, group in weeks.groupby("show_id")}
    for index, show, when in zip(frame.index, frame["show_id"], as_of, strict=True):
        group = by_show.get(show)
        if group is None or pd.isna(when):
            continue
        done = group[group["ends"] <= when]
        if not done.empty:
            result[index] = float(done["listeners"].tail(AUDIENCE_WEEKS).mean())
    return result


def feature_matrix(
    data: RoiData, frame: pd.DataFrame, as_of: pd.Series, horizon_days: int
) -> pd.DataFrame:
    """The :data:`FEATURES` of every placement in ``frame``, each as of its ``as_of`` date."""
    as_of = pd.to_datetime(as_of).reindex(frame.index)
    features = pd.DataFrame(index=frame.index)
    features["position_code"] = frame["position"].map(POSITION_CODES).astype(float)
    features["host_read"] = frame["read_type"].map({"host": 1.0, "produced": 0.0}).astype(float)
    features["dynamic_insertion"] = (
        frame["insertion_type"].map({"dynamic": 1.0, "baked_in": 0.0}).astype(float)
    )
    cost = frame["cost"].where(frame["cost"] > 0)
    features["log_cost"] = np.log(cost)
    features["ad_seconds"] = (frame["ad_end_s"] - frame["ad_start_s"]).astype(float)
    features["ad_load"] = frame.groupby("episode_id")["placement_id"].transform("count")
    published = pd.to_datetime(frame["published_date"])
    features["episode_age_days"] = (frame["start"] - published).dt.days.astype(float)
    # The cost pays for the whole flight; the horizon sees the part of it that falls inside.
    flight = (pd.to_datetime(frame["campaign_end"]) - frame["start"]).dt.days + 1.0
    features["flight_days"] = flight.clip(lower=1.0)
    features["flight_share_in_horizon"] = (horizon_days / features["flight_days"]).clip(upper=1.0)
    features["campaign_show_placements"] = frame.groupby(["campaign_id", "show_id"])[
        "placement_id"
    ].transform("count")

    listeners = _weekly_listeners(data, frame, as_of)
    features["show_weekly_listeners"] = listeners
    features["cost_per_weekly_listener"] = _ratio(frame["cost"], listeners)
    features["show_past_frequency"] = _show_frequency(data, frame, as_of)

    show = _history(frame, as_of, "show_id")
    features["show_past_placements"] = show["n"]
    features["show_past_roas"] = _ratio(show["roas"], show["n"])
    features["show_past_cac"] = _ratio(show["cost"], show["conversions"])
    features["show_past_revenue_per_impression"] = _ratio(show["revenue"], show["impressions"])
    features["show_past_impressions_per_dollar"] = _ratio(show["impressions"], show["cost"])
    campaign = _history(frame, as_of, "campaign_id")
    features["campaign_past_roas"] = _ratio(campaign["roas"], campaign["n"])
    tenant = _history(frame, as_of, "tenant")
    features["tenant_past_roas"] = _ratio(tenant["roas"], tenant["n"])
    return features[FEATURES].astype(float)


def show_average_order_value(frame: pd.DataFrame, as_of: pd.Series) -> pd.Series:
    """Revenue per conversion of the show's mature placements by as-of, else the tenant's: turns a
    predicted ROAS into a CAC (ROAS = revenue / cost and CAC = cost / conversions, so CAC =
    revenue per conversion / ROAS)."""
    as_of = pd.to_datetime(as_of).reindex(frame.index)
    show = _history(frame, as_of, "show_id")
    tenant = _history(frame, as_of, "tenant")
    by_show = _ratio(show["revenue"], show["conversions"])
    return by_show.fillna(_ratio(tenant["revenue"], tenant["conversions"]))
