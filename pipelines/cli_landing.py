"""What every `earshot ingest ...` command does before landing: the tenant's zone, with quotas."""

from __future__ import annotations

import sys
from typing import Any

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


def finish_import(tenant_id: str, report: Any, zone: LandingZone, unit: str) -> int:
    """Print an import's report and what to do next; the command's exit status.

    ``report`` is a files or logs ImportReport (``format()``, ``ok``, ``refused_by_quota``);
    ``unit`` names what was read ("rows", "lines").
    """
    print(report.format())
    if not report.ok:
        print(
            f"\nSome {unit} or files were not landed (see above); everything else landed, and "
            "nothing landed before was changed.",
            file=sys.stderr,
        )
        if report.refused_by_quota:
            print(
                f"{len(report.refused_by_quota)} file(s) refused by quota: they land when "
                f"imported again after the quota is raised (earshot tenant usage --tenant "
                f"{tenant_id} shows the usage).",
                file=sys.stderr,
            )
        return 1
    print(
        f"\nLanded under {zone.storage.describe(tenant_id)}. Next: earshot run --tenant {tenant_id}"
    )
    return 0
