"""A report's data → one self-contained HTML file → a PDF → a PNG preview of a page.

The HTML carries its charts inline (``data:image/png;base64``) and its stylesheet in the page, so
it opens anywhere and can be mailed as one attachment. Jinja2 escapes every value (show and
campaign names are tenants' data). The PDF comes from the same HTML through xhtml2pdf, with
DejaVu Sans embedded (shipped with matplotlib) so names in any Latin, Greek or Cyrillic script
print as letters instead of empty boxes; the preview is the PDF page rasterised by pypdfium2.
"""

from __future__ import annotations

import base64
import io
import struct
from dataclasses import dataclass
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Any

from jinja2 import Environment, FileSystemLoader, StrictUndefined
from markupsafe import Markup, escape

from serving.reports import charts as chart_drawing
from serving.reports.data import FREQUENCY_BUCKETS, IncrementalityResult, ReportData, model_label
from serving.reports.weeks import zone

TEMPLATES = Path(__file__).parent / "templates"
# Printable width of an A4 page with the stylesheet's margins (21 cm - 2 x 1.5 cm).
PAGE_WIDTH_CM = 18.0
CURRENCY_SYMBOLS = {
    "USD": "$",
    "EUR": "€",
    "GBP": "£",
    "JPY": "¥",
    "INR": "₹",
    "AUD": "A$",
    "CAD": "CA$",
    "NZD": "NZ$",
}
VERDICTS = {
    "lift": "Lift: the ads added sales",
    "negative": "Negative: fewer sales than comparable households",
    "inconclusive": "Inconclusive: the interval includes zero",
    "insufficient": "Not enough data to estimate",
}


class ReportRenderError(RuntimeError):
    """The PDF could not be made from the report's HTML."""


@dataclass
class ReportCharts:
    """PNG bytes of each chart; None where a section has nothing to draw."""

    daily: bytes | None = None
    by_show: bytes | None = None
    roas: bytes | None = None
    frequency: bytes | None = None
    lag: bytes | None = None
    lift: bytes | None = None


def draw_charts(data: ReportData) -> ReportCharts:
    return ReportCharts(
        daily=chart_drawing.daily_chart(data.headline),
        by_show=chart_drawing.revenue_by_show_chart(data.revenue_by_show),
        roas=chart_drawing.roas_chart(data.roas),
        frequency=chart_drawing.frequency_chart(data.reach),
        lag=chart_drawing.lag_chart(data.lag),
        lift=chart_drawing.lift_chart(data.incrementality),
    )


def render_html(
    data: ReportData,
    tenant_name: str,
    charts: ReportCharts | None = None,
    generated_at: datetime | None = None,
) -> str:
    """The report as one HTML document (charts drawn from ``data`` unless given)."""
    charts = charts if charts is not None else draw_charts(data)
    generated_at = generated_at or datetime.now(UTC)
    if generated_at.tzinfo is None:  # naive means UTC, as everywhere in Earshot
        generated_at = generated_at.replace(tzinfo=UTC)
    confidence = next(
        (r.confidence_level for r in data.incrementality.rows if r.confidence_level), 0.95
    )
    template = _environment(data.currency).get_template("report.html.j2")
    return template.render(
        tenant_name=tenant_name,
        week=str(data.week),
        week_label=data.week.label(),
        week_last_day=data.week.last_day,
        tz=data.tz,
        currency=data.currency,
        currency_name=data.currency or "the tenant's currency",
        data_through=data.data_through,
        partial=data.is_partial,
        generated_at=f"{generated_at.astimezone(zone(data.tz)):%d %b %Y %H:%M}",
        headline=data.headline,
        by_show=data.revenue_by_show,
        roas=data.roas,
        reach=data.reach,
        lag=data.lag,
        incrementality=data.incrementality,
        incrementality_sentences=incrementality_sentences(data.incrementality.rows),
        confidence=f"{confidence:.0%}",
        anomalies=data.anomalies,
        buckets=FREQUENCY_BUCKETS,
        charts=charts,
        css=Markup((TEMPLATES / "report.css").read_text(encoding="utf-8")),
    )


def render_pdf(html: str) -> bytes:
    """The PDF of ``html`` (A4) by xhtml2pdf; a ReportRenderError lists what it reported."""
    from xhtml2pdf import pisa
    from xhtml2pdf.config.resources import ResourceAccessPolicy
    from xhtml2pdf.default import PML_ERROR

    # The report needs nothing from the network (its charts are inline) and, from disk, only
    # the fonts: anything else a page might point at is refused.
    policy = ResourceAccessPolicy(allow_remote=False, base_dir=_font_dir())
    buffer = io.BytesIO()
    try:
        status = pisa.CreatePDF(
            _with_pdf_fonts(html), dest=buffer, encoding="utf-8", resource_policy=policy
        )
    except Exception as exc:  # xhtml2pdf raises bare exceptions from deep inside reportlab
        raise ReportRenderError(f"xhtml2pdf failed to render the report: {exc}") from exc
    if status.err:
        problems = "; ".join(
            f"line {line}: {message}"
            for mode, line, message, _fragment in status.log
            if mode == PML_ERROR
        )
        raise ReportRenderError(
            f"xhtml2pdf reported {status.err} error(s) rendering the report: "
            f"{problems or 'no detail given'}"
        )
    pdf = buffer.getvalue()
    if not pdf.startswith(b"%PDF"):
        raise ReportRenderError("xhtml2pdf returned no PDF for the report")
    return pdf


def preview_png(pdf: bytes, page: int = 0, scale: float = 1.5) -> bytes:
    """Page ``page`` (0-based) of ``pdf`` as a PNG, at ``scale`` x 72 dpi."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        if not 0 <= page < len(document):
            raise ValueError(f"the PDF has {len(document)} page(s); there is no page {page}")
        bitmap = document[page].render(scale=scale)
        buffer = io.BytesIO()
        bitmap.to_pil().save(buffer, format="PNG", optimize=True)
        return buffer.getvalue()
    finally:
        document.close()


def page_count(pdf: bytes) -> int:
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(pdf)
    try:
        return len(document)
    finally:
        document.close()


def incrementality_sentences(rows: list[IncrementalityResult]) -> list[str]:
    """One plain sentence per estimated campaign, one for all those without an estimate."""
    sentences = []
    for r in rows:
        interval = (
            f"{_signed_pct(r.relative_lift_ci_low)} to {_signed_pct(r.relative_lift_ci_high)}"
        )
        if r.verdict == "lift":
            sentences.append(
                f"{r.campaign_name}: exposed households bought {_signed_pct(r.relative_lift)} "
                f"more often than comparable ones (interval {interval}): the ads added sales."
            )
        elif r.verdict == "negative":
            sentences.append(
                f"{r.campaign_name}: exposed households bought less often than comparable "
                f"ones ({_signed_pct(r.relative_lift)}, interval {interval})."
            )
        elif r.verdict == "inconclusive":
            sentences.append(
                f"{r.campaign_name}: inconclusive. The estimate is "
                f"{_signed_pct(r.relative_lift)}, but its interval ({interval}) includes zero, "
                "so this data cannot tell whether the ads changed purchases."
            )
    short = [r.campaign_name for r in rows if r.verdict == "insufficient"]
    if short:
        sentences.append(
            "Not enough data to estimate a lift yet (too few matched households or "
            f"conversions, result_status insufficient_sample): {', '.join(short)}."
        )
    return sentences


# --- formatting -----------------------------------------------------------------------------


def _environment(currency: str | None) -> Environment:
    env = Environment(
        loader=FileSystemLoader(TEMPLATES),
        autoescape=True,
        undefined=StrictUndefined,
        trim_blocks=True,
        lstrip_blocks=True,
    )
    env.filters.update(
        num=_num,
        money=_money,
        pct=_pct,
        signed_pct=_signed_pct,
        ratio=_ratio,
        pvalue=_pvalue,
        days=_days,
        day=_day,
        day_short=_day_short,
        moment=_moment,
        model=model_label,
        verdict=lambda v: VERDICTS.get(v, v),
    )
    env.globals["image"] = _image
    return env


def _num(value: Any, decimals: int = 0) -> str:
    if value is None:
        return "–"
    return f"{float(value):,.{decimals}f}"


def _money(value: Any, currency: str | None = None, decimals: int = 2) -> str:
    if value is None:
        return "–"
    amount = round(float(value), decimals) or 0.0  # no "-$0.00"
    digits = f"{abs(amount):,.{decimals}f}"
    sign = "-" if amount < 0 else ""
    if not currency:
        return f"{sign}{digits}"
    symbol = CURRENCY_SYMBOLS.get(currency.upper())
    return f"{sign}{symbol}{digits}" if symbol else f"{sign}{currency.upper()} {digits}"


def _pct(value: Any, decimals: int = 1) -> str:
    return "–" if value is None else f"{float(value) * 100:,.{decimals}f}%"


def _signed_pct(value: Any, decimals: int = 1) -> str:
    return "–" if value is None else f"{float(value) * 100:+,.{decimals}f}%"


def _ratio(value: Any) -> str:
    return "–" if value is None else f"{float(value):,.2f}"


def _pvalue(value: Any) -> str:
    if value is None:
        return "–"
    return "< 0.001" if value < 0.001 else f"{float(value):.3f}"


def _days(value: int | None) -> str:
    if value is None:
        return "–"
    return "same day" if value == 0 else f"{value} day" if value == 1 else f"{value} days"


def _day(value: date | None) -> str:
    return "–" if value is None else f"{value:%a} {value.day} {value:%b %Y}"


def _day_short(value: date | None) -> str:
    return "–" if value is None else f"{value.day} {value:%b}"


def _moment(value: datetime | None, tz: str) -> str:
    """A naive UTC timestamp on the tenant's clock."""
    if value is None:
        return "–"
    local = value.replace(tzinfo=UTC).astimezone(zone(tz))
    return f"{local:%a} {local.day} {local:%b %Y %H:%M} ({tz})"


def _image(png: bytes, alt: str) -> Markup:
    """An inline chart, sized to the page width in the PDF and the browser alike."""
    width_px, height_px = _png_size(png)
    width_cm = PAGE_WIDTH_CM
    height_cm = width_cm * height_px / width_px
    source = base64.b64encode(png).decode("ascii")
    return Markup(
        '<div class="chart"><img src="data:image/png;base64,{}" alt="{}" '
        'style="width: {:.2f}cm; height: {:.2f}cm"/></div>'
    ).format(Markup(source), escape(alt), width_cm, height_cm)


def _png_size(png: bytes) -> tuple[int, int]:
    # The IHDR chunk, right after the 8-byte signature, holds width and height.
    if png[:8] != b"\x89PNG\r\n\x1a\n":
        raise ValueError("chart is not a PNG")
    return struct.unpack(">II", png[16:24])


def _with_pdf_fonts(html: str) -> str:
    """``html`` with DejaVu Sans declared for xhtml2pdf (its built-in Helvetica covers
    Latin-1 only). Only the PDF gets these file paths; the HTML file stays self-contained."""
    fonts = _font_dir()
    faces = "\n".join(
        f'@font-face {{ font-family: "DejaVu Sans"; src: url("{(fonts / file).as_posix()}");'
        f" font-weight: {weight}; font-style: {style}; }}"
        for file, weight, style in (
            ("DejaVuSans.ttf", "normal", "normal"),
            ("DejaVuSans-Bold.ttf", "bold", "normal"),
            ("DejaVuSans-Oblique.ttf", "normal", "italic"),
            ("DejaVuSans-BoldOblique.ttf", "bold", "italic"),
        )
    )
    return html.replace("<style>", f"<style>\n{faces}\n", 1)


def _font_dir() -> Path:
    import matplotlib

    return Path(matplotlib.get_data_path()) / "fonts" / "ttf"
