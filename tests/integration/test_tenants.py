"""Tenant management: the tenants table, the audit log, settings into dbt, and the CLI."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from tests.conftest import run_earshot
from tests.support.warehouses import cli_env
from warehouse import audit
from warehouse.connection import DuckDBWarehouse, Warehouse, connect
from warehouse.settings import InvalidTenantId
from warehouse.tenants import (
    Tenant,
    TenantError,
    create_tenant,
    delete_tenant,
    get_tenant,
    list_tenants,
    update_tenant,
)

# Who the audit log says acted, in this module's tests.
ACTOR = "ops_tester"


def test_tenant_lifecycle_is_stored_and_audited(wh: Warehouse):
    assert list_tenants(wh) == []
    assert get_tenant(wh, "acme_audio") is None

    created = create_tenant(
        wh,
        Tenant(
            tenant_id="acme_audio",
            name="Acme Audio",
            region="eu",
            lookback_days=14,
            connector_config_refs={"megaphone": "vault:acme/megaphone"},
        ),
    )
    create_tenant(wh, Tenant(tenant_id="globex", name="Globex"))
    stored = get_tenant(wh, "acme_audio")
    assert stored == created
    assert stored.lookback_days == 14 and stored.half_life_days == 7.0
    assert stored.connector_config_refs == {"megaphone": "vault:acme/megaphone"}
    assert [t.tenant_id for t in list_tenants(wh)] == ["acme_audio", "globex"]

    with pytest.raises(TenantError, match="acme_audio already exists"):
        create_tenant(wh, Tenant(tenant_id="acme_audio", name="Again"))

    updated = update_tenant(wh, "acme_audio", plan="pro", half_life_days=3.5)
    assert (updated.plan, updated.half_life_days, updated.region) == ("pro", 3.5, "eu")
    assert get_tenant(wh, "acme_audio") == updated
    assert updated.created_at == created.created_at

    delete_tenant(wh, "acme_audio")
    assert get_tenant(wh, "acme_audio") is None
    assert [t.tenant_id for t in list_tenants(wh)] == ["globex"]
    with pytest.raises(TenantError, match="acme_audio does not exist"):
        update_tenant(wh, "acme_audio", plan="free")

    log = audit.entries(wh, "acme_audio")
    assert [e["action"] for e in log] == ["tenant.create", "tenant.update", "tenant.delete"]
    assert {e["actor"] for e in log} == {"ops_tester"}
    assert log[1]["details"]["changed"] == {
        "plan": {"from": None, "to": "pro"},
        "half_life_days": {"from": 7.0, "to": 3.5},
    }
    # The audit log outlives the tenant it describes.
    assert log[2]["details"]["name"] == "Acme Audio"


@pytest.mark.parametrize(
    ("settings", "message"),
    [
        ({"lookback_days": 0}, "lookback_days must be > 0"),
        ({"half_life_days": -1.0}, "half_life_days must be > 0"),
        ({"position_first_weight": 1.5}, r"position_first_weight must be in \[0, 1\]"),
        (
            {"position_first_weight": 0.6, "position_last_weight": 0.5},
            "must be <= 1, not 0.6 \\+ 0.5",
        ),
        ({"name": " "}, "name must not be empty"),
        ({"max_landed_bytes": -5}, "max_landed_bytes must be a whole number"),
        ({"download_window": "weekly"}, "download_window must be one of calendar_day, "),
        ({"exclude_prior_customers": "yes"}, "exclude_prior_customers must be true or false"),
        ({"path_transform": "frequency"}, "path_transform must be one of none, exposure, "),
        (
            {"path_transform": "remove_if_not_all"},
            "path_transform_target must name the campaign id",
        ),
        ({"path_transform_target": " "}, "path_transform_target must be a campaign id or unset"),
        ({"signal_priority": ""}, "signal_priority must be a comma-separated list"),
        ({"signal_priority": "promo_code,tv"}, "signal_priority names unknown signals 'tv'"),
        ({"signal_priority": "utm, survey"}, "signal_priority names unknown signals ' survey'"),
        ({"signal_priority": "utm,survey,utm"}, "signal_priority repeats utm"),
        ({"signal_priority": "utm,"}, "signal_priority names unknown signals ''"),
    ],
)
def test_invalid_settings_are_refused_with_the_reason(tmp_path: Path, settings: dict, message: str):
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    try:
        with pytest.raises(TenantError, match=f"tenant acme: .*{message}"):
            create_tenant(wh, Tenant(**{"tenant_id": "acme", "name": "Acme", **settings}))
        assert list_tenants(wh) == []
        create_tenant(wh, Tenant(tenant_id="acme", name="Acme"))
        with pytest.raises(TenantError, match=message):
            update_tenant(wh, "acme", **settings)
        # A refused update changes nothing and leaves no audit row.
        assert get_tenant(wh, "acme").lookback_days == 30
        assert [e["action"] for e in audit.entries(wh, "acme")] == ["tenant.create"]
        with pytest.raises(TenantError, match="cannot update created_at"):
            update_tenant(wh, "acme", created_at=None)
    finally:
        wh.close()


def test_invalid_tenant_ids_are_refused(tmp_path: Path):
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    try:
        with pytest.raises(InvalidTenantId):
            create_tenant(wh, Tenant(tenant_id="Bad Tenant", name="x"))
        with pytest.raises(InvalidTenantId):
            get_tenant(wh, "../etc")
    finally:
        wh.close()


def test_tenant_vars_reads_settings_and_tolerates_a_missing_warehouse(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
):
    from pipelines.assets.transform import tenant_vars

    monkeypatch.setenv("EARSHOT_HOME", str(tmp_path / "home"))
    monkeypatch.setenv("EARSHOT_WAREHOUSE", "duckdb")
    monkeypatch.delenv("EARSHOT_DUCKDB_PATH", raising=False)
    assert tenant_vars("acme") == {"tenant_id": "acme"}

    with connect() as wh:
        wh.execute("create schema if not exists marts")
    # A warehouse without the tenants table: the dbt defaults apply.
    assert tenant_vars("acme") == {"tenant_id": "acme"}

    with connect() as wh:
        create_tenant(
            wh,
            Tenant(
                tenant_id="acme",
                name="Acme",
                lookback_days=9,
                half_life_days=2.5,
                position_first_weight=0.3,
                position_last_weight=0.5,
                download_window="rolling_24h_last",
            ),
        )
    assert tenant_vars("acme") == {
        "tenant_id": "acme",
        "lookback_days": 9,
        "time_decay_half_life_days": 2.5,
        "position_first_weight": 0.3,
        "position_last_weight": 0.5,
        "download_window": "rolling_24h_last",
        "exclude_prior_customers": False,
        "path_transform": "none",
        "path_transform_target": None,
        "signal_priority": "promo_code,vanity_url,utm,survey,podcast_impression",
    }
    assert tenant_vars("globex") == {"tenant_id": "globex"}


def _env(home: Path) -> dict[str, str]:
    return cli_env(home, "cli_tester")


def _query(home: Path, sql: str, params: list | None = None) -> list[tuple]:
    wh = DuckDBWarehouse(home / "warehouse.duckdb", read_only=True)
    try:
        return wh.fetch(sql, params)
    finally:
        wh.close()


def _has_partition(home: Path, tenant: str) -> bool:
    import dagster as dg

    from pipelines.partitions import tenant_partitions

    inst = dg.DagsterInstance.from_config(str(home / "dagster"))
    try:
        return inst.has_dynamic_partition(tenant_partitions.name, tenant)
    finally:
        inst.dispose()


def test_cli_settings_reach_the_credits_and_delete_offboards(tmp_path: Path):
    from connectors.simulator import WorldConfig, simulate

    home = tmp_path / "home"
    env = _env(home)
    tenant = "tenant_gamma"

    bad = run_earshot(
        env, "tenant", "create", "--tenant", tenant, "--name", "G", "--lookback-days", "-1",
        check=False,
    )  # fmt: skip
    assert bad.returncode == 1 and "lookback_days must be > 0" in bad.stderr

    run_earshot(
        env, "tenant", "create", "--tenant", tenant, "--name", "Gamma Media",
        "--lookback-days", "7", "--half-life-days", "3", "--region", "eu",
        "--connector-ref", "megaphone=vault:gamma/megaphone",
    )  # fmt: skip
    shown = run_earshot(env, "tenant", "show", "--tenant", tenant).stdout
    assert "lookback_days:" in shown and "megaphone=vault:gamma/megaphone" in shown
    listed = run_earshot(env, "tenant", "list").stdout.splitlines()
    assert listed[0].split()[:2] == ["tenant_id", "name"]
    assert listed[1].split()[0] == tenant and len(listed) == 2

    # The Dagster partition exists from `tenant create` on.
    assert _has_partition(home, tenant)
    out = tmp_path / "export"
    simulate(WorldConfig.tiny(tenant_id=tenant, seed=11), out)
    run_earshot(env, "ingest", "files", "--tenant", tenant, str(out))
    run_earshot(env, "run", "--tenant", tenant)

    settings = _query(
        home,
        "select distinct lookback_days, half_life_days, position_first_weight,"
        " position_last_weight from marts.fct_attribution_credits where tenant_id = ?",
        [tenant],
    )
    assert settings == [(7.0, 3.0, 0.4, 0.4)]

    within = json.loads(run_earshot(env, "tenant", "usage", "--tenant", tenant, "--json").stdout)
    months = {
        q["period"]: q["used"]
        for q in within["quotas"]
        if q["quota"] == "max_download_requests_per_month"
    }
    assert months and all(count > 0 for count in months.values())
    assert not within["over"]
    busiest = max(months.values())
    run_earshot(
        env, "tenant", "update", "--tenant", tenant, "--plan", "pro",
        "--max-download-requests-per-month", str(busiest - 1), "--max-landed-bytes", "1",
    )  # fmt: skip
    over = run_earshot(env, "tenant", "usage", "--tenant", tenant, check=False)
    assert over.returncode == 1
    assert "exceed the quota max_landed_bytes of 1" in over.stderr
    assert f"exceed the quota max_download_requests_per_month of {busiest - 1:,}" in over.stderr
    refused = run_earshot(env, "tenant", "delete", "--tenant", tenant, check=False)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    landing = home / "landing" / tenant
    assert landing.is_dir()

    report = run_earshot(env, "tenant", "delete", "--tenant", tenant, "--yes").stdout
    assert "tenants row:  removed" in report
    files_line = next(line for line in report.splitlines() if line.startswith("landing:"))
    assert int(files_line.split()[1]) > 0
    credits_line = next(
        line for line in report.splitlines() if line.startswith("marts.fct_attribution_credits:")
    )
    assert int(credits_line.split()[1]) > 0
    assert not landing.exists()

    tables = _query(
        home,
        "select c.table_schema, c.table_name, c.column_name from information_schema.columns c"
        " join information_schema.tables t"
        " on t.table_schema = c.table_schema and t.table_name = c.table_name"
        " where c.table_schema in ('raw', 'staging', 'intermediate', 'marts')"
        " and c.column_name in ('tenant_id', '_tenant_id') and t.table_type = 'BASE TABLE'",
    )
    assert len(tables) > 5
    for schema, table, column in tables:
        left = _query(
            home, f'select count(*) from "{schema}"."{table}" where "{column}" = ?', [tenant]
        )
        assert left == [(0,)], f"{schema}.{table} still holds rows of {tenant}"
    assert _query(home, "select count(*) from earshot_meta.tenants") == [(0,)]
    actions = _query(
        home,
        'select action, actor from earshot_meta.audit_log where tenant_id = ? order by "at"',
        [tenant],
    )
    assert actions == [
        ("tenant.create", "cli_tester"),
        ("tenant.update", "cli_tester"),
        ("tenant.delete", "cli_tester"),
    ]
    assert "no tenants yet" in run_earshot(env, "tenant", "list").stdout
    assert not _has_partition(home, tenant)


def test_a_tenants_table_from_before_a_setting_gets_it_with_its_default(tmp_path: Path):
    """Tables created by an earlier release lack later columns: reads see the default (also on
    a read-only connection) and the next write adds the column."""
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    try:
        create_tenant(wh, Tenant(tenant_id="acme", name="Acme"))
        wh.execute("alter table earshot_meta.tenants drop column download_window")
        assert get_tenant(wh, "acme").download_window == "calendar_day"
        update_tenant(wh, "acme", download_window="rolling_24h_first")
        assert get_tenant(wh, "acme").download_window == "rolling_24h_first"
        assert [t.download_window for t in list_tenants(wh)] == ["rolling_24h_first"]
    finally:
        wh.close()


def test_exclude_prior_customers_is_stored_reaches_dbt_and_upgrades_old_tables(tmp_path: Path):
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    try:
        create_tenant(wh, Tenant(tenant_id="acme", name="Acme"))
        acme = get_tenant(wh, "acme")
        assert acme.exclude_prior_customers is False
        assert acme.dbt_vars()["exclude_prior_customers"] is False
        updated = update_tenant(wh, "acme", exclude_prior_customers=True)
        assert updated.dbt_vars()["exclude_prior_customers"] is True
        assert get_tenant(wh, "acme").exclude_prior_customers is True
        changes = [e for e in audit.entries(wh, "acme") if e["action"] == "tenant.update"]
        assert "exclude_prior_customers" in json.dumps(changes[-1]["details"])
        # A table from before the setting: reads see false, the next write adds the column.
        wh.execute("alter table earshot_meta.tenants drop column exclude_prior_customers")
        assert get_tenant(wh, "acme").exclude_prior_customers is False
        update_tenant(wh, "acme", exclude_prior_customers=True)
        assert [t.exclude_prior_customers for t in list_tenants(wh)] == [True]
    finally:
        wh.close()


def test_cli_sets_and_shows_exclude_prior_customers(tmp_path: Path):
    env = _env(tmp_path / "home")
    run_earshot(
        env, "tenant", "create", "--tenant", "acme", "--name", "Acme", "--exclude-prior-customers"
    )
    shown = run_earshot(env, "tenant", "show", "--tenant", "acme").stdout
    assert any(
        line.split() == ["exclude_prior_customers:", "True"] for line in shown.splitlines()
    ), shown
    run_earshot(env, "tenant", "update", "--tenant", "acme", "--no-exclude-prior-customers")
    shown = run_earshot(env, "tenant", "show", "--tenant", "acme").stdout
    assert any(
        line.split() == ["exclude_prior_customers:", "False"] for line in shown.splitlines()
    ), shown


def test_path_transform_and_signal_priority_are_stored_reach_dbt_and_upgrade_old_tables(
    tmp_path: Path,
):
    wh = DuckDBWarehouse(tmp_path / "w.duckdb")
    try:
        create_tenant(wh, Tenant(tenant_id="acme", name="Acme"))
        acme = get_tenant(wh, "acme")
        assert acme.path_transform == "none"
        assert acme.signal_priority == "promo_code,vanity_url,utm,survey,podcast_impression"
        updated = update_tenant(
            wh,
            "acme",
            path_transform="remove_if_not_all",
            path_transform_target="cmp_brand",
            signal_priority="utm,promo_code",
        )
        assert updated.dbt_vars()["path_transform"] == "remove_if_not_all"
        assert updated.dbt_vars()["path_transform_target"] == "cmp_brand"
        assert updated.dbt_vars()["signal_priority"] == "utm,promo_code"
        stored = get_tenant(wh, "acme")
        assert (stored.path_transform, stored.signal_priority) == (
            "remove_if_not_all",
            "utm,promo_code",
        )
        changes = [e for e in audit.entries(wh, "acme") if e["action"] == "tenant.update"]
        assert "path_transform" in json.dumps(changes[-1]["details"])
        assert "signal_priority" in json.dumps(changes[-1]["details"])
        # A table from before the settings: reads see the defaults, the next write adds them.
        wh.execute("alter table earshot_meta.tenants drop column path_transform")
        wh.execute("alter table earshot_meta.tenants drop column signal_priority")
        wh.execute("alter table earshot_meta.tenants drop column path_transform_target")
        old = get_tenant(wh, "acme")
        assert old.path_transform_target is None
        assert (old.path_transform, old.signal_priority) == (
            "none",
            "promo_code,vanity_url,utm,survey,podcast_impression",
        )
        update_tenant(wh, "acme", path_transform="exposure")
        assert [(t.path_transform, t.signal_priority) for t in list_tenants(wh)] == [
            ("exposure", "promo_code,vanity_url,utm,survey,podcast_impression")
        ]
    finally:
        wh.close()


def test_cli_sets_path_transform_and_signal_priority(tmp_path: Path):
    env = _env(tmp_path / "home")
    run_earshot(
        env,
        "tenant",
        "create",
        "--tenant",
        "acme",
        "--name",
        "Acme",
        "--path-transform",
        "unique",
        "--signal-priority",
        "survey, promo_code",
    )
    shown = run_earshot(env, "tenant", "show", "--tenant", "acme").stdout.splitlines()
    assert ["path_transform:", "unique"] in [line.split() for line in shown]
    assert ["signal_priority:", "survey,promo_code"] in [line.split() for line in shown]
    refused = run_earshot(
        env, "tenant", "update", "--tenant", "acme", "--path-transform", "sometimes", check=False
    )
    assert refused.returncode == 1
    assert "path_transform must be one of" in refused.stderr
    run_earshot(env, "tenant", "update", "--tenant", "acme", "--path-transform", "first")
    shown = run_earshot(env, "tenant", "show", "--tenant", "acme").stdout.splitlines()
    assert ["path_transform:", "first"] in [line.split() for line in shown]
