"""Validate landed batches against their entity's expectation suite with Great Expectations.

GX runs on pandas DataFrames read from the landed Parquet files (GX cannot validate DuckDB through
SQLAlchemy). To keep memory bounded the files are validated **in chunks** of about ``chunk_rows``
rows (every row is checked; nothing is sampled) and the per-chunk results are combined:

* row-level expectations (not null, between, in set, regex, column pairs): failed if any chunk
  failed; unexpected counts are summed; the first three unexpected rows are kept as examples;
* aggregate expectations (row count, column max/min): the observed value is combined over the
  chunks (sum, max, min) and checked against the expectation's bounds once, at the end;
* schema (table columns): failed if any chunk's columns differ. Chunks never mix files whose
  schemas differ, so a file missing a column cannot hide behind another one.

``great_expectations`` is imported on first use only (it takes seconds to import). Nothing here
depends on Dagster: the asset checks in ``pipelines/checks`` wrap :func:`validate_landed_batches`.
"""

from __future__ import annotations

import math
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from pipelines.quality import suites
from warehouse.entities import columns_read_as_null, landed_schema

DEFAULT_CHUNK_ROWS = 1_000_000
MAX_EXAMPLES = 3
LINEAGE_EXAMPLE = ("_source_file", "_source_row")
# Aggregates whose observed value is combined across chunks, and how.
_COMBINE = {
    "expect_table_row_count_to_be_between": sum,
    "expect_column_max_to_be_between": max,
    "expect_column_min_to_be_between": min,
}


@dataclass(frozen=True)
class FailedExpectation:
    """One expectation that the batches did not meet."""

    expectation_type: str
    column: str | None
    kwargs: dict[str, Any]
    observed_value: Any
    unexpected_count: int | None
    element_count: int | None
    examples: list[dict[str, Any]]
    notes: str | None = None
    errors: list[str] = field(default_factory=list)

    def describe(self) -> str:
        """One line: the expectation, what was observed, and an example row."""
        shown = {
            k: v
            for k, v in self.kwargs.items()
            if k not in ("batch_id", "column") and v is not None
        }
        args = ", ".join(f"{k}={_short(_as_written(v))}" for k, v in shown.items())
        target = f" on {self.column}" if self.column else ""
        text = f"{self.expectation_type}{target}" + (f" ({args})" if args else "")
        if self.notes:
            text += f" [{self.notes}]"
        if self.errors:
            text += f": could not be evaluated: {self.errors[0]}"
        elif self.unexpected_count is not None:
            text += f": {self.unexpected_count:,} of {self.element_count or 0:,} rows unexpected"
        else:
            text += f": observed {_short(self.observed_value)}"
        if self.examples:
            text += f"; e.g. {_example(self.examples[0])}"
        return text


@dataclass(frozen=True)
class ValidationOutcome:
    """The result of validating some landed batches of one entity."""

    entity: str
    table: str
    success: bool
    rows: int
    files: int
    evaluated: int
    failures: list[FailedExpectation]
    message: str

    def metadata(self) -> dict[str, Any]:
        """Plain values for a check's metadata."""
        return {
            "table": self.table,
            "rows": self.rows,
            "files": self.files,
            "expectations": self.evaluated,
            "failed": [f.describe() for f in self.failures],
        }


def _as_written(value: Any) -> Any:
    """A bound as the suite writes it: GX turns the suite's 100 into 100.0."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 1e15:
        return int(value)
    return value


def _short(value: Any, limit: int = 80) -> str:
    if isinstance(value, list | tuple) and len(value) > 6:
        text = f"[{len(value)} values]"
    else:
        text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _example(row: dict[str, Any]) -> str:
    where = f"{row.get('_source_file')} row {row.get('_source_row')}"
    values = ", ".join(f"{k}={_short(v)}" for k, v in row.items() if k not in LINEAGE_EXAMPLE)
    return f"{where} ({values})" if values else where


def _table_name(entity: str, files: list[Path]) -> str:
    """``landing <tenant>/<source>/<entity>`` from the files' place in the landing layout."""
    owners = sorted(
        {f"{f.parents[3].name}/{f.parents[2].name}" for f in files if len(f.parents) > 3}
    )
    if not owners:
        return f"landing {entity}"
    return "landing " + ", ".join(f"{o}/{entity}" for o in owners)


# -- reading ----------------------------------------------------------------------------------


def _newest_extraction(files: list[Path]) -> datetime:
    newest = None
    for path in files:
        try:
            column = pq.read_table(path, columns=["_extracted_at"]).column(0)
        except (KeyError, pa.ArrowException, OSError):
            continue  # the schema expectation reports the file
        value = pc.max(column).as_py()
        if value is not None and (newest is None or value > newest):
            newest = value
    return newest or datetime.now(UTC).replace(tzinfo=None)


def _chunks(
    files: list[Path], chunk_rows: int, empty: pa.Schema, optional: tuple[str, ...] = ()
) -> Iterator[pa.Table]:
    """Tables of about ``chunk_rows`` rows; one table never mixes two schemas. A file landed
    before a column was added to the contract gets it as nulls, like the raw loader gives it;
    any other missing column stays missing, for the schema expectation to report."""
    for table in _file_chunks(files, chunk_rows, empty):
        missing = [f for f in empty if f.name in optional and f.name not in table.column_names]
        for column in missing:
            table = table.append_column(column, pa.nulls(table.num_rows, column.type))
        yield table


def _file_chunks(files: list[Path], chunk_rows: int, empty: pa.Schema) -> Iterator[pa.Table]:
    pending: list[pa.RecordBatch] = []
    schema: pa.Schema | None = None
    count = 0
    yielded = False
    for path in files:
        parquet = pq.ParquetFile(path)
        file_schema = parquet.schema_arrow.remove_metadata()
        if pending and not file_schema.equals(schema):
            yield pa.Table.from_batches(pending, schema=schema)
            yielded, pending, count = True, [], 0
        schema = file_schema
        for batch in parquet.iter_batches(batch_size=chunk_rows):
            pending.append(batch.replace_schema_metadata(None))
            count += batch.num_rows
            if count >= chunk_rows:
                yield pa.Table.from_batches(pending, schema=schema)
                yielded, pending, count = True, [], 0
    if pending or not yielded:
        # With no rows at all, GX still sees the columns (and reports the volume).
        yield pa.Table.from_batches(pending, schema=schema or empty)


# -- Great Expectations -----------------------------------------------------------------------

_GX_LOCK = threading.Lock()
_GX_STATE: dict[str, Any] = {}


def _batch_definition() -> Any:
    """An in-memory GX context with one pandas data asset, made once per process."""
    with _GX_LOCK:
        if "batch_definition" not in _GX_STATE:
            import great_expectations as gx
            from great_expectations.data_context.types.base import (
                DataContextConfig,
                InMemoryStoreBackendDefaults,
                ProgressBarsConfig,
            )

            context = gx.get_context(
                mode="ephemeral",
                project_config=DataContextConfig(
                    store_backend_defaults=InMemoryStoreBackendDefaults(),
                    # No usage statistics leave the machine, and no progress bars in logs.
                    analytics_enabled=False,
                    progress_bars=ProgressBarsConfig(globally=False),
                ),
            )
            asset = context.data_sources.add_pandas("landing").add_dataframe_asset("batch")
            _GX_STATE["batch_definition"] = asset.add_batch_definition_whole_dataframe("whole")
            _GX_STATE["suite_class"] = gx.ExpectationSuite
        return _GX_STATE["batch_definition"]


def _exception_messages(info: dict[str, Any] | None) -> list[str]:
    if not info:
        return []
    if "raised_exception" in info:
        return [str(info.get("exception_message"))] if info.get("raised_exception") else []
    return [
        str(v.get("exception_message"))
        for v in info.values()
        if isinstance(v, dict) and v.get("raised_exception")
    ]


@dataclass
class _Tally:
    """One expectation's results over the chunks."""

    expectation_type: str
    kwargs: dict[str, Any]
    notes: str | None
    success: bool = True
    element_count: int | None = None
    unexpected_count: int | None = None
    observed: Any = None
    examples: list[dict[str, Any]] = field(default_factory=list)
    errors: list[str] = field(default_factory=list)


def _plain(value: Any) -> Any:
    """A value from a DataFrame as a plain Python value (for messages and metadata)."""
    if _missing(value):
        return None
    if isinstance(value, pd.Timestamp):
        return str(value)
    return value.item() if hasattr(value, "item") else value


def _row(frame: pd.DataFrame, index: int, columns: list[str]) -> dict[str, Any]:
    wanted = [c for c in (*LINEAGE_EXAMPLE, *columns) if c in frame.columns]
    values = frame.iloc[int(index)][wanted].to_dict()
    return {k: _plain(v) for k, v in values.items()}


def _columns_of(kwargs: dict[str, Any]) -> list[str]:
    return [kwargs[k] for k in ("column", "column_A", "column_B") if kwargs.get(k)]


def _missing(value: Any) -> bool:
    return value is None or value is pd.NaT or (isinstance(value, float) and math.isnan(value))


def _absorb(tally: _Tally, result: Any, frame: pd.DataFrame) -> None:
    """Fold one chunk's result for an expectation into its tally."""
    outcome = result.result or {}
    errors = _exception_messages(result.exception_info)
    if errors:
        tally.success = False
        tally.errors.extend(e for e in errors if e not in tally.errors)
        return
    kind = tally.expectation_type
    columns = _columns_of(tally.kwargs)
    if "unexpected_count" in outcome:
        tally.element_count = (tally.element_count or 0) + int(outcome.get("element_count") or 0)
        tally.unexpected_count = (tally.unexpected_count or 0) + int(outcome["unexpected_count"])
        tally.success = tally.success and bool(result.success)
        for index in outcome.get("partial_unexpected_index_list") or []:
            if len(tally.examples) >= MAX_EXAMPLES:
                break
            tally.examples.append(_row(frame, index, columns))
        return
    observed = outcome.get("observed_value")
    if kind in _COMBINE:
        if _missing(observed):
            return
        combined = (
            observed if _missing(tally.observed) else _COMBINE[kind]([tally.observed, observed])
        )
        if kind != "expect_table_row_count_to_be_between" and combined is observed and columns:
            # Keep the row that holds the extreme value as the example.
            series = frame[columns[0]]
            index = (
                series.idxmax() if kind == "expect_column_max_to_be_between" else series.idxmin()
            )
            tally.examples = [_row(frame, frame.index.get_loc(index), columns)]
        tally.observed = combined
        return
    if not result.success:
        tally.success = False
        if tally.observed is None:
            tally.observed = observed
    elif tally.observed is None:
        tally.observed = observed


def _within(value: Any, kwargs: dict[str, Any]) -> bool:
    """GX's between semantics for an aggregate: bounds inclusive unless strict."""
    if _missing(value):
        return False
    low, high = kwargs.get("min_value"), kwargs.get("max_value")
    if low is not None and (value < low if not kwargs.get("strict_min") else value <= low):
        return False
    return not (
        high is not None and (value > high if not kwargs.get("strict_max") else value >= high)
    )


def _finish(tally: _Tally) -> None:
    kind = tally.expectation_type
    if kind == "expect_table_row_count_to_be_between" and tally.observed is None:
        tally.observed = 0
    if kind in _COMBINE and not tally.errors:
        if kind != "expect_table_row_count_to_be_between" and _missing(tally.observed):
            # No value at all (no rows, or only nulls): volume and not-null report that.
            tally.success = True
        else:
            tally.success = _within(tally.observed, tally.kwargs)


def validate_landed_batches(
    entity: str,
    files: list[Path],
    *,
    freshness_days: float | None = None,
    chunk_rows: int = DEFAULT_CHUNK_ROWS,
) -> ValidationOutcome:
    """Validate landed ``files`` of ``entity`` against ``pipelines/quality/suites/<entity>.json``.

    ``freshness_days`` replaces the suite's freshness allowance (for example for a backfill of
    old data); see ``pipelines/quality/suites.py`` for the environment variable.
    """
    files = [Path(f) for f in files]
    table = _table_name(entity, files)
    definition = suites.suite_definition(entity)
    batch_definition = _batch_definition()
    suite = _GX_STATE["suite_class"](**definition)

    newest = _newest_extraction(files)
    days = suites.freshness_days(entity, freshness_days)
    parameters = {
        suites.FRESHNESS_PARAMETER: newest - timedelta(days=days if days is not None else 0),
        suites.FUTURE_PARAMETER: newest + timedelta(days=1),
    }
    tallies: dict[int, _Tally] = {}
    rows = 0
    for chunk in _chunks(files, chunk_rows, landed_schema(entity), columns_read_as_null(entity)):
        rows += chunk.num_rows
        frame = chunk.to_pandas(split_blocks=True, self_destruct=True).reset_index(drop=True)
        del chunk
        batch = batch_definition.get_batch(batch_parameters={"dataframe": frame})
        results = batch.validate(
            suite,
            result_format={"result_format": "SUMMARY", "partial_unexpected_count": MAX_EXAMPLES},
            expectation_parameters=parameters,
        )
        for result in results.results:
            config = result.expectation_config
            position = int(config.meta[suites.POSITION_KEY])
            if position not in tallies:
                kwargs = {k: v for k, v in config.kwargs.items() if k != "batch_id"}
                tallies[position] = _Tally(config.type, kwargs, config.notes)
            _absorb(tallies[position], result, frame)
        del frame

    failures = []
    for position in sorted(tallies):
        tally = tallies[position]
        _finish(tally)
        if not tally.success:
            failures.append(
                FailedExpectation(
                    expectation_type=tally.expectation_type,
                    column=tally.kwargs.get("column"),
                    kwargs=tally.kwargs,
                    observed_value=tally.observed,
                    unexpected_count=tally.unexpected_count,
                    element_count=tally.element_count,
                    examples=tally.examples,
                    notes=tally.notes,
                    errors=tally.errors,
                )
            )
    where = f"{rows:,} rows in {len(files)} file(s)"
    if failures:
        message = "\n".join(
            [f"{table}: {len(failures)} of {len(tallies)} expectations failed on {where}"]
            + [f"  - {f.describe()}" for f in failures]
        )
    else:
        message = f"{table}: all {len(tallies)} expectations met on {where}"
    return ValidationOutcome(
        entity=entity,
        table=table,
        success=not failures,
        rows=rows,
        files=len(files),
        evaluated=len(tallies),
        failures=failures,
        message=message,
    )
