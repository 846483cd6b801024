"""Spotify for Creators: the dashboard's CSV exports, dropped in the tenant's export folder."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections import Counter
from datetime import date, timedelta
from pathlib import Path

import pytest

from connectors.framework.errors import ApiChangedError, SettingsError
from connectors.framework.exports import ExportFolder
from connectors.framework.runtime import build_connector
from connectors.framework.sync import FULL, INCREMENTAL
from tests.fakes.catalog import HostCatalog, make_catalog
from tests.fakes.exports import (
    ExportTenant,
    expected_downloads,
    export_tenant,
    periods,
    spotify_csv,
)

FIRST = date(2026, 10, 1)
DAYS = 10
LAST = FIRST + timedelta(days=DAYS - 1)
SHOW = "5CfCWKI5pZ28U0uOzXkDHe"


@pytest.fixture
def catalog() -> HostCatalog:
    catalog = make_catalog(shows=1, episodes_per_show=4, first_day=FIRST, days=DAYS, id_prefix="7x")
    # A title as dashboards write them: a comma and quotes, quoted in the CSV.
    catalog.episodes[0].title = 'Ads, "live" reads & more'
    return catalog


@pytest.fixture
def tenant(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> ExportTenant:
    tenant = export_tenant(tmp_path, monkeypatch, "spotify")
    tenant.write_settings(show_id=SHOW, show_name="The Show")
    return tenant


def write_exports(tenant: ExportTenant, catalog: HostCatalog, days_per_file: int = 3, **kw):
    names = []
    for first, last in periods(FIRST, LAST, days_per_file):
        name = f"spotify-plays-{first}_{last}.csv"
        tenant.write(name, spotify_csv(catalog, "show1", first, last, **kw))
        names.append(name)
    return names


def keys(tenant: ExportTenant) -> Counter:
    return Counter((r["episode_id"], r["date"]) for r in tenant.landed("host_downloads_daily"))


def test_full_sync_lands_every_export_row(tenant: ExportTenant, catalog: HostCatalog) -> None:
    names = write_exports(tenant, catalog)
    report = tenant.sync()

    assert tenant.downloads() == expected_downloads(catalog, ["show1"], FIRST, LAST)
    assert max(keys(tenant).values()) == 1
    rows = tenant.landed("host_downloads_daily")
    assert {r["platform"] for r in rows} == {"spotify"}
    assert {r["show_id"] for r in rows} == {SHOW}
    assert {r["reported_at"] for r in rows} == {None}
    # Lineage: the export's file name (no folder of the machine) and its data row number.
    assert {r["_source_file"] for r in rows} == set(names)
    first_file = [r for r in rows if r["_source_file"] == names[0]]
    assert sorted(r["_source_row"] for r in first_file) == list(range(1, len(first_file) + 1))
    assert all(str(tenant.home) not in r["_source_file"] for r in rows)
    assert json.loads(rows[0]["_record"])["Episode URI"].startswith("spotify:episode:")

    episodes = {r["episode_id"]: r for r in tenant.landed("episodes")}
    in_exports = {e for (e, _d) in catalog.expected_downloads(FIRST, LAST)}
    assert set(episodes) == in_exports
    for episode_id, row in episodes.items():
        assert row["title"] == catalog.episode(episode_id).title
        assert row["show_id"] == SHOW and row["show_name"] == "The Show"
        assert row["published_at"] is None and row["duration_s"] is None
    by_stream = {s.stream: s for s in report.streams}
    assert by_stream["host_downloads_daily"].slices_landed == len(names)
    assert by_stream["host_downloads_daily"].cursor == names[-1]
    assert report.requests == 0
    assert not tenant.quarantined()


def test_without_an_id_column_the_title_is_the_episode_and_no_episodes_land(
    tenant: ExportTenant, catalog: HostCatalog
) -> None:
    write_exports(
        tenant, catalog, header=("Day", "Episode title", "Streams"), date_format="%m/%d/%Y"
    )
    tenant.sync()
    expected = expected_downloads(catalog, ["show1"], FIRST, LAST, by_title=True)
    assert tenant.downloads() == expected
    assert tenant.landed("episodes") == []


@pytest.mark.parametrize("id_form", ["bare", "link"])
def test_ids_are_read_from_bare_ids_and_links(
    tenant: ExportTenant, catalog: HostCatalog, id_form: str
) -> None:
    header = ("date", "EPISODE NAME", "episode_id", "Starts")
    write_exports(tenant, catalog, header=header, id_form=id_form)
    tenant.sync()
    assert tenant.downloads() == expected_downloads(catalog, ["show1"], FIRST, LAST)


def test_the_count_column_can_be_named_in_the_settings(
    tenant: ExportTenant, catalog: HostCatalog
) -> None:
    # An export with two count columns: the setting says which one is the downloads.
    header = ("Date", "Episode", "Episode ID", "Listeners")
    write_exports(tenant, catalog, header=header)
    tenant.write_settings(show_id=SHOW, count_column="Listeners")
    tenant.sync()
    assert tenant.downloads() == expected_downloads(catalog, ["show1"], FIRST, LAST)


def test_incremental_sync_lands_only_new_or_changed_files(
    tenant: ExportTenant, catalog: HostCatalog, monkeypatch: pytest.MonkeyPatch
) -> None:
    names = write_exports(tenant, catalog)
    tenant.sync()
    files_before = sorted(tenant.zone.entity_files(tenant.tenant, "host_downloads_daily"))

    # The host revises a day of the second file; a new file brings two new days.
    episode = catalog.episodes_of("show1")[-1].episode_id
    catalog.downloads[(episode, FIRST + timedelta(days=4))] = 999
    new_first, new_last = LAST + timedelta(days=1), LAST + timedelta(days=2)
    catalog.downloads[(episode, new_first)] = 21
    catalog.downloads[(episode, new_last)] = 8
    tenant.write(names[1], spotify_csv(catalog, "show1", *periods(FIRST, LAST, 3)[1]))
    new_name = f"spotify-plays-{new_first}_{new_last}.csv"
    tenant.write(new_name, spotify_csv(catalog, "show1", new_first, new_last))

    read: list[str] = []
    original = ExportFolder.read

    def spying(self, name, *args, **kwargs):
        read.append(name)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(ExportFolder, "read", spying)
    report = tenant.sync(INCREMENTAL, streams=["host_downloads_daily"])

    assert read == [names[1], new_name], "unchanged files are not read again"
    stream = report.streams[0]
    assert stream.slices_planned == 2 and stream.cursor == new_name
    assert tenant.downloads() == expected_downloads(catalog, ["show1"], FIRST, new_last)
    added = set(tenant.zone.entity_files(tenant.tenant, "host_downloads_daily")) - set(files_before)
    assert len(added) == 2, "one batch for the changed file, one for the new one"


def test_incremental_sync_of_nothing_new_reads_and_lands_nothing(
    tenant: ExportTenant, catalog: HostCatalog
) -> None:
    write_exports(tenant, catalog)
    tenant.sync()
    files = sorted(tenant.zone.entity_files(tenant.tenant, "host_downloads_daily"))
    report = tenant.sync(INCREMENTAL)
    assert [s.slices_planned for s in report.streams] == [0, 0]
    assert sorted(tenant.zone.entity_files(tenant.tenant, "host_downloads_daily")) == files


def test_a_full_sync_lands_everything_again_into_the_same_files(
    tenant: ExportTenant, catalog: HostCatalog
) -> None:
    names = write_exports(tenant, catalog)
    tenant.sync()
    files = sorted(tenant.zone.entity_files(tenant.tenant, "host_downloads_daily"))
    episodes = sorted(tenant.zone.entity_files(tenant.tenant, "episodes"))
    report = tenant.sync(FULL)
    assert report.streams[1].slices_landed == len(names)
    assert sorted(tenant.zone.entity_files(tenant.tenant, "host_downloads_daily")) == files
    assert sorted(tenant.zone.entity_files(tenant.tenant, "episodes")) == episodes
    assert max(keys(tenant).values()) == 1


def test_a_renamed_column_stops_the_sync_naming_it_and_the_file(
    tenant: ExportTenant, catalog: HostCatalog
) -> None:
    names = write_exports(tenant, catalog)
    broken = spotify_csv(catalog, "show1", *periods(FIRST, LAST, 3)[2]).replace(
        "Plays", "Listens", 1
    )
    tenant.write(names[2], broken)
    with pytest.raises(ApiChangedError) as failure:
        tenant.sync(streams=["host_downloads_daily"])
    message = str(failure.value)
    assert names[2] in message and "'Plays'" in message and "Listens" in message
    landed_from = {r["_source_file"] for r in tenant.landed("host_downloads_daily")}
    assert landed_from == set(names[:2]), "the files before it landed, nothing of it did"

    # Exported again in the known format, the interrupted run resumes from that file.
    tenant.write(names[2], spotify_csv(catalog, "show1", *periods(FIRST, LAST, 3)[2]))
    report = tenant.sync(INCREMENTAL, streams=["host_downloads_daily"])
    assert report.streams[0].resumed and report.streams[0].slices_skipped == 2
    assert tenant.downloads() == expected_downloads(catalog, ["show1"], FIRST, LAST)


def test_bad_rows_are_quarantined_with_their_reason(tenant: ExportTenant) -> None:
    tenant.write(
        "spotify-plays.csv",
        "Date,Episode,Episode URI,Plays\r\n"
        "2026-10-01,Good,spotify:episode:abc,4\r\n"
        "2026-31-10,Bad day,spotify:episode:abc,4\r\n"
        "2026-10-02,Negative,spotify:episode:abc,-2\r\n"
        "2026-10-02,Words,spotify:episode:abc,many\r\n"
        "2026-10-03,No id,,4\r\n"
        "2026-10-03,Stray, comma,spotify:episode:abc,4\r\n"
        "2026-10-04,Bad uri,spotify:show:xyz,4\r\n"
        "10/05/2026,Good too,spotify:episode:def,1\r\n",
    )
    report = tenant.sync(streams=["host_downloads_daily"])

    assert tenant.downloads() == {("abc", date(2026, 10, 1)): 4, ("def", date(2026, 10, 5)): 1}
    quarantined = {q["_source_row"]: q for q in tenant.quarantined()}
    assert sorted(quarantined) == [2, 3, 4, 5, 6, 7]
    assert "Date: not a date" in quarantined[2]["reason"]
    assert "Plays: a count cannot be negative" in quarantined[3]["reason"]
    assert "Plays: expected a whole number" in quarantined[4]["reason"]
    assert "Episode URI: empty" in quarantined[5]["reason"]
    assert "row: 1 cell(s) more than the header" in quarantined[6]["reason"]
    assert "Episode URI: not an episode id" in quarantined[7]["reason"]
    assert all(q["_source_file"] == "spotify-plays.csv" for q in quarantined.values())
    assert json.loads(quarantined[3]["raw_record"])["Plays"] == "-2"
    assert report.streams[0].rows_quarantined == 6


def test_show_id_is_required(tenant: ExportTenant) -> None:
    tenant.write_settings(show_name="no id")
    with pytest.raises(SettingsError, match="connectors.spotify.show_id"):
        build_connector(tenant.tenant, "spotify")


def test_connectors_check_says_how_many_exports_the_folder_holds(
    tenant: ExportTenant, catalog: HostCatalog
) -> None:
    missing = tenant.cli("check", "--tenant", tenant.tenant)
    assert missing.returncode == 1 and "FAIL  spotify" in missing.stdout
    assert "does not exist" in missing.stdout

    names = write_exports(tenant, catalog)
    ok = tenant.cli("check", "--tenant", tenant.tenant)
    assert ok.returncode == 0, ok.stdout + ok.stderr
    assert f"ok    spotify: {len(names)} export file(s) ({tenant.folder})" in ok.stdout


def test_a_sync_killed_midway_resumes_without_loss_or_duplicates(
    tenant: ExportTenant, monkeypatch: pytest.MonkeyPatch
) -> None:
    # Enough files that the sync is still running when the test sees three of them landed.
    days = 240
    catalog = make_catalog(shows=1, episodes_per_show=6, first_day=FIRST, days=days, id_prefix="k")
    last = FIRST + timedelta(days=days - 1)
    # Every file has rows: every episode has downloads on each day.
    for n, episode in enumerate(catalog.episodes):
        for offset in range(days):
            catalog.downloads[(episode.episode_id, FIRST + timedelta(days=offset))] = (
                1 + (offset + n) % 17
            )
    names = []
    for first, end in periods(FIRST, last, 1):
        names.append(f"spotify-plays-{first}.csv")
        tenant.write(names[-1], spotify_csv(catalog, "show1", first, end))
    state_file = tenant.state_file("host_downloads_daily")
    process = subprocess.Popen(
        [sys.executable, "-m", "pipelines.cli", "connectors", "sync"]
        + ["--tenant", tenant.tenant, "--full"],
        env={**os.environ, **tenant.env},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    done: list[str] = []
    try:
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and process.poll() is None:
            try:
                run = json.loads(state_file.read_text()).get("run") or {}
            except (OSError, ValueError):
                run = {}
            done = run.get("done") or []
            if len(done) >= 3:
                break
            time.sleep(0.005)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait(timeout=30)
    assert len(done) >= 3, process.communicate(timeout=5)
    landed_before = {r["_source_file"] for r in tenant.landed("host_downloads_daily")}
    assert landed_before and len(landed_before) < len(names), "killed midway"

    read: list[str] = []
    original = ExportFolder.read

    def spying(self, name, *args, **kwargs):
        read.append(name)
        return original(self, name, *args, **kwargs)

    monkeypatch.setattr(ExportFolder, "read", spying)
    report = tenant.sync(INCREMENTAL, streams=["host_downloads_daily"])

    stream = report.streams[0]
    assert stream.resumed and stream.slices_skipped >= 3
    assert set(read).isdisjoint(set(done)), "the files landed before the kill are not read again"
    assert tenant.downloads() == expected_downloads(catalog, ["show1"], FIRST, last)
    assert max(keys(tenant).values()) == 1, "no key landed twice"
    with_rows = {n for n in names if (tenant.folder / n).read_text().count("\n") > 1}
    assert {r["_source_file"] for r in tenant.landed("host_downloads_daily")} == with_rows
