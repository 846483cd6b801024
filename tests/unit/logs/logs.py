"""Small helpers for the log import tests: write a log, read back what landed."""

from __future__ import annotations

import gzip
import json
from datetime import datetime
from pathlib import Path
from typing import Any

from warehouse.landing import LandingZone

TENANT = "acme"
COLUMNS = ["ts", "ip", "user_agent", "episode_id", "method", "status", "bytes_sent", "range"]

APPLE_PHONE = "AppleCoreMedia/1.0.0.21E236 (iPhone; U; CPU OS 17_4 like Mac OS X; en_us)"
APPLE_WATCH = "atc/1.0 watchOS/10.4 model/Watch6,2 hwp/t8301 build/21T216 (6; dt:270) AMS/1"
OVERCAST = "Overcast/3.0 (+http://overcast.fm/; iOS podcast app)"
GOOGLEBOT = "Mozilla/5.0 (compatible; Googlebot/2.1; +http://www.google.com/bot.html)"
SPOTIFY = "Spotify/8.9.18 iOS/17.4 (iPhone15,2)"
IPV6 = "2001:db8:85a3::8a2e:370:7334"

# The standard log's fields (AWS documentation, 33 fields).
STANDARD_FIELDS = [
    "date",
    "time",
    "x-edge-location",
    "sc-bytes",
    "c-ip",
    "cs-method",
    "cs(Host)",
    "cs-uri-stem",
    "sc-status",
    "cs(Referer)",
    "cs(User-Agent)",
    "cs-uri-query",
    "cs(Cookie)",
    "x-edge-result-type",
    "x-edge-request-id",
    "x-host-header",
    "cs-protocol",
    "cs-bytes",
    "time-taken",
    "x-forwarded-for",
    "ssl-protocol",
    "ssl-cipher",
    "x-edge-response-result-type",
    "cs-protocol-version",
    "fle-status",
    "fle-encrypted-fields",
    "c-port",
    "time-to-first-byte",
    "x-edge-detailed-result-type",
    "sc-content-type",
    "sc-content-len",
    "sc-range-start",
    "sc-range-end",
]


def write_log(path: Path, lines: list[str], *, gz: bool = False, newline: str = "\n") -> Path:
    data = (newline.join(lines) + newline).encode()
    if gz:
        path.write_bytes(gzip.compress(data))
    else:
        path.write_bytes(data)
    return path


def landed(zone: LandingZone, source: str) -> list[dict[str, Any]]:
    """The landed rows of ``source`` in line order: entity columns and ``_source_row``."""
    table = zone.read(TENANT, source, "download_requests").sort_by("_source_row")
    return table.select([*COLUMNS, "_source_row"]).to_pylist()


def quarantined(zone: LandingZone) -> dict[int, str]:
    """Quarantined lines: line number -> reason."""
    table = zone.read_quarantine(TENANT)
    return dict(zip(table["_source_row"].to_pylist(), table["reason"].to_pylist(), strict=True))


def raw_records(zone: LandingZone) -> dict[int, dict[str, Any]]:
    table = zone.read_quarantine(TENANT)
    return {
        row: json.loads(record)
        for row, record in zip(
            table["_source_row"].to_pylist(), table["raw_record"].to_pylist(), strict=True
        )
    }


def row(
    ts: str,
    ip: str,
    ua: str | None,
    episode: str,
    method: str,
    status: int,
    sent: int,
    rng: str | None,
    line: int,
) -> dict[str, Any]:
    """An expected landed row; ``ts`` is UTC as ``YYYY-MM-DD HH:MM:SS[.ffffff]``."""
    return {
        "ts": datetime.fromisoformat(ts),
        "ip": ip,
        "user_agent": ua,
        "episode_id": episode,
        "method": method,
        "status": status,
        "bytes_sent": sent,
        "range": rng,
        "_source_row": line,
    }
