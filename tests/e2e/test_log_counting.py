"""A hosting log, imported for a tenant, counted case by case through the whole pipeline.

Two tenants import the same listening two ways: a combined log with Range fields
(`combined_range`, calendar-day window) and a JSON-lines impression export (`jsonl`, first-touch
rolling window). Every expectation below is worked out by hand from the IAB rules
(docs/user/counting.md):

episode ep-1: 600 s at 128 kbps (16,000 audio bytes a second) in a 9,610,000-byte file, so
ID3 = 10,000 bytes and the download threshold is 10,000 + 60 x 16,000 = 970,000 bytes.
Placements (both campaigns in flight):
  p_dyn_pre   dynamic, pre, ad 0-30 s      needs 10,000 + 30 x 16,000  =   490,000 bytes
  p_dyn_mid   dynamic, mid, ad 300-330 s   needs 10,000 + 330 x 16,000 = 5,290,000 bytes
  p_baked_pre baked in, pre, ad 0-30 s     first quarter: 25% of the episode
                                           = 10,000 + 0.25 x 9,600,000 = 2,410,000 bytes
  p_baked_post baked in, post, 570-600 s   to the ad's end             = 9,610,000 bytes
"""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest

from tests.conftest import run_earshot
from tests.support.warehouses import cli_env
from warehouse.connection import DuckDBWarehouse

CLF = "logs_clf"
JSONL = "logs_json"
KEYS = {CLF: "log-counting-key-one-not-a-secret", JSONL: "log-counting-key-two-not-a-secret"}

OVERCAST = "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)"
SPOTIFY = "Spotify/8.9.18 iOS/17.4 (iPhone15,2)"
POCKET = "PocketCasts/7.58 (Android 14)"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
WATCH = "atc/1.0 watchOS/10.4 model/Watch6,2 hwp/t8301 build/21T216 (6; dt:270) AMS/1"
FILE = 9_610_000

# Two days before today, so the batches pass the landing freshness check.
DAY = (datetime.now(UTC) - timedelta(days=2)).replace(hour=0, minute=0, second=0, microsecond=0)


def at(hours: float, day: int = 0) -> datetime:
    return DAY + timedelta(days=day, hours=hours)


# (time, ip, user agent, method, status, bytes, range): what the CDN served.
EVENTS: list[tuple[datetime, str, str, str, int, int, str | None]] = [
    # a: one full 200 (a full response delivers every ad), and again 4.5 h later the next day
    (at(20), "203.0.113.10", OVERCAST, "GET", 200, FILE, None),
    (at(0.5, 1), "203.0.113.10", OVERCAST, "GET", 200, FILE, None),
    # b: two ranges reassembled: 3,000,000 bytes
    (at(9), "203.0.113.11", SPOTIFY, "GET", 206, 1_000_000, "bytes=0-999999"),
    (at(9.01), "203.0.113.11", SPOTIFY, "GET", 206, 2_000_000, "bytes=1000000-2999999"),
    # c: a 2-byte probe (excluded) and 500,000 bytes: below the threshold, no download
    (at(10), "203.0.113.12", OVERCAST, "GET", 206, 2, "bytes=0-1"),
    (at(10.01), "203.0.113.12", OVERCAST, "GET", 206, 500_000, "bytes=0-499999"),
    # d: a known bot; e: HEAD; f: an Apple Watch duplicate; g: 304
    (at(11), "203.0.113.13", GOOGLEBOT, "GET", 200, FILE, None),
    (at(12), "203.0.113.14", OVERCAST, "HEAD", 200, 0, None),
    (at(13), "203.0.113.15", WATCH, "GET", 200, FILE, None),
    (at(14), "203.0.113.16", OVERCAST, "GET", 304, 0, None),
    # h: two addresses of one IPv6 /64, one listener: 600,000 + 600,000 bytes reassembled
    (at(15), "2001:db8:1:2::a", OVERCAST, "GET", 206, 600_000, "bytes=0-599999"),
    (at(15.5), "2001:db8:1:2::b", OVERCAST, "GET", 206, 600_000, "bytes=600000-1199999"),
    # i: another app behind a's address: another listener
    (at(16), "203.0.113.10", POCKET, "GET", 200, FILE, None),
]


def _clf_line(
    ts: datetime, ip: str, ua: str, method: str, status: int, sent: int, rng: str | None
) -> str:
    stamp = ts.strftime("%d/%b/%Y:%H:%M:%S +0000")
    return (
        f'{ip} - - [{stamp}] "{method} /shows/a/ep-1.mp3 HTTP/1.1" {status} {sent} "-" "{ua}" '
        f'"{rng or "-"}"'
    )


def _jsonl_line(ts: datetime, ip: str, ua: str, sent: int, rng: str | None) -> str:
    record: dict[str, Any] = {
        "ip": ip,
        "user_agent": ua,
        "bytes_sent": sent,
        "seconds_downloaded": round(max(sent - 10_000, 0) / 16_000, 3),
        "timestamp": ts.strftime("%Y-%m-%dT%H:%M:%SZ"),
        "url": "https://cdn.example/shows/a/ep-1.mp3",
    }
    if rng:
        record["range"] = rng
    return json.dumps(record)


def _catalog(folder: Path) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    published = (DAY - timedelta(days=3)).strftime("%Y-%m-%dT%H:%M:%SZ")
    (folder / "episodes.csv").write_text(
        "episode_id,show_id,show_name,title,published_at,duration_s,file_bytes,bitrate_kbps\n"
        f"ep-1,show-a,Show A,Episode 1,{published},600,{FILE},128\n"
    )
    start, end = (DAY - timedelta(days=5)).date(), (DAY + timedelta(days=5)).date()
    (folder / "campaigns.csv").write_text(
        "campaign_id,advertiser,name,start_date,end_date,budget,currency\n"
        f"c_dyn,Brand,Dynamic,{start},{end},1000,USD\n"
        f"c_baked,Brand,Baked,{start},{end},1000,USD\n"
    )
    (folder / "placements.csv").write_text(
        "placement_id,campaign_id,episode_id,position,read_type,insertion_type,ad_start_s,"
        "ad_end_s,cost,promo_code,vanity_url\n"
        "p_dyn_pre,c_dyn,ep-1,pre,produced,dynamic,0,30,100,,\n"
        "p_dyn_mid,c_dyn,ep-1,mid,produced,dynamic,300,330,100,,\n"
        "p_baked_pre,c_baked,ep-1,pre,host,baked_in,0,30,100,,\n"
        "p_baked_post,c_baked,ep-1,post,host,baked_in,570,600,100,,\n"
    )
    # The host claims 60 downloads on the first day, far from Earshot's count: an alert.
    (folder / "host_downloads_daily.csv").write_text(
        f"platform,show_id,episode_id,date,downloads\nfile,show-a,ep-1,{DAY.date()},60\n"
    )


@pytest.fixture(scope="module")
def counted(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    base = tmp_path_factory.mktemp("log_counting")
    home = base / "home"
    env = {
        **cli_env(home, "log_counting_test"),
        "EARSHOT_SECRETS_BACKEND": "env",
        **{f"EARSHOT_SECRET_PSEUDONYM_KEY__{t.upper()}": k for t, k in KEYS.items()},
    }
    _catalog(base / "catalog")
    clf = base / "podcast.access.log"
    clf.write_text("\n".join(_clf_line(*e) for e in EVENTS) + "\n")
    # An impression export lists deliveries only: no HEAD, no 304.
    jsonl = base / "impressions.jsonl"
    jsonl.write_text(
        "\n".join(
            _jsonl_line(ts, ip, ua, sent, rng)
            for ts, ip, ua, method, status, sent, rng in EVENTS
            if method == "GET" and status in (200, 206)
        )
        + "\n"
    )
    run_earshot(env, "tenant", "create", "--tenant", CLF, "--name", "Combined log")
    run_earshot(
        env, "tenant", "create", "--tenant", JSONL, "--name", "JSON lines",
        "--download-window", "rolling_24h_first",
    )  # fmt: skip
    for tenant, fmt, log in ((CLF, "combined_range", clf), (JSONL, "jsonl", jsonl)):
        run_earshot(env, "ingest", "files", "--tenant", tenant, str(base / "catalog"))
        imported = run_earshot(
            env, "ingest", "logs", "--tenant", tenant, "--format", fmt,
            "--episode-pattern", r"/shows/[^/]+/([^/]+)\.mp3$", str(log),
        )  # fmt: skip
        assert "quarantined" not in imported.stdout or " 0 quarantined" in imported.stdout
        ran = run_earshot(env, "run", "--tenant", tenant)
        # The reconciliation alert is a WARN check: reported, and the run still succeeds.
        assert "succeeded" in ran.stdout, ran.stdout
        assert (
            "warning (check of severity WARN): marts/rpt_download_reconciliation"
            " / rpt_download_reconciliation_no_alerts" in ran.stdout
        ), ran.stdout
    wh = DuckDBWarehouse(home / "warehouse.duckdb")
    try:
        yield {"wh": wh}
    finally:
        wh.close()


def _rows(wh: DuckDBWarehouse, sql: str, tenant: str) -> list[tuple]:
    return [tuple(r) for r in wh.fetch(sql, [tenant])]


def test_every_excluded_request_has_its_reason(counted: dict[str, Any]) -> None:
    sql = (
        "select exclusion_reason, count(*) from intermediate.int_download_requests_excluded"
        " where tenant_id = ? group by 1 order by 1"
    )
    assert _rows(counted["wh"], sql, CLF) == [
        ("apple_watch_duplicate", 1),
        ("head_request", 1),
        ("known_bot", 1),
        ("not_modified", 1),
        ("range_probe", 1),
    ]
    assert _rows(counted["wh"], sql, JSONL) == [
        ("apple_watch_duplicate", 1),
        ("known_bot", 1),
        ("range_probe", 1),
    ]


def test_downloads_and_listeners_follow_the_window(counted: dict[str, Any]) -> None:
    sql = (
        "select download_date - cast(? as date), count_window, downloads, listeners"
        " from marts.fct_episode_downloads_daily where tenant_id = ? and downloads > 0"
        " order by 1"
    )
    day = DAY.date().isoformat()
    rows = [tuple(r) for r in counted["wh"].fetch(sql, [day, CLF])]
    # Calendar day: a, b, h, i on the first day (four listeners), a again on the next.
    assert rows == [(0, "calendar_day", 4, 4), (1, "calendar_day", 1, 1)]
    rows = [tuple(r) for r in counted["wh"].fetch(sql, [day, JSONL])]
    # First-touch rolling: a's second fetch is 4.5 h inside its first window.
    assert rows == [(0, "rolling_24h_first", 4, 4)]
    reassembled = _rows(
        counted["wh"],
        "select bytes_delivered, request_count from intermediate.int_downloads"
        " where tenant_id = ? and request_count > 1 order by 1",
        CLF,
    )
    assert reassembled == [(1_200_000, 2), (3_000_000, 2)]


def test_impressions_follow_the_insertion_rules(counted: dict[str, Any]) -> None:
    sql = (
        "select placement_id, sum(impressions) from marts.fct_impressions where tenant_id = ?"
        " group by 1 order by 1"
    )
    # Calendar day: downloads a, a', b (3,000,000 bytes), h (1,200,000) and i.
    assert _rows(counted["wh"], sql, CLF) == [
        ("p_baked_post", 3),  # full responses only: a, a', i
        ("p_baked_pre", 4),  # 2,410,000 bytes: a, a', b, i
        ("p_dyn_mid", 3),  # 5,290,000 bytes: a, a', i
        ("p_dyn_pre", 5),  # 490,000 bytes: every download
    ]
    # First-touch rolling: a' is inside a's window, so one fewer of each.
    assert _rows(counted["wh"], sql, JSONL) == [
        ("p_baked_post", 2),
        ("p_baked_pre", 3),
        ("p_dyn_mid", 2),
        ("p_dyn_pre", 4),
    ]


def test_seconds_downloaded_reach_staging_from_the_impression_export(
    counted: dict[str, Any],
) -> None:
    sql = (
        "select count(*), count(seconds_downloaded), max(seconds_downloaded)"
        " from staging.stg_files__download_requests where tenant_id = ?"
    )
    assert _rows(counted["wh"], sql, JSONL) == [(11, 11, 600.0)]
    assert _rows(counted["wh"], sql, CLF) == [(13, 0, None)]


def test_the_host_figure_far_from_the_count_alerts(counted: dict[str, Any]) -> None:
    sql = (
        "select host_downloads, earshot_downloads, difference, within_tolerance, is_alert"
        " from marts.rpt_download_reconciliation where tenant_id = ?"
    )
    assert _rows(counted["wh"], sql, CLF) == [(60, 4, -56, False, True)]
