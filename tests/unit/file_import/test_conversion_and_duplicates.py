"""Column conversion edge cases, and the repeat finder against a plain dictionary."""

from __future__ import annotations

from datetime import date, datetime

import numpy as np
import pyarrow as pa
import pytest

from connectors.files.columns import ColumnRule, required_columns
from connectors.files.conversion import ColumnTypeError, convert_column
from connectors.files.duplicates import DuplicateTracker
from warehouse.row_hashes import row_hashes

REQUIRED = ColumnRule(required=True)
OPTIONAL = ColumnRule()


def explained(raw: list, target: pa.DataType, rule: ColumnRule = REQUIRED) -> dict[int, str]:
    converted = convert_column(pa.array(raw), target, "x", rule)
    reasons: dict[int, str] = {}
    for problem in converted.problems:
        for i in np.flatnonzero(problem.mask):
            reasons[int(i)] = problem.explain(raw[i])
    return reasons


def test_integers() -> None:
    raw = ["200", "+7", " 8 ", "9.0", "2OO", "99999999999", None]
    converted = convert_column(pa.array(raw), pa.int32(), "status", REQUIRED)
    assert converted.values.to_pylist() == [200, 7, 8, 9, None, None, None]
    assert explained(raw, pa.int32()) == {
        4: "'2OO' is not an integer",
        5: "'99999999999' is out of range for this integer column",
        6: "missing value (required column)",
    }


def test_floats_must_be_finite_numbers() -> None:
    raw = ["1.5", "-2e3", ".5", "nan", "1e400", "ten"]
    converted = convert_column(pa.array(raw), pa.float64(), "revenue", REQUIRED)
    assert converted.values.to_pylist()[:3] == [1.5, -2000.0, 0.5]
    assert explained(raw, pa.float64()) == {
        3: "'nan' is not a finite number",
        4: "'1e400' is not a finite number",
        5: "'ten' is not a number",
    }


def test_timestamps_and_dates() -> None:
    raw = ["2026-03-01T00:00:00.1234567Z", "2026-02-30T00:00:00Z", "2026-03-01", "03/01/2026"]
    converted = convert_column(pa.array(raw), pa.timestamp("us"), "ts", REQUIRED)
    assert converted.values.to_pylist()[0] == datetime(2026, 3, 1, 0, 0, 0, 123456)
    assert explained(raw, pa.timestamp("us")) == {
        1: "'2026-02-30T00:00:00Z' is not a valid date and time",
        2: "'2026-03-01' has no UTC offset (ambiguous): write it with Z or an offset such as "
        "+02:00",
        3: "'03/01/2026' is not an ISO-8601 timestamp with offset",
    }
    dates = ["2026-03-31", "2026-04-31", " "]
    assert convert_column(pa.array(dates), pa.date32(), "d", OPTIONAL).values.to_pylist() == [
        date(2026, 3, 31),
        None,
        None,
    ]
    assert explained(dates, pa.date32(), OPTIONAL) == {1: "'2026-04-31' is not a date (YYYY-MM-DD)"}


def test_value_rules_and_blank_required_text() -> None:
    assert explained(["pre", "Pre", "", None], pa.string(), ColumnRule(True, None, ("pre",))) == {
        1: "'Pre' is not one of pre",
        2: "missing value (required column)",
        3: "missing value (required column)",
    }
    assert explained(["0", "-1"], pa.int64(), ColumnRule(True, 0)) == {1: "'-1' is negative"}


def test_impossible_parquet_types_refuse_the_column() -> None:
    with pytest.raises(ColumnTypeError, match="column ts has type int64"):
        convert_column(pa.array([1]), pa.timestamp("us"), "ts", REQUIRED)
    with pytest.raises(ColumnTypeError, match="column ip has type double"):
        convert_column(pa.array([1.5]), pa.string(), "ip", REQUIRED)


def test_required_columns_follow_the_schema_order() -> None:
    assert required_columns("download_requests") == [
        "ts",
        "ip",
        "episode_id",
        "status",
        "bytes_sent",
    ]


def test_row_hashes_see_values_not_layout() -> None:
    a = pa.table({"s": ["x", None, ""], "f": [0.0, -0.0, float("nan")], "i": [1, None, 3]})
    b = pa.Table.from_batches(a.to_batches(max_chunksize=1))
    h1a, h2a = row_hashes(a)
    h1b, h2b = row_hashes(b)
    assert (h1a == h1b).all() and (h2a == h2b).all()
    # Null, empty string and different values all differ.
    assert len(set(h1a.tolist())) == 3
    assert (
        row_hashes(pa.table({"f": [0.0, -0.0]}))[0].tolist()[0]
        == (row_hashes(pa.table({"f": [-0.0, 0.0]}))[0].tolist()[0])
    )


def test_tracker_matches_a_dictionary_across_chunks() -> None:
    rng = np.random.default_rng(3)
    values = rng.integers(0, 500, 3_000)  # many repeats
    h1 = values.astype(np.uint64) * np.uint64(0x9E3779B97F4A7C15)
    h2 = values.astype(np.uint64) + np.uint64(1)
    rows = np.arange(1, len(values) + 1, dtype=np.int64)
    tracker = DuplicateTracker()
    found = np.concatenate(
        [
            tracker.first_rows(h1[s : s + 137], h2[s : s + 137], rows[s : s + 137])
            for s in range(0, len(values), 137)
        ]
    )
    first_seen: dict[int, int] = {}
    expected = []
    for value, row in zip(values.tolist(), rows.tolist(), strict=True):
        expected.append(first_seen.get(value, 0))
        first_seen.setdefault(value, row)
    assert found.tolist() == expected


def test_tracker_separates_rows_that_share_only_one_hash() -> None:
    tracker = DuplicateTracker()
    h1 = np.array([5, 5, 5], dtype=np.uint64)
    h2 = np.array([1, 2, 1], dtype=np.uint64)
    assert tracker.first_rows(h1, h2, np.array([1, 2, 3])).tolist() == [0, 0, 1]
    later = tracker.first_rows(
        np.array([5, 5], np.uint64), np.array([2, 3], np.uint64), np.array([4, 5])
    )
    assert later.tolist() == [2, 0]
