"""What every `earshot ingest ...` command does before landing: the tenant's zone, with quotas."""

from __future__ import annotations

import sys

from warehouse.landing import LandingZone


def quota_checked_zone(tenant_id: str) -> LandingZone | None:
    """The deployment's landing zone guarded by the tenant's quotas; None (after saying why on
    stderr) when the quotas cannot be read, so nothing lands unchecked."""
    from warehouse.landing import configured_zone
    from warehouse.quotas import UNLIMITED, enforce_quotas, read_limits

    try:
        # A short read-only connection, closed before landing starts (DuckDB: one writer).
        limits = read_limits(tenant_id) or UNLIMITED
    except Exception as exc:  # the warehouse is busy or unreachable
        print(
            f"error: cannot read the quotas of tenant {tenant_id} from the warehouse "
            f"({type(exc).__name__}: {exc}); nothing was landed. Try again when no other "
            "earshot process is writing the warehouse.",
            file=sys.stderr,
        )
        return None
    return enforce_quotas(configured_zone(), limits)
