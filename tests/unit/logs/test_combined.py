"""nginx/Apache combined logs, with and without the trailing Range field."""

from __future__ import annotations

from pathlib import Path

from connectors.logs import import_logs
from tests.unit.logs.logs import (
    APPLE_PHONE,
    APPLE_WATCH,
    GOOGLEBOT,
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

COMBINED_LINES = [
    # 1: a full download, query string on the URL, time 7 hours behind UTC
    f'203.0.113.9 - - [10/Oct/2026:13:55:36 -0700] "GET /show-a/ep-123.mp3?utm=x HTTP/1.1" '
    f'200 48213504 "-" "{APPLE_PHONE}"',
    # 2: a 206 (no Range in this format), HTTP/2
    f'203.0.113.9 - - [10/Oct/2026:13:55:37 -0700] "GET /show-a/ep-123.mp3 HTTP/2.0" '
    f'206 2 "-" "{APPLE_PHONE}"',
    # 3: HEAD from an IPv6 address, offset ahead of UTC: lands on the previous UTC day
    f'{IPV6} - - [11/Oct/2026:01:15:00 +0200] "HEAD /show-a/ep-124.mp3 HTTP/1.1" 200 - '
    f'"https://example.com/player" "{OVERCAST}"',
    # 4: Apple Watch, 304
    f'198.51.100.23 - - [10/Oct/2026:23:59:59 +0000] "GET /show-a/ep-123.mp3 HTTP/1.1" 304 0 '
    f'"-" "{APPLE_WATCH}"',
    # 5: a bot (lands: the counting rules exclude it, visibly)
    f'66.249.66.1 - - [10/Oct/2026:12:00:00 +0000] "GET /show-b/ep-200.mp3 HTTP/1.1" 200 1000 '
    f'"-" "{GOOGLEBOT}"',
    # 6: blank line
    "",
    # 7: no bytes field
    '203.0.113.9 - - [10/Oct/2026:13:55:36 -0700] "GET /show-a/ep-123.mp3 HTTP/1.1" 200 "-" "x"',
    # 8: impossible date
    '203.0.113.9 - - [32/Oct/2026:13:55:36 -0700] "GET /show-a/ep-1.mp3 HTTP/1.1" 200 5 "-" "x"',
    # 9: not a download method
    '192.0.2.1 - - [10/Oct/2026:13:55:36 -0700] "POST /api/stats HTTP/1.1" 204 0 "-" "curl/8.4.0"',
    # 10: TLS bytes sent to the HTTP port
    '192.0.2.1 - - [10/Oct/2026:13:55:36 -0700] "\\x16\\x03\\x01" 400 150 "-" "-"',
    # 11: a host name where the address should be (HostnameLookups On)
    'host.example.com - - [10/Oct/2026:13:55:36 -0700] "GET /show-a/ep-1.mp3 HTTP/1.1" 200 5 '
    '"-" "x"',
    # 12: a folder, no episode in the path
    '192.0.2.1 - - [10/Oct/2026:13:55:36 -0700] "GET /show-a/ HTTP/1.1" 200 5 "-" "x"',
    # 13: Apache escapes, an authenticated user, a percent-encoded path, an absolute URL
    '192.0.2.7 - frank [10/Oct/2026:13:55:36 -0700] "GET http://cdn.example/show-b/ep%20200.mp3 '
    'HTTP/1.1" 206 1024 "http://r.example/" "Pod \\"Player\\" 1.0"',
    # 14: the last line, cut off while being written
    '192.0.2.1 - - [10/Oct/2026:13:55:36 -0700] "GET /show-a/ep-1',
    # 15: a status no HTTP server sends
    '192.0.2.1 - - [10/Oct/2026:13:55:36 -0700] "GET /show-a/ep-1.mp3 HTTP/1.1" 999 5 "-" "x"',
]

EXPECTED_COMBINED = [
    row("2026-10-10 20:55:36", "203.0.113.9", APPLE_PHONE, "ep-123", "GET", 200, 48213504, None, 1),
    row("2026-10-10 20:55:37", "203.0.113.9", APPLE_PHONE, "ep-123", "GET", 206, 2, None, 2),
    row("2026-10-10 23:15:00", IPV6, OVERCAST, "ep-124", "HEAD", 200, 0, None, 3),
    row("2026-10-10 23:59:59", "198.51.100.23", APPLE_WATCH, "ep-123", "GET", 304, 0, None, 4),
    row("2026-10-10 12:00:00", "66.249.66.1", GOOGLEBOT, "ep-200", "GET", 200, 1000, None, 5),
    row(
        "2026-10-10 20:55:36", "192.0.2.7", 'Pod "Player" 1.0', "ep 200", "GET", 206, 1024, None, 13
    ),
]


def test_combined_log_lands_exact_values(tmp_path: Path, zone: LandingZone) -> None:
    log = write_log(tmp_path / "access.log", COMBINED_LINES)
    report = import_logs(TENANT, [log], zone, "combined")

    assert landed(zone, "logs_combined") == EXPECTED_COMBINED
    assert quarantined(zone) == {
        7: "not a combined log line: expected a 3-digit status and the bytes sent (or -) after "
        "the request",
        8: "time '32/Oct/2026:13:55:36 -0700' is not dd/Mon/yyyy:HH:MM:SS +hhmm",
        11: "the client address is not an IPv4 or IPv6 address",
        12: "no episode in path '/show-a/': its last segment is empty (use --episode-pattern "
        "or --episode-map)",
        14: "not a combined log line: expected the quoted request line after the [time]",
        15: "HTTP status 999 is not between 100 and 599",
    }
    # The quarantine keeps the line as it was, and the address an erasure looks for.
    assert raw_records(zone)[11] == {"line": COMBINED_LINES[10], "ip": "host.example.com"}

    f = report.files[0]
    assert (f.rows_read, f.rows_landed, f.rows_quarantined, f.lines_ignored) == (15, 6, 6, 1)
    assert f.skipped == {"method POST": 1, "not an HTTP request line": 1}
    assert f.rows_read == f.rows_landed + f.rows_quarantined + f.lines_skipped + f.lines_ignored
    assert not report.ok
    text = report.format()
    assert "access.log line 8: time '32/Oct/2026:13:55:36 -0700'" in text
    assert "skipped: " in text and "method POST: 1" in text
    # Addresses never appear in the printed report.
    assert "203.0.113.9" not in text and "host.example.com" not in text
    assert zone.entities(TENANT) == [("logs_combined", "download_requests")]


def test_gzip_and_crlf_files_land_the_same_rows_under_the_same_batches(
    tmp_path: Path, zone: LandingZone
) -> None:
    plain = write_log(tmp_path / "access.log", COMBINED_LINES)
    gz = write_log(tmp_path / "access.log.1.gz", COMBINED_LINES, gz=True)
    crlf = write_log(tmp_path / "access-crlf.log", COMBINED_LINES, newline="\r\n")

    first = import_logs(TENANT, [plain], zone, "combined")
    again = import_logs(TENANT, [gz, crlf], zone, "combined")

    keys = {x.key for x in first.landed}
    assert {x.key for x in again.files[0].landed} == keys
    assert {x.key for x in again.files[1].landed} == keys
    assert landed(zone, "logs_combined") == EXPECTED_COMBINED


RANGE_LINES = [
    f'{IPV6} - - [10/Oct/2026:13:55:36 +0200] "GET /show-a/ep-123.mp3 HTTP/2.0" 206 2 "-" '
    f'"{APPLE_PHONE}" "bytes=0-1"',
    f'{IPV6} - - [10/Oct/2026:13:55:37 +0200] "GET /show-a/ep-123.mp3 HTTP/2.0" 206 524288 "-" '
    f'"{APPLE_PHONE}" "bytes=0-524287"',
    f'198.51.100.23 - - [10/Oct/2026:13:55:36 +0000] "GET /show-a/ep-123.mp3 HTTP/1.1" 200 '
    f'48213504 "-" "{OVERCAST}" "-"',
    # no range field at all
    f'198.51.100.23 - - [10/Oct/2026:13:55:36 +0000] "GET /show-a/ep-123.mp3 HTTP/1.1" 200 '
    f'48213504 "-" "{OVERCAST}"',
    # a trailing field that is not a Range header (an X-Forwarded-For?)
    f'198.51.100.23 - - [10/Oct/2026:13:55:36 +0000] "GET /show-a/ep-123.mp3 HTTP/1.1" 200 '
    f'48213504 "-" "{OVERCAST}" "10.0.0.1"',
    # fields after the range are ignored; fractions of a second are kept
    f'198.51.100.24 - - [10/Oct/2026:13:55:36.250001 +0000] "GET /show-a/ep-123.mp3 HTTP/1.1" 206 '
    f'100 "-" "{OVERCAST}" "bytes=100-199" "0.002" "upstream"',
]


def test_combined_range_reads_the_trailing_range_field(tmp_path: Path, zone: LandingZone) -> None:
    log = write_log(tmp_path / "podcast.log", RANGE_LINES)
    report = import_logs(TENANT, [log], zone, "combined_range")

    assert landed(zone, "logs_combined_range") == [
        row("2026-10-10 11:55:36", IPV6, APPLE_PHONE, "ep-123", "GET", 206, 2, "bytes=0-1", 1),
        row(
            "2026-10-10 11:55:37",
            IPV6,
            APPLE_PHONE,
            "ep-123",
            "GET",
            206,
            524288,
            "bytes=0-524287",
            2,
        ),
        row(
            "2026-10-10 13:55:36",
            "198.51.100.23",
            OVERCAST,
            "ep-123",
            "GET",
            200,
            48213504,
            None,
            3,
        ),
        row(
            "2026-10-10 13:55:36.250001",
            "198.51.100.24",
            OVERCAST,
            "ep-123",
            "GET",
            206,
            100,
            "bytes=100-199",
            6,
        ),
    ]
    assert quarantined(zone) == {
        4: "no quoted Range field after the user agent (format combined_range)",
        5: "the field after the user agent, '10.0.0.1', is not a Range header (bytes=...)",
    }
    assert report.files[0].rows_landed == 4


def test_plain_combined_ignores_extra_trailing_fields(tmp_path: Path, zone: LandingZone) -> None:
    log = write_log(tmp_path / "podcast.log", RANGE_LINES)
    report = import_logs(TENANT, [log], zone, "combined")
    assert report.ok, report.format()
    assert [r["range"] for r in landed(zone, "logs_combined")] == [None] * 6
