"""Connections to the warehouse: DuckDB (embedded default) or PostgreSQL (production).

Both expose the same small surface the pipeline needs (run statements, fetch rows, bulk-load
Arrow data), so the loaders and reports do not care which engine is behind them.
"""

from __future__ import annotations

import io
import os
from collections.abc import Iterator, Sequence
from contextlib import AbstractContextManager, contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

import pyarrow as pa
import pyarrow.csv as pacsv

from warehouse.settings import paths, warehouse_target


class Warehouse(Protocol):
    engine: str

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None: ...

    def fetch(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]: ...

    def fetch_columns(
        self, sql: str, params: Sequence[Any] | None = None
    ) -> tuple[list[str], list[tuple]]: ...

    def copy_arrow(self, schema: str, table: str, data: pa.Table) -> None: ...

    def transaction(self) -> AbstractContextManager[None]: ...


@dataclass
class PostgresSettings:
    host: str
    port: int
    user: str
    password: str
    database: str

    @classmethod
    def from_env(cls) -> PostgresSettings:
        return cls(
            host=os.environ.get("EARSHOT_PG_HOST", "127.0.0.1"),
            port=int(os.environ.get("EARSHOT_PG_PORT", "5432")),
            user=os.environ.get("EARSHOT_PG_USER", "postgres"),
            password=os.environ.get("EARSHOT_PG_PASSWORD", ""),
            database=os.environ.get("EARSHOT_PG_DATABASE", "earshot"),
        )

    def conninfo(self) -> dict[str, Any]:
        info: dict[str, Any] = {
            "host": self.host,
            "port": self.port,
            "user": self.user,
            "dbname": self.database,
        }
        if self.password:
            info["password"] = self.password
        return info


class DuckDBWarehouse:
    engine = "duckdb"

    def __init__(self, path: Path, read_only: bool = False) -> None:
        import duckdb

        path = Path(path)
        if not read_only:
            path.parent.mkdir(parents=True, exist_ok=True)
        self.path = path
        # The same bound as dbt's profile (dbt_project/profiles.yml): a large tenant spills to
        # disk instead of taking the machine; row order of bulk inserts does not matter to
        # anything downstream.
        config = {
            "memory_limit": os.environ.get("EARSHOT_DUCKDB_MEMORY_LIMIT", "3500MB"),
            "preserve_insertion_order": False,
        }
        self.conn = duckdb.connect(str(path), read_only=read_only, config=config)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.conn.execute(sql, params or [])

    def fetch(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self.conn.execute(sql, params or []).fetchall()

    def fetch_columns(
        self, sql: str, params: Sequence[Any] | None = None
    ) -> tuple[list[str], list[tuple]]:
        cur = self.conn.execute(sql, params or [])
        return [d[0] for d in cur.description], cur.fetchall()

    def copy_arrow(self, schema: str, table: str, data: pa.Table) -> None:
        self.conn.register("_earshot_arrow_in", data)
        try:
            cols = ", ".join(f'"{c}"' for c in data.column_names)
            self.conn.execute(
                f'insert into "{schema}"."{table}" ({cols}) select {cols} from _earshot_arrow_in'
            )
        finally:
            self.conn.unregister("_earshot_arrow_in")

    @contextmanager
    def transaction(self) -> Iterator[None]:
        self.conn.begin()
        try:
            yield
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()

    def close(self) -> None:
        self.conn.close()


class PostgresWarehouse:
    engine = "postgres"

    def __init__(self, settings: PostgresSettings) -> None:
        import psycopg

        self.settings = settings
        self.conn = psycopg.connect(**settings.conninfo(), autocommit=False)

    def execute(self, sql: str, params: Sequence[Any] | None = None) -> None:
        self.conn.execute(_pg_params(sql, params), params)

    def fetch(self, sql: str, params: Sequence[Any] | None = None) -> list[tuple]:
        return self.conn.execute(_pg_params(sql, params), params).fetchall()

    def fetch_columns(
        self, sql: str, params: Sequence[Any] | None = None
    ) -> tuple[list[str], list[tuple]]:
        cur = self.conn.execute(_pg_params(sql, params), params)
        return [d.name for d in cur.description], cur.fetchall()

    def copy_arrow(self, schema: str, table: str, data: pa.Table) -> None:
        # COPY in CSV: pyarrow writes the CSV in C, PostgreSQL parses it; no per-row Python.
        cols = ", ".join(f'"{c}"' for c in data.column_names)
        sql = f'copy "{schema}"."{table}" ({cols}) from stdin with (format csv, header false)'
        with self.conn.cursor().copy(sql) as copy:
            for batch in data.to_batches(max_chunksize=200_000):
                buf = io.BytesIO()
                pacsv.write_csv(
                    pa.Table.from_batches([batch]),
                    buf,
                    pacsv.WriteOptions(include_header=False, quoting_style="needed"),
                )
                copy.write(buf.getvalue())

    @contextmanager
    def transaction(self) -> Iterator[None]:
        # psycopg opens a transaction implicitly; end it here so the block is all or nothing.
        try:
            yield
        except BaseException:
            self.conn.rollback()
            raise
        self.conn.commit()

    def close(self) -> None:
        self.conn.commit()
        self.conn.close()


def _pg_params(sql: str, params: Sequence[Any] | None) -> str:
    # One placeholder style in the callers ('?', as DuckDB); psycopg wants '%s', and reads '%'
    # as the start of a placeholder only when parameters are passed.
    if params is None:
        return sql
    return sql.replace("%", "%%").replace("?", "%s")


def table_exists(wh: Warehouse, schema: str, table: str) -> bool:
    """Whether ``schema.table`` exists (information_schema answers on both engines)."""
    rows = wh.fetch(
        "select count(*) from information_schema.tables where table_schema = ? and table_name = ?",
        [schema, table],
    )
    return bool(rows and rows[0][0])


@contextmanager
def connect(target: str | None = None, *, read_only: bool = False) -> Iterator[Warehouse]:
    """Open the configured warehouse; commits on success, rolls back on error, always closes."""
    target = target or warehouse_target()
    if target == "duckdb":
        wh = DuckDBWarehouse(paths().duckdb_path, read_only=read_only)
        try:
            yield wh
        finally:
            wh.close()
    else:
        pg = PostgresWarehouse(PostgresSettings.from_env())
        try:
            yield pg
            pg.conn.commit()
        except BaseException:
            pg.conn.rollback()
            raise
        finally:
            pg.conn.close()
