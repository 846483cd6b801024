"""Session-wide fixtures: a PostgreSQL server, and the whole pipeline built once per warehouse."""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from tests.support import commerce_world, moto_server, postgres_server

ROOT = Path(__file__).resolve().parent.parent
TENANTS = ("tenant_alpha", "tenant_beta")
# Every tenant's host figures also come through a hosting connector (Buzzsprout's fake serving
# the world's own figures), and every tenant has a YouTube channel (a fake with a few videos).
CONNECTED_PLATFORM = "buzzsprout"
# This tenant's orders come from a Shopify store (synced, the last day by webhook) instead of
# the order export; the other tenant keeps importing its orders from files. Every tenant has
# HubSpot leads and Google Analytics 4 traffic (tests/support/commerce_world.py), so every mart
# holds rows of both tenants.
STORE_TENANT = TENANTS[0]


# The two session pipelines are the suite's costliest fixtures. The suite runs on parallel
# workers (pytest-xdist, `--dist loadgroup` in pyproject.toml); every test of a session pipeline
# goes to one worker (one group for both: some tests compare the two engines), so each pipeline
# is built once and its tests keep their file order (some re-run the pipeline they share). Other
# tests go by file, so a module's fixtures are built once too; the files spread over the
# workers as they free up.
PIPELINE_FIXTURES = ("duckdb_pipeline", "postgres_pipeline")
PIPELINE_GROUP = "session_pipelines"


def uses_a_session_pipeline(item: pytest.Item) -> bool:
    """Whether a test uses a session pipeline: by name, or as the `pipeline` fixture's
    parameter (tests/e2e/conftest.py)."""
    wanted = set(getattr(item, "fixturenames", ()))
    callspec = getattr(item, "callspec", None)
    if callspec is not None:
        wanted |= {str(value) for value in callspec.params.values() if isinstance(value, str)}
    return any(name in wanted for name in PIPELINE_FIXTURES)


# First: xdist's own hook turns the group marks into the node ids it schedules by.
@pytest.hookimpl(tryfirst=True)
def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    for item in items:
        group = PIPELINE_GROUP if uses_a_session_pipeline(item) else item.nodeid.split("::")[0]
        item.add_marker(pytest.mark.xdist_group(group))


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server() -> Iterator[postgres_server.PostgresServer]:
    # Not under pytest's temporary root: every pytest run on the machine resets that root to
    # mode 0700, which would lock the unprivileged server out of its own data folder mid-run.
    base = Path(tempfile.mkdtemp(prefix="earshot-test-pg-"))
    data_dir = base / "data"
    server = postgres_server.start(data_dir, _free_port())
    try:
        yield server
    finally:
        postgres_server.stop(data_dir)
        shutil.rmtree(base, ignore_errors=True)


@dataclass(frozen=True)
class BuiltPipeline:
    """A small simulated world for two tenants, taken through the CLI end to end."""

    warehouse: str
    home: Path
    env: dict[str, str]
    exports: dict[str, Path]
    logs: str
    # Where the landing zone is: a local folder, or an S3 bucket on the test's moto server.
    landing: str = "local"
    # What each tenant's CRM and analytics (and STORE_TENANT's store) held, per tenant
    # (a commerce_world.CommerceWorld).
    commerce: dict[str, Any] = field(default_factory=dict)
    # The folder each tenant's files were imported from (STORE_TENANT's has no orders).
    ingested: dict[str, Path] = field(default_factory=dict)

    def earshot(self, *args: str, check: bool = True) -> subprocess.CompletedProcess[str]:
        return run_earshot(self.env, *args, check=check)


def run_earshot(env: dict[str, str], *args: str, check: bool = True):
    proc = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if check and proc.returncode != 0:
        raise AssertionError(
            f"earshot {' '.join(args)} exited {proc.returncode}\n{proc.stdout}\n{proc.stderr}"
        )
    return proc


def _build(warehouse: str, home: Path, extra_env: dict[str, str]) -> BuiltPipeline:
    from connectors.simulator import WorldConfig, simulate

    env = {
        **os.environ,
        "EARSHOT_HOME": str(home),
        "EARSHOT_WAREHOUSE": warehouse,
        "DAGSTER_HOME": str(home / "dagster"),
        **extra_env,
    }
    env.pop("EARSHOT_DUCKDB_PATH", None)
    exports: dict[str, Path] = {}
    logs: list[str] = []
    commerce: dict[str, Any] = {}
    ingested: dict[str, Path] = {}
    for i, tenant in enumerate(TENANTS):
        out = home.parent / f"export-{tenant}"
        simulate(WorldConfig.tiny(tenant_id=tenant, seed=7 + i), out)
        exports[tenant] = out
        files = out
        if tenant == STORE_TENANT:
            files = commerce_world.ingest_folder_without_orders(
                out, home.parent / f"files-{tenant}"
            )
        ingested[tenant] = files
        ingest = run_earshot(env, "ingest", "files", "--tenant", tenant, str(files))
        logs += [ingest.stdout, ingest.stderr]
        logs.append(_sync_host_connector(env, home, tenant, out, seed=7 + i))
        commerce[tenant], log = commerce_world.connect_store_and_crm(
            env,
            home,
            tenant,
            out,
            add_connectors=lambda connectors, t=tenant: _add_connectors(home, t, connectors),
            store_secret=lambda name, value, t=tenant: _store_secret(env, t, name, value),
            run_earshot=run_earshot,
            store=tenant == STORE_TENANT,
        )
        logs.append(log)
        run = run_earshot(env, "run", "--tenant", tenant)
        logs += [run.stdout, run.stderr]
    return BuiltPipeline(
        warehouse, home, env, exports, "\n".join(logs), commerce=commerce, ingested=ingested
    )


def _add_connectors(home: Path, tenant: str, connectors: dict[str, Any]) -> None:
    """Add connectors to the tenant's settings file, keeping those it has."""
    import yaml

    path = home / "tenants" / f"{tenant}.yaml"
    document = yaml.safe_load(path.read_text()) if path.exists() else {}
    document.setdefault("connectors", {}).update(connectors)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(yaml.safe_dump(document, sort_keys=False))


def _store_secret(env: dict[str, str], tenant: str, name: str, value: str) -> str:
    """Store a tenant secret as an operator does: through the CLI, from standard input."""
    stored = subprocess.run(
        [sys.executable, "-m", "pipelines.cli", "connectors", "set-secret"]
        + ["--tenant", tenant, "--name", name],
        input=value + "\n",
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
        check=True,
    )
    return stored.stdout + stored.stderr


def _sync_host_connector(
    env: dict[str, str], home: Path, tenant: str, export: Path, seed: int
) -> str:
    """Connect the tenant's Buzzsprout account (a fake serving the world's own host figures, with
    raw rows) and a YouTube channel (a fake with a few videos over the same days), store their
    credentials through the CLI, and sync both fully before the tenant's run."""
    import yaml

    from tests.fakes.buzzsprout import FakeBuzzsprout
    from tests.fakes.catalog import catalog_from_export
    from tests.fakes.youtube import FakeYouTube, youtube_catalog

    catalog = catalog_from_export(export)
    first_day = min(day for _, day in catalog.downloads)
    last_day = max(day for _, day in catalog.downloads)
    videos = youtube_catalog(first_day, (last_day - first_day).days + 1, seed=seed)
    secrets = {
        f"{CONNECTED_PLATFORM}_api_token": "e2e-buzzsprout-token",
        "youtube_client_id": "e2e-client.apps.googleusercontent.com",
        "youtube_client_secret": "e2e-youtube-secret",
        "youtube_refresh_token": "1//e2e-youtube-refresh",
    }
    with (
        FakeBuzzsprout(catalog, token=secrets[f"{CONNECTED_PLATFORM}_api_token"]) as fake,
        FakeYouTube(
            videos,
            secrets["youtube_client_id"],
            secrets["youtube_client_secret"],
            secrets["youtube_refresh_token"],
        ) as youtube,
    ):
        common = {
            "start_date": first_day.isoformat(),
            "rate_limit": {"requests": 1000, "per_seconds": 1},
        }
        connectors = {
            CONNECTED_PLATFORM: {"base_url": fake.base_url, "raw_rows": True, **common},
            "youtube": {
                "base_url": youtube.base_url,
                "token_url": "{base_url}/token",
                "data_api_base_url": "{base_url}/youtube/v3",
                "reporting_lag_days": 1,
                **common,
            },
        }
        folder = home / "tenants"
        folder.mkdir(parents=True, exist_ok=True)
        (folder / f"{tenant}.yaml").write_text(yaml.safe_dump({"connectors": connectors}))
        logs = [_store_secret(env, tenant, name, value) for name, value in secrets.items()]
        sync = run_earshot(
            env, "connectors", "sync", "--tenant", tenant, "--full", "--until", str(last_day)
        )
    return "\n".join([*logs, sync.stdout, sync.stderr])


@pytest.fixture(scope="session")
def duckdb_pipeline(tmp_path_factory: pytest.TempPathFactory) -> BuiltPipeline:
    return _build("duckdb", tmp_path_factory.mktemp("e2e-duckdb") / "home", {})


@pytest.fixture(scope="session")
def moto_endpoint() -> Iterator[str]:
    """A moto server (S3, Secrets Manager) for the whole session; nothing may reset it."""
    with moto_server.moto_server() as endpoint:
        yield endpoint


AWS_TEST_ENV = {
    "AWS_ACCESS_KEY_ID": "testing",
    "AWS_SECRET_ACCESS_KEY": "testing",
    "AWS_DEFAULT_REGION": "us-east-1",
}
LANDING_BUCKET = "earshot-e2e-landing"


@pytest.fixture(scope="session")
def postgres_pipeline(
    tmp_path_factory: pytest.TempPathFactory,
    pg_server: postgres_server.PostgresServer,
    moto_endpoint: str,
) -> BuiltPipeline:
    """The production deployment: PostgreSQL, S3 landing, keys in a secrets manager."""
    import secrets

    import boto3

    aws = {**AWS_TEST_ENV, "AWS_ENDPOINT_URL": moto_endpoint}
    session = boto3.session.Session(
        aws_access_key_id=aws["AWS_ACCESS_KEY_ID"],
        aws_secret_access_key=aws["AWS_SECRET_ACCESS_KEY"],
        region_name=aws["AWS_DEFAULT_REGION"],
    )
    session.client("s3", endpoint_url=moto_endpoint).create_bucket(Bucket=LANDING_BUCKET)
    secrets_manager = session.client("secretsmanager", endpoint_url=moto_endpoint)
    # tenant_alpha's key is provisioned by an operator; tenant_beta's is made by `tenant create`.
    secrets_manager.create_secret(
        Name=f"earshot-e2e/{TENANTS[0]}/pseudonym_key", SecretString=secrets.token_urlsafe(32)
    )
    env = {
        **pg_server.env(),
        **aws,
        "EARSHOT_DEPLOYMENT": "production",
        "EARSHOT_LANDING_BUCKET": LANDING_BUCKET,
        "EARSHOT_LANDING_PREFIX": "landing",
        "EARSHOT_SECRETS_BACKEND": "aws",
        "EARSHOT_SECRETS_PREFIX": "earshot-e2e",
        # Read by the leak test; nothing in Earshot uses it.
        "EARSHOT_TEST_PG_LOG": str(pg_server.data_dir / "server.log"),
    }
    home = tmp_path_factory.mktemp("e2e-postgres") / "home"
    created = run_earshot(
        {**os.environ, "EARSHOT_HOME": str(home), "DAGSTER_HOME": str(home / "dagster"), **env},
        *("tenant", "create", "--tenant", TENANTS[1], "--name", "Tenant Beta"),
    )
    assert "pseudonymisation key: created in AWS Secrets Manager" in created.stdout, created.stdout
    pipeline = _build("postgres", home, env)
    return BuiltPipeline(**{**pipeline.__dict__, "landing": "s3"})
