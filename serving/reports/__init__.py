"""Tenants' weekly campaign reports: HTML, PDF and a PNG preview of page 1.

``build_report`` is the entry point; docs/user/reports.md describes every section and where its
numbers come from.
"""

from serving.reports.build import ReportFiles, build_report
from serving.reports.data import ReportData, load_report_data, newest_data_week
from serving.reports.render import (
    ReportRenderError,
    preview_png,
    render_html,
    render_pdf,
)
from serving.reports.weeks import (
    InvalidWeek,
    ReportWeek,
    UnknownTimeZone,
    latest_complete_week,
    week_of,
)

__all__ = [
    "InvalidWeek",
    "ReportData",
    "ReportFiles",
    "ReportRenderError",
    "ReportWeek",
    "UnknownTimeZone",
    "build_report",
    "latest_complete_week",
    "load_report_data",
    "newest_data_week",
    "preview_png",
    "render_html",
    "render_pdf",
    "week_of",
]
