"""`make bench`: wall time, rows per second and peak memory per stage, ratios against a
straightforward pandas implementation and a hand-written DuckDB query of the five models, and
requests per second through IAB counting against the target.

    make bench                              # 1M and 10M download requests
    make bench BENCH_ARGS="--with-100m"     # and 100M (about 1M orders)
    make bench BENCH_ARGS="--sizes 1M"      # one size
    make bench BENCH_ARGS="--webhooks-only" # the webhook receiver alone (--deliveries N)
    make bench BENCH_ARGS="--exports-only"  # the tenant export alone (--export-rows N)

The figures describe this machine at this moment; nothing here asserts on them.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

ATTRIBUTION = "int_conversion_paths fct_attribution_credits"
# IAB counting: screen every request, find the unrealistic network-days, keep the excluded
# requests, reassemble and window downloads (the two classification models are views).
COUNTING = (
    "int_download_requests_screened int_unrealistic_network_days"
    " int_download_requests_classified int_download_requests_excluded int_downloads"
)
COUNTING_STAGE = "dbt counting (classify, reassemble, window)"
# The recursive window (first touch), timed on its own so its cost is visible.
ROLLING_WINDOW = "rolling_24h_first"
ROLLING_STAGE = f"dbt counting, {ROLLING_WINDOW}"
# The target for counting at 100M requests.
TARGET_REQUESTS_PER_S = 2_000_000
TARGET_PEAK_MB = 4 * 1024


@dataclass
class StageResult:
    size: str
    stage: str
    seconds: float
    peak_mb: float
    rows: int
    # Time inside the engine (dbt: from the first model's start to the last one's end; the
    # query; the pandas computation): the fair basis for the ratios, without process start-up
    # and dbt's parse.
    inner_seconds: float | None = None
    # dbt stages: the sum of the models' own times (more than inner_seconds when two ran at once)
    models_sum_seconds: float | None = None
    # dbt stages: each model's execution time; counting: the downloads it counted.
    models: dict[str, float] = field(default_factory=dict)
    downloads: int | None = None

    @property
    def rows_per_s(self) -> float:
        return self.rows / self.seconds if self.seconds > 0 else 0.0


def _parse_size(text: str) -> int:
    text = text.strip().upper()
    mult = {"K": 1_000, "M": 1_000_000}.get(text[-1], 1)
    return int(float(text.rstrip("KM")) * mult)


def run_stage(size: str, name: str, args: list[str]) -> StageResult:
    """Run one stage in its own process; its wall time and its own peak RSS."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.stages", *args], capture_output=True, text=True
    )
    seconds = time.perf_counter() - start
    if proc.returncode != 0:
        raise SystemExit(f"stage {name} failed:\n{proc.stdout[-2000:]}\n{proc.stderr[-4000:]}")
    report = json.loads(proc.stdout.strip().splitlines()[-1])
    return StageResult(
        size,
        name,
        seconds,
        report["peak_kb"] / 1024,
        int(report["rows"]),
        report.get("inner_seconds"),
        report.get("models_sum_seconds"),
        report.get("models", {}),
        report.get("downloads"),
    )


def bench_size(label: str, requests: int, workdir: Path, compare_pandas: bool) -> list[StageResult]:
    if workdir.exists():
        shutil.rmtree(workdir)
    workdir.mkdir(parents=True)
    w = str(workdir)
    plan: list[tuple[str, list[str]]] = [
        ("simulate", ["simulate", w, str(requests)]),
        ("land (file import)", ["land", w]),
        ("load raw", ["load_raw", w]),
        ("HMAC addresses, DuckDB SQL", ["pseudonymise_sql", w]),
        ("HMAC addresses, Python hmac", ["pseudonymise_python", w]),
        ("dbt seed", ["dbt", w, "seed"]),
        ("dbt staging", ["dbt", w, "path:models/staging"]),
        # The first-touch window first, so what follows is built with the default window.
        (ROLLING_STAGE, ["dbt_window", w, ROLLING_WINDOW, COUNTING]),
        (COUNTING_STAGE, ["dbt", w, COUNTING]),
        (
            "dbt intermediate (rest)",
            ["dbt", w, "path:models/intermediate", f"int_conversion_paths {COUNTING}"],
        ),
        ("dbt attribution", ["dbt", w, ATTRIBUTION]),
        ("dbt other marts", ["dbt", w, "path:models/marts", ATTRIBUTION]),
        ("handwritten DuckDB attribution", ["handwritten_duckdb", w]),
    ]
    if compare_pandas:
        plan.append(("pandas attribution", ["pandas_attribution", w]))
    results = []
    for name, args in plan:
        result = run_stage(label, name, args)
        results.append(result)
        inner = "" if result.inner_seconds is None else f" ({result.inner_seconds:.2f} s engine)"
        print(
            f"  {label:>5} {name:<46} {result.seconds:8.1f} s {result.rows:>13,} rows "
            f"{result.rows_per_s:>13,.0f} rows/s {result.peak_mb:>8,.0f} MB{inner}",
            flush=True,
        )
    return results


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="make bench")
    parser.add_argument("--sizes", default="1M,10M")
    parser.add_argument("--with-100m", action="store_true", help="add the 100M world")
    parser.add_argument("--workdir", default=None, help="default: $EARSHOT_HOME/bench")
    parser.add_argument("--keep", action="store_true", help="keep the worlds afterwards")
    parser.add_argument(
        "--connectors-only", action="store_true", help="only the connector sync benchmark"
    )
    parser.add_argument(
        "--webhooks-only", action="store_true", help="only the webhook receiver benchmark"
    )
    parser.add_argument(
        "--deliveries", type=int, default=None, help="webhook deliveries (default 2,000)"
    )
    parser.add_argument(
        "--exports-only", action="store_true", help="only the tenant export benchmark"
    )
    parser.add_argument(
        "--export-rows",
        type=int,
        default=None,
        help="export benchmark: the attribution table's rows per tenant (default 2,000,000)",
    )
    args = parser.parse_args(argv)
    from benchmarks.connectors import report as connector_report
    from benchmarks.exports import DEFAULT_EXPORT_ROWS
    from benchmarks.exports import report as export_report
    from benchmarks.webhooks import DEFAULT_DELIVERIES
    from benchmarks.webhooks import report as webhook_report

    deliveries = args.deliveries or DEFAULT_DELIVERIES
    export_rows = args.export_rows or DEFAULT_EXPORT_ROWS
    if args.connectors_only:
        print(connector_report())
        return 0
    if args.webhooks_only:
        print(webhook_report(deliveries))
        return 0
    if args.exports_only:
        print(export_report(export_rows))
        return 0
    sizes = [s.strip().upper() for s in args.sizes.split(",") if s.strip()]
    if args.with_100m and "100M" not in sizes:
        sizes.append("100M")
    base = Path(args.workdir or Path(os.environ.get("EARSHOT_HOME", ".earshot")) / "bench")
    print(f"Earshot benchmark on {os.cpu_count()} cores; worlds under {base}")
    print(
        "Each stage runs in its own process: wall time includes its start-up (dbt about 3-4 s).\n"
    )
    all_results: list[StageResult] = []
    for label in sizes:
        requests = _parse_size(label)
        all_results += bench_size(
            label, requests, base / label, compare_pandas=requests <= 10_000_000
        )
        if not args.keep:
            shutil.rmtree(base / label, ignore_errors=True)
        print()
    print(summary(all_results))
    print()
    print(connector_report())
    print()
    print(webhook_report(deliveries))
    print()
    print(export_report(export_rows))
    return 0


def summary(results: list[StageResult]) -> str:
    """Ratios on the engines' own time (`inner`): dbt models vs one hand-written query vs pandas."""
    lines = ["Attribution stage (conversion paths + five models), engine time without start-up:"]
    for size in dict.fromkeys(r.size for r in results):
        by = {r.stage: r for r in results if r.size == size}
        dbt_stage = by["dbt attribution"]
        hand = by["handwritten DuckDB attribution"]
        dbt_s, hand_s = dbt_stage.inner_seconds or 0.0, hand.inner_seconds or 0.0
        line = (
            f"  {size:>5}: dbt {dbt_s:.2f} s ({dbt_stage.rows:,} credits, peak "
            f"{dbt_stage.peak_mb:,.0f} MB); hand-written DuckDB {hand_s:.2f} s "
            f"({hand.rows:,} credits) -> dbt / hand-written = {dbt_s / max(hand_s, 1e-9):.2f}x"
        )
        if "pandas attribution" in by:
            pd_stage = by["pandas attribution"]
            pd_s = pd_stage.inner_seconds or 0.0
            line += (
                f"; pandas {pd_s:.2f} s ({pd_stage.rows:,} credits, peak "
                f"{pd_stage.peak_mb:,.0f} MB) -> pandas / dbt = {pd_s / max(dbt_s, 1e-9):.2f}x"
            )
        lines.append(line)
        sql, py = by["HMAC addresses, DuckDB SQL"], by["HMAC addresses, Python hmac"]
        sql_s, py_s = sql.inner_seconds or 0.0, py.inner_seconds or 0.0
        lines.append(
            f"         keyed HMAC of {sql.rows:,} addresses: DuckDB SQL {sql_s:.2f} s "
            f"({sql.rows / max(sql_s, 1e-9):,.0f}/s), Python hmac {py_s:.2f} s "
            f"-> Python / SQL = {py_s / max(sql_s, 1e-9):.2f}x (staging hashes distinct "
            "addresses only)"
        )
        lines += _counting_lines(by)
        pipeline = [r for r in results if r.size == size and r.stage not in _YARDSTICKS]
        total = sum(r.seconds for r in pipeline)
        peak = max(r.peak_mb for r in pipeline)
        lines.append(
            f"         whole pipeline {total:.1f} s wall (with start-ups), "
            f"peak {peak:,.0f} MB in one stage"
        )
    return "\n".join(lines)


def _counting_lines(by: dict[str, StageResult]) -> list[str]:
    """Requests per second through IAB counting (requests in / engine seconds) and its peak."""
    lines = []
    default, rolling = by[COUNTING_STAGE], by[ROLLING_STAGE]
    for label, stage in (("default window", default), (ROLLING_WINDOW, rolling)):
        seconds = stage.inner_seconds or 0.0
        rate = stage.rows / max(seconds, 1e-9)
        lines.append(
            f"         IAB counting, {label}: {stage.rows:,} requests -> {stage.downloads or 0:,} "
            f"downloads in {seconds:.2f} s engine = {rate:,.0f} requests/s, peak "
            f"{stage.peak_mb:,.0f} MB (target >= {TARGET_REQUESTS_PER_S:,}/s and "
            f"< {TARGET_PEAK_MB:,} MB at 100M: {_verdict(rate, stage.peak_mb)})"
        )
    per_model = ", ".join(f"{name} {secs:.2f} s" for name, secs in default.models.items())
    lines.append(
        f"         counting by model, default window: {per_model} (sum "
        f"{default.models_sum_seconds or 0.0:.2f} s: the last two run side by side)"
    )
    base = default.models.get("int_downloads", 0.0)
    first = rolling.models.get("int_downloads", 0.0)
    lines.append(
        f"         int_downloads alone: default window {base:.2f} s, {ROLLING_WINDOW} "
        f"{first:.2f} s -> {first / max(base, 1e-9):.2f}x"
    )
    return lines


def _verdict(rate: float, peak_mb: float) -> str:
    speed = "speed met" if rate >= TARGET_REQUESTS_PER_S else "speed not met"
    memory = "memory met" if peak_mb < TARGET_PEAK_MB else "memory not met"
    return f"{speed}, {memory}"


_YARDSTICKS = (
    ROLLING_STAGE,
    "handwritten DuckDB attribution",
    "pandas attribution",
    "HMAC addresses, DuckDB SQL",
    "HMAC addresses, Python hmac",
)


if __name__ == "__main__":
    sys.exit(main())
