"""The `serving:` section of tenants/<tenant>.yaml: validated, errors naming file and field."""

from __future__ import annotations

from pathlib import Path

import pytest

from connectors.framework.errors import SettingsError
from connectors.framework.settings import load_tenant_connectors
from serving.settings import (
    EmailChannel,
    ServingSettings,
    SlackWebhookChannel,
    export_target_of,
    load_serving_settings,
)

GOOD = """
connectors:
  buzzsprout: {podcast_ids: [1]}
serving:
  timezone: Australia/Sydney
  reports: {schedule: "0 9 * * 1", deliver_to: [team, boss]}
  channels:
    team: {type: slack_webhook, secret: slack_url}
    boss:
      type: email
      host: smtp.example.com
      sender: r@example.com
      recipients: [boss@example.com]
      username: r@example.com
      secret: smtp_password
    hooks: {type: webhook, secret: n8n_url, flavor: n8n, auth: header, header_name: X-Key,
            auth_secret: n8n_key}
  alerts:
    - {rule: anomalies, min_severity: critical, channels: [team]}
    - {rule: budget_pacing, under: 0.5, over: 2, channels: [hooks]}
    - {rule: quality_gate, channels: [team]}
    - {rule: stale_data, max_age_hours: 12, channels: [boss]}
"""


def _write(folder: Path, text: str, tenant: str = "acme") -> Path:
    path = folder / f"{tenant}.yaml"
    path.write_text(text)
    return path


def test_a_full_section_is_read(tmp_path: Path) -> None:
    _write(tmp_path, GOOD)
    settings = load_serving_settings("acme", tmp_path)
    assert settings.timezone == "Australia/Sydney"
    assert settings.reports.schedule == "0 9 * * 1"
    assert isinstance(settings.channels["team"], SlackWebhookChannel)
    assert isinstance(settings.channels["boss"], EmailChannel)
    assert (
        settings.channels["boss"].port == 587 and settings.channels["boss"].security == "starttls"
    )
    assert [rule.rule for rule in settings.alerts] == [
        "anomalies",
        "budget_pacing",
        "quality_gate",
        "stale_data",
    ]
    assert settings.alerts[1].under == 0.5 and settings.alerts[1].over == 2
    # The connectors' loader reads the same file and ignores the section.
    assert list(load_tenant_connectors("acme", tmp_path)) == ["buzzsprout"]


def test_no_file_or_no_section_means_defaults(tmp_path: Path) -> None:
    assert load_serving_settings("acme", tmp_path) == ServingSettings()
    _write(tmp_path, "connectors: {}\n")
    settings = load_serving_settings("acme", tmp_path)
    assert settings.timezone == "UTC" and settings.alerts == [] and settings.channels == {}
    assert settings.exports.formats == ["csv", "parquet"]


@pytest.mark.parametrize(
    ("section", "message"),
    [
        ("timezone: Mars/Olympus\n", r"serving\.timezone: .*unknown IANA time zone 'Mars/Olympus'"),
        (
            "alerts: [{rule: anomalies, channels: [slak]}]\n"
            "channels: {team: {type: slack_webhook, secret: slack_url}}\n",
            r"unknown channel 'slak'; channels: team",
        ),
        ("reports: {deliver_to: [nobody]}\n", r"reports\.deliver_to: unknown channel 'nobody'"),
        ("channels: {team: {type: slack_webhook, secret: 'Not A Name'}}\n", r"invalid secret name"),
        ("channels: {team: {type: pager, secret: x_y}}\n", r"serving\.channels\.team"),
        ("channels: {team: {type: slack_webhook, url: 'https://hooks'}}\n", r"serving\.channels"),
        (
            "channels: {m: {type: email, host: h, sender: a@b, recipients: [c@d], username: u}}\n",
            r"username and secret go together",
        ),
        (
            "channels: {mm: {type: email, host: h, sender: a@b, recipients: ['not an address']}}\n",
            r"not an email address",
        ),
        ("channels: {hk: {type: webhook, secret: hook_url, auth: basic}}\n", r"needs auth_secret"),
        ("alerts: [{rule: anomalies, min_severity: huge, channels: []}]\n", r"serving\.alerts\.0"),
        ("reports: {schedule: 'every monday'}\n", r"not a cron expression"),
        ("exports: {formats: [xlsx]}\n", r"serving\.exports\.formats\.0"),
        ("surprise: 1\n", r"serving\.surprise"),
    ],
)
def test_mistakes_name_the_file_and_the_field(tmp_path: Path, section: str, message: str) -> None:
    indented = "".join(f"  {line}\n" for line in section.splitlines())
    path = _write(tmp_path, "serving:\n" + indented)
    with pytest.raises(SettingsError, match=message) as raised:
        load_serving_settings("acme", tmp_path)
    assert str(path) in str(raised.value)


def test_export_target_defaults_to_the_tenants_own_prefix(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("EARSHOT_EXPORTS_BUCKET", raising=False)
    monkeypatch.delenv("EARSHOT_EXPORTS_PREFIX", raising=False)
    settings = ServingSettings()
    assert export_target_of("acme", settings) is None
    monkeypatch.setenv("EARSHOT_EXPORTS_BUCKET", "platform-exports")
    assert export_target_of("acme", settings) == ("platform-exports", "tenants/acme/")
    monkeypatch.setenv("EARSHOT_EXPORTS_PREFIX", "/customers/")
    assert export_target_of("acme", settings) == ("platform-exports", "customers/acme/")
    own = ServingSettings.model_validate({"exports": {"bucket": "acme-bi", "prefix": "earshot/"}})
    assert export_target_of("acme", own) == ("acme-bi", "earshot/")
