"""Data-subject access and erasure by IP address (warehouse/data_subjects.py, `earshot subject`).

Three layers: the address -> network twin of the SQL macros (against the staging unit tests'
cases and HMACs); the operations on a small hand-made world on both engines (landing files,
quarantine, raw tables, derived tables whose household_id the engine computes with md5); and a
simulated tenant taken through the real pipeline, erased through the CLI and the API.
"""

from __future__ import annotations

import json
import os
import subprocess
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import datetime
from pathlib import Path
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
import yaml

from tests.conftest import ROOT, run_earshot
from warehouse import audit
from warehouse.connection import DuckDBWarehouse, Warehouse
from warehouse.data_subjects import (
    ACCESS_ACTION,
    ERASE_ACTION,
    ErasureFilter,
    MalformedAddress,
    erase_subject,
    erased_networks,
    erasures_key,
    household_id,
    network_of,
    network_or_none,
    subject_report,
)
from warehouse.entities import ENTITIES
from warehouse.landing import PARQUET_COMPRESSION, LandingZone
from warehouse.pseudonymisation import pseudonymise
from warehouse.raw_loader import load_entity, load_quarantine
from warehouse.tenants import tenant_tables

UNIT_TEST_YML = ROOT / "dbt_project/models/staging/stg_files__download_requests.yml"
UNIT_TEST_KEY = b"earshot-unit-tests-key: not a secret"
KEY = b"data subject tests: a key of 32b"

# address -> network, the cases of the staging unit test (network in its comments).
NETWORK_CASES = [
    ("2001:db8::1", "2001:0db8:0000:0000"),
    ("2001:0DB8:0000:0000:0000:0000:0000:0002", "2001:0db8:0000:0000"),
    ("2001:DB8::ABCD", "2001:0db8:0000:0000"),
    ("2001:db8::", "2001:0db8:0000:0000"),
    ("2001:db8:0:1::5", "2001:0db8:0000:0001"),
    ("2001:0db8:0000:0001:ffff:ffff:ffff:ffff", "2001:0db8:0000:0001"),
    ("::1", "0000:0000:0000:0000"),
    ("2001:db8::5:6:7:8:9", "2001:0db8:0000:0005"),
    ("::1:2:3:4:5:6:7", "0000:0001:0002:0003"),
    ("2600:1f00:abcd:12:3:4:5:6", "2600:1f00:abcd:0012"),
    ("2600:1F00:ABCD:0012::", "2600:1f00:abcd:0012"),
    ("fe80::1%eth0", "fe80:0000:0000:0000"),
    ("64:ff9b::192.0.2.1", "0064:ff9b:0000:0000"),
    ("1::2:3:4:5:1.2.3.4", "0001:0000:0002:0003"),
    ("::ffff:192.0.2.1", "192.0.2.1"),
    (" 192.000.002.001 ", "192.0.2.1"),
    ("10.0.0.1", "10.0.0.1"),
]
MALFORMED = [
    "1::2::3",
    "2001:db8:1:2:3:4:5",
    "256.1.1.1",
    "1:2:3:4:5:6:7:8:9",
    "1:2:3:4::5:6:7:8",
    "12345::1",
    ":1:2:3:4:5:6:7",
    "",
    "not an address",
    "198.51.100.9\n",
]

# Who the audit log says acted, in this module's tests.
ACTOR = "dpo_tester"


# -- the network of an address -----------------------------------------------------------------


@pytest.mark.parametrize(("address", "network"), NETWORK_CASES)
def test_network_of_is_the_staging_network(address: str, network: str):
    assert network_of(address) == network


@pytest.mark.parametrize("address", MALFORMED)
def test_malformed_addresses_are_refused_without_echo(address: str):
    assert network_or_none(address) is None
    with pytest.raises(MalformedAddress) as caught:
        network_of(address)
    assert isinstance(caught.value, ValueError)
    assert "well-formed" in str(caught.value)
    if address.strip():
        assert address.strip() not in str(caught.value)


def test_network_keys_equal_the_staging_unit_tests_hmacs():
    """Every row of the staging unit tests: HMAC(network_of(ip)) is the key dbt expects."""
    document = yaml.safe_load(UNIT_TEST_YML.read_text())
    checked = 0
    for unit_test in document["unit_tests"]:
        expected = {
            row["episode_id"]: row["network_key"]
            for row in unit_test["expect"]["rows"]
            if "network_key" in row and "episode_id" in row
        }
        for given in unit_test["given"]:
            if "download_requests" not in given["input"]:
                continue
            for row in given["rows"]:
                if row.get("episode_id") not in expected:
                    continue
                network = network_or_none(row["ip"])
                got = None if network is None else pseudonymise(UNIT_TEST_KEY, network)
                assert got == expected[row["episode_id"]], row
                checked += 1
    assert checked >= 20


# -- a small hand-made world, both engines -----------------------------------------------------

TENANT = "ds_small"
OTHER = "ds_other"
# One IPv6 household in three notations, and its neighbours that must stay.
TARGET = "2001:db8:0:7::1"
SAME_NETWORK = ["2001:DB8:0:7::1", "2001:0db8:0000:0007:abcd:0:0:9", " 2001:db8:0:7::ff%wlan0 "]
NEIGHBOURS = ["2001:db8:0:8::1", "192.0.2.7", "2001:db8::7"]


def _requests(ips: list[str], day: str) -> pa.Table:
    n = len(ips)
    return pa.table(
        {
            "ts": pa.array([datetime.fromisoformat(f"{day}T10:{i:02d}:00") for i in range(n)]),
            "ip": pa.array(ips, pa.string()),
            "user_agent": ["AppleCoreMedia/1.0"] * n,
            "episode_id": [f"ep{i % 3}" for i in range(n)],
            "method": ["GET"] * n,
            "status": pa.array([200] * n, pa.int32()),
            "bytes_sent": pa.array([1000 + i for i in range(n)], pa.int64()),
            "range": pa.nulls(n, pa.string()),
            "seconds_downloaded": pa.nulls(n, pa.float64()),
        },
        schema=ENTITIES["download_requests"].schema,
    )


def _orders(ips: list[str]) -> pa.Table:
    n = len(ips)
    columns = {f.name: pa.nulls(n, f.type) for f in ENTITIES["orders"].schema}
    columns["order_id"] = pa.array([f"o{i}" for i in range(n)])
    columns["ts"] = pa.array([datetime(2026, 1, 3, 12, i) for i in range(n)])
    columns["ip"] = pa.array(ips, pa.string())
    columns["revenue"] = pa.array([10.0 * (i + 1) for i in range(n)])
    return pa.table(columns, schema=ENTITIES["orders"].schema)


def _quarantine(ips: list[str]) -> pa.Table:
    return pa.table(
        {
            "_source_file": ["download_requests.csv"] * len(ips),
            "_source_row": pa.array(range(1, len(ips) + 1), pa.int64()),
            "reason": ["column status: 'x' is not an integer"] * len(ips),
            "raw_record": [json.dumps({"ip": ip, "status": "x"}) for ip in ips],
        }
    )


def _land(zone: LandingZone, tenant: str) -> None:
    # Day 1 mixes the household with others; day 2 holds only the household (file deleted).
    zone.write_batch(
        tenant,
        "files",
        "download_requests",
        _requests([*SAME_NETWORK, *NEIGHBOURS, SAME_NETWORK[0]], "2026-01-01"),
        cursor="c1",
    )
    zone.write_batch(
        tenant, "files", "download_requests", _requests(SAME_NETWORK[:2], "2026-01-02"), cursor="c2"
    )
    zone.write_batch(tenant, "files", "orders", _orders([TARGET, NEIGHBOURS[1]]), cursor="c3")
    zone.write_quarantine(
        tenant, "files", "download_requests", _quarantine([SAME_NETWORK[2], NEIGHBOURS[0]])
    )


def _load_raw(wh: Warehouse, zone: LandingZone, tenant: str) -> None:
    for entity in ("download_requests", "orders"):
        load_entity(wh, tenant, entity, zone.storage, zone.files(tenant, "files", entity))
    load_quarantine(wh, tenant, zone.storage, zone.quarantine_files(tenant))


def _build_derived(wh: Warehouse, tenants: dict[str, bytes]) -> None:
    """A staging-like table with network_key and an intermediate one whose household_id the
    engine computes with md5, as dbt.hash does."""
    wh.execute("create schema if not exists staging")
    wh.execute("create schema if not exists intermediate")
    wh.execute(
        "create table staging.stg_requests (tenant_id text, request_no integer, network_key text)"
    )
    for tenant, key in tenants.items():
        ips = [
            r[0]
            for r in wh.fetch("select ip from raw.download_requests where _tenant_id = ?", [tenant])
        ]
        for i, ip in enumerate(ips):
            wh.execute(
                "insert into staging.stg_requests values (?, ?, ?)",
                [tenant, i, pseudonymise(key, network_of(ip))],
            )
    wh.execute(
        "create table intermediate.int_households as select distinct tenant_id, network_key,"
        " md5(cast(network_key as varchar)) as household_id from staging.stg_requests"
    )
    wh.execute(
        "create table intermediate.int_touch as select tenant_id, household_id, 1 as n"
        " from intermediate.int_households"
    )


def _counts(wh: Warehouse, tenant: str) -> dict[str, int]:
    tables = {
        "raw.download_requests": "_tenant_id",
        "raw.orders": "_tenant_id",
        "raw.quarantine": "_tenant_id",
        "staging.stg_requests": "tenant_id",
        "intermediate.int_households": "tenant_id",
        "intermediate.int_touch": "tenant_id",
    }
    return {
        t: int(wh.fetch(f"select count(*) from {t} where {c} = ?", [tenant])[0][0])
        for t, c in tables.items()
    }


def _landed_rows(zone: LandingZone, tenant: str) -> dict[str, int]:
    return {
        "download_requests": zone.read(tenant, "files", "download_requests").num_rows,
        "orders": zone.read(tenant, "files", "orders").num_rows,
        "quarantine": zone.read_quarantine(tenant).num_rows,
    }


def test_household_id_is_the_engines_md5(wh: Warehouse):
    network_key = pseudonymise(KEY, network_of(TARGET))
    engine = wh.fetch("select md5(cast(? as varchar))", [network_key])[0][0]
    assert engine == household_id(network_key)


def test_access_and_erasure_on_a_small_world(wh: Warehouse, tmp_path: Path):
    zone = LandingZone(tmp_path / "landing")
    other_key = b"the other tenant's own key 1234"
    for tenant in (TENANT, OTHER):
        _land(zone, tenant)
        _load_raw(wh, zone, tenant)
    _build_derived(wh, {TENANT: KEY, OTHER: other_key})
    tables_before = _counts(wh, TENANT)
    other_before = _counts(wh, OTHER)
    landed_before = _landed_rows(zone, TENANT)
    other_landed_before = _landed_rows(zone, OTHER)
    files_before = zone.files(TENANT, "files", "download_requests")
    assert len(files_before) == 2

    shown = subject_report(wh, zone, TENANT, TARGET, key=KEY)
    expected = {
        "landing/files/download_requests": 6,
        "landing/files/orders": 1,
        "landing/_quarantine": 1,
        "raw.download_requests": 6,
        "raw.orders": 1,
        "raw.quarantine": 1,
        "staging.stg_requests": 6,
        "intermediate.int_households": 1,
        "intermediate.int_touch": 1,
    }
    assert shown.counts == expected
    assert shown.files == 4
    assert shown.network_key == pseudonymise(KEY, "2001:0db8:0000:0007")
    assert not shown.on_erasure_list
    # Access changes nothing.
    assert _counts(wh, TENANT) == tables_before

    erased = erase_subject(wh, zone, TENANT, SAME_NETWORK[1], "ticket DSR-17", key=KEY)
    assert erased.counts == expected
    assert (erased.files_rewritten, erased.files_deleted) == (3, 1)
    assert erased.newly_listed

    # Every place lost exactly the household's rows; the other tenant lost nothing.
    after = _counts(wh, TENANT)
    assert after == {t: n - expected[t] for t, n in tables_before.items()}
    assert _counts(wh, OTHER) == other_before
    landed = _landed_rows(zone, TENANT)
    assert landed == {
        "download_requests": landed_before["download_requests"] - 6,
        "orders": landed_before["orders"] - 1,
        "quarantine": landed_before["quarantine"] - 1,
    }
    assert _landed_rows(zone, OTHER) == other_landed_before
    remaining = zone.read(TENANT, "files", "download_requests").column("ip").to_pylist()
    assert sorted(remaining) == sorted(NEIGHBOURS)
    assert zone.read_quarantine(TENANT).column("raw_record").to_pylist() == [
        json.dumps({"ip": NEIGHBOURS[0], "status": "x"})
    ]

    # The day that held only the household is gone; the other keeps its key and file format.
    files_after = zone.files(TENANT, "files", "download_requests")
    assert len(files_after) == 1 and files_after[0] in files_before
    metadata = pq.read_metadata(zone.root / files_after[0])
    assert metadata.row_group(0).column(0).compression.lower() == PARQUET_COMPRESSION
    assert (
        pq.read_schema(zone.root / files_after[0]).names
        == pq.read_schema(zone.root / zone.files(OTHER, "files", "download_requests")[0]).names
    )

    # Erasure list, and what the importer does with it.
    assert erased_networks(zone, TENANT) == {erased.network_key}
    assert erased_networks(zone, OTHER) == set()
    listed = ErasureFilter.load(zone, TENANT, key_of=lambda _: KEY)
    reimport = pa.array([*SAME_NETWORK, *NEIGHBOURS, None])
    assert listed.erased_mask(reimport).to_pylist() == [True] * 3 + [False] * 4
    records = _quarantine([SAME_NETWORK[0], NEIGHBOURS[0]]).column("raw_record")
    assert listed.record_erased_mask(records).to_pylist() == [True, False]
    rotated = ErasureFilter.load(zone, TENANT, key_of=lambda _: other_key)
    assert rotated.empty and rotated.stale_entries == 1
    assert ErasureFilter.load(zone, OTHER, key_of=lambda _: other_key).empty

    # Audited: network key and counts, never the address or the network in clear.
    entries = audit.entries(wh, TENANT)
    assert [e["action"] for e in entries] == [ACCESS_ACTION, ERASE_ACTION]
    assert entries[1]["details"]["network_key"] == erased.network_key
    assert entries[1]["details"]["reason"] == "ticket DSR-17"
    assert entries[1]["details"]["counts"] == expected
    assert entries[1]["actor"] == "dpo_tester"
    text = json.dumps(entries, default=str).lower()
    for clear in ["2001:db8", "2001:0db8", *[ip.strip().lower() for ip in SAME_NETWORK]]:
        assert clear not in text
    report_text = erased.format() + shown.format()
    assert "2001:" not in report_text and erased.network_key in report_text
    assert "/64" in report_text

    # Idempotent: nothing left to find, and it says so.
    again = erase_subject(wh, zone, TENANT, TARGET, "ticket DSR-17", key=KEY)
    assert again.found_nothing and again.counts == {} and not again.newly_listed
    assert "nothing held" in again.format()
    assert _counts(wh, TENANT) == after
    assert audit.entries(wh, TENANT)[-1]["details"]["counts"] == {}
    assert subject_report(wh, zone, TENANT, TARGET, key=KEY).on_erasure_list


def test_erasure_list_is_one_atomic_document(tmp_path: Path, wh: Warehouse):
    zone = LandingZone(tmp_path / "landing")
    for address in ("192.0.2.1", "192.000.2.1", "10.1.1.1"):
        erase_subject(wh, zone, TENANT, address, None, key=KEY)
    document = json.loads((zone.root / erasures_key(TENANT)).read_text())
    keys = [e["network_key"] for e in document["entries"]]
    assert keys == [pseudonymise(KEY, "192.0.2.1"), pseudonymise(KEY, "10.1.1.1")]
    assert not any(p.name.startswith(".tmp-") for p in (zone.root / TENANT).rglob("*"))
    # The list is not a landed entity.
    assert zone.entities(TENANT) == []


# -- a simulated tenant through the real pipeline and the CLI (DuckDB) ------------------------

PIPE = "ds_pipe"
PIPE_OTHER = "ds_pipe_other"
PIPE_KEY = "pipeline test key, long enough"
IP_ENTITY_NAMES = ("download_requests", "orders", "site_events")


def _ip_rows(out: Path) -> dict[str, list[str | None]]:
    rows: dict[str, list[str | None]] = {}
    for entity in ("download_requests", "orders", "site_events"):
        rows[entity] = []
        for path in sorted(out.glob(f"{entity}*.parquet")):
            rows[entity] += pq.read_table(path, columns=["ip"]).column("ip").to_pylist()
    return rows


def _pick_household(ips: dict[str, list[str | None]]) -> str:
    """An IPv6 network that both listened and bought, with the most requests."""
    requests: dict[str, int] = {}
    for ip in ips["download_requests"]:
        network = network_or_none(ip)
        if network and ":" in network:
            requests[network] = requests.get(network, 0) + 1
    buyers = {network_or_none(ip) for ip in ips["orders"]}
    candidates = [n for n in requests if n in buyers] or list(requests)
    return max(sorted(candidates), key=lambda n: requests[n])


@contextmanager
def _duckdb(home: Path) -> Iterator[DuckDBWarehouse]:
    wh = DuckDBWarehouse(home / "warehouse.duckdb")
    try:
        yield wh
    finally:
        wh.close()


def _subject_cli(env: dict[str, str], *args: str) -> subprocess.CompletedProcess[str]:
    """`earshot subject ...`."""
    return run_earshot(env, "subject", *args, check=False)


@pytest.fixture(scope="module")
def pipeline(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    from connectors.files import import_directory
    from connectors.simulator import WorldConfig, simulate

    base = tmp_path_factory.mktemp("subjects")
    home = base / "home"
    env = {
        **os.environ,
        "EARSHOT_HOME": str(home),
        "EARSHOT_WAREHOUSE": "duckdb",
        "DAGSTER_HOME": str(home / "dagster"),
        "EARSHOT_SECRETS_BACKEND": "env",
        f"EARSHOT_SECRET_PSEUDONYM_KEY__{PIPE.upper()}": PIPE_KEY,
        "EARSHOT_ACTOR": "dpo_cli",
    }
    for name in ("EARSHOT_DUCKDB_PATH", "EARSHOT_LANDING", "EARSHOT_LANDING_DIR"):
        env.pop(name, None)
    out = base / "export"
    simulate(WorldConfig.tiny(tenant_id=PIPE, seed=11), out)
    network = _pick_household(_ip_rows(out))
    # The household in other notations: upper case, and a refused row that quarantines it.
    typed = network.upper() + "::AB"
    extra = base / "extra"
    extra.mkdir()
    episode = pq.read_table(out / "episodes.parquet").column("episode_id")[0].as_py()
    first = pq.read_table(out / "download_requests-00001.parquet").column("ts")[0].as_py()
    ts = first.strftime("%Y-%m-%dT%H:%M:%SZ")
    (extra / "download_requests-99999.csv").write_text(
        "ts,ip,user_agent,episode_id,method,status,bytes_sent,range\n"
        f"{ts},{typed},AppleCoreMedia/1.0,{episode},GET,200,1000,\n"
        f'{ts}," {network}:0:0:0:1%eth0 ",AppleCoreMedia/1.0,{episode},GET,oops,1,\n'
    )
    run_earshot(env, "ingest", "files", "--tenant", PIPE, str(out))
    quarantined = run_earshot(env, "ingest", "files", "--tenant", PIPE, str(extra), check=False)
    assert "1 landed" in quarantined.stdout and "1 quarantined" in quarantined.stdout
    run_earshot(env, "run", "--tenant", PIPE)
    # Another tenant with the same export, landed and loaded raw: the erasure must not touch it.
    zone = LandingZone(home / "landing")
    import_directory(PIPE_OTHER, out, zone)
    with _duckdb(home) as wh:
        for entity in ("download_requests", "orders", "site_events"):
            keys = zone.files(PIPE_OTHER, "files", entity)
            load_entity(wh, PIPE_OTHER, entity, zone.storage, keys)
    return {"env": env, "home": home, "export": out, "network": network, "typed": typed}


def _tables_with(wh: Warehouse, column: str) -> list[str]:
    # Tables only: a view (the request classification) holds no rows of its own; erasing them
    # from its tables erases them from the view.
    rows = wh.fetch(
        "select c.table_schema || '.' || c.table_name from information_schema.columns c"
        " join information_schema.tables t"
        " on t.table_schema = c.table_schema and t.table_name = c.table_name"
        " where c.column_name = ? and t.table_type = 'BASE TABLE'"
        " and c.table_schema in ('raw', 'staging', 'intermediate', 'marts')"
        " order by 1",
        [column],
    )
    return [r[0] for r in rows]


def _held(wh: Warehouse, zone: LandingZone, tenant: str, network: str) -> dict[str, int]:
    """Rows of ``network`` per place, counted independently of the module under test: landed
    files read whole, raw tables by every distinct ip, derived tables by the engine's md5."""
    counts: dict[str, int] = {}
    for entity in ("download_requests", "orders", "site_events"):
        ips = zone.read(tenant, "files", entity).column("ip").to_pylist()
        counts[f"landing/files/{entity}"] = sum(network_or_none(ip) == network for ip in ips)
    records = zone.read_quarantine(tenant).column("raw_record").to_pylist()
    counts["landing/_quarantine"] = sum(
        network_or_none(json.loads(r).get("ip")) == network for r in records
    )
    for table in _tables_with(wh, "ip"):
        rows = wh.fetch(
            f"select ip, count(*) from {table} where _tenant_id = ? group by ip", [tenant]
        )
        counts[table] = sum(n for ip, n in rows if network_or_none(ip) == network)
    records = wh.fetch("select raw_record from raw.quarantine where _tenant_id = ?", [tenant])
    counts["raw.quarantine"] = sum(
        network_or_none(json.loads(r).get("ip")) == network for (r,) in records
    )
    network_key = pseudonymise(PIPE_KEY.encode(), network)
    keyed = _tables_with(wh, "network_key")
    for table in sorted(set(keyed) | set(_tables_with(wh, "household_id"))):
        # household_id with the engine's own md5: the hash dbt.hash computes.
        conditions = []
        params = [tenant]
        if table in keyed:
            conditions.append("network_key = ?")
            params.append(network_key)
        if table in _tables_with(wh, "household_id"):
            conditions.append("household_id = md5(cast(? as varchar))")
            params.append(network_key)
        sql = f"select count(*) from {table} where tenant_id = ? and ({' or '.join(conditions)})"
        counts[table] = int(wh.fetch(sql, params)[0][0])
    return {place: n for place, n in counts.items() if n}


def _table_sizes(wh: Warehouse, tenant: str) -> dict[str, int]:
    sizes = {}
    for schema, table, column in tenant_tables(wh):
        sizes[f"{schema}.{table}"] = int(
            wh.fetch(f'select count(*) from "{schema}"."{table}" where "{column}" = ?', [tenant])[
                0
            ][0]
        )
    return sizes


@pytest.mark.e2e
def test_staging_network_keys_are_python_network_keys(pipeline: dict[str, Any]):
    """The SQL normalisation and the Python twin agree on every simulated address."""
    with _duckdb(pipeline["home"]) as wh:
        for entity in ("download_requests", "orders", "site_events"):
            ips = [
                r[0]
                for r in wh.fetch(
                    f"select distinct ip from raw.{entity} where _tenant_id = ?", [PIPE]
                )
            ]
            python = {
                pseudonymise(PIPE_KEY.encode(), n)
                for n in map(network_or_none, ips)
                if n is not None
            }
            sql = {
                r[0]
                for r in wh.fetch(
                    f"select distinct network_key from staging.stg_files__{entity}"
                    " where tenant_id = ? and network_key is not null",
                    [PIPE],
                )
            }
            assert python == sql and len(sql) > 10, entity
        households = wh.fetch(
            "select network_key, household_id from intermediate.int_households where tenant_id = ?",
            [PIPE],
        )
        assert households and all(household_id(k) == h for k, h in households)


@pytest.mark.e2e
def test_cli_refuses_without_yes_and_malformed_addresses(pipeline: dict[str, Any]):
    env = pipeline["env"]
    refused = _subject_cli(env, "erase", "--tenant", PIPE, "--ip", pipeline["typed"])
    assert refused.returncode == 2 and "--yes" in refused.stderr
    malformed = _subject_cli(env, "show", "--tenant", PIPE, "--ip", "300.1.2.3")
    assert malformed.returncode == 2 and "well-formed" in malformed.stderr
    assert "300.1.2.3" not in malformed.stderr
    no_key = _subject_cli(env, "show", "--tenant", PIPE_OTHER, "--ip", "192.0.2.1")
    assert no_key.returncode == 1
    assert f"EARSHOT_SECRET_PSEUDONYM_KEY__{PIPE_OTHER.upper()}" in no_key.stderr


@pytest.mark.e2e
def test_show_then_erase_a_household_through_the_cli(pipeline: dict[str, Any]):
    env, home, network = pipeline["env"], pipeline["home"], pipeline["network"]
    zone = LandingZone(home / "landing")
    network_key = pseudonymise(PIPE_KEY.encode(), network)
    with _duckdb(home) as wh:
        held = _held(wh, zone, PIPE, network)
        sizes = _table_sizes(wh, PIPE)
        other_sizes = _table_sizes(wh, PIPE_OTHER)
    other_landed = {e: zone.read(PIPE_OTHER, "files", e).num_rows for e in IP_ENTITY_NAMES}
    landed = {e: zone.read(PIPE, "files", e).num_rows for e in IP_ENTITY_NAMES}
    # The household is everywhere: landed, quarantined, raw, staging, intermediate and marts.
    for place in (
        "landing/files/download_requests",
        "landing/files/orders",
        "landing/_quarantine",
        "raw.download_requests",
        "raw.orders",
        "raw.quarantine",
        "staging.stg_files__download_requests",
        "intermediate.int_households",
        "intermediate.int_downloads",
    ):
        assert held.get(place, 0) > 0, place

    shown = _subject_cli(env, "show", "--tenant", PIPE, "--ip", pipeline["typed"])
    assert shown.returncode == 0, shown.stderr
    assert network_key in shown.stdout and "/64" in shown.stdout
    assert network not in shown.stdout.lower()
    assert "raw.download_requests:" in shown.stdout

    erased = _subject_cli(
        env, "erase", "--tenant", PIPE, "--ip", f"{network}:1:2:3:4", "--yes", "--reason", "DSR-9"
    )
    assert erased.returncode == 0, erased.stderr
    assert f"total: {sum(held.values())} rows removed" in erased.stdout
    assert "earshot run --tenant" in erased.stdout
    assert network not in erased.stdout.lower()

    with _duckdb(home) as wh:
        assert _held(wh, zone, PIPE, network) == {}
        after = _table_sizes(wh, PIPE)
        assert after == {t: n - held.get(t, 0) for t, n in sizes.items()}
        assert _table_sizes(wh, PIPE_OTHER) == other_sizes
        entries = audit.entries(wh, PIPE)
    assert {e: zone.read(PIPE, "files", e).num_rows for e in IP_ENTITY_NAMES} == {
        e: n - held.get(f"landing/files/{e}", 0) for e, n in landed.items()
    }
    assert {e: zone.read(PIPE_OTHER, "files", e).num_rows for e in IP_ENTITY_NAMES} == other_landed

    subject_entries = [e for e in entries if e["action"].startswith("subject.")]
    assert [e["action"] for e in subject_entries] == [ACCESS_ACTION, ERASE_ACTION]
    assert all(e["actor"] == "dpo_cli" for e in subject_entries)
    assert subject_entries[0]["details"]["counts"] == held
    assert subject_entries[1]["details"]["counts"] == held
    assert subject_entries[1]["details"]["network_key"] == network_key
    assert subject_entries[1]["details"]["reason"] == "DSR-9"
    text = json.dumps(subject_entries, default=str).lower()
    assert network not in text and pipeline["typed"].lower() not in text

    # A re-import of the original export would bring the rows back: the filter drops them.
    assert erased_networks(zone, PIPE) == {network_key}
    rows = _ip_rows(pipeline["export"])
    filter_ = ErasureFilter.load(zone, PIPE, key_of=lambda _: PIPE_KEY.encode())
    for entity in IP_ENTITY_NAMES:
        column = pa.array(rows[entity], pa.string())
        expected = sum(network_or_none(ip) == network for ip in rows[entity])
        assert pc.sum(filter_.erased_mask(column)).as_py() == expected

    # Re-importing the original export lands none of the household's rows and duplicates
    # nothing: the batches keep their ids, so each replaces its erased file.
    after_landed = {e: zone.read(PIPE, "files", e).num_rows for e in IP_ENTITY_NAMES}
    reimport = run_earshot(env, "ingest", "files", "--tenant", PIPE, str(pipeline["export"]))
    assert "of erased data subjects dropped" in reimport.stdout, reimport.stdout
    assert {e: zone.read(PIPE, "files", e).num_rows for e in IP_ENTITY_NAMES} == after_landed
    with _duckdb(home) as wh:
        assert _held(wh, zone, PIPE, network) == {}

    # Idempotent: the second erasure finds nothing, says so, and changes nothing.
    again = _subject_cli(env, "erase", "--tenant", PIPE, "--ip", network + "::", "--yes")
    assert again.returncode == 0, again.stderr
    assert "nothing held" in again.stdout
    with _duckdb(home) as wh:
        assert _table_sizes(wh, PIPE) == after
        assert audit.entries(wh, PIPE)[-1]["details"]["counts"] == {}


@pytest.mark.e2e
def test_the_next_run_rebuilds_without_the_household(pipeline: dict[str, Any]):
    """After an erasure (idempotent, so done again here) the landing checks still hold every
    file they validated, and the next run succeeds and rebuilds everything without it."""
    env, home, network = pipeline["env"], pipeline["home"], pipeline["network"]
    erased = _subject_cli(env, "erase", "--tenant", PIPE, "--ip", pipeline["typed"], "--yes")
    assert erased.returncode == 0, erased.stderr
    zone = LandingZone(home / "landing")
    ledgers = sorted((home / "state" / "validated" / PIPE / "files").glob("*.json"))
    assert ledgers
    for ledger in ledgers:
        entity = ledger.stem
        sizes = zone.storage.sizes(f"{PIPE}/files/{entity}")
        for key, fingerprint in json.loads(ledger.read_text()).items():
            if key in sizes:
                assert fingerprint == str(sizes[key]), key

    run_earshot(env, "run", "--tenant", PIPE)
    with _duckdb(home) as wh:
        assert _held(wh, zone, PIPE, network) == {}
        performance = wh.fetch(
            "select count(*) from marts.fct_campaign_performance where tenant_id = ?", [PIPE]
        )
    assert performance[0][0] > 0


def test_earshot_cli_has_the_subject_commands():
    """`earshot subject ...` is wired into earshot's parser (pipelines/cli.py)."""
    from pipelines.cli import build_parser

    args = build_parser().parse_args(["subject", "show", "--tenant", PIPE, "--ip", "192.0.2.1"])
    assert args.func.__name__ == "cmd_subject_show"
