"""`earshot ingest logs` end to end, in a subprocess with its own EARSHOT_HOME."""

from __future__ import annotations

import subprocess
from pathlib import Path

import pytest

from connectors.logs import FORMATS
from pipelines.cli_logs import FORMAT_NAMES
from tests.conftest import run_earshot
from tests.support.warehouses import cli_env
from tests.unit.logs.logs import OVERCAST, TENANT, landed, quarantined, write_log
from warehouse.landing import LandingZone

LINES = [
    f'192.0.2.1 - - [10/Oct/2026:13:55:36 -0700] "GET /show-a/ep-1.mp3 HTTP/1.1" 200 9 "-" '
    f'"{OVERCAST}"',
    '192.0.2.1 - - [10/Oct/2026:13:55:36 -0700] "GET /favicon.ico HTTP/1.1" 200 9 "-" "x"',
    "garbage",
]


def earshot_logs(home: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return run_earshot(cli_env(home, "cli_tester"), "ingest", "logs", *args, check=False)


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


def test_cli_lands_a_log_and_reports_lines(tmp_path: Path, home: Path) -> None:
    log = write_log(tmp_path / "access.log", LINES)
    proc = earshot_logs(
        home,
        "--tenant",
        TENANT,
        "--format",
        "combined",
        "--episode-pattern",
        r"/([^/]+)\.mp3$",
        str(log),
    )
    assert proc.returncode == 1, proc.stderr  # a line was quarantined
    assert "access.log: 3 lines: 1 landed as download_requests, 1 skipped, 1 quarantined" in (
        proc.stdout
    )
    assert "access.log line 3: not a combined log line" in proc.stdout
    assert "Some lines or files were not landed" in proc.stderr

    zone = LandingZone(home / "landing")
    assert [r["episode_id"] for r in landed(zone, "logs_combined")] == ["ep-1"]
    assert set(quarantined(zone)) == {3}

    clean = write_log(tmp_path / "clean.log", LINES[:1])
    proc = earshot_logs(home, "--tenant", TENANT, "--format", "combined", str(clean))
    assert proc.returncode == 0, proc.stderr
    assert "Next: earshot run --tenant acme" in proc.stdout
    assert len(landed(zone, "logs_combined")) == 1  # the same line again: nothing new


def test_cli_refuses_bad_arguments_before_landing(tmp_path: Path, home: Path) -> None:
    log = write_log(tmp_path / "access.log", LINES)
    missing = earshot_logs(home, "--tenant", TENANT, "--format", "s3", str(tmp_path / "nope"))
    assert missing.returncode == 2 and "not a file" in missing.stderr
    pattern = earshot_logs(
        home, "--tenant", TENANT, "--format", "combined", "--episode-pattern", "/(a)/(b)", str(log)
    )
    assert pattern.returncode == 2 and "needs exactly one" in pattern.stderr
    fmt = earshot_logs(home, "--tenant", TENANT, "--format", "w3c", str(log))
    assert fmt.returncode == 2 and "invalid choice" in fmt.stderr
    assert not (home / "landing" / TENANT).exists()


def test_cli_offers_every_format() -> None:
    assert set(FORMAT_NAMES) == set(FORMATS)


def test_the_command_line_offers_every_format() -> None:
    from connectors.logs.formats import FORMATS
    from pipelines.cli_logs import FORMAT_NAMES

    assert tuple(FORMATS) == FORMAT_NAMES
