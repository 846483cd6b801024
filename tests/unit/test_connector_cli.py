"""`earshot connectors status | set-secret | sync` from the command line."""

from __future__ import annotations

import os
import stat
import subprocess
import sys
from pathlib import Path

import yaml

from connectors.framework.state import RunProgress, StateStore, StreamState
from tests.fakes.buzzsprout import FakeBuzzsprout
from tests.fakes.catalog import make_catalog
from warehouse.landing import LandingZone

ROOT = Path(__file__).resolve().parents[2]
TENANT = "cli_co"


def earshot(home: Path, *args: str, stdin: str | None = None, **env: str):
    environment = {
        **os.environ,
        "EARSHOT_HOME": str(home),
        "EARSHOT_SECRETS_BACKEND": "local",
        "EARSHOT_WAREHOUSE": "duckdb",
        **env,
    }
    environment.pop("EARSHOT_TENANTS_DIR", None)
    return subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=ROOT,
        env=environment,
        input=stdin,
        capture_output=True,
        text=True,
    )


def configure(home: Path, base_url: str) -> None:
    (home / "tenants").mkdir(parents=True, exist_ok=True)
    settings = {"base_url": base_url, "start_date": "2026-10-01"}
    (home / "tenants" / f"{TENANT}.yaml").write_text(
        yaml.safe_dump({"connectors": {"buzzsprout": settings}})
    )


def test_set_secret_stores_a_private_credential_and_sync_uses_it(tmp_path: Path) -> None:
    catalog = make_catalog(days=3, numeric_ids=True)
    with FakeBuzzsprout(catalog) as fake:
        configure(tmp_path, fake.base_url)
        stored = earshot(
            tmp_path,
            "connectors",
            "set-secret",
            "--tenant",
            TENANT,
            "--name",
            "buzzsprout_api_token",
            stdin=fake.token + "\n",
        )
        assert stored.returncode == 0, stored.stderr
        assert fake.token not in stored.stdout + stored.stderr
        path = tmp_path / "secrets" / TENANT / "buzzsprout_api_token"
        assert path.read_text() == fake.token
        assert stat.S_IMODE(path.stat().st_mode) == 0o600
        synced = earshot(
            tmp_path, "connectors", "sync", "--tenant", TENANT, "--until", "2026-10-03"
        )
        assert synced.returncode == 0, synced.stderr
        assert "buzzsprout/host_downloads_daily (incremental)" in synced.stdout
        assert "cursor 2026-10-03" in synced.stdout
    empty = earshot(
        tmp_path, "connectors", "set-secret", "--tenant", TENANT, "--name", "x_y", stdin="\n"
    )
    assert empty.returncode == 2 and "no value" in empty.stderr


def test_status_shows_cursors_and_an_interrupted_run(tmp_path: Path) -> None:
    configure(tmp_path, "http://127.0.0.1:9")
    store = StateStore(LandingZone(tmp_path / "landing"))
    store.save(StreamState(TENANT, "buzzsprout", "episodes", last_success_at="2026-10-04T06:00"))
    run = RunProgress("abc123", "full", "2026-10-05", slices=["d1", "d2", "d3"], done=["d1"])
    store.save(
        StreamState(TENANT, "buzzsprout", "host_downloads_daily", cursor="2026-10-03", run=run)
    )
    status = earshot(tmp_path, "connectors", "status", "--tenant", TENANT)
    assert status.returncode == 0, status.stderr
    assert "buzzsprout/episodes: cursor -, last success 2026-10-04T06:00" in status.stdout
    assert "interrupted run abc123: 1 of 3 slices landed" in status.stdout


def test_commands_explain_a_tenant_without_connectors(tmp_path: Path) -> None:
    missing = earshot(tmp_path, "connectors", "check", "--tenant", TENANT)
    assert missing.returncode == 2
    assert f"{TENANT}.yaml does not exist or lists none" in missing.stderr
    configure(tmp_path, "http://127.0.0.1:9")
    other = earshot(tmp_path, "connectors", "sync", "--tenant", TENANT, "--platform", "podbean")
    assert other.returncode == 2 and "has no podbean connector" in other.stderr
    no_secret = earshot(tmp_path, "connectors", "check", "--tenant", TENANT)
    assert no_secret.returncode == 1 and "FAIL  buzzsprout" in no_secret.stdout
    assert "credential 'buzzsprout_api_token'" in no_secret.stdout
    earshot(
        tmp_path,
        "connectors",
        "set-secret",
        "--tenant",
        TENANT,
        "--name",
        "buzzsprout_api_token",
        stdin="some-token\n",
    )
    unreachable = earshot(tmp_path, "connectors", "check", "--tenant", TENANT)
    assert unreachable.returncode == 1
    assert "FAIL  buzzsprout: cannot reach http://127.0.0.1:9" in unreachable.stdout
