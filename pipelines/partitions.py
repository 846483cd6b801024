"""Partition definitions shared by every stage."""

from __future__ import annotations

import dagster as dg

# Tenants are added when a tenant first lands data (or by `earshot tenant`); every asset from
# landing to marts is partitioned by tenant, so a run for one tenant touches only its rows.
tenant_partitions = dg.DynamicPartitionsDefinition(name="tenants")
