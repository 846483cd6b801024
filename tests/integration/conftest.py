"""Fixtures of the integration tests."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.warehouses import open_warehouse
from warehouse.connection import Warehouse


@pytest.fixture(params=["duckdb", "postgres"])
def wh(
    request: pytest.FixtureRequest, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> Iterator[Warehouse]:
    """An empty warehouse on each engine; PostgreSQL gets a fresh database per test module.

    The audit log names the module's ``ACTOR`` (default ``tester``) as who acted.
    """
    monkeypatch.setenv("EARSHOT_ACTOR", getattr(request.module, "ACTOR", "tester"))
    module = request.module.__name__.rsplit(".", 1)[-1]
    conn = open_warehouse(request, tmp_path, f"earshot_{module}")
    try:
        yield conn
    finally:
        conn.close()
