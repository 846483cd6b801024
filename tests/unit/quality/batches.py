"""Good landed batches of every entity, to be broken one way at a time by the tests."""

from __future__ import annotations

from datetime import date, datetime, timedelta
from pathlib import Path

import pyarrow as pa

from warehouse.entities import ENTITIES
from warehouse.landing import LandingZone

TENANT = "acme"
SOURCE = "files"
EXTRACTED = datetime(2026, 3, 10, 6, 0)


def _ts(n: int, newest: datetime) -> pa.Array:
    return pa.array([newest - timedelta(hours=n - 1 - i) for i in range(n)], pa.timestamp("us"))


def good_rows(entity: str, n: int = 6) -> dict[str, list | pa.Array]:
    """``n`` valid rows of ``entity`` (events up to a day before EXTRACTED)."""
    newest = EXTRACTED - timedelta(days=1)
    rows: dict[str, dict[str, list | pa.Array]] = {
        "episodes": {
            "episode_id": [f"e{i}" for i in range(n)],
            "show_id": ["s1"] * n,
            "show_name": ["The Show"] * n,
            "title": [f"Episode {i}" for i in range(n)],
            "published_at": _ts(n, newest),
            "duration_s": [1800.0 + i for i in range(n)],
            "file_bytes": [28_000_000 + i for i in range(n)],
            "bitrate_kbps": [128.0] * n,
        },
        "host_downloads_daily": {
            "platform": ["buzzsprout"] * n,
            "show_id": ["s1"] * n,
            "episode_id": [f"e{i}" for i in range(n)],
            "date": pa.array([date(2026, 3, 1) + timedelta(days=i) for i in range(n)]),
            "downloads": [100 + i for i in range(n)],
            "reported_at": _ts(n, newest),
        },
        "host_download_events": {
            "platform": ["buzzsprout"] * n,
            "show_id": ["s1"] * n,
            "episode_id": [f"e{i % 2}" for i in range(n)],
            "date": pa.array([date(2026, 3, 1)] * n),
            "app": (["Apple Podcasts", "Spotify", "Unknown"] * n)[:n],
            "device": (["iPhone", "Unknown Device"] * n)[:n],
            "device_type": (["mobile", "desktop"] * n)[:n],
            "country_code": (["US", "GB", None] * n)[:n],
            "region": (["California", None] * n)[:n],
            "city": (["Los Angeles", None] * n)[:n],
            "continent": (["North America", "Europe"] * n)[:n],
            "media_type": (["audio", "video"] * n)[:n],
        },
        "campaigns": {
            "campaign_id": [f"c{i}" for i in range(n)],
            "advertiser": ["Brand"] * n,
            "name": [f"Flight {i}" for i in range(n)],
            "start_date": pa.array([date(2026, 3, 1)] * n),
            "end_date": pa.array([date(2026, 3, 31)] * n),
            "budget": [5000.0] * n,
            "currency": ["USD"] * n,
        },
        "placements": {
            "placement_id": [f"p{i}" for i in range(n)],
            "campaign_id": ["c1"] * n,
            "episode_id": [f"e{i}" for i in range(n)],
            "position": (["pre", "mid", "post"] * n)[:n],
            "read_type": (["host", "produced"] * n)[:n],
            "insertion_type": (["dynamic", "baked_in", None] * n)[:n],
            "ad_start_s": [0.0] * n,
            "ad_end_s": [30.0] * n,
            "cost": [250.0] * n,
            "promo_code": ["SHOW20"] * n,
            "vanity_url": [None] * n,
        },
        "transcripts": {
            "episode_id": ["e1"] * n,
            "segment_index": list(range(n)),
            "start_s": [30.0 * i for i in range(n)],
            "end_s": [30.0 * i + 30.0 for i in range(n)],
            "speaker": (["host", "announcer", None] * n)[:n],
            "text": [f"What was said in segment {i}." for i in range(n)],
        },
        "download_requests": {
            "ts": _ts(n, newest),
            "ip": [f"192.0.2.{i}" for i in range(n)],
            "user_agent": ["AppleCoreMedia/1.0"] * n,
            "episode_id": ["e1"] * n,
            "method": ["GET"] * n,
            "status": pa.array([200] * n, pa.int32()),
            "bytes_sent": [1_000_000 + i for i in range(n)],
            "range": [None] * n,
            "seconds_downloaded": ([61.5, None] * n)[:n],
        },
        "orders": {
            "order_id": [f"o{i}" for i in range(n)],
            "ts": _ts(n, newest),
            "ip": [f"198.51.100.{i}" for i in range(n)],
            "user_agent": ["Mozilla/5.0"] * n,
            "customer_id": [f"cu{i}" for i in range(n)],
            "revenue": [49.0] * n,
            "currency": ["EUR"] * n,
            "discount_codes": ["SHOW20"] * n,
            "landing_url": [None] * n,
            "referrer": [None] * n,
            "survey_answer": [None] * n,
        },
        "site_events": {
            "event_id": [f"v{i}" for i in range(n)],
            "ts": _ts(n, newest),
            "ip": [f"198.51.100.{i}" for i in range(n)],
            "user_agent": ["Mozilla/5.0"] * n,
            "event_type": ["page_view"] * n,
            "url": ["https://shop.example/show"] * n,
            "referrer": [None] * n,
            "order_id": [None] * n,
            "utm_source": [None] * n,
            "utm_medium": [None] * n,
            "utm_campaign": [None] * n,
        },
        "leads": {
            "lead_id": [f"contact:{i}" for i in range(n)],
            "lead_type": (["contact", "deal"] * n)[:n],
            "ts": _ts(n, newest),
            "updated_at": _ts(n, newest),
            "email": [f"person{i}@example.com" for i in range(n)],
            "ip": [None] * n,
            "user_agent": [None] * n,
            "value": ([None, 1200.0] * n)[:n],
            "currency": ([None, "USD"] * n)[:n],
            "status": (["lead", "closedwon"] * n)[:n],
            "is_won": ([None, True] * n)[:n],
            "closed_at": pa.array(
                ([None, EXTRACTED - timedelta(days=2)] * n)[:n], pa.timestamp("us")
            ),
            "contact_id": ([None, "contact:0"] * n)[:n],
            "landing_url": ["https://shop.example/?utm_source=podcast&utm_campaign=c1"] * n,
            "referrer": [None] * n,
            "utm_source": ["podcast"] * n,
            "utm_medium": [None] * n,
            "utm_campaign": ["c1"] * n,
            "survey_answer": [None] * n,
        },
        "web_traffic_daily": {
            "platform": ["ga4"] * n,
            "property_id": ["123"] * n,
            "date": pa.array([date(2026, 3, 1) + timedelta(days=i) for i in range(n)]),
            "session_source": ["podcast"] * n,
            "session_medium": ["audio"] * n,
            "session_campaign": ["c1"] * n,
            "landing_page": ["/offer"] * n,
            "sessions": [10 + i for i in range(n)],
            "conversions": [1.0] * n,
            "revenue": [50.0] * n,
            "reported_at": _ts(n, newest),
        },
    }
    return rows[entity]


def land(
    zone: LandingZone,
    entity: str,
    columns: dict[str, list | pa.Array],
    source_file: str | None = None,
    extracted_at: datetime = EXTRACTED,
) -> list[Path]:
    """Land ``columns`` as one batch, as the importer would from ``source_file``."""
    schema = ENTITIES[entity].schema
    table = pa.table({f.name: pa.array(columns[f.name], f.type) for f in schema}, schema=schema)
    n = table.num_rows
    table = table.append_column(
        "_source_file", pa.array([source_file or f"{entity}.csv"] * n)
    ).append_column("_source_row", pa.array(range(1, n + 1), pa.int64()))
    landed = zone.write_batch(
        TENANT, SOURCE, entity, table, cursor="test", extracted_at=extracted_at
    )
    return [zone.storage.path(f.key) for f in landed]
