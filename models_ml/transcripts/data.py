"""What the transcripts family reads from the warehouse, for one tenant.

Transcripts and placements exist only in staging (no mart is built from them): the segments
from ``stg_files__transcripts``, the planned reads from ``stg_files__placements``, the episodes'
show, publication and length from ``stg_files__episodes`` and the advertisers from
``dim_campaigns``. Every query names its columns and filters the tenant.
"""

from __future__ import annotations

from dataclasses import dataclass

import pandas as pd

from warehouse.connection import Warehouse

READS = (
    "staging/stg_files__transcripts",
    "staging/stg_files__placements",
    "staging/stg_files__episodes",
    "marts/dim_campaigns",
)

_SEGMENTS = (
    "select episode_id, segment_index, start_s, end_s, speaker, segment_text"
    " from staging.stg_files__transcripts where tenant_id = ?"
    " order by episode_id, segment_index"
)
_EPISODES = (
    "select episode_id, show_id, published_at, duration_s"
    " from staging.stg_files__episodes where tenant_id = ? order by episode_id"
)
_PLACEMENTS = (
    "select placement_id, campaign_id, episode_id, position, ad_start_s, ad_end_s, promo_code,"
    " vanity_url from staging.stg_files__placements where tenant_id = ? order by placement_id"
)
_CAMPAIGNS = (
    "select campaign_id, advertiser from marts.dim_campaigns where tenant_id = ?"
    " order by campaign_id"
)


@dataclass
class TenantTranscripts:
    """One tenant's transcript segments with the episodes and placements they belong to."""

    segments: pd.DataFrame  # episode_id, segment_index, start_s, end_s, speaker, text
    episodes: pd.DataFrame  # episode_id, show_id, published_at, duration_s
    placements: pd.DataFrame  # placement_id, campaign_id, episode_id, position, ad_start_s, ...
    campaigns: pd.DataFrame  # campaign_id, advertiser

    @property
    def known_codes(self) -> set[str]:
        return {str(c).upper() for c in self.placements["promo_code"].dropna() if str(c).strip()}

    @property
    def known_urls(self) -> set[str]:
        from models_ml.transcripts.mentions import normalise_url

        return {normalise_url(str(u)) for u in self.placements["vanity_url"].dropna() if str(u)}

    @property
    def advertisers(self) -> list[str]:
        return sorted({str(a) for a in self.campaigns["advertiser"].dropna() if str(a).strip()})


def _frame(wh: Warehouse, sql: str, tenant_id: str) -> pd.DataFrame:
    names, rows = wh.fetch_columns(sql, [tenant_id])
    return pd.DataFrame([tuple(r) for r in rows], columns=names)


def load(wh: Warehouse, tenant_id: str) -> TenantTranscripts:
    segments = _frame(wh, _SEGMENTS, tenant_id).rename(columns={"segment_text": "text"})
    segments["text"] = segments["text"].fillna("").astype(str)
    for column in ("start_s", "end_s"):
        segments[column] = pd.to_numeric(segments[column]).astype(float)
    segments["segment_index"] = pd.to_numeric(segments["segment_index"]).astype("int64")
    episodes = _frame(wh, _EPISODES, tenant_id)
    episodes["published_at"] = pd.to_datetime(episodes["published_at"])
    episodes["duration_s"] = pd.to_numeric(episodes["duration_s"]).astype(float)
    placements = _frame(wh, _PLACEMENTS, tenant_id)
    for column in ("ad_start_s", "ad_end_s"):
        placements[column] = pd.to_numeric(placements[column]).astype(float)
    campaigns = _frame(wh, _CAMPAIGNS, tenant_id)
    return TenantTranscripts(segments, episodes, placements, campaigns)
