"""Transistor beyond the generic contract: dd-mm-yyyy ranges and windows, JSON:API paging,
zero days, the rate-limit block, resumed ranges and answers that do not fit what was asked."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from typing import Any

import pytest
import requests

from connectors.framework.connector import FULL, INCREMENTAL, SourceRecord
from connectors.framework.episode_ranges import EpisodeRef, RangeAnswer
from connectors.framework.errors import (
    ApiChangedError,
    ConnectorError,
    CredentialsError,
    RecordError,
)
from connectors.framework.settings import RateLimit
from connectors.framework.sync import sync_connector
from connectors.hosting.transistor import DOWNLOADS, EPISODES, Transistor, TransistorSettings
from tests.fakes.catalog import Episode, HostCatalog, make_catalog
from tests.fakes.transistor import FakeTransistor
from tests.unit.connectors.conftest import landed_downloads, landed_rows
from warehouse.landing import LandingZone

FIRST = date(2026, 10, 1)
DAYS = 6
LAST = FIRST + timedelta(days=DAYS - 1)
TENANT = "transistor_co"
KEY = "tr-unit-key"


def small_catalog(shows: int = 2, episodes: int = 3) -> HostCatalog:
    return make_catalog(
        shows=shows, episodes_per_show=episodes, first_day=FIRST, days=DAYS, numeric_ids=True
    )


@pytest.fixture
def catalog() -> HostCatalog:
    return small_catalog()


@pytest.fixture
def fake(catalog: HostCatalog) -> Iterator[FakeTransistor]:
    with FakeTransistor(catalog, KEY) as server:
        yield server  # type: ignore[misc]


def connector(fake: FakeTransistor, today: date | None = None, **settings: Any) -> Transistor:
    options = {
        "base_url": fake.base_url,
        "start_date": FIRST,
        "rate_limit": RateLimit(requests=1000, per_seconds=1),
        "max_retry_delay_s": 3,
        **settings,
    }
    return Transistor(
        TENANT,
        TransistorSettings.model_validate(options),
        {"api_key": KEY},
        today=today or LAST + timedelta(days=1),
    )


def landed(zone: LandingZone, entity: str) -> list[dict]:
    return landed_rows(zone, TENANT, "transistor", entity)


def downloads(zone: LandingZone) -> dict[tuple[str, date], int]:
    return landed_downloads(zone, TENANT, "transistor")


def analytics_ranges(fake: FakeTransistor, episode_id: str) -> list[tuple[str, str]]:
    return [
        (s.query["start_date"], s.query["end_date"])
        for s in fake.requests_to(f"/v1/analytics/episodes/{episode_id}")
        if s.status == 200
    ]


def test_downloads_are_asked_in_dd_mm_yyyy_windows_of_the_sync_range(
    fake: FakeTransistor, catalog: HostCatalog, zone: LandingZone
) -> None:
    sync_connector(
        connector(fake, days_per_request=4), zone, mode=FULL, streams=["host_downloads_daily"]
    )
    for episode in catalog.episodes:
        assert analytics_ranges(fake, episode.episode_id) == [
            ("01-10-2026", "04-10-2026"),
            ("05-10-2026", "06-10-2026"),
        ]
    assert downloads(zone) == catalog.expected_downloads(FIRST, LAST)
    rows = landed(zone, "host_downloads_daily")
    assert {r["platform"] for r in rows} == {"transistor"}
    assert all(r["reported_at"] is None for r in rows)


def test_lists_are_paged_with_pagination_page_and_per(
    fake: FakeTransistor, catalog: HostCatalog, zone: LandingZone
) -> None:
    sync_connector(connector(fake, page_size=2), zone, mode=FULL, streams=["episodes"])
    for show in catalog.shows:
        pages = [
            (s.query["pagination[page]"], s.query["pagination[per]"])
            for s in fake.requests_to("/v1/episodes")
            if s.query.get("show_id") == show.show_id
        ]
        assert pages == [("1", "2"), ("2", "2")]  # three episodes, two a page
    rows = {r["episode_id"]: r for r in landed(zone, "episodes")}
    assert set(rows) == {e.episode_id for e in catalog.episodes}
    for episode in catalog.episodes:
        row = rows[episode.episode_id]
        # "2026-09-20T03:00:00.000-07:00" lands as naive UTC
        assert row["published_at"] == episode.published_at
        assert row["show_name"] == catalog.show(episode.show_id).title
        assert row["file_bytes"] is None and row["bitrate_kbps"] is None


def test_a_list_page_is_retried_after_a_5xx_and_a_malformed_answer(
    fake: FakeTransistor, catalog: HostCatalog, zone: LandingZone
) -> None:
    # The second page of the first show's episodes: a 503, then a cut-off body, then the page.
    fake.fail_next(1, 503, "/v1/episodes", skip=1)
    fake.malform_next(1, "/v1/episodes", skip=1)
    sync_connector(connector(fake, page_size=2), zone, mode=FULL, streams=["episodes"])
    first = catalog.shows[0].show_id
    asked = [
        (s.query["pagination[page]"], s.status)
        for s in fake.requests_to("/v1/episodes")
        if s.query.get("show_id") == first
    ]
    assert asked == [("1", 200), ("2", 503), ("2", 200), ("2", 200)]
    landed_ids = {r["episode_id"] for r in landed(zone, "episodes")}
    assert landed_ids == {e.episode_id for e in catalog.episodes}


@pytest.mark.parametrize("quiet_as_empty", [False, True], ids=["zeros", "empty-list"])
def test_days_and_episodes_without_downloads_land_no_row(
    catalog: HostCatalog, zone: LandingZone, quiet_as_empty: bool
) -> None:
    quiet = Episode("799001", catalog.shows[0].show_id, "Quiet", datetime(2026, 9, 1), 600, 9)
    catalog.episodes.append(quiet)
    with FakeTransistor(catalog, KEY, quiet_as_empty=quiet_as_empty) as server:
        sync_connector(connector(server), zone, mode=FULL)  # type: ignore[arg-type]
    assert downloads(zone) == catalog.expected_downloads(FIRST, LAST)
    assert not any(r["episode_id"] == "799001" for r in landed(zone, "host_downloads_daily"))
    assert all(r["downloads"] > 0 for r in landed(zone, "host_downloads_daily"))
    assert not zone.quarantine_files(TENANT)


class Interrupted(Exception):
    pass


def test_a_resumed_run_asks_the_ranges_of_the_run_it_resumes(
    fake: FakeTransistor, catalog: HostCatalog, zone: LandingZone
) -> None:
    def stop_after_two(stream: Any, slice_id: str) -> None:
        if slice_id.startswith((FIRST + timedelta(days=1)).isoformat()):
            raise Interrupted

    with pytest.raises(Interrupted):
        sync_connector(
            connector(fake, days_per_request=4),
            zone,
            mode=FULL,
            streams=["host_downloads_daily"],
            after_slice=stop_after_two,
        )
    before = len(fake.served)
    # Resumed three days later: the run still asks what it planned, up to its own last day.
    report = sync_connector(
        connector(fake, today=LAST + timedelta(days=4), days_per_request=4),
        zone,
        mode=INCREMENTAL,
        streams=["host_downloads_daily"],
    )
    (stream,) = report.streams
    assert stream.resumed and stream.slices_skipped == 2
    asked = {
        (s.query["start_date"], s.query["end_date"])
        for s in fake.served[before:]
        if "/analytics/" in s.path
    }
    assert asked == {("01-10-2026", "04-10-2026"), ("05-10-2026", "06-10-2026")}
    assert downloads(zone) == catalog.expected_downloads(FIRST, LAST)
    assert stream.cursor == LAST.isoformat()


@pytest.mark.parametrize("retry_after", [False, True], ids=["backoff", "retry-after"])
def test_the_rate_limit_block_is_survived(zone: LandingZone, retry_after: bool) -> None:
    catalog = small_catalog(shows=1, episodes=2)
    with FakeTransistor(catalog, KEY) as server:
        server.throttle(3, 1.0, block_s=0.5, retry_after=retry_after)  # type: ignore[attr-defined]
        report = sync_connector(connector(server), zone, mode=FULL)  # type: ignore[arg-type]
        refused = [s for s in server.served if s.status == 429]
    assert refused and report.throttled == len(refused)
    assert downloads(zone) == catalog.expected_downloads(FIRST, LAST)


def test_a_range_answered_other_than_asked_stops_the_sync(
    catalog: HostCatalog, zone: LandingZone
) -> None:
    shortened = "answered 2026-10-01..2026-10-02 when asked"
    with (
        FakeTransistor(catalog, KEY, max_range_days=2) as server,
        pytest.raises(ApiChangedError, match=shortened),
    ):
        sync_connector(
            connector(server, days_per_request=4),  # type: ignore[arg-type]
            zone,
            mode=FULL,
            streams=["host_downloads_daily"],
        )
    assert not landed(zone, "host_downloads_daily")


def test_day_records_are_read_in_both_date_forms_and_checked_against_the_range(
    fake: FakeTransistor,
) -> None:
    source = connector(fake)
    context = {"show_id": "1000", "episode_id": "788801", "first": FIRST, "last": LAST}

    def rows(record: dict) -> list[dict]:
        return list(source.rows(DOWNLOADS, SourceRecord(record, "u", 0, context)))

    for value in ("03-10-2026", "2026-10-03"):
        (row,) = rows({"date": value, "downloads": "7"})
        assert row["date"] == date(2026, 10, 3) and row["downloads"] == 7
        assert row["episode_id"] == "788801" and row["show_id"] == "1000"
    assert rows({"date": "03-10-2026", "downloads": 0}) == []
    with pytest.raises(RecordError, match="date: .*outside the range asked"):
        rows({"date": "30-09-2026", "downloads": 2})
    with pytest.raises(RecordError, match="date: not a date"):
        rows({"date": "31-02-2026", "downloads": 2})
    with pytest.raises(RecordError, match="downloads: a count cannot be negative"):
        rows({"date": "03-10-2026", "downloads": -1})
    with pytest.raises(RecordError, match="downloads: missing"):
        rows({"date": "03-10-2026"})


def test_an_unreadable_day_is_quarantined_with_its_window_not_dropped(
    fake: FakeTransistor, zone: LandingZone, monkeypatch: pytest.MonkeyPatch
) -> None:
    source = connector(fake)
    answer = [
        {"date": "01-10-2026", "downloads": 4},
        {"date": "Oct 2", "downloads": 9},
        {"date": "03-10-2026", "downloads": 5},
    ]
    monkeypatch.setattr(source, "episode_refs", lambda: [EpisodeRef("1000", "788801")])
    monkeypatch.setattr(source, "ask_range", lambda ref, first, last: RangeAnswer("u", answer))
    sync_connector(source, zone, mode=FULL, streams=["host_downloads_daily"])
    assert downloads(zone) == {("788801", date(2026, 10, 1)): 4, ("788801", date(2026, 10, 3)): 5}
    (bad,) = zone.read_quarantine(TENANT).to_pylist()
    assert "date: not a date" in bad["reason"] and "Oct 2" in bad["raw_record"]


def test_show_ids_are_text_and_filter_the_shows(
    fake: FakeTransistor, catalog: HostCatalog, zone: LandingZone
) -> None:
    wanted = catalog.shows[1].show_id
    sync_connector(connector(fake, show_ids=[int(wanted)]), zone, mode=FULL, streams=["episodes"])
    assert {r["show_id"] for r in landed(zone, "episodes")} == {wanted}
    with pytest.raises(ConnectorError, match="not visible"):
        connector(fake, show_ids=["424242"]).check()
    assert connector(fake).check() == "2 show(s) visible"


def test_a_wrong_key_is_a_credentials_error(fake: FakeTransistor) -> None:
    source = connector(fake)
    source.secrets["api_key"] = "nope"
    with pytest.raises(CredentialsError, match="401"):
        source.check()


def test_the_fake_holds_to_the_api_s_formats(fake: FakeTransistor, catalog: HostCatalog) -> None:
    episode = catalog.episodes[0].episode_id
    url = f"{fake.base_url}/v1/analytics/episodes/{episode}"
    assert requests.get(url, timeout=5).status_code == 401
    iso = {"start_date": "2026-10-01", "end_date": "2026-10-03"}
    assert requests.get(url, params=iso, headers={"x-api-key": KEY}, timeout=5).status_code == 400
    ok = requests.get(
        url,
        params={"start_date": "01-10-2026", "end_date": "03-10-2026"},
        headers={"x-api-key": KEY},
        timeout=5,
    ).json()["data"]["attributes"]
    assert [d["date"] for d in ok["downloads"]] == ["01-10-2026", "02-10-2026", "03-10-2026"]
    # Without a range: the last 14 days up to the fake's today.
    default = requests.get(url, headers={"x-api-key": KEY}, timeout=5).json()
    assert len(default["data"]["attributes"]["downloads"]) == 14
    shows = requests.get(f"{fake.base_url}/v1/shows", headers={"x-api-key": KEY}, timeout=5)
    assert shows.json()["meta"] == {"currentPage": 1, "totalPages": 1, "totalCount": 2}
    assert all(isinstance(s["id"], str) for s in shows.json()["data"])


def test_episodes_without_attributes_are_quarantined_by_field(fake: FakeTransistor) -> None:
    source = connector(fake)
    show = {"id": "1000", "title": "Show 1"}
    with pytest.raises(RecordError, match="attributes"):
        list(source.rows(EPISODES, SourceRecord({"id": "1"}, "u", 0, {"show": show})))
    with pytest.raises(RecordError, match="id: missing"):
        list(source.rows(EPISODES, SourceRecord({"attributes": {}}, "u", 0, {"show": show})))
