"""Castos: the catalogue from the API (fake), daily downloads from the CSV export."""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Iterator
from datetime import date, timedelta
from pathlib import Path

import pytest

from connectors.framework.errors import ApiChangedError, CredentialsError
from connectors.framework.exports import ExportFolder
from connectors.framework.runtime import build_connector
from connectors.framework.sync import INCREMENTAL
from tests.fakes.castos import FakeCastos
from tests.fakes.catalog import HostCatalog, make_catalog
from tests.fakes.exports import (
    ExportTenant,
    castos_csv,
    expected_downloads,
    export_tenant,
    periods,
)
from warehouse.secrets import clear_cache, env_variable

FIRST = date(2026, 10, 1)
DAYS = 10
LAST = FIRST + timedelta(days=DAYS - 1)
TOKEN = "castos-token-1"
SHOWS = ["1000", "1001"]


@pytest.fixture
def catalog() -> HostCatalog:
    return make_catalog(first_day=FIRST, days=DAYS, numeric_ids=True)


@pytest.fixture
def fake(catalog: HostCatalog) -> Iterator[FakeCastos]:
    with FakeCastos(catalog, TOKEN) as fake:
        yield fake  # type: ignore[misc]


@pytest.fixture
def tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fake: FakeCastos) -> ExportTenant:
    tenant = export_tenant(tmp_path, monkeypatch, "castos", secrets={"api_token": TOKEN})
    configure(tenant, fake)
    return tenant


def configure(tenant: ExportTenant, fake: FakeCastos, **settings) -> None:
    tenant.write_settings(
        base_url=f"{fake.base_url}/api/v2",
        rate_limit={"requests": 1000, "per_seconds": 1},
        max_retry_delay_s=2,
        **settings,
    )


def write_exports(tenant: ExportTenant, catalog: HostCatalog, days_per_file: int = 4, **kw):
    names = []
    for first, last in periods(FIRST, LAST, days_per_file):
        names.append(f"castos-downloads-{first}_{last}.csv")
        tenant.write(names[-1], castos_csv(catalog, SHOWS, first, last, **kw))
    return names


def shows(tenant: ExportTenant) -> dict[str, str]:
    return {r["episode_id"]: r["show_id"] for r in tenant.landed("host_downloads_daily")}


def assert_catalogue_landed(tenant: ExportTenant, catalog: HostCatalog) -> None:
    episodes = {r["episode_id"]: r for r in tenant.landed("episodes")}
    assert set(episodes) == {e.episode_id for e in catalog.episodes}
    for episode in catalog.episodes:
        row = episodes[episode.episode_id]
        assert row["show_id"] == episode.show_id
        assert row["show_name"] == catalog.show(episode.show_id).title
        assert row["title"] == episode.title
        assert row["published_at"] == episode.published_at.replace(microsecond=0)
        assert row["duration_s"] is None
        assert TOKEN not in row["_source_file"] and "token=***" in row["_source_file"]


@pytest.mark.parametrize("shape", ["data", "list", "data.episodes", "paged"])
def test_full_sync_lands_the_catalogue_and_the_exports(
    tenant: ExportTenant, fake: FakeCastos, catalog: HostCatalog, shape: str
) -> None:
    fake.episodes_shape = shape
    names = write_exports(tenant, catalog)
    report = tenant.sync()

    assert_catalogue_landed(tenant, catalog)
    assert tenant.downloads() == expected_downloads(catalog, SHOWS, FIRST, LAST)
    assert all(shows(tenant)[e] == catalog.episode(e).show_id for e in shows(tenant))
    keys = Counter((r["episode_id"], r["date"]) for r in tenant.landed("host_downloads_daily"))
    assert max(keys.values()) == 1
    assert {r["_source_file"] for r in tenant.landed("host_downloads_daily")} == set(names)
    assert not tenant.quarantined()
    by_stream = {s.stream: s for s in report.streams}
    assert by_stream["episodes"].slices_landed == len(SHOWS)
    assert by_stream["host_downloads_daily"].cursor == names[-1]
    if shape == "paged":
        assert any(s.query.get("page") == "2" for s in fake.requests_to("/episodes"))


def test_the_token_goes_as_the_query_parameter(
    tenant: ExportTenant, fake: FakeCastos, catalog: HostCatalog
) -> None:
    write_exports(tenant, catalog)
    tenant.sync(streams=["episodes"])
    assert fake.served and all(s.query.get("token") == TOKEN for s in fake.served)


def test_a_podcast_column_needs_no_catalogue_lookup(
    tenant: ExportTenant, fake: FakeCastos, catalog: HostCatalog
) -> None:
    write_exports(tenant, catalog, header=("Podcast ID", "Date", "Episode ID", "Downloads"))
    tenant.sync(streams=["host_downloads_daily"])
    assert tenant.downloads() == expected_downloads(catalog, SHOWS, FIRST, LAST)
    assert not fake.served, "the export said everything: no request"


def test_an_export_with_titles_only_is_matched_to_the_catalogue(
    tenant: ExportTenant, catalog: HostCatalog
) -> None:
    write_exports(
        tenant, catalog, header=("Day", "Episode title", "Total downloads"), date_format="%m/%d/%Y"
    )
    tenant.sync(streams=["host_downloads_daily"])
    assert tenant.downloads() == expected_downloads(catalog, SHOWS, FIRST, LAST)


def test_unknown_episodes_and_bad_rows_are_quarantined(tenant: ExportTenant) -> None:
    tenant.write(
        "castos-downloads.csv",
        "Date,Episode ID,Episode,Downloads\r\n"
        "2026-10-01,788801,Episode 1 of show 1,5\r\n"
        "2026-10-01,999999,Deleted episode,5\r\n"
        "2026-10-02,788801,Episode 1 of show 1,-1\r\n"
        "not a day,788801,Episode 1 of show 1,2\r\n"
        "2026-10-03,,Episode 1 of show 1,2\r\n",
    )
    tenant.sync(streams=["host_downloads_daily"])
    assert tenant.downloads() == {("788801", date(2026, 10, 1)): 5}
    assert shows(tenant) == {"788801": "1000"}
    reasons = {q["_source_row"]: q["reason"] for q in tenant.quarantined()}
    assert sorted(reasons) == [2, 3, 4, 5]
    assert "episode 999999 is in no podcast this token sees" in reasons[2]
    assert "Downloads: a count cannot be negative" in reasons[3]
    assert "Date: not a date" in reasons[4]
    assert "Episode ID: empty" in reasons[5]


def test_incremental_sync_reads_only_new_exports(
    tenant: ExportTenant, catalog: HostCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = write_exports(tenant, catalog)
    tenant.sync()
    day = LAST + timedelta(days=1)
    catalog.downloads[(catalog.episodes[0].episode_id, day)] = 17
    new_name = f"castos-downloads-{day}_{day}.csv"
    tenant.write(new_name, castos_csv(catalog, SHOWS, day, day))

    read: list[str] = []
    original = ExportFolder.read

    def spying(self, name, *args, **kwargs):
        read.append(name)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(ExportFolder, "read", spying)
    report = tenant.sync(INCREMENTAL)

    assert read == [new_name]
    assert tenant.downloads() == expected_downloads(catalog, SHOWS, FIRST, day)
    stream = next(s for s in report.streams if s.stream == "host_downloads_daily")
    assert stream.slices_planned == 1 and stream.cursor == max(names + [new_name])


def test_a_renamed_export_column_stops_the_sync_naming_it(
    tenant: ExportTenant, catalog: HostCatalog
) -> None:
    names = write_exports(tenant, catalog, header=("Date", "Episode ID", "Episode", "Downloads"))
    text = (tenant.folder / names[0]).read_text(encoding="utf-8")
    tenant.write(names[0], text.replace("Downloads", "Unique listeners", 1))
    with pytest.raises(ApiChangedError) as failure:
        tenant.sync(streams=["host_downloads_daily"])
    assert names[0] in str(failure.value) and "'Downloads'" in str(failure.value)
    assert not tenant.landed("host_downloads_daily")


def test_a_changed_episode_field_stops_the_sync_with_the_field_named(
    tenant: ExportTenant, fake: FakeCastos
) -> None:
    fake.episode_renames = {"post_title": "title"}
    with pytest.raises(ApiChangedError, match="post_title"):
        tenant.sync(streams=["episodes"])
    assert not tenant.zone.entity_files(tenant.tenant, "episodes")


@pytest.mark.parametrize("refusal", ["401", "200"])
def test_bad_credentials_are_a_clear_error_without_the_token(
    tenant: ExportTenant, fake: FakeCastos, monkeypatch: pytest.MonkeyPatch, refusal: str
) -> None:
    fake.refusal = refusal
    wrong = "wrong-" + TOKEN[::-1]
    monkeypatch.setenv(env_variable(tenant.tenant, "castos_api_token"), wrong)
    clear_cache()
    with pytest.raises(CredentialsError) as failure:
        tenant.sync()
    message = str(failure.value)
    assert "castos" in message and wrong not in message and "token=***" in message
    assert not tenant.zone.entity_files(tenant.tenant, "episodes")


def test_a_missing_credential_names_where_it_was_looked_for(
    tenant: ExportTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    variable = env_variable(tenant.tenant, "castos_api_token")
    monkeypatch.delenv(variable)
    with pytest.raises(CredentialsError, match=variable):
        build_connector(tenant.tenant, "castos")


def test_podcast_ids_limit_the_catalogue(
    tenant: ExportTenant, fake: FakeCastos, catalog: HostCatalog
) -> None:
    configure(tenant, fake, podcast_ids=[1001])
    tenant.sync(streams=["episodes"])
    assert {r["show_id"] for r in tenant.landed("episodes")} == {"1001"}
    assert not fake.requests_to("/podcasts/1000/")


def test_server_errors_and_a_malformed_page_are_retried(
    tenant: ExportTenant, fake: FakeCastos, catalog: HostCatalog
) -> None:
    fake.fail_next(1, 503, "/episodes")
    fake.malform_next(1, "/episodes", skip=1)
    write_exports(tenant, catalog)
    report = tenant.sync()
    assert_catalogue_landed(tenant, catalog)
    assert report.server_errors == 1


def test_connectors_check_reports_the_api_and_the_export_folder(
    tenant: ExportTenant, catalog: HostCatalog
) -> None:
    no_folder = tenant.cli("check", "--tenant", tenant.tenant)
    assert no_folder.returncode == 1 and "FAIL  castos" in no_folder.stdout
    assert f"{tenant.folder} does not exist" in no_folder.stdout
    names = write_exports(tenant, catalog)
    ok = tenant.cli("check", "--tenant", tenant.tenant)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert (
        f"ok    castos: 2 podcast(s) visible; {len(names)} export file(s) in {tenant.folder}"
        in ok.stdout
    )
    bad = tenant.cli(
        "check",
        "--tenant",
        tenant.tenant,
        env={env_variable(tenant.tenant, "castos_api_token"): "nope"},
    )
    assert bad.returncode == 1 and "FAIL  castos" in bad.stdout
    assert "nope" not in bad.stdout + bad.stderr


def test_the_landed_record_is_the_api_record(tenant: ExportTenant) -> None:
    tenant.sync(streams=["episodes"])
    row = tenant.landed("episodes")[0]
    record = json.loads(row["_record"])
    assert {"id", "post_title", "created_at", "post_date", "youtube_id"} <= set(record)
