"""What the forecasts read from the warehouse, as pandas frames, and what was known on a day.

Every query filters on the tenant and names its columns; dates are cast in SQL and all calendar
arithmetic happens in pandas, so the same SQL runs on DuckDB and PostgreSQL. Impressions and
downloads are read in one counting window (the tenant's: a tenant has exactly one in practice),
conversions and revenue are the observed credits of the linear attribution model.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import date, datetime, time, timedelta
from functools import cached_property

import pandas as pd

from warehouse.connection import Warehouse

# The attribution model whose observed credits are forecast (docs/user/ml/forecasts.md says why).
ATTRIBUTION_MODEL = "linear"
# Preferred when a tenant's marts hold more than one counting window.
PREFERRED_WINDOW = "calendar_day"

READS = (
    "marts/dim_campaigns",
    "marts/fct_impressions",
    "marts/fct_episode_downloads_daily",
    "marts/fct_attribution_credits",
    "intermediate/int_downloads",
    "staging/stg_files__placements",
    "staging/stg_files__episodes",
)


_EMPTY = pd.Series(dtype=float)


@dataclass(frozen=True)
class TenantData:
    """One tenant's inputs. Day columns are ``datetime.date``; ``published_at`` naive UTC."""

    campaigns: pd.DataFrame  # campaign_id, start_date, end_date
    placements: pd.DataFrame  # placement_id, campaign_id, episode_id, show_id, position, insertion
    episodes: pd.DataFrame  # episode_id, show_id, published_at, pub_date
    episode_days: pd.DataFrame  # episode_id, show_id, day, downloads
    placement_days: pd.DataFrame  # campaign_id, placement_id, episode_id, day, impressions
    credit_days: pd.DataFrame  # campaign_id, day, touch_day, credit, revenue, revenue_credit
    order_values: pd.DataFrame  # conversion_id, day, revenue (observed, with a revenue)
    download_hours: pd.DataFrame  # episode_id, show_id, day, hour, downloads (first 8 days)
    data_end: date | None  # the last day any of the daily facts reaches
    lookback_days: float | None  # the attribution lookback window the credits were built with

    @cached_property
    def campaign_days(self) -> dict[str, dict[str, pd.Series]]:
        """Per campaign: impressions, credited conversions and their revenue by day (computed
        once per frame set; ``known_at`` makes a new one)."""
        imp = self.placement_days.groupby(["campaign_id", "day"])["impressions"].sum()
        credits = self.credit_days.groupby(["campaign_id", "day"])[["credit", "revenue"]].sum()
        out: dict[str, dict[str, pd.Series]] = {}
        for campaign_id in set(imp.index.get_level_values(0)) | set(
            credits.index.get_level_values(0)
        ):
            out[campaign_id] = {
                "impressions": imp.loc[campaign_id] if campaign_id in imp.index else _EMPTY,
                "conversions": credits.loc[campaign_id, "credit"]
                if campaign_id in credits.index
                else _EMPTY,
                "revenue": credits.loc[campaign_id, "revenue"]
                if campaign_id in credits.index
                else _EMPTY,
            }
        return out

    def known_at(self, as_of: date) -> TenantData:
        """The facts as they stood at the end of ``as_of``: no later day, no episode published
        after it (its placements stay: a buy is known when the flight starts), no credit of a
        later conversion."""
        cutoff = datetime.combine(as_of + timedelta(days=1), time())
        episodes = self.episodes[self.episodes["published_at"] < cutoff]
        return replace(
            self,
            episodes=episodes,
            episode_days=self.episode_days[self.episode_days["day"] <= as_of],
            placement_days=self.placement_days[self.placement_days["day"] <= as_of],
            credit_days=self.credit_days[self.credit_days["day"] <= as_of],
            order_values=self.order_values[self.order_values["day"] <= as_of],
            download_hours=self.download_hours[self.download_hours["day"] <= as_of],
            data_end=min(self.data_end, as_of) if self.data_end else None,
        )


def _frame(wh: Warehouse, sql: str, params: list) -> pd.DataFrame:
    names, rows = wh.fetch_columns(sql, params)
    return pd.DataFrame([tuple(r) for r in rows], columns=list(names))


def _as_date(series: pd.Series) -> pd.Series:
    return pd.to_datetime(series).dt.date if len(series) else series.astype(object)


def _window(wh: Warehouse, tenant_id: str) -> str | None:
    rows = wh.fetch(
        "select count_window, count(*) as days from marts.fct_episode_downloads_daily"
        " where tenant_id = ? group by count_window",
        [tenant_id],
    )
    windows = sorted(r[0] for r in rows if r[0] is not None)
    if not windows:
        return None
    return PREFERRED_WINDOW if PREFERRED_WINDOW in windows else windows[0]


def load_tenant_data(wh: Warehouse, tenant_id: str) -> TenantData:
    window = _window(wh, tenant_id) or PREFERRED_WINDOW
    campaigns = _frame(
        wh,
        "select campaign_id, start_date, end_date from marts.dim_campaigns"
        " where tenant_id = ? and start_date is not null and end_date is not null"
        " order by campaign_id",
        [tenant_id],
    )
    placements = _frame(
        wh,
        "select p.placement_id, p.campaign_id, p.episode_id, e.show_id, p.position,"
        " p.insertion_type"
        " from staging.stg_files__placements as p"
        " left join staging.stg_files__episodes as e"
        " on e.tenant_id = p.tenant_id and e.episode_id = p.episode_id"
        " where p.tenant_id = ? order by p.placement_id",
        [tenant_id],
    )
    episodes = _frame(
        wh,
        "select episode_id, show_id, published_at from staging.stg_files__episodes"
        " where tenant_id = ? and published_at is not null order by episode_id",
        [tenant_id],
    )
    episode_days = _frame(
        wh,
        "select episode_id, show_id, download_date as day, sum(downloads) as downloads"
        " from marts.fct_episode_downloads_daily"
        " where tenant_id = ? and count_window = ? and episode_id is not null"
        " group by episode_id, show_id, download_date",
        [tenant_id, window],
    )
    placement_days = _frame(
        wh,
        "select campaign_id, placement_id, episode_id, impression_date as day,"
        " sum(impressions) as impressions"
        " from marts.fct_impressions where tenant_id = ? and count_window = ?"
        " group by campaign_id, placement_id, episode_id, impression_date",
        [tenant_id, window],
    )
    credit_days = _frame(
        wh,
        "select campaign_id, cast(conversion_ts as date) as day,"
        " cast(touch_ts as date) as touch_day, sum(credit) as credit,"
        " sum(coalesce(credited_revenue, 0)) as revenue,"
        " sum(case when revenue is null then 0 else credit end) as revenue_credit"
        " from marts.fct_attribution_credits"
        " where tenant_id = ? and model = ? and is_observed and campaign_id is not null"
        " group by campaign_id, cast(conversion_ts as date), cast(touch_ts as date)",
        [tenant_id, ATTRIBUTION_MODEL],
    )
    order_values = _frame(
        wh,
        "select conversion_id, min(cast(conversion_ts as date)) as day, max(revenue) as revenue"
        " from marts.fct_attribution_credits"
        " where tenant_id = ? and model = ? and is_observed and revenue is not null"
        " group by conversion_id",
        [tenant_id, ATTRIBUTION_MODEL],
    )
    lookback = wh.fetch(
        "select max(lookback_days) as lookback_days from marts.fct_attribution_credits"
        " where tenant_id = ? and model = ?",
        [tenant_id, ATTRIBUTION_MODEL],
    )
    download_hours = _frame(
        wh,
        "select d.episode_id, d.show_id, d.download_date as day,"
        " cast(extract(hour from d.downloaded_at) as integer) as hour, count(*) as downloads"
        " from intermediate.int_downloads as d"
        " inner join staging.stg_files__episodes as e"
        " on e.tenant_id = d.tenant_id and e.episode_id = d.episode_id"
        " where d.tenant_id = ? and d.count_window = ? and e.published_at is not null"
        " and d.download_date >= cast(e.published_at as date)"
        " and d.download_date <= cast(e.published_at as date) + 8"
        " group by d.episode_id, d.show_id, d.download_date,"
        " cast(extract(hour from d.downloaded_at) as integer)",
        [tenant_id, window],
    )
    return assemble(
        campaigns, placements, episodes, episode_days, placement_days, credit_days,
        order_values, download_hours, lookback[0][0] if lookback else None,
    )  # fmt: skip


def assemble(
    campaigns: pd.DataFrame,
    placements: pd.DataFrame,
    episodes: pd.DataFrame,
    episode_days: pd.DataFrame,
    placement_days: pd.DataFrame,
    credit_days: pd.DataFrame,
    order_values: pd.DataFrame,
    download_hours: pd.DataFrame,
    lookback_days: float | None = None,
) -> TenantData:
    """Type the frames (dates as ``date``, numbers as float) and find the data's last day."""
    campaigns = campaigns.assign(
        start_date=_as_date(campaigns["start_date"]), end_date=_as_date(campaigns["end_date"])
    )
    episodes = episodes.assign(published_at=pd.to_datetime(episodes["published_at"]))
    episodes = episodes.assign(pub_date=_as_date(episodes["published_at"]))
    episode_days = episode_days.assign(
        day=_as_date(episode_days["day"]), downloads=episode_days["downloads"].astype(float)
    )
    placement_days = placement_days.assign(
        day=_as_date(placement_days["day"]),
        impressions=placement_days["impressions"].astype(float),
    )
    credit_days = credit_days.assign(
        day=_as_date(credit_days["day"]),
        touch_day=_as_date(credit_days["touch_day"]),
        **{c: credit_days[c].astype(float) for c in ("credit", "revenue", "revenue_credit")},
    )
    order_values = order_values.assign(
        day=_as_date(order_values["day"]), revenue=order_values["revenue"].astype(float)
    )
    download_hours = download_hours.assign(
        day=_as_date(download_hours["day"]),
        hour=download_hours["hour"].astype(int),
        downloads=download_hours["downloads"].astype(float),
    )
    ends = [
        frame["day"].max() for frame in (episode_days, placement_days, credit_days) if len(frame)
    ]
    return TenantData(
        campaigns=campaigns,
        placements=placements,
        episodes=episodes,
        episode_days=episode_days,
        placement_days=placement_days,
        credit_days=credit_days,
        order_values=order_values,
        download_hours=download_hours,
        data_end=max(ends) if ends else None,
        lookback_days=float(lookback_days) if lookback_days is not None else None,
    )
