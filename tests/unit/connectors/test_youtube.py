"""YouTube beyond the generic contract: quota stops, report columns, durations, tokens, delay."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import date, timedelta

import pytest

from connectors.framework.connector import FULL, INCREMENTAL
from connectors.framework.errors import (
    ApiChangedError,
    CredentialsError,
    QuotaExhaustedError,
    RecordError,
    SettingsError,
)
from connectors.framework.settings import RateLimit, parse_settings
from connectors.framework.state import StateStore
from connectors.framework.sync import sync_connector
from connectors.hosting.youtube import YouTube, YouTubeSettings, parse_iso_duration
from tests.fakes.server import WindowLimit
from tests.fakes.youtube import FakeYouTube, google_error, iso_duration, youtube_catalog
from warehouse.landing import LandingZone

FIRST = date(2026, 10, 1)
DAYS = 8
LAST = FIRST + timedelta(days=DAYS - 1)
TENANT = "tube_co"
SECRETS = {
    "client_id": "yt-client-1.apps.googleusercontent.com",
    "client_secret": "yt-secret-1",
    "refresh_token": "1//yt-refresh-1",
}
DOWNLOADS = "host_downloads_daily"


@pytest.fixture
def fake() -> Iterator[FakeYouTube]:
    with FakeYouTube(youtube_catalog(FIRST, DAYS, videos=4)) as server:
        yield server  # type: ignore[misc]


def connector(fake: FakeYouTube, today: date = LAST + timedelta(days=1), **settings) -> YouTube:  # type: ignore[no-untyped-def]
    options = {
        "base_url": fake.base_url,
        "token_url": "{base_url}/token",
        "data_api_base_url": "{base_url}/youtube/v3",
        "start_date": FIRST,
        "reporting_lag_days": 1,
        "rate_limit": RateLimit(requests=1000, per_seconds=1),
        "max_retry_delay_s": 2,
        **settings,
    }
    return YouTube(TENANT, YouTubeSettings(**options), SECRETS, today=today)


def views(zone: LandingZone) -> dict:
    if not zone.files(TENANT, "youtube", DOWNLOADS):
        return {}
    rows = sorted(
        zone.read(TENANT, "youtube", DOWNLOADS).to_pylist(), key=lambda r: r["_extracted_at"]
    )
    return {(r["episode_id"], r["date"]): r["downloads"] for r in rows}


@pytest.mark.parametrize(
    ("text", "seconds"),
    [
        ("PT1H2M3S", 3723),
        ("PT45S", 45),
        ("PT15M", 900),
        ("P1DT2H", 93_600),
        ("P0D", 0),
        ("PT0S", 0),
        ("pt1m30.6s", 91),
    ],
)
def test_iso_durations_become_seconds(text: str, seconds: int) -> None:
    assert parse_iso_duration(text) == seconds


@pytest.mark.parametrize("text", ["", "P", "PT", "1H", "P1M", "PT1H2", "PTXS", "P1DT", "3723"])
def test_other_durations_are_record_errors(text: str) -> None:
    with pytest.raises(RecordError, match="duration"):
        parse_iso_duration(text)


def test_the_fakes_durations_read_back(fake: FakeYouTube) -> None:
    for seconds in (0, 59, 3600, 3723, 90_061):
        assert parse_iso_duration(iso_duration(seconds)) == seconds


def test_reordered_report_columns_are_read_by_name(fake: FakeYouTube, zone: LandingZone) -> None:
    fake.column_order = ["averageViewDuration", "views", "video", "estimatedMinutesWatched", "day"]
    sync_connector(connector(fake), zone, mode=FULL)
    assert views(zone) == fake.catalog.expected_downloads(FIRST, LAST)
    report = fake.requests_to("/v2/reports")[0].query
    assert report["dimensions"] == "day,video" and report["ids"] == "channel==MINE"


def test_a_report_without_views_is_a_changed_api(fake: FakeYouTube, zone: LandingZone) -> None:
    fake.drop_columns = {"views"}
    with pytest.raises(ApiChangedError, match="'views'"):
        sync_connector(connector(fake), zone, mode=FULL, streams=[DOWNLOADS])
    assert not zone.entity_files(TENANT, DOWNLOADS)


def test_a_spent_quota_stops_at_a_checkpoint_and_the_next_run_resumes(
    fake: FakeYouTube, zone: LandingZone
) -> None:
    fake.quota = 3
    with pytest.raises(QuotaExhaustedError, match="quota") as failure:
        sync_connector(connector(fake), zone, mode=FULL, streams=[DOWNLOADS])
    assert "youtube" in str(failure.value)
    state = StateStore(zone).load(TENANT, "youtube", DOWNLOADS)
    assert state.run is not None and state.run.done == [
        (FIRST + timedelta(days=i)).isoformat() for i in range(3)
    ]
    assert len(fake.requests_to("/v2/reports")) == 4  # three days, then the refusal, no retry
    landed_days = {day for _, day in views(zone)}
    assert landed_days and max(landed_days) < FIRST + timedelta(days=3)

    fake.quota = None  # midnight Pacific: a new day's quota
    before = len(fake.requests_to("/v2/reports"))
    report = sync_connector(connector(fake), zone, mode=INCREMENTAL, streams=[DOWNLOADS])

    stream = report.streams[0]
    assert stream.resumed and stream.slices_skipped == 3
    assert len(fake.requests_to("/v2/reports")) - before == DAYS - 3
    assert views(zone) == fake.catalog.expected_downloads(FIRST, LAST)
    assert stream.cursor == LAST.isoformat()


def test_an_expired_access_token_is_refreshed_once(fake: FakeYouTube, zone: LandingZone) -> None:
    source = connector(fake)
    sync_connector(source, zone, mode=FULL, streams=["episodes"])
    fake.expire_tokens()
    sync_connector(source, zone, mode=FULL, streams=[DOWNLOADS])
    assert len(fake.requests_to("/token")) == 2
    assert [s.status for s in fake.served].count(401) == 1
    assert views(zone) == fake.catalog.expected_downloads(FIRST, LAST)


def test_a_revoked_refresh_token_is_a_credentials_error(fake: FakeYouTube) -> None:
    fake.refresh_token = "1//another"
    with pytest.raises(CredentialsError, match="invalid_grant") as failure:
        connector(fake).check()
    assert SECRETS["refresh_token"] not in str(failure.value)


def test_recent_days_wait_for_youtube_to_finish_them(fake: FakeYouTube, zone: LandingZone) -> None:
    today = LAST + timedelta(days=1)
    fake.latest_day = LAST - timedelta(days=2)  # YouTube has not finished the last two days
    source = connector(fake, today=today, reporting_lag_days=3)
    report = sync_connector(source, zone, mode=FULL, streams=[DOWNLOADS])
    assert report.streams[0].cursor == (today - timedelta(days=3)).isoformat()
    assert views(zone) == fake.catalog.expected_downloads(FIRST, fake.latest_day)


def test_report_pages_follow_start_index(fake: FakeYouTube, zone: LandingZone) -> None:
    sync_connector(connector(fake, page_size=2), zone, mode=FULL, streams=[DOWNLOADS])
    day = LAST.isoformat()
    indexes = [
        s.query["startIndex"]
        for s in fake.requests_to("/v2/reports")
        if s.query["startDate"] == day
    ]
    assert indexes[0] == "1" and len(indexes) >= 2 and indexes[1] == "3"
    assert views(zone) == fake.catalog.expected_downloads(FIRST, LAST)


def test_episodes_come_from_the_uploads_playlist(fake: FakeYouTube, zone: LandingZone) -> None:
    sync_connector(connector(fake), zone, mode=FULL, streams=["episodes"])
    rows = {r["episode_id"]: r for r in zone.read(TENANT, "youtube", "episodes").to_pylist()}
    assert set(rows) == {e.episode_id for e in fake.catalog.episodes}
    for video in fake.catalog.episodes:
        row = rows[video.episode_id]
        assert row["show_id"] == fake.channel.show_id and row["show_name"] == fake.channel.title
        assert row["published_at"] == video.published_at
        assert row["duration_s"] == video.duration_s
    asked = fake.requests_to("/youtube/v3/videos")[0].query
    assert asked["part"] == "snippet,contentDetails"


def test_a_per_user_rate_limit_403_is_retried(fake: FakeYouTube, zone: LandingZone) -> None:
    fake.limit = WindowLimit(
        3,
        1.0,
        response=lambda wait: google_error(
            403, "userRateLimitExceeded", "User rate limit exceeded", "PERMISSION_DENIED"
        ),
    )
    sync_connector(connector(fake), zone, mode=FULL)
    assert any(s.status == 403 for s in fake.served)
    assert views(zone) == fake.catalog.expected_downloads(FIRST, LAST)


def test_urls_must_be_urls_or_relative_to_base_url() -> None:
    parse_settings(YouTubeSettings, {"token_url": "{base_url}/token"}, "t.yaml", "youtube")
    with pytest.raises(SettingsError, match="connectors.youtube.token_url"):
        parse_settings(YouTubeSettings, {"token_url": "oauth2.googleapis.com"}, "t.yaml", "youtube")
