"""A million combined-log lines through the log importer.

The test checks that every line lands with its line number; it prints the lines per second it
saw (it never asserts on time: the figure depends on the machine and on what else runs on it).
"""

from __future__ import annotations

import time
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from connectors.logs import import_logs
from tests.unit.logs.logs import APPLE_PHONE, APPLE_WATCH, GOOGLEBOT, OVERCAST, SPOTIFY, TENANT
from warehouse.landing import LandingZone

LINES = 1_000_000


def _text(values: np.ndarray) -> pa.Array:
    return pc.cast(pa.array(values), pa.string())


def write_combined_log(path: Path, n: int, seed: int = 2026) -> Path:
    """``n`` lines over a week, built column-wise (no Python loop per line)."""
    rng = np.random.default_rng(seed)
    octets = [_text(rng.integers(1, 255, n)) for _ in range(4)]
    ip = pc.binary_join_element_wise(*octets, ".")
    start = np.datetime64("2026-10-05T00:00:00", "s")
    ts = pa.array(start + np.sort(rng.integers(0, 7 * 86400, n)).astype("timedelta64[s]"))
    when = pc.strftime(ts, format="%d/%b/%Y:%H:%M:%S +0000")
    agents = pa.array([APPLE_PHONE, OVERCAST, SPOTIFY, APPLE_WATCH, GOOGLEBOT])
    agent = pc.take(agents, pa.array(rng.integers(0, len(agents), n)))
    episode = _text(rng.integers(1, 500, n))
    status = pc.take(pa.array(["200", "206", "206", "304"]), pa.array(rng.integers(0, 4, n)))
    sent = _text(rng.integers(0, 50_000_000, n))
    lines = pc.binary_join_element_wise(
        ip,
        " - - [",
        when,
        '] "GET /show-a/ep-',
        episode,
        '.mp3 HTTP/1.1" ',
        status,
        " ",
        sent,
        ' "-" "',
        agent,
        '"',
        "",
    )
    with path.open("wb") as handle:
        for chunk in pa.chunked_array([lines]).chunks:
            handle.write(("\n".join(chunk.to_pylist()) + "\n").encode())
    return path


@pytest.fixture(scope="module")
def million(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_combined_log(tmp_path_factory.mktemp("million") / "access.log", LINES)


def test_a_million_combined_log_lines(
    million: Path, tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    zone = LandingZone(tmp_path / "landing")
    wall, cpu = time.perf_counter(), time.process_time()
    report = import_logs(TENANT, [million], zone, "combined")
    wall, cpu = time.perf_counter() - wall, time.process_time() - cpu

    assert report.ok, report.format()
    assert report.rows_landed == LINES
    rows = zone.read(TENANT, "logs_combined", "download_requests").select(["_source_row"])
    assert pc.max(rows["_source_row"]).as_py() == LINES
    assert pc.count_distinct(rows["_source_row"]).as_py() == LINES
    with capsys.disabled():
        size = million.stat().st_size / 1e6
        print(
            f"\nlog import, combined, {LINES:,} lines ({size:.0f} MB): {wall:.1f} s wall, "
            f"{cpu:.1f} s CPU, {LINES / wall:,.0f} lines/s"
        )
