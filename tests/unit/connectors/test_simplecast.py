"""Simplecast beyond the generic contract: pages.next.href, uuid ids, the unconfirmed range
parameters, by_interval days, zero days and its 429."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta
from typing import Any

import pytest
import requests

from connectors.framework.connector import FULL, SourceRecord
from connectors.framework.errors import (
    ApiChangedError,
    ConnectorError,
    CredentialsError,
    RecordError,
)
from connectors.framework.settings import RateLimit
from connectors.framework.sync import sync_connector
from connectors.hosting.simplecast import DOWNLOADS, Simplecast, SimplecastSettings
from tests.fakes.catalog import HostCatalog
from tests.fakes.server import WindowLimit
from tests.fakes.simplecast import FakeSimplecast, simplecast_catalog
from tests.unit.connectors.conftest import landed_downloads, landed_rows
from warehouse.landing import LandingZone

FIRST = date(2026, 10, 1)
DAYS = 6
LAST = FIRST + timedelta(days=DAYS - 1)
TENANT = "simplecast_co"
TOKEN = "sc-unit-token"


@pytest.fixture
def catalog() -> HostCatalog:
    return simplecast_catalog(FIRST, DAYS, shows=2, episodes_per_show=3)


@pytest.fixture
def fake(catalog: HostCatalog) -> Iterator[FakeSimplecast]:
    with FakeSimplecast(catalog, TOKEN) as server:
        yield server  # type: ignore[misc]


def connector(fake: FakeSimplecast, **settings: Any) -> Simplecast:
    options = {
        "base_url": fake.base_url,
        "start_date": FIRST,
        "rate_limit": RateLimit(requests=1000, per_seconds=1),
        "max_retry_delay_s": 3,
        **settings,
    }
    return Simplecast(
        TENANT,
        SimplecastSettings.model_validate(options),
        {"api_token": TOKEN},
        today=LAST + timedelta(days=1),
    )


def landed(zone: LandingZone, entity: str) -> list[dict]:
    return landed_rows(zone, TENANT, "simplecast", entity)


def downloads(zone: LandingZone) -> dict[tuple[str, date], int]:
    return landed_downloads(zone, TENANT, "simplecast")


def test_lists_follow_pages_next_href(
    fake: FakeSimplecast, catalog: HostCatalog, zone: LandingZone
) -> None:
    sync_connector(connector(fake, page_size=2), zone, mode=FULL, streams=["episodes"])
    for show in catalog.shows:
        offsets = [
            s.query.get("offset") for s in fake.requests_to(f"/podcasts/{show.show_id}/episodes")
        ]
        assert offsets == ["0", "2"]  # three episodes, two a page: the second from next.href
    rows = {r["episode_id"]: r for r in landed(zone, "episodes")}
    assert set(rows) == {e.episode_id for e in catalog.episodes}
    for episode in catalog.episodes:
        row = rows[episode.episode_id]
        assert len(row["episode_id"]) == 36 and row["episode_id"].count("-") == 4
        assert row["published_at"] == episode.published_at  # "...Z" lands as naive UTC
        assert row["duration_s"] == episode.duration_s
        assert row["show_name"] == catalog.show(episode.show_id).title


def test_a_list_page_is_retried_after_a_5xx_and_a_malformed_answer(
    fake: FakeSimplecast, catalog: HostCatalog, zone: LandingZone
) -> None:
    # The second page of the first podcast's episodes: a 503, then a cut-off body, then the page.
    fake.fail_next(1, 503, "/episodes", skip=1)
    fake.malform_next(1, "/episodes", skip=1)
    sync_connector(connector(fake, page_size=2), zone, mode=FULL, streams=["episodes"])
    first = catalog.shows[0].show_id
    asked = [
        (s.query.get("offset"), s.status) for s in fake.requests_to(f"/podcasts/{first}/episodes")
    ]
    assert asked == [("0", 200), ("2", 503), ("2", 200), ("2", 200)]
    landed_ids = {r["episode_id"] for r in landed(zone, "episodes")}
    assert landed_ids == {e.episode_id for e in catalog.episodes}


def test_a_list_without_its_collection_is_a_changed_api(
    fake: FakeSimplecast, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = fake._paged

    def without_collection(request, items):  # type: ignore[no-untyped-def]
        response = original(request, items)
        response.body.pop("collection")
        return response

    monkeypatch.setattr(fake, "_paged", without_collection)
    # dlt's data selector alone would read the page as empty and list no podcast at all.
    with pytest.raises(ApiChangedError, match="should hold a 'collection' list, got NoneType"):
        connector(fake).check()


def test_downloads_are_asked_per_episode_and_window_with_start_date_and_end_date(
    fake: FakeSimplecast, catalog: HostCatalog, zone: LandingZone
) -> None:
    sync_connector(
        connector(fake, days_per_request=4), zone, mode=FULL, streams=["host_downloads_daily"]
    )
    for episode in catalog.episodes:
        asked = [
            (s.query["interval"], s.query["start_date"], s.query["end_date"])
            for s in fake.requests_to("/analytics/downloads")
            if s.query.get("episode") == episode.episode_id
        ]
        assert asked == [("day", "2026-10-01", "2026-10-04"), ("day", "2026-10-05", "2026-10-06")]
    assert downloads(zone) == catalog.expected_downloads(FIRST, LAST)
    rows = landed(zone, "host_downloads_daily")
    assert rows and all(r["downloads"] > 0 and r["platform"] == "simplecast" for r in rows)
    assert not zone.quarantine_files(TENANT)


def test_an_api_ignoring_the_range_stops_the_sync_before_landing_downloads(
    catalog: HostCatalog, zone: LandingZone
) -> None:
    # Were the real names startDate/endDate, the answer would be the episode's whole history.
    with (
        FakeSimplecast(catalog, TOKEN, range_params=(("startDate", "endDate"),)) as server,
        pytest.raises(ApiChangedError, match="when asked 2026-10-01..2026-10-06; the API ignores"),
    ):
        sync_connector(connector(server), zone, mode=FULL)  # type: ignore[arg-type]
    assert landed(zone, "episodes") and not landed(zone, "host_downloads_daily")


def test_the_fake_accepts_both_spellings_of_the_range(fake: FakeSimplecast) -> None:
    episode = fake.catalog.episodes[0].episode_id
    headers = {"Authorization": f"Bearer {TOKEN}"}
    url = f"{fake.base_url}/analytics/downloads"
    base = {"episode": episode, "interval": "day"}
    snake = requests.get(
        url,
        params={**base, "start_date": "2026-10-02", "end_date": "2026-10-04"},
        headers=headers,
        timeout=5,
    ).json()
    camel = requests.get(
        url,
        params={**base, "startDate": "2026-10-02", "endDate": "2026-10-04"},
        headers=headers,
        timeout=5,
    ).json()
    assert snake == camel
    assert [d["interval"] for d in snake["by_interval"]] == [
        "2026-10-02",
        "2026-10-03",
        "2026-10-04",
    ]
    assert snake["total"] == sum(d["downloads_total"] for d in snake["by_interval"])
    assert requests.get(url, params=base, timeout=5).status_code == 401


def test_interval_days_and_counts_are_read_defensively(fake: FakeSimplecast) -> None:
    source = connector(fake)
    context = {"show_id": "p", "episode_id": "e", "first": FIRST, "last": LAST}

    def rows(record: dict) -> list[dict]:
        return list(source.rows(DOWNLOADS, SourceRecord(record, "u", 0, context)))

    for value in ("2026-10-03", "2026-10-03T00:00:00Z", "2026-10-03 00:00:00"):
        (row,) = rows({"interval": value, "downloads_total": 3, "downloads_percent": 1.5})
        assert row["date"] == date(2026, 10, 3) and row["downloads"] == 3
    assert rows({"interval": "2026-10-03", "downloads_total": 0}) == []
    with pytest.raises(RecordError, match="interval: .*outside the range asked"):
        rows({"interval": "2026-10-09", "downloads_total": 3})
    with pytest.raises(RecordError, match="downloads_total: missing"):
        rows({"interval": "2026-10-03", "downloads": 3})


def test_a_429_with_retry_after_is_waited_out(catalog: HostCatalog, zone: LandingZone) -> None:
    with FakeSimplecast(catalog, TOKEN) as server:
        server.limit = WindowLimit(4, 1.0)
        report = sync_connector(connector(server), zone, mode=FULL)  # type: ignore[arg-type]
        refused = [s for s in server.served if s.status == 429]
    assert refused and report.throttled == len(refused)
    assert downloads(zone) == catalog.expected_downloads(FIRST, LAST)


def test_a_page_without_pages_is_a_changed_api(
    fake: FakeSimplecast, zone: LandingZone, monkeypatch: pytest.MonkeyPatch
) -> None:
    original = fake._paged

    def without_pages(request, items):  # type: ignore[no-untyped-def]
        response = original(request, items)
        response.body.pop("pages")
        return response

    monkeypatch.setattr(fake, "_paged", without_pages)
    with pytest.raises(ApiChangedError, match="no 'pages' object"):
        connector(fake).check()


def test_podcast_ids_filter_and_bad_tokens(
    fake: FakeSimplecast, catalog: HostCatalog, zone: LandingZone
) -> None:
    wanted = catalog.shows[0].show_id
    sync_connector(connector(fake, podcast_ids=[wanted]), zone, mode=FULL, streams=["episodes"])
    assert {r["show_id"] for r in landed(zone, "episodes")} == {wanted}
    with pytest.raises(ConnectorError, match="not visible"):
        connector(fake, podcast_ids=["00000000-0000-0000-0000-000000000000"]).check()
    source = connector(fake)
    source.secrets["api_token"] = "nope"
    with pytest.raises(CredentialsError, match="401"):
        source.check()
