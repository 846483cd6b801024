"""Every API connector by platform name (the name used in tenants/<tenant>.yaml and landing)."""

from __future__ import annotations

from connectors.framework.connector import Connector

CONNECTORS: dict[str, type[Connector]] = {}


def _register() -> None:
    # Imported here, not at module level: the settings loader imports this module, and each
    # connector imports the framework.
    from connectors.commerce import COMMERCE_CONNECTORS
    from connectors.hosting import HOSTING_CONNECTORS
    from connectors.marketing import MARKETING_CONNECTORS

    for cls in [*HOSTING_CONNECTORS, *COMMERCE_CONNECTORS, *MARKETING_CONNECTORS]:
        CONNECTORS[cls.platform] = cls


_register()
