"""A tenant's serving settings: the ``serving:`` section of ``tenants/<tenant>.yaml``.

Where its reports, exports and alerts go, and when. Like the connectors' section it never holds
a secret: a webhook URL (it carries a token), a bot token or an SMTP password is named
(``secret:``) and read from the environment or the secrets manager when a message is sent
(warehouse/secrets.py). docs/user/alerts.md documents every field::

    serving:
      timezone: Europe/London
      reports: {schedule: "0 8 * * 1", deliver_to: [team, boss]}
      exports: {formats: [csv, parquet]}
      channels:
        team: {type: slack_webhook, secret: slack_webhook_url}
        boss: {type: email, host: smtp.example.com, sender: earshot@example.com,
               recipients: [boss@example.com], username: earshot, secret: smtp_password}
      alerts:
        - {rule: anomalies, min_severity: high, channels: [team]}
        - {rule: stale_data, max_age_hours: 48, channels: [team]}
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any, Literal
from zoneinfo import ZoneInfo, ZoneInfoNotFoundError

import yaml
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    ValidationError,
    field_validator,
    model_validator,
)

from connectors.framework.errors import SettingsError
from connectors.framework.settings import configured_tenants, tenant_file
from warehouse.settings import validate_name

SEVERITIES = ("low", "medium", "high", "critical")
DEFAULT_REPORT_SCHEDULE = "0 8 * * 1"  # Mondays 08:00 in the tenant's time zone
DEFAULT_EXPORT_SCHEDULE = "0 7 * * *"
DEFAULT_ALERT_SCHEDULE = "30 7 * * *"
EXPORTS_BUCKET_VARIABLE = "EARSHOT_EXPORTS_BUCKET"
EXPORTS_PREFIX_VARIABLE = "EARSHOT_EXPORTS_PREFIX"
DEFAULT_EXPORTS_PREFIX = "tenants"


def _cron(value: str) -> str:
    from dagster._utils.schedules import is_valid_cron_string

    if not is_valid_cron_string(value):
        raise ValueError(f"not a cron expression: {value!r}")
    return value


def _secret_name(value: str) -> str:
    return validate_name(value, "secret name")


# Names of credentials and cron expressions, checked wherever a field holds one.
SecretName = Annotated[str, AfterValidator(_secret_name)]
Cron = Annotated[str, AfterValidator(_cron)]


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class _ChannelBase(_Strict):
    # Attempts per delivery in one run, and the longest wait a Retry-After may ask for before the
    # delivery is left for the next run instead.
    max_attempts: int = Field(default=4, ge=1, le=10)
    max_retry_delay_s: float = Field(default=60.0, gt=0, le=900)
    retry_backoff_s: float = Field(default=1.0, gt=0, le=60)


class SlackWebhookChannel(_ChannelBase):
    type: Literal["slack_webhook"]
    # The credential holding the incoming webhook's URL (it carries the token).
    secret: SecretName


class SlackApiChannel(_ChannelBase):
    type: Literal["slack_api"]
    channel: str = Field(min_length=1)
    # The credential holding the bot token (xoxb-...).
    secret: SecretName
    base_url: str = "https://slack.com/api"


class DiscordChannel(_ChannelBase):
    type: Literal["discord"]
    # The credential holding the webhook's URL.
    secret: SecretName


class EmailChannel(_ChannelBase):
    type: Literal["email"]
    host: str
    port: int = Field(default=587, ge=1, le=65535)
    security: Literal["starttls", "tls", "none"] = "starttls"
    sender: str
    recipients: list[str] = Field(min_length=1)
    username: str | None = None
    # The credential holding the SMTP password (with username).
    secret: SecretName | None = None

    @field_validator("recipients")
    @classmethod
    def _addresses(cls, value: list[str]) -> list[str]:
        for address in value:
            if "@" not in address or any(c.isspace() for c in address):
                raise ValueError(f"not an email address: {address!r}")
        return value

    @model_validator(mode="after")
    def _login_pair(self) -> EmailChannel:
        if (self.username is None) != (self.secret is None):
            raise ValueError("username and secret go together (the secret holds the password)")
        return self


class WebhookChannel(_ChannelBase):
    type: Literal["webhook"]
    # The credential holding the URL (Zapier and Make URLs are bearer capabilities).
    secret: SecretName
    flavor: Literal["generic", "zapier", "make", "n8n"] = "generic"
    auth: Literal["none", "basic", "header", "bearer"] = "none"
    username: str | None = None
    header_name: str | None = None
    # The credential holding the password, header value or token of ``auth``.
    auth_secret: SecretName | None = None

    @model_validator(mode="after")
    def _auth_fields(self) -> WebhookChannel:
        if self.auth != "none" and self.auth_secret is None:
            raise ValueError(f"auth {self.auth!r} needs auth_secret")
        if self.auth == "basic" and not self.username:
            raise ValueError("auth 'basic' needs username")
        if self.auth == "header" and not self.header_name:
            raise ValueError("auth 'header' needs header_name")
        return self


Channel = Annotated[
    SlackWebhookChannel | SlackApiChannel | DiscordChannel | EmailChannel | WebhookChannel,
    Field(discriminator="type"),
]


class AnomalyRule(_Strict):
    rule: Literal["anomalies"]
    min_severity: Literal["low", "medium", "high", "critical"] = "high"
    # Anomalies detected this many days before the newest data day still alert (once each).
    within_days: int = Field(default=7, ge=1, le=90)
    channels: list[str] = Field(min_length=1)


class BudgetPacingRule(_Strict):
    rule: Literal["budget_pacing"]
    # Spend booked to date over the budget share the elapsed flight should have used.
    under: float = Field(default=0.8, ge=0, le=1)
    over: float = Field(default=1.2, ge=1)
    channels: list[str] = Field(min_length=1)


class QualityGateRule(_Strict):
    rule: Literal["quality_gate"]
    channels: list[str] = Field(min_length=1)


class StaleDataRule(_Strict):
    rule: Literal["stale_data"]
    max_age_hours: float = Field(default=48.0, gt=0)
    channels: list[str] = Field(min_length=1)


AlertRule = Annotated[
    AnomalyRule | BudgetPacingRule | QualityGateRule | StaleDataRule,
    Field(discriminator="rule"),
]


class ReportSettings(_Strict):
    enabled: bool = True
    # Cron in the tenant's time zone; each tick reports the last complete week.
    schedule: Cron = DEFAULT_REPORT_SCHEDULE
    deliver_to: list[str] = Field(default_factory=list)


class ExportSettings(_Strict):
    enabled: bool = True
    # Default: $EARSHOT_EXPORTS_BUCKET, under <$EARSHOT_EXPORTS_PREFIX or 'tenants'>/<tenant>/.
    bucket: str | None = None
    prefix: str | None = None
    formats: list[Literal["csv", "parquet"]] = Field(
        default_factory=lambda: ["csv", "parquet"], min_length=1
    )
    schedule: Cron = DEFAULT_EXPORT_SCHEDULE


class ServingSettings(_Strict):
    timezone: str = "UTC"
    reports: ReportSettings = Field(default_factory=ReportSettings)
    exports: ExportSettings = Field(default_factory=ExportSettings)
    channels: dict[str, Channel] = Field(default_factory=dict)
    alerts: list[AlertRule] = Field(default_factory=list)
    # When the alert rules are evaluated (cron, tenant's time zone).
    alert_schedule: Cron = DEFAULT_ALERT_SCHEDULE

    @field_validator("timezone")
    @classmethod
    def _zone(cls, value: str) -> str:
        try:
            ZoneInfo(value)
        except (ZoneInfoNotFoundError, ValueError):
            raise ValueError(f"unknown IANA time zone {value!r}") from None
        return value

    @field_validator("channels")
    @classmethod
    def _channel_names(cls, value: dict[str, Any]) -> dict[str, Any]:
        for name in value:
            validate_name(name, "channel name")
        return value

    @model_validator(mode="after")
    def _known_channels(self) -> ServingSettings:
        known = set(self.channels)
        uses = [("reports.deliver_to", name) for name in self.reports.deliver_to]
        uses += [
            (f"alerts[{i}].channels", name)
            for i, rule in enumerate(self.alerts)
            for name in rule.channels
        ]
        for where, name in uses:
            if name not in known:
                listed = ", ".join(sorted(known)) or "none"
                raise ValueError(f"{where}: unknown channel {name!r}; channels: {listed}")
        return self

    def channels_named(self, names: list[str]) -> dict[str, Channel]:
        return {name: self.channels[name] for name in names}


def load_serving_settings(tenant_id: str, folder: Path | None = None) -> ServingSettings:
    """The tenant's validated ``serving:`` section; defaults (UTC, no channels, no alerts) when
    the file or the section is missing. Errors name the file and the field."""
    path = tenant_file(tenant_id, folder)
    if not path.exists():
        return ServingSettings()
    try:
        document = yaml.safe_load(path.read_text(encoding="utf-8")) or {}
    except yaml.YAMLError as exc:
        raise SettingsError(f"{path}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(document, dict):
        raise SettingsError(f"{path}: expected a mapping")
    raw = document.get("serving") or {}
    try:
        return ServingSettings.model_validate(raw)
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        field = "serving" + (f".{location}" if location else "")
        more = len(exc.errors()) - 1
        extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise SettingsError(f"{path}: {field}: {first['msg']}{extra}") from None


def export_target_of(tenant_id: str, settings: ServingSettings) -> tuple[str, str] | None:
    """(bucket, prefix) of the tenant's exports; None when no bucket is configured anywhere."""
    bucket = settings.exports.bucket or os.environ.get(EXPORTS_BUCKET_VARIABLE)
    if not bucket:
        return None
    if settings.exports.prefix:
        return bucket, settings.exports.prefix
    root = os.environ.get(EXPORTS_PREFIX_VARIABLE, DEFAULT_EXPORTS_PREFIX).strip("/")
    return bucket, f"{root}/{tenant_id}/" if root else f"{tenant_id}/"


def all_serving_settings(folder: Path | None = None) -> dict[str, ServingSettings]:
    """Every configured tenant's serving settings (a bad file raises, naming it)."""
    return {tenant: load_serving_settings(tenant, folder) for tenant in configured_tenants(folder)}
