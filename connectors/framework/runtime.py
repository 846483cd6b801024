"""Build a tenant's connectors from its settings file and its credentials."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from connectors.framework.connector import Connector
from connectors.framework.errors import CredentialsError, SettingsError
from connectors.framework.settings import ConnectorSettings, load_tenant_connectors
from warehouse.secrets import InvalidSecret, SecretNotFound, tenant_credential


def credentials_for(
    tenant_id: str, connector: type[Connector], settings: ConnectorSettings
) -> dict[str, str]:
    """Every credential the connector needs, from the environment or the secrets manager."""
    values = {}
    for role in connector.credential_roles(settings):
        name = connector.secret_name(role, settings)
        try:
            values[role] = tenant_credential(tenant_id, name)
        except (SecretNotFound, InvalidSecret) as exc:
            raise CredentialsError(f"{connector.platform}: {exc}") from None
    return values


def build_connector(
    tenant_id: str,
    platform: str,
    folder: Path | None = None,
    today: date | None = None,
) -> Connector:
    """The tenant's connector for ``platform``, with settings and credentials loaded."""
    from connectors.registry import CONNECTORS

    settings = load_tenant_connectors(tenant_id, folder)
    if platform not in settings:
        known = ", ".join(sorted(settings)) or "none"
        raise SettingsError(
            f"tenant {tenant_id} has no {platform} connector configured (configured: {known})"
        )
    if not settings[platform].enabled:
        raise SettingsError(f"tenant {tenant_id}: connectors.{platform}.enabled is false")
    cls = CONNECTORS[platform]
    return cls(
        tenant_id, settings[platform], credentials_for(tenant_id, cls, settings[platform]), today
    )
