"""Running a whole world: build it, stream the listening day by day, then the shop, then truth."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pyarrow as pa

from connectors.simulator import text
from connectors.simulator.addresses import load_ip_ranges
from connectors.simulator.catalog import (
    INSERTION_TYPES,
    POSITIONS,
    READ_TYPES,
    Catalog,
    build_catalog,
    price_placements,
)
from connectors.simulator.commerce import CommerceModel
from connectors.simulator.config import WorldConfig
from connectors.simulator.export import (
    FORMATS,
    EntityWriter,
    remove_previous_output,
    write_entity,
)
from connectors.simulator.exposures import ExposureLog
from connectors.simulator.host_reports import HostTally
from connectors.simulator.listening import ListeningModel, allocate
from connectors.simulator.network import build_households, build_pools
from connectors.simulator.seeding import generator
from connectors.simulator.transcripts import build_transcripts
from connectors.simulator.truth import (
    campaign_effects,
    episodes_truth,
    exposures_truth,
    household_blocks,
    orders_truth,
    write_truth,
)
from connectors.simulator.user_agents import build_user_agents


@dataclass
class World:
    """A built world, before any traffic: what exists and how much of it will be listened to."""

    config: WorldConfig
    catalog: Catalog
    listening: ListeningModel
    human_listens: int
    day_listens: np.ndarray  # human listens per day
    day_bot_listens: np.ndarray


def build_world(config: WorldConfig) -> World:
    ranges = load_ip_ranges(config.ip_ranges_path)
    uas = build_user_agents()
    catalog = build_catalog(config)
    pools = build_pools(config, ranges, uas)
    households = build_households(config, ranges, uas, pools, catalog.show_popularity)
    if households.listener_index.size == 0:
        raise ValueError(
            f"tenant {config.tenant_id}: no household listens (listener_share="
            f"{config.listener_share}, households={config.households}); nothing to download"
        )
    model = ListeningModel(config, catalog, households, pools, uas)
    human = max(1, round(config.target_requests / model.requests_per_human_listen()))
    day_listens = allocate(human, model.day_shares())
    day_bots = np.rint(day_listens * config.bot_share).astype(np.int64)
    price_placements(
        catalog,
        model.expected_episode_listens(human),
        generator(config.seed, config.tenant_id, "pricing"),
    )
    return World(config, catalog, model, human, day_listens, day_bots)


def catalog_tables(catalog: Catalog) -> dict[str, pa.Table]:
    """The catalogue entities (with every column the simulator knows; export keeps the
    contract's columns)."""
    show = catalog.episode_show.astype(np.int64)
    episodes = pa.table(
        {
            "episode_id": catalog.episode_id,
            "show_id": text.choose(catalog.show_id, show),
            "show_name": text.choose(catalog.show_name, show),
            "title": catalog.episode_title,
            "published_at": pa.array(catalog.published_ms * 1000, pa.timestamp("us")),
            "duration_s": pa.array(catalog.duration_s.astype(np.float64)),
            "file_bytes": pa.array(catalog.file_bytes, pa.int64()),
            "bitrate_kbps": pa.array(catalog.bitrate_kbps.astype(np.float64)),
            "id3_bytes": pa.array(catalog.id3_bytes, pa.int64()),
        }
    )
    campaigns = pa.table(
        {
            "campaign_id": pa.array(catalog.campaign_id),
            "advertiser": pa.array(catalog.advertiser),
            "name": pa.array(catalog.campaign_name),
            "start_date": pa.array(catalog.start_date, pa.date32()),
            "end_date": pa.array(catalog.end_date, pa.date32()),
            "budget": pa.array(catalog.budget, pa.float64()),
            "currency": pa.array([catalog.currency] * len(catalog.campaign_id)),
        }
    )
    placements = pa.table(
        {
            "placement_id": pa.array(catalog.placement_id, pa.string()),
            "campaign_id": text.choose(catalog.campaign_id, catalog.placement_campaign),
            "episode_id": catalog.episode_id.take(pa.array(catalog.placement_episode)),
            "position": text.choose(list(POSITIONS), catalog.placement_position),
            "read_type": text.choose(list(READ_TYPES), catalog.placement_read_type),
            "insertion_type": text.choose(list(INSERTION_TYPES), catalog.placement_insertion),
            "ad_start_s": pa.array(catalog.ad_start_s, pa.float64()),
            "ad_end_s": pa.array(catalog.ad_end_s, pa.float64()),
            "cost": pa.array(catalog.cost, pa.float64()),
            "promo_code": pa.array(catalog.promo_code, pa.string()),
            "vanity_url": pa.array(catalog.vanity_url, pa.string()),
        }
    )
    return {"episodes": episodes, "campaigns": campaigns, "placements": placements}


@dataclass
class SimulationSummary:
    out_dir: Path
    tenant_id: str
    seed: int
    file_format: str
    row_counts: dict[str, int] = field(default_factory=dict)
    files: dict[str, list[Path]] = field(default_factory=dict)
    truth_files: list[Path] = field(default_factory=list)
    households: int = 0
    listens: int = 0
    human_listens: int = 0
    exposed_pairs: int = 0
    caused_orders: int = 0
    seconds: dict[str, float] = field(default_factory=dict)

    def rows(self, entity: str) -> int:
        """Rows written of one entity."""
        if entity not in self.row_counts:
            raise KeyError(f"{entity!r} is not an exported entity ({', '.join(self.row_counts)})")
        return self.row_counts[entity]

    def describe(self) -> str:
        lines = [
            f"tenant {self.tenant_id}, seed {self.seed}, {self.file_format} in {self.out_dir}",
            f"households {self.households:,}; listens {self.listens:,} "
            f"({self.human_listens:,} by people); exposed household x campaign pairs "
            f"{self.exposed_pairs:,}; caused orders {self.caused_orders:,}",
        ]
        for entity, count in self.row_counts.items():
            lines.append(f"  {entity:<18} {count:>13,} rows in {len(self.files[entity])} file(s)")
        lines.append("seconds: " + ", ".join(f"{k} {v:.1f}" for k, v in self.seconds.items()))
        return "\n".join(lines)


def simulate(config: WorldConfig, out_dir: Path, file_format: str = "parquet") -> SimulationSummary:
    """Write a simulated world's export files to ``out_dir`` and its ground truth to
    ``out_dir/_truth``. The same config always writes the same files."""
    if file_format not in FORMATS:
        raise ValueError(f"unknown format {file_format!r}; expected one of {', '.join(FORMATS)}")
    started = time.perf_counter()
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    remove_previous_output(out_dir)
    summary = SimulationSummary(out_dir, config.tenant_id, config.seed, file_format)

    def record(entity: str, paths: list[Path], rows: int) -> None:
        summary.files[entity] = paths
        summary.row_counts[entity] = rows

    world = build_world(config)
    catalog = world.catalog
    for entity, table in catalog_tables(catalog).items():
        record(entity, write_entity(out_dir, entity, table, file_format, config.part_rows),
               table.num_rows)  # fmt: skip
    # What was said in each episode, sponsor reads included (its own random streams).
    transcripts = build_transcripts(config, catalog)
    record(
        "transcripts",
        write_entity(out_dir, "transcripts", transcripts.segments, file_format, config.part_rows),
        transcripts.segments.num_rows,
    )
    summary.seconds["world"] = time.perf_counter() - started

    # Listening, a day at a time: memory holds one day of requests plus the exposure log.
    mark = time.perf_counter()
    writer = EntityWriter(out_dir, "download_requests", file_format, config.part_rows)
    log = ExposureLog(len(catalog.campaign_id))
    deliveries = np.zeros(len(catalog.campaign_id), dtype=np.int64)
    host = HostTally(catalog, config.start_date)
    listen_base = 0
    for day in range(config.days):
        traffic = world.listening.day(
            day, int(world.day_listens[day]), int(world.day_bot_listens[day]), listen_base
        )
        # The host's own count of the day, from the traffic while it is in memory.
        host.add(day, traffic, listen_base)
        listen_base += traffic.listens
        summary.human_listens += traffic.human_listens
        writer.write(traffic.requests)
        log.add(
            traffic.exposure_household,
            traffic.exposure_campaign,
            traffic.exposure_placement,
            traffic.exposure_ts,
            traffic.exposure_household_ip,
        )
        deliveries += traffic.deliveries_by_campaign
    record("download_requests", writer.close(), writer.rows)
    summary.listens = listen_base
    exposures = log.first()
    summary.exposed_pairs = len(exposures)
    summary.seconds["listening"] = time.perf_counter() - mark

    # What the hosting platform reports per episode and day, with its seeded disagreement.
    host_report, host_truth = host.report(config.seed, config.tenant_id)
    record(
        "host_downloads_daily",
        write_entity(out_dir, "host_downloads_daily", host_report, file_format, config.part_rows),
        host_report.num_rows,
    )

    mark = time.perf_counter()
    households = world.listening.households
    shop = CommerceModel(
        config, catalog, households, world.listening.pools, world.listening.uas.text
    )
    commerce = shop.run(exposures)
    record(
        "orders",
        write_entity(out_dir, "orders", commerce.orders, file_format, config.part_rows),
        commerce.orders.num_rows,
    )
    writer = EntityWriter(out_dir, "site_events", file_format, config.part_rows)
    for block in shop.site_event_blocks(commerce.sessions):
        writer.write(block)
    record("site_events", writer.close(), writer.rows)
    summary.caused_orders = int(commerce.caused.orders.sum())
    summary.households = households.count
    summary.seconds["commerce"] = time.perf_counter() - mark

    mark = time.perf_counter()
    summary.truth_files = write_truth(
        out_dir,
        {
            "campaign_effects": campaign_effects(
                config, catalog, households, exposures, commerce, deliveries
            ),
            "orders": orders_truth(catalog, commerce),
            "households": household_blocks(households),
            "exposures": exposures_truth(catalog, exposures),
            "episodes": episodes_truth(catalog),
            "host_downloads": host_truth,
            "transcript_reads": transcripts.reads,
            "transcript_topics": transcripts.topics,
        },
    )
    summary.seconds["truth"] = time.perf_counter() - mark
    summary.seconds["total"] = time.perf_counter() - started
    return summary
