"""Vectorised builders of string columns (ids, hex, joins) on Arrow arrays."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

# Four lower-case hex digits for every 16-bit value, zero-padded.
HEX4 = pa.array([format(i, "04x") for i in range(65536)])


def numbered(prefix: str, numbers: np.ndarray, width: int) -> pa.Array:
    """``prefix`` + the number zero-padded to ``width`` digits, e.g. ep000042."""
    digits = pc.utf8_lpad(pa.array(numbers.astype(np.int64)).cast(pa.string()), width, "0")
    return pc.binary_join_element_wise(pa.scalar(prefix), digits, "")


def hex_id(prefix: str, values: np.ndarray, hex_digits: int = 12) -> pa.Array:
    """``prefix`` + the low ``hex_digits`` (a multiple of 4) hex digits of uint64 values."""
    groups = hex_digits // 4
    values = values.astype(np.uint64)
    parts = [
        HEX4.take(pa.array(((values >> np.uint64(16 * g)) & np.uint64(0xFFFF)).astype(np.int64)))
        for g in reversed(range(groups))
    ]
    return pc.binary_join_element_wise(pa.scalar(prefix), *parts, "")


def choose(options: list[str], index: np.ndarray) -> pa.Array:
    """The option at each index; a negative index gives null."""
    index = np.asarray(index, dtype=np.int64)
    table = pa.array(options, type=pa.string())
    mask = index < 0
    taken = table.take(pa.array(np.where(mask, 0, index)))
    if mask.any():
        return pc.if_else(pa.array(mask), pa.nulls(len(index), pa.string()), taken)
    return taken


def null_where(values: pa.Array, mask: np.ndarray) -> pa.Array:
    """``values`` with nulls where ``mask`` is true."""
    if not mask.any():
        return values
    return pc.if_else(pa.array(mask), pa.nulls(len(values), values.type), values)


def concat(*parts: pa.Array | str) -> pa.Array:
    """Element-wise concatenation of string arrays and constants (a null part gives null)."""
    arrays = [pa.scalar(p) if isinstance(p, str) else p for p in parts]
    return pc.binary_join_element_wise(*arrays, "")


def scatter(n: int, parts: list[tuple[np.ndarray, pa.Array]]) -> pa.Array:
    """A string column of ``n`` rows assembled from (row indices, values) parts; rows that no
    part covers are null."""
    covered = np.zeros(n, dtype=bool)
    index_parts = []
    value_parts = []
    for rows, values in parts:
        if len(rows):
            index_parts.append(rows)
            value_parts.append(values.cast(pa.string()))
            covered[rows] = True
    value_parts.append(pa.nulls(1, pa.string()))
    values = pa.concat_arrays(value_parts)
    position = np.full(n, len(values) - 1, dtype=np.int64)  # the trailing null
    if index_parts:
        rows = np.concatenate(index_parts)
        position[rows] = np.arange(rows.size)
    return values.take(pa.array(position))
