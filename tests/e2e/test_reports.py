"""Tenants' weekly reports from the session pipelines, on DuckDB and on PostgreSQL.

Each tenant's report is built for its newest data week on a New York clock (so the week's UTC
bounds are not midnight); the PDF's preview must show something, the PDF must name the tenant and
the week, the report's figures must equal the same figures computed here by separate SQL, and no
tenant's report may show another tenant's shows or campaigns.
"""

from __future__ import annotations

import io
import re
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from pathlib import Path
from zoneinfo import ZoneInfo

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from serving.reports import build_report, load_report_data, newest_data_week
from serving.reports.build import ReportFiles
from serving.reports.data import ReportData
from tests.conftest import TENANTS, BuiltPipeline
from warehouse.connection import (
    DuckDBWarehouse,
    PostgresSettings,
    PostgresWarehouse,
    Warehouse,
)

pytestmark = pytest.mark.e2e

TZ = "America/New_York"


def tenant_name(tenant: str) -> str:
    return tenant.replace("_", " ").title()


@contextmanager
def open_warehouse(pipeline: BuiltPipeline) -> Iterator[Warehouse]:
    """The pipeline's warehouse, read-only where the engine allows it."""
    if pipeline.warehouse == "duckdb":
        wh: DuckDBWarehouse | PostgresWarehouse = DuckDBWarehouse(
            pipeline.home / "warehouse.duckdb", read_only=True
        )
    else:
        env = pipeline.env
        wh = PostgresWarehouse(
            PostgresSettings(
                host=env["EARSHOT_PG_HOST"],
                port=int(env["EARSHOT_PG_PORT"]),
                user=env["EARSHOT_PG_USER"],
                password=env.get("EARSHOT_PG_PASSWORD", ""),
                database=env["EARSHOT_PG_DATABASE"],
            )
        )
    try:
        yield wh
    finally:
        if isinstance(wh, PostgresWarehouse):
            wh.conn.rollback()  # nothing to keep: the reports only read
        wh.close()


@dataclass
class Built:
    files: ReportFiles
    data: ReportData
    pdf_text: str
    html: str
    # What the test computed itself, per tenant.
    expected: dict


_BUILT: dict[str, dict[str, Built]] = {}


def _week_start(newest: datetime) -> tuple[date, datetime, datetime]:
    """Monday of the week holding ``newest`` (naive UTC) on the New York clock, and the week's
    UTC bounds: worked out here with zoneinfo alone, not with serving.reports.weeks."""
    zone = ZoneInfo(TZ)
    local = newest.replace(tzinfo=UTC).astimezone(zone).date()
    monday = local - timedelta(days=local.weekday())
    start = datetime.combine(monday, time(0), tzinfo=zone).astimezone(UTC)
    end = datetime.combine(monday + timedelta(days=7), time(0), tzinfo=zone).astimezone(UTC)
    return monday, start.replace(tzinfo=None), end.replace(tzinfo=None)


def _independent_figures(wh: Warehouse, tenant: str) -> dict:
    # The report's week: the newest with an observed (household-network) conversion.
    newest = wh.fetch(
        "select max(conversion_ts) from marts.fct_attribution_credits"
        f" where tenant_id = '{tenant}' and is_observed"
    )[0][0]
    monday, start, end = _week_start(newest)
    sunday = monday + timedelta(days=6)
    in_week = (
        f"c.tenant_id = '{tenant}' and c.conversion_ts >= '{start.isoformat(sep=' ')}'"
        f" and c.conversion_ts < '{end.isoformat(sep=' ')}'"
    )
    by_show = {
        name: float(revenue)
        for name, revenue in wh.fetch(
            "select coalesce(s.show_name, c.show_id), sum(c.credited_revenue)"
            " from marts.fct_attribution_credits c"
            " left join marts.dim_shows s on s.tenant_id = c.tenant_id and s.show_id = c.show_id"
            f" where {in_week} and c.model = 'last_touch' and c.is_observed"
            " group by coalesce(s.show_name, c.show_id)"
        )
    }
    conversions, modelled = wh.fetch(
        "select sum(case when c.is_observed then 1 else 0 end),"
        " sum(case when c.is_observed then 0 else 1 end)"
        f" from marts.fct_attribution_credits c where {in_week} and c.model = 'last_touch'"
    )[0]
    downloads = wh.fetch(
        "select sum(downloads) from marts.fct_episode_downloads_daily"
        f" where tenant_id = '{tenant}'"
        f" and download_date between '{monday.isoformat()}' and '{sunday.isoformat()}'"
    )[0][0]
    roas = {
        name: (float(spend), None if value is None else float(value))
        for name, spend, value in wh.fetch(
            "select d.campaign_name, p.spend, p.roas from marts.fct_campaign_performance p"
            " join marts.dim_campaigns d on d.tenant_id = p.tenant_id"
            " and d.campaign_id = p.campaign_id"
            f" where p.tenant_id = '{tenant}' and p.model = 'last_touch'"
            f" and d.start_date <= '{sunday.isoformat()}'"
        )
    }
    reach = {
        campaign: int(value)
        for campaign, value in wh.fetch(
            "select campaign_id, reach from marts.rpt_reach_frequency"
            f" where tenant_id = '{tenant}' and scope = 'campaign'"
        )
    }
    names = {
        "shows": {
            r[0]
            for r in wh.fetch(f"select show_name from marts.dim_shows where tenant_id = '{tenant}'")
        },
        "campaigns": {
            r[0]
            for r in wh.fetch(
                f"select campaign_name from marts.dim_campaigns where tenant_id = '{tenant}'"
            )
        },
    }
    anomalies = None
    if wh.fetch(
        "select count(*) from information_schema.tables"
        " where table_schema = 'ml' and table_name = 'anomalies'"
    )[0][0]:
        anomalies = int(
            wh.fetch(
                f"select count(*) from ml.anomalies where tenant_id = '{tenant}'"
                f" and detected_at_day between '{monday.isoformat()}' and '{sunday.isoformat()}'"
            )[0][0]
        )
    return {
        "monday": monday,
        "by_show": by_show,
        "conversions": int(conversions or 0),
        "modelled_conversions": int(modelled or 0),
        "downloads": int(downloads or 0),
        "roas": roas,
        "reach": reach,
        "names": names,
        "anomalies": anomalies,
    }


@pytest.fixture
def reports(pipeline: BuiltPipeline, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Built]:
    """Every tenant's report for its newest data week, built once per engine."""
    if pipeline.warehouse not in _BUILT:
        out = tmp_path_factory.mktemp(f"reports-{pipeline.warehouse}")
        built = {}
        with open_warehouse(pipeline) as wh:
            for tenant in TENANTS:
                week = newest_data_week(wh, tenant, TZ)
                assert week is not None, f"{tenant} has no conversions"
                files = build_report(wh, tenant, tenant_name(tenant), week, TZ, out / tenant)
                pdf = pdfium.PdfDocument(files.pdf_path.read_bytes())
                text = "\n".join(page.get_textpage().get_text_range() for page in pdf)
                pdf.close()
                built[tenant] = Built(
                    files=files,
                    data=load_report_data(wh, tenant, week, TZ),
                    pdf_text=re.sub(r"\s+", " ", text),
                    html=files.html_path.read_text(encoding="utf-8"),
                    expected=_independent_figures(wh, tenant),
                )
        _BUILT[pipeline.warehouse] = built
    return _BUILT[pipeline.warehouse]


def test_every_tenant_gets_a_report_with_a_legible_preview(reports: dict[str, Built]) -> None:
    for tenant, built in reports.items():
        files = built.files
        assert sorted(p.name for p in Path(files.pdf_path).parent.iterdir()) == [
            "report.html",
            "report.pdf",
            "report.png",
        ]
        assert files.page_count >= 2
        image = Image.open(io.BytesIO(files.png_path.read_bytes())).convert("RGB")
        pixels = np.asarray(image).astype(int)
        ink = (pixels.min(axis=2) < 235).mean()
        colour = ((pixels.max(axis=2) - pixels.min(axis=2)) > 80).mean()
        assert ink > 0.05, f"{tenant}: page 1 is nearly blank ({ink:.1%} ink)"
        assert colour > 0.01, f"{tenant}: page 1 has no chart in colour ({colour:.2%})"
        week = str(built.data.week)
        assert tenant_name(tenant) in built.pdf_text
        assert f"Weekly podcast campaign report · {week}" in built.pdf_text
        assert built.files.summary["week"] == week


def test_the_week_is_the_newest_with_conversions_on_the_tenant_clock(
    reports: dict[str, Built],
) -> None:
    for built in reports.values():
        assert built.data.week.first_day == built.expected["monday"]


def test_figures_equal_independent_sql(reports: dict[str, Built]) -> None:
    for tenant, built in reports.items():
        data, expected = built.data, built.expected
        assert expected["conversions"] > 0, f"{tenant}: its newest week has no conversions"
        assert data.headline.conversions == expected["conversions"]
        assert data.headline.modelled_conversions == expected["modelled_conversions"]
        assert data.headline.downloads == expected["downloads"]
        assert built.files.summary["downloads"] == expected["downloads"]
        last_touch = {row.show_name: row.revenue["last_touch"] for row in data.revenue_by_show.rows}
        assert last_touch.keys() == expected["by_show"].keys()
        for show, revenue in expected["by_show"].items():
            assert last_touch[show] == pytest.approx(revenue, abs=0.005), (tenant, show)
        assert data.headline.revenue == pytest.approx(sum(expected["by_show"].values()), abs=0.01)
        # Credits of a conversion sum to 1 under every model: each column has the same total.
        for model, total in data.revenue_by_show.totals.items():
            assert total == pytest.approx(data.headline.revenue, abs=0.01), (tenant, model)
        assert "last_touch" in data.revenue_by_show.models
        roas = {row.campaign_name: (row.spend, row.roas["last_touch"]) for row in data.roas.rows}
        assert roas.keys() == expected["roas"].keys()
        for name, (spend, value) in expected["roas"].items():
            assert roas[name][0] == pytest.approx(spend)
            assert roas[name][1] == (None if value is None else pytest.approx(value))
        for row in data.reach.rows:
            assert row.reach == expected["reach"][row.campaign_id]
            assert sum(row.households.values()) == row.reach
        if expected["anomalies"] is None:
            assert data.anomalies.unavailable_reason is not None
            assert "Anomaly detection has not run" in built.pdf_text
        else:
            assert len(data.anomalies.rows) == expected["anomalies"]


def test_the_pdf_shows_the_headline_figures(reports: dict[str, Built]) -> None:
    for built in reports.values():
        headline = built.data.headline
        assert f"{headline.conversions:,} attributed conversions" in built.pdf_text
        assert f"{headline.downloads:,} IAB downloads" in built.pdf_text


def test_no_report_shows_another_tenants_names(reports: dict[str, Built]) -> None:
    for tenant, built in reports.items():
        own = built.expected["names"]
        assert {r.show_name for r in built.data.revenue_by_show.rows} <= own["shows"]
        assert {r.campaign_name for r in built.data.roas.rows} <= own["campaigns"]
        for other in set(TENANTS) - {tenant}:
            theirs = reports[other].expected["names"]
            mine = own["shows"] | own["campaigns"]
            foreign = {
                name
                for name in (theirs["shows"] | theirs["campaigns"]) - mine
                # "The Open Road" would be found in a report of "The Open Road Trip".
                if not any(name in own_name for own_name in mine)
            }
            assert foreign, "the two tenants' worlds should differ in some names"
            for name in foreign:
                assert name not in built.html, f"{other}'s {name!r} in {tenant}'s report"
                assert name not in built.pdf_text, f"{other}'s {name!r} in {tenant}'s PDF"
