"""What the contract tests need to know of each hosting platform and its fake.

Every API connector is held to the same contract (test_hosting_contracts.py): a full sync lands
exactly what the platform holds, an incremental one asks only for what is new, a sync killed
midway resumes without loss or duplicates, throttling and 5xx bursts are survived, bad
credentials and a changed field are clear errors. A platform joins by adding its case here.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tests.fakes.catalog import HostCatalog, make_catalog
from tests.fakes.server import FakeApi, WindowLimit

FIRST_DAY = date(2026, 10, 1)
DAYS = 10


@dataclass
class PlatformCase:
    platform: str
    # Build the platform's fake around a catalogue (not started).
    fake: Callable[[HostCatalog], FakeApi]
    # The catalogue: ids in the platform's style.
    catalog: Callable[[], HostCatalog]
    # Credential role -> the value the fake accepts.
    secrets: dict[str, str]
    # Path substring of the requests that fetch downloads (one or more per slice).
    downloads_path: str
    # Make the fake's episodes use another name for a field the connector needs; returns the
    # field's name as the connector reports it in its error.
    rename_episode_field: Callable[[FakeApi], str]
    # Settings besides base_url and start_date (show ids, channel id, ...).
    settings: dict[str, Any] = field(default_factory=dict)
    # Switch the platform's own throttling on (default: 4 requests a second, 429 + Retry-After).
    throttle: Callable[[FakeApi], None] = lambda fake: setattr(fake, "limit", WindowLimit(4, 1.0))
    # Which request to hold and kill the sync at: the nth request to downloads_path.
    kill_at: int = 4


def _buzzsprout() -> PlatformCase:
    from tests.fakes.buzzsprout import FakeBuzzsprout

    def rename(fake: FakeApi) -> str:
        fake.episode_renames = {"id": "episode_id"}  # type: ignore[attr-defined]
        return "id"

    return PlatformCase(
        platform="buzzsprout",
        fake=lambda catalog: FakeBuzzsprout(catalog),
        catalog=lambda: make_catalog(first_day=FIRST_DAY, days=DAYS, numeric_ids=True),
        secrets={"api_token": "buzz-token-1"},
        downloads_path="/downloads",
        rename_episode_field=rename,
    )


def _podbean() -> PlatformCase:
    from tests.fakes.podbean import FakePodbean, podbean_catalog

    def rename(fake: FakeApi) -> str:
        fake.episode_renames = {"publish_time": "published_at"}  # type: ignore[attr-defined]
        return "publish_time"

    return PlatformCase(
        platform="podbean",
        fake=lambda catalog: FakePodbean(catalog, "pb-client-1", "pb-secret-1"),
        catalog=lambda: podbean_catalog(FIRST_DAY, DAYS),
        secrets={"client_id": "pb-client-1", "client_secret": "pb-secret-1"},
        downloads_path="/podcastStats/stats",
        rename_episode_field=rename,
        # Week-long slices: an episode takes two over the ten days, so an incremental sync
        # (a few days) is seen asking fewer than a full one.
        settings={"days_per_slice": 7},
        # Podbean's own signal: a leaky bucket answering 429 without Retry-After.
        throttle=lambda fake: fake.leaky_bucket(4, 4.0, refusal="429"),  # type: ignore[attr-defined]
        kill_at=5,
    )


def _libsyn() -> PlatformCase:
    from tests.fakes.libsyn import FakeLibsyn

    def rename(fake: FakeApi) -> str:
        fake.episode_renames = {"id": "post_id"}  # type: ignore[attr-defined]
        return "item_id"

    return PlatformCase(
        platform="libsyn",
        fake=lambda catalog: FakeLibsyn(
            catalog, "libsyn-client-1", "libsyn-secret-1", "libsyn-refresh-1"
        ),
        catalog=lambda: make_catalog(first_day=FIRST_DAY, days=DAYS, numeric_ids=True),
        secrets={
            "refresh_token": "libsyn-refresh-1",
            "client_id": "libsyn-client-1",
            "client_secret": "libsyn-secret-1",
        },
        downloads_path="/stats-item-three-month/",
        rename_episode_field=rename,
        # The fake pages an episode's daily series a week at a time (paging is not confirmed):
        # a full sync over ten days takes two pages for most episodes, an incremental one one.
    )


def _transistor() -> PlatformCase:
    from tests.fakes.transistor import FakeTransistor

    def rename(fake: FakeApi) -> str:
        fake.episode_renames = {"id": "episode_id"}  # type: ignore[attr-defined]
        return "id"

    return PlatformCase(
        platform="transistor",
        fake=lambda catalog: FakeTransistor(catalog, "transistor-key-1"),
        catalog=lambda: make_catalog(first_day=FIRST_DAY, days=DAYS, numeric_ids=True),
        secrets={"api_key": "transistor-key-1"},
        downloads_path="/v1/analytics/episodes/",
        rename_episode_field=rename,
        # Two episodes a page and five days a request: lists take several pages and the ten
        # days two windows, so an incremental sync (a few days) is seen asking fewer.
        settings={"page_size": 2, "days_per_request": 5},
        # Transistor's own signal: over the window, 429 and blocked for a while, no Retry-After.
        throttle=lambda fake: fake.throttle(  # type: ignore[attr-defined]
            4, 1.0, block_s=1.0, retry_after=False
        ),
        # The first window's five days land after 8 requests (one per episode); the 10th is in
        # the second window.
        kill_at=10,
    )


def _simplecast() -> PlatformCase:
    from tests.fakes.simplecast import FakeSimplecast, simplecast_catalog

    def rename(fake: FakeApi) -> str:
        fake.episode_renames = {"id": "episode_id"}  # type: ignore[attr-defined]
        return "id"

    return PlatformCase(
        platform="simplecast",
        fake=lambda catalog: FakeSimplecast(catalog, "simplecast-token-1"),
        catalog=lambda: simplecast_catalog(FIRST_DAY, DAYS),
        secrets={"api_token": "simplecast-token-1"},
        downloads_path="/analytics/downloads",
        rename_episode_field=rename,
        # As for Transistor: several pages (followed by pages.next.href) and two windows.
        settings={"page_size": 2, "days_per_request": 5},
        kill_at=10,
    )


def _youtube() -> PlatformCase:
    from tests.fakes.server import WindowLimit as Window
    from tests.fakes.youtube import FakeYouTube, rate_limit_refusal, youtube_catalog

    def rename(fake: FakeApi) -> str:
        fake.video_renames = {"publishedAt": "publishTime"}  # type: ignore[attr-defined]
        return "snippet.publishedAt"

    client_id = "yt-client-1.apps.googleusercontent.com"
    return PlatformCase(
        platform="youtube",
        fake=lambda catalog: FakeYouTube(catalog, client_id, "yt-secret-1", "1//yt-refresh-1"),
        catalog=lambda: youtube_catalog(FIRST_DAY, DAYS),
        secrets={
            "client_id": client_id,
            "client_secret": "yt-secret-1",
            "refresh_token": "1//yt-refresh-1",
        },
        downloads_path="/v2/reports",
        rename_episode_field=rename,
        # One fake plays the token endpoint, the Data API and the Analytics API; the fake has
        # every day at once, so the last complete day is yesterday here.
        settings={
            "token_url": "{base_url}/token",
            "data_api_base_url": "{base_url}/youtube/v3",
            "reporting_lag_days": 1,
        },
        # Google's own signal: 429 RESOURCE_EXHAUSTED (rateLimitExceeded), no Retry-After.
        throttle=lambda fake: setattr(fake, "limit", Window(4, 1.0, response=rate_limit_refusal)),
    )


CASES: dict[str, Callable[[], PlatformCase]] = {
    "youtube": _youtube,
    "podbean": _podbean,
    "buzzsprout": _buzzsprout,
    "transistor": _transistor,
    "simplecast": _simplecast,
    "libsyn": _libsyn,
}
