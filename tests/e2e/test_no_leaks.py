"""No tenant secret and no raw IP address in anything a run leaves behind or shows a tenant.

For both deployments built by the session fixtures (local: DuckDB, landing folder, keys in
local secret files; production: PostgreSQL, S3 landing, keys in a secrets manager) this reads
every output of the full pipeline: the commands' stdout and stderr, every file under
$EARSHOT_HOME except the landing zone, the inbox, the warehouse file and the secret store (where
the data and keys belong), so dbt's logs, compiled SQL and run results, Dagster's event log and
compute logs, the run logs and state; plus the PostgreSQL server log. It searches them for each
tenant's pseudonymisation key (raw, hex, base64, and the two HMAC pads derived from it) and for
every client address the tenants sent. Then it checks every tenant-visible table (staging,
intermediate, marts) holds none of those addresses in any text column.
"""

from __future__ import annotations

import base64
import ipaddress
import re
from pathlib import Path

import pytest

from tests.conftest import ROOT, TENANTS, BuiltPipeline
from tests.support.warehouse_query import pipeline_tenant_key, read_sql
from warehouse.pseudonymisation import hmac_pads

pytestmark = pytest.mark.e2e

# Folders and files that hold the tenants' data or keys by design.
EXCLUDED = ("landing", "inbox", "secrets", "warehouse.duckdb", "warehouse.duckdb.wal")
TENANT_VISIBLE_SCHEMAS = ("staging", "intermediate", "marts")
IPV4 = re.compile(r"(?<![0-9.])(?:[0-9]{1,3}\.){3}[0-9]{1,3}(?![0-9.])")
IPV6 = re.compile(r"(?<![0-9a-fA-F:])(?:[0-9a-fA-F]{0,4}:){2,7}[0-9a-fA-F]{0,4}(?![0-9a-fA-F:])")


def _tenant_key(pipeline: BuiltPipeline, tenant: str) -> bytes:
    return pipeline_tenant_key(ROOT, pipeline.env, tenant)


def _needles(key: bytes) -> list[str]:
    ipad, opad = hmac_pads(key)
    found = [key.hex(), base64.b64encode(key).decode(), ipad.hex(), opad.hex()]
    try:
        text = key.decode()
    except UnicodeDecodeError:
        text = ""
    if text.isprintable() and len(text) >= 16:
        found.append(text)
    return found


def _outputs(pipeline: BuiltPipeline) -> dict[str, str]:
    """Every output of the run, by where it was found."""
    texts = {"command output": pipeline.logs}
    for path in sorted(pipeline.home.rglob("*")):
        rel = path.relative_to(pipeline.home)
        if not path.is_file() or rel.parts[0] in EXCLUDED:
            continue
        texts[str(rel)] = path.read_bytes().decode("latin-1")
    server_log = pipeline.env.get("EARSHOT_TEST_PG_LOG")
    if server_log and Path(server_log).exists():
        texts["postgresql server log"] = Path(server_log).read_bytes().decode("latin-1")
    return texts


def _rows(pipeline: BuiltPipeline, sql: str) -> list[tuple]:
    frame = read_sql(pipeline.warehouse, pipeline.home, pipeline.env, sql)
    return list(frame.itertuples(index=False, name=None))


def _client_addresses(pipeline: BuiltPipeline) -> set[str]:
    rows = _rows(
        pipeline,
        "select distinct ip from raw.download_requests where ip is not null"
        " union select distinct ip from raw.site_events where ip is not null"
        " union select distinct ip from raw.orders where ip is not null",
    )
    addresses = set()
    for (ip,) in rows:
        text = str(ip).strip().lower()
        addresses.add(text)
        try:
            addresses.add(str(ipaddress.ip_address(text)))
            addresses.add(ipaddress.ip_address(text).exploded)
        except ValueError:
            pass
    return addresses


def test_no_key_in_any_output(pipeline: BuiltPipeline):
    texts = _outputs(pipeline)
    assert any("dbt-runs" in where for where in texts), "the dbt artefacts were not found"
    assert any(where.startswith("dagster") for where in texts), "the Dagster storage was not found"
    for tenant in TENANTS:
        key = _tenant_key(pipeline, tenant)
        for needle in _needles(key):
            for where, text in texts.items():
                hit = needle in text or needle.upper() in text
                assert not hit, f"{tenant}'s pseudonymisation key found in {where}"


def test_no_raw_address_in_any_output(pipeline: BuiltPipeline):
    addresses = _client_addresses(pipeline)
    assert len(addresses) > 100, "the simulated world should send many addresses"
    for where, text in _outputs(pipeline).items():
        tokens = {t.lower() for t in IPV4.findall(text)} | {t.lower() for t in IPV6.findall(text)}
        leaked = sorted(tokens & addresses)
        assert not leaked, f"raw client address(es) {leaked[:5]} in {where}"


def test_no_raw_address_in_tenant_visible_tables(pipeline: BuiltPipeline):
    addresses = _client_addresses(pipeline)
    columns = _rows(
        pipeline,
        "select table_schema, table_name, column_name from information_schema.columns"
        " where table_schema in ('staging', 'intermediate', 'marts')"
        " and data_type in ('VARCHAR', 'text', 'character varying')",
    )
    assert len({(s, t) for s, t, _ in columns}) >= 10
    for schema, table, column in columns:
        values = _rows(
            pipeline,
            f'select distinct lower(trim("{column}")) from "{schema}"."{table}"'
            f' where "{column}" is not null',
        )
        leaked = sorted({v for (v,) in values} & addresses)
        assert not leaked, f"{schema}.{table}.{column} holds raw addresses, e.g. {leaked[:3]}"


def test_network_keys_are_the_tenants_hmac(pipeline: BuiltPipeline):
    """The keys in staging are HMAC-SHA256 under each tenant's own secret, and differ by tenant."""
    from warehouse.pseudonymisation import pseudonymise

    for tenant in TENANTS:
        key = _tenant_key(pipeline, tenant)
        (address,) = _rows(
            pipeline,
            f"select min(ip) from raw.download_requests where _tenant_id = '{tenant}'"
            " and ip like '%.%' and ip not like '%:%'",
        )[0:1][0]
        network = str(ipaddress.ip_address(address.strip()))
        keys = {
            k
            for (k,) in _rows(
                pipeline,
                "select distinct network_key from staging.stg_files__download_requests"
                f" where tenant_id = '{tenant}'",
            )
        }
        assert pseudonymise(key, network) in keys
        other = _tenant_key(pipeline, next(t for t in TENANTS if t != tenant))
        assert pseudonymise(other, network) not in keys
