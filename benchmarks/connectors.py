"""Connector sync throughput: the framework against a plain loop, on the same local fake.

    python -m benchmarks.connectors            # both, each in its own process
    make bench BENCH_ARGS="--connectors-only"  # the same from make

A hosting API is slow and rate-limited, so a real sync's time is the API's. What is measured
here is what Earshot adds per request and per row when the API is not the limit: a Buzzsprout
fake on this machine, unpaced, with 200 episodes over 60 days and their raw download rows. The
framework validates every record, lands each day in a landing transaction with its source record
and checkpoints it; the plain loop (`requests` and one Parquet file at the end) does none of
that and is what a throw-away script would do. Both run in their own process, with the fake
server in that process too, so both pay for it alike.
"""

from __future__ import annotations

import json
import resource
import subprocess
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path

FIRST_DAY = date(2026, 7, 1)
DAYS = 60
SHOWS = 4
EPISODES_PER_SHOW = 50
TOKEN = "bench-token"


def _catalog():  # type: ignore[no-untyped-def]
    from tests.fakes.catalog import make_catalog

    return make_catalog(
        seed=11,
        shows=SHOWS,
        episodes_per_show=EPISODES_PER_SHOW,
        first_day=FIRST_DAY,
        days=DAYS,
        numeric_ids=True,
    )


def framework(workdir: Path) -> dict:
    """A full sync of downloads and raw rows through the connector framework."""
    from connectors.framework.settings import parse_settings
    from connectors.framework.sync import FULL, sync_connector
    from connectors.hosting.buzzsprout import Buzzsprout, BuzzsproutSettings
    from tests.fakes.buzzsprout import FakeBuzzsprout
    from warehouse.landing import LandingZone

    with FakeBuzzsprout(_catalog(), token=TOKEN) as fake:
        settings = parse_settings(
            BuzzsproutSettings,
            {
                "base_url": fake.base_url,
                "start_date": FIRST_DAY.isoformat(),
                "rate_limit": {"requests": 100_000, "per_seconds": 1},
                "raw_rows": True,
            },
            "benchmark",
            "buzzsprout",
        )
        last = FIRST_DAY + timedelta(days=DAYS - 1)
        connector = Buzzsprout(
            "bench", settings, {"api_token": TOKEN}, today=last + timedelta(days=1)
        )
        start = time.perf_counter()
        report = sync_connector(
            connector,
            LandingZone(workdir / "landing"),
            mode=FULL,
            streams=["host_downloads_daily", "download_events"],
        )
        seconds = time.perf_counter() - start
    rows = sum(s.rows_landed for s in report.streams)
    return {"rows": rows, "requests": report.requests, "seconds": seconds}


def plain(workdir: Path) -> dict:
    """The same requests with `requests`, rows kept in lists, one Parquet file per entity."""
    import pyarrow as pa
    import pyarrow.parquet as pq
    import requests

    from tests.fakes.buzzsprout import FakeBuzzsprout

    headers = {"Authorization": f"Token token={TOKEN}", "User-Agent": "bench/1"}
    with FakeBuzzsprout(_catalog(), token=TOKEN) as fake, requests.Session() as session:
        session.headers.update(headers)
        start = time.perf_counter()
        requests_made = 1
        podcasts = session.get(f"{fake.base_url}/api/podcasts.json").json()
        daily, events = [], []
        for offset in range(DAYS):
            day = (FIRST_DAY + timedelta(days=offset)).isoformat()
            for podcast in podcasts:
                base = f"{fake.base_url}/api/{podcast['id']}"
                totals = session.get(f"{base}/downloads", params={"date": day}).json()
                requests_made += 1
                for total in totals:
                    daily.append({"episode_id": str(total["episode_id"]), "date": day, **total})
                    page = 1
                    while page:
                        body = session.get(
                            f"{base}/{total['episode_id']}/downloads",
                            params={"date": day, "page": page, "per_page": 1000},
                        ).json()
                        requests_made += 1
                        events.extend(
                            {"episode_id": str(total["episode_id"]), "date": day, **row}
                            for row in body["downloads"]
                        )
                        page = body["pagination"]["next_page"]
        pq.write_table(pa.Table.from_pylist(daily), workdir / "daily.parquet")
        pq.write_table(pa.Table.from_pylist(events), workdir / "events.parquet")
        seconds = time.perf_counter() - start
    return {"rows": len(daily) + len(events), "requests": requests_made, "seconds": seconds}


def run(mode: str) -> dict:
    """One mode in its own process: its figures and its own peak RSS."""
    start = time.perf_counter()
    proc = subprocess.run(
        [sys.executable, "-m", "benchmarks.connectors", "--mode", mode],
        capture_output=True,
        text=True,
    )
    if proc.returncode != 0:
        raise SystemExit(f"connector benchmark {mode} failed:\n{proc.stderr[-4000:]}")
    result = json.loads(proc.stdout.strip().splitlines()[-1])
    result["wall_seconds"] = time.perf_counter() - start
    return result


def report() -> str:
    results = {mode: run(mode) for mode in ("framework", "plain")}
    lines = [
        f"Connector sync (Buzzsprout fake, {SHOWS * EPISODES_PER_SHOW} episodes x {DAYS} days, "
        "daily figures and raw rows, unpaced):"
    ]
    for mode, label in (("framework", "Earshot connector framework"), ("plain", "plain loop")):
        r = results[mode]
        lines.append(
            f"  {label:<30} {r['seconds']:7.1f} s {r['requests']:>7,} requests "
            f"{r['rows']:>9,} rows {r['rows'] / r['seconds']:>10,.0f} rows/s "
            f"{r['peak_kb'] / 1024:>6,.0f} MB peak"
        )
    ratio = results["framework"]["seconds"] / results["plain"]["seconds"]
    lines.append(
        f"  framework / plain loop: {ratio:.2f}x the time, for validation, quarantine, "
        "lineage, a landing transaction and a checkpoint per day"
    )
    return "\n".join(lines)


def main(argv: list[str]) -> None:
    if argv[:1] == ["--mode"]:
        with tempfile.TemporaryDirectory() as folder:
            result = {"framework": framework, "plain": plain}[argv[1]](Path(folder))
        peak_kb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        print(json.dumps({**result, "peak_kb": peak_kb}))
        return
    print(report())


if __name__ == "__main__":
    main(sys.argv[1:])
