"""Every hosting platform's figures, synced from its fake, reach the marts (DuckDB).

One tenant is connected to all eight platforms at once. Each syncs fully into one landing zone,
the raw loader loads it, and dbt builds the staging and marts the figures feed: the downloads of
every platform that counts downloads appear in rpt_download_reconciliation with the platform's
exact figures, and YouTube's views in fct_video_views_daily.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

from connectors.framework.settings import parse_settings
from connectors.framework.sync import FULL, sync_connector
from connectors.hosting import HOSTING_CONNECTORS
from connectors.registry import CONNECTORS
from tests.contract.cases import CASES, DAYS, FIRST_DAY
from tests.fakes.castos import FakeCastos
from tests.fakes.catalog import make_catalog
from tests.fakes.exports import castos_csv, spotify_csv
from tests.support.landed_marts import build_marts
from warehouse.connection import DuckDBWarehouse
from warehouse.landing import LandingZone

TENANT = "all_hosts"
LAST_DAY = FIRST_DAY + timedelta(days=DAYS - 1)
TODAY = LAST_DAY + timedelta(days=1)


def _settings(platform: str, values: dict) -> object:
    model = CONNECTORS[platform].settings_model
    return parse_settings(model, values, "test", platform)


def _sync_api_platforms(zone: LandingZone) -> dict[str, dict[tuple[str, date], int]]:
    expected = {}
    for platform, factory in sorted(CASES.items()):
        case = factory()
        catalog = case.catalog()
        with case.fake(catalog) as fake:
            values = {
                "base_url": fake.base_url,
                "start_date": FIRST_DAY.isoformat(),
                "rate_limit": {"requests": 1000, "per_seconds": 1},
                **case.settings,
            }
            connector = CONNECTORS[platform](
                TENANT, _settings(platform, values), case.secrets, today=TODAY
            )
            sync_connector(connector, zone, mode=FULL)
        expected[platform] = catalog.expected_downloads(FIRST_DAY, LAST_DAY)
    return expected


def _sync_export_platforms(zone: LandingZone, home: Path) -> dict:
    expected = {}
    catalog = make_catalog(seed=21, first_day=FIRST_DAY, days=DAYS, id_prefix="sp")
    show = catalog.shows[0].show_id
    folder = home / "exports" / TENANT / "spotify"
    folder.mkdir(parents=True)
    (folder / "plays.csv").write_text(spotify_csv(catalog, show, FIRST_DAY, LAST_DAY))
    spotify = CONNECTORS["spotify"](
        TENANT, _settings("spotify", {"show_id": show}), {}, today=TODAY
    )
    sync_connector(spotify, zone, mode=FULL)
    expected["spotify"] = {
        k: n
        for k, n in catalog.expected_downloads(FIRST_DAY, LAST_DAY).items()
        if catalog.episode(k[0]).show_id == show
    }

    castos = make_catalog(seed=22, first_day=FIRST_DAY, days=DAYS, numeric_ids=True)
    shows = [s.show_id for s in castos.shows]
    folder = home / "exports" / TENANT / "castos"
    folder.mkdir(parents=True)
    (folder / "downloads.csv").write_text(castos_csv(castos, shows, FIRST_DAY, LAST_DAY))
    with FakeCastos(castos) as fake:
        connector = CONNECTORS["castos"](
            TENANT,
            _settings("castos", {"base_url": f"{fake.base_url}/api/v2"}),
            {"api_token": fake.token},
            today=TODAY,
        )
        sync_connector(connector, zone, mode=FULL)
    expected["castos"] = castos.expected_downloads(FIRST_DAY, LAST_DAY)
    return expected


def test_every_platform_reaches_the_marts(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("EARSHOT_HOME", str(tmp_path))
    zone = LandingZone(tmp_path / "landing")
    expected = _sync_api_platforms(zone)
    expected.update(_sync_export_platforms(zone, tmp_path))
    hosts = {cls.platform for cls in HOSTING_CONNECTORS}
    assert set(expected) == hosts, "every hosting platform is covered"

    database, built = build_marts(
        zone, TENANT, tmp_path, "+rpt_download_reconciliation +fct_video_views_daily"
    )
    assert built.returncode == 0, built.stdout[-3000:]

    wh = DuckDBWarehouse(database)
    try:
        recon = wh.fetch(
            "select platform, episode_id, download_date, host_downloads"
            " from marts.rpt_download_reconciliation where tenant_id = ?",
            [TENANT],
        )
        views = wh.fetch(
            "select video_id, view_date, views from marts.fct_video_views_daily"
            " where tenant_id = ?",
            [TENANT],
        )
    finally:
        wh.close()
    by_platform: dict[str, dict] = {}
    for platform, episode, day, downloads in recon:
        by_platform.setdefault(platform, {})[(episode, day)] = int(downloads)
    for platform, figures in expected.items():
        if platform == "youtube":
            assert {(v, d): int(n) for v, d, n in views} == figures
            assert "youtube" not in by_platform
            continue
        assert by_platform.get(platform) == figures, platform
