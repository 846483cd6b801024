"""A tenant configured against a fake platform: settings file, credentials, landing zone."""

from __future__ import annotations

import os
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest
import yaml

from connectors.framework.connector import Connector
from connectors.framework.runtime import build_connector
from tests.contract.cases import CASES, DAYS, FIRST_DAY, PlatformCase
from tests.fakes.catalog import HostCatalog
from tests.fakes.server import FakeApi
from warehouse.landing import LandingZone
from warehouse.secrets import clear_cache, env_variable

TENANT = "contract_co"
LAST_DAY = FIRST_DAY + timedelta(days=DAYS - 1)


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
            **self.case.settings,
            **overrides,
        }
        folder = self.home / "tenants"
        folder.mkdir(parents=True, exist_ok=True)
        document = {"connectors": {self.case.platform: settings}}
        (folder / f"{TENANT}.yaml").write_text(yaml.safe_dump(document, sort_keys=False))

    def connector(self, until: date = LAST_DAY) -> Connector:
        return build_connector(TENANT, self.case.platform, today=until + timedelta(days=1))


@pytest.fixture(params=sorted(CASES))
def setup(request: pytest.FixtureRequest, tmp_path: Path, monkeypatch) -> Iterator[Setup]:
    case = CASES[request.param]()
    catalog = case.catalog()
    fake = case.fake(catalog).start()
    env = {
        "EARSHOT_HOME": str(tmp_path),
        "EARSHOT_TENANTS_DIR": str(tmp_path / "tenants"),
        "EARSHOT_SECRETS_BACKEND": "env",
        "EARSHOT_LANDING": "local",
        "EARSHOT_WAREHOUSE": "duckdb",
    }
    for role, value in case.secrets.items():
        env[env_variable(TENANT, f"{case.platform}_{role}")] = value
    for key, value in env.items():
        monkeypatch.setenv(key, value)
    clear_cache()
    result = Setup(case, catalog, fake, tmp_path, LandingZone(tmp_path / "landing"), env)
    result.write_settings()
    try:
        yield result
    finally:
        fake.stop()


def subprocess_env(setup: Setup) -> dict[str, str]:
    return {**os.environ, **setup.env}
