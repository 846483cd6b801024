"""Addresses: households outside the reference ranges, everyone else inside the right one."""

from __future__ import annotations

import ipaddress

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from connectors.simulator.addresses import Addresses, format_ipv6
from connectors.simulator.simulation import SimulationSummary, build_world

from .conftest import classify, seed_ranges, tiny_config


def test_household_addresses_lie_outside_the_reference_ranges(
    parquet_world: SimulationSummary,
) -> None:
    ranges = seed_ranges()
    households = pd.read_csv(parquet_world.out_dir / "_truth" / "households.csv")
    home = households[households["ip_class"] == "household"]
    assert len(home) > 0.8 * len(households)
    assert all(classify(ip, ranges) is None for ip in home["ip"])
    prefixes = home["ipv6_prefix"].dropna()
    assert len(prefixes) > 0
    assert all(classify(p, ranges) is None for p in prefixes)
    assert all(ipaddress.ip_network(p).prefixlen == 64 for p in prefixes)
    # Mobile-only and shared-building households sit in ranges of their own class.
    other = households[households["ip_class"] != "household"]
    assert len(other) > 0
    assert all(
        classify(ip, ranges) == cls for ip, cls in zip(other["ip"], other["ip_class"], strict=True)
    )


def test_pool_addresses_fall_inside_ranges_of_their_class() -> None:
    ranges = seed_ranges()
    pools = build_world(tiny_config()).listening.pools
    for cls, pool in (
        ("cellular", pools.cellular),
        ("relay", pools.relay),
        ("commercial", pools.office),
        ("data_centre", pools.bots),
    ):
        texts = pool.text().to_pylist()
        assert texts, cls
        assert all(classify(ip, ranges) == cls for ip in texts), cls
    assert (pools.cellular.version == 6).any() and (pools.cellular.version == 4).any()


def test_request_addresses_are_valid_and_classified(parquet_world: SimulationSummary) -> None:
    ranges = seed_ranges()
    households = pd.read_csv(parquet_world.out_dir / "_truth" / "households.csv")
    home_v4 = set(households["ip"])
    home_v6 = {ipaddress.ip_network(p) for p in households["ipv6_prefix"].dropna()}
    requests = pa.concat_tables(
        pq.read_table(p) for p in parquet_world.files["download_requests"]
    ).to_pandas()
    classes = {}
    for ip in requests["ip"].unique():
        address = ipaddress.ip_address(ip)
        assert str(address) == ip  # canonical text: RFC 5952 for IPv6
        cls = classify(ip, ranges)
        if cls is None:  # outside the ranges: must be some household's home network
            network = (
                ipaddress.ip_network(f"{ip}/64", strict=False) if address.version == 6 else None
            )
            assert ip in home_v4 or network in home_v6, ip
        classes[ip] = cls
    seen = set(classes.values())
    assert {None, "cellular", "data_centre"} <= seen
    assert any(":" in ip for ip in classes)
    assert any("::" in ip for ip in classes)
    bots = requests[requests["user_agent"].str.contains("Googlebot|AhrefsBot|python-requests|curl")]
    assert len(bots) > 0
    assert all(classes[ip] == "data_centre" for ip in bots["ip"])


def test_ipv6_text_is_rfc5952() -> None:
    rng = np.random.default_rng(3)
    groups = rng.integers(0, 65536, size=(5000, 8)).astype(np.uint64)
    groups[rng.random((5000, 8)) < 0.4] = 0
    hi = np.zeros(5000, np.uint64)
    lo = np.zeros(5000, np.uint64)
    for g in range(4):
        hi |= groups[:, g] << np.uint64(48 - 16 * g)
        lo |= groups[:, g + 4] << np.uint64(48 - 16 * g)
    texts = format_ipv6(hi, lo).to_pylist()
    expected = [
        str(ipaddress.IPv6Address((int(h) << 64) | int(low))) for h, low in zip(hi, lo, strict=True)
    ]
    assert texts == expected
    assert (
        Addresses(np.array([4], np.int8), np.zeros(1, np.uint64), np.array([1], np.uint64))
        .text()[0]
        .as_py()
        == "0.0.0.1"
    )
