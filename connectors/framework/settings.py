"""Per-tenant connector settings: ``tenants/<tenant>.yaml``, validated, errors that name the field.

The folder is ``$EARSHOT_TENANTS_DIR``, or ``$EARSHOT_HOME/tenants`` when that is unset. A file
holds the settings of every connector a tenant uses, and never a secret: credentials are named
(``secrets:``) and read from the environment or the secrets manager at sync time
(``credentials.py``). docs/user/connectors.md documents every field.

    connectors:
      buzzsprout:
        podcast_ids: [1234567]
        start_date: 2026-01-01
      transistor:
        rate_limit: {requests: 10, per_seconds: 10}
"""

from __future__ import annotations

import os
from datetime import date
from pathlib import Path
from typing import Annotated, Any

import yaml
from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, ValidationError, field_validator

from connectors.framework.errors import SettingsError
from warehouse.settings import paths, validate_tenant_id

TENANTS_DIR_VARIABLE = "EARSHOT_TENANTS_DIR"
DEFAULT_SCHEDULE = "0 6 * * *"


def _ids_as_text(value: Any) -> Any:
    # Ids are opaque text; YAML reads 12345 as a number.
    if isinstance(value, list):
        return [str(v) for v in value]
    return value


# A setting listing a platform's ids (shows, podcasts): each read as text, whatever YAML made it.
IdList = Annotated[list[str], BeforeValidator(_ids_as_text)]


class RateLimit(BaseModel):
    model_config = ConfigDict(extra="forbid")

    requests: int = Field(ge=1)
    per_seconds: float = Field(gt=0)


class ConnectorSettings(BaseModel):
    """What every connector accepts; a connector's own settings add its fields to these."""

    model_config = ConfigDict(extra="forbid")

    enabled: bool = True
    # Another address of the API (a proxy, a regional endpoint, a test server).
    base_url: str | None = None
    # First day a full sync asks for; default 90 days before the sync.
    start_date: date | None = None
    # Days before the cursor an incremental sync asks again: hosts revise recent days.
    lookback_days: int = Field(default=2, ge=0, le=60)
    # When the daily sync runs (cron, UTC).
    schedule: str = DEFAULT_SCHEDULE
    # Client-side pacing; default: the source's documented limit.
    rate_limit: RateLimit | None = None
    # Attempts per request before a sync stops at its checkpoint.
    max_attempts: int = Field(default=6, ge=1, le=20)
    # Longest wait between two attempts, whatever Retry-After asks for.
    max_retry_delay_s: float = Field(default=120.0, gt=0, le=3600)
    # First wait after an error that names no wait (5xx, a malformed page); it doubles with
    # each further attempt, up to max_retry_delay_s.
    retry_backoff_s: float = Field(default=1.0, gt=0, le=60)
    # Credential role -> secret name, for names other than the default <platform>_<role>.
    secrets: dict[str, str] = Field(default_factory=dict)
    # Hours without a successful sync before the freshness check fails.
    freshness_hours: float = Field(default=36.0, gt=0)

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, value: str | None) -> str | None:
        if value is not None and not value.startswith(("http://", "https://")):
            raise ValueError("must start with http:// or https://")
        return value.rstrip("/") if value else value

    @field_validator("schedule")
    @classmethod
    def _cron(cls, value: str) -> str:
        from dagster._utils.schedules import is_valid_cron_string

        if not is_valid_cron_string(value):
            raise ValueError(f"not a cron expression: {value!r}")
        return value


class _TextDatesLoader(yaml.SafeLoader):
    """YAML without its own date conversion: a date stays text for pydantic to read, so an
    impossible one (2026-13-01) is refused with the field's name instead of a YAML crash."""


_TextDatesLoader.yaml_implicit_resolvers = {
    first: [(tag, rx) for tag, rx in resolvers if tag != "tag:yaml.org,2002:timestamp"]
    for first, resolvers in yaml.SafeLoader.yaml_implicit_resolvers.items()
}


def tenants_dir() -> Path:
    configured = os.environ.get(TENANTS_DIR_VARIABLE)
    return Path(configured) if configured else paths().home / "tenants"


def tenant_file(tenant_id: str, folder: Path | None = None) -> Path:
    return (folder or tenants_dir()) / f"{validate_tenant_id(tenant_id)}.yaml"


def configured_tenants(folder: Path | None = None) -> list[str]:
    """Tenants with a settings file (``<tenant>.yaml``), sorted."""
    root = folder or tenants_dir()
    if not root.is_dir():
        return []
    return sorted(p.stem for p in root.glob("*.yaml") if not p.name.startswith("."))


def load_tenant_connectors(
    tenant_id: str, folder: Path | None = None
) -> dict[str, ConnectorSettings]:
    """The validated settings of every connector in the tenant's file (empty without a file)."""
    from connectors.registry import CONNECTORS

    path = tenant_file(tenant_id, folder)
    if not path.exists():
        return {}
    try:
        document = yaml.load(path.read_text(encoding="utf-8"), Loader=_TextDatesLoader) or {}
    except yaml.YAMLError as exc:
        mark = getattr(exc, "problem_mark", None)
        where = f" line {mark.line + 1}" if mark is not None else ""
        raise SettingsError(f"{path}{where}: not valid YAML ({exc.__class__.__name__})") from None
    if not isinstance(document, dict):
        raise SettingsError(f"{path}: expected a mapping with a 'connectors' key")
    # `serving:` (reports, exports, alerts) is read by serving/settings.py.
    unknown = sorted(set(document) - {"connectors", "tenant", "serving"})
    if unknown:
        raise SettingsError(
            f"{path}: {unknown[0]}: unknown key; expected 'connectors' or 'serving'"
        )
    if "tenant" in document and document["tenant"] != tenant_id:
        raise SettingsError(
            f"{path}: tenant: says {document['tenant']!r}, but the file is {tenant_id!r}'s"
        )
    connectors = document.get("connectors") or {}
    if not isinstance(connectors, dict):
        raise SettingsError(f"{path}: connectors: expected a mapping of platform to settings")
    settings: dict[str, ConnectorSettings] = {}
    for platform, raw in connectors.items():
        if platform not in CONNECTORS:
            raise SettingsError(
                f"{path}: connectors.{platform}: unknown connector; known: "
                + ", ".join(sorted(CONNECTORS))
            )
        settings[platform] = parse_settings(
            CONNECTORS[platform].settings_model, raw, path, platform
        )
    return settings


def parse_settings(
    model: type[ConnectorSettings], raw: Any, path: Path | str, platform: str
) -> ConnectorSettings:
    try:
        return model.model_validate(raw or {})
    except ValidationError as exc:
        first = exc.errors()[0]
        location = ".".join(str(part) for part in first["loc"])
        field = f"connectors.{platform}" + (f".{location}" if location else "")
        message = first["msg"]
        if first["type"] == "extra_forbidden":
            known = ", ".join(sorted(model.model_fields))
            message = f"unknown setting; known: {known}"
        more = len(exc.errors()) - 1
        extra = f" (and {more} more problem{'s' if more > 1 else ''})" if more else ""
        raise SettingsError(f"{path}: {field}: {message}{extra}") from None
