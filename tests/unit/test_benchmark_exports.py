"""`make bench`'s tenant export benchmark runs end to end on a tiny warehouse and prints its
figures (nothing here looks at how long anything took)."""

from __future__ import annotations

import re

import pytest

from benchmarks.__main__ import main

# --export-rows 2000: 2,000 attribution rows per tenant, 200 daily download rows, 10 campaigns
# (the least) and 100 model-comparison rows.
TENANT_ROWS = 2_000 + 200 + 10 + 100
SIDE = re.compile(
    r"^  (?P<side>Earshot export_tenant|pandas script)\s+(?P<seconds>[\d.]+)\s+"
    r"(?P<rate>[\d,]+)\s+(?P<peak>[\d,]+)\s+(?P<mb>[\d.,]+)\s+(?P<objects>\d+)$",
    re.MULTILINE,
)


def test_export_benchmark_prints_both_sides(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--exports-only", "--export-rows", "2000"]) == 0
    out = capsys.readouterr().out

    assert f"one tenant's {TENANT_ROWS:,} rows" in out
    # Two tenants, four tables.
    assert f"warehouse of {2 * TENANT_ROWS:,} rows in 4 mart-shaped tables" in out
    sides = {m["side"]: m for m in SIDE.finditer(out)}
    assert set(sides) == {"Earshot export_tenant", "pandas script"}
    # Earshot: CSV and Parquet of each of the four tables, manifest.json and latest.json;
    # the script: the eight files and its manifest.
    assert int(sides["Earshot export_tenant"]["objects"]) == 10
    assert int(sides["pandas script"]["objects"]) == 9
    for side in sides.values():
        assert float(side["mb"].replace(",", "")) > 0
        assert int(side["peak"].replace(",", "")) > 0
    assert re.search(r"Earshot / pandas: [\d.]+x the time, [\d.]+x the peak memory", out)
    assert "every row's tenant checked" in out
