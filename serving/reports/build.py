"""Build one tenant's weekly report: read the data, render HTML, PDF and a page-1 preview, and
write the three files into a folder, all or nothing."""

from __future__ import annotations

import os
import tempfile
from dataclasses import dataclass, field
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from serving.reports.data import load_report_data
from serving.reports.render import page_count, preview_png, render_html, render_pdf
from serving.reports.weeks import ReportWeek, zone
from warehouse.connection import Warehouse

HTML_NAME = "report.html"
PDF_NAME = "report.pdf"
PNG_NAME = "report.png"


@dataclass(frozen=True)
class ReportFiles:
    html_path: Path
    pdf_path: Path
    # Page 1 of the PDF as a PNG: a preview for chat messages and a quick look.
    png_path: Path
    page_count: int
    # The headline figures (ReportData.summary()): JSON-safe, for run metadata and messages.
    summary: dict[str, Any] = field(default_factory=dict)


def build_report(
    wh: Warehouse,
    tenant_id: str,
    tenant_name: str,
    week: ReportWeek,
    tz: str,
    out_dir: Path,
    generated_at: datetime | None = None,
) -> ReportFiles:
    """Write ``report.html``, ``report.pdf`` and ``report.png`` (page 1) for ``tenant_id``'s
    ``week`` into ``out_dir``. Nothing is written unless all three rendered; a re-run replaces
    the files in place (each appears by an atomic rename, so a reader never sees half a file)."""
    zone(tz)  # an unknown time zone fails here, before any query
    data = load_report_data(wh, tenant_id, week, tz)
    html = render_html(data, tenant_name, generated_at=generated_at or datetime.now(UTC))
    pdf = render_pdf(html)
    png = preview_png(pdf, page=0)
    out_dir = Path(out_dir)
    out_dir.mkdir(parents=True, exist_ok=True)
    contents = {HTML_NAME: html.encode("utf-8"), PDF_NAME: pdf, PNG_NAME: png}
    _write_all(out_dir, contents)
    return ReportFiles(
        html_path=out_dir / HTML_NAME,
        pdf_path=out_dir / PDF_NAME,
        png_path=out_dir / PNG_NAME,
        page_count=page_count(pdf),
        summary=data.summary(),
    )


def _write_all(out_dir: Path, contents: dict[str, bytes]) -> None:
    """Write every file to a temporary name in ``out_dir`` (same file system), then rename each
    over its final name; temporaries are removed if anything fails before the renames."""
    staged: dict[str, Path] = {}
    try:
        for name, payload in contents.items():
            fd, temp = tempfile.mkstemp(prefix=f".{name}.", suffix=".tmp", dir=out_dir)
            with os.fdopen(fd, "wb") as handle:
                handle.write(payload)
                handle.flush()
                os.fsync(handle.fileno())
            staged[name] = Path(temp)
        for name, temp in staged.items():
            os.replace(temp, out_dir / name)
    finally:
        for temp in staged.values():
            temp.unlink(missing_ok=True)
