"""The per-campaign table the demo prints: delivery and spend, then the six models."""

from __future__ import annotations

from warehouse.connection import Warehouse

# Print order: the five rule-based models, then the data-driven one.
MODELS = ("first_touch", "last_touch", "linear", "time_decay", "position_based", "markov")

_QUERY = """
select
    p.tenant_id,
    p.campaign_id,
    coalesce(c.campaign_name, p.campaign_id) as campaign_name,
    p.model,
    p.impressions,
    p.reach,
    p.spend,
    p.conversions,
    p.revenue,
    p.roas
from marts.fct_campaign_performance as p
left join marts.dim_campaigns as c
    on c.tenant_id = p.tenant_id and c.campaign_id = p.campaign_id
where p.tenant_id = ?
order by p.campaign_id, p.model
"""


def campaign_rows(wh: Warehouse, tenant_id: str) -> list[dict]:
    cols, rows = wh.fetch_columns(_QUERY, [tenant_id])
    return [dict(zip(cols, r, strict=True)) for r in rows]


def format_campaign_table(rows: list[dict]) -> str:
    """One block per campaign: impressions, reach, spend; one line per model."""
    header = (
        f"{'campaign':<28} {'impressions':>11} {'reach':>8} {'spend':>11}  "
        f"{'model':<15} {'conversions':>11} {'revenue':>12} {'ROAS':>7}"
    )
    lines = [header, "-" * len(header)]
    by_campaign: dict[str, list[dict]] = {}
    for r in rows:
        by_campaign.setdefault(r["campaign_id"], []).append(r)
    for _, group in sorted(by_campaign.items()):
        group.sort(key=lambda r: MODELS.index(r["model"]) if r["model"] in MODELS else 99)
        first = group[0]
        for i, r in enumerate(group):
            left = (
                f"{first['campaign_name'][:28]:<28} {int(first['impressions'] or 0):>11,} "
                f"{int(first['reach'] or 0):>8,} {float(first['spend'] or 0):>11,.2f}"
                if i == 0
                else " " * 61
            )
            roas = "" if r["roas"] is None else f"{float(r['roas']):.2f}"
            lines.append(
                f"{left}  {r['model']:<15} {float(r['conversions'] or 0):>11.2f} "
                f"{float(r['revenue'] or 0):>12,.2f} {roas:>7}"
            )
    return "\n".join(lines)
