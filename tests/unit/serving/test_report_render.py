"""The weekly report rendered from hand-built data (no warehouse): HTML escaping and
self-containment, the PDF's text, a preview that is not blank and has its charts in colour,
sections without data saying so, and the build writing its three files all or nothing."""

from __future__ import annotations

import io
import re
from datetime import date, datetime
from pathlib import Path

import numpy as np
import pypdfium2 as pdfium
import pytest
from PIL import Image

from serving.reports import build as build_module
from serving.reports.build import build_report
from serving.reports.charts import MODEL_COLOURS
from serving.reports.data import (
    Anomalies,
    Anomaly,
    CampaignReach,
    CampaignRoas,
    ConversionLag,
    DailyFigures,
    Headline,
    Incrementality,
    IncrementalityResult,
    LagCurve,
    ReachFrequency,
    ReportData,
    RevenueByShow,
    RoasByCampaign,
    ShowRevenue,
)
from serving.reports.render import (
    ReportRenderError,
    incrementality_sentences,
    page_count,
    preview_png,
    render_html,
    render_pdf,
)
from serving.reports.weeks import ReportWeek
from warehouse.connection import DuckDBWarehouse

MODELS = ["first_touch", "last_touch", "linear", "time_decay", "position_based", "markov"]
SCRIPT_SHOW = "<script>alert('x')</script> Radio"
WEEK = ReportWeek(2026, 47)
TZ = "Europe/London"
GENERATED = datetime(2026, 11, 23, 8, 0)


def per_model(values: list[float]) -> dict[str, float]:
    return dict(zip(MODELS, values, strict=True))


def _result(campaign: str, status: str, lift=None, low=None, high=None, p=None):
    return IncrementalityResult(
        campaign_id=campaign.lower().replace(" ", "_"),
        campaign_name=campaign,
        result_status=status,
        matched_exposed_households=2375,
        matched_control_households=1061,
        exposed_conversion_rate=0.0539,
        control_conversion_rate=0.0551,
        relative_lift=lift,
        relative_lift_ci_low=low,
        relative_lift_ci_high=high,
        p_value=p,
        confidence_level=0.95,
    )


def full_data() -> ReportData:
    start, end = WEEK.utc_bounds(TZ)
    shows = [
        ShowRevenue(
            "s1",
            "The Little Startup",
            per_model([1934.07, 1744.95, 1816.19, 1765.24, 1828.26, 1847.93]),
        ),
        ShowRevenue("s2", SCRIPT_SHOW, per_model([797.78, 813.52, 842.68, 866.98, 822.38, 811.23])),
        ShowRevenue("s3", "$100 Club", per_model([100.0, 273.38, 173.0, 199.63, 181.21, 172.69])),
    ]
    totals = {m: sum(s.revenue[m] for s in shows) for m in MODELS}
    daily = [
        DailyFigures(day, conversions=c, revenue=c * 40.0, downloads=d)
        for day, c, d in zip(
            WEEK.days(), [7, 10, 11, 8, 6, 8, 5], [680, 672, 668, 660, 650, 578, 561], strict=True
        )
    ]
    return ReportData(
        tenant_id="acme_audio",
        week=WEEK,
        tz=TZ,
        start_utc=start,
        end_utc=end,
        currency="USD",
        headline=Headline(
            conversions=55,
            revenue=2831.85,
            modelled_conversions=19,
            modelled_revenue=1415.02,
            downloads=4469,
            active_campaigns=["Summer Sale", "New Customer Push"],
            newest_conversion_ts=datetime(2026, 11, 25, 23, 2, 12),
            newest_download_date=date(2026, 11, 25),
            daily=daily,
        ),
        revenue_by_show=RevenueByShow(models=MODELS, rows=shows, totals=totals),
        roas=RoasByCampaign(
            models=MODELS,
            rows=[
                CampaignRoas(
                    "c1",
                    "Summer Sale",
                    "USD",
                    date(2026, 10, 21),
                    date(2026, 11, 22),
                    137.46,
                    per_model([7900.0, 7822.75, 8000.0, 8790.0, 7960.0, 7290.29]),
                    per_model([57.47, 56.91, 58.2, 63.95, 57.91, 53.04]),
                ),
                CampaignRoas(
                    "c2",
                    "New Customer Push",
                    "USD",
                    date(2026, 10, 20),
                    date(2026, 11, 16),
                    1234.5,
                    per_model([4049.0, 4342.54, 4300.0, 4700.0, 4200.0, 3588.16]),
                    per_model([3.28, 3.52, 3.48, 3.81, 3.4, 2.91]),
                ),
            ],
        ),
        reach=ReachFrequency(
            rows=[
                CampaignReach(
                    "c1",
                    "Summer Sale",
                    3330,
                    4890,
                    1.4685,
                    {"1": 2404, "2": 611, "3": 176, "4": 68, "5+": 71},
                ),
                CampaignReach(
                    "c2",
                    "New Customer Push",
                    2058,
                    2760,
                    1.3411,
                    {"1": 1631, "2": 288, "3": 83, "4": 23, "5+": 33},
                ),
            ]
        ),
        lag=ConversionLag(
            curves=[
                LagCurve(
                    "c1",
                    "Summer Sale",
                    138,
                    list(range(31)),
                    [min(1.0, 0.2 + d * 0.03) for d in range(31)],
                ),
                LagCurve(
                    "c2",
                    "New Customer Push",
                    107,
                    list(range(31)),
                    [min(1.0, 0.1 + d * 0.05) for d in range(31)],
                ),
            ],
            lookback_days=30,
        ),
        incrementality=Incrementality(
            rows=[
                _result("Summer Sale", "estimated", -0.0221, -0.2958, 0.3579, 0.8938),
                _result("New Customer Push", "estimated", 0.42, 0.12, 0.81, 0.0004),
                _result("Always On", "insufficient_sample"),
            ]
        ),
        anomalies=Anomalies(
            rows=[
                Anomaly(
                    date(2026, 11, 17),
                    "high",
                    "conversions",
                    "campaign",
                    "c1",
                    "Summer Sale",
                    8.0,
                    1.0,
                    0.0,
                    4.45,
                    2.03,
                    "spike",
                    "Campaign 'Summer Sale' had 8 conversions on Tuesday, 8.0x the usual.",
                ),
            ]
        ),
    )


def empty_data() -> ReportData:
    """A week with nothing in any section, and the ML stage never run."""
    start, end = WEEK.utc_bounds(TZ)
    return ReportData(
        tenant_id="acme_audio",
        week=WEEK,
        tz=TZ,
        start_utc=start,
        end_utc=end,
        currency="EUR",
        headline=Headline(daily=[DailyFigures(day) for day in WEEK.days()]),
        revenue_by_show=RevenueByShow(models=MODELS),
        roas=RoasByCampaign(),
        reach=ReachFrequency(),
        lag=ConversionLag(),
        incrementality=Incrementality(),
        anomalies=Anomalies(
            unavailable_reason="ml.anomalies does not exist: the ML stage builds it."
        ),
    )


@pytest.fixture(scope="module")
def rendered() -> tuple[str, bytes]:
    html = render_html(full_data(), "Acme Audio & Sons", generated_at=GENERATED)
    return html, render_pdf(html)


def pdf_text(pdf: bytes) -> str:
    document = pdfium.PdfDocument(pdf)
    try:
        return "\n".join(page.get_textpage().get_text_range() for page in document)
    finally:
        document.close()


def flat(text: str) -> str:
    """PDF text with line breaks and repeated spaces folded, to search phrases in it."""
    return re.sub(r"\s+", " ", text)


# --- HTML -----------------------------------------------------------------------------------


def test_html_escapes_names_from_tenant_data(rendered: tuple[str, bytes]) -> None:
    html, _ = rendered
    assert "<script>" not in html
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; Radio" in html
    assert "Acme Audio &amp; Sons" in html


def test_html_is_self_contained(rendered: tuple[str, bytes]) -> None:
    html, _ = rendered
    # Six charts, every one inline; nothing fetched from anywhere.
    assert html.count('src="data:image/png;base64,') == 6
    assert not re.search(r'(src|href)="(?!data:)', html)
    assert "url(" not in html
    assert "@page" in html  # the print stylesheet travels with the file


def test_html_formats_numbers_and_currency(rendered: tuple[str, bytes]) -> None:
    html, _ = rendered
    assert "$2,832" in html  # headline revenue, whole units
    assert "4,469" in html
    assert "$1,934.07" in html  # show table, cents
    assert "$1,234.50" in html  # campaign spend
    assert "-2.2%" in html and "+35.8%" in html and "0.894" in html
    assert "&lt; 0.001" in html  # p-value 0.0004


# --- PDF ------------------------------------------------------------------------------------


def test_pdf_has_every_section_and_the_figures(rendered: tuple[str, bytes]) -> None:
    _, pdf = rendered
    assert pdf.startswith(b"%PDF")
    text = flat(pdf_text(pdf))
    for expected in (
        "Acme Audio & Sons",
        "2026-W47 (Mon 16 Nov – Sun 22 Nov 2026)",
        "1. The week at a glance",
        "2. Attributed revenue by show, under each model",
        "3. Return on ad spend by campaign (flight to date)",
        "4. Reach and frequency by campaign (flight to date)",
        "5. How long after hearing an ad people buy (flight to date)",
        "6. Did the ads cause extra sales? (incrementality, flight to date)",
        "7. Anomalies of the week",
        "last-touch",
        "$2,832",
        "$1,934.07",
        # The escaped name prints as the text it is.
        "<script>alert('x')</script> Radio",
        "$100 Club",
        "Europe/London",
        "Inconclusive: the interval includes zero",
        "Not enough data to estimate",
        "insufficient_sample",
        "Campaign 'Summer Sale' had 8 conversions",
    ):
        assert expected in text, expected
    # Every page's footer names the tenant, the week and the page.
    assert f"page 1 of {page_count(pdf)}" in text


def test_pdf_embeds_a_unicode_font() -> None:
    data = full_data()
    data.revenue_by_show.rows[0].show_name = "Шоу Ünïcødé — Straße"
    pdf = render_pdf(render_html(data, "Acme", generated_at=GENERATED))
    assert b"DejaVuSans" in pdf
    assert "Шоу Ünïcødé — Straße" in pdf_text(pdf)


def test_preview_is_not_blank_and_its_charts_are_in_colour(rendered: tuple[str, bytes]) -> None:
    _, pdf = rendered
    png = preview_png(pdf, page=0, scale=1.5)
    image = Image.open(io.BytesIO(png)).convert("RGB")
    # A4 at 1.5 x 72 dpi.
    assert image.size == (pytest.approx(893, abs=2), pytest.approx(1263, abs=2))
    pixels = np.asarray(image).astype(int)
    non_white = (pixels.min(axis=2) < 235).mean()
    assert non_white > 0.05, f"only {non_white:.1%} of page 1 is ink"
    # Charts: strongly coloured pixels (not grey text), and in the chart area, not just a rule.
    saturation = pixels.max(axis=2) - pixels.min(axis=2)
    coloured = saturation > 80
    assert coloured.mean() > 0.02, f"only {coloured.mean():.2%} of page 1 is in colour"
    rows = np.nonzero(coloured.any(axis=1))[0]
    assert rows.max() - rows.min() > 200, "colour only in a thin band: the charts are missing"
    # Page 1 holds the daily chart (last-touch orange) and the by-show chart (every model).
    for model, colour in MODEL_COLOURS.items():
        target = np.array([int(colour[i : i + 2], 16) for i in (1, 3, 5)])
        near = (np.abs(pixels - target).sum(axis=2) < 30).sum()
        assert near > 200, f"{model}'s colour {colour} is missing from page 1"


def test_preview_refuses_a_page_the_pdf_does_not_have(rendered: tuple[str, bytes]) -> None:
    _, pdf = rendered
    with pytest.raises(ValueError, match="there is no page 99"):
        preview_png(pdf, page=99)


def test_render_pdf_names_what_xhtml2pdf_reported(monkeypatch: pytest.MonkeyPatch) -> None:
    from xhtml2pdf import pisa
    from xhtml2pdf.default import PML_ERROR

    class Status:
        err = 1
        log = [(PML_ERROR, 12, "table cell spans nothing", "<td>")]

    monkeypatch.setattr(pisa, "CreatePDF", lambda *args, **kwargs: Status())
    with pytest.raises(ReportRenderError, match="1 error.*line 12: table cell spans nothing"):
        render_pdf("<html><body>x</body></html>")


# --- empty and missing sections -------------------------------------------------------------


def test_empty_sections_say_so_in_html_and_pdf() -> None:
    html = render_html(empty_data(), "Globex", generated_at=GENERATED)
    assert "data:image/png" not in html  # nothing to draw, no empty chart
    text = flat(pdf_text(render_pdf(html)))
    for sentence in (
        "No conversions and no downloads were recorded this week.",
        "No attributed conversions this week, so there is no revenue to credit to shows.",
        "No campaign had started by the end of this week.",
        "No campaign has delivered impressions yet.",
        "No campaign has observed conversions yet, so there is no lag curve to draw.",
        "No campaign has an incrementality result yet.",
        "ml.anomalies does not exist: the ML stage builds it.",
        "No campaign was in flight this week.",
        "€0",
    ):
        assert sentence in text, sentence


def test_an_empty_anomaly_table_is_not_the_same_as_a_missing_one() -> None:
    data = empty_data()
    data.anomalies = Anomalies()
    html = render_html(data, "Globex", generated_at=GENERATED)
    assert "No anomalies were detected this week" in html
    assert "ml.anomalies does not exist" not in html


def test_a_partial_week_is_flagged() -> None:
    data = full_data()
    data.headline.newest_conversion_ts = datetime(2026, 11, 18, 9, 0)
    data.headline.newest_download_date = date(2026, 11, 18)
    assert data.is_partial
    assert "This week is not complete yet: the data stops on Wed 18 Nov 2026" in render_html(
        data, "Acme", generated_at=GENERATED
    )
    assert not full_data().is_partial


def test_incrementality_sentences_say_plainly_what_each_result_means() -> None:
    sentences = incrementality_sentences(full_data().incrementality.rows)
    assert sentences == [
        "Summer Sale: inconclusive. The estimate is -2.2%, but its interval (-29.6% to +35.8%) "
        "includes zero, so this data cannot tell whether the ads changed purchases.",
        "New Customer Push: exposed households bought +42.0% more often than comparable ones "
        "(interval +12.0% to +81.0%): the ads added sales.",
        "Not enough data to estimate a lift yet (too few matched households or conversions, "
        "result_status insufficient_sample): Always On.",
    ]


def test_summary_holds_the_headline_figures() -> None:
    summary = full_data().summary()
    assert summary["week"] == "2026-W47"
    assert summary["conversions"] == 55
    assert summary["revenue"] == 2831.85
    assert summary["downloads"] == 4469
    assert summary["active_campaigns"] == 2
    assert summary["anomalies"] == 1
    assert summary["newest_conversion_ts"] == "2026-11-25T23:02:12"
    assert summary["partial_week"] is False


# --- building the files ---------------------------------------------------------------------


@pytest.fixture
def bare_warehouse(tmp_path: Path):
    """A DuckDB warehouse the pipeline never ran on: no marts, no ml schema."""
    wh = DuckDBWarehouse(tmp_path / "bare.duckdb")
    try:
        yield wh
    finally:
        wh.close()


def test_build_on_a_warehouse_without_marts_says_why(bare_warehouse, tmp_path: Path) -> None:
    out = tmp_path / "reports" / "acme_audio" / "2026-W47"
    files = build_report(bare_warehouse, "acme_audio", "Acme", WEEK, TZ, out)
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.pdf", "report.png"]
    assert files.pdf_path.read_bytes().startswith(b"%PDF")
    assert files.png_path.read_bytes().startswith(b"\x89PNG")
    assert files.page_count >= 1
    assert files.summary["conversions"] == 0 and files.summary["week"] == "2026-W47"
    text = flat(pdf_text(files.pdf_path.read_bytes()))
    assert "marts.fct_attribution_credits does not exist in this warehouse yet" in text
    assert "marts.rpt_reach_frequency does not exist in this warehouse yet" in text
    assert "Anomaly detection has not run for this warehouse (ml.anomalies does not exist)" in text


def test_a_rebuild_replaces_the_files(bare_warehouse, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = build_report(bare_warehouse, "acme_audio", "First Name", WEEK, TZ, out)
    second = build_report(bare_warehouse, "acme_audio", "Second Name", WEEK, TZ, out)
    assert second.html_path == first.html_path
    assert sorted(p.name for p in out.iterdir()) == ["report.html", "report.pdf", "report.png"]
    html = second.html_path.read_text(encoding="utf-8")
    assert "Second Name" in html and "First Name" not in html


def test_a_failed_build_writes_nothing_and_keeps_the_previous_files(
    bare_warehouse, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out = tmp_path / "out"
    build_report(bare_warehouse, "acme_audio", "Kept", WEEK, TZ, out)
    before = {p.name: p.read_bytes() for p in out.iterdir()}

    def broken_preview(pdf: bytes, page: int = 0) -> bytes:
        raise ReportRenderError("pdfium could not open the PDF")

    monkeypatch.setattr(build_module, "preview_png", broken_preview)
    with pytest.raises(ReportRenderError):
        build_report(bare_warehouse, "acme_audio", "Replacement", WEEK, TZ, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before

    # A failure while writing: no temporary file is left behind, nothing is half replaced.
    def failing_replace(src, dst):
        raise OSError("disk full")

    monkeypatch.undo()
    monkeypatch.setattr(build_module.os, "replace", failing_replace)
    with pytest.raises(OSError, match="disk full"):
        build_report(bare_warehouse, "acme_audio", "Replacement", WEEK, TZ, out)
    assert {p.name: p.read_bytes() for p in out.iterdir()} == before


def test_build_refuses_an_unknown_time_zone_before_reading(bare_warehouse, tmp_path) -> None:
    from serving.reports.weeks import UnknownTimeZone

    with pytest.raises(UnknownTimeZone, match="Europe/Lundun"):
        build_report(bare_warehouse, "acme_audio", "Acme", WEEK, "Europe/Lundun", tmp_path / "x")
    assert not (tmp_path / "x").exists()
