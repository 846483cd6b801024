"""A tenant configured against a fake platform: settings file, credentials, landing zone."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.framework.connector import Connector
from connectors.framework.runtime import build_connector
from tests.contract import record_cases
from tests.contract.cases import CASES, DAYS, FIRST_DAY, PlatformCase
from tests.contract.record_cases import RECORD_CASES, RecordCase
from tests.fakes.catalog import HostCatalog
from tests.fakes.server import FakeApi
from warehouse.landing import LandingZone
from warehouse.secrets import clear_cache, env_variable

TENANT = "contract_co"
LAST_DAY = FIRST_DAY + timedelta(days=DAYS - 1)
RECORD_LAST_DAY = record_cases.FIRST_DAY + timedelta(days=record_cases.DAYS - 1)


@dataclass
class Setup:
    case: PlatformCase
    catalog: HostCatalog
    fake: FakeApi
    home: Path
    zone: LandingZone
    env: dict[str, str]

    def write_settings(self, **overrides: Any) -> None:
        settings = {
            "base_url": self.fake.base_url,
            "start_date": FIRST_DAY.isoformat(),
            # generous: the fake's own limit is what a test exercises
            "rate_limit": {"requests": 1000, "per_seconds": 1},
            "max_retry_delay_s": 5,
            # the retries are what is tested, not the length of the waits
            "retry_backoff_s": 0.05,
            **self.case.settings,
            **overrides,
        }
        _write_settings(self.home, self.case.platform, settings)

    def connector(self, until: date = LAST_DAY) -> Connector:
        return build_connector(TENANT, self.case.platform, today=until + timedelta(days=1))


@pytest.fixture(params=sorted(CASES))
def setup(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch) -> Iterator[Setup]:
    case = CASES[request.param]()
    catalog = case.catalog()
    fake = case.fake(catalog).start()
    env = _tenant_env(tmp_path, case.platform, case.secrets, monkeypatch)
    result = Setup(case, catalog, fake, tmp_path, LandingZone(tmp_path / "landing"), env)
    result.write_settings()
    try:
        yield result
    finally:
        fake.stop()


@dataclass
class RecordSetup:
    case: RecordCase
    world: Any
    fake: FakeApi
    home: Path
    zone: LandingZone
    env: dict[str, str]

    def connector(self, until: date = RECORD_LAST_DAY) -> Connector:
        return build_connector(TENANT, self.case.platform, today=until + timedelta(days=1))


@pytest.fixture(params=sorted(RECORD_CASES))
def record_setup(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch
) -> Iterator[RecordSetup]:
    case = RECORD_CASES[request.param]()
    world = case.world()
    fake = case.fake(world).start()
    env = _tenant_env(tmp_path, case.platform, case.secrets, monkeypatch)
    settings = {
        "base_url": fake.base_url,
        "start_date": record_cases.FIRST_DAY.isoformat(),
        "rate_limit": {"requests": 1000, "per_seconds": 1},
        "max_retry_delay_s": 5,
        "retry_backoff_s": 0.05,
        **case.settings,
    }
    _write_settings(tmp_path, case.platform, settings)
    try:
        yield RecordSetup(case, world, fake, tmp_path, LandingZone(tmp_path / "landing"), env)
    finally:
        fake.stop()


def _tenant_env(
    home: Path, platform: str, secrets: dict[str, str], monkeypatch: pytest.MonkeyPatch
) -> dict[str, str]:
    env = {
        "EARSHOT_HOME": str(home),
        "EARSHOT_TENANTS_DIR": str(home / "tenants"),
        "EARSHOT_SECRETS_BACKEND": "env",
        "EARSHOT_LANDING": "local",
        "EARSHOT_WAREHOUSE": "duckdb",
    }
    for role, value in secrets.items():
        env[env_variable(TENANT, f"{platform}_{role}")] = value
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    clear_cache()
    return env


def _write_settings(home: Path, platform: str, settings: dict[str, Any]) -> None:
    folder = home / "tenants"
    folder.mkdir(parents=True, exist_ok=True)
    document = {"connectors": {platform: settings}}
    (folder / f"{TENANT}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))


def kill_sync_at(setup: Setup | RecordSetup, path: str, nth: int, until: date) -> None:
    """Run `earshot connectors sync --full` as a process and SIGKILL it while the fake holds the
    nth request to ``path``: the slices before it have landed, the one in flight has not."""
    reached, _release = setup.fake.hold(path, nth=nth)
    command = [sys.executable, "-m", "pipelines.cli", "connectors", "sync", "--tenant", TENANT]
    command += ["--full", "--until", until.isoformat()]
    process = subprocess.Popen(
        command, env=subprocess_env(setup), stdout=subprocess.PIPE, stderr=subprocess.PIPE
    )
    try:
        assert reached.wait(timeout=120), process.communicate(timeout=5)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    setup.fake.release_all()


def assert_check_reports_reachability_and_credentials(setup: Setup | RecordSetup) -> None:
    """`earshot connectors check` says ok for the platform, and FAIL (exit 1) with a wrong
    credential, which appears in none of its output."""
    command = [sys.executable, "-m", "pipelines.cli", "connectors", "check", "--tenant", TENANT]
    ok = subprocess.run(command, env=subprocess_env(setup), capture_output=True, text=True)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"ok    {setup.case.platform}" in ok.stdout
    role = next(iter(setup.case.secrets))
    env = {**subprocess_env(setup), env_variable(TENANT, f"{setup.case.platform}_{role}"): "nope"}
    bad = subprocess.run(command, env=env, capture_output=True, text=True)
    assert bad.returncode == 1 and f"FAIL  {setup.case.platform}" in bad.stdout
    assert "nope" not in bad.stdout + bad.stderr


def subprocess_env(setup: Setup | RecordSetup) -> dict[str, str]:
    return {**os.environ, **setup.env}
