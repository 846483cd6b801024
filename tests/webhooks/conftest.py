"""A tenant ``acme`` with its settings folder, its secrets in the environment and a landing zone
under a temporary EARSHOT_HOME."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import pytest

from connectors.registry import CONNECTORS
from tests.webhooks.support import STAND_IN_TOPICS, secret_env, stand_in
from warehouse.landing import LandingZone
from warehouse.secrets import clear_cache


@dataclass
class World:
    home: Path
    tenants: Path
    zone: LandingZone
    env: dict[str, str]


@pytest.fixture
def world(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> World:
    home = tmp_path / "home"
    tenants = tmp_path / "tenants"
    env = {
        "EARSHOT_HOME": str(home),
        "EARSHOT_TENANTS_DIR": str(tenants),
        "EARSHOT_SECRETS_BACKEND": "env",
        "EARSHOT_LANDING": "local",
        **secret_env(),
    }
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.delenv("EARSHOT_WEBHOOKS_PUBLIC_URL", raising=False)
    clear_cache()
    return World(home, tenants, LandingZone(home / "landing"), env)


@pytest.fixture
def stand_ins(monkeypatch: pytest.MonkeyPatch) -> None:
    """Register test-only connectors for the platforms whose real connectors these tests do not
    use (their real topic lists when they are registered)."""
    for platform, topics in STAND_IN_TOPICS.items():
        real = CONNECTORS.get(platform)
        monkeypatch.setitem(
            CONNECTORS, platform, stand_in(platform, real.webhook_topics if real else topics)
        )
