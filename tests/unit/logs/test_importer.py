"""The importer around the formats: blocks, idempotency, bad files, quotas and erasures."""

from __future__ import annotations

import gzip
from pathlib import Path

import pytest

from connectors.logs import FORMATS, import_logs
from tests.unit.logs.logs import (
    OVERCAST,
    STANDARD_FIELDS,
    TENANT,
    landed,
    quarantined,
    write_log,
)
from warehouse.data_subjects import _add_erasure, subject_for
from warehouse.landing import LandingZone
from warehouse.quotas import QuotaLimits, enforce_quotas


def line(n: int, ip: str = "192.0.2.1", day: int = 10) -> str:
    return (
        f"{ip} - - [{day:02d}/Oct/2026:13:{n // 60 % 60:02d}:{n % 60:02d} +0000] "
        f'"GET /show-a/ep-{n}.mp3 HTTP/1.1" 206 {n} "-" "{OVERCAST}"'
    )


def test_reimporting_the_same_log_lands_nothing_new(tmp_path: Path, zone: LandingZone) -> None:
    lines = [line(n, day=10 + n % 3) for n in range(50)] + ["broken"]
    log = write_log(tmp_path / "access.log", lines)
    first = import_logs(TENANT, [log], zone, "combined")
    files = sorted(zone.files(TENANT, "logs_combined", "download_requests"))
    quarantine = sorted(zone.quarantine_files(TENANT))
    assert len(files) == 3  # one per UTC day

    again = import_logs(TENANT, [log], zone, "combined")
    assert sorted(zone.files(TENANT, "logs_combined", "download_requests")) == files
    assert sorted(zone.quarantine_files(TENANT)) == quarantine
    assert len(landed(zone, "logs_combined")) == first.rows_landed == again.rows_landed == 50

    # The same lines in a renamed file (a rotated log) land on the same batches too; only the
    # quarantine, which records the file each bad line came from, gains the new file's line.
    renamed = write_log(tmp_path / "access.log.1", lines)
    import_logs(TENANT, [renamed], zone, "combined")
    assert sorted(zone.files(TENANT, "logs_combined", "download_requests")) == files
    assert len(landed(zone, "logs_combined")) == 50
    assert sorted(zone.read_quarantine(TENANT)["_source_file"].to_pylist()) == [
        "access.log",
        "access.log.1",
    ]


def test_small_blocks_give_the_same_rows_and_line_numbers(
    tmp_path: Path, zone: LandingZone
) -> None:
    lines = [line(n) for n in range(40)]
    lines[7] = "broken 7"
    lines[33] = "broken 33"
    lines[20] = ""
    log = write_log(tmp_path / "access.log", lines)
    one = LandingZone(tmp_path / "one")
    import_logs(TENANT, [log], one, "combined")
    report = import_logs(TENANT, [log], zone, "combined", block_bytes=300)

    assert len(report.files[0].landed) > 5  # really several blocks
    assert landed(zone, "logs_combined") == landed(one, "logs_combined")
    assert set(quarantined(zone)) == {8, 34}
    f = report.files[0]
    assert (f.rows_read, f.rows_landed, f.lines_ignored) == (40, 37, 1)


def test_bytes_that_are_not_utf8_quarantine_their_line_only(
    tmp_path: Path, zone: LandingZone
) -> None:
    data = "\n".join(line(n) for n in range(5)).encode().split(b"\n")
    data[2] = data[2].replace(b"Overcast/3.0", b"Overcast/3.0 \xff\xfe")
    log = tmp_path / "access.log"
    log.write_bytes(b"\n".join(data) + b"\n")
    report = import_logs(TENANT, [log], zone, "combined")
    assert [r["_source_row"] for r in landed(zone, "logs_combined")] == [1, 2, 4, 5]
    assert quarantined(zone) == {3: "not valid UTF-8 (undecodable bytes were replaced by U+FFFD)"}
    assert report.files[0].rows_quarantined == 1


def test_empty_files_and_files_of_blank_lines_are_empty(tmp_path: Path, zone: LandingZone) -> None:
    empty = tmp_path / "empty.log"
    empty.write_bytes(b"")
    blank = write_log(tmp_path / "blank.log", ["", "  "])
    report = import_logs(TENANT, [empty, blank], zone, "combined")
    assert [f.status for f in report.files] == ["empty", "empty"]
    assert report.ok
    assert report.files[1].lines_ignored == 2


def test_a_cut_off_gzip_file_is_refused_whole(tmp_path: Path, zone: LandingZone) -> None:
    data = gzip.compress(("\n".join(line(n) for n in range(2000)) + "\n").encode())
    log = tmp_path / "access.log.gz"
    log.write_bytes(data[: len(data) // 2])
    missing = tmp_path / "gone.log"
    report = import_logs(TENANT, [log, missing], zone, "combined", block_bytes=4096)
    assert [f.status for f in report.files] == ["refused", "refused"]
    assert "the gzip data is cut off or corrupt" in report.files[0].refusal.reason
    assert "cannot be read" in report.files[1].refusal.reason
    assert zone.entities(TENANT) == [] and zone.quarantine_files(TENANT) == []
    assert "REFUSED" in report.format()


def test_a_file_over_the_request_quota_is_refused_and_the_next_one_lands(
    tmp_path: Path,
) -> None:
    zone = enforce_quotas(
        LandingZone(tmp_path / "landing"), QuotaLimits(max_download_requests_per_month=10)
    )
    big = write_log(tmp_path / "big.log", [line(n) for n in range(11)])
    small = write_log(tmp_path / "small.log", [line(n) for n in range(100, 105)])
    report = import_logs(TENANT, [big, small], zone, "combined")

    assert [f.status for f in report.files] == ["refused", "landed"]
    assert report.refused_by_quota == [report.files[0]]
    assert "REFUSED by quota" in report.format()
    assert len(landed(zone, "logs_combined")) == 5


def test_lines_of_erased_subjects_never_land(
    tmp_path: Path, zone: LandingZone, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("EARSHOT_HOME", str(tmp_path / "home"))
    monkeypatch.delenv("EARSHOT_SECRETS_BACKEND", raising=False)
    _add_erasure(zone, subject_for(TENANT, "2001:db8:1:2::99"))
    lines = [
        line(1, ip="2001:db8:1:2::1"),  # same /64: erased
        line(2, ip="2001:db8:1:3::1"),
        line(3, ip="192.0.2.1"),
        '2001:db8:1:2::5 - - [10/Oct/2026:13:55:36 +0000] "GET /x.mp3 HTTP/1.1" 200',  # malformed
        "198.51.100.1 broken",
    ]
    log = write_log(tmp_path / "access.log", lines)
    report = import_logs(TENANT, [log], zone, "combined")

    assert [r["ip"] for r in landed(zone, "logs_combined")] == ["2001:db8:1:3::1", "192.0.2.1"]
    assert set(quarantined(zone)) == {5}
    f = report.files[0]
    assert (f.rows_landed, f.rows_quarantined, f.rows_erased) == (2, 1, 2)
    assert any("2 line(s) of erased data subjects dropped" in m for m in f.messages)


def test_unknown_format_is_refused(tmp_path: Path, zone: LandingZone) -> None:
    with pytest.raises(ValueError, match="unknown log format 'w3c'; known: combined"):
        import_logs(TENANT, [tmp_path / "x.log"], zone, "w3c")


@pytest.mark.parametrize("name", sorted(FORMATS))
def test_every_documented_sample_line_lands(name: str, tmp_path: Path, zone: LandingZone) -> None:
    header = (
        ["#Version: 1.0", "#Fields: " + " ".join(STANDARD_FIELDS)] if name == "cloudfront" else []
    )
    log = write_log(tmp_path / "sample.log", [*header, FORMATS[name].sample])
    report = import_logs(TENANT, [log], zone, name)
    assert report.ok and report.rows_landed == 1, report.format()
    (landed_row,) = landed(zone, f"logs_{name}")
    assert landed_row["episode_id"] == "ep-123"
    assert landed_row["method"] == "GET"
