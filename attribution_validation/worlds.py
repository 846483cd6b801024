"""The simulated worlds the validator runs: scenarios that differ in true effect size and lag.

Each scenario is a set of changes to a simulator preset (connectors/simulator/config.py); its
world is simulated as its own tenant, ``validate_<scenario>``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from connectors.simulator import WorldConfig

PRESETS = ("tiny", "demo")
TENANT_PREFIX = "validate_"


@dataclass(frozen=True)
class Scenario:
    name: str
    description: str
    # WorldConfig fields changed from the preset; effect_scale multiplies the preset's own.
    effect_multiplier: float = 1.0
    changes: dict[str, float] = field(default_factory=dict)

    @property
    def tenant_id(self) -> str:
        return f"{TENANT_PREFIX}{self.name}"

    def config(self, preset: str, seed: int) -> WorldConfig:
        """The world of this scenario on ``preset``, seeded with ``seed``."""
        if preset not in PRESETS:
            raise ValueError(f"unknown preset {preset!r}; expected one of {', '.join(PRESETS)}")
        base: WorldConfig = getattr(WorldConfig, preset)(seed=seed, tenant_id=self.tenant_id)
        return base.with_changes(
            effect_scale=base.effect_scale * self.effect_multiplier, **self.changes
        )


# In the order `--worlds N` takes them: the first three already differ in effect and lag.
SCENARIOS: tuple[Scenario, ...] = (
    Scenario("reference", "the preset as published: effect and lag curve unchanged"),
    Scenario(
        "small_effect",
        "a third of the preset's true effect: caused orders are few against the baseline",
        effect_multiplier=1 / 3,
    ),
    Scenario(
        "long_lag",
        "every response lag three times as long: 58% of responses by day 21, a third after the "
        "30-day window",
        changes={"response_lag_scale": 3.0},
    ),
    Scenario(
        "large_effect",
        "three times the preset's true effect: caused orders dominate the exposed households'",
        effect_multiplier=3.0,
    ),
    Scenario(
        "short_lag",
        "every response lag a third as long: most responses within two days",
        changes={"response_lag_scale": 1 / 3},
    ),
)


def scenario(name: str) -> Scenario:
    for s in SCENARIOS:
        if s.name == name:
            return s
    known = ", ".join(s.name for s in SCENARIOS)
    raise ValueError(f"unknown validation scenario {name!r}; expected one of {known}")


def select_scenarios(names: list[str] | None, worlds: int | None) -> list[Scenario]:
    """The scenarios named (in that order), or the first ``worlds`` of SCENARIOS (default 3)."""
    if names:
        if worlds is not None:
            raise ValueError("give either --worlds or --scenario, not both")
        chosen = [scenario(n) for n in names]
        if len({s.name for s in chosen}) != len(chosen):
            raise ValueError("a --scenario is named twice")
        return chosen
    count = 3 if worlds is None else worlds
    if not 1 <= count <= len(SCENARIOS):
        raise ValueError(f"--worlds must be between 1 and {len(SCENARIOS)}, got {count}")
    return list(SCENARIOS[:count])
