"""What the anomaly detector reads from the warehouse: per show and UTC day, the IAB downloads and
the make-up of the traffic behind them; per campaign and day, conversions and delivered spend.

The traffic make-up is read at request level (``int_download_requests_classified``) and reduced
in SQL to one row per show and day, over the requests that may count (no exclusion reason: what
the IAB filters already removed cannot inflate a count): their number and bytes, the bytes from
networks seen for the first time that day, and the busiest network and user agent of the day
with their bytes. Bytes, not requests, measure a client's weight: a browser fetching an episode
in 4 MiB ranges makes fifteen requests for one listen, a flood that re-downloads the file fifty
times fetches fifty files. Networks are the warehouse's
pseudonymous ``network_key``; no address is read.

The SQL is plain ANSI (it runs on DuckDB and PostgreSQL), every sum is cast to double precision
(PostgreSQL sums integers to numeric), dates come back as Python dates and every calendar
calculation is done in pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from warehouse.connection import Warehouse

# Days read before the data's last day: the features look back at most 56 days, and the scores
# cover the rest; a large tenant's years of history stay in the warehouse.
HISTORY_DAYS = 182

# Attribution model whose credits count a campaign's conversions: one credit per conversion, on
# the campaign that closed it, so the daily series adds up to conversions.
CONVERSION_MODEL = "last_touch"

LAST_DAY_SQL = """
select min(download_date) as first_day, max(download_date) as last_day
from marts.fct_episode_downloads_daily
where tenant_id = ?
"""

WINDOWS_SQL = """
select count_window, count(*) as row_count
from marts.fct_episode_downloads_daily
where tenant_id = ?
group by count_window
"""

DOWNLOADS_SQL = """
select
    show_id,
    download_date,
    cast(sum(downloads) as double precision) as downloads
from marts.fct_episode_downloads_daily
where tenant_id = ?
    and count_window = ?
    and show_id is not null
    and download_date >= ?
group by show_id, download_date
"""

# An episode's first day with a download: the release day as the audience saw it (the mart holds
# no publication time, and a release is what moves a show's downloads most).
RELEASES_SQL = """
select show_id, episode_id, min(download_date) as first_day
from marts.fct_episode_downloads_daily
where tenant_id = ?
    and show_id is not null
    and downloads > 0
group by show_id, episode_id
"""

# The shared part of the request-level queries: the tenant's requests of the window with their
# show (from the episodes the downloads mart knows).
_REQUESTS_CTE = """
with episodes as (
    select distinct episode_id, show_id
    from marts.fct_episode_downloads_daily
    where tenant_id = ?
        and show_id is not null
),

requests as (
    select
        episodes.show_id,
        r.episode_id,
        r.request_date,
        r.network_key,
        r.user_agent,
        r.user_agent_name,
        r.exclusion_reason,
        cast(coalesce(r.bytes_sent, 0) as double precision) as bytes_sent
    from intermediate.int_download_requests_classified as r
    inner join episodes
        on episodes.episode_id = r.episode_id
    where r.tenant_id = ?
        and r.request_date >= ?
)
"""

# A network is new on the first day it made any request to the tenant (the whole history is
# read for this: a network last seen a year ago is not new).
TRAFFIC_SQL = (
    _REQUESTS_CTE
    + """,

first_seen as (
    select network_key, min(request_date) as first_day
    from intermediate.int_download_requests_classified
    where tenant_id = ?
        and network_key is not null
    group by network_key
)

select
    requests.show_id,
    requests.request_date,
    cast(sum(case when requests.exclusion_reason is null then 1 else 0 end)
        as double precision) as requests,
    cast(sum(case when requests.exclusion_reason is null then requests.bytes_sent else 0 end)
        as double precision) as countable_bytes,
    cast(sum(
        case
            when requests.exclusion_reason is null
                and first_seen.first_day = requests.request_date
                then requests.bytes_sent
            else 0
        end
    ) as double precision) as new_network_bytes
from requests
left join first_seen
    on first_seen.network_key = requests.network_key
group by requests.show_id, requests.request_date
"""
)

# The busiest network of each show-day among the requests that may count, with its bytes,
# requests and the episode it fetched most (ties broken by key, so the answer is deterministic).
TOP_NETWORK_SQL = (
    _REQUESTS_CTE
    + """,

per_episode as (
    select
        show_id,
        request_date,
        network_key,
        episode_id,
        sum(bytes_sent) as bytes_sent,
        count(*) as request_count
    from requests
    where exclusion_reason is null
        and network_key is not null
    group by show_id, request_date, network_key, episode_id
),

per_network as (
    select
        show_id,
        request_date,
        network_key,
        sum(bytes_sent) as bytes_sent,
        sum(request_count) as request_count
    from per_episode
    group by show_id, request_date, network_key
),

ranked_networks as (
    select
        show_id,
        request_date,
        network_key,
        bytes_sent,
        request_count,
        row_number() over (
            partition by show_id, request_date order by bytes_sent desc, network_key
        ) as network_rank
    from per_network
),

ranked_episodes as (
    select
        show_id,
        request_date,
        network_key,
        episode_id,
        row_number() over (
            partition by show_id, request_date, network_key
            order by bytes_sent desc, episode_id
        ) as episode_rank
    from per_episode
)

select
    ranked_networks.show_id,
    ranked_networks.request_date,
    ranked_networks.network_key as top_network_key,
    cast(ranked_networks.bytes_sent as double precision) as top_network_bytes,
    cast(ranked_networks.request_count as double precision) as top_network_requests,
    ranked_episodes.episode_id as top_network_episode_id
from ranked_networks
inner join ranked_episodes
    on ranked_episodes.show_id = ranked_networks.show_id
    and ranked_episodes.request_date = ranked_networks.request_date
    and ranked_episodes.network_key = ranked_networks.network_key
    and ranked_episodes.episode_rank = 1
where ranked_networks.network_rank = 1
"""
)

# The busiest user agent of each show-day among the requests that may count.
TOP_USER_AGENT_SQL = (
    _REQUESTS_CTE
    + """,

per_user_agent as (
    select
        show_id,
        request_date,
        user_agent,
        max(user_agent_name) as user_agent_name,
        sum(bytes_sent) as bytes_sent
    from requests
    where exclusion_reason is null
        and user_agent is not null
    group by show_id, request_date, user_agent
),

ranked as (
    select
        show_id,
        request_date,
        user_agent,
        user_agent_name,
        bytes_sent,
        row_number() over (
            partition by show_id, request_date order by bytes_sent desc, user_agent
        ) as user_agent_rank
    from per_user_agent
)

select
    show_id,
    request_date,
    user_agent as top_user_agent,
    user_agent_name as top_user_agent_name,
    cast(bytes_sent as double precision) as top_user_agent_bytes
from ranked
where user_agent_rank = 1
"""
)

CONVERSIONS_SQL = """
select
    campaign_id,
    cast(conversion_ts as date) as conversion_date,
    cast(sum(credit) as double precision) as conversions
from marts.fct_attribution_credits
where tenant_id = ?
    and model = ?
    and campaign_id is not null
    and conversion_ts >= ?
group by campaign_id, cast(conversion_ts as date)
"""

# Delivered spend: each impression carries its placement group's cost per impression (cost over
# impressions delivered, per campaign, position, read type and insertion type). The report has
# one row per attribution model with the same cost and impressions, hence the max.
SPEND_SQL = """
with rates as (
    select
        campaign_id,
        position,
        read_type,
        insertion_type,
        max(cost) as cost,
        max(impressions) as impressions
    from marts.rpt_placement_performance
    where tenant_id = ?
    group by campaign_id, position, read_type, insertion_type
)

select
    i.campaign_id,
    i.impression_date,
    cast(sum(i.impressions) as double precision) as impressions,
    cast(sum(
        case
            when rates.impressions > 0
                then cast(i.impressions as double precision) * rates.cost / rates.impressions
            else 0
        end
    ) as double precision) as spend
from marts.fct_impressions as i
left join rates
    on rates.campaign_id = i.campaign_id
    and rates.position is not distinct from i.position
    and rates.read_type is not distinct from i.read_type
    and rates.insertion_type is not distinct from i.insertion_type
where i.tenant_id = ?
    and i.count_window = ?
    and i.impression_date >= ?
group by i.campaign_id, i.impression_date
"""

SHOWS_SQL = """
select show_id, show_name
from marts.dim_shows
where tenant_id = ?
"""

CAMPAIGNS_SQL = """
select campaign_id, campaign_name, start_date, end_date, currency
from marts.dim_campaigns
where tenant_id = ?
"""


@dataclass(frozen=True)
class TenantData:
    """Everything the detector reads for one tenant, as daily frames (days as Timestamps)."""

    first_day: date
    last_day: date
    count_window: str
    # show_id, day, downloads, requests (that may count), countable_bytes, new_network_bytes,
    # top_network_key, top_network_bytes,
    # top_network_requests, top_network_episode_id, top_user_agent, top_user_agent_name,
    # top_user_agent_bytes, releases
    shows: pd.DataFrame
    # campaign_id, day, conversions, spend, impressions
    campaigns: pd.DataFrame
    show_names: dict[str, str]
    # campaign_id -> (name, start_date, end_date, currency)
    campaign_info: dict[str, tuple[str, date | None, date | None, str | None]]


def _frame(wh: Warehouse, sql: str, params: list) -> pd.DataFrame:
    names, rows = wh.fetch_columns(sql, params)
    return pd.DataFrame.from_records(rows, columns=names)


def _days(frame: pd.DataFrame, column: str) -> pd.DataFrame:
    frame = frame.rename(columns={column: "day"})
    frame["day"] = pd.to_datetime(frame["day"])
    return frame


def count_window(wh: Warehouse, tenant_id: str) -> str | None:
    """The counting window of the tenant's downloads (one per tenant; calendar day preferred if
    a rebuild left two)."""
    rows = wh.fetch(WINDOWS_SQL, [tenant_id])
    windows = sorted(str(w) for w, n in rows if n)
    if not windows:
        return None
    return "calendar_day" if "calendar_day" in windows else windows[0]


def read_tenant(wh: Warehouse, tenant_id: str) -> TenantData | None:
    """The tenant's daily series, or None when it has no downloads at all."""
    window = count_window(wh, tenant_id)
    ((first, last),) = wh.fetch(LAST_DAY_SQL, [tenant_id])
    if window is None or last is None:
        return None
    since = max(first, last - timedelta(days=HISTORY_DAYS - 1))

    downloads = _days(_frame(wh, DOWNLOADS_SQL, [tenant_id, window, since]), "download_date")
    traffic = _days(
        _frame(wh, TRAFFIC_SQL, [tenant_id, tenant_id, since, tenant_id]), "request_date"
    )
    top_network = _days(_frame(wh, TOP_NETWORK_SQL, [tenant_id, tenant_id, since]), "request_date")
    top_user_agent = _days(
        _frame(wh, TOP_USER_AGENT_SQL, [tenant_id, tenant_id, since]), "request_date"
    )
    releases = _days(_frame(wh, RELEASES_SQL, [tenant_id]), "first_day")
    release_counts = (
        releases.groupby(["show_id", "day"]).size().rename("releases").reset_index()
        if len(releases)
        else pd.DataFrame(columns=["show_id", "day", "releases"])
    )

    keys = ["show_id", "day"]
    shows = downloads
    for part in (traffic, top_network, top_user_agent, release_counts):
        shows = shows.merge(part, on=keys, how="outer") if len(part) else shows
    shows = _ensure_columns(shows)

    conversions = _days(
        _frame(wh, CONVERSIONS_SQL, [tenant_id, CONVERSION_MODEL, since]), "conversion_date"
    )
    spend = _days(_frame(wh, SPEND_SQL, [tenant_id, tenant_id, window, since]), "impression_date")
    campaigns = conversions.merge(spend, on=["campaign_id", "day"], how="outer")
    for column in ("conversions", "spend", "impressions"):
        if column not in campaigns:
            campaigns[column] = 0.0
    campaigns = campaigns.fillna({"conversions": 0.0, "spend": 0.0, "impressions": 0.0})

    show_names = {str(s): str(n) for s, n in wh.fetch(SHOWS_SQL, [tenant_id]) if n is not None}
    campaign_info = {
        str(c): (str(n) if n is not None else str(c), start, end, cur)
        for c, n, start, end, cur in wh.fetch(CAMPAIGNS_SQL, [tenant_id])
    }
    return TenantData(
        first_day=since,
        last_day=last,
        count_window=window,
        shows=shows.sort_values(keys).reset_index(drop=True),
        campaigns=campaigns.sort_values(["campaign_id", "day"]).reset_index(drop=True),
        show_names=show_names,
        campaign_info=campaign_info,
    )


SHOW_NUMBERS = (
    "downloads",
    "requests",
    "countable_bytes",
    "new_network_bytes",
    "top_network_bytes",
    "top_network_requests",
    "top_user_agent_bytes",
    "releases",
)
SHOW_LABELS = ("top_network_key", "top_network_episode_id", "top_user_agent", "top_user_agent_name")


def _ensure_columns(shows: pd.DataFrame) -> pd.DataFrame:
    for column in SHOW_NUMBERS:
        if column not in shows:
            shows[column] = 0.0
        shows[column] = pd.to_numeric(shows[column], errors="coerce").fillna(0.0).astype(float)
    for column in SHOW_LABELS:
        if column not in shows:
            shows[column] = None
    return shows
