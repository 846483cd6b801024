"""Fixtures the end-to-end tests share."""

from __future__ import annotations

import pytest

from tests.conftest import BuiltPipeline


@pytest.fixture(params=["duckdb_pipeline", "postgres_pipeline"])
def pipeline(request: pytest.FixtureRequest) -> BuiltPipeline:
    """The session's pipeline (tests/conftest.py), on DuckDB and then on PostgreSQL."""
    return request.getfixturevalue(request.param)
