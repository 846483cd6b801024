"""What a connector is: its streams, how a stream is cut into slices, how a record becomes rows.

A connector subclass says *what* to ask a source; ``sync.py`` runs every connector the same way.

* A **stream** is one kind of record a source gives (episodes, daily downloads) and the landing
  entity its rows go to.
* A **slice** is the unit of work that lands in one transaction and is checkpointed on its own:
  a show's catalogue, one day of downloads, one export file. ``plan`` lists the slices of a sync
  (from the cursor for an incremental one) and the cursor reached when they have all landed.
* ``fetch`` yields the source's records of a slice, each with the (redacted) URL it came from;
  ``rows`` turns one record into canonical rows or raises ``RecordError``.
"""

from __future__ import annotations

from abc import ABC, abstractmethod
from collections.abc import Iterable, Iterator, Mapping
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, time, timedelta
from typing import Any, ClassVar

from connectors.framework.errors import ConnectorError
from connectors.framework.http import ApiClient, Pacing
from connectors.framework.settings import ConnectorSettings
from connectors.framework.state import StreamState

FULL = "full"
INCREMENTAL = "incremental"
DEFAULT_HISTORY_DAYS = 90


@dataclass(frozen=True)
class Stream:
    name: str
    entity: str
    description: str
    # Whether the API answers per day (the Dagster asset is then also scheduled daily).
    per_day: bool = False


@dataclass(frozen=True)
class SourceRecord:
    """One record as the source returned it, where it came from, and what the slice knows."""

    record: Any
    url: str
    position: int
    context: Mapping[str, Any] = field(default_factory=dict)


@dataclass(frozen=True)
class Plan:
    slices: list[str]
    target_cursor: str | None
    # What the operator should know about this plan ("statistics reach back 3 months only").
    notes: tuple[str, ...] = ()


class Connector(ABC):
    """A source of one platform for one tenant, with its validated settings and credentials."""

    platform: ClassVar[str]
    display_name: ClassVar[str]
    settings_model: ClassVar[type[ConnectorSettings]] = ConnectorSettings
    # Credential roles; each is read from the secret ``<platform>_<role>`` unless renamed.
    # A connector whose settings call for more overrides ``credential_roles``.
    credentials: ClassVar[tuple[str, ...]] = ()
    streams: ClassVar[tuple[Stream, ...]]
    default_base_url: ClassVar[str] = ""
    default_pacing: ClassVar[Pacing | None] = None
    # The webhook topics this platform pushes to Earshot's receiver (connectors/webhooks/);
    # empty when it pushes none. The receiver refuses any other topic.
    webhook_topics: ClassVar[tuple[str, ...]] = ()

    def __init__(
        self,
        tenant_id: str,
        settings: ConnectorSettings,
        secrets: Mapping[str, str],
        today: date | None = None,
    ) -> None:
        self.tenant_id = tenant_id
        self.settings = settings
        self.secrets = dict(secrets)
        self.today = today or datetime.now(UTC).date()
        self._client: ApiClient | None = None

    # -- what a connector provides -------------------------------------------------------------

    @abstractmethod
    def check(self) -> str:
        """One cheap authenticated request; returns what it saw (``2 podcasts``)."""

    @abstractmethod
    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        """The slices of a sync of ``stream`` and the cursor once they have all landed."""

    @abstractmethod
    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        """The source's records of one slice."""

    @abstractmethod
    def rows(self, stream: Stream, item: SourceRecord) -> Iterable[dict[str, Any]]:
        """Canonical rows (the entity's columns) of one record; RecordError when it has none."""

    def webhook_records(self, topic: str, payload: Any) -> tuple[Stream, list[SourceRecord]]:
        """The stream and records one verified webhook delivery stands for: the payload itself
        when it carries the whole object (a Shopify order), or the object fetched from the API
        when the notification is thin (a HubSpot contact id). Platforms with webhook_topics
        override it."""
        raise ConnectorError(f"{self.display_name} pushes no webhooks Earshot receives")

    # -- shared helpers ------------------------------------------------------------------------

    def build_client(self) -> ApiClient:
        """The HTTP client of this connector; every API connector builds its own (auth, checks).
        A connector that only reads export files (Spotify for Creators) has none."""
        raise ConnectorError(f"{self.platform} reads export files and talks to no API")

    @property
    def client(self) -> ApiClient:
        if self._client is None:
            self._client = self.build_client()
        return self._client

    @property
    def base_url(self) -> str:
        return self.settings.base_url or self.default_base_url

    def pacing(self) -> Pacing | None:
        limit = self.settings.rate_limit
        if limit is not None:
            return Pacing(limit.requests, limit.per_seconds)
        return self.default_pacing

    def client_options(self) -> dict[str, Any]:
        return {
            "pacing": self.pacing(),
            "max_attempts": self.settings.max_attempts,
            "max_retry_delay_s": self.settings.max_retry_delay_s,
            "backoff_factor": self.settings.retry_backoff_s,
        }

    def stream(self, name: str) -> Stream:
        for stream in self.streams:
            if stream.name == name:
                return stream
        raise KeyError(f"{self.platform} has no stream {name!r}")

    @classmethod
    def credential_roles(cls, settings: ConnectorSettings) -> tuple[str, ...]:
        """The credential roles a tenant with ``settings`` needs: ``credentials``, plus what a
        connector's optional modes add (Salesforce's token refresh)."""
        return cls.credentials

    @classmethod
    def secret_name(cls, role: str, settings: ConnectorSettings) -> str:
        return settings.secrets.get(role, f"{cls.platform}_{role}")

    # -- planning days -------------------------------------------------------------------------

    def last_complete_day(self) -> date:
        """Yesterday: a host's figures for today are not final."""
        return self.today - timedelta(days=1)

    def day_range(self, state: StreamState, mode: str) -> tuple[date, date]:
        """First and last day a sync asks for: from the start (full) or the cursor less the
        look-back (incremental), to the last complete day."""
        start = self.settings.start_date or (self.today - timedelta(days=DEFAULT_HISTORY_DAYS))
        if mode == INCREMENTAL and state.cursor:
            resume = date.fromisoformat(state.cursor) - timedelta(
                days=self.settings.lookback_days - 1 if self.settings.lookback_days else -1
            )
            start = max(start, resume)
        return start, self.last_complete_day()

    def day_window(self, slice_id: str) -> tuple[datetime, datetime]:
        """The instants bounding a day slice (``2026-10-01``): its UTC midnight and the next
        day's, aware. Each API then says them in its own format and bound convention."""
        start = datetime.combine(date.fromisoformat(slice_id), time(), UTC)
        return start, start + timedelta(days=1)

    def day_plan(self, state: StreamState, mode: str) -> Plan:
        """One slice per day from ``day_range``; the cursor becomes its last day."""
        start, end = self.day_range(state, mode)
        if start > end:
            return Plan([], state.cursor)
        days = [(start + timedelta(days=i)).isoformat() for i in range((end - start).days + 1)]
        return Plan(days, end.isoformat())


def daterange(first: date, last: date) -> Iterator[date]:
    for offset in range((last - first).days + 1):
        yield first + timedelta(days=offset)
