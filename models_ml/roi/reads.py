"""What the ROI family reads from the warehouse: one query per source, each as a DataFrame.

Every query filters on the tenant, names its columns and casts what the two engines would
return differently (PostgreSQL sums integers into ``numeric``, DuckDB keeps ``hugeint``; both
give dates for ``cast(... as date)``). Calendar maths is done in pandas afterwards, so no query
relies on an engine's date functions.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import pandas as pd

from warehouse.connection import Warehouse

# The dbt models read, as the Dagster upstream keys of the training asset.
READS: tuple[str, ...] = (
    "staging/stg_files__placements",
    "staging/stg_files__episodes",
    "marts/dim_campaigns",
    "marts/fct_impressions",
    "marts/fct_attribution_credits",
    "marts/rpt_reach_frequency",
    "marts/rpt_incrementality",
    "intermediate/int_listeners",
    "intermediate/int_conversions",
)


def _frame(wh: Warehouse, sql: str, params: list[object]) -> pd.DataFrame:
    names, rows = wh.fetch_columns(sql, params)
    return pd.DataFrame.from_records(rows, columns=names)


def placements(wh: Warehouse, tenant_id: str) -> pd.DataFrame:
    """Every placement with its episode (show, publication, length) and its campaign's flight."""
    return _frame(
        wh,
        """
        select
            p.placement_id,
            p.campaign_id,
            p.episode_id,
            e.show_id,
            p.position,
            p.read_type,
            p.insertion_type,
            cast(p.cost as double precision) as cost,
            cast(p.ad_start_s as double precision) as ad_start_s,
            cast(p.ad_end_s as double precision) as ad_end_s,
            cast(e.published_at as date) as published_date,
            cast(e.duration_s as double precision) as episode_duration_s,
            cast(c.start_date as date) as campaign_start,
            cast(c.end_date as date) as campaign_end
        from staging.stg_files__placements as p
        left join staging.stg_files__episodes as e
            on e.tenant_id = p.tenant_id and e.episode_id = p.episode_id
        left join marts.dim_campaigns as c
            on c.tenant_id = p.tenant_id and c.campaign_id = p.campaign_id
        where p.tenant_id = ?
        order by p.placement_id
        """,
        [tenant_id],
    )


def impressions_daily(wh: Warehouse, tenant_id: str) -> pd.DataFrame:
    """Impressions per placement and UTC day, in the tenant's counting window."""
    frame = _frame(
        wh,
        """
        select
            placement_id,
            count_window,
            cast(impression_date as date) as impression_date,
            cast(sum(impressions) as double precision) as impressions,
            cast(sum(household_ip_impressions) as double precision) as household_ip_impressions
        from marts.fct_impressions
        where tenant_id = ?
        group by placement_id, count_window, cast(impression_date as date)
        order by placement_id, impression_date
        """,
        [tenant_id],
    )
    return _one_count_window(frame)


def _one_count_window(frame: pd.DataFrame) -> pd.DataFrame:
    """Keep one counting window (calendar day when present): a tenant's impressions are counted
    once per window, and adding two windows would count every ad twice."""
    if frame.empty:
        return frame.drop(columns=["count_window"])
    windows = sorted(frame["count_window"].dropna().unique())
    keep = "calendar_day" if "calendar_day" in windows else (windows[0] if windows else None)
    kept = frame[frame["count_window"] == keep] if keep is not None else frame
    return kept.drop(columns=["count_window"]).reset_index(drop=True)


def credits_daily(wh: Warehouse, tenant_id: str, model: str) -> pd.DataFrame:
    """Observed conversions and revenue credited to each placement by ``model``, per conversion
    day (so that a placement's revenue can be read as of any date)."""
    return _frame(
        wh,
        """
        select
            placement_id,
            cast(conversion_ts as date) as conversion_date,
            cast(sum(credit) as double precision) as conversions,
            cast(sum(coalesce(credited_revenue, 0)) as double precision) as revenue
        from marts.fct_attribution_credits
        where tenant_id = ? and model = ? and is_observed and placement_id is not null
        group by placement_id, cast(conversion_ts as date)
        order by placement_id, conversion_date
        """,
        [tenant_id, model],
    )


def campaign_show_reach(wh: Warehouse, tenant_id: str) -> pd.DataFrame:
    """Impressions and households reached per campaign on each show (frequency = their ratio)."""
    return _frame(
        wh,
        """
        select
            campaign_id,
            show_id,
            cast(impressions as double precision) as impressions,
            cast(reach as double precision) as reach
        from marts.rpt_reach_frequency
        where tenant_id = ? and scope = 'campaign_show'
        order by campaign_id, show_id
        """,
        [tenant_id],
    )


def incrementality(wh: Warehouse, tenant_id: str) -> pd.DataFrame:
    """Observed (household-IP) exposed vs matched control rates per campaign. The counts and rates
    are kept even when the mart's verdict is ``insufficient_sample``; the family pools them."""
    return _frame(
        wh,
        """
        select
            campaign_id,
            cast(matched_exposed_households as double precision) as matched_exposed_households,
            cast(exposed_conversion_rate as double precision) as exposed_conversion_rate,
            cast(control_conversion_rate as double precision) as control_conversion_rate,
            result_status
        from marts.rpt_incrementality
        where tenant_id = ? and is_observed
        order by campaign_id
        """,
        [tenant_id],
    )


def listeners(wh: Warehouse, tenant_id: str) -> pd.DataFrame:
    """Unique listeners per show and ISO week or month (the audience an ad can reach)."""
    return _frame(
        wh,
        """
        select
            show_id,
            period,
            cast(period_start as date) as period_start,
            cast(listeners as double precision) as listeners
        from intermediate.int_listeners
        where tenant_id = ? and period in ('week', 'month') and show_id is not null
        order by show_id, period, period_start
        """,
        [tenant_id],
    )


def last_conversion_date(wh: Warehouse, tenant_id: str) -> date | None:
    """The last day the tenant's conversions are known: the end of the observed data."""
    rows = wh.fetch(
        "select cast(max(conversion_ts) as date) as last_date from intermediate.int_conversions"
        " where tenant_id = ?",
        [tenant_id],
    )
    value = rows[0][0] if rows else None
    return pd.Timestamp(value).date() if value is not None else None


@dataclass
class RoiData:
    """Everything one tenant's training or scoring reads, fetched once."""

    placements: pd.DataFrame
    impressions: pd.DataFrame
    credits: pd.DataFrame
    campaign_show_reach: pd.DataFrame
    incrementality: pd.DataFrame
    listeners: pd.DataFrame
    data_end: date | None


def read_all(wh: Warehouse, tenant_id: str, attribution_model: str) -> RoiData:
    return RoiData(
        placements=placements(wh, tenant_id),
        impressions=impressions_daily(wh, tenant_id),
        credits=credits_daily(wh, tenant_id, attribution_model),
        campaign_show_reach=campaign_show_reach(wh, tenant_id),
        incrementality=incrementality(wh, tenant_id),
        listeners=listeners(wh, tenant_id),
        data_end=last_conversion_date(wh, tenant_id),
    )
