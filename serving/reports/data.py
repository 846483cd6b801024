"""What a tenant's weekly report shows, read from the marts (and ml.anomalies when it exists).

One dataclass per section, each with ``unavailable_reason`` set when its source table is missing
(a warehouse the pipeline, or the ML stage, has not built yet): the report then says why instead
of failing. Every query filters ``tenant_id = ?`` and runs unchanged on DuckDB and PostgreSQL
(``?`` placeholders, no engine-specific functions; numbers come back as ``Decimal`` from
PostgreSQL's numeric columns and are turned into ``float`` here).

What is weekly and what is not: conversions, their attributed revenue, downloads and anomalies
are the week's; campaign performance, reach and frequency, the lag curve and incrementality are
campaign-to-date marts (cumulative over the flight, as of the newest data), so their sections say
"flight to date".
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, field
from datetime import date, datetime
from typing import Any

from serving.reports.weeks import ReportWeek, local_day, week_of
from warehouse.connection import Warehouse, table_exists

# The order models are shown in everywhere (tables, legends, colours); a model not listed here
# (a tenant-specific one) follows, alphabetically.
MODEL_ORDER = ("first_touch", "last_touch", "linear", "time_decay", "position_based", "markov")
MODEL_LABELS = {
    "first_touch": "First touch",
    "last_touch": "Last touch",
    "linear": "Linear",
    "time_decay": "Time decay",
    "position_based": "Position based",
    "markov": "Markov",
}
HEADLINE_MODEL = "last_touch"
FREQUENCY_BUCKETS = ("1", "2", "3", "4", "5+")
SEVERITY_ORDER = ("critical", "high", "medium", "low")
# Credits on touches that carry no show (a promo code, a vanity URL, a survey answer).
NO_SHOW_LABEL = "Not tied to a show (codes, links, surveys)"


def model_label(model: str) -> str:
    return MODEL_LABELS.get(model, model.replace("_", " ").capitalize())


def order_models(models: set[str] | list[str]) -> list[str]:
    known = [m for m in MODEL_ORDER if m in models]
    return known + sorted(set(models) - set(MODEL_ORDER))


@dataclass
class DailyFigures:
    """One day of the week: observed last-touch conversions on the tenant's wall clock, and
    IAB downloads of the UTC day with the same date."""

    day: date
    conversions: int = 0
    revenue: float = 0.0
    downloads: int = 0


@dataclass
class Headline:
    """The week at a glance. Conversions and revenue are observed, under last touch."""

    conversions: int = 0
    revenue: float = 0.0
    # Conversions on non-household networks: reported beside the observed ones, never added in.
    modelled_conversions: int = 0
    modelled_revenue: float = 0.0
    downloads: int = 0
    active_campaigns: list[str] = field(default_factory=list)
    newest_conversion_ts: datetime | None = None
    newest_download_date: date | None = None
    daily: list[DailyFigures] = field(default_factory=list)
    model: str = HEADLINE_MODEL
    unavailable_reason: str | None = None


@dataclass
class ShowRevenue:
    show_id: str | None
    show_name: str
    revenue: dict[str, float]


@dataclass
class RevenueByShow:
    """Observed credited revenue of the week's conversions, per show and model."""

    models: list[str] = field(default_factory=list)
    rows: list[ShowRevenue] = field(default_factory=list)
    totals: dict[str, float] = field(default_factory=dict)
    unavailable_reason: str | None = None


@dataclass
class CampaignRoas:
    campaign_id: str
    campaign_name: str
    currency: str | None
    start_date: date | None
    end_date: date | None
    spend: float
    revenue: dict[str, float]
    roas: dict[str, float | None]


@dataclass
class RoasByCampaign:
    """Flight-to-date spend, observed revenue and ROAS per campaign and model."""

    models: list[str] = field(default_factory=list)
    rows: list[CampaignRoas] = field(default_factory=list)
    unavailable_reason: str | None = None


@dataclass
class CampaignReach:
    campaign_id: str
    campaign_name: str
    reach: int
    impressions: int
    average_frequency: float | None
    # Households reached 1, 2, 3, 4 and 5+ times (FREQUENCY_BUCKETS).
    households: dict[str, int]


@dataclass
class ReachFrequency:
    rows: list[CampaignReach] = field(default_factory=list)
    unavailable_reason: str | None = None


@dataclass
class LagCurve:
    campaign_id: str
    campaign_name: str
    total_conversions: int
    days: list[int]
    cumulative_share: list[float]

    def days_to_share(self, share: float) -> int | None:
        """The first day by which ``share`` of the conversions had happened."""
        for day, value in zip(self.days, self.cumulative_share, strict=True):
            if value >= share - 1e-12:
                return day
        return None


@dataclass
class ConversionLag:
    curves: list[LagCurve] = field(default_factory=list)
    lookback_days: int | None = None
    unavailable_reason: str | None = None


@dataclass
class IncrementalityResult:
    campaign_id: str
    campaign_name: str
    result_status: str
    matched_exposed_households: int
    matched_control_households: int
    exposed_conversion_rate: float | None
    control_conversion_rate: float | None
    relative_lift: float | None
    relative_lift_ci_low: float | None
    relative_lift_ci_high: float | None
    p_value: float | None
    confidence_level: float | None

    @property
    def verdict(self) -> str:
        """``lift``, ``negative``, ``inconclusive`` (the interval includes no lift) or
        ``insufficient`` (too few households or conversions to estimate)."""
        low, high = self.relative_lift_ci_low, self.relative_lift_ci_high
        if self.result_status != "estimated" or self.relative_lift is None:
            return "insufficient"
        if low is not None and low > 0:
            return "lift"
        if high is not None and high < 0:
            return "negative"
        return "inconclusive"


@dataclass
class Incrementality:
    """Observed rows of marts.rpt_incrementality (household-class networks)."""

    rows: list[IncrementalityResult] = field(default_factory=list)
    unavailable_reason: str | None = None


@dataclass
class Anomaly:
    detected_at_day: date
    severity: str
    metric: str
    entity_type: str
    entity_id: str
    entity_name: str
    observed: float | None
    expected: float | None
    expected_low: float | None
    expected_high: float | None
    score: float | None
    kind: str | None
    explanation: str


@dataclass
class Anomalies:
    rows: list[Anomaly] = field(default_factory=list)
    unavailable_reason: str | None = None


@dataclass
class ReportData:
    tenant_id: str
    week: ReportWeek
    tz: str
    # The week's naive UTC bounds, [start, end).
    start_utc: datetime
    end_utc: datetime
    currency: str | None
    headline: Headline
    revenue_by_show: RevenueByShow
    roas: RoasByCampaign
    reach: ReachFrequency
    lag: ConversionLag
    incrementality: Incrementality
    anomalies: Anomalies

    @property
    def data_through(self) -> date | None:
        """The newest day with data: the later of the newest conversion's and the newest
        download's (UTC) day."""
        h = self.headline
        days = [d for d in (_day(h.newest_conversion_ts), h.newest_download_date) if d]
        return max(days) if days else None

    @property
    def is_partial(self) -> bool:
        """True when the data stops before the week's Sunday: its figures are not final (a
        report built mid-week, or the pipeline has not caught up)."""
        through = self.data_through
        return through is not None and through < self.week.last_day

    def summary(self) -> dict[str, Any]:
        """The headline figures as JSON-safe values (for run metadata and message bodies),
        the ones a reader wants first, first."""
        h = self.headline
        return {
            "week": str(self.week),
            "conversions": h.conversions,
            "revenue": round(h.revenue, 2),
            "currency": self.currency,
            "downloads": h.downloads,
            "active_campaigns": len(h.active_campaigns),
            "anomalies": len(self.anomalies.rows),
            "data_through": _iso(self.data_through),
            "partial_week": self.is_partial,
            "modelled_conversions": h.modelled_conversions,
            "modelled_revenue": round(h.modelled_revenue, 2),
            "model": h.model,
            "time_zone": self.tz,
            "tenant_id": self.tenant_id,
            "newest_conversion_ts": _iso(h.newest_conversion_ts),
            "newest_download_date": _iso(h.newest_download_date),
        }


def load_report_data(wh: Warehouse, tenant_id: str, week: ReportWeek, tz: str) -> ReportData:
    """Every section of ``tenant_id``'s report for ``week`` on ``tz``'s wall clock."""
    start, end = week.utc_bounds(tz)
    tables = _Tables(wh)
    campaigns = _campaigns(wh, tenant_id, tables)
    shows = _show_names(wh, tenant_id, tables)
    currencies = Counter(c.currency for c in campaigns.values() if c.currency)
    return ReportData(
        tenant_id=tenant_id,
        week=week,
        tz=tz,
        start_utc=start,
        end_utc=end,
        currency=currencies.most_common(1)[0][0] if currencies else None,
        headline=_headline(wh, tenant_id, week, tz, tables, campaigns),
        revenue_by_show=_revenue_by_show(wh, tenant_id, start, end, tables, shows),
        roas=_roas(wh, tenant_id, week, tables, campaigns),
        reach=_reach(wh, tenant_id, week, tables, campaigns),
        lag=_lag(wh, tenant_id, week, tables, campaigns),
        incrementality=_incrementality(wh, tenant_id, week, tables, campaigns),
        anomalies=_anomalies(wh, tenant_id, week, tables, campaigns, shows),
    )


def newest_data_week(wh: Warehouse, tenant_id: str, tz: str) -> ReportWeek | None:
    """The week (on ``tz``'s wall clock) of the tenant's newest observed attributed conversion,
    the newest week whose headline has something to say; the newest conversion of any kind when
    it has no observed one; None when it has none (or the marts are not built)."""
    if not _Tables(wh).exists("marts", "fct_attribution_credits"):
        return None
    newest_observed, newest_any = wh.fetch(
        "select max(case when is_observed then conversion_ts end), max(conversion_ts) "
        "from marts.fct_attribution_credits where tenant_id = ?",
        [tenant_id],
    )[0]
    newest = newest_observed or newest_any
    return week_of(newest, tz) if newest is not None else None


# --- sources --------------------------------------------------------------------------------


class _Tables:
    """Which tables exist, asked once each (information_schema answers on both engines)."""

    def __init__(self, wh: Warehouse) -> None:
        self.wh = wh
        self.known: dict[tuple[str, str], bool] = {}

    def exists(self, schema: str, table: str) -> bool:
        key = (schema, table)
        if key not in self.known:
            self.known[key] = table_exists(self.wh, schema, table)
        return self.known[key]

    def missing(self, *names: str) -> str | None:
        """Why a section cannot be shown: the first of ``names`` (schema.table) that is missing."""
        for name in names:
            schema, table = name.split(".")
            if not self.exists(schema, table):
                return (
                    f"{name} does not exist in this warehouse yet: the pipeline has not built "
                    "it (run `earshot run --tenant <tenant>`)."
                )
        return None


@dataclass
class _Campaign:
    campaign_id: str
    name: str
    currency: str | None
    start_date: date | None
    end_date: date | None


def _campaigns(wh: Warehouse, tenant_id: str, tables: _Tables) -> dict[str, _Campaign]:
    if not tables.exists("marts", "dim_campaigns"):
        return {}
    rows = wh.fetch(
        "select campaign_id, campaign_name, currency, start_date, end_date "
        "from marts.dim_campaigns where tenant_id = ? order by start_date, campaign_name",
        [tenant_id],
    )
    return {r[0]: _Campaign(r[0], r[1] or r[0], r[2], _day(r[3]), _day(r[4])) for r in rows}


def _show_names(wh: Warehouse, tenant_id: str, tables: _Tables) -> dict[str, str]:
    if not tables.exists("marts", "dim_shows"):
        return {}
    rows = wh.fetch(
        "select show_id, show_name from marts.dim_shows where tenant_id = ?", [tenant_id]
    )
    return {r[0]: r[1] or r[0] for r in rows}


def _started_by(campaigns: dict[str, _Campaign], week: ReportWeek) -> dict[str, _Campaign]:
    """Campaigns whose flight began by the week's last day: a later campaign has nothing to
    report for this week (and, for a past week, would show figures from after it)."""
    return {
        cid: c
        for cid, c in campaigns.items()
        if c.start_date is None or c.start_date <= week.last_day
    }


def _campaign_order(campaign_ids: set[str], campaigns: dict[str, _Campaign]) -> list[str]:
    known = [cid for cid in campaigns if cid in campaign_ids]
    return known + sorted(campaign_ids - set(known))


def _name(campaigns: dict[str, _Campaign], campaign_id: str) -> str:
    campaign = campaigns.get(campaign_id)
    return campaign.name if campaign else campaign_id


def _headline(
    wh: Warehouse,
    tenant_id: str,
    week: ReportWeek,
    tz: str,
    tables: _Tables,
    campaigns: dict[str, _Campaign],
) -> Headline:
    reason = tables.missing("marts.fct_attribution_credits", "marts.fct_episode_downloads_daily")
    if reason:
        return Headline(unavailable_reason=reason)
    start, end = week.utc_bounds(tz)
    # Last touch keeps one row per attributed conversion (credit 1), so counting conversions
    # and summing their credited revenue gives the week's attributed conversions and revenue.
    week_rows = wh.fetch(
        "select"
        " count(distinct case when is_observed then conversion_id end),"
        " sum(case when is_observed then credited_revenue end),"
        " count(distinct case when not is_observed then conversion_id end),"
        " sum(case when not is_observed then credited_revenue end) "
        "from marts.fct_attribution_credits "
        "where tenant_id = ? and model = ? and conversion_ts >= ? and conversion_ts < ?",
        [tenant_id, HEADLINE_MODEL, start, end],
    )[0]
    daily = {day: DailyFigures(day) for day in week.days()}
    # Per day on the tenant's clock: the conversions' UTC timestamps are converted here (a
    # week holds few enough conversions), not in SQL, where time zones differ by engine.
    for ts, revenue in wh.fetch(
        "select conversion_ts, credited_revenue from marts.fct_attribution_credits "
        "where tenant_id = ? and model = ? and is_observed"
        " and conversion_ts >= ? and conversion_ts < ?",
        [tenant_id, HEADLINE_MODEL, start, end],
    ):
        figures = daily[local_day(ts, tz)]
        figures.conversions += 1
        figures.revenue += _float(revenue) or 0.0
    for day, downloads in wh.fetch(
        "select download_date, sum(downloads) from marts.fct_episode_downloads_daily "
        "where tenant_id = ? and download_date >= ? and download_date <= ? "
        "group by download_date",
        [tenant_id, week.first_day, week.last_day],
    ):
        daily[_day(day)].downloads = int(downloads or 0)
    newest_conversion = wh.fetch(
        "select max(conversion_ts) from marts.fct_attribution_credits where tenant_id = ?",
        [tenant_id],
    )[0][0]
    newest_download = wh.fetch(
        "select max(download_date) from marts.fct_episode_downloads_daily "
        "where tenant_id = ? and downloads > 0",
        [tenant_id],
    )[0][0]
    active = [
        c.name
        for c in campaigns.values()
        if c.start_date is not None
        and c.end_date is not None
        and c.start_date <= week.last_day
        and c.end_date >= week.first_day
    ]
    return Headline(
        conversions=int(week_rows[0] or 0),
        revenue=_float(week_rows[1]) or 0.0,
        modelled_conversions=int(week_rows[2] or 0),
        modelled_revenue=_float(week_rows[3]) or 0.0,
        downloads=sum(d.downloads for d in daily.values()),
        active_campaigns=active,
        newest_conversion_ts=newest_conversion,
        newest_download_date=_day(newest_download),
        daily=list(daily.values()),
    )


def _revenue_by_show(
    wh: Warehouse,
    tenant_id: str,
    start: datetime,
    end: datetime,
    tables: _Tables,
    shows: dict[str, str],
) -> RevenueByShow:
    reason = tables.missing("marts.fct_attribution_credits")
    if reason:
        return RevenueByShow(unavailable_reason=reason)
    rows = wh.fetch(
        "select show_id, model, sum(credited_revenue) "
        "from marts.fct_attribution_credits "
        "where tenant_id = ? and is_observed and conversion_ts >= ? and conversion_ts < ? "
        "group by show_id, model",
        [tenant_id, start, end],
    )
    # Every model present in the tenant's credits, even one with nothing this week.
    models = order_models(
        {
            r[0]
            for r in wh.fetch(
                "select distinct model from marts.fct_attribution_credits where tenant_id = ?",
                [tenant_id],
            )
        }
    )
    by_show: dict[str | None, dict[str, float]] = {}
    for show_id, model, revenue in rows:
        by_show.setdefault(show_id, {})[model] = _float(revenue) or 0.0
    # Biggest shows first, by the headline model (or, without it, by any model).
    ranking = HEADLINE_MODEL if HEADLINE_MODEL in models else None

    def sort_key(item: tuple[str | None, dict[str, float]]) -> tuple[float, str]:
        show_id, revenue = item
        lead = revenue.get(ranking, 0.0) if ranking else max(revenue.values(), default=0.0)
        return (-lead, shows.get(show_id or "", show_id or "~"))

    result = [
        ShowRevenue(
            show_id=show_id,
            show_name=shows.get(show_id, show_id) if show_id is not None else NO_SHOW_LABEL,
            revenue={m: revenue.get(m, 0.0) for m in models},
        )
        for show_id, revenue in sorted(by_show.items(), key=sort_key)
    ]
    totals = {m: sum(r.revenue[m] for r in result) for m in models}
    return RevenueByShow(models=models, rows=result, totals=totals)


def _roas(
    wh: Warehouse,
    tenant_id: str,
    week: ReportWeek,
    tables: _Tables,
    campaigns: dict[str, _Campaign],
) -> RoasByCampaign:
    reason = tables.missing("marts.fct_campaign_performance", "marts.dim_campaigns")
    if reason:
        return RoasByCampaign(unavailable_reason=reason)
    shown = _started_by(campaigns, week)
    rows = wh.fetch(
        "select campaign_id, model, spend, revenue, roas "
        "from marts.fct_campaign_performance where tenant_id = ?",
        [tenant_id],
    )
    spend: dict[str, float] = {}
    revenue: dict[str, dict[str, float]] = {}
    roas: dict[str, dict[str, float | None]] = {}
    models: set[str] = set()
    for campaign_id, model, row_spend, row_revenue, row_roas in rows:
        if campaign_id not in shown:
            continue
        models.add(model)
        spend[campaign_id] = _float(row_spend) or 0.0
        revenue.setdefault(campaign_id, {})[model] = _float(row_revenue) or 0.0
        roas.setdefault(campaign_id, {})[model] = _float(row_roas)
    ordered = order_models(models)
    result = []
    for cid in _campaign_order(set(spend), shown):
        campaign = shown[cid]
        result.append(
            CampaignRoas(
                campaign_id=cid,
                campaign_name=campaign.name,
                currency=campaign.currency,
                start_date=campaign.start_date,
                end_date=campaign.end_date,
                spend=spend[cid],
                revenue={m: revenue[cid].get(m, 0.0) for m in ordered},
                roas={m: roas[cid].get(m) for m in ordered},
            )
        )
    return RoasByCampaign(models=ordered, rows=result)


def _reach(
    wh: Warehouse,
    tenant_id: str,
    week: ReportWeek,
    tables: _Tables,
    campaigns: dict[str, _Campaign],
) -> ReachFrequency:
    reason = tables.missing("marts.rpt_reach_frequency")
    if reason:
        return ReachFrequency(unavailable_reason=reason)
    shown = _started_by(campaigns, week)
    rows = wh.fetch(
        "select campaign_id, reach, impressions, average_frequency, households_1, households_2,"
        " households_3, households_4, households_5_plus "
        "from marts.rpt_reach_frequency where tenant_id = ? and scope = 'campaign'",
        [tenant_id],
    )
    by_id = {r[0]: r for r in rows if r[0] in shown or not campaigns}
    result = [
        CampaignReach(
            campaign_id=cid,
            campaign_name=_name(campaigns, cid),
            reach=int(by_id[cid][1] or 0),
            impressions=int(by_id[cid][2] or 0),
            average_frequency=_float(by_id[cid][3]),
            households={
                bucket: int(value or 0)
                for bucket, value in zip(FREQUENCY_BUCKETS, by_id[cid][4:9], strict=True)
            },
        )
        for cid in _campaign_order(set(by_id), shown)
    ]
    return ReachFrequency(rows=result)


def _lag(
    wh: Warehouse,
    tenant_id: str,
    week: ReportWeek,
    tables: _Tables,
    campaigns: dict[str, _Campaign],
) -> ConversionLag:
    reason = tables.missing("marts.rpt_conversion_lag")
    if reason:
        return ConversionLag(unavailable_reason=reason)
    shown = _started_by(campaigns, week)
    rows = wh.fetch(
        "select campaign_id, days_since_first_exposure, cumulative_share, total_conversions,"
        " lookback_days "
        "from marts.rpt_conversion_lag where tenant_id = ? "
        "order by campaign_id, days_since_first_exposure",
        [tenant_id],
    )
    points: dict[str, list[tuple[int, float]]] = {}
    totals: dict[str, int] = {}
    lookback: int | None = None
    for campaign_id, day, share, total, lookback_days in rows:
        if campaigns and campaign_id not in shown:
            continue
        points.setdefault(campaign_id, []).append((int(day), _float(share) or 0.0))
        totals[campaign_id] = int(total or 0)
        if lookback_days is not None:
            lookback = int(_float(lookback_days) or 0)
    curves = [
        LagCurve(
            campaign_id=cid,
            campaign_name=_name(campaigns, cid),
            total_conversions=totals[cid],
            days=[d for d, _ in points[cid]],
            cumulative_share=[s for _, s in points[cid]],
        )
        for cid in _campaign_order(set(points), shown)
        if totals[cid] > 0
    ]
    return ConversionLag(curves=curves, lookback_days=lookback)


def _incrementality(
    wh: Warehouse,
    tenant_id: str,
    week: ReportWeek,
    tables: _Tables,
    campaigns: dict[str, _Campaign],
) -> Incrementality:
    reason = tables.missing("marts.rpt_incrementality")
    if reason:
        return Incrementality(unavailable_reason=reason)
    shown = _started_by(campaigns, week)
    rows = wh.fetch(
        "select campaign_id, result_status, matched_exposed_households,"
        " matched_control_households, exposed_conversion_rate, control_conversion_rate,"
        " relative_lift, relative_lift_ci_low, relative_lift_ci_high, p_value, confidence_level "
        "from marts.rpt_incrementality where tenant_id = ? and is_observed",
        [tenant_id],
    )
    by_id = {r[0]: r for r in rows if r[0] in shown or not campaigns}
    result = []
    for cid in _campaign_order(set(by_id), shown):
        r = by_id[cid]
        result.append(
            IncrementalityResult(
                campaign_id=cid,
                campaign_name=_name(campaigns, cid),
                result_status=r[1],
                matched_exposed_households=int(r[2] or 0),
                matched_control_households=int(r[3] or 0),
                exposed_conversion_rate=_float(r[4]),
                control_conversion_rate=_float(r[5]),
                relative_lift=_float(r[6]),
                relative_lift_ci_low=_float(r[7]),
                relative_lift_ci_high=_float(r[8]),
                p_value=_float(r[9]),
                confidence_level=_float(r[10]),
            )
        )
    return Incrementality(rows=result)


def _anomalies(
    wh: Warehouse,
    tenant_id: str,
    week: ReportWeek,
    tables: _Tables,
    campaigns: dict[str, _Campaign],
    shows: dict[str, str],
) -> Anomalies:
    if not tables.exists("ml", "anomalies"):
        return Anomalies(
            unavailable_reason=(
                "Anomaly detection has not run for this warehouse (ml.anomalies does not "
                "exist): the ML stage builds it (`earshot ml run`)."
            )
        )
    severity_rank = " ".join(f"when '{s}' then {i}" for i, s in enumerate(SEVERITY_ORDER))
    rows = wh.fetch(
        "select detected_at_day, severity, metric, entity_type, entity_id, observed, expected,"
        " expected_low, expected_high, score, kind, explanation "
        "from ml.anomalies "
        "where tenant_id = ? and detected_at_day >= ? and detected_at_day <= ? "
        f"order by case severity {severity_rank} else {len(SEVERITY_ORDER)} end,"
        " score desc, detected_at_day, metric, entity_id",
        [tenant_id, week.first_day, week.last_day],
    )
    names = {"show": shows, "campaign": {cid: c.name for cid, c in campaigns.items()}}
    return Anomalies(
        rows=[
            Anomaly(
                detected_at_day=_day(r[0]),
                severity=r[1],
                metric=r[2],
                entity_type=r[3],
                entity_id=r[4],
                entity_name=names.get(r[3], {}).get(r[4], r[4]),
                observed=_float(r[5]),
                expected=_float(r[6]),
                expected_low=_float(r[7]),
                expected_high=_float(r[8]),
                score=_float(r[9]),
                kind=r[10],
                explanation=r[11] or "",
            )
            for r in rows
        ]
    )


def _float(value: Any) -> float | None:
    # PostgreSQL's numeric columns arrive as Decimal; the report computes and charts floats.
    return None if value is None else float(value)


def _day(value: Any) -> date | None:
    if value is None:
        return None
    return value.date() if isinstance(value, datetime) else value


def _iso(value: date | datetime | None) -> str | None:
    return value.isoformat() if value is not None else None
