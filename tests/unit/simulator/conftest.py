"""Tiny simulated worlds, built once per test session (each takes well under a second)."""

from __future__ import annotations

import csv
import ipaddress
from dataclasses import dataclass
from datetime import date
from pathlib import Path

import pytest

from connectors.simulator import WorldConfig, simulate, tiny
from connectors.simulator.simulation import SimulationSummary

SEED_RANGES = Path(__file__).resolve().parents[3] / "dbt_project/seeds/ip_class_ranges.csv"
START, END = date(2024, 3, 1), date(2024, 5, 29)


def tiny_config(seed: int = 7, tenant_id: str = "acme") -> WorldConfig:
    return tiny(seed=seed, tenant_id=tenant_id, start_date=START, end_date=END)


@pytest.fixture(scope="session")
def config() -> WorldConfig:
    return tiny_config()


@pytest.fixture(scope="session")
def parquet_world(tmp_path_factory: pytest.TempPathFactory, config: WorldConfig):
    out = tmp_path_factory.mktemp("world_parquet")
    return simulate(config, out, "parquet")


@pytest.fixture(scope="session")
def csv_world(tmp_path_factory: pytest.TempPathFactory, config: WorldConfig):
    out = tmp_path_factory.mktemp("world_csv")
    return simulate(config, out, "csv")


@dataclass(frozen=True)
class Range:
    network: str
    ip_class: str
    first: int
    last: int


def seed_ranges() -> list[Range]:
    """The reference ranges, read independently of the simulator: IPv4 by address, IPv6 by
    /64 prefix (the first four groups)."""
    out = []
    with SEED_RANGES.open(newline="") as handle:
        for row in csv.DictReader(handle):
            if row["ip_version"] == "4":
                first = int(ipaddress.IPv4Address(row["first_address"]))
                last = int(ipaddress.IPv4Address(row["last_address"]))
                out.append(Range("v4", row["ip_class"], first, last))
            else:
                first = int(ipaddress.IPv6Address(row["first_address"] + "::")) >> 64
                last = int(ipaddress.IPv6Address(row["last_address"] + "::")) >> 64
                out.append(Range("v6", row["ip_class"], first, last))
    return out


def classify(ip: str, ranges: list[Range]) -> str | None:
    """The reference class of an address, or None when no range covers it."""
    address = ipaddress.ip_address(ip.split("/")[0])
    if address.version == 4:
        key, network = int(address), "v4"
    else:
        key, network = int(address) >> 64, "v6"
    for r in ranges:
        if r.network == network and r.first <= key <= r.last:
            return r.ip_class
    return None


def files_of(summary: SimulationSummary, entity: str) -> list[Path]:
    return summary.files[entity]
