"""S3 server access logs: object reads land, other operations are skipped and counted."""

from __future__ import annotations

from pathlib import Path

from connectors.logs import import_logs
from tests.unit.logs.logs import (
    APPLE_WATCH,
    GOOGLEBOT,
    IPV6,
    SPOTIFY,
    TENANT,
    landed,
    quarantined,
    raw_records,
    row,
    write_log,
)
from warehouse.landing import LandingZone

OWNER = "79a59df900b949e55d96a1e698fbacedfd6e09d98eacf8f8d5218e7cd47ef2be"
TAIL = (
    "- s9lzHYrFp76ZVxRcpX9+5cjAnEH2ROuNkd2BHfIa6UkFVdtjf5mKR3/eTPFvsiP/XV/VLi31234= SigV4 "
    "ECDHE-RSA-AES128-GCM-SHA256 AuthHeader podcast-bucket.s3.us-west-1.amazonaws.com TLSv1.2 - -"
)


def s3(
    time: str,
    ip: str,
    operation: str,
    key: str,
    status: str,
    sent: str,
    ua: str,
    *,
    request: str | None = None,
    tail: str = TAIL,
) -> str:
    request = request or f"GET /{key} HTTP/1.1"
    return (
        f"{OWNER} podcast-bucket [{time}] {ip} - 3E57427F3EXAMPLE {operation} {key} "
        f'"{request}" {status} - {sent} 48213504 70 10 "-" "{ua}" {tail}'
    ).rstrip()


LINES = [
    # 1: a full download
    s3(
        "06/Feb/2026:00:00:38 +0000",
        "192.0.2.3",
        "REST.GET.OBJECT",
        "show-a/ep-123.mp3",
        "200",
        "48213504",
        SPOTIFY,
    ),
    # 2: a ranged read from IPv6, an hour ahead of UTC
    s3(
        "06/Feb/2026:01:00:00 +0100",
        IPV6,
        "REST.GET.OBJECT",
        "show-a/ep-123.mp3",
        "206",
        "524288",
        SPOTIFY,
    ),
    # 3: HEAD
    s3(
        "06/Feb/2026:00:01:00 +0000",
        "192.0.2.3",
        "REST.HEAD.OBJECT",
        "show-a/ep-124.mp3",
        "200",
        "-",
        SPOTIFY,
        request="HEAD /show-a/ep-124.mp3 HTTP/1.1",
    ),
    # 4: a listing: not a download
    s3(
        "06/Feb/2026:00:02:00 +0000",
        "192.0.2.3",
        "REST.GET.BUCKET",
        "-",
        "200",
        "1200",
        "aws-cli/2.15",
        request="GET /?list-type=2 HTTP/1.1",
    ),
    # 5: an upload: not a download
    s3(
        "06/Feb/2026:00:03:00 +0000",
        "192.0.2.4",
        "REST.PUT.OBJECT",
        "show-a/ep-125.mp3",
        "200",
        "-",
        "aws-cli/2.15",
        request="PUT /show-a/ep-125.mp3 HTTP/1.1",
    ),
    # 6: Apple Watch, 304, the older 18-field layout (no tail)
    s3(
        "06/Feb/2026:00:04:00 -0500",
        "198.51.100.23",
        "REST.GET.OBJECT",
        "show-a/ep-123.mp3",
        "304",
        "-",
        APPLE_WATCH,
        tail="",
    ),
    # 7: a bucket served as a website, percent-encoded key, a bot
    s3(
        "06/Feb/2026:00:05:00 +0000",
        "66.249.66.1",
        "WEBSITE.GET.OBJECT",
        "show-b/ep%20200.mp3",
        "200",
        "1000",
        GOOGLEBOT,
    ),
    # 8: a lifecycle transition (no address, no status)
    s3(
        "06/Feb/2026:00:06:00 +0000",
        "-",
        "S3.TRANSITION_SIA.OBJECT",
        "show-a/old.mp3",
        "-",
        "-",
        "-",
        request="-",
    ),
    # 9: an object read without a status
    s3(
        "06/Feb/2026:00:07:00 +0000",
        "192.0.2.3",
        "REST.GET.OBJECT",
        "show-a/ep-1.mp3",
        "-",
        "-",
        SPOTIFY,
    ),
    # 10: not an S3 log line
    "this is not an access log line",
]


def test_s3_server_access_log(tmp_path: Path, zone: LandingZone) -> None:
    log = write_log(tmp_path / "2026-02-06-00-10-12-EXAMPLE", LINES)
    report = import_logs(TENANT, [log], zone, "s3")

    assert landed(zone, "logs_s3") == [
        row("2026-02-06 00:00:38", "192.0.2.3", SPOTIFY, "ep-123", "GET", 200, 48213504, None, 1),
        row("2026-02-06 00:00:00", IPV6, SPOTIFY, "ep-123", "GET", 206, 524288, None, 2),
        row("2026-02-06 00:01:00", "192.0.2.3", SPOTIFY, "ep-124", "HEAD", 200, 0, None, 3),
        row("2026-02-06 05:04:00", "198.51.100.23", APPLE_WATCH, "ep-123", "GET", 304, 0, None, 6),
        row("2026-02-06 00:05:00", "66.249.66.1", GOOGLEBOT, "ep 200", "GET", 200, 1000, None, 7),
    ]
    reasons = quarantined(zone)
    assert reasons[9] == "HTTP status '-' is not a number"
    assert reasons[10].startswith("not an S3 server access log line")
    assert set(reasons) == {9, 10}
    assert raw_records(zone)[9]["ip"] == "192.0.2.3"
    assert report.files[0].skipped == {
        "operation REST.GET.BUCKET": 1,
        "operation REST.PUT.OBJECT": 1,
        "operation S3.TRANSITION_SIA.OBJECT": 1,
    }
