"""Session-wide fixtures: a PostgreSQL server, and the whole pipeline built once per warehouse."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support import moto_server, postgres_server

ROOT = Path(__file__).resolve().parent.parent
TENANTS = ("tenant_alpha", "tenant_beta")


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="session")
def pg_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[postgres_server.PostgresServer]:
    data_dir = tmp_path_factory.mktemp("postgres") / "data"
    server = postgres_server.start(data_dir, _free_port())
    try:
        yield server
    finally:
        postgres_server.stop(data_dir)


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
    for i, tenant in enumerate(TENANTS):
        out = home.parent / f"export-{tenant}"
        simulate(WorldConfig.tiny(tenant_id=tenant, seed=7 + i), out)
        exports[tenant] = out
        ingest = run_earshot(env, "ingest", "files", "--tenant", tenant, str(out))
        run = run_earshot(env, "run", "--tenant", tenant)
        logs += [ingest.stdout, ingest.stderr, run.stdout, run.stderr]
    return BuiltPipeline(warehouse, home, env, exports, "\n".join(logs))


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
