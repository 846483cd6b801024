"""The suites in the repository agree with the landed schemas and load in Great Expectations."""

from __future__ import annotations

import json

import pytest

from connectors.files.columns import required_columns
from pipelines.quality import suites
from warehouse.entities import ENTITIES, landed_schema

LINEAGE_NOT_NULL = {"_tenant_id", "_source", "_extracted_at", "_batch_id", "_cursor", "_source_row"}


def test_every_entity_has_a_suite() -> None:
    assert suites.suite_entities() == sorted(ENTITIES)


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_suite_matches_the_landed_contract(entity: str) -> None:
    suite = json.loads(suites.suite_path(entity).read_text())
    by_type: dict[str, list[dict]] = {}
    for expectation in suite["expectations"]:
        by_type.setdefault(expectation["type"], []).append(expectation["kwargs"])

    [schema] = by_type["expect_table_columns_to_match_set"]
    assert schema["column_set"] == landed_schema(entity).names and schema["exact_match"]
    assert by_type["expect_table_row_count_to_be_between"] == [{"min_value": 1}]
    not_null = {k["column"] for k in by_type["expect_column_values_to_not_be_null"]}
    assert not_null == set(required_columns(entity)) | LINEAGE_NOT_NULL
    columns = set(landed_schema(entity).names)
    for kwargs_list in by_type.values():
        for kwargs in kwargs_list:
            named = {kwargs[k] for k in ("column", "column_A", "column_B") if k in kwargs}
            assert named <= columns
    has_freshness = any(
        e.get("meta", {}).get("check") == "freshness" for e in suite["expectations"]
    )
    assert has_freshness == (ENTITIES[entity].event_time is not None)


def test_freshness_allowance_comes_from_suite_env_or_caller(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.delenv(suites.FRESHNESS_ENV, raising=False)
    assert suites.freshness_days("orders") == 7
    assert suites.freshness_days("episodes") is None
    monkeypatch.setenv(suites.FRESHNESS_ENV, "30")
    assert suites.freshness_days("orders") == 30
    assert suites.freshness_days("orders", override=2) == 2
    monkeypatch.setenv(suites.FRESHNESS_ENV, "a week")
    with pytest.raises(ValueError, match="EARSHOT_FRESHNESS_DAYS must be a number"):
        suites.freshness_days("orders")


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_suites_load_in_great_expectations(entity: str) -> None:
    import great_expectations as gx

    suite = gx.ExpectationSuite(**suites.suite_definition(entity))
    assert len(suite.expectations) == len(
        json.loads(suites.suite_path(entity).read_text())["expectations"]
    )
