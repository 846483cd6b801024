"""The report's charts as PNG bytes, sized to be read at A4 width.

Figures are drawn on matplotlib's Agg canvas directly (``Figure`` + ``FigureCanvasAgg``), not
through pyplot: no global figure state and no GUI backend, so charts can be drawn from any
thread of a Dagster run or a web process. Each model keeps one colour in every chart (and the
same colour-blind-safe palette, Okabe-Ito). A function returns None when its section has nothing
to draw; the report then prints its "no data" sentence instead.
"""

from __future__ import annotations

import io
import textwrap
from collections.abc import Sequence

from matplotlib.backends.backend_agg import FigureCanvasAgg
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter, MaxNLocator, PercentFormatter

from serving.reports.data import (
    FREQUENCY_BUCKETS,
    ConversionLag,
    Headline,
    Incrementality,
    ReachFrequency,
    RevenueByShow,
    RoasByCampaign,
    model_label,
)

MODEL_COLOURS = {
    "first_touch": "#0072B2",
    "last_touch": "#D55E00",
    "linear": "#009E73",
    "time_decay": "#CC79A7",
    "position_based": "#E69F00",
    "markov": "#56B4E9",
}
_EXTRA_COLOURS = ("#999999", "#F0E442", "#000000", "#882255")
# Households reached 1, 2, 3, 4, 5+ times: light to dark, more exposure reads as darker.
FREQUENCY_COLOURS = ("#C6DBEF", "#9ECAE1", "#6BAED6", "#3182BD", "#08519C")
CAMPAIGN_COLOURS = (
    "#0072B2",
    "#D55E00",
    "#009E73",
    "#CC79A7",
    "#E69F00",
    "#56B4E9",
    "#882255",
    "#117733",
    "#999933",
    "#332288",
)
INK = "#222222"
GRID = "#DDDDDD"
# A4 (21 cm) less the page margins: about 7 inches of chart, drawn at 150 dpi.
WIDTH_IN = 7.0
DPI = 150
# Shows beyond this many are summed into one "other shows" bar; the table lists them all.
MAX_SHOW_BARS = 8


def model_colour(model: str, index: int = 0) -> str:
    return MODEL_COLOURS.get(model, _EXTRA_COLOURS[index % len(_EXTRA_COLOURS)])


def daily_chart(headline: Headline) -> bytes | None:
    """Conversions (tenant's days) and downloads (UTC days) per day of the week."""
    if headline.unavailable_reason or not headline.daily:
        return None
    if not any(d.conversions or d.downloads for d in headline.daily):
        return None
    labels = [f"{d.day:%a}\n{d.day.day}" for d in headline.daily]
    fig, (left, right) = _figure(2.1, ncols=2)
    positions = range(len(labels))
    left.bar(positions, [d.conversions for d in headline.daily], color=model_colour("last_touch"))
    left.set_title("Attributed conversions per day (last touch)", loc="left", fontsize=8.5)
    right.bar(positions, [d.downloads for d in headline.daily], color="#4D4D4D")
    right.set_title("IAB downloads per day", loc="left", fontsize=8.5)
    for ax in (left, right):
        ax.set_xticks(list(positions), labels)
        ax.yaxis.set_major_locator(MaxNLocator(nbins=4, integer=True))
        ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
        _style(ax, grid_axis="y")
    return _png(fig)


def revenue_by_show_chart(section: RevenueByShow) -> bytes | None:
    """Grouped horizontal bars: each show's credited revenue under every model."""
    if section.unavailable_reason or not section.rows or not any(section.totals.values()):
        return None
    rows = section.rows[:MAX_SHOW_BARS]
    names = [r.show_name for r in rows]
    values = {m: [r.revenue[m] for r in rows] for m in section.models}
    rest = section.rows[MAX_SHOW_BARS:]
    if rest:
        names.append(f"{len(rest)} other shows")
        for m in section.models:
            values[m].append(sum(r.revenue[m] for r in rest))
    return _grouped_columns(names, section.models, values, "Credited revenue", _money_tick)


def roas_chart(section: RoasByCampaign) -> bytes | None:
    """Grouped horizontal bars: each campaign's flight-to-date ROAS under every model."""
    if section.unavailable_reason or not section.rows:
        return None
    if not any(v for r in section.rows for v in r.roas.values()):
        return None
    names = [r.campaign_name for r in section.rows]
    values = {m: [r.roas[m] or 0.0 for r in section.rows] for m in section.models}
    return _grouped_columns(names, section.models, values, "ROAS", _ratio_tick)


def frequency_chart(section: ReachFrequency) -> bytes | None:
    """Stacked horizontal bars: each campaign's households by how often they were reached."""
    if section.unavailable_reason or not section.rows or not any(r.reach for r in section.rows):
        return None
    rows = section.rows
    fig, ax = _figure(1.2 + 0.36 * len(rows))
    positions = list(range(len(rows)))
    left = [0.0] * len(rows)
    for bucket, colour in zip(FREQUENCY_BUCKETS, FREQUENCY_COLOURS, strict=True):
        widths = [r.households[bucket] for r in rows]
        label = "reached once" if bucket == "1" else f"{bucket} times"
        ax.barh(positions, widths, left=left, color=colour, label=label, height=0.7)
        left = [a + b for a, b in zip(left, widths, strict=True)]
    ax.set_yticks(positions, [_label(r.campaign_name, 34) for r in rows])
    ax.invert_yaxis()
    ax.xaxis.set_major_formatter(FuncFormatter(lambda v, _: f"{v:,.0f}"))
    ax.set_xlabel("Households reached, by how many times they heard the campaign's ads")
    fig.legend(loc="outside lower center", ncols=5, frameon=False, fontsize=8)
    _style(ax, grid_axis="x")
    return _png(fig)


def lag_chart(section: ConversionLag) -> bytes | None:
    """One line per campaign: the cumulative share of its conversions by days since first
    exposure."""
    if section.unavailable_reason or not section.curves:
        return None
    fig, ax = _figure(3.2)
    for i, curve in enumerate(section.curves):
        ax.plot(
            curve.days,
            curve.cumulative_share,
            color=CAMPAIGN_COLOURS[i % len(CAMPAIGN_COLOURS)],
            linewidth=1.8,
            label=_label(curve.campaign_name, 34),
        )
    ax.axhline(0.5, color="#888888", linewidth=0.8, linestyle="--")
    ax.set_ylim(0, 1.02)
    ax.set_xlim(left=0)
    ax.yaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_xlabel("Days since the household's first exposure to the campaign")
    ax.set_ylabel("Share of conversions")
    ax.legend(loc="lower right", fontsize=7.5, frameon=True, framealpha=0.9)
    _style(ax, grid_axis="both")
    return _png(fig)


def lift_chart(section: Incrementality) -> bytes | None:
    """Relative lift per campaign as a point with its confidence interval; campaigns without
    an estimate are named on the chart as such, not drawn as zero."""
    if section.unavailable_reason or not section.rows:
        return None
    rows = section.rows
    fig, ax = _figure(0.9 + 0.42 * len(rows))
    ax.axvline(0, color="#555555", linewidth=1)
    estimated = [(i, r) for i, r in enumerate(rows) if r.verdict != "insufficient"]
    ends = [0.0]
    for i, r in estimated:
        low = r.relative_lift_ci_low if r.relative_lift_ci_low is not None else r.relative_lift
        high = r.relative_lift_ci_high if r.relative_lift_ci_high is not None else r.relative_lift
        colour = {"lift": "#009E73", "negative": "#D55E00"}.get(r.verdict, "#555555")
        ax.errorbar(
            [r.relative_lift],
            [i],
            xerr=[[r.relative_lift - low], [high - r.relative_lift]],
            fmt="o",
            color=colour,
            ecolor=colour,
            elinewidth=2,
            capsize=4,
            markersize=6,
        )
        ends += [low, high]
    span = max(abs(v) for v in ends) or 0.5
    ax.set_xlim(-span * 1.15, span * 1.15)
    for i, r in enumerate(rows):
        if r.verdict == "insufficient":
            ax.text(
                0,
                i,
                "  not enough data to estimate  ",
                ha="center",
                va="center",
                fontsize=8,
                color="#555555",
                bbox={"boxstyle": "round,pad=0.2", "facecolor": "#F2F2F2", "edgecolor": GRID},
                zorder=5,
            )
    ax.set_yticks(range(len(rows)), [_label(r.campaign_name, 34) for r in rows])
    ax.set_ylim(len(rows) - 0.5, -0.5)
    ax.xaxis.set_major_formatter(PercentFormatter(1.0, decimals=0))
    level = next((r.confidence_level for r in rows if r.confidence_level), 0.95)
    ax.set_xlabel(f"Relative lift, with its {level:.0%} confidence interval")
    _style(ax, grid_axis="x")
    return _png(fig)


# --- drawing helpers ------------------------------------------------------------------------


def _grouped_columns(
    categories: Sequence[str],
    models: Sequence[str],
    values: dict[str, list[float]],
    ylabel: str,
    tick: FuncFormatter,
) -> bytes:
    """Side-by-side columns, one group per category and one colour per model. Columns (not
    horizontal bars) keep six models times eight shows within a third of a page."""
    n_models = max(len(models), 1)
    band = 0.82
    bar = band / n_models
    fig, ax = _figure(3.3)
    for j, model in enumerate(models):
        offsets = [i - band / 2 + bar * (j + 0.5) for i in range(len(categories))]
        ax.bar(
            offsets,
            values[model],
            width=bar * 0.9,
            color=model_colour(model, j),
            label=model_label(model),
        )
    # About as many characters as fit under one group at 7.5 pt.
    width = max(9, int(92 / max(len(categories), 1)))
    ax.set_xticks(range(len(categories)), [_label(c, width, lines=3) for c in categories])
    # At least three groups' room, centred: one show must not become a wall of colour.
    half = max(len(categories), 3) / 2
    middle = (len(categories) - 1) / 2
    ax.set_xlim(middle - half + 0.05, middle + half - 0.05)
    ax.yaxis.set_major_formatter(tick)
    ax.yaxis.set_major_locator(MaxNLocator(nbins=5))
    ax.set_ylabel(ylabel)
    fig.legend(
        loc="outside upper center",
        ncols=min(n_models, 6),
        frameon=False,
        fontsize=8,
        handlelength=1.2,
        columnspacing=1.2,
    )
    _style(ax, grid_axis="y")
    ax.tick_params(axis="x", labelsize=7.5, length=0)
    return _png(fig)


def _figure(height_in: float, ncols: int = 1):
    fig = Figure(figsize=(WIDTH_IN, height_in), dpi=DPI, layout="constrained")
    FigureCanvasAgg(fig)
    axes = fig.subplots(1, ncols)
    return fig, axes


def _style(ax, grid_axis: str) -> None:
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)
    for side in ("left", "bottom"):
        ax.spines[side].set_color("#999999")
    ax.tick_params(colors=INK, labelsize=8)
    ax.xaxis.label.set_color(INK)
    ax.xaxis.label.set_size(8.5)
    ax.yaxis.label.set_size(8.5)
    ax.set_axisbelow(True)
    ax.grid(axis=grid_axis, color=GRID, linewidth=0.7)


def _label(text: str, width: int = 26, lines: int = 2) -> str:
    """A tick label: wrapped on ``lines`` lines at most, and with ``$`` escaped so matplotlib
    does not read a show called "$100 Club" as mathematics."""
    text = " ".join(str(text).split())
    wrapped = textwrap.wrap(text, width=width) or [""]
    if len(wrapped) > lines:
        rest = " ".join(wrapped[lines - 1 :])
        wrapped = wrapped[: lines - 1] + [textwrap.shorten(rest, width=width, placeholder="…")]
    return "\n".join(wrapped).replace("$", r"\$")


def _money_tick_format(value: float, _pos: int) -> str:
    if abs(value) >= 1_000_000:
        return f"{value / 1_000_000:,.1f}M"
    if abs(value) >= 10_000:
        return f"{value / 1_000:,.0f}k"
    return f"{value:,.0f}"


_money_tick = FuncFormatter(_money_tick_format)
_ratio_tick = FuncFormatter(lambda value, _pos: f"{value:,.0f}x" if value >= 10 else f"{value:g}x")


def _png(fig: Figure) -> bytes:
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=DPI, facecolor="white")
    return buffer.getvalue()
