"""The normal distribution macros of dbt_project/macros/statistics.sql against Python's
statistics.NormalDist, run through dbt on DuckDB and on PostgreSQL."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from statistics import NormalDist

import pytest

from tests.support.postgres_server import PostgresServer, fresh_database
from warehouse.pseudonymisation import dbt_environment

ROOT = Path(__file__).resolve().parents[2]
DBT_DIR = ROOT / "dbt_project"
KEY = b"earshot-statistics-macro-tests: not a secret"

# Both tails far out, the A&S and Acklam break points, the usual critical values, and 0.
XS = [-40.0, -8.0, -5.0, -3.0, -1.959964, -1.0, -0.5, -0.001, 0.0, 0.3, 1.0, 1.644854, 2.5, 4.0,
      8.0, 40.0]  # fmt: skip
PS = [1e-12, 1e-6, 1e-4, 0.01, 0.02424, 0.02425, 0.02426, 0.025, 0.1, 0.5, 0.8, 0.95, 0.975,
      0.97574, 0.97575, 0.97576, 0.99, 0.9999, 1 - 1e-9]  # fmt: skip
# Abramowitz & Stegun 7.1.26 bounds erf's error by 1.5e-7, so Phi's by 7.5e-8; Acklam's
# quantile has a relative error of at most 1.15e-9.
CDF_TOLERANCE = 1e-7
QUANTILE_RELATIVE_TOLERANCE = 1e-8


def _values(numbers: list[float]) -> str:
    return ", ".join(f"({n!r})" for n in numbers)


def _show(env: dict[str, str], sql: str) -> list[dict]:
    dbt = str(Path(sys.executable).parent / "dbt")
    proc = subprocess.run(
        [dbt, "show", "--inline", sql, "--output", "json", "--limit", "1000", "--log-format",
         "json", "--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)],
        cwd=DBT_DIR, env=env, capture_output=True, text=True,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    for line in proc.stdout.splitlines():
        event = json.loads(line)
        if "preview" in event.get("data", {}):
            return json.loads(event["data"]["preview"])
    raise AssertionError(f"dbt show printed no rows:\n{proc.stdout[-3000:]}")


@pytest.fixture(params=["duckdb", "postgres"])
def dbt_env(request: pytest.FixtureRequest, tmp_path: Path) -> dict[str, str]:
    env = {
        **os.environ,
        "DBT_TARGET": request.param,
        "DBT_TARGET_PATH": str(tmp_path / "target"),
        "DBT_LOG_PATH": str(tmp_path / "logs"),
        "EARSHOT_DUCKDB_PATH": str(tmp_path / "stats.duckdb"),
        **dbt_environment(KEY, base={}),
    }
    if request.param == "postgres":
        server: PostgresServer = request.getfixturevalue("pg_server")
        env.update(server.env())
        fresh_database(server, "dbt_statistics")
        env["EARSHOT_PG_DATABASE"] = "dbt_statistics"
    return env


def test_normal_cdf_and_quantile_match_python(dbt_env: dict[str, str]) -> None:
    sql = (
        "select 'cdf' as fn, x as arg, {{ normal_cdf('x') }} as value"
        f" from (values {_values(XS)}) as xs (x)"
        " union all"
        " select 'quantile' as fn, p as arg, {{ normal_quantile('p') }} as value"
        f" from (values {_values(PS)}) as ps (p)"
    )
    rows = _show(dbt_env, sql)
    normal = NormalDist()
    cdf = {float(r["arg"]): r["value"] for r in rows if r["fn"] == "cdf"}
    quantile = {float(r["arg"]): r["value"] for r in rows if r["fn"] == "quantile"}
    assert len(cdf) == len(XS) and len(quantile) == len(PS), rows
    for x in XS:
        assert abs(cdf[x] - normal.cdf(x)) <= CDF_TOLERANCE, (x, cdf[x], normal.cdf(x))
    # The approximation's coefficients sum to 1 - 1e-9 (erf(0) = 1e-9); the far tails are
    # exact probabilities, never outside [0, 1], and the function never decreases.
    assert cdf[0.0] == pytest.approx(0.5, abs=1e-9)
    assert [cdf[x] for x in XS] == sorted(cdf[x] for x in XS)
    assert 0.0 <= cdf[-40.0] < 1e-300 and cdf[40.0] == 1.0
    for p in PS:
        expected = normal.inv_cdf(p)
        tolerance = QUANTILE_RELATIVE_TOLERANCE * max(abs(expected), 1e-3)
        assert abs(quantile[p] - expected) <= tolerance, (p, quantile[p], expected)


def test_out_of_range_arguments_give_null(dbt_env: dict[str, str]) -> None:
    sql = (
        "select p, {{ normal_quantile('p') }} as q, {{ normal_cdf('x') }} as c"
        " from (values (0.0, cast(null as double precision)), (1.0, null), (-0.5, null),"
        " (1.5, null)) as t (p, x)"
    )
    rows = _show(dbt_env, sql)
    assert len(rows) == 4
    assert all(r["q"] is None and r["c"] is None for r in rows), rows
