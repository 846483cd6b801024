"""Turn one column as it arrived (CSV text or a Parquet type) into its landed type, column-wise.

Every conversion is vectorised: the whole column is cast in one Arrow call, and only when that
fails does a slower path find the bad values (a pattern check, then halving the rest until the
few values Arrow refuses are isolated). A value that cannot be converted becomes null and is
flagged in a :class:`Problem` mask; the importer sends flagged rows to quarantine and explains
them with the ``explain`` function, which runs only for those (few) rows.

A column whose Parquet type cannot hold the landed type at all (a list, a boolean for a number)
raises :class:`ColumnTypeError`: that is a property of the file, not of a row.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.files.columns import ColumnRule

UTC_TS = pa.timestamp("us", tz="UTC")
LANDED_TS = pa.timestamp("us")

# What the slower path accepts, after trimming blanks (Arrow's own parser decides the rest).
_INT_TEXT = r"^-?\d{1,18}$"
_FLOAT_TEXT = r"^[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?$"
_TS_TEXT = r"^\d{4}-\d\d-\d\d[T ]\d\d:\d\d(:\d\d(\.\d{1,6})?)?(Z|[+-]\d\d:?\d\d)$"
_DATE_TEXT = r"^\d{4}-\d\d-\d\d$"
# For messages only: a timestamp that would parse if it had an offset.
_NAIVE_TS = re.compile(r"^\d{4}-\d\d-\d\d([T ]\d\d:\d\d(:\d\d(\.\d+)?)?)?$")
_FULL_TS = re.compile(_TS_TEXT)
_DIGITS = re.compile(r"^[+-]?\d+(\.0*)?$")
_INT32 = (-(2**31), 2**31 - 1)
# Below this many values a failing cast is retried value by value instead of halved further.
_SMALL = 16


class ColumnTypeError(ValueError):
    """A column's type in the file cannot hold the landed type: the file is refused."""


@dataclass(frozen=True)
class Problem:
    """Rows where a column's value is unusable, and how to explain one such value."""

    mask: np.ndarray
    explain: Callable[[object], str]


@dataclass(frozen=True)
class Converted:
    values: pa.Array
    problems: list[Problem]


def quote(value: object) -> str:
    """A value as it appears in a message: strings quoted, long ones shortened."""
    text = repr(value) if isinstance(value, str) else str(value)
    return text if len(text) <= 80 else text[:76] + "...'"


def _mask(array: pa.Array) -> np.ndarray:
    """A boolean Arrow array as a numpy mask, nulls counting as False."""
    return array.fill_null(False).to_numpy(zero_copy_only=False)


def _cast_isolating(values: pa.Array, target: pa.DataType) -> tuple[pa.Array, np.ndarray]:
    """Cast ``values``; values Arrow refuses become null and are flagged in the mask."""
    try:
        return pc.cast(values, target), np.zeros(len(values), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        if len(values) == 1:
            return pa.nulls(1, target), np.ones(1, dtype=bool)
    if len(values) <= _SMALL:
        pieces = [_cast_isolating(values.slice(i, 1), target) for i in range(len(values))]
    else:
        half = len(values) // 2
        pieces = [
            _cast_isolating(values.slice(0, half), target),
            _cast_isolating(values.slice(half), target),
        ]
    return (
        pa.concat_arrays([p[0] for p in pieces]),
        np.concatenate([p[1] for p in pieces]),
    )


def _parse_text(
    text: pa.Array, cast_to: pa.DataType, pattern: str, normalise: Callable[[pa.Array], pa.Array]
) -> tuple[pa.Array, np.ndarray]:
    """Parse strings: one optimistic cast, else a pattern filter and isolating cast."""
    try:
        return pc.cast(text, cast_to), np.zeros(len(text), dtype=bool)
    except (pa.ArrowInvalid, pa.ArrowNotImplementedError):
        pass
    cleaned = normalise(pc.utf8_trim_whitespace(text))
    fits = pc.match_substring_regex(cleaned, pattern)
    candidates = pc.if_else(fits, cleaned, pa.scalar(None, pa.string()))
    values, refused = _cast_isolating(candidates, cast_to)
    bad = (_mask(pc.invert(fits)) & _mask(text.is_valid())) | refused
    return values, bad


def _normalise_int(text: pa.Array) -> pa.Array:
    text = pc.replace_substring_regex(text, r"^\+", "")
    # Exports that went through floating point write 200 as "200.0": that is still an integer.
    return pc.replace_substring_regex(text, r"^(-?\d+)\.0*$", r"\1")


def _normalise_ts(text: pa.Array) -> pa.Array:
    text = pc.replace_substring_regex(text, r"z$", "Z")
    # Sub-microsecond digits are dropped (the landed type holds microseconds).
    text = pc.replace_substring_regex(text, r"(\.\d{6})\d+", r"\1")
    # "+02" is a valid ISO-8601 offset; Arrow wants minutes too.
    return pc.replace_substring_regex(text, r"([+-]\d\d)$", r"\1:00")


def _same(text: pa.Array) -> pa.Array:
    return text


def _explain_int(value: object) -> str:
    if isinstance(value, str) and _DIGITS.match(value.strip()):
        return f"{quote(value)} is out of range for this integer column"
    if isinstance(value, float) and np.isfinite(value) and value == int(value):
        return f"{quote(value)} is out of range for this integer column"
    return f"{quote(value)} is not an integer"


def _explain_float(value: object) -> str:
    try:
        number = float(value)  # type: ignore[arg-type]
    except (TypeError, ValueError):
        return f"{quote(value)} is not a number"
    if not np.isfinite(number):
        return f"{quote(value)} is not a finite number"
    return f"{quote(value)} is not a number"


def _explain_ts(value: object) -> str:
    if isinstance(value, str) and _FULL_TS.match(value.strip()):
        return f"{quote(value)} is not a valid date and time"
    if isinstance(value, str) and _NAIVE_TS.match(value.strip()):
        return (
            f"{quote(value)} has no UTC offset (ambiguous): write it with Z or an offset "
            "such as +02:00"
        )
    return f"{quote(value)} is not an ISO-8601 timestamp with offset"


def _explain_date(value: object) -> str:
    return f"{quote(value)} is not a date (YYYY-MM-DD)"


def _explain_time_of_day(value: object) -> str:
    return f"{quote(value)} has a time of day; this column holds dates (YYYY-MM-DD)"


def _is_text(kind: pa.DataType) -> bool:
    return pa.types.is_string(kind) or pa.types.is_large_string(kind)


def _refuse(name: str, kind: pa.DataType, wanted: str) -> ColumnTypeError:
    return ColumnTypeError(f"column {name} has type {kind}, which cannot hold {wanted}")


def _to_integer(raw: pa.Array, target: pa.DataType, name: str) -> tuple[pa.Array, np.ndarray]:
    kind = raw.type
    if _is_text(kind):
        values, bad = _parse_text(raw, pa.int64(), _INT_TEXT, _normalise_int)
    elif pa.types.is_integer(kind):
        values, bad = raw, np.zeros(len(raw), dtype=bool)
        if pa.types.is_uint64(kind):
            too_big = _mask(pc.greater(raw, pa.scalar(2**63 - 1, pa.uint64())))
            values = pc.if_else(pa.array(too_big), pa.scalar(None, kind), raw)
            bad = too_big
        values = pc.cast(values, pa.int64())
    elif pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        numbers = pc.cast(raw, pa.float64())
        whole = pc.and_(
            pc.equal(pc.floor(numbers), numbers),
            pc.less(pc.abs(numbers), pa.scalar(2.0**63)),
        )
        bad = _mask(pc.invert(whole))
        values = pc.cast(
            pc.if_else(whole, numbers, pa.scalar(None, pa.float64())), pa.int64(), safe=False
        )
    else:
        raise _refuse(name, kind, "integers")
    if target == pa.int32():
        outside = _mask(
            pc.or_(
                pc.less(values, pa.scalar(_INT32[0], pa.int64())),
                pc.greater(values, pa.scalar(_INT32[1], pa.int64())),
            )
        )
        if outside.any():
            values = pc.if_else(pa.array(outside), pa.scalar(None, pa.int64()), values)
            bad = bad | outside
        values = pc.cast(values, pa.int32())
    return values, bad


def _to_float(raw: pa.Array, name: str) -> tuple[pa.Array, np.ndarray]:
    kind = raw.type
    if _is_text(kind):
        values, bad = _parse_text(raw, pa.float64(), _FLOAT_TEXT, _same)
    elif pa.types.is_integer(kind) or pa.types.is_floating(kind) or pa.types.is_decimal(kind):
        values, bad = pc.cast(raw, pa.float64()), np.zeros(len(raw), dtype=bool)
    else:
        raise _refuse(name, kind, "numbers")
    not_finite = _mask(pc.invert(pc.is_finite(values)))
    if not_finite.any():
        values = pc.if_else(pa.array(not_finite), pa.scalar(None, pa.float64()), values)
        bad = bad | not_finite
    return values, bad


def _to_timestamp(raw: pa.Array, name: str) -> tuple[pa.Array, np.ndarray]:
    kind = raw.type
    if _is_text(kind):
        values, bad = _parse_text(raw, UTC_TS, _TS_TEXT, _normalise_ts)
    elif pa.types.is_timestamp(kind):
        # A zone-aware column is converted to UTC; a naive Parquet column is taken as UTC
        # (documented in docs/user/file-import.md). Sub-microsecond digits are dropped.
        zone = UTC_TS if kind.tz else LANDED_TS
        values = pc.cast(raw, pa.timestamp("us", tz=kind.tz), safe=False)
        values = pc.cast(values, zone)
        bad = np.zeros(len(raw), dtype=bool)
    else:
        raise _refuse(name, kind, "timestamps")
    return pc.cast(values, LANDED_TS), bad


def _to_date(raw: pa.Array, name: str) -> tuple[pa.Array, np.ndarray, bool]:
    """Dates; the flag says the bad values are timestamps with a time of day."""
    kind = raw.type
    if _is_text(kind):
        values, bad = _parse_text(raw, pa.date32(), _DATE_TEXT, _same)
        return values, bad, False
    if pa.types.is_date(kind):
        return pc.cast(raw, pa.date32()), np.zeros(len(raw), dtype=bool), False
    if pa.types.is_timestamp(kind):
        if kind.tz:
            raw = pc.cast(pc.cast(raw, pa.timestamp(kind.unit, tz="UTC")), pa.timestamp(kind.unit))
        days = pc.cast(raw, pa.date32(), safe=False)
        midnight = pc.equal(pc.cast(days, pa.timestamp(kind.unit)), raw)
        bad = _mask(pc.invert(midnight))
        return pc.if_else(midnight, days, pa.scalar(None, pa.date32())), bad, True
    raise _refuse(name, kind, "dates")


def _to_string(raw: pa.Array, name: str) -> pa.Array:
    kind = raw.type
    if _is_text(kind) or pa.types.is_integer(kind):
        # Identifiers sometimes arrive as integers; their decimal text is the id.
        return pc.cast(raw, pa.string())
    raise _refuse(name, kind, "text")


def _missing(value: object) -> str:
    return "missing value (required column)"


def convert_column(raw: pa.Array, target: pa.DataType, name: str, rule: ColumnRule) -> Converted:
    """Convert one column of a chunk to ``target``, flagging the rows it cannot hold."""
    if pa.types.is_dictionary(raw.type):
        raw = raw.cast(raw.type.value_type)
    if pa.types.is_null(raw.type):
        raw = pa.nulls(len(raw), pa.string())
    problems: list[Problem] = []
    absent = _mask(raw.is_null())
    if _is_text(raw.type):
        # Empty or only blanks (two cheap scans; trimming every string would copy them all).
        blank = _mask(pc.or_(pc.equal(pc.binary_length(raw), 0), pc.utf8_is_space(raw)))
        if target != pa.string() and blank.any():
            # An empty field in a number or time column means "no value", like an empty cell.
            raw = pc.if_else(pa.array(blank), pa.scalar(None, raw.type), raw)
        absent = absent | blank
    if rule.required and absent.any():
        problems.append(Problem(absent, _missing))

    if pa.types.is_integer(target):
        values, bad = _to_integer(raw, target, name)
        problems.append(Problem(bad, _explain_int))
    elif pa.types.is_floating(target):
        values, bad = _to_float(raw, name)
        problems.append(Problem(bad, _explain_float))
    elif pa.types.is_timestamp(target):
        values, bad = _to_timestamp(raw, name)
        problems.append(Problem(bad, _explain_ts))
    elif pa.types.is_date(target):
        values, bad, time_of_day = _to_date(raw, name)
        problems.append(Problem(bad, _explain_time_of_day if time_of_day else _explain_date))
    elif target == pa.string():
        values = _to_string(raw, name)
    else:
        raise ColumnTypeError(f"column {name}: the importer has no conversion to {target}")

    if rule.min_value is not None:
        below = _mask(pc.less(values, pa.scalar(rule.min_value).cast(values.type)))
        if below.any():
            minimum = rule.min_value

            def _explain_below(value: object, minimum: float = minimum) -> str:
                if minimum == 0:
                    return f"{quote(value)} is negative"
                return f"{quote(value)} is below the minimum {minimum}"

            problems.append(Problem(below, _explain_below))
    if rule.allowed is not None:
        allowed = pa.array(rule.allowed, pa.string())
        outside = _mask(pc.invert(pc.is_in(values, value_set=allowed))) & ~absent
        if outside.any():
            listing = ", ".join(rule.allowed)

            def _explain_outside(value: object, listing: str = listing) -> str:
                return f"{quote(value)} is not one of {listing}"

            problems.append(Problem(outside, _explain_outside))

    problems = [p for p in problems if p.mask.any()]
    if problems:
        any_bad = np.logical_or.reduce([p.mask for p in problems])
        values = pc.if_else(pa.array(any_bad), pa.scalar(None, values.type), values)
    return Converted(values=values, problems=problems)
