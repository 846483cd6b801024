"""The same seed and tenant write byte-identical files; another seed or tenant does not."""

from __future__ import annotations

import hashlib
from pathlib import Path

from connectors.simulator import simulate

from .conftest import tiny_config


def _digests(folder: Path) -> dict[str, str]:
    return {
        str(path.relative_to(folder)): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted(folder.rglob("*"))
        if path.is_file()
    }


def test_same_seed_writes_identical_files(tmp_path: Path) -> None:
    simulate(tiny_config(seed=11), tmp_path / "a", "parquet")
    simulate(tiny_config(seed=11), tmp_path / "b", "parquet")
    a, b = _digests(tmp_path / "a"), _digests(tmp_path / "b")
    assert "download_requests-00001.parquet" in a
    assert "_truth/orders.csv" in a
    assert a == b


def test_rerun_into_same_folder_replaces_previous_output(tmp_path: Path) -> None:
    simulate(tiny_config(seed=11), tmp_path, "parquet")
    first = _digests(tmp_path)
    # A world with fewer requests must not leave stale parts of the larger one behind.
    small = tiny_config(seed=11).with_changes(target_requests=1500)
    summary = simulate(small, tmp_path, "parquet")
    written = {p.name for paths in summary.files.values() for p in paths}
    assert {p.name for p in tmp_path.glob("*.parquet")} == written
    assert len(summary.files["download_requests"]) < 5
    simulate(tiny_config(seed=11), tmp_path, "parquet")
    assert _digests(tmp_path) == first


def test_other_seed_or_tenant_differs(tmp_path: Path) -> None:
    simulate(tiny_config(seed=11), tmp_path / "a", "parquet")
    simulate(tiny_config(seed=12), tmp_path / "b", "parquet")
    simulate(tiny_config(seed=11, tenant_id="other"), tmp_path / "c", "parquet")
    a, b, c = (_digests(tmp_path / x) for x in "abc")
    for other in (b, c):
        assert a["download_requests-00001.parquet"] != other["download_requests-00001.parquet"]
        assert a["orders.parquet"] != other["orders.parquet"]
        assert a["_truth/orders.csv"] != other["_truth/orders.csv"]
