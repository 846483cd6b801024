"""The landed form of every file-import entity: one Arrow schema each.

This is the contract between the importers (which write it), the landing zone (which stores it),
the raw loader (which creates ``raw.<entity>`` from it) and dbt's staging models (which read it).
Timestamps are naive UTC (``timestamp[us]``): every engine then agrees on what a date is.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyarrow as pa

TS = pa.timestamp("us")


@dataclass(frozen=True)
class Entity:
    name: str
    schema: pa.Schema
    # Column whose UTC date picks the landing partition (dt=); None = date of extraction.
    event_time: str | None
    # Columns that identify one record; exact repeats of all columns are duplicates regardless.
    key: tuple[str, ...]
    # Whether export files may carry it. A host's raw download rows have no id, so two identical
    # rows are two downloads, which a file import would take for a repeated line: they come
    # from connectors only.
    file_import: bool = True
    # Columns added to the contract after files had landed without them: older files read them
    # as null (the raw loader and the suites fill them in).
    added_columns: tuple[str, ...] = ()


ENTITIES: dict[str, Entity] = {
    e.name: e
    for e in [
        Entity(
            "episodes",
            pa.schema(
                [
                    ("episode_id", pa.string()),
                    ("show_id", pa.string()),
                    ("show_name", pa.string()),
                    ("title", pa.string()),
                    ("published_at", TS),
                    ("duration_s", pa.float64()),
                    ("file_bytes", pa.int64()),
                    ("bitrate_kbps", pa.float64()),
                ]
            ),
            event_time=None,
            key=("episode_id",),
        ),
        Entity(
            "campaigns",
            pa.schema(
                [
                    ("campaign_id", pa.string()),
                    ("advertiser", pa.string()),
                    ("name", pa.string()),
                    ("start_date", pa.date32()),
                    ("end_date", pa.date32()),
                    ("budget", pa.float64()),
                    ("currency", pa.string()),
                ]
            ),
            event_time=None,
            key=("campaign_id",),
        ),
        Entity(
            "placements",
            pa.schema(
                [
                    ("placement_id", pa.string()),
                    ("campaign_id", pa.string()),
                    ("episode_id", pa.string()),
                    ("position", pa.string()),
                    ("read_type", pa.string()),
                    ("insertion_type", pa.string()),
                    ("ad_start_s", pa.float64()),
                    ("ad_end_s", pa.float64()),
                    ("cost", pa.float64()),
                    ("promo_code", pa.string()),
                    ("vanity_url", pa.string()),
                ]
            ),
            event_time=None,
            key=("placement_id",),
        ),
        Entity(
            "download_requests",
            pa.schema(
                [
                    ("ts", TS),
                    ("ip", pa.string()),
                    ("user_agent", pa.string()),
                    ("episode_id", pa.string()),
                    ("method", pa.string()),
                    ("status", pa.int32()),
                    ("bytes_sent", pa.int64()),
                    ("range", pa.string()),
                    # Seconds of audio the client received, when the source reports it (an
                    # impression export does; web server logs do not): optional, null otherwise.
                    ("seconds_downloaded", pa.float64()),
                ]
            ),
            event_time="ts",
            key=(),
        ),
        Entity(
            "orders",
            pa.schema(
                [
                    ("order_id", pa.string()),
                    ("ts", TS),
                    ("ip", pa.string()),
                    ("user_agent", pa.string()),
                    ("customer_id", pa.string()),
                    ("revenue", pa.float64()),
                    ("currency", pa.string()),
                    ("discount_codes", pa.string()),
                    ("landing_url", pa.string()),
                    ("referrer", pa.string()),
                    ("survey_answer", pa.string()),
                ]
            ),
            event_time="ts",
            key=("order_id",),
        ),
        Entity(
            "site_events",
            pa.schema(
                [
                    ("event_id", pa.string()),
                    ("ts", TS),
                    ("ip", pa.string()),
                    ("user_agent", pa.string()),
                    ("event_type", pa.string()),
                    ("url", pa.string()),
                    ("referrer", pa.string()),
                    # The order this visit led to, when the source knows it (Shopify's customer
                    # journey, WooCommerce's order attribution): the visit then evidences that
                    # order directly, whatever network it came from.
                    ("order_id", pa.string()),
                    # UTM tags the source keeps apart from the URL (order attribution, journey
                    # summaries); null when they are only in the URL's query string.
                    ("utm_source", pa.string()),
                    ("utm_medium", pa.string()),
                    ("utm_campaign", pa.string()),
                ]
            ),
            event_time="ts",
            key=("event_id",),
            added_columns=("order_id", "utm_source", "utm_medium", "utm_campaign"),
        ),
        # A lead, contact, deal or opportunity of a CRM or marketing platform (HubSpot,
        # Salesforce, Marketo). lead_id carries the object kind ("contact:101", "deal:7"), so two
        # kinds with the same number never collide. A deal or opportunity is a conversion when
        # won (at closed_at), with its value; any other lead converts when created, no value.
        Entity(
            "leads",
            pa.schema(
                [
                    ("lead_id", pa.string()),
                    ("lead_type", pa.string()),
                    ("ts", TS),
                    ("updated_at", TS),
                    ("email", pa.string()),
                    ("ip", pa.string()),
                    ("user_agent", pa.string()),
                    ("value", pa.float64()),
                    ("currency", pa.string()),
                    ("status", pa.string()),
                    ("is_won", pa.bool_()),
                    # When a deal or opportunity was won (the CRM's close date), null otherwise:
                    # its conversion time, which a later edit of the deal does not move.
                    ("closed_at", TS),
                    # The contact a deal or opportunity belongs to ("contact:101"), when known.
                    ("contact_id", pa.string()),
                    ("landing_url", pa.string()),
                    ("referrer", pa.string()),
                    ("utm_source", pa.string()),
                    ("utm_medium", pa.string()),
                    ("utm_campaign", pa.string()),
                    ("survey_answer", pa.string()),
                ]
            ),
            event_time="ts",
            key=("lead_id",),
            file_import=False,
        ),
        # Sessions, conversions and revenue of a web analytics property per day and traffic
        # source (Google Analytics 4's runReport): aggregates, with no visitor and no address,
        # so they measure podcast-tagged traffic but never join a household.
        Entity(
            "web_traffic_daily",
            pa.schema(
                [
                    ("platform", pa.string()),
                    ("property_id", pa.string()),
                    ("date", pa.date32()),
                    ("session_source", pa.string()),
                    ("session_medium", pa.string()),
                    ("session_campaign", pa.string()),
                    ("landing_page", pa.string()),
                    ("sessions", pa.int64()),
                    ("conversions", pa.float64()),
                    ("revenue", pa.float64()),
                    ("reported_at", TS),
                ]
            ),
            event_time=None,
            key=(
                "platform",
                "property_id",
                "date",
                "session_source",
                "session_medium",
                "session_campaign",
                "landing_page",
            ),
            file_import=False,
        ),
        # A hosting platform's own downloads of one episode on one of its reporting days
        # (Buzzsprout, Transistor, ... or a file). Partitioned by extraction date like the
        # catalogue: a report is small, and a correction of an old day is a new extraction.
        # A later report of the same platform, episode and date replaces an earlier one.
        Entity(
            "host_downloads_daily",
            pa.schema(
                [
                    ("platform", pa.string()),
                    ("show_id", pa.string()),
                    ("episode_id", pa.string()),
                    ("date", pa.date32()),
                    ("downloads", pa.int64()),
                    ("reported_at", TS),
                ]
            ),
            event_time=None,
            key=("platform", "episode_id", "date"),
        ),
        # One download as the hosting platform logged it, without address or user agent (its
        # API does not give them): the app, device and place of each download of an episode on
        # a reporting day (Buzzsprout's raw download rows). No key: two downloads from the same
        # app in the same city are two rows. A later extraction of an episode-day replaces the
        # earlier one's rows as a whole.
        Entity(
            "host_download_events",
            pa.schema(
                [
                    ("platform", pa.string()),
                    ("show_id", pa.string()),
                    ("episode_id", pa.string()),
                    ("date", pa.date32()),
                    ("app", pa.string()),
                    ("device", pa.string()),
                    ("device_type", pa.string()),
                    ("country_code", pa.string()),
                    ("region", pa.string()),
                    ("city", pa.string()),
                    ("continent", pa.string()),
                    ("media_type", pa.string()),
                ]
            ),
            event_time=None,
            key=(),
            file_import=False,
        ),
        # A transcript of an episode's audio, as a speech-to-text service exports it: one row per
        # timed segment. An import of an episode's segments replaces its earlier transcript as a
        # whole in staging (a transcript done again may cut the audio differently).
        Entity(
            "transcripts",
            pa.schema(
                [
                    ("episode_id", pa.string()),
                    ("segment_index", pa.int64()),
                    ("start_s", pa.float64()),
                    ("end_s", pa.float64()),
                    ("speaker", pa.string()),
                    ("text", pa.string()),
                ]
            ),
            event_time=None,
            key=("episode_id", "segment_index"),
        ),
    ]
}

# The entities an export file may hold (`earshot ingest files`).
FILE_ENTITIES = tuple(name for name, entity in ENTITIES.items() if entity.file_import)

# Lineage columns every landed batch carries besides the source's own columns.
METADATA_SCHEMA = pa.schema(
    [
        ("_tenant_id", pa.string()),
        ("_source", pa.string()),
        ("_extracted_at", TS),
        ("_batch_id", pa.string()),
        ("_cursor", pa.string()),
        ("_source_file", pa.string()),
        ("_source_row", pa.int64()),
        # The record as an API connector received it (JSON), so what the source said is kept
        # untouched beside its canonical columns; null for files and logs, whose line is
        # already named by _source_file and _source_row.
        ("_record", pa.string()),
    ]
)

# Lineage columns added after files had landed without them: read as null from older files.
OPTIONAL_LINEAGE = ("_record",)


def columns_read_as_null(entity: str) -> tuple[str, ...]:
    """Columns of ``entity``'s landed schema that older files may lack (read as null)."""
    spec = ENTITIES.get(entity)
    return OPTIONAL_LINEAGE + (spec.added_columns if spec else ())


# A quarantined record: which file and row, why, and the values as they arrived.
QUARANTINE_SCHEMA = pa.schema(
    [
        ("_tenant_id", pa.string()),
        ("_source", pa.string()),
        ("entity", pa.string()),
        ("_source_file", pa.string()),
        ("_source_row", pa.int64()),
        ("reason", pa.string()),
        ("raw_record", pa.string()),
        ("_batch_id", pa.string()),
        ("_extracted_at", TS),
    ]
)


def landed_schema(entity: str) -> pa.Schema:
    """Schema of a landed batch of ``entity``: the entity's columns, then the lineage columns."""
    base = ENTITIES[entity].schema
    return pa.schema(list(base) + list(METADATA_SCHEMA))
