"""One benchmark stage per process, so each stage's peak memory is its own.

`python -m benchmarks.stages STAGE WORKDIR [N]` runs one stage and prints one JSON line with
the rows it handled. The parent (`benchmarks/__main__.py`) times it and reads its peak RSS.
"""

from __future__ import annotations

import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

TENANT = "bench"
ROOT = Path(__file__).resolve().parent.parent
DBT_DIR = ROOT / "dbt_project"


BENCH_KEY = b"earshot-benchmark-key-not-a-secret"


def _env(workdir: Path) -> dict[str, str]:
    from warehouse.pseudonymisation import dbt_environment

    return {
        **os.environ,
        # A throw-away key: the benchmark measures the keyed hashing, not a tenant's secret.
        **dbt_environment(BENCH_KEY),
        "EARSHOT_HOME": str(workdir / "home"),
        "EARSHOT_DUCKDB_PATH": str(workdir / "home" / "warehouse.duckdb"),
        "DBT_TARGET": "duckdb",
        "DBT_TARGET_PATH": str(workdir / "dbt-target"),
        "DBT_LOG_PATH": str(workdir / "dbt-logs"),
    }


def simulate(workdir: Path, requests: int) -> dict:
    from connectors.simulator import WorldConfig, simulate

    summary = simulate(WorldConfig.for_requests(requests, tenant_id=TENANT), workdir / "export")
    return {"rows": summary.rows("download_requests"), "detail": summary.describe()}


def land(workdir: Path) -> dict:
    from connectors.files import import_directory
    from warehouse.landing import LandingZone

    report = import_directory(TENANT, workdir / "export", LandingZone(workdir / "home" / "landing"))
    by_entity = report.by_entity()
    return {"rows": sum(s.rows_landed for s in by_entity.values())}


def load_raw(workdir: Path) -> dict:
    from warehouse.connection import DuckDBWarehouse
    from warehouse.entities import ENTITIES
    from warehouse.landing import LandingZone
    from warehouse.raw_loader import load_entity

    zone = LandingZone(workdir / "home" / "landing")
    wh = DuckDBWarehouse(workdir / "home" / "warehouse.duckdb")
    rows = 0
    try:
        for entity in ENTITIES:
            rows += load_entity(
                wh, TENANT, entity, zone.storage, zone.files(TENANT, "files", entity)
            ).rows
    finally:
        wh.close()
    return {"rows": rows}


def dbt(workdir: Path, select: str, exclude: str = "", window: str = "") -> dict:
    """`dbt run` of one selection (`seed` runs `dbt seed`), for the bench tenant.

    `window` sets var `download_window` (the tenant's counting window); empty keeps the default.
    """
    dbt_bin = str(Path(sys.executable).parent / "dbt")
    vars_ = json.dumps({"tenant_id": TENANT, **({"download_window": window} if window else {})})
    if select == "seed":
        command = ["seed"]
    else:
        command = ["run", "--select", *select.split()]
        if exclude:
            command += ["--exclude", *exclude.split()]
    project = ["--project-dir", str(DBT_DIR), "--profiles-dir", str(DBT_DIR)]
    proc = subprocess.run(
        [dbt_bin, *command, "--vars", vars_, *project],
        cwd=DBT_DIR,
        env=_env(workdir),
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise RuntimeError(f"dbt {' '.join(command)} failed:\n{proc.stdout[-4000:]}")
    # The models' own time, without dbt's start-up and parse: from the first model's start to
    # the last one's end. dbt runs two models at a time on the two cores, so the sum of their
    # times counts the overlap twice; it is reported too.
    results = json.loads((workdir / "dbt-target" / "run_results.json").read_text())
    inner = _execution_span(results["results"])
    models_sum = sum(r.get("execution_time") or 0.0 for r in results["results"])
    # Per model too, so the summary can single out one model (the counting window's cost).
    models = {
        r["unique_id"].rsplit(".", 1)[-1]: r.get("execution_time") or 0.0
        for r in results["results"]
    }
    report = {
        "rows": _count(workdir, select),
        "inner_seconds": inner,
        "models_sum_seconds": models_sum,
        "models": models,
    }
    if "int_downloads" in select.split():
        report["downloads"] = _count(workdir, "int_downloads")
    return report


def _execution_span(results: list[dict]) -> float:
    """Seconds from the first model's execution start to the last one's end (run_results)."""
    from datetime import datetime

    phases = [t for r in results for t in r.get("timing", []) if t.get("name") == "execute"]
    if not phases:
        return sum(r.get("execution_time") or 0.0 for r in results)
    start = min(datetime.fromisoformat(t["started_at"].replace("Z", "+00:00")) for t in phases)
    end = max(datetime.fromisoformat(t["completed_at"].replace("Z", "+00:00")) for t in phases)
    return (end - start).total_seconds()


# The table whose rows a selection reports, first match wins. Counting reports the requests it
# took in (every distinct log line is classified), the basis of its requests per second.
_COUNT_TABLE = {
    # every distinct log line (the classification is a view: counting it would classify again)
    "int_download_requests_classified": "staging.stg_files__download_requests",
    "int_downloads": "intermediate.int_downloads",
    "models/staging": "staging.stg_files__download_requests",
    "models/intermediate": "intermediate.int_ad_impressions",
    "fct_attribution_credits": "marts.fct_attribution_credits",
    "models/marts": "marts.fct_campaign_performance",
}


def _count(workdir: Path, select: str) -> int:
    import duckdb

    # The attribution selection names fct_attribution_credits; check it before the layers.
    table = next((t for k, t in _COUNT_TABLE.items() if k in select), None)
    if table is None:
        return 0
    with duckdb.connect(str(workdir / "home" / "warehouse.duckdb"), read_only=True) as conn:
        return int(conn.execute(f"select count(*) from {table}").fetchone()[0])


def pandas_attribution(workdir: Path) -> dict:
    import duckdb

    from benchmarks.pandas_attribution import attribute

    with duckdb.connect(str(workdir / "home" / "warehouse.duckdb"), read_only=True) as conn:
        touchpoints = conn.execute(
            "select tenant_id, touchpoint_id, household_id, touch_ts, placement_id, campaign_id "
            "from intermediate.int_touchpoints"
        ).fetch_df()
        conversions = conn.execute(
            "select tenant_id, conversion_id, household_id, conversion_ts, revenue "
            "from intermediate.int_conversions"
        ).fetch_df()
    start = time.perf_counter()
    credits = attribute(touchpoints, conversions)
    # Same rows as the mart: first and last touch keep only the credited touch.
    credits = credits[
        (credits["credit"] > 0) | ~credits["model"].isin(["first_touch", "last_touch"])
    ]
    return {"rows": len(credits), "inner_seconds": time.perf_counter() - start}


def handwritten_duckdb(workdir: Path) -> dict:
    import duckdb

    sql = (Path(__file__).parent / "handwritten_attribution.sql").read_text()
    with duckdb.connect(str(workdir / "home" / "warehouse.duckdb")) as conn:
        conn.execute("create schema if not exists bench")
        start = time.perf_counter()
        conn.execute(sql)
        inner = time.perf_counter() - start
        rows = conn.execute("select count(*) from bench.handwritten_credits").fetchone()[0]
        conn.execute("drop table bench.handwritten_credits")
    return {"rows": int(rows), "inner_seconds": inner}


# macros/pseudonymise.sql's DuckDB body, on the raw addresses, with the session's pads.
_HMAC_SQL = (
    "sha256(cast(getvariable('earshot_hmac_opad') as blob)"
    " || unhex(sha256(cast(getvariable('earshot_hmac_ipad') as blob) || encode(ip))))"
)


def pseudonymise_sql(workdir: Path) -> dict:
    """Keyed HMAC of every request's address in DuckDB SQL, as staging computes it."""
    import duckdb

    from warehouse.pseudonymisation import hmac_pads

    ipad, opad = hmac_pads(BENCH_KEY)
    with duckdb.connect(str(workdir / "home" / "warehouse.duckdb"), read_only=True) as conn:
        conn.execute("set variable earshot_hmac_ipad = ?", [ipad])
        conn.execute("set variable earshot_hmac_opad = ?", [opad])
        start = time.perf_counter()
        # Every row's key is computed once and kept (as the Python loop below keeps its list).
        rows, distinct = conn.execute(
            "select count(network_key), count(distinct network_key) from"
            f" (select {_HMAC_SQL} as network_key from raw.download_requests)"
        ).fetchone()
        inner = time.perf_counter() - start
    return {"rows": int(rows), "inner_seconds": inner, "distinct": int(distinct)}


def pseudonymise_python(workdir: Path) -> dict:
    """The straightforward alternative: Python's hmac over the same addresses, row by row."""
    import hashlib
    import hmac

    import duckdb

    with duckdb.connect(str(workdir / "home" / "warehouse.duckdb"), read_only=True) as conn:
        addresses = conn.execute("select ip from raw.download_requests").to_arrow_table()
    start = time.perf_counter()
    keys = [
        hmac.new(BENCH_KEY, ip.encode(), hashlib.sha256).hexdigest()
        for ip in addresses.column("ip").to_pylist()
        if ip is not None
    ]
    return {"rows": len(keys), "inner_seconds": time.perf_counter() - start}


def main(argv: list[str]) -> None:
    stage, workdir = argv[0], Path(argv[1])
    os.environ.update(_env(workdir))
    if stage == "simulate":
        result = simulate(workdir, int(argv[2]))
    elif stage == "land":
        result = land(workdir)
    elif stage == "load_raw":
        result = load_raw(workdir)
    elif stage == "dbt":
        result = dbt(workdir, argv[2], argv[3] if len(argv) > 3 else "")
    elif stage == "dbt_window":
        # dbt_window WORKDIR WINDOW SELECT: a selection built with another counting window.
        result = dbt(workdir, argv[3], window=argv[2])
    elif stage == "pandas_attribution":
        result = pandas_attribution(workdir)
    elif stage == "handwritten_duckdb":
        result = handwritten_duckdb(workdir)
    elif stage == "pseudonymise_sql":
        result = pseudonymise_sql(workdir)
    elif stage == "pseudonymise_python":
        result = pseudonymise_python(workdir)
    else:
        raise SystemExit(f"unknown stage {stage}")
    # Peak RSS of this process and of any it waited for (dbt runs as a child process).
    peak_kb = max(
        resource.getrusage(resource.RUSAGE_SELF).ru_maxrss,
        resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss,
    )
    print(json.dumps({**result, "peak_kb": peak_kb}))


if __name__ == "__main__":
    main(sys.argv[1:])
