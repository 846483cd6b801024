"""The validation scenarios: each a tenant of its own, differing in effect size and lag."""

from __future__ import annotations

import pytest

from attribution_validation.worlds import SCENARIOS, scenario, select_scenarios
from connectors.simulator import WorldConfig


def test_default_worlds_differ_in_effect_and_lag() -> None:
    chosen = select_scenarios(None, None)
    assert [s.name for s in chosen] == ["reference", "small_effect", "long_lag"]
    configs = [s.config("demo", 3) for s in chosen]
    assert [c.tenant_id for c in configs] == [
        "validate_reference",
        "validate_small_effect",
        "validate_long_lag",
    ]
    assert configs[0] == WorldConfig.demo(seed=3, tenant_id="validate_reference")
    assert configs[1].effect_scale == pytest.approx(configs[0].effect_scale / 3)
    assert configs[2].response_lag_scale == 3.0
    assert configs[2].effect_scale == configs[0].effect_scale


def test_effect_multiplier_applies_to_the_presets_own_scale() -> None:
    tiny = scenario("large_effect").config("tiny", 0)
    assert tiny.effect_scale == pytest.approx(3 * WorldConfig.tiny().effect_scale)
    assert tiny.households == WorldConfig.tiny().households


def test_selection_by_name_and_count() -> None:
    assert [s.name for s in select_scenarios(["long_lag", "reference"], None)] == [
        "long_lag",
        "reference",
    ]
    assert len(select_scenarios(None, len(SCENARIOS))) == len(SCENARIOS)
    with pytest.raises(ValueError, match="unknown validation scenario 'huge'"):
        select_scenarios(["huge"], None)
    with pytest.raises(ValueError, match="either --worlds or --scenario"):
        select_scenarios(["reference"], 2)
    with pytest.raises(ValueError, match="--worlds must be between 1 and"):
        select_scenarios(None, 0)
    with pytest.raises(ValueError, match="named twice"):
        select_scenarios(["reference", "reference"], None)
    with pytest.raises(ValueError, match="unknown preset 'huge'"):
        scenario("reference").config("huge", 0)
