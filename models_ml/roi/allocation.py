"""Spread a budget over shows to maximise predicted incremental revenue, under constraints.

Every show first gets its minimum; the rest of the budget goes out in equal increments
(``budget / steps``), each to the show whose next increment earns the most (the slope of its
response curve, ``a / b × exp(-spend / b)``), until the budget is spent or every show is at its
upper limit. Because every curve is concave, this greedy marginal-return allocation is optimal
up to one increment. Ties go to the show id that sorts first, so the result is deterministic.

A show's upper limit is the smaller of ``max_share × budget`` and its frequency-cap spend; its
minimum is ``min_share × budget``, lowered to the upper limit when the show cannot absorb it and
scaled down for every show when the minimums together exceed the budget.
"""

from __future__ import annotations

import heapq
import math
from dataclasses import dataclass

import pandas as pd

from models_ml.roi.response import response_revenue

BINDING_MIN = "min"
BINDING_MAX = "max"
BINDING_FREQUENCY_CAP = "frequency_cap"
BINDING_NONE = "none"


@dataclass(frozen=True)
class AllocationSettings:
    """The allocator's parameters (documented in docs/user/ml/roi.md).

    ``budget``: what to spread over ``period_days``; None takes the tenant's spend on placements
    that started in the last ``period_days`` days up to its latest placement.
    """

    budget: float | None = None
    period_days: int = 30
    min_share: float = 0.02
    max_share: float = 0.40
    frequency_cap_per_week: float = 3.0
    steps: int = 1000

    def __post_init__(self) -> None:
        if not 0 <= self.min_share <= self.max_share <= 1:
            raise ValueError("need 0 <= min_share <= max_share <= 1")
        if self.period_days < 1 or self.steps < 1 or self.frequency_cap_per_week <= 0:
            raise ValueError("period_days, steps and frequency_cap_per_week must be positive")
        if self.budget is not None and self.budget < 0:
            raise ValueError("the budget cannot be negative")


def default_budget(frame: pd.DataFrame, period_days: int) -> float:
    """The tenant's spend on placements started in the last ``period_days`` days up to its
    latest placement start."""
    priced = frame[(frame["cost"] > 0) & frame["start"].notna()]
    if priced.empty:
        return 0.0
    last = priced["start"].max()
    recent = priced[priced["start"] > last - pd.Timedelta(days=period_days)]
    return float(recent["cost"].sum())


def _marginal(a: float, b: float, spend: float) -> float:
    return 0.0 if b <= 0 else a / b * math.exp(-spend / b)


def allocate(shows: pd.DataFrame, budget: float, settings: AllocationSettings) -> pd.DataFrame:
    """The allocation per show of ``shows`` (show_responses' rows: ``show_id``,
    ``saturation_revenue``, ``saturation_spend``, ``frequency_cap_spend``).

    Returns one row per show: ``show_id``, ``budget_total``, ``allocated_spend``,
    ``min_spend``, ``max_spend``, ``predicted_incremental_revenue``, ``predicted_roas``
    (incremental revenue per unit of allocated spend; null without spend) and
    ``binding_constraint`` (``min``, ``max``, ``frequency_cap`` or ``none``).
    """
    shows = shows.sort_values("show_id").reset_index(drop=True)
    count = len(shows)
    if count == 0:
        return pd.DataFrame()
    share_max = settings.max_share * budget
    uppers = [min(share_max, float(cap)) for cap in shows["frequency_cap_spend"]]
    mins = [min(settings.min_share * budget, upper) for upper in uppers]
    if sum(mins) > budget > 0:
        scale = budget / sum(mins)
        mins = [m * scale for m in mins]
    spend = list(mins)
    a = shows["saturation_revenue"].astype(float).tolist()
    b = shows["saturation_spend"].astype(float).tolist()

    step = budget / settings.steps if budget > 0 else 0.0
    remaining = budget - sum(spend)
    # Max-heap of next-increment returns; the show index breaks ties (shows are sorted by id).
    heap = [(-_marginal(a[i], b[i], spend[i]), i) for i in range(count) if spend[i] < uppers[i]]
    heapq.heapify(heap)
    tolerance = max(budget, 1.0) * 1e-9
    while heap and remaining > tolerance:
        _, i = heapq.heappop(heap)
        amount = min(step, remaining, uppers[i] - spend[i])
        spend[i] += amount
        remaining -= amount
        if uppers[i] - spend[i] > tolerance:
            heapq.heappush(heap, (-_marginal(a[i], b[i], spend[i]), i))

    rows = []
    for i, show in enumerate(shows["show_id"]):
        revenue = response_revenue(a[i], b[i], spend[i])
        if uppers[i] - spend[i] <= tolerance:
            binding = BINDING_FREQUENCY_CAP if uppers[i] < share_max else BINDING_MAX
        elif mins[i] > 0 and spend[i] - mins[i] <= tolerance:
            binding = BINDING_MIN
        else:
            binding = BINDING_NONE
        rows.append(
            {
                "show_id": show,
                "budget_total": float(budget),
                "allocated_spend": float(spend[i]),
                "min_spend": float(mins[i]),
                "max_spend": float(uppers[i]),
                "predicted_incremental_revenue": revenue,
                "predicted_roas": revenue / spend[i] if spend[i] > 0 else None,
                "binding_constraint": binding,
            }
        )
    return pd.DataFrame(rows)
