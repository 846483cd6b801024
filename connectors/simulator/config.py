"""The knobs of a simulated world, and the presets that size it.

Every rate has a source in docs/developer/simulator.md. The only departure from the published
benchmarks is ``effect_scale``: real incremental purchase rates (0.043% of reach) are too small to
be seen in a world of a few thousand households, so small presets multiply them.
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields, replace
from datetime import UTC, date, datetime, timedelta
from pathlib import Path

# The response-lag curve of podcast advertising (share of a 60-day response reached by each day).
RESPONSE_LAG_DAYS: tuple[float, ...] = (0.0, 1.0, 7.0, 30.0, 60.0)
RESPONSE_LAG_SHARE: tuple[float, ...] = (0.0, 0.328, 0.580, 0.874, 1.0)


def _yesterday_utc() -> date:
    return datetime.now(UTC).date() - timedelta(days=1)


def _default_end() -> date:
    return _yesterday_utc()


def _default_start() -> date:
    return _yesterday_utc() - timedelta(days=89)


@dataclass(frozen=True)
class WorldConfig:
    """Everything that decides a simulated world; the same config always gives the same files."""

    seed: int = 0
    tenant_id: str = "demo"
    # The simulated period, both days included (UTC). Default: the 90 days ending yesterday.
    start_date: date = field(default_factory=_default_start)
    end_date: date = field(default_factory=_default_end)

    # Catalogue.
    shows: int = 12
    episodes_per_show: int = 16
    campaigns: int = 6
    # Each campaign buys ads on this many shows (capped at the number of shows).
    shows_per_campaign: int = 3
    # Share of a bought show's episodes (published in or just before the flight) that carry the ad.
    placement_coverage: float = 0.8
    currency: str = "USD"

    # Audience.
    households: int = 20_000
    # Share of households that listen to podcasts at all; the rest only shop.
    listener_share: float = 0.6
    # Share of households whose network also speaks IPv6 (dual stack).
    ipv6_share: float = 0.35
    # Share of a dual-stack household's traffic that goes over IPv6.
    ipv6_traffic_share: float = 0.75

    # Traffic.
    target_requests: int = 300_000
    # Bot listens per human listen (bots fetch from data-centre IPs).
    bot_share: float = 0.04
    # Share of listens that stop before the end of the file.
    partial_listen_share: float = 0.18
    # Chance that an iPhone listen in a household with an Apple Watch is downloaded again by it.
    watch_duplicate_share: float = 0.35
    # Listens by households that do not follow the show (discovery, shared links).
    discovery_share: float = 0.1

    # Commerce.
    # Mean baseline (non-podcast) orders per household over the whole period.
    baseline_orders_per_household: float = 0.16
    # Gamma shape of the household propensity: small = a few households buy most.
    baseline_propensity_shape: float = 0.5
    # Browsing sessions without an order, per baseline order.
    browse_sessions_per_order: float = 2.0
    # Incremental purchases per exposed household (Podsights Q1 2023: 0.043% of reach) ...
    incremental_purchase_rate: float = 0.00043
    # ... and incremental site visitors per exposed household (Podsights: 1.21% of reach).
    visitor_rate: float = 0.0121
    # Multiplies both of the above so that small worlds show the effect; 1.0 = published rates.
    effect_scale: float = 100.0
    # Spread of the campaign-specific effect around the mean (lognormal sigma).
    effect_spread: float = 0.5
    mean_order_value: float = 78.0
    # Stretches the response-lag curve (RESPONSE_LAG_DAYS): 2.0 = every lag twice as long, so
    # fewer caused orders fall inside a 30-day attribution window. 1.0 = the published curve.
    response_lag_scale: float = 1.0

    # Transcripts: share of placements whose sponsor read has a fault (missing, at another
    # position, or with a wrong promo code; split evenly), see transcripts.py.
    transcript_fault_share: float = 0.12

    # Output.
    part_rows: int = 4_000_000
    # Reference ranges of non-household networks; None = the dbt seed of this repository.
    ip_ranges_path: Path | None = None

    def __post_init__(self) -> None:
        problems: list[str] = []
        if self.seed < 0:
            problems.append(f"seed must be >= 0, got {self.seed}")
        if not self.tenant_id:
            problems.append("tenant_id must not be empty")
        if self.end_date < self.start_date:
            problems.append(f"end_date {self.end_date} is before start_date {self.start_date}")
        for name in ("shows", "episodes_per_show", "campaigns", "households", "target_requests"):
            if getattr(self, name) < 1:
                problems.append(f"{name} must be >= 1, got {getattr(self, name)}")
        for name in (
            "listener_share",
            "ipv6_share",
            "ipv6_traffic_share",
            "partial_listen_share",
            "watch_duplicate_share",
            "discovery_share",
            "placement_coverage",
            "transcript_fault_share",
        ):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                problems.append(f"{name} must be within [0, 1], got {value}")
        for name in (
            "bot_share",
            "baseline_orders_per_household",
            "browse_sessions_per_order",
            "incremental_purchase_rate",
            "visitor_rate",
            "effect_scale",
            "effect_spread",
        ):
            if getattr(self, name) < 0:
                problems.append(f"{name} must be >= 0, got {getattr(self, name)}")
        if self.response_lag_scale <= 0:
            problems.append(f"response_lag_scale must be > 0, got {self.response_lag_scale}")
        if self.baseline_propensity_shape <= 0 or self.mean_order_value <= 0:
            problems.append("baseline_propensity_shape and mean_order_value must be > 0")
        if self.part_rows < 1000:
            problems.append(f"part_rows must be >= 1000, got {self.part_rows}")
        if problems:
            raise ValueError("invalid WorldConfig: " + "; ".join(problems))

    @property
    def days(self) -> int:
        return (self.end_date - self.start_date).days + 1

    @property
    def period_start(self) -> datetime:
        return datetime(
            self.start_date.year, self.start_date.month, self.start_date.day, tzinfo=UTC
        )

    @property
    def period_end(self) -> datetime:
        """Exclusive end of the period: midnight after end_date."""
        return self.period_start + timedelta(days=self.days)

    # The presets, also reachable from the class (WorldConfig.tiny(...)).
    @staticmethod
    def tiny(seed: int = 0, tenant_id: str = "tiny", **changes: object) -> WorldConfig:
        return tiny(seed, tenant_id, **changes)

    @staticmethod
    def demo(seed: int = 0, tenant_id: str = "demo", **changes: object) -> WorldConfig:
        return demo(seed, tenant_id, **changes)

    @staticmethod
    def for_requests(
        n: int, seed: int = 0, tenant_id: str = "demo", **changes: object
    ) -> WorldConfig:
        return for_requests(n, seed, tenant_id, **changes)

    def with_changes(self, **changes: object) -> WorldConfig:
        known = {f.name for f in fields(self)}
        unknown = sorted(set(changes) - known)
        if unknown:
            raise ValueError(f"unknown WorldConfig fields: {', '.join(unknown)}")
        return replace(self, **changes)  # type: ignore[arg-type]


def tiny(seed: int = 0, tenant_id: str = "tiny", **changes: object) -> WorldConfig:
    """A few thousand requests: for unit tests. The effect is scaled up so that most campaigns
    still get caused (and so attributable) orders in a world of a few hundred households."""
    base = WorldConfig(
        seed=seed,
        tenant_id=tenant_id,
        shows=3,
        episodes_per_show=10,
        campaigns=3,
        shows_per_campaign=2,
        households=300,
        listener_share=0.8,
        target_requests=5_000,
        effect_scale=400.0,
        effect_spread=0.25,
        part_rows=1_000,
    )
    return base.with_changes(**changes) if changes else base


def demo(seed: int = 0, tenant_id: str = "demo", **changes: object) -> WorldConfig:
    """About 300k requests, a few seconds: the embedded demo."""
    base = WorldConfig(seed=seed, tenant_id=tenant_id)
    return base.with_changes(**changes) if changes else base


def for_requests(n: int, seed: int = 0, tenant_id: str = "demo", **changes: object) -> WorldConfig:
    """A world sized for ``n`` download requests: one household per 16 requests, so that orders
    come to about one per 100 requests (about 1M at 100M requests)."""
    if n < 1000:
        raise ValueError(f"for_requests needs at least 1000 requests, got {n}")
    base = WorldConfig(
        seed=seed,
        tenant_id=tenant_id,
        shows=int(min(300, max(10, n // 400_000))),
        episodes_per_show=24,
        campaigns=int(min(60, max(6, n // 2_000_000))),
        households=max(500, n // 16),
        target_requests=n,
        # Large worlds have the households to see a smaller effect.
        effect_scale=100.0 if n < 3_000_000 else 30.0,
    )
    return base.with_changes(**changes) if changes else base
