"""Landed batches against their suites: good ones pass, each kind of breakage fails clearly."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from pipelines.quality import ValidationOutcome, validate_landed_batches
from tests.unit.quality.batches import EXTRACTED, TENANT, good_rows, land
from warehouse.entities import ENTITIES
from warehouse.landing import LandingZone


@pytest.fixture
def zone(tmp_path: Path) -> LandingZone:
    return LandingZone(tmp_path / "landing")


def failed_types(outcome: ValidationOutcome) -> list[tuple[str, str | None]]:
    return [(f.expectation_type, f.column) for f in outcome.failures]


def assert_names_table_expectation_and_row(
    outcome: ValidationOutcome, entity: str, expectation: str, example: str
) -> None:
    assert not outcome.success
    assert outcome.message.startswith(f"landing {TENANT}/files/{entity}: ")
    assert expectation in outcome.message
    assert example in outcome.message


@pytest.mark.parametrize("entity", sorted(ENTITIES))
def test_a_good_batch_passes(zone: LandingZone, entity: str) -> None:
    files = land(zone, entity, good_rows(entity))
    outcome = validate_landed_batches(entity, files)
    assert outcome.success, outcome.message
    assert outcome.failures == []
    assert outcome.rows == 6 and outcome.files == len(files)
    assert outcome.message.startswith(f"landing {TENANT}/files/{entity}: all ")


def test_out_of_range_values_fail_with_an_example_row(zone: LandingZone) -> None:
    rows = good_rows("download_requests")
    rows["status"] = pa.array([200, 200, 700, 200, 200, 99], pa.int32())
    outcome = validate_landed_batches("download_requests", land(zone, "download_requests", rows))
    assert failed_types(outcome) == [("expect_column_values_to_be_between", "status")]
    [failure] = outcome.failures
    assert failure.unexpected_count == 2 and failure.element_count == 6
    assert failure.examples == [
        {"_source_file": "download_requests.csv", "_source_row": 3, "status": 700},
        {"_source_file": "download_requests.csv", "_source_row": 6, "status": 99},
    ]
    assert_names_table_expectation_and_row(
        outcome,
        "download_requests",
        "expect_column_values_to_be_between on status (min_value=100, max_value=599)",
        "e.g. download_requests.csv row 3 (status=700)",
    )


def test_nulls_in_required_columns_fail(zone: LandingZone) -> None:
    rows = good_rows("episodes")
    rows["show_id"] = ["s1", None, "s1", "s1", "s1", "s1"]
    outcome = validate_landed_batches("episodes", land(zone, "episodes", rows))
    assert failed_types(outcome) == [("expect_column_values_to_not_be_null", "show_id")]
    assert_names_table_expectation_and_row(
        outcome,
        "episodes",
        "expect_column_values_to_not_be_null on show_id",
        "e.g. episodes.csv row 2 (show_id=None)",
    )


def test_sets_and_column_pairs_fail(zone: LandingZone) -> None:
    rows = good_rows("placements")
    rows["position"] = ["pre", "middle", "post", "pre", "mid", "post"]
    rows["ad_end_s"] = [30.0, 30.0, 30.0, 0.0, 30.0, 30.0]
    outcome = validate_landed_batches("placements", land(zone, "placements", rows))
    assert failed_types(outcome) == [
        ("expect_column_values_to_be_in_set", "position"),
        ("expect_column_pair_values_a_to_be_greater_than_b", None),
    ]
    assert_names_table_expectation_and_row(
        outcome, "placements", "expect_column_values_to_be_in_set on position", "row 2"
    )
    assert (
        "expect_column_pair_values_a_to_be_greater_than_b (column_A='ad_end_s', "
        "column_B='ad_start_s', or_equal=False)" in outcome.message
    )
    assert "placements.csv row 4 (ad_end_s=0.0, ad_start_s=0.0)" in outcome.message


def test_a_campaign_ending_before_it_starts_fails(zone: LandingZone) -> None:
    rows = good_rows("campaigns")
    rows["end_date"] = pa.array([date(2026, 3, 31)] * 4 + [date(2026, 2, 1), date(2026, 3, 1)])
    rows["currency"] = ["USD", "USD", "usd", "USD", "USD", "USD"]
    outcome = validate_landed_batches("campaigns", land(zone, "campaigns", rows))
    assert failed_types(outcome) == [
        ("expect_column_pair_values_a_to_be_greater_than_b", None),
        ("expect_column_values_to_match_regex", "currency"),
    ]
    # Ending on the day it starts is fine (or_equal); ending before is not.
    assert outcome.failures[0].unexpected_count == 1
    assert "campaigns.csv row 5 (end_date=2026-02-01, start_date=2026-03-01)" in outcome.message
    assert "campaigns.csv row 3 (currency='usd')" in outcome.message


def test_stale_batches_fail_freshness_unless_allowed(zone: LandingZone) -> None:
    rows = good_rows("orders")
    rows["ts"] = pa.array(
        [EXTRACTED - timedelta(days=40 - i) for i in range(6)], pa.timestamp("us")
    )
    files = land(zone, "orders", rows)
    outcome = validate_landed_batches("orders", files)
    assert failed_types(outcome) == [("expect_column_max_to_be_between", "ts")]
    [failure] = outcome.failures
    assert failure.observed_value == EXTRACTED - timedelta(days=35)
    assert failure.kwargs["min_value"] == EXTRACTED - timedelta(days=7)
    # The example is the newest event, the one that had to be recent enough.
    assert failure.examples[0]["_source_row"] == 6
    assert_names_table_expectation_and_row(
        outcome, "orders", "expect_column_max_to_be_between on ts", "orders.csv row 6"
    )
    assert "freshness" in outcome.message
    assert validate_landed_batches("orders", files, freshness_days=60).success


def test_events_after_their_extraction_fail(zone: LandingZone) -> None:
    rows = good_rows("site_events")
    rows["ts"] = pa.array([EXTRACTED + timedelta(days=3)] * 6, pa.timestamp("us"))
    outcome = validate_landed_batches("site_events", land(zone, "site_events", rows))
    assert failed_types(outcome) == [("expect_column_max_to_be_between", "ts")]
    assert outcome.failures[0].kwargs["max_value"] == EXTRACTED + timedelta(days=1)


def test_no_rows_fails_volume(zone: LandingZone) -> None:
    outcome = validate_landed_batches("orders", [])
    assert failed_types(outcome) == [("expect_table_row_count_to_be_between", None)]
    assert outcome.failures[0].observed_value == 0
    assert "expect_table_row_count_to_be_between (min_value=1)" in outcome.message


def test_a_file_with_the_wrong_columns_fails_schema(zone: LandingZone) -> None:
    good = land(zone, "orders", good_rows("orders"))
    broken_path = good[0].parent / "broken.parquet"
    pq.write_table(pq.read_table(good[0]).drop_columns(["revenue"]), broken_path)
    outcome = validate_landed_batches("orders", [broken_path, *good])
    types = failed_types(outcome)
    assert ("expect_table_columns_to_match_set", None) in types
    assert ("expect_column_values_to_not_be_null", "revenue") in types
    assert outcome.message.startswith(f"landing {TENANT}/files/orders: ")
    assert "does not exist" in outcome.message


def test_chunks_give_the_same_outcome_as_one_pass(zone: LandingZone) -> None:
    old = good_rows("download_requests")
    old["ts"] = pa.array([EXTRACTED - timedelta(days=30)] * 6, pa.timestamp("us"))
    old["bytes_sent"] = [1, -1, 2, 3, -5, 4]
    files = land(zone, "download_requests", old, source_file="old.csv")
    files += land(zone, "download_requests", good_rows("download_requests"), source_file="new.csv")

    whole = validate_landed_batches("download_requests", files)
    chunked = validate_landed_batches("download_requests", files, chunk_rows=2)

    # Freshness holds over all the batches (the new file is recent), not per chunk.
    assert (
        failed_types(whole)
        == failed_types(chunked)
        == [("expect_column_values_to_be_between", "bytes_sent")]
    )
    assert whole.failures[0].unexpected_count == chunked.failures[0].unexpected_count == 2
    assert whole.failures[0].examples == chunked.failures[0].examples
    assert whole.rows == chunked.rows == 12
