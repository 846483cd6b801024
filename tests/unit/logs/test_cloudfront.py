"""CloudFront standard logs: columns by the #Fields line, URL-encoded user agents, gzip."""

from __future__ import annotations

from pathlib import Path
from urllib.parse import quote

from connectors.logs import import_logs
from tests.unit.logs.logs import (
    APPLE_PHONE,
    APPLE_WATCH,
    GOOGLEBOT,
    IPV6,
    OVERCAST,
    STANDARD_FIELDS,
    TENANT,
    landed,
    quarantined,
    row,
    write_log,
)
from warehouse.landing import LandingZone


def encode(ua: str) -> str:
    """A user agent as CloudFront writes it (spaces as %20, ...)."""
    return quote(ua, safe="/;:,()+=.-_~!*'")


def standard(
    date: str,
    time: str,
    sent: str,
    ip: str,
    method: str,
    stem: str,
    status: str,
    ua: str,
    start: str = "-",
    end: str = "-",
) -> str:
    values = dict.fromkeys(STANDARD_FIELDS, "-")
    values.update(
        {
            "date": date,
            "time": time,
            "x-edge-location": "FRA56-P1",
            "sc-bytes": sent,
            "c-ip": ip,
            "cs-method": method,
            "cs(Host)": "d111111abcdef8.cloudfront.net",
            "cs-uri-stem": stem,
            "sc-status": status,
            "cs(User-Agent)": ua,
            "x-edge-result-type": "Hit",
            "cs-protocol": "https",
            "sc-range-start": start,
            "sc-range-end": end,
        }
    )
    return "\t".join(values[f] for f in STANDARD_FIELDS)


HEADER = ["#Version: 1.0", "#Fields: " + " ".join(STANDARD_FIELDS)]
LINES = [
    *HEADER,
    # 3: a 206 with the range served
    standard(
        "2026-10-10",
        "20:55:36",
        "524288",
        "203.0.113.9",
        "GET",
        "/show-a/ep-123.mp3",
        "206",
        encode(APPLE_PHONE),
        "0",
        "524287",
    ),
    # 4: the 2-byte probe
    standard(
        "2026-10-10",
        "20:55:35",
        "2",
        IPV6,
        "GET",
        "/show-a/ep-123.mp3",
        "206",
        encode(APPLE_PHONE),
        "0",
        "1",
    ),
    # 5: HEAD
    standard(
        "2026-10-10", "21:00:00", "0", IPV6, "HEAD", "/show-a/ep-124.mp3", "200", encode(OVERCAST)
    ),
    # 6: Apple Watch, 304
    standard(
        "2026-10-10",
        "23:59:59",
        "0",
        "198.51.100.23",
        "GET",
        "/show-a/ep-123.mp3",
        "304",
        encode(APPLE_WATCH),
    ),
    # 7: a bot, full file, percent-encoded path
    standard(
        "2026-10-11",
        "00:00:00",
        "48213504",
        "66.249.66.1",
        "GET",
        "/show-b/ep%20200.mp3",
        "200",
        encode(GOOGLEBOT),
    ),
    # 8: OPTIONS (CORS preflight): skipped
    standard(
        "2026-10-11",
        "00:00:01",
        "300",
        "198.51.100.23",
        "OPTIONS",
        "/show-a/ep-123.mp3",
        "200",
        "-",
    ),
    # 9: a field missing (a line cut by a copy)
    "2026-10-11\t00:00:02\tFRA56-P1\t5\t198.51.100.23\tGET",
    # 10: bad date
    standard("2026-13-11", "00:00:03", "5", "198.51.100.23", "GET", "/show-a/ep-1.mp3", "200", "-"),
    # 11: status 000 (the viewer went away before the response): skipped
    standard("2026-10-11", "00:00:04", "0", "198.51.100.23", "GET", "/show-a/ep-1.mp3", "000", "-"),
    # 12: no user agent
    standard("2026-10-11", "00:00:05", "9", "198.51.100.23", "GET", "/show-a/ep-1.mp3", "200", "-"),
]


def test_cloudfront_standard_log(tmp_path: Path, zone: LandingZone) -> None:
    log = write_log(tmp_path / "E2EXAMPLE.2026-10-10-20.a1b2c3d4.gz", LINES, gz=True)
    report = import_logs(TENANT, [log], zone, "cloudfront")

    assert landed(zone, "logs_cloudfront") == [
        row(
            "2026-10-10 20:55:36",
            "203.0.113.9",
            APPLE_PHONE,
            "ep-123",
            "GET",
            206,
            524288,
            "bytes=0-524287",
            3,
        ),
        row("2026-10-10 20:55:35", IPV6, APPLE_PHONE, "ep-123", "GET", 206, 2, "bytes=0-1", 4),
        row("2026-10-10 21:00:00", IPV6, OVERCAST, "ep-124", "HEAD", 200, 0, None, 5),
        row("2026-10-10 23:59:59", "198.51.100.23", APPLE_WATCH, "ep-123", "GET", 304, 0, None, 6),
        row(
            "2026-10-11 00:00:00", "66.249.66.1", GOOGLEBOT, "ep 200", "GET", 200, 48213504, None, 7
        ),
        row("2026-10-11 00:00:05", "198.51.100.23", None, "ep-1", "GET", 200, 9, None, 12),
    ]
    assert quarantined(zone) == {
        9: "expected 33 tab-separated fields (as named by the #Fields line), found 6",
        10: "date and time '2026-13-11 00:00:03' are not YYYY-MM-DD and HH:MM:SS",
    }
    f = report.files[0]
    assert (f.rows_read, f.lines_ignored, f.skipped) == (
        12,
        2,
        {"method OPTIONS": 1, "status 000 (no response)": 1},
    )


def test_columns_are_found_by_name_and_cs_range_is_used(tmp_path: Path, zone: LandingZone) -> None:
    fields = "c-ip cs(User-Agent) sc-status cs(Range) time date cs-method sc-bytes cs-uri-stem"
    lines = [
        "#Version: 1.0",
        f"#Fields: {fields}",
        f"{IPV6}\t{encode(OVERCAST)}\t206\tbytes=0-1\t08:00:00\t2026-10-10\tGET\t2\t/a/ep-9.mp3",
        f"192.0.2.1\t{encode(OVERCAST)}\t200\t-\t08:00:01\t2026-10-10\tGET\t99\t/a/ep-9.mp3",
    ]
    log = write_log(tmp_path / "custom.log", lines)
    report = import_logs(TENANT, [log], zone, "cloudfront")
    assert report.ok, report.format()
    assert landed(zone, "logs_cloudfront") == [
        row("2026-10-10 08:00:00", IPV6, OVERCAST, "ep-9", "GET", 206, 2, "bytes=0-1", 3),
        row("2026-10-10 08:00:01", "192.0.2.1", OVERCAST, "ep-9", "GET", 200, 99, None, 4),
    ]


def test_a_file_without_fields_line_or_with_two_is_refused(
    tmp_path: Path, zone: LandingZone
) -> None:
    no_header = write_log(tmp_path / "no-header.log", LINES[2:])
    missing = write_log(
        tmp_path / "missing.log", ["#Version: 1.0", "#Fields: date time c-ip", *LINES[2:4]]
    )
    joined = write_log(
        tmp_path / "joined.log", [*LINES[:4], "#Version: 1.0", "#Fields: date time c-ip"]
    )
    report = import_logs(TENANT, [no_header, missing, joined], zone, "cloudfront")

    assert [f.status for f in report.files] == ["refused"] * 3
    assert "no #Fields line at the top of the file" in report.files[0].refusal.reason
    assert report.files[1].refusal.line == 2
    assert "has no cs-method, cs-uri-stem, sc-status" in report.files[1].refusal.reason
    assert report.files[2].refusal.line == 6
    assert "differs from the one on line 2" in report.files[2].refusal.reason
    # Nothing of the refused files landed, not even the good lines before the second header.
    assert zone.entities(TENANT) == []
    assert zone.quarantine_files(TENANT) == []
