"""JSON lines impression exports."""

from __future__ import annotations

import json
from pathlib import Path

from connectors.logs import import_logs
from tests.unit.logs.logs import (
    APPLE_WATCH,
    IPV6,
    OVERCAST,
    TENANT,
    landed,
    quarantined,
    raw_records,
    row,
    write_log,
)
from warehouse.landing import LandingZone


def j(**values: object) -> str:
    return json.dumps(values)


BASE = {"ip": "203.0.113.9", "user_agent": OVERCAST, "bytes_sent": 1000}
LINES = [
    # 1: ISO with offset, an episode id, a range (-> 206)
    j(
        **BASE,
        seconds_downloaded=32.5,
        timestamp="2026-10-10T13:55:36-07:00",
        episode_id="ep-123",
        range="bytes=0-999",
    ),
    # 2: epoch seconds as a number, a URL mapped to its episode
    j(
        **{**BASE, "ip": IPV6},
        timestamp=1791676800,
        url="https://cdn.example/show-a/ep-124.mp3?s=1",
    ),
    # 3: epoch seconds with a fraction, as text; bytes as digits; Apple Watch; Z
    j(
        ip="198.51.100.23",
        user_agent=APPLE_WATCH,
        bytes_sent="48213504",
        timestamp="1791676800.25",
        episode_id=123,
    ),
    # 4: ISO with Z and fractions; no user agent
    j(ip="198.51.100.23", bytes_sent=0, timestamp="2026-10-10T23:59:59.5Z", episode_id="ep-1"),
    # 5: no offset: ambiguous
    j(**BASE, timestamp="2026-10-10 13:55:36", episode_id="ep-1"),
    # 6: milliseconds
    j(**BASE, timestamp=1791676800000, episode_id="ep-1"),
    # 7: not JSON
    '{"ip": "192.0.2.55", "bytes_sent": 5, ',
    # 8: JSON, but not an object
    "[1, 2, 3]",
    # 9: negative bytes
    j(**{**BASE, "bytes_sent": -5}, timestamp=1791676800, episode_id="ep-1"),
    # 10: no ip
    j(user_agent=OVERCAST, bytes_sent=5, timestamp=1791676800, episode_id="ep-1"),
    # 11: neither episode nor url
    j(**BASE, timestamp=1791676800),
    # 12: a fractional byte count
    j(**{**BASE, "bytes_sent": 10.5}, timestamp=1791676800, episode_id="ep-1"),
    "",
]


def test_jsonl_impression_export(tmp_path: Path, zone: LandingZone) -> None:
    log = write_log(tmp_path / "impressions.jsonl", LINES)
    report = import_logs(TENANT, [log], zone, "jsonl")

    assert landed(zone, "logs_jsonl") == [
        row(
            "2026-10-10 20:55:36",
            "203.0.113.9",
            OVERCAST,
            "ep-123",
            "GET",
            206,
            1000,
            "bytes=0-999",
            1,
        ),
        row("2026-10-11 00:00:00", IPV6, OVERCAST, "ep-124", "GET", 200, 1000, None, 2),
        row(
            "2026-10-11 00:00:00.250000",
            "198.51.100.23",
            APPLE_WATCH,
            "123",
            "GET",
            200,
            48213504,
            None,
            3,
        ),
        row("2026-10-10 23:59:59.500000", "198.51.100.23", None, "ep-1", "GET", 200, 0, None, 4),
    ]
    assert quarantined(zone) == {
        5: "timestamp '2026-10-10 13:55:36' has no UTC offset (ambiguous): write it with Z or "
        "an offset such as +02:00",
        6: "timestamp '1791676800000' is not epoch seconds (milliseconds?)",
        7: "not valid JSON",
        8: "not a JSON object (a JSON array)",
        9: "bytes_sent '-5' is negative",
        10: "no ip (a text value is required)",
        11: "neither episode_id nor url",
        12: "bytes_sent '10.5' is not a whole number",
    }
    # Even a line that is not JSON keeps its address findable for an erasure.
    assert raw_records(zone)[7] == {"line": LINES[6], "ip": "192.0.2.55"}
    f = report.files[0]
    assert (f.rows_read, f.rows_landed, f.rows_quarantined, f.lines_ignored) == (13, 4, 8, 1)
    # seconds_downloaded lands where a line gave it, null elsewhere
    seconds = zone.read(TENANT, "logs_jsonl", "download_requests").sort_by("_source_row")
    assert seconds.column("seconds_downloaded").to_pylist() == [32.5, None, None, None]
