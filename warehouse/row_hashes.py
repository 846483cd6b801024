"""128-bit hashes of the rows of an Arrow table, computed column-wise (no Python loop per row).

They serve two purposes: a landed batch's id is a digest of its rows' hashes (so the same rows
always get the same id), and the file importer finds repeated rows and keys by comparing hashes
instead of keeping the rows themselves. Two independent 64-bit hashes per row make an accidental
collision between two different rows practically impossible (about n^2 / 2^129).

A hash depends on the values and their logical type only, never on how Arrow happens to lay the
buffers out, so the same rows read from CSV or from Parquet hash the same.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

# One (SipHash key for strings, constant for numbers, row multiplier) per hash.
_FLAVOURS = (
    ("earshot-rows-k01", np.uint64(0x243F6A8885A308D3), np.uint64(0x100000001B3)),
    ("earshot-rows-k02", np.uint64(0x13198A2E03707344), np.uint64(0x9E3779B97F4A7C15)),
)
# What a null hashes to, per flavour (any fixed value works: nulls equal nulls).
_NULL = (np.uint64(0xA4093822299F31D0), np.uint64(0x082EFA98EC4E6C89))


def _mix(x: np.ndarray) -> np.ndarray:
    """SplitMix64's finaliser: a bijection of uint64 that spreads every input bit."""
    x = x ^ (x >> np.uint64(30))
    x = x * np.uint64(0xBF58476D1CE4E5B9)
    x = x ^ (x >> np.uint64(27))
    x = x * np.uint64(0x94D049BB133111EB)
    return x ^ (x >> np.uint64(31))


def _numeric_bits(array: pa.Array) -> np.ndarray:
    """The values of a numeric or temporal column as uint64 bit patterns (nulls as 0)."""
    kind = array.type
    if pa.types.is_floating(kind):
        values = array.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False)
        # Equal numbers must hash equal: fold -0.0 onto 0.0 and every NaN onto one pattern.
        values = np.where(values == 0.0, 0.0, values)
        values = np.where(np.isnan(values), np.nan, values)
        return values.view(np.uint64)
    if pa.types.is_boolean(kind):
        return array.cast(pa.uint8()).fill_null(0).to_numpy(zero_copy_only=False).astype(np.uint64)
    if pa.types.is_temporal(kind):
        array = array.cast(pa.int64()) if kind.bit_width == 64 else array.cast(pa.int32())
    values = array.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False)
    return values.astype(np.int64, copy=False).view(np.uint64)


def _column_hashes(column: pa.ChunkedArray | pa.Array) -> tuple[np.ndarray, np.ndarray]:
    array = column.combine_chunks() if isinstance(column, pa.ChunkedArray) else column
    if pa.types.is_dictionary(array.type):
        array = array.cast(array.type.value_type)
    nulls = array.is_null().to_numpy(zero_copy_only=False) if array.null_count else None
    out = []
    if pa.types.is_string(array.type) or pa.types.is_large_string(array.type):
        # Hash each distinct string once: columns such as user agents repeat a lot.
        encoded = pc.dictionary_encode(array)
        distinct = encoded.dictionary.to_numpy(zero_copy_only=False)
        codes = encoded.indices.fill_null(len(distinct)).to_numpy(zero_copy_only=False)
        for (key, _, _), null_hash in zip(_FLAVOURS, _NULL, strict=True):
            hashed = pd.util.hash_array(distinct, hash_key=key, categorize=False)
            out.append(np.append(hashed, null_hash)[codes])
        return out[0], out[1]
    if pa.types.is_binary(array.type) or pa.types.is_large_binary(array.type):
        return _column_hashes(array.cast(pa.large_string(), safe=False))
    bits = _numeric_bits(array)
    for (_, constant, _), null_hash in zip(_FLAVOURS, _NULL, strict=True):
        hashed = _mix(bits ^ constant)
        if nulls is not None:
            hashed[nulls] = null_hash
        out.append(hashed)
    return out[0], out[1]


def row_hashes(
    table: pa.Table, columns: Sequence[str] | None = None
) -> tuple[np.ndarray, np.ndarray]:
    """Two independent uint64 hashes of each row of ``table`` over ``columns`` (default: all)."""
    names = list(columns) if columns is not None else table.column_names
    n = table.num_rows
    h1 = np.zeros(n, dtype=np.uint64)
    h2 = np.zeros(n, dtype=np.uint64)
    for position, name in enumerate(names):
        c1, c2 = _column_hashes(table.column(name))
        salt = np.uint64(position + 1)
        h1 = _mix(h1 * _FLAVOURS[0][2] + c1 + salt)
        h2 = _mix(h2 * _FLAVOURS[1][2] + c2 + salt)
    return h1, h2
