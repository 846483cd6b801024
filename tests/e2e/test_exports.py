"""Tenant exports end to end: both session tenants exported to one S3 bucket (the session's moto
server), every file read back and checked against the manifest and the warehouse.

On PostgreSQL the row-level security proof runs on a copy of the session warehouse (a template
copy, secured there): the session database itself stays as the other tests expect it (no
migrations applied, no tenant roles created).
"""

from __future__ import annotations

import hashlib
import io
import json
import secrets
import shutil
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import date
from importlib import metadata
from pathlib import Path
from types import SimpleNamespace
from typing import Any

import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq
import pytest

from serving.exports import (
    ExportManifest,
    ExportReadError,
    ExportTarget,
    TenantIsolationError,
    check_disjoint,
    export_tenant,
    open_tenant_reader,
    verify_tenant_rows,
)
from serving.exports import readers as export_readers
from tests.conftest import AWS_TEST_ENV, ROOT, TENANTS, BuiltPipeline
from warehouse.connection import (
    DuckDBWarehouse,
    PostgresSettings,
    PostgresWarehouse,
    Warehouse,
)

pytestmark = pytest.mark.e2e

AS_OF = date(2024, 5, 1)
SETTINGS = {
    "attribution": {"lookback_days": 30, "half_life_days": 7},
    "model_versions": {"anomalies": "anomalies-v3"},
    "webhook_url": "https://hooks.example.com/T000/B000/secret",
}


@pytest.fixture
def s3(moto_endpoint: str) -> Any:
    import boto3

    return boto3.client(
        "s3",
        endpoint_url=moto_endpoint,
        aws_access_key_id=AWS_TEST_ENV["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=AWS_TEST_ENV["AWS_SECRET_ACCESS_KEY"],
        region_name=AWS_TEST_ENV["AWS_DEFAULT_REGION"],
    )


@pytest.fixture
def bucket(s3: Any) -> str:
    # Unique per test: the moto server is the session's, shared with every other test.
    name = f"exports-{secrets.token_hex(6)}"
    s3.create_bucket(Bucket=name)
    return name


def _pg_settings(env: dict[str, str], database: str | None = None) -> PostgresSettings:
    return PostgresSettings(
        host=env["EARSHOT_PG_HOST"],
        port=int(env["EARSHOT_PG_PORT"]),
        user=env["EARSHOT_PG_USER"],
        password=env["EARSHOT_PG_PASSWORD"],
        database=database or env["EARSHOT_PG_DATABASE"],
    )


@contextmanager
def _warehouse(pipeline: BuiltPipeline, duckdb_path: Path | None = None) -> Iterator[Warehouse]:
    """The pipeline's warehouse, read-only on DuckDB (as the exports asset reads it)."""
    if pipeline.warehouse == "duckdb":
        path = duckdb_path or pipeline.home / "warehouse.duckdb"
        wh: Any = DuckDBWarehouse(path, read_only=duckdb_path is None)
    else:
        wh = PostgresWarehouse(_pg_settings(pipeline.env))
    try:
        yield wh
    finally:
        wh.close()


class _Recorder:
    """An S3 client that notes every object written or deleted, in order."""

    def __init__(self, client: Any) -> None:
        self._client = client
        self.calls: list[tuple[str, str]] = []

    def put_object(self, **kwargs: Any) -> Any:
        self.calls.append(("put", kwargs["Key"]))
        return self._client.put_object(**kwargs)

    def delete_objects(self, **kwargs: Any) -> Any:
        self.calls.extend(("delete", item["Key"]) for item in kwargs["Delete"]["Objects"])
        return self._client.delete_objects(**kwargs)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._client, name)


def _keys(s3: Any, bucket: str, prefix: str = "") -> list[str]:
    pages = s3.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=prefix)
    return sorted(item["Key"] for page in pages for item in page.get("Contents", []))


def _get(s3: Any, bucket: str, key: str) -> bytes:
    return s3.get_object(Bucket=bucket, Key=key)["Body"].read()


def _read(body: bytes, fmt: str) -> pa.Table:
    if fmt == "parquet":
        return pq.read_table(io.BytesIO(body))
    # Every column as text: the check is on the values the tenant receives, as written.
    header = body.split(b"\r\n", 1)[0].decode("utf-8").split(",")
    options = pacsv.ConvertOptions(column_types={name: pa.string() for name in header})
    return pacsv.read_csv(io.BytesIO(body), convert_options=options)


def _expected_tables(wh: Warehouse) -> set[tuple[str, str]]:
    """What an export must hold, asked of the warehouse independently of the code under test:
    mart models and ml tables with a tenant_id, but not the model registry."""
    rows = wh.fetch(
        "select table_schema, table_name from information_schema.columns"
        " where column_name = 'tenant_id' and table_schema in ('marts', 'ml')"
    )
    return {
        (schema, table)
        for schema, table in rows
        if (schema == "ml" and table != "model_versions")
        or (schema == "marts" and table.split("_")[0] in ("fct", "dim", "rpt"))
    }


def _tenant_count(wh: Warehouse, schema: str, table: str, tenant: str) -> int:
    return wh.fetch(f'select count(*) from "{schema}"."{table}" where tenant_id = ?', [tenant])[0][
        0
    ]


def _check_export(
    s3: Any, bucket: str, manifest: ExportManifest, wh: Warehouse, tenant: str
) -> None:
    """Every file of ``manifest`` as the tenant downloads it: only its rows, as many as the
    manifest and the warehouse say, the manifest's size and SHA-256, the manifest's columns."""
    assert manifest.tables, "an export without tables"
    for entry in manifest.tables:
        expected_rows = _tenant_count(wh, entry.schema, entry.table, tenant)
        assert entry.rows == expected_rows, f"{entry.schema}.{entry.table}"
        assert [f.format for f in entry.files] == manifest.formats
        for file in entry.files:
            body = _get(s3, bucket, file.key)
            where = f"{file.key} ({tenant})"
            assert len(body) == file.bytes, where
            assert hashlib.sha256(body).hexdigest() == file.sha256, where
            data = _read(body, file.format)
            assert data.num_rows == expected_rows, where
            assert data.column_names == [c.name for c in entry.columns], where
            assert set(data.column("tenant_id").to_pylist()) <= {tenant}, where
            if file.format == "parquet":
                assert [str(f.type) for f in data.schema] == [c.type for c in entry.columns]
            else:
                assert body.startswith(",".join(data.column_names).encode() + b"\r\n"), where


# -- the session pipelines, both engines ---------------------------------------------------------


def test_each_tenant_receives_exactly_its_own_rows(
    pipeline: BuiltPipeline, s3: Any, bucket: str
) -> None:
    targets = {tenant: ExportTarget(bucket, f"/tenants/{tenant}") for tenant in TENANTS}
    check_disjoint(targets)
    with _warehouse(pipeline) as wh:
        expected_tables = _expected_tables(wh)
        manifests = {
            tenant: export_tenant(wh, tenant, targets[tenant], s3, as_of=AS_OF, settings=SETTINGS)
            for tenant in TENANTS
        }
        for tenant, manifest in manifests.items():
            _check_export(s3, bucket, manifest, wh, tenant)

    for tenant, manifest in manifests.items():
        target = targets[tenant]
        folder = f"tenants/{tenant}/exports/2024-05-01/"
        # Nothing under the tenant's prefix but its files, its manifest and its latest.json.
        assert _keys(s3, bucket, target.prefix) == sorted(
            [f.key for f in manifest.files]
            + [folder + "manifest.json", f"tenants/{tenant}/exports/latest.json"]
        )
        assert {f.key.rsplit("/", 1)[1] for f in manifest.files} == {
            f"{schema}.{table}.{fmt}"
            for schema, table in expected_tables
            for fmt in ("csv", "parquet")
        }
        assert all(f.key.startswith(folder) for f in manifest.files)
        stored = ExportManifest.from_json(_get(s3, bucket, folder + "manifest.json"))
        assert stored == manifest
        assert (stored.tenant_id, stored.export_id, stored.as_of) == (
            tenant,
            "2024-05-01",
            "2024-05-01",
        )
        assert stored.engine == pipeline.warehouse
        assert stored.formats == ["csv", "parquet"]
        assert stored.earshot_version == metadata.version("earshot")
        assert stored.generated_at.endswith("Z") and stored.generated_at[:4] >= "2024"
        assert stored.settings == {**SETTINGS, "webhook_url": "[redacted]"}
        assert "secret" not in _get(s3, bucket, folder + "manifest.json").decode()
        skipped = {(s["schema"], s["table"]): s["reason"] for s in stored.skipped}
        if not any(schema == "ml" for schema, _ in expected_tables):
            assert "ML stage has not run" in skipped[("ml", None)]
        if pipeline.warehouse == "duckdb":
            assert stored.row_level_security is False
            assert "DuckDB has no roles" in stored.row_level_security_note
        elif not stored.row_level_security:
            # The session database has no tenant roles unless the isolation tests ran first.
            assert stored.row_level_security_note
        latest = json.loads(_get(s3, bucket, target.latest_key))
        assert latest["export_id"] == "2024-05-01"
        assert latest["manifest_key"] == folder + "manifest.json"
        assert (
            latest["manifest_sha256"]
            == hashlib.sha256(_get(s3, bucket, folder + "manifest.json")).hexdigest()
        )


def test_a_rerun_replaces_the_same_keys_and_removes_stale_ones(
    pipeline: BuiltPipeline, s3: Any, bucket: str
) -> None:
    tenant = TENANTS[0]
    target = ExportTarget(bucket, f"tenants/{tenant}")
    with _warehouse(pipeline) as wh:
        first = export_tenant(
            wh, tenant, target, s3, export_id="2024-05-02", as_of=date(2024, 5, 2)
        )
        keys = _keys(s3, bucket)
        # Left by an earlier attempt under the same export id (a table since dropped).
        stale = target.export_folder("2024-05-02") + "marts.fct_dropped.csv"
        s3.put_object(Bucket=bucket, Key=stale, Body=b"tenant_id\r\n")
        recorder = _Recorder(s3)
        again = export_tenant(
            wh, tenant, target, recorder, export_id="2024-05-02", as_of=date(2024, 5, 2)
        )
        assert _keys(s3, bucket) == keys
        # The old manifest goes first (the folder reads as incomplete), the new one comes after
        # every file and after the stale object's removal, then latest.json.
        manifest_key = target.export_folder("2024-05-02") + "manifest.json"
        assert recorder.calls[0] == ("delete", manifest_key)
        assert recorder.calls[-2:] == [("put", manifest_key), ("put", target.latest_key)]
        assert sorted(recorder.calls[1:-2]) == sorted(
            [("put", f.key) for f in again.files] + [("delete", stale)]
        )
        # The same rows give byte-identical files: the tenant can tell "unchanged" by checksum.
        assert [(f.key, f.sha256) for f in again.files] == [(f.key, f.sha256) for f in first.files]

        # Only Parquet this time: the CSVs of the previous attempt go.
        parquet = export_tenant(
            wh,
            tenant,
            target,
            s3,
            export_id="2024-05-02",
            as_of=date(2024, 5, 2),
            formats=("parquet",),
        )
        assert parquet.formats == ["parquet"]
        assert not [k for k in _keys(s3, bucket) if k.endswith(".csv")]
        assert len(_keys(s3, bucket)) == len(first.tables) + 2

        # A backfill of an earlier day is exported, but latest.json stays on the newest day.
        backfill = export_tenant(wh, tenant, target, s3, as_of=date(2024, 4, 30))
        assert backfill.export_id == "2024-04-30"
        assert _keys(s3, bucket, target.export_folder("2024-04-30"))
        assert json.loads(_get(s3, bucket, target.latest_key))["export_id"] == "2024-05-02"


def test_a_forgotten_tenant_filter_is_caught_before_anything_is_uploaded(
    pipeline: BuiltPipeline, s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    def without_filter(ref, columns, placeholder):
        # Still binds the tenant parameter, which a "1 = 1 or" keeps harmless.
        query = unfiltered(ref, columns, placeholder)
        return query.replace(' where "tenant_id" = ', " where 1 = 1 or 'x' = ")

    unfiltered = export_readers.table_query
    monkeypatch.setattr(export_readers, "table_query", without_filter)
    with _warehouse(pipeline) as wh:
        if pipeline.warehouse == "postgres" and _tenant_has_role(wh, TENANTS[0]):
            pytest.skip("the session database has tenant roles: row-level security filters")
        with pytest.raises(TenantIsolationError, match=r"marts\.dim_campaigns: \d+ of \d+ rows"):
            export_tenant(wh, TENANTS[0], ExportTarget(bucket, "alpha"), s3)
    assert _keys(s3, bucket) == []


def _tenant_has_role(wh: Warehouse, tenant: str) -> bool:
    if not wh.fetch("select 1 from pg_namespace where nspname = 'earshot_security'"):
        return False
    return bool(
        wh.fetch("select 1 from earshot_security.tenant_roles where tenant_id = ?", [tenant])
    )


def test_only_tables_with_a_tenant_id_are_exported(
    duckdb_pipeline: BuiltPipeline, s3: Any, bucket: str, tmp_path: Path
) -> None:
    from models_ml.tables import replace_tenant_rows

    # A copy of the warehouse, so the session's stays as the other tests expect it.
    copy = tmp_path / "warehouse.duckdb"
    shutil.copy(duckdb_pipeline.home / "warehouse.duckdb", copy)
    with _warehouse(duckdb_pipeline, copy) as wh:
        wh.execute("create table marts.fct_platform_totals as select 1 as total")
        wh.execute("create table marts.scratch as select 'tenant_alpha' as tenant_id")
        wh.execute("""create table marts."rpt_../../x" as select 'tenant_beta' as tenant_id""")
        for tenant in TENANTS:
            scores = pa.table(
                {
                    "tenant_id": [tenant] * 3,
                    "model_version": ["scores-v1"] * 3,
                    "score": [0.1, 0.2, 0.3],
                }
            )
            replace_tenant_rows(wh, "export_test_scores", tenant, scores)
        manifest = export_tenant(wh, TENANTS[1], ExportTarget(bucket, "beta"), s3)
        _check_export(s3, bucket, manifest, wh, TENANTS[1])
    assert manifest.table("ml", "export_test_scores").rows == 3
    skipped = {(s["schema"], s["table"]): s["reason"] for s in manifest.skipped}
    assert "no tenant_id column" in skipped[("marts", "fct_platform_totals")]
    assert "not a mart model" in skipped[("marts", "scratch")]
    assert "not a plain identifier" in skipped[("marts", "rpt_../../x")]
    exported = {(t.schema, t.table) for t in manifest.tables}
    assert not exported & set(skipped)


def test_the_row_check_refuses_another_tenants_rows() -> None:
    mine = pa.table({"tenant_id": ["tenant_alpha"] * 2, "x": [1, 2]})
    assert verify_tenant_rows(mine, "tenant_alpha", "marts.fct_x") == 2
    assert verify_tenant_rows(mine.slice(0, 0), "tenant_alpha", "marts.fct_x") == 0
    mixed = pa.table({"tenant_id": ["tenant_alpha", "tenant_beta", "tenant_beta"], "x": [1, 2, 3]})
    with pytest.raises(TenantIsolationError) as caught:
        verify_tenant_rows(mixed, "tenant_alpha", "marts.fct_x")
    assert str(caught.value).startswith("marts.fct_x: 2 of 3 rows read for tenant 'tenant_alpha'")
    assert "'tenant_beta'" in str(caught.value)
    batch = pa.RecordBatch.from_pydict({"tenant_id": ["tenant_alpha", None], "x": [1, 2]})
    with pytest.raises(TenantIsolationError, match=r"marts\.fct_y: 1 of 2 rows .* None"):
        verify_tenant_rows(batch, "tenant_alpha", "marts.fct_y")
    with pytest.raises(TenantIsolationError, match="no tenant_id column"):
        verify_tenant_rows(pa.table({"x": [1]}), "tenant_alpha", "marts.fct_z")


# -- PostgreSQL: row-level security, on a secured copy of the session warehouse ------------------


@dataclass(frozen=True)
class SecuredCopy:
    settings: PostgresSettings
    roles: dict[str, str]


def _apply_project_rls(wh: PostgresWarehouse, schema: str, table: str) -> None:
    """The project's own post-hook (dbt_project/macros/row_level_security.sql), rendered as dbt
    would render it for this relation."""
    import jinja2

    text = (ROOT / "dbt_project" / "macros" / "row_level_security.sql").read_text()
    this = SimpleNamespace(schema=schema, identifier=table)
    module = jinja2.Environment().from_string(text).make_module({"this": this})
    wh.execute(str(module.postgres__apply_row_level_security()))


@pytest.fixture(scope="module")
def secured_copy(postgres_pipeline: BuiltPipeline) -> Iterator[SecuredCopy]:
    import psycopg
    from psycopg import sql

    from models_ml.tables import replace_tenant_rows
    from warehouse.migrate import migrate

    source = _pg_settings(postgres_pipeline.env)
    name = f"exports_rls_{secrets.token_hex(4)}"
    suffix = secrets.token_hex(3)
    roles = {tenant: f"export_test_{tenant}_{suffix}" for tenant in TENANTS}
    admin = {**source.conninfo(), "dbname": "postgres"}
    with psycopg.connect(**admin, autocommit=True) as conn:
        conn.execute(
            sql.SQL("create database {} template {}").format(
                sql.Identifier(name), sql.Identifier(source.database)
            )
        )
    settings = _pg_settings(postgres_pipeline.env, name)
    try:
        migrate(settings)
        wh = PostgresWarehouse(settings)
        try:
            for schema, table in wh.fetch(
                "select table_schema, table_name from information_schema.columns"
                " where column_name = 'tenant_id' and table_schema = 'marts'"
            ):
                _apply_project_rls(wh, schema, table)
            # An ML table (secured by the ML stage's own code), which BI roles may not read.
            for tenant in TENANTS:
                scores = pa.table(
                    {"tenant_id": [tenant] * 2, "model_version": ["v1"] * 2, "score": [0.5, 0.7]}
                )
                replace_tenant_rows(wh, "export_test_scores", tenant, scores)
            # Tenant roles as `earshot tenant grant-bi` makes them (read marts, mapped to one
            # tenant), under names of their own: roles are server-wide, and the isolation tests
            # create bi_tenant_alpha themselves.
            for tenant, role in roles.items():
                ident = sql.Identifier(role)
                wh.conn.execute(sql.SQL("create role {} nologin noinherit").format(ident))
                wh.conn.execute(sql.SQL("grant usage on schema marts to {}").format(ident))
                wh.conn.execute(
                    sql.SQL("grant select on all tables in schema marts to {}").format(ident)
                )
                wh.execute(
                    "insert into earshot_security.tenant_roles (role_name, tenant_id)"
                    " values (?, ?)",
                    [role, tenant],
                )
            wh.conn.commit()
        finally:
            wh.close()
        yield SecuredCopy(settings, roles)
    finally:
        with psycopg.connect(**admin, autocommit=True) as conn:
            conn.execute(sql.SQL("drop database if exists {}").format(sql.Identifier(name)))
            for role in roles.values():
                conn.execute(sql.SQL("drop role if exists {}").format(sql.Identifier(role)))


def test_the_tenant_role_sees_only_its_rows_without_any_filter(secured_copy: SecuredCopy) -> None:
    import psycopg
    from psycopg import sql

    wh = PostgresWarehouse(secured_copy.settings)
    try:
        marts = [
            table
            for (table,) in wh.fetch(
                "select table_name from information_schema.columns"
                " where column_name = 'tenant_id' and table_schema = 'marts' order by 1"
            )
        ]
        assert len(marts) >= 15
        for tenant in TENANTS:
            with open_tenant_reader(wh, tenant, as_tenant_role=True) as reader:
                assert reader.role == secured_copy.roles[tenant]
                for table in marts:
                    seen = reader.query_as_tenant(
                        f'select tenant_id, count(*) as n from marts."{table}" group by 1'
                    ).to_pylist()
                    everyone = dict(
                        wh.fetch(f'select tenant_id, count(*) from marts."{table}" group by 1')
                    )
                    assert set(everyone) == set(TENANTS), f"{table}: nothing to hide"
                    assert seen == [{"tenant_id": tenant, "n": everyone[tenant]}], table
                # The reader never runs as the role outside a read: the connection is the owner's.
                owner = reader.conn.execute("select session_user::text").fetchone()[0]
                assert owner == secured_copy.settings.user
    finally:
        wh.close()
    # Why the reader takes the role's session identity: SET ROLE keeps session_user, which the
    # policies name the tenant by, so the role would see nothing at all.
    with psycopg.connect(**secured_copy.settings.conninfo()) as conn:
        conn.execute(
            sql.SQL("set local role {}").format(sql.Identifier(secured_copy.roles[TENANTS[0]]))
        )
        assert conn.execute("select count(*) from marts.dim_shows").fetchone() == (0,)


def test_an_export_reads_as_the_tenant_role(
    secured_copy: SecuredCopy, s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    wh = PostgresWarehouse(secured_copy.settings)
    try:
        for tenant in TENANTS:
            manifest = export_tenant(wh, tenant, ExportTarget(bucket, tenant), s3, as_of=AS_OF)
            _check_export(s3, bucket, manifest, wh, tenant)
            marts = [t for t in manifest.tables if t.schema == "marts"]
            assert marts and all(t.row_level_security for t in marts)
            scores = manifest.table("ml", "export_test_scores")
            # BI roles read marts only: the ML table is filtered and checked, and says so.
            assert scores.row_level_security is False and "may not read it" in scores.note
            assert scores.rows == 2
            assert manifest.row_level_security is False
            assert "ml.export_test_scores" in manifest.row_level_security_note

        # A tenant without a role: the export falls back and says so; a required role fails.
        with pytest.raises(ExportReadError, match="has no read-only role yet"):
            export_tenant(
                wh, "tenant_gamma", ExportTarget(bucket, "gamma"), s3, as_tenant_role=True
            )
        fallback = export_tenant(wh, "tenant_gamma", ExportTarget(bucket, "gamma"), s3)
        assert fallback.row_level_security is False
        assert "no read-only role yet" in fallback.row_level_security_note
        assert all(t.rows == 0 for t in fallback.tables)

        # A forgotten filter: row-level security still hands over only the tenant's mart rows;
        # the ML table, read without the role, is caught by the row check. Nothing is uploaded.
        def without_filter(ref, columns, placeholder):
            query = unfiltered(ref, columns, placeholder)
            return query.replace(' where "tenant_id" = ', " where 1 = 1 or 'x' = ")

        unfiltered = export_readers.table_query
        monkeypatch.setattr(export_readers, "table_query", without_filter)
        before = _keys(s3, bucket)
        with pytest.raises(TenantIsolationError, match=r"^ml\.export_test_scores: 2 of 4 rows"):
            export_tenant(wh, TENANTS[0], ExportTarget(bucket, "unfiltered"), s3)
        assert _keys(s3, bucket) == before
    finally:
        wh.close()


def test_large_files_go_up_in_parts(
    duckdb_pipeline: BuiltPipeline, s3: Any, bucket: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    from serving.exports import upload

    # Every file counts as large: the multipart path, as a table of gigabytes would take.
    monkeypatch.setattr(upload, "MULTIPART_THRESHOLD", 0)
    with _warehouse(duckdb_pipeline) as wh:
        manifest = export_tenant(wh, TENANTS[0], ExportTarget(bucket, "alpha"), s3, as_of=AS_OF)
        _check_export(s3, bucket, manifest, wh, TENANTS[0])
    head = s3.head_object(Bucket=bucket, Key=manifest.files[0].key)
    assert head["Metadata"]["sha256"] == manifest.files[0].sha256


def test_csv_files_follow_rfc_4180_and_parquet_keeps_the_types(tmp_path: Path) -> None:
    from datetime import datetime

    from serving.exports.files import TableFiles

    schema = pa.schema(
        [
            ("tenant_id", pa.string()),
            ("text", pa.string()),
            ("n", pa.int64()),
            ("x", pa.float64()),
            ("ok", pa.bool_()),
            ("day", pa.date32()),
            ("at", pa.timestamp("us")),
        ]
    )
    batch = pa.RecordBatch.from_pylist(
        [
            {
                "tenant_id": "acme",
                "text": 'a, "quoted"\r\nline – café',
                "n": 1,
                "x": 0.5,
                "ok": True,
                "day": date(2024, 5, 1),
                "at": datetime(2024, 5, 1, 13, 45, 0, 250000),
            },
            {"tenant_id": "acme", "text": "", "n": None, "x": None, "ok": False},
        ],
        schema=schema,
    )
    files = TableFiles(tmp_path, "marts.fct_x", schema, ("csv", "parquet"))
    files.write(batch)
    written = {f.format: f for f in files.close()}
    csv = written["csv"].path.read_bytes()
    assert csv == (
        b"tenant_id,text,n,x,ok,day,at\r\n"
        b'"acme","a, ""quoted""\r\nline \xe2\x80\x93 caf\xc3\xa9",1,0.5,true,2024-05-01,'
        b'"2024-05-01T13:45:00.250000"\r\n'
        b'"acme","",,,false,,\r\n'
    )
    assert written["csv"].bytes == len(csv)
    assert written["csv"].sha256 == hashlib.sha256(csv).hexdigest()
    back = pq.read_table(written["parquet"].path)
    assert back.schema == schema
    assert back.to_pylist() == batch.to_pylist()


def test_settings_in_the_manifest_never_carry_credentials() -> None:
    from serving.exports.manifest import redact_settings

    assert redact_settings(
        {
            "attribution": {"lookback_days": 30, "as_of": date(2024, 5, 1)},
            "channels": [{"smtp_password": "hunter2", "host": "smtp.example.com"}],
            "API_KEY": "k",
            "bot_token": "t",
            "models": {"anomalies": "v3"},
        }
    ) == {
        "attribution": {"lookback_days": 30, "as_of": "2024-05-01"},
        "channels": [{"smtp_password": "[redacted]", "host": "smtp.example.com"}],
        "API_KEY": "[redacted]",
        "bot_token": "[redacted]",
        "models": {"anomalies": "v3"},
    }
