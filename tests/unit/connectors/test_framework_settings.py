"""tenants/<tenant>.yaml: validated, and every refusal names the file and the field."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.framework.errors import SettingsError
from connectors.framework.settings import configured_tenants, load_tenant_connectors


def write(folder: Path, text: str, tenant: str = "acme") -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{tenant}.yaml"
    path.write_text(text)
    return path


def test_a_valid_file_gives_typed_settings(tmp_path: Path) -> None:
    write(
        tmp_path,
        "connectors:\n  buzzsprout:\n    podcast_ids: [123]\n    start_date: 2026-01-05\n"
        "    rate_limit: {requests: 10, per_seconds: 10}\n",
    )
    settings = load_tenant_connectors("acme", tmp_path)["buzzsprout"]
    assert str(settings.start_date) == "2026-01-05"
    assert settings.rate_limit is not None and settings.rate_limit.requests == 10
    assert settings.lookback_days == 2 and settings.schedule == "0 6 * * *"
    assert configured_tenants(tmp_path) == ["acme"]


def test_no_file_means_no_connectors(tmp_path: Path) -> None:
    assert load_tenant_connectors("acme", tmp_path) == {}


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("connectors:\n  soundcloud: {}\n", r"connectors\.soundcloud: unknown connector"),
        ("connectors:\n  buzzsprout:\n    podcast: [1]\n", r"buzzsprout\.podcast: unknown setting"),
        ("connectors:\n  buzzsprout:\n    start_date: 2026-13-01\n", r"buzzsprout\.start_date"),
        ("connectors:\n  buzzsprout:\n    schedule: every day\n", r"schedule: .*not a cron"),
        ("connectors:\n  buzzsprout:\n    lookback_days: -1\n", r"buzzsprout\.lookback_days"),
        (
            "connectors:\n  buzzsprout:\n    rate_limit: {requests: 0, per_seconds: 1}\n",
            r"rate_limit\.requests",
        ),
        ("connectors:\n  buzzsprout:\n    base_url: ftp://x\n", r"base_url: .*http"),
        ("tenant: globex\nconnectors: {}\n", r"tenant: says 'globex'"),
        ("sources: {}\n", r"sources: unknown key"),
        ("connectors: [buzzsprout]\n", r"connectors: expected a mapping"),
        ("connectors:\n  buzzsprout: {podcast_ids: [1]\n", r"line \d+: not valid YAML"),
    ],
)
def test_mistakes_name_the_file_and_the_field(tmp_path: Path, text: str, message: str) -> None:
    path = write(tmp_path, text)
    with pytest.raises(SettingsError, match=message) as failure:
        load_tenant_connectors("acme", tmp_path)
    assert str(failure.value).startswith(str(path))
