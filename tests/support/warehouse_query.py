"""Read a built pipeline's warehouse from a test, whichever engine it is."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pandas as pd

if TYPE_CHECKING:
    from tests.conftest import BuiltPipeline


def read_sql(warehouse: str, home: Path, env: dict[str, str], sql: str) -> pd.DataFrame:
    if warehouse == "duckdb":
        import duckdb

        with duckdb.connect(str(home / "warehouse.duckdb"), read_only=True) as conn:
            return conn.execute(sql).fetch_df()
    import psycopg

    with psycopg.connect(
        host=env["EARSHOT_PG_HOST"],
        port=int(env["EARSHOT_PG_PORT"]),
        user=env["EARSHOT_PG_USER"],
        dbname=env["EARSHOT_PG_DATABASE"],
    ) as conn:
        cur = conn.execute(sql)
        cols = [d.name for d in cur.description]
        return pd.DataFrame(cur.fetchall(), columns=cols)


def sql(pipeline: BuiltPipeline, query: str) -> pd.DataFrame:
    """``query``'s result from a built pipeline's warehouse."""
    return read_sql(pipeline.warehouse, pipeline.home, pipeline.env, query)


def pipeline_tenant_key(root: Path, env: dict[str, str], tenant: str) -> bytes:
    """The pseudonymisation key a built pipeline used for ``tenant``, read through its own
    secret store in a child process (its environment, not the test's)."""
    import subprocess
    import sys

    code = (
        "import sys; from warehouse.pseudonymisation import tenant_key;"
        f" sys.stdout.write(tenant_key({tenant!r}).hex())"
    )
    proc = subprocess.run(
        [sys.executable, "-c", code], cwd=root, env=env, capture_output=True, text=True
    )
    assert proc.returncode == 0, proc.stderr
    return bytes.fromhex(proc.stdout)
