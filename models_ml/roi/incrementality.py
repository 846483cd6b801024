"""How much of a show's attributed revenue the ads caused, from ``marts.rpt_incrementality``.

Attribution credits every order that followed an ad, including the orders exposed households
would have placed anyway. The incrementality mart compares each campaign's matched exposed
households with re-weighted controls from the same shows' audience. From its observed rows the
family takes, per campaign, the exposed conversions ``E = p_e × n_e`` and the conversions the
same households would have made without the ad ``B = p_c × n_e``; the share of conversions
the ads caused is ``1 - B / E``.

One campaign's share is noisy (the mart marks most campaigns of a small tenant
``insufficient_sample``, and keeps their rates), so the shares are pooled: the tenant's share is
``1 - ΣB / ΣE`` over its campaigns, and a campaign's share is shrunk towards it as if the
tenant's share were worth :data:`PRIOR_CONVERSIONS` more conversions,
``(E - B + k × tenant share) / (E + k)``, clipped to [0, 1]. A show's share is the mean of its
campaigns' shares weighted by what each campaign spent on the show.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import pandas as pd

# How many conversions' worth of weight the tenant's pooled share has against a campaign's own.
PRIOR_CONVERSIONS = 30.0


@dataclass(frozen=True)
class IncrementalShares:
    """Share of attributed revenue counted as incremental: per campaign, and the tenant's."""

    tenant: float | None
    by_campaign: dict[str, float]

    def for_campaign(self, campaign_id: str) -> float | None:
        return self.by_campaign.get(campaign_id, self.tenant)


def incremental_shares(rows: pd.DataFrame, prior: float = PRIOR_CONVERSIONS) -> IncrementalShares:
    """Pooled and per-campaign incremental shares from the mart's observed rows."""
    usable = rows.dropna(
        subset=["matched_exposed_households", "exposed_conversion_rate", "control_conversion_rate"]
    )
    exposed = usable["exposed_conversion_rate"] * usable["matched_exposed_households"]
    expected = usable["control_conversion_rate"] * usable["matched_exposed_households"]
    total_exposed = float(exposed.sum())
    if total_exposed <= 0:
        return IncrementalShares(None, {})
    tenant = float(np.clip(1.0 - float(expected.sum()) / total_exposed, 0.0, 1.0))
    shares = (exposed - expected + prior * tenant) / (exposed + prior)
    by_campaign = {
        str(c): float(np.clip(s, 0.0, 1.0))
        for c, s in zip(usable["campaign_id"], shares, strict=True)
    }
    return IncrementalShares(tenant, by_campaign)


def show_shares(placements: pd.DataFrame, shares: IncrementalShares) -> pd.Series:
    """Per show, its campaigns' shares weighted by their cost on the show (NaN: no estimate)."""
    spend = placements.groupby(["show_id", "campaign_id"])["cost"].sum().reset_index()
    spend["share"] = [shares.for_campaign(str(c)) for c in spend["campaign_id"]]
    spend = spend.dropna(subset=["share"])
    spend = spend[spend["cost"] > 0]
    if spend.empty:
        return pd.Series(dtype=float)
    weighted = (spend["share"] * spend["cost"]).groupby(spend["show_id"]).sum()
    return (weighted / spend.groupby("show_id")["cost"].sum()).astype(float)
