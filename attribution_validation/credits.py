"""What the pipeline credited, read from the warehouse for one tenant.

Every model in ``marts.fct_attribution_credits`` is read (the model names come from the table),
each credit with the order it credits (``int_conversions.source_record_id``, the export's
order_id that the truth uses too) and the conversion's final ip_class.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from warehouse.connection import Warehouse

_CREDITS = """
select
    credits.model,
    credits.campaign_id,
    credits.placement_id,
    credits.show_id,
    credits.is_observed,
    credits.credit,
    credits.credited_revenue,
    conversions.source_record_id as order_id,
    conversions.ip_class
from marts.fct_attribution_credits as credits
inner join intermediate.int_conversions as conversions
    on conversions.tenant_id = credits.tenant_id
    and conversions.conversion_id = credits.conversion_id
where credits.tenant_id = ? and conversions.conversion_type = 'order'
"""

_PLACEMENTS = """
select placements.placement_id, placements.position, placements.read_type, episodes.show_id
from staging.stg_files__placements as placements
left join staging.stg_files__episodes as episodes
    on episodes.tenant_id = placements.tenant_id and episodes.episode_id = placements.episode_id
where placements.tenant_id = ?
"""

# A show's size is its audience: IAB-valid downloads over the period.
_SHOW_DOWNLOADS = """
select show_id, sum(downloads) as downloads
from marts.fct_episode_downloads_daily
where tenant_id = ? and count_window = 'calendar_day'
group by show_id
"""


@dataclass(frozen=True)
class PipelineCredits:
    # model, campaign_id, placement_id, show_id, is_observed, credit, credited_revenue,
    # order_id, ip_class: one row per stored credit.
    credits: pd.DataFrame
    # placement_id, position, read_type, show_id, show_size (small / medium / large).
    placements: pd.DataFrame


def _frame(wh: Warehouse, sql: str, tenant_id: str) -> pd.DataFrame:
    columns, rows = wh.fetch_columns(sql, [tenant_id])
    return pd.DataFrame.from_records(rows, columns=columns)


def show_size_terciles(downloads: pd.DataFrame, shows: pd.Series) -> pd.Series:
    """``small`` / ``medium`` / ``large`` per show id in ``shows``: terciles of the shows' valid
    downloads (a show with none is small). Ties are broken by show id so the split is stable."""
    ids = pd.Series(sorted(set(shows.dropna())), dtype=object)
    if ids.empty:
        return pd.Series(dtype=object)
    counts = ids.map(downloads.set_index("show_id")["downloads"].astype(float)).fillna(0.0)
    order = pd.DataFrame({"show_id": ids, "downloads": counts}).sort_values(
        ["downloads", "show_id"], kind="stable"
    )
    position = pd.Series(range(len(order)), index=order.index)
    labels = pd.Series(["small", "medium", "large"])[(position * 3 // len(order)).to_numpy()]
    return pd.Series(labels.to_numpy(), index=order["show_id"].to_numpy())


def read_credits(wh: Warehouse, tenant_id: str) -> PipelineCredits:
    """The tenant's stored credits of every model and its placements' attributes."""
    credits = _frame(wh, _CREDITS, tenant_id)
    if credits.empty:
        raise ValueError(
            f"marts.fct_attribution_credits has no credits for tenant {tenant_id}: did its "
            "pipeline run succeed?"
        )
    credits["credit"] = credits["credit"].astype(float)
    credits["credited_revenue"] = credits["credited_revenue"].astype(float)
    credits["is_observed"] = credits["is_observed"].astype(bool)
    placements = _frame(wh, _PLACEMENTS, tenant_id)
    if placements.empty:
        raise ValueError(f"staging.stg_files__placements has no rows for tenant {tenant_id}")
    sizes = show_size_terciles(_frame(wh, _SHOW_DOWNLOADS, tenant_id), placements["show_id"])
    placements["show_size"] = placements["show_id"].map(sizes)
    return PipelineCredits(credits=credits, placements=placements)
