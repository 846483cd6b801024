"""Presets and validation of WorldConfig."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from connectors.simulator import WorldConfig, demo, for_requests, tiny
from connectors.simulator.__main__ import main


def test_default_period_is_the_90_days_ending_yesterday() -> None:
    config = WorldConfig()
    yesterday = datetime.now(UTC).date() - timedelta(days=1)
    # The test may straddle midnight UTC: allow the day after.
    assert config.end_date in (yesterday, yesterday + timedelta(days=1))
    assert config.days == 90


def test_presets_are_reachable_from_the_class() -> None:
    assert WorldConfig.tiny(seed=2, tenant_id="x") == tiny(seed=2, tenant_id="x")
    assert WorldConfig.demo(tenant_id="y") == demo(tenant_id="y")
    assert WorldConfig.for_requests(2_000_000, tenant_id="z") == for_requests(
        2_000_000, tenant_id="z"
    )


def test_presets_scale_with_requests() -> None:
    assert tiny().target_requests < 10_000
    assert demo().target_requests == 300_000
    small, large = for_requests(1_000_000), for_requests(100_000_000)
    assert large.households == 100 * small.households
    assert large.shows > small.shows and large.campaigns > small.campaigns
    # About one order per hundred requests: 1M orders at 100M requests.
    expected_orders = large.households * large.baseline_orders_per_household
    assert 0.8e6 < expected_orders < 1.2e6


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"seed": -1}, "seed"),
        ({"households": 0}, "households"),
        ({"bot_share": -0.1}, "bot_share"),
        ({"listener_share": 1.5}, "listener_share"),
        ({"tenant_id": ""}, "tenant_id"),
    ],
)
def test_invalid_values_are_named(changes: dict, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        tiny(**changes)


def test_end_before_start_is_rejected() -> None:
    config = tiny()
    with pytest.raises(ValueError, match="before start_date"):
        config.with_changes(end_date=config.start_date - timedelta(days=1))
    with pytest.raises(ValueError, match="unknown WorldConfig fields: colour"):
        config.with_changes(colour="red")


def test_command_line_writes_and_summarises(tmp_path, capsys) -> None:
    code = main(
        ["--tenant", "cli", "--out", str(tmp_path), "--preset", "tiny", "--seed", "3",
         "--format", "csv", "--start", "2024-01-01", "--end", "2024-02-29"]
    )  # fmt: skip
    assert code == 0
    printed = capsys.readouterr().out
    assert "download_requests" in printed and "seconds:" in printed
    assert (tmp_path / "orders.csv").exists()
    assert (tmp_path / "_truth" / "campaign_effects.csv").exists()
