"""Ground truth: what really happened in the simulated world, for checking what the pipeline infers.

Written to ``<out>/_truth/`` (the file importer ignores it):

- ``campaign_effects.csv``: per campaign, who was exposed and what the campaign really caused.
- ``orders.csv``: every exported order with its household and the campaign that caused it.
- ``households.csv``: every household with its network identity, class and devices.
- ``exposures.csv``: every exposed (household, campaign) with the first exposure.
- ``episodes.csv``: ID3 header size and IAB threshold of each episode (not in the export).
- ``transcript_reads.csv``, ``transcript_topics.csv``: where each placement's read was said and
  its fault, and each episode's topics and tone (connectors/simulator/transcripts.py).
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pa_csv

from connectors.simulator import text
from connectors.simulator.addresses import (
    IP_CLASSES,
    format_ipv4,
    format_prefix64,
)
from connectors.simulator.catalog import Catalog
from connectors.simulator.commerce import Commerce
from connectors.simulator.config import WorldConfig
from connectors.simulator.export import csv_ready
from connectors.simulator.exposures import FirstExposures
from connectors.simulator.network import Households
from connectors.simulator.seeding import mix64
from connectors.simulator.user_agents import PLATFORMS

TRUTH_DIR = "_truth"


def _ts(ms: np.ndarray) -> pa.Array:
    return pa.array(np.asarray(ms, dtype=np.int64) * 1000, type=pa.timestamp("us"))


def campaign_effects(
    config: WorldConfig,
    catalog: Catalog,
    households: Households,
    exposures: FirstExposures,
    commerce: Commerce,
    deliveries: np.ndarray,
) -> pa.Table:
    """Per campaign: exposure, the true caused response, and the counterfactual baseline.

    The baseline of a campaign is what its exposed households would have bought anyway between
    their first exposure and the end of the period: expected (from each household's propensity,
    pro rata of the remaining period) and observed (their orders not caused by any campaign).
    ``true_lift`` = true incremental orders / expected baseline orders.
    """
    n_camp = len(catalog.campaign_id)
    start_ms = int(config.period_start.timestamp() * 1000)
    end_ms = int(config.period_end.timestamp() * 1000)
    period_ms = end_ms - start_ms
    c = exposures.campaign
    h = exposures.household
    remaining = (end_ms - exposures.first_ts) / period_ms
    expected = np.bincount(
        c, weights=households.propensity[h].astype(np.float64) * remaining, minlength=n_camp
    )

    # Baseline orders of each exposed household at or after its first exposure.
    baseline = commerce.order_campaign < 0
    span = np.int64(period_ms + 1)
    keys = np.sort(
        commerce.order_household[baseline] * span + (commerce.order_ts[baseline] - start_ms)
    )
    low = np.searchsorted(keys, h * span + (exposures.first_ts - start_ms), side="left")
    high = np.searchsorted(keys, h * span + (span - 1), side="right")
    observed = np.bincount(c, weights=(high - low).astype(np.float64), minlength=n_camp)

    exposed = np.bincount(c, minlength=n_camp)
    exposed_home = np.bincount(c[exposures.household_ip], minlength=n_camp)
    frequency = np.bincount(c, weights=exposures.frequency.astype(np.float64), minlength=n_camp)
    caused = commerce.caused
    with np.errstate(divide="ignore", invalid="ignore"):
        baseline_rate = np.where(exposed > 0, expected / np.maximum(exposed, 1), np.nan)
        incremental_rate = np.where(exposed > 0, caused.orders / np.maximum(exposed, 1), np.nan)
        lift = np.where(expected > 0, caused.orders / expected, np.nan)
        mean_frequency = np.where(exposed > 0, frequency / np.maximum(exposed, 1), np.nan)
    placements = np.bincount(catalog.placement_campaign, minlength=n_camp)
    return pa.table(
        {
            "campaign_id": pa.array(catalog.campaign_id),
            "advertiser": pa.array(catalog.advertiser),
            "start_date": pa.array(catalog.start_date, pa.date32()),
            "end_date": pa.array(catalog.end_date, pa.date32()),
            "placements": pa.array(placements, pa.int64()),
            "ad_deliveries": pa.array(deliveries, pa.int64()),
            "exposed_households": pa.array(exposed, pa.int64()),
            "exposed_households_household_ip": pa.array(exposed_home, pa.int64()),
            "mean_frequency": pa.array(mean_frequency, pa.float64()),
            "incremental_purchase_probability": pa.array(catalog.incremental_rate),
            "visit_probability": pa.array(catalog.visit_rate),
            "true_incremental_visits": pa.array(caused.visits, pa.int64()),
            "true_incremental_orders": pa.array(caused.orders, pa.int64()),
            "true_incremental_revenue": pa.array(np.round(caused.revenue, 2)),
            "incremental_orders_after_period": pa.array(caused.orders_after_period, pa.int64()),
            "baseline_orders_expected": pa.array(np.round(expected, 3)),
            "baseline_orders_observed": pa.array(observed.astype(np.int64), pa.int64()),
            "baseline_rate": pa.array(baseline_rate, pa.float64()),
            "incremental_rate": pa.array(incremental_rate, pa.float64()),
            "true_lift": pa.array(lift, pa.float64()),
        }
    )


def orders_truth(catalog: Catalog, commerce: Commerce) -> pa.Table:
    campaign = commerce.order_campaign
    return pa.table(
        {
            "order_id": commerce.orders["order_id"],
            "household_key": pa.array(commerce.order_household, pa.int64()),
            "caused_by_campaign_id": text.choose(catalog.campaign_id, campaign),
            "ts": _ts(commerce.order_ts),
            "revenue": pa.array(commerce.order_revenue, pa.float64()),
            "ip_class": text.choose(list(IP_CLASSES), commerce.order_ip_class.astype(np.int64)),
        }
    )


def households_truth(households: Households, rows: slice | None = None) -> pa.Table:
    """Households (all, or a slice of them, to bound memory on large worlds)."""
    hh = households
    index = np.arange(hh.count)[rows or slice(None)]
    platforms = hh.device_platform[index]
    names = [text.choose(list(PLATFORMS), platforms[:, k].astype(np.int64)) for k in range(4)]
    devices = pc.binary_join_element_wise(*names, pa.scalar(";"), null_handling="skip")
    prefix = text.null_where(format_prefix64(hh.v6_prefix[index]), ~hh.has_v6[index])
    customer = text.hex_id("cus_", mix64(index.astype(np.uint64) ^ hh.salt), 12)
    return pa.table(
        {
            "household_key": pa.array(index, pa.int64()),
            "ip": format_ipv4(hh.home_v4[index]),
            "ipv6_prefix": prefix,
            "ip_class": text.choose(list(IP_CLASSES), hh.ip_class[index].astype(np.int64)),
            "devices": pa.array(hh.n_devices[index].astype(np.int64)),
            "device_platforms": devices,
            "has_apple_watch": pa.array(hh.watch_ua[index] >= 0),
            "listener": pa.array(hh.listener[index]),
            "baseline_orders_expected": pa.array(
                np.round(hh.propensity[index].astype(np.float64), 5)
            ),
            "customer_id": customer,
        }
    )


def household_blocks(households: Households, block: int = 500_000) -> Iterator[pa.Table]:
    for first in range(0, max(households.count, 1), block):
        yield households_truth(households, slice(first, first + block))


def exposures_truth(catalog: Catalog, exposures: FirstExposures) -> pa.Table:
    return pa.table(
        {
            "household_key": pa.array(exposures.household, pa.int64()),
            "campaign_id": text.choose(catalog.campaign_id, exposures.campaign),
            "first_placement_id": text.choose(catalog.placement_id, exposures.placement),
            "first_exposed_at": _ts(exposures.first_ts),
            "ad_deliveries": pa.array(exposures.frequency, pa.int64()),
            "seen_from_household_ip": pa.array(exposures.household_ip),
        }
    )


def episodes_truth(catalog: Catalog) -> pa.Table:
    return pa.table(
        {
            "episode_id": catalog.episode_id,
            "id3_bytes": pa.array(catalog.id3_bytes, pa.int64()),
            "audio_bytes": pa.array(catalog.file_bytes - catalog.id3_bytes, pa.int64()),
            "iab_threshold_bytes": pa.array(catalog.valid_download_bytes(), pa.int64()),
        }
    )


def write_truth(out_dir: Path, tables: dict[str, pa.Table | Iterable[pa.Table]]) -> list[Path]:
    """One CSV per truth table; a table may come as blocks (written one after another)."""
    folder = out_dir / TRUTH_DIR
    folder.mkdir(parents=True, exist_ok=True)
    paths = []
    for name, content in tables.items():
        path = folder / f"{name}.csv"
        blocks = [content] if isinstance(content, pa.Table) else content
        writer = None
        for block in blocks:
            ready = csv_ready(block)
            if writer is None:
                writer = pa_csv.CSVWriter(path, ready.schema)
            writer.write_table(ready)
        if writer is None:
            raise ValueError(f"{path}: no rows and no schema to write")
        writer.close()
        paths.append(path)
    return paths
