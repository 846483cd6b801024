"""What each column of an export file must hold, beyond its type in ``warehouse/entities.py``.

This is the file importer's half of the contract documented for users in
``docs/user/file-import.md``: whether a column is required (a missing value sends the row to
quarantine; a missing column refuses the file) and which values are impossible for it. Ranges
that are merely implausible (an HTTP status of 700, a negative revenue) are left to the
expectation suites in ``pipelines/quality/suites``, which judge the landed batch as a whole.
"""

from __future__ import annotations

from dataclasses import dataclass

from warehouse.entities import ENTITIES


@dataclass(frozen=True)
class ColumnRule:
    required: bool = False
    # Smallest allowed value (numbers), or None.
    min_value: float | None = None
    # The only allowed values (strings), or None.
    allowed: tuple[str, ...] | None = None


_REQ = ColumnRule(required=True)
_NON_NEGATIVE = ColumnRule(required=True, min_value=0)

RULES: dict[str, dict[str, ColumnRule]] = {
    "episodes": {
        "episode_id": _REQ,
        "show_id": _REQ,
        "published_at": _REQ,
        "duration_s": _REQ,
        "file_bytes": _NON_NEGATIVE,
    },
    "campaigns": {
        "campaign_id": _REQ,
        "advertiser": _REQ,
        "start_date": _REQ,
        "end_date": _REQ,
    },
    "placements": {
        "placement_id": _REQ,
        "campaign_id": _REQ,
        "episode_id": _REQ,
        "position": ColumnRule(required=True, allowed=("pre", "mid", "post")),
        "read_type": ColumnRule(required=True, allowed=("host", "produced")),
        # Optional: older exports have no such column, and a missing value means "unknown"
        # (the impression rule then falls back to the bytes up to the ad's end).
        "insertion_type": ColumnRule(allowed=("dynamic", "baked_in")),
        "ad_start_s": _REQ,
        "ad_end_s": _REQ,
    },
    "transcripts": {
        "episode_id": _REQ,
        "segment_index": _NON_NEGATIVE,
        "start_s": _NON_NEGATIVE,
        "end_s": _NON_NEGATIVE,
        "text": _REQ,
    },
    "download_requests": {
        "ts": _REQ,
        "ip": _REQ,
        "episode_id": _REQ,
        "status": _REQ,
        "bytes_sent": _NON_NEGATIVE,
        # optional: only impression exports report it
        "seconds_downloaded": ColumnRule(min_value=0),
    },
    "orders": {
        "order_id": _REQ,
        "ts": _REQ,
        "revenue": _REQ,
    },
    "site_events": {
        "event_id": _REQ,
        "ts": _REQ,
        "event_type": _REQ,
    },
    "host_downloads_daily": {
        "platform": _REQ,
        "episode_id": _REQ,
        "date": _REQ,
        "downloads": _NON_NEGATIVE,
    },
    "host_download_events": {
        "platform": _REQ,
        "episode_id": _REQ,
        "date": _REQ,
    },
    "leads": {
        "lead_id": _REQ,
        "lead_type": ColumnRule(
            required=True, allowed=("contact", "lead", "deal", "opportunity", "form_fill")
        ),
        "ts": _REQ,
        "value": ColumnRule(min_value=0),
    },
    "web_traffic_daily": {
        "platform": _REQ,
        "property_id": _REQ,
        "date": _REQ,
        "sessions": _NON_NEGATIVE,
        "conversions": ColumnRule(min_value=0),
    },
}

_OPTIONAL = ColumnRule()


def rule(entity: str, column: str) -> ColumnRule:
    """The rule of one column (optional with no value rule unless listed above)."""
    return RULES[entity].get(column, _OPTIONAL)


def required_columns(entity: str) -> list[str]:
    """Required columns of ``entity`` in the order of its landed schema."""
    return [name for name in ENTITIES[entity].schema.names if rule(entity, name).required]
