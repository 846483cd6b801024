"""Podbean beyond the generic contract: tokens, unix seconds, paging, drafts, its rate limit."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, datetime, timedelta
from pathlib import Path

import pytest
import requests

from connectors.framework.connector import FULL, INCREMENTAL, SourceRecord
from connectors.framework.errors import CredentialsError, RecordError
from connectors.framework.settings import RateLimit
from connectors.framework.state import StreamState
from connectors.framework.sync import sync_connector
from connectors.hosting.podbean import EPISODES, Podbean, PodbeanSettings, cells
from tests.fakes.podbean import FakePodbean, podbean_catalog
from tests.unit.connectors.conftest import landed_rows
from warehouse.landing import LandingZone

FIRST = date(2026, 10, 1)
DAYS = 8
LAST = FIRST + timedelta(days=DAYS - 1)
TENANT = "pod_co"
SECRETS = {"client_id": "pb-client-1", "client_secret": "pb-secret-1"}


@pytest.fixture
def fake() -> Iterator[FakePodbean]:
    with FakePodbean(podbean_catalog(FIRST, DAYS, episodes=4)) as server:
        yield server  # type: ignore[misc]


def connector(fake: FakePodbean, **settings) -> Podbean:  # type: ignore[no-untyped-def]
    options = {
        "base_url": fake.base_url,
        "start_date": FIRST,
        "rate_limit": RateLimit(requests=1000, per_seconds=1),
        "max_retry_delay_s": 2,
        **settings,
    }
    return Podbean(TENANT, PodbeanSettings(**options), SECRETS, today=LAST + timedelta(days=1))


def landed(zone: LandingZone, entity: str) -> list[dict]:
    return landed_rows(zone, TENANT, "podbean", entity)


def test_publish_time_in_unix_seconds_becomes_naive_utc(fake: FakePodbean) -> None:
    source = connector(fake)
    podcast = {"id": "Q7VPB3ZLDN", "title": "Show"}
    for value in (1_790_000_000, "1790000000"):
        record = {"id": "IWPNG2FB3F", "title": "E1", "publish_time": value, "duration": None}
        (row,) = source.rows(EPISODES, SourceRecord(record, "u", 0, {"podcast": podcast}))
        assert row["published_at"] == datetime(2026, 9, 21, 14, 13, 20)
        assert row["duration_s"] is None and row["episode_id"] == "IWPNG2FB3F"
    with pytest.raises(RecordError, match="publish_time"):
        list(
            source.rows(
                EPISODES,
                SourceRecord(
                    {"id": "X", "publish_time": "yesterday"}, "u", 0, {"podcast": podcast}
                ),
            )
        )


def test_an_expired_token_is_refreshed_once_and_the_sync_goes_on(
    fake: FakePodbean, tmp_path: Path
) -> None:
    zone = LandingZone(tmp_path / "landing")
    source = connector(fake)
    sync_connector(source, zone, mode=FULL, streams=["episodes"])
    fake.expire_tokens()  # a week later, to the server

    sync_connector(source, zone, mode=FULL, streams=["host_downloads_daily"])

    statuses = [s.status for s in fake.served]
    assert len(fake.requests_to("/v1/oauth/token")) == 2
    assert statuses.count(400) == 1  # the one invalid_token answer, then the fresh token
    rows = {
        (r["episode_id"], r["date"]): r["downloads"] for r in landed(zone, "host_downloads_daily")
    }
    assert rows == fake.catalog.expected_downloads(FIRST, LAST)


def test_a_refused_token_is_a_credentials_error_without_secrets(fake: FakePodbean) -> None:
    fake.invalid_token_status = 401
    fake.token_lifetime_s = 0  # every token the server issues is already expired
    with pytest.raises(CredentialsError) as failure:
        connector(fake).check()
    message = str(failure.value)
    assert "podbean" in message and "invalid_token" in message
    assert not any(token in message for token in fake.tokens)
    assert SECRETS["client_secret"] not in message


def test_episodes_are_paged_and_drafts_left_out(tmp_path: Path) -> None:
    catalog = podbean_catalog(FIRST, 3, episodes=130)
    with FakePodbean(catalog) as fake:
        draft = catalog.episodes[5].episode_id
        fake.draft_ids.add(draft)
        zone = LandingZone(tmp_path / "landing")
        sync_connector(connector(fake), zone, mode=FULL, streams=["episodes"])
        offsets = [s.query["offset"] for s in fake.requests_to("/v1/episodes")]
        assert offsets == ["0", "100"]
        ids = {row["episode_id"] for row in landed(zone, "episodes")}
        assert ids == {e.episode_id for e in catalog.episodes} - {draft}


def test_the_400_rate_limit_answer_is_retried(fake: FakePodbean, tmp_path: Path) -> None:
    fake.leaky_bucket(3, 3.0, refusal="400")
    zone = LandingZone(tmp_path / "landing")
    sync_connector(connector(fake), zone, mode=FULL)
    assert any(s.status == 400 for s in fake.served)
    rows = {
        (r["episode_id"], r["date"]): r["downloads"] for r in landed(zone, "host_downloads_daily")
    }
    assert rows == fake.catalog.expected_downloads(FIRST, LAST)


def test_stats_are_asked_per_episode_on_a_fixed_grid(fake: FakePodbean) -> None:
    source = connector(fake, days_per_slice=3)
    full = source.plan(
        source.stream("host_downloads_daily"), StreamState(TENANT, "podbean", "d"), FULL
    )
    assert full.target_cursor == LAST.isoformat()
    state = StreamState(TENANT, "podbean", "d", cursor=LAST.isoformat())
    later = connector(fake, days_per_slice=3)
    later.today = LAST + timedelta(days=3)
    incremental = later.plan(later.stream("host_downloads_daily"), state, INCREMENTAL)
    # Look-back from Oct 7 goes back to its cell's start (Oct 7, cells start Oct 1, 4, 7, 10),
    # so the days asked again form the same slice as in the full sync.
    episode = fake.catalog.episodes[0].episode_id
    assert f"{episode}:2026-10-07:2026-10-08" in full.slices
    assert [s for s in incremental.slices if s.startswith(episode)] == [
        f"{episode}:2026-10-07:2026-10-09",
        f"{episode}:2026-10-10:2026-10-10",
    ]
    assert list(cells(date(2026, 10, 2), date(2026, 10, 8), FIRST, 3)) == [
        (date(2026, 10, 2), date(2026, 10, 3)),
        (date(2026, 10, 4), date(2026, 10, 6)),
        (date(2026, 10, 7), date(2026, 10, 8)),
    ]


def test_the_fake_refuses_a_missing_user_agent_and_moves_the_end_to_yesterday(
    fake: FakePodbean,
) -> None:
    answer = requests.get(f"{fake.base_url}/v1/podcast", headers={"User-Agent": ""}, timeout=5)
    assert answer.status_code == 403
    fake.today = FIRST + timedelta(days=3)
    token = requests.post(
        f"{fake.base_url}/v1/oauth/token",
        auth=("pb-client-1", "pb-secret-1"),
        data={"grant_type": "client_credentials"},
        headers={"User-Agent": "test/1"},
        timeout=5,
    ).json()["access_token"]
    episode = fake.catalog.episodes[0].episode_id
    for name in ("episode_id", "episode"):
        stats = requests.get(
            f"{fake.base_url}/v1/podcastStats/stats",
            params={
                name: episode,
                "start": "2026-10-01",
                "end": "2026-10-08",
                "period": "d",
                "access_token": token,
            },
            headers={"User-Agent": "test/1"},
            timeout=5,
        ).json()
        assert list(stats) == ["2026-10-01", "2026-10-02", "2026-10-03"]
