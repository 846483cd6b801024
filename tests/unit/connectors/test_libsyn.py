"""Libsyn against its fake: tokens, statistics shapes, the three-month window, paging, and the
downloads read from CSV exports instead (``downloads_from: export``)."""

from __future__ import annotations

import logging
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path
from typing import Any

import pytest

from connectors.framework.connector import FULL, INCREMENTAL
from connectors.framework.errors import (
    ApiChangedError,
    ConnectorError,
    CredentialsError,
    SettingsError,
)
from connectors.framework.exports import ExportFolder
from connectors.framework.runtime import build_connector
from connectors.framework.settings import load_tenant_connectors
from connectors.framework.state import StreamState
from connectors.framework.sync import sync_connector
from connectors.hosting.libsyn import (
    DOWNLOADS,
    STATS_WINDOW_DAYS,
    Libsyn,
    LibsynSettings,
    _daily_series,
)
from tests.fakes.catalog import HostCatalog, make_catalog
from tests.fakes.exports import (
    ExportTenant,
    expected_downloads,
    export_tenant,
    libsyn_csv,
    periods,
)
from tests.fakes.libsyn import FakeLibsyn
from tests.unit.connectors.conftest import landed_downloads, landed_rows
from warehouse.landing import LandingZone
from warehouse.secrets import clear_cache, local_secret_path, tenant_credential

TENANT = "unit_co"
FIRST = date(2026, 10, 1)
DAYS = 10
LAST = FIRST + timedelta(days=DAYS - 1)
SECRETS = {
    "client_id": "libsyn-client-1",
    "client_secret": "libsyn-secret-1",
    "refresh_token": "libsyn-refresh-1",
}


@pytest.fixture(autouse=True)
def _env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> Iterator[None]:
    monkeypatch.setenv("EARSHOT_HOME", str(tmp_path))
    monkeypatch.setenv("EARSHOT_SECRETS_BACKEND", "env")
    clear_cache()
    yield
    clear_cache()


@pytest.fixture
def catalog() -> HostCatalog:
    return make_catalog(first_day=FIRST, days=DAYS, numeric_ids=True)


def start(catalog: HostCatalog, **options: Any) -> FakeLibsyn:
    fake = FakeLibsyn(catalog, **options)
    fake.start()
    return fake


@pytest.fixture
def fakes() -> Iterator[list[FakeLibsyn]]:
    started: list[FakeLibsyn] = []
    yield started
    for fake in started:
        fake.stop()


def connector(
    fake: FakeLibsyn,
    secrets: dict[str, str] | None = None,
    today: date = LAST + timedelta(days=1),
    **settings: Any,
) -> Libsyn:
    options = {
        "base_url": fake.base_url,
        "start_date": FIRST,
        "rate_limit": {"requests": 1000, "per_seconds": 1},
        "max_retry_delay_s": 5,
        **settings,
    }
    return Libsyn(TENANT, LibsynSettings(**options), dict(secrets or SECRETS), today=today)


def landed(zone: LandingZone, entity: str) -> list[dict]:
    return landed_rows(zone, TENANT, "libsyn", entity)


def downloads(zone: LandingZone) -> dict[tuple[str, date], int]:
    return landed_downloads(zone, TENANT, "libsyn")


def served_pages(fake: FakeLibsyn, path: str) -> list[int]:
    return [int(s.query.get("page", "1")) for s in fake.served if s.path.startswith(path)]


# -- tokens ----------------------------------------------------------------------------------------


def test_the_refresh_token_is_exchanged_once_and_the_access_token_sent_as_bearer(
    catalog: HostCatalog, fakes: list[FakeLibsyn], tmp_path: Path
) -> None:
    fake = start(catalog)
    fakes.append(fake)
    source = connector(fake)
    assert source.check() == "2 show(s) visible"
    sync_connector(source, LandingZone(tmp_path / "landing"), mode=FULL)
    assert fake.refreshes == 1
    posts = [s for s in fake.served if s.method == "POST"]
    assert [p.path for p in posts] == ["/oauth"]
    # Not rotating: the stored secret stays what it was and nothing was written.
    assert source.secrets["refresh_token"] == SECRETS["refresh_token"]
    assert not (tmp_path / "secrets").exists()


def test_an_expired_access_token_is_refreshed_before_the_next_request(
    catalog: HostCatalog, fakes: list[FakeLibsyn]
) -> None:
    fake = start(catalog)
    fakes.append(fake)
    source = connector(fake)
    now = [1000.0]
    source.clock = lambda: now[0]
    source.shows()
    assert fake.refreshes == 1
    now[0] += 3600  # the connector's clock says the hour is over
    source.episode_pages(next(iter(source._shows)))
    assert fake.refreshes == 2


def test_a_rotated_refresh_token_is_stored_for_the_next_run(
    catalog: HostCatalog, fakes: list[FakeLibsyn], tmp_path: Path, monkeypatch
) -> None:
    monkeypatch.setenv("EARSHOT_SECRETS_BACKEND", "local")
    fake = start(catalog, rotate=True)
    fakes.append(fake)
    source = connector(fake)
    source.check()
    new = fake.current_refresh_token()
    assert new != SECRETS["refresh_token"]
    assert local_secret_path(TENANT, "libsyn_refresh_token").exists()
    assert tenant_credential(TENANT, "libsyn_refresh_token") == new
    # The old token is revoked; the next run reads the stored one and gets in.
    again = connector(
        fake, {**SECRETS, "refresh_token": tenant_credential(TENANT, "libsyn_refresh_token")}
    )
    assert again.check() == "2 show(s) visible"
    with pytest.raises(CredentialsError, match="invalid_grant"):
        connector(fake).check()


def test_a_rotated_refresh_token_that_cannot_be_stored_is_a_warning_without_the_value(
    catalog: HostCatalog, fakes: list[FakeLibsyn], caplog: pytest.LogCaptureFixture
) -> None:
    fake = start(catalog, rotate=True)
    fakes.append(fake)
    source = connector(fake)
    with caplog.at_level(logging.WARNING, logger="connectors.hosting.libsyn"):
        assert source.check() == "2 show(s) visible"
    new = fake.current_refresh_token()
    messages = " ".join(r.getMessage() for r in caplog.records)
    assert (
        "new refresh token" in messages
        and "EARSHOT_SECRET_LIBSYN_REFRESH_TOKEN__UNIT_CO" in messages
    )
    assert new not in messages and SECRETS["refresh_token"] not in messages
    # This run goes on with the new token.
    assert source.secrets["refresh_token"] == new


@pytest.mark.parametrize("problem_json", [False, True])
@pytest.mark.parametrize(
    ("role", "code"), [("refresh_token", "invalid_grant"), ("client_secret", "invalid_client")]
)
def test_a_refused_refresh_is_a_credentials_error_without_any_secret(
    catalog: HostCatalog, fakes: list[FakeLibsyn], problem_json: bool, role: str, code: str
) -> None:
    fake = start(catalog, problem_json=problem_json)
    fakes.append(fake)
    wrong = {**SECRETS, role: "wrong-" + SECRETS[role][::-1]}
    with pytest.raises(CredentialsError) as failure:
        connector(fake, wrong).check()
    message = str(failure.value)
    assert "libsyn" in message and code in message and "libsyn_refresh_token" in message
    for value in wrong.values():
        assert value not in message
    assert fake.refreshes == 0


# -- statistics shapes -------------------------------------------------------------------------


@pytest.mark.parametrize("form", ["list", "map"])
def test_both_daily_shapes_land_the_same_downloads(
    catalog: HostCatalog, fakes: list[FakeLibsyn], tmp_path: Path, form: str
) -> None:
    fake = start(catalog, stats_form=form)
    fakes.append(fake)
    zone = LandingZone(tmp_path / "landing")
    report = sync_connector(connector(fake), zone, mode=FULL)
    assert downloads(zone) == catalog.expected_downloads(FIRST, LAST)
    assert not zone.quarantine_files(TENANT)
    stream = next(s for s in report.streams if s.stream == "host_downloads_daily")
    # One slice per episode; quiet days (0) are records without rows.
    assert stream.slices_landed == len(catalog.episodes)
    assert stream.cursor == LAST.isoformat()


def test_monthly_totals_are_an_api_change_naming_the_endpoint(
    catalog: HostCatalog, fakes: list[FakeLibsyn], tmp_path: Path
) -> None:
    fake = start(catalog, stats_form="monthly")
    fakes.append(fake)
    zone = LandingZone(tmp_path / "landing")
    with pytest.raises(ApiChangedError, match=r"/stats-item-three-month/\d+ answered monthly"):
        sync_connector(connector(fake), zone, mode=FULL, streams=["host_downloads_daily"])
    assert not zone.entity_files(TENANT, "host_downloads_daily")


@pytest.mark.parametrize(
    "body",
    [
        {"_embedded": {"stats_item_three_month": {"item_id": 1, "total_item_downloads": 12}}},
        {"_embedded": {"stats_item_three_month": {"item_three_month": [{"downloads": 3}]}}},
        {"stats": [{"date": "2026-10-01", "downloads": 3}]},
    ],
)
def test_an_answer_without_a_daily_series_is_an_api_change(body: dict) -> None:
    with pytest.raises(ApiChangedError, match="/stats-item-three-month/7"):
        _daily_series(body, "http://x/stats-item-three-month/7")


def test_daily_series_are_found_in_both_forms_and_an_empty_one_is_quiet() -> None:
    url = "http://x/stats-item-three-month/7"
    listed = {
        "_embedded": {
            "stats_item_three_month": {"item_three_month": [{"date": "2026-10-02", "downloads": 4}]}
        }
    }
    mapped = {"_embedded": {"stats_item_three_month": {"item_three_month": {"2026-10-02": 4}}}}
    empty = {"_embedded": {"stats_item_three_month": {"item_id": 7, "item_three_month": []}}}
    assert _daily_series(listed, url) == [{"date": "2026-10-02", "downloads": 4}]
    assert _daily_series(mapped, url) == [{"2026-10-02": 4}]
    assert _daily_series(empty, url) == []


def test_a_bad_day_is_quarantined_with_its_reason(
    catalog: HostCatalog, fakes: list[FakeLibsyn], tmp_path: Path
) -> None:
    episode = catalog.episodes[0].episode_id
    catalog.downloads[(episode, LAST)] = -3
    fake = start(catalog)
    fakes.append(fake)
    zone = LandingZone(tmp_path / "landing")
    report = sync_connector(connector(fake), zone, mode=FULL, streams=["host_downloads_daily"])
    stream = report.streams[0]
    assert stream.rows_quarantined == 1
    assert any("cannot be negative" in reason for reason in stream.reasons)
    # The expected figures leave the negative day out: it is no download count.
    assert downloads(zone) == catalog.expected_downloads(FIRST, LAST)


# -- the three-month window ------------------------------------------------------------------------


def test_a_full_sync_from_an_older_start_is_clamped_to_three_months_and_says_so(
    catalog: HostCatalog, fakes: list[FakeLibsyn], tmp_path: Path, caplog
) -> None:
    # Downloads older than the window exist at the host but the endpoint does not give them.
    old_day = LAST - timedelta(days=STATS_WINDOW_DAYS + 5)
    episode = catalog.episodes[0]
    episode.published_at = episode.published_at.replace(year=2026, month=6, day=1)
    catalog.downloads[(episode.episode_id, old_day)] = 77
    fake = start(catalog)
    fakes.append(fake)
    source = connector(fake, start_date=date(2026, 1, 1))
    earliest = LAST - timedelta(days=STATS_WINDOW_DAYS - 1)
    with caplog.at_level(logging.WARNING, logger="connectors.hosting.libsyn"):
        plan = source.plan(DOWNLOADS, StreamState(TENANT, "libsyn", DOWNLOADS.name), FULL)
    assert all(s.endswith(f"/{earliest}/{LAST}") for s in plan.slices)
    warning = " ".join(r.getMessage() for r in caplog.records)
    assert f"asks from {earliest}, not from 2026-01-01" in warning
    assert any(f"asks from {earliest}" in note for note in plan.notes)
    zone = LandingZone(tmp_path / "landing")
    report = sync_connector(connector(fake, start_date=date(2026, 1, 1)), zone, mode=FULL)
    assert "note: Libsyn's statistics cover about the last three months" in report.format()
    got = downloads(zone)
    assert (episode.episode_id, old_day) not in got
    assert got == catalog.expected_downloads(earliest, LAST)


def test_an_incremental_sync_with_no_new_day_asks_nothing(
    catalog: HostCatalog, fakes: list[FakeLibsyn]
) -> None:
    fake = start(catalog)
    fakes.append(fake)
    source = connector(fake)
    state = StreamState(TENANT, "libsyn", DOWNLOADS.name, cursor=LAST.isoformat())
    assert source.plan(DOWNLOADS, state, INCREMENTAL).slices == []
    later = connector(fake, today=LAST + timedelta(days=2))
    slices = later.plan(DOWNLOADS, state, INCREMENTAL).slices
    # Look-back of two days, to the new last complete day, the same range for every episode.
    assert slices and all(
        s.endswith(f"/{LAST - timedelta(days=1)}/{LAST + timedelta(days=1)}") for s in slices
    )


def test_episodes_released_after_the_range_are_not_asked_for(
    catalog: HostCatalog, fakes: list[FakeLibsyn]
) -> None:
    late = catalog.episodes[-1]
    late.published_at = late.published_at.replace(year=2026, month=12, day=20)
    fake = start(catalog)
    fakes.append(fake)
    plan = connector(fake).plan(DOWNLOADS, StreamState(TENANT, "libsyn", "x"), FULL)
    assert len(plan.slices) == len(catalog.episodes) - 1
    assert not any(f"/{late.episode_id}/" in s for s in plan.slices)


# -- paging ----------------------------------------------------------------------------------------


def test_episode_pages_are_followed_to_page_count(
    catalog: HostCatalog, fakes: list[FakeLibsyn], tmp_path: Path
) -> None:
    fake = start(catalog, posts_per_page=3)
    fakes.append(fake)
    zone = LandingZone(tmp_path / "landing")
    sync_connector(connector(fake), zone, mode=FULL, streams=["episodes"])
    episodes = {r["episode_id"]: r for r in landed(zone, "episodes")}
    assert set(episodes) == {e.episode_id for e in catalog.episodes}
    # Four posts a show, three a page: pages 1 and 2 of each show, and no third.
    assert sorted(served_pages(fake, "/post")) == [1, 1, 2, 2]


@pytest.mark.parametrize("past_last_404", [False, True])
def test_episode_pages_without_page_count_are_followed_until_empty_or_not_found(
    catalog: HostCatalog, fakes: list[FakeLibsyn], tmp_path: Path, past_last_404: bool
) -> None:
    fake = start(catalog, posts_per_page=3, posts_page_count=False, past_last_404=past_last_404)
    fakes.append(fake)
    zone = LandingZone(tmp_path / "landing")
    sync_connector(connector(fake), zone, mode=FULL, streams=["episodes"])
    assert {r["episode_id"] for r in landed(zone, "episodes")} == {
        e.episode_id for e in catalog.episodes
    }
    assert sorted(served_pages(fake, "/post")) == [1, 1, 2, 2, 3, 3]
    assert not zone.quarantine_files(TENANT)


def test_a_daily_series_is_paged_until_the_first_day_of_the_slice(
    catalog: HostCatalog, fakes: list[FakeLibsyn], tmp_path: Path
) -> None:
    fake = start(catalog, stats_days_per_page=3)
    fakes.append(fake)
    zone = LandingZone(tmp_path / "landing")
    sync_connector(connector(fake), zone, mode=FULL, streams=["host_downloads_daily"])
    assert downloads(zone) == catalog.expected_downloads(FIRST, LAST)
    for episode in catalog.episodes:
        pages = served_pages(fake, f"/stats-item-three-month/{episode.episode_id}")
        # Newest first, three days a page, from LAST back to FIRST (or the release): no further.
        reach = max(FIRST, episode.published_at.date())
        assert pages == list(range(1, -(-((LAST - reach).days + 1) // 3) + 1))


def test_an_unpaged_series_is_read_once_and_a_repeated_page_ends_it(
    catalog: HostCatalog, fakes: list[FakeLibsyn], tmp_path: Path
) -> None:
    fake = start(catalog, stats_days_per_page=None, posts_per_page=100)
    fakes.append(fake)
    zone = LandingZone(tmp_path / "landing")
    sync_connector(connector(fake), zone, mode=FULL)
    assert downloads(zone) == catalog.expected_downloads(FIRST, LAST)
    for episode in catalog.episodes:
        pages = served_pages(fake, f"/stats-item-three-month/{episode.episode_id}")
        # Without page_count: page 2 is asked, repeats page 1 (the server ignores page) or the
        # series already reached the first day.
        assert pages in ([1], [1, 2])
    assert len(landed(zone, "host_downloads_daily")) == len(catalog.expected_downloads(FIRST, LAST))


# -- episodes --------------------------------------------------------------------------------------


def test_episode_fields_are_read_in_both_spellings(
    catalog: HostCatalog, fakes: list[FakeLibsyn], tmp_path: Path
) -> None:
    fake = start(catalog, posts_key="item")
    fake.episode_renames = {"id": "item_id", "item_title": "title", "duration": "item_duration"}
    fakes.append(fake)
    original = fake._post

    def with_clock_duration(episode):  # type: ignore[no-untyped-def]
        record = original(episode)
        seconds = record["item_duration"]
        record["item_duration"] = f"{seconds // 3600}:{seconds % 3600 // 60:02d}:{seconds % 60:02d}"
        return record

    fake._post = with_clock_duration  # type: ignore[method-assign]
    zone = LandingZone(tmp_path / "landing")
    sync_connector(connector(fake), zone, mode=FULL, streams=["episodes"])
    rows = {r["episode_id"]: r for r in landed(zone, "episodes")}
    for episode in catalog.episodes:
        row = rows[episode.episode_id]
        assert row["title"] == episode.title
        assert row["duration_s"] == episode.duration_s
        assert row["published_at"] == episode.published_at
        assert row["show_name"] == catalog.show(episode.show_id).title


def test_show_ids_are_text_and_filter_the_shows(
    catalog: HostCatalog, fakes: list[FakeLibsyn], tmp_path: Path
) -> None:
    fake = start(catalog)
    fakes.append(fake)
    wanted = catalog.shows[1].show_id
    source = connector(fake, show_ids=[int(wanted)])
    assert source.settings.show_ids == [wanted]  # type: ignore[attr-defined]
    zone = LandingZone(tmp_path / "landing")
    sync_connector(source, zone, mode=FULL)
    assert {r["show_id"] for r in landed(zone, "episodes")} == {wanted}
    assert {r["show_id"] for r in landed(zone, "host_downloads_daily")} == {wanted}
    assert all(isinstance(r["episode_id"], str) for r in landed(zone, "host_downloads_daily"))


def test_a_post_without_an_id_is_quarantined_and_the_rest_land(
    catalog: HostCatalog, fakes: list[FakeLibsyn], tmp_path: Path
) -> None:
    fake = start(catalog)
    fakes.append(fake)
    original = fake._post
    broken = catalog.episodes[0].episode_id

    def one_without_id(episode):  # type: ignore[no-untyped-def]
        record = original(episode)
        if episode.episode_id == broken:
            record.pop("id")
        return record

    fake._post = one_without_id  # type: ignore[method-assign]
    zone = LandingZone(tmp_path / "landing")
    report = sync_connector(connector(fake), zone, mode=FULL)
    episodes = report.streams[0]
    assert episodes.rows_quarantined == 1
    assert "item_id: missing (nor id)" in episodes.reasons
    assert broken not in {r["episode_id"] for r in landed(zone, "episodes")}
    # Its downloads cannot be asked for without its id.
    assert not fake.requests_to(f"/stats-item-three-month/{broken}")


# -- downloads from the CSV exports ----------------------------------------------------------------

SHOWS = ["1000", "1001"]


@pytest.fixture
def export_fake(catalog: HostCatalog) -> Iterator[FakeLibsyn]:
    # Monthly totals: what the plugin reads, and why a tenant switches to the exports.
    with FakeLibsyn(catalog, stats_form="monthly") as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def tenant(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, export_fake: FakeLibsyn
) -> ExportTenant:
    tenant = export_tenant(tmp_path, monkeypatch, "libsyn", secrets=SECRETS)
    configure(tenant, export_fake, downloads_from="export")
    return tenant


def configure(tenant: ExportTenant, fake: FakeLibsyn, **settings: Any) -> None:
    tenant.write_settings(
        base_url=fake.base_url,
        rate_limit={"requests": 1000, "per_seconds": 1},
        max_retry_delay_s=2,
        **settings,
    )


def write_exports(
    tenant: ExportTenant, catalog: HostCatalog, days_per_file: int = 4, **options: Any
) -> list[str]:
    names = []
    for first, last in periods(FIRST, LAST, days_per_file):
        names.append(f"libsyn-downloads-{first}_{last}.csv")
        tenant.write(names[-1], libsyn_csv(catalog, SHOWS, first, last, **options))
    return names


@pytest.mark.parametrize(
    ("header", "date_format"),
    [
        (("Date", "Item ID", "Item Title", "Downloads"), "%Y-%m-%d"),
        (("Day", "Episode ID", "Total Downloads"), "%m/%d/%Y"),
        (("ID", "Title", "Date", "Unique Downloads", "Downloads"), "%Y-%m-%d"),
        (("Date", "Post ID", "Unique Downloads", "Total Downloads"), "%m/%d/%Y"),
    ],
)
def test_a_full_sync_from_exports_lands_every_file_with_shows_from_the_catalogue(
    tenant: ExportTenant,
    export_fake: FakeLibsyn,
    catalog: HostCatalog,
    header: tuple[str, ...],
    date_format: str,
) -> None:
    names = write_exports(tenant, catalog, header=header, date_format=date_format)
    report = tenant.sync()

    # Total downloads, never the uniques beside them (which the fake makes smaller).
    assert tenant.downloads() == expected_downloads(catalog, SHOWS, FIRST, LAST)
    rows = tenant.landed("host_downloads_daily")
    assert rows and all(r["show_id"] == catalog.episode(r["episode_id"]).show_id for r in rows)
    assert all(r["platform"] == "libsyn" and r["reported_at"] is None for r in rows)
    assert {r["_source_file"] for r in rows} == set(names)
    assert {e.episode_id for e in catalog.episodes} == {
        r["episode_id"] for r in tenant.landed("episodes")
    }
    assert not tenant.quarantined()
    stream = next(s for s in report.streams if s.stream == "host_downloads_daily")
    assert stream.slices_landed == len(names) and stream.cursor == names[-1]
    assert not export_fake.requests_to("/stats-item-three-month"), "no statistics asked for"


def test_an_incremental_sync_reads_only_new_and_changed_exports(
    tenant: ExportTenant, catalog: HostCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = write_exports(tenant, catalog)
    tenant.sync()
    # Libsyn revised a day of the first file, and a new day came in its own file.
    episode = catalog.episodes[0].episode_id
    catalog.downloads[(episode, FIRST)] = catalog.downloads.get((episode, FIRST), 0) + 40
    first_end = FIRST + timedelta(days=3)
    tenant.write(names[0], libsyn_csv(catalog, SHOWS, FIRST, first_end))
    day = LAST + timedelta(days=1)
    catalog.downloads[(episode, day)] = 17
    new_name = f"libsyn-downloads-{day}_{day}.csv"
    tenant.write(new_name, libsyn_csv(catalog, SHOWS, day, day))

    read: list[str] = []
    original = ExportFolder.read

    def spying(self, name, *args, **kwargs):  # type: ignore[no-untyped-def]
        read.append(name)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(ExportFolder, "read", spying)
    report = tenant.sync(INCREMENTAL, streams=["host_downloads_daily"])

    assert read == [names[0], new_name]
    assert tenant.downloads() == expected_downloads(catalog, SHOWS, FIRST, day)
    stream = report.streams[0]
    assert stream.slices_planned == 2 and stream.cursor == max([*names, new_name])
    # Nothing new: nothing read.
    read.clear()
    assert tenant.sync(INCREMENTAL, streams=["host_downloads_daily"]).streams[0].slices_planned == 0
    assert read == []


def test_a_renamed_export_column_stops_the_sync_naming_the_file_and_column(
    tenant: ExportTenant, catalog: HostCatalog
) -> None:
    names = write_exports(tenant, catalog)
    text = (tenant.folder / names[1]).read_text(encoding="utf-8")
    tenant.write(names[1], text.replace("Downloads", "Listens", 1))
    with pytest.raises(ApiChangedError) as failure:
        tenant.sync(streams=["host_downloads_daily"])
    message = str(failure.value)
    assert names[1] in message and "'Downloads'" in message and "Listens" in message
    # The file before it landed and is checkpointed; nothing of the renamed one.
    assert {r["_source_file"] for r in tenant.landed("host_downloads_daily")} == {names[0]}


def test_an_export_of_unique_downloads_only_is_refused_not_taken_for_downloads(
    tenant: ExportTenant, catalog: HostCatalog
) -> None:
    names = write_exports(tenant, catalog, header=("Date", "Item ID", "Unique Downloads"))
    with pytest.raises(ApiChangedError) as failure:
        tenant.sync(streams=["host_downloads_daily"])
    message = str(failure.value)
    assert names[0] in message and "'Unique Downloads'" in message
    assert "total downloads" in message
    assert not tenant.landed("host_downloads_daily")


def test_bad_export_rows_are_quarantined_with_their_reason(
    tenant: ExportTenant, catalog: HostCatalog
) -> None:
    first = catalog.episodes[0]
    tenant.write(
        "libsyn-downloads.csv",
        "Date,Item ID,Item Title,Downloads\r\n"
        f"2026-10-01,{first.episode_id},{first.title},5\r\n"
        "2026-10-01,999999,Deleted episode,5\r\n"
        f"2026-10-02,{first.episode_id},{first.title},-1\r\n"
        f"not a day,{first.episode_id},{first.title},2\r\n"
        f"2026-10-03,,{first.title},2\r\n"
        f"2026-10-04,{first.episode_id},{first.title},lots\r\n"
        f"2026-10-05,{first.episode_id},{first.title},3,stray\r\n"
        f"2026-10-06,{first.episode_id},{first.title},0\r\n",
    )
    report = tenant.sync(streams=["host_downloads_daily"])
    assert tenant.downloads() == {(first.episode_id, date(2026, 10, 1)): 5}
    reasons = {q["_source_row"]: q["reason"] for q in tenant.quarantined()}
    assert sorted(reasons) == [2, 3, 4, 5, 6, 7]
    assert "episode 999999 is in no show this Libsyn account sees" in reasons[2]
    assert "Downloads: a count cannot be negative" in reasons[3]
    assert "Date: not a date" in reasons[4]
    assert "Item ID: empty" in reasons[5]
    assert "Downloads: expected a whole number" in reasons[6]
    assert "cell(s) more than the header" in reasons[7]
    # Row 8, a day without downloads, is no row and no fault.
    assert report.streams[0].rows_quarantined == 6


def test_an_export_with_titles_only_is_matched_to_the_catalogue_by_exact_title(
    tenant: ExportTenant, catalog: HostCatalog
) -> None:
    write_exports(tenant, catalog, header=("Day", "Title", "Downloads"), date_format="%m/%d/%Y")
    twin, other = catalog.episodes[0], catalog.episodes[1]
    tenant.write(
        "libsyn-extra.csv",
        "Date,Episode,Downloads\r\n"
        f"2026-10-02,{twin.title.upper()},4\r\n"  # not the exact title
        "2026-10-02,No such episode,4\r\n"
        f"2026-10-20,{other.title},6\r\n",
    )
    tenant.sync(streams=["host_downloads_daily"])
    assert tenant.downloads() == {
        **expected_downloads(catalog, SHOWS, FIRST, LAST),
        (other.episode_id, date(2026, 10, 20)): 6,
    }
    reasons = [q["reason"] for q in tenant.quarantined()]
    assert len(reasons) == 2 and all("matches no episode" in r for r in reasons)
    assert all("export with the Item ID column" in r for r in reasons)
    # Two episodes of the same title: the row cannot say which one.
    other.title = twin.title
    tenant.write("libsyn-twins.csv", f"Date,Title,Downloads\r\n2026-10-03,{twin.title},9\r\n")
    tenant.sync(INCREMENTAL, streams=["host_downloads_daily"])
    assert any("matches 2 episodes" in q["reason"] for q in tenant.quarantined())


def test_rows_of_shows_outside_show_ids_are_left_out(
    tenant: ExportTenant, export_fake: FakeLibsyn, catalog: HostCatalog
) -> None:
    configure(tenant, export_fake, downloads_from="export", show_ids=[SHOWS[1]])
    write_exports(tenant, catalog)
    tenant.sync(streams=["host_downloads_daily"])
    assert tenant.downloads() == expected_downloads(catalog, [SHOWS[1]], FIRST, LAST)
    assert not tenant.quarantined()


def test_connectors_check_with_exports_reports_the_export_folder(
    tenant: ExportTenant, export_fake: FakeLibsyn, catalog: HostCatalog
) -> None:
    no_folder = tenant.cli("check", "--tenant", tenant.tenant)
    assert no_folder.returncode == 1 and "FAIL  libsyn" in no_folder.stdout
    assert f"{tenant.folder} does not exist" in no_folder.stdout
    names = write_exports(tenant, catalog)
    ok = tenant.cli("check", "--tenant", tenant.tenant)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert (
        f"ok    libsyn: 2 show(s) visible; {len(names)} export file(s) in {tenant.folder}"
        in ok.stdout
    )
    # From the API, the folder is not looked at.
    configure(tenant, export_fake)
    api = tenant.cli("check", "--tenant", tenant.tenant)
    assert api.returncode == 0 and "ok    libsyn: 2 show(s) visible (" in api.stdout


def test_export_dir_is_read_instead_of_the_default_folder(
    tenant: ExportTenant, export_fake: FakeLibsyn, catalog: HostCatalog, tmp_path: Path
) -> None:
    configure(tenant, export_fake, downloads_from="export", export_dir="drops/libsyn")
    folder = tmp_path / "drops" / "libsyn"
    tenant.write("all.csv", libsyn_csv(catalog, SHOWS, FIRST, LAST), folder=folder)
    tenant.sync(streams=["host_downloads_daily"])
    assert tenant.downloads() == expected_downloads(catalog, SHOWS, FIRST, LAST)


@pytest.mark.parametrize(
    ("value", "ok"), [("api", True), ("export", True), ("csv", False), ("API", False)]
)
def test_downloads_from_is_api_or_export(tmp_path: Path, value: str, ok: bool) -> None:
    assert LibsynSettings().downloads_from == "api"
    folder = tmp_path / "tenants"
    folder.mkdir()
    (folder / "acme.yaml").write_text(f"connectors:\n  libsyn:\n    downloads_from: {value}\n")
    if ok:
        settings = load_tenant_connectors("acme", folder)["libsyn"]
        assert settings.downloads_from == value  # type: ignore[attr-defined]
        return
    with pytest.raises(SettingsError, match=r"libsyn\.downloads_from") as failure:
        load_tenant_connectors("acme", folder)
    assert "'api' or 'export'" in str(failure.value)


def test_monthly_totals_say_to_read_the_exports(
    tenant: ExportTenant, export_fake: FakeLibsyn, catalog: HostCatalog
) -> None:
    configure(tenant, export_fake)  # downloads_from: api, the default
    with pytest.raises(ApiChangedError) as failure:
        tenant.sync(streams=["host_downloads_daily"])
    message = str(failure.value)
    assert "answered monthly totals" in message and "set downloads_from: export" in message
    assert "$EARSHOT_HOME/exports/<tenant>/libsyn/" in message


def test_switching_downloads_from_keeps_each_source_on_its_own_cursor(
    tenant: ExportTenant, export_fake: FakeLibsyn, catalog: HostCatalog
) -> None:
    names = write_exports(tenant, catalog)
    tenant.sync(streams=["host_downloads_daily"])
    # Back to the API (say Libsyn now gives days): the file-name cursor is no day reached.
    export_fake.stats_form = "list"
    configure(tenant, export_fake, start_date=str(FIRST))
    connector = build_connector(tenant.tenant, "libsyn")
    connector.today = LAST + timedelta(days=1)
    state = StreamState(tenant.tenant, "libsyn", DOWNLOADS.name, cursor=names[-1])
    plan = connector.plan(DOWNLOADS, state, INCREMENTAL)
    assert plan.slices and all(s.endswith(f"/{FIRST}/{LAST}") for s in plan.slices)
    assert plan.target_cursor == LAST.isoformat()


def test_a_run_planned_from_the_other_source_asks_for_a_restart(
    tenant: ExportTenant, export_fake: FakeLibsyn, catalog: HostCatalog
) -> None:
    write_exports(tenant, catalog)
    # An API sync killed after its plan was saved.
    configure(tenant, export_fake)
    export_fake.stats_form = "list"
    with pytest.raises(KeyboardInterrupt):
        tenant.sync(streams=["host_downloads_daily"], after_slice=_interrupt)
    configure(tenant, export_fake, downloads_from="export")
    with pytest.raises(ConnectorError, match="planned with downloads_from: api.*--restart"):
        tenant.sync(streams=["host_downloads_daily"])
    tenant.sync(streams=["host_downloads_daily"], restart=True)
    assert tenant.downloads() == expected_downloads(catalog, SHOWS, FIRST, LAST)


def _interrupt(stream: Any, slice_id: str) -> None:
    raise KeyboardInterrupt
