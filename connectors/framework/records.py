"""Reading source records defensively: required fields, dates in every format the APIs use.

Every helper raises :class:`RecordError` naming the field and the value it could not read, so a
quarantined record says why, and a page where every record fails on the same field reads as a
changed API (``sync.py``).
"""

from __future__ import annotations

import json
import math
from datetime import UTC, date, datetime
from typing import Any
from urllib.parse import parse_qs, urlsplit

from connectors.framework.errors import RecordError

_MISSING = object()


def field_error(name: str, problem: str) -> RecordError:
    error = RecordError(f"{name}: {problem}")
    error.field = name  # type: ignore[attr-defined]
    return error


def get(record: Any, path: str, default: Any = _MISSING) -> Any:
    """The value at a dotted ``path`` (``attributes.title``); RecordError when it is absent.

    With ``default`` an absent or null value gives the default instead."""
    value = record
    for part in path.split("."):
        if isinstance(value, dict) and part in value:
            value = value[part]
        elif isinstance(value, list) and part.isdigit() and int(part) < len(value):
            value = value[int(part)]
        else:
            if default is not _MISSING:
                return default
            raise field_error(path, "missing")
    if value is None and default is not _MISSING:
        return default
    if value is None:
        raise field_error(path, "null")
    return value


def text(record: Any, path: str, default: Any = _MISSING) -> str | None:
    value = get(record, path, default)
    if value is None:
        return None
    if isinstance(value, dict | list):
        raise field_error(path, f"expected text, got {type(value).__name__}")
    return str(value)


def blank_none(value: str | None) -> str | None:
    """``value`` stripped, None when nothing is left: sources send a cleared field as "" or
    spaces as often as null."""
    if value is None:
        return None
    return value.strip() or None


def blank_text(record: Any, path: str, *, strip: bool = True) -> str | None:
    """Optional text where blank means absent: None when missing, null or blank. With
    ``strip=False`` only an empty value is None and the text is kept as sent."""
    value = text(record, path, None)
    if not strip:
        return value or None
    return blank_none(value)


UTM_TAGS = ("utm_source", "utm_medium", "utm_campaign")


def utm_tags(url_or_query: str | None) -> dict[str, str | None]:
    """The UTM tags of a landing URL (``https://shop.example/?utm_source=pod``) or of its query
    string alone (``utm_source=pod&...``): each tag's first non-blank value, None when absent."""
    value = url_or_query or ""
    head, found, _ = value.partition("?")
    # Text before a "?" with no "=" or "&" is a URL or path; otherwise it is the query itself.
    query = urlsplit(value).query if found and "=" not in head and "&" not in head else value
    values = parse_qs(query)
    return {tag: (values.get(tag) or [None])[0] for tag in UTM_TAGS}


def joined_codes(record: Any, path: str, key: str = "code", *, required: bool = True) -> str | None:
    """The codes of a list of objects (an order's discount codes, coupon lines, promo lines),
    comma-joined in order without repeats; None when there is none. ``required``: an object
    without its code is a RecordError naming it (a coupon line always has one); otherwise it is
    skipped (a discount line without a promo code is an automatic discount)."""
    listed = get(record, path, None) or []
    if not isinstance(listed, list):
        raise field_error(path, f"expected a list, got {type(listed).__name__}")
    codes: list[str] = []
    for position, item in enumerate(listed):
        code = item.get(key) if isinstance(item, dict) else None
        code = str(code).strip() if code is not None else ""
        if not code:
            if required:
                raise field_error(f"{path}.{position}.{key}", "missing")
            continue
        if code not in codes:
            codes.append(code)
    return ",".join(codes) or None


def integer(record: Any, path: str, default: Any = _MISSING) -> int | None:
    value = get(record, path, default)
    if value is None:
        return None
    if isinstance(value, bool):
        raise field_error(path, f"expected a whole number, got {value!r}")
    if isinstance(value, int):
        return value
    if isinstance(value, float) and value.is_integer():
        return int(value)
    if isinstance(value, str) and value.strip().lstrip("-").isdigit():
        return int(value.strip())
    raise field_error(path, f"expected a whole number, got {value!r}")


def count(record: Any, path: str) -> int:
    """A download count: a whole number that is not negative."""
    value = integer(record, path)
    assert value is not None
    if value < 0:
        raise field_error(path, f"a count cannot be negative, got {value}")
    return value


def number(record: Any, path: str, default: Any = _MISSING) -> float | None:
    value = get(record, path, default)
    if value is None:
        return None
    if isinstance(value, bool):
        raise field_error(path, f"expected a number, got {value!r}")
    try:
        result = float(value)
    except (TypeError, ValueError):
        raise field_error(path, f"expected a number, got {value!r}") from None
    if not math.isfinite(result):
        raise field_error(path, f"expected a finite number, got {value!r}")
    return result


def timestamp(record: Any, path: str, default: Any = _MISSING) -> datetime | None:
    """An instant as naive UTC: ISO-8601 with or without offset (naive = UTC) or unix seconds."""
    value = get(record, path, default)
    if value is None:
        return None
    return parse_timestamp(value, path)


def parse_timestamp(value: Any, name: str) -> datetime:
    if isinstance(value, bool):
        raise field_error(name, f"expected a time, got {value!r}")
    if isinstance(value, int | float):
        return _from_epoch(float(value), name)
    if isinstance(value, str):
        raw = value.strip()
        if raw.lstrip("-").replace(".", "", 1).isdigit():
            return _from_epoch(float(raw), name)
        try:
            moment = datetime.fromisoformat(raw.replace("Z", "+00:00").replace(" UTC", "+00:00"))
        except ValueError:
            raise field_error(name, f"not an ISO-8601 time or unix seconds: {value!r}") from None
        if moment.tzinfo is not None:
            moment = moment.astimezone(UTC).replace(tzinfo=None)
        return moment
    raise field_error(name, f"expected a time, got {type(value).__name__}")


def _from_epoch(seconds: float, name: str) -> datetime:
    # Milliseconds are read as such: no podcast was published before 1973 or after 5138.
    if abs(seconds) >= 1e11:
        seconds /= 1000.0
    try:
        return datetime.fromtimestamp(seconds, UTC).replace(tzinfo=None)
    except (OverflowError, OSError, ValueError):
        raise field_error(name, f"unix time out of range: {seconds!r}") from None


def day(record: Any, path: str, formats: tuple[str, ...] = ("%Y-%m-%d",)) -> date:
    value = get(record, path)
    return parse_day(value, path, formats)


def parse_day(value: Any, name: str, formats: tuple[str, ...] = ("%Y-%m-%d",)) -> date:
    """A calendar date in one of ``formats`` (``%d-%m-%Y`` for Transistor, ...)."""
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    raw = str(value).strip()
    for fmt in formats:
        try:
            return datetime.strptime(raw, fmt).date()
        except ValueError:
            continue
    raise field_error(name, f"not a date in {' or '.join(formats)}: {value!r}")


def iso_z(moment: datetime) -> str:
    """An instant as ISO-8601 UTC in whole seconds with a Z (``2026-10-01T00:00:00Z``), the
    form most query languages take; a naive instant is read as UTC, as everywhere here."""
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def as_json(record: Any) -> str:
    """The record as the source sent it, for the ``_record`` lineage column and quarantine."""
    return json.dumps(record, sort_keys=True, default=str, ensure_ascii=False)
