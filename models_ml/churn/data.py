"""What churn reads from the warehouse: household downloads per show, the release calendar and
show names.

Only residential networks (``int_households.ip_class = 'household'``) are read: a cellular
carrier pool, a Private Relay exit or an office network is shared by many households, so "this
network stopped listening" says nothing about anyone. Households are the warehouse's
pseudonymous ``household_id`` (joined on the pseudonymous ``network_key``); no address is
read. The SQL is plain ANSI (it runs on DuckDB and
PostgreSQL); dates come back as Python dates and every calendar calculation is done in pandas.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pandas as pd

from warehouse.connection import Warehouse

# Downloads older than this before the data's last day are not read: no feature looks further
# back, and a large tenant's years of history stay in the warehouse.
HISTORY_DAYS = 240

# Downloads and households are read apart and joined in pandas: two scans whose plan cannot go
# wrong, where a join in SQL on a freshly built PostgreSQL table (no statistics yet) can be
# planned as a nested loop that takes minutes.
DOWNLOADS_SQL = """
select network_key, show_id, episode_id, download_date, user_agent
from intermediate.int_downloads
where tenant_id = ?
    and show_id is not null
    and download_date >= ?
"""

HOUSEHOLDS_SQL = """
select network_key, household_id
from intermediate.int_households
where tenant_id = ?
    and ip_class = 'household'
"""

LAST_DAY_SQL = """
select min(download_date) as first_day, max(download_date) as last_day
from intermediate.int_downloads
where tenant_id = ?
"""

EPISODES_SQL = """
select show_id, episode_id, published_at
from staging.stg_files__episodes
where tenant_id = ?
    and show_id is not null
    and published_at is not null
"""

SHOWS_SQL = """
select show_id, show_name
from marts.dim_shows
where tenant_id = ?
"""


@dataclass(frozen=True)
class ChurnData:
    """A tenant's listening as churn sees it.

    ``downloads``: household_id, show_id, episode_id, download_date (datetime64 day),
    user_agent. ``episodes``: show_id, episode_id, release_date (the UTC day of publication).
    ``first_day``/``last_day``: the span of the tenant's downloads that was read (all networks;
    at most HISTORY_DAYS before the last day), the last day being the data's "now".
    """

    downloads: pd.DataFrame
    episodes: pd.DataFrame
    show_names: dict[str, str | None]
    first_day: date
    last_day: date


def _frame(wh: Warehouse, sql: str, params: list[object]) -> pd.DataFrame:
    names, rows = wh.fetch_columns(sql, params)
    return pd.DataFrame.from_records(rows, columns=names)


def _as_day(values: pd.Series) -> pd.Series:
    """Dates or timestamps (either engine's Python types) as datetime64 days."""
    return pd.to_datetime(values).dt.normalize().astype("datetime64[ns]")


def read_churn_data(wh: Warehouse, tenant_id: str) -> ChurnData | None:
    """The tenant's data, or None when it has no download at all."""
    first_day, last_day = wh.fetch(LAST_DAY_SQL, [tenant_id])[0]
    if last_day is None:
        return None
    since = max(first_day, last_day - timedelta(days=HISTORY_DAYS))
    households = _frame(wh, HOUSEHOLDS_SQL, [tenant_id])
    downloads = _frame(wh, DOWNLOADS_SQL, [tenant_id, since])
    downloads = downloads.merge(households, on="network_key", how="inner")
    downloads = downloads[["household_id", "show_id", "episode_id", "download_date", "user_agent"]]
    downloads["download_date"] = _as_day(downloads["download_date"])
    for column in ("household_id", "show_id", "episode_id", "user_agent"):
        downloads[column] = downloads[column].astype("string")
    episodes = _frame(wh, EPISODES_SQL, [tenant_id])
    episodes["release_date"] = _as_day(episodes["published_at"])
    episodes = episodes.drop(columns="published_at")
    for column in ("show_id", "episode_id"):
        episodes[column] = episodes[column].astype("string")
    shows = _frame(wh, SHOWS_SQL, [tenant_id])
    names = dict(zip(shows["show_id"], shows["show_name"], strict=True))
    return ChurnData(
        downloads=downloads.sort_values(
            ["household_id", "show_id", "download_date", "episode_id"], ignore_index=True
        ),
        episodes=episodes.sort_values(["show_id", "release_date", "episode_id"], ignore_index=True),
        show_names=names,
        first_day=_to_date(since),
        last_day=_to_date(last_day),
    )


def _to_date(value: object) -> date:
    return pd.Timestamp(value).date()
