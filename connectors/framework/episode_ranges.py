"""Downloads of hosts whose analytics answer one episode over a range of days.

Transistor and Simplecast have no "every episode on day D" endpoint: one request answers one
episode over a range of days. Asking per episode and per day would cost episodes x days
requests; asking each episode once over the whole range would make one huge unit of work that a
failure throws away entirely. :class:`EpisodeRangeConnector` takes the middle road:

* **day slices**: downloads are planned one slice per *day*, as for a host that answers per day.
  A day's slice lands the downloads of every episode on that day, so a day asked again with
  nothing new lands the very same batch (which replaces its own file) and the look-back of an
  incremental sync re-lands exactly its own days;
* **requests per episode over ``days_per_request``**: the sync's range is cut into windows of
  ``days_per_request`` consecutive days. The first slice of a window asks every episode once for
  the whole window and keeps the answers; the window's other days are served from memory. A sync
  of N days thus costs episodes x ceil(N / days_per_request) requests;
* **the slice id carries the run's range** (``2026-10-06@2026-10-01..2026-10-10``): a resumed run
  cuts the same windows and asks the same ranges as the run it resumes, whatever day it resumes
  on;
* **a range the API did not honour is a changed API**: an answer with a day outside the window
  asked stops the sync with :class:`ApiChangedError` (landing the days that happen to fit would
  quietly miss the others), while a record without a readable day goes to quarantine.

A connector implements ``show_ids``, ``episode_pages`` (its catalogue, to know the episodes),
``ask_range`` (one request) and ``record_day``, and turns a record into a row with
``download_rows``.

Also here: :func:`keyed_pages`, every page of a list whose records sit under one key of a JSON
object, on :meth:`ApiClient.pages` (so each page's final answer is judged after the retries).
"""

from __future__ import annotations

from abc import abstractmethod
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

from dlt.sources.helpers.rest_client.paginators import BasePaginator

from connectors.framework.connector import Connector, Plan, SourceRecord, Stream
from connectors.framework.errors import ApiChangedError, ConnectorError, RecordError
from connectors.framework.http import ApiClient, Page
from connectors.framework.records import count, field_error, text
from connectors.framework.state import StreamState

DEFAULT_DAYS_PER_REQUEST = 31


@dataclass(frozen=True)
class EpisodeRef:
    show_id: str
    episode_id: str


@dataclass(frozen=True)
class RangeAnswer:
    """What a host answered for one episode over a range of days: its per-day records."""

    url: str
    records: list[Any]


def keyed_pages(
    client: ApiClient,
    path: str,
    key: str,
    paginator: BasePaginator,
    params: dict[str, Any] | None = None,
) -> Iterator[Page]:
    """Every page of a list whose records are the list under ``key`` of each answer.

    dlt's data selector reads a missing key as an empty page and a single object as a page of
    one; a page without the list is a changed API instead, so the key is checked here.
    """
    for page in client.pages(path, params=params, paginator=paginator, data_selector="$"):
        body = page.response.json()
        records = body.get(key) if isinstance(body, dict) else None
        if not isinstance(records, list):
            raise ApiChangedError(
                f"{client.source}: {page.url} should hold a {key!r} list, got "
                f"{type(records).__name__}"
            )
        yield Page(records, page.url, page.response)


def listed_shows(
    source: str,
    pages: Iterable[Page],
    title_path: str,
    wanted: list[str] | None,
    *,
    noun: str,
    setting: str,
    seen_by: str,
) -> list[dict[str, Any]]:
    """The shows of a catalogue listing as ``{"id", "title"}``, only the ``wanted`` ones when
    the tenant names some. A show without an id is a changed API (every episode hangs on it);
    a wanted show that is not listed is an error naming it."""
    listed = []
    for page in pages:
        for record in page.records:
            try:
                listed.append({"id": text(record, "id"), "title": text(record, title_path, None)})
            except RecordError as exc:
                raise ApiChangedError(f"{source}: a {noun} of {page.url}: {exc}") from None
    if wanted:
        missing = set(wanted) - {s["id"] for s in listed}
        if missing:
            raise ConnectorError(
                f"{source}: {noun}(s) {sorted(missing)} of {setting} are not visible to {seen_by}"
            )
        listed = [s for s in listed if s["id"] in set(wanted)]
    return listed


class EpisodeRangeConnector(Connector):
    """A host whose analytics answer one episode over a range of days (see the module)."""

    # The field of a per-day record that holds its day (named in quarantine reasons).
    day_field: str = "date"
    # What an answer with days outside the range asked means, for the error.
    range_hint: str = "the API no longer honours the range parameters"

    # What the host calls a show, for check()'s answer ("podcast" on Simplecast).
    show_noun: str = "show"

    @abstractmethod
    def listed_shows(self) -> list[dict[str, Any]]:
        """Every show to sync, ``{"id", "title"}`` (see :func:`listed_shows`)."""

    def show_ids(self) -> list[str]:
        """Every show whose episodes' downloads are asked."""
        return [show["id"] for show in self.listed_shows()]

    def check(self) -> str:
        return f"{len(self.listed_shows())} {self.show_noun}(s) visible"

    def plan(self, stream: Stream, state: StreamState, mode: str) -> Plan:
        """The catalogue one slice per show; downloads one slice per day (see the module)."""
        if stream.entity == "episodes":
            return Plan(self.show_ids(), None)
        return self.downloads_plan(state, mode)

    def fetch(self, stream: Stream, slice_id: str) -> Iterator[SourceRecord]:
        if stream.entity == "episodes":
            show = next(s for s in self.listed_shows() if s["id"] == slice_id)
            for page in self.episode_pages(slice_id):
                for position, record in enumerate(page.records):
                    yield SourceRecord(record, page.url, position, {"show": show})
            return
        yield from self.downloads_fetch(slice_id)

    @abstractmethod
    def episode_pages(self, show_id: str) -> Iterator[Page]:
        """The pages of a show's episodes; each record's ``id`` is the episode's id."""

    @abstractmethod
    def ask_range(self, ref: EpisodeRef, first: date, last: date) -> RangeAnswer:
        """The host's per-day records of one episode from ``first`` to ``last``."""

    @abstractmethod
    def record_day(self, record: Any) -> date:
        """The day of one per-day record; RecordError when it has none."""

    def days_per_request(self) -> int:
        return int(getattr(self.settings, "days_per_request", DEFAULT_DAYS_PER_REQUEST))

    def episode_refs(self) -> list[EpisodeRef]:
        """Every episode whose downloads are asked, in the order they are landed."""
        if not hasattr(self, "_refs"):
            refs = set()
            for show_id in self.show_ids():
                for page in self.episode_pages(show_id):
                    for record in page.records:
                        try:
                            refs.add(EpisodeRef(show_id, str(text(record, "id"))))
                        except RecordError:
                            continue  # quarantined by the episodes stream, with its reason
            self._refs = sorted(refs, key=lambda r: (r.show_id, r.episode_id))
        return self._refs

    # -- slices --------------------------------------------------------------------------------

    def downloads_plan(self, state: StreamState, mode: str) -> Plan:
        start, end = self.day_range(state, mode)
        if start > end:
            return Plan([], state.cursor)
        days = [start + timedelta(days=i) for i in range((end - start).days + 1)]
        return Plan(
            [f"{d.isoformat()}@{start.isoformat()}..{end.isoformat()}" for d in days],
            end.isoformat(),
        )

    def window_of(self, slice_id: str) -> tuple[date, date, date]:
        """The slice's day and the window of the sync's range it falls in."""
        try:
            raw_day, raw_range = slice_id.split("@", 1)
            raw_first, raw_last = raw_range.split("..", 1)
            when, first, last = (date.fromisoformat(v) for v in (raw_day, raw_first, raw_last))
        except ValueError:
            raise ConnectorError(
                f"{self.platform}: slice {slice_id!r} is not <day>@<first>..<last>; restart the "
                "interrupted run with --restart"
            ) from None
        size = self.days_per_request()
        start = first + timedelta(days=(when - first).days // size * size)
        return when, start, min(last, start + timedelta(days=size - 1))

    def downloads_fetch(self, slice_id: str) -> Iterator[SourceRecord]:
        when, start, end = self.window_of(slice_id)
        key = (start, end)
        if getattr(self, "_window_key", None) != key:
            self._window = self._load_window(start, end)
            self._window_key = key
        yield from self._window.get(when, [])

    def _load_window(self, start: date, end: date) -> dict[date, list[SourceRecord]]:
        by_day: dict[date, list[SourceRecord]] = {}
        for ref in self.episode_refs():
            answer = self.ask_range(ref, start, end)
            context = {
                "show_id": ref.show_id,
                "episode_id": ref.episode_id,
                "first": start,
                "last": end,
            }
            for position, record in enumerate(answer.records):
                try:
                    when = self.record_day(record)
                except RecordError:
                    # Goes with the window's first day, where rows() quarantines it with its
                    # reason: nothing is dropped unseen.
                    when = start
                if not start <= when <= end:
                    # Not a bad record but a range the API did not honour: landing the days
                    # that happen to fit would quietly miss the others.
                    raise ApiChangedError(
                        f"{self.platform}: {answer.url} answered {when.isoformat()} when asked "
                        f"{start.isoformat()}..{end.isoformat()}; {self.range_hint}"
                    )
                by_day.setdefault(when, []).append(
                    SourceRecord(record, answer.url, position, context)
                )
        return by_day

    # -- rows ----------------------------------------------------------------------------------

    def checked_day(self, item: SourceRecord) -> date:
        """The record's day, which must be one of the days asked."""
        when = self.record_day(item.record)
        first, last = item.context["first"], item.context["last"]
        if not first <= when <= last:
            raise field_error(
                self.day_field,
                f"{when.isoformat()} is outside the range asked ({first.isoformat()}.."
                f"{last.isoformat()})",
            )
        return when

    def download_rows(self, item: SourceRecord, count_field: str) -> Iterable[dict[str, Any]]:
        """The row of one per-day record whose count is ``count_field``."""
        when = self.checked_day(item)
        downloads = count(item.record, count_field)
        # A zero is a day without downloads, not a reported download: like every host that lists
        # only days with downloads, such a day lands no row.
        if downloads == 0:
            return
        yield {
            "platform": self.platform,
            "show_id": item.context["show_id"],
            "episode_id": item.context["episode_id"],
            "date": when,
            "downloads": downloads,
            "reported_at": None,
        }
