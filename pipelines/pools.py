"""Dagster concurrency pools shared by the stages.

Everything that opens the warehouse shares the pool `warehouse` (limit 1 in dagster.yaml):
DuckDB allows one writing process at a time and refuses even a read-only open while another
process writes. Landing is in it too, because it reads the tenant's quotas from the warehouse.
"""

WAREHOUSE_POOL = "warehouse"
