"""Both formats carry the contract's columns and types, with the same rows."""

from __future__ import annotations

import pyarrow as pa
import pyarrow.csv as pa_csv
import pyarrow.parquet as pq

from connectors.simulator.simulation import SimulationSummary
from warehouse.entities import ENTITIES, FILE_ENTITIES

ISO_Z = r"\d{4}-\d{2}-\d{2}T\d{2}:\d{2}:\d{2}\.\d{6}Z"


def test_parquet_files_have_the_entity_schemas(parquet_world: SimulationSummary) -> None:
    assert set(parquet_world.files) == set(FILE_ENTITIES)
    for entity, paths in parquet_world.files.items():
        for path in paths:
            schema = pq.read_schema(path)
            assert schema.names == ENTITIES[entity].schema.names, path
            assert schema.types == ENTITIES[entity].schema.types, path
        rows = sum(pq.read_metadata(p).num_rows for p in paths)
        assert rows == parquet_world.rows(entity) > 0


def test_large_entities_are_split_in_numbered_parts(
    parquet_world: SimulationSummary, config
) -> None:
    parts = parquet_world.files["download_requests"]
    assert len(parts) > 1
    assert [p.name for p in parts] == [
        f"download_requests-{i:05d}.parquet" for i in range(1, len(parts) + 1)
    ]
    sizes = [pq.read_metadata(p).num_rows for p in parts]
    assert all(size == config.part_rows for size in sizes[:-1])
    assert 0 < sizes[-1] <= config.part_rows
    assert parquet_world.files["episodes"][0].name == "episodes.parquet"


def test_csv_files_match_the_parquet_files(
    csv_world: SimulationSummary, parquet_world: SimulationSummary
) -> None:
    import pyarrow.compute as pc

    assert csv_world.row_counts == parquet_world.row_counts
    for entity, paths in csv_world.files.items():
        schema = ENTITIES[entity].schema
        # Read timestamps as text first, to check their form.
        as_text = pa_csv.ConvertOptions(
            column_types={f.name: pa.string() for f in schema if pa.types.is_timestamp(f.type)}
        )
        # The Z means UTC: read as zoned timestamps, then drop the zone like the landed schema.
        zoned = {
            f.name: pa.timestamp("us", tz="UTC") if pa.types.is_timestamp(f.type) else f.type
            for f in schema
        }
        typed = pa_csv.ConvertOptions(
            column_types=zoned,
            strings_can_be_null=True,
            quoted_strings_can_be_null=False,
        )
        for path in paths:
            raw = pa_csv.read_csv(path, convert_options=as_text)
            assert raw.column_names == schema.names, path
            for f in schema:
                if pa.types.is_timestamp(f.type):
                    assert pc.all(pc.match_substring_regex(raw[f.name], f"^{ISO_Z}$")).as_py()
        csv_table = pa.concat_tables(pa_csv.read_csv(p, convert_options=typed) for p in paths).cast(
            schema
        )
        parquet_table = pa.concat_tables(pq.read_table(p) for p in parquet_world.files[entity])
        assert csv_table.schema.types == schema.types
        # Same values; CSV timestamps keep microseconds, as generated.
        assert csv_table.equals(parquet_table), entity
