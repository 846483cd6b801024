"""The promotion rule: better than the baseline on the primary metric, by more than min_gain."""

from __future__ import annotations

import math

import pytest

from models_ml.evaluation import Evaluation


def _evaluation(ours: float, theirs: float, higher: bool = True, gain: float = 0.0) -> Evaluation:
    return Evaluation("m", higher, {"m": ours}, "naive", {"m": theirs}, 100, min_gain=gain)


def test_higher_is_better_promotes_only_a_strict_gain() -> None:
    assert _evaluation(0.71, 0.70).beats_baseline()
    assert not _evaluation(0.70, 0.70).beats_baseline()
    assert not _evaluation(0.69, 0.70).beats_baseline()
    assert _evaluation(0.75, 0.70).gain == pytest.approx(0.05)


def test_lower_is_better_and_a_minimum_gain() -> None:
    assert _evaluation(9.0, 10.0, higher=False).beats_baseline()
    assert not _evaluation(11.0, 10.0, higher=False).beats_baseline()
    assert not _evaluation(9.5, 10.0, higher=False, gain=1.0).beats_baseline()
    assert _evaluation(8.5, 10.0, higher=False, gain=1.0).beats_baseline()
    assert "needs a gain over 1" in _evaluation(8.5, 10.0, higher=False, gain=1.0).verdict()


def test_undefined_metrics() -> None:
    assert not _evaluation(math.nan, 0.5).beats_baseline()
    assert _evaluation(0.6, math.nan).beats_baseline()
    with pytest.raises(ValueError, match="primary metric 'm'"):
        Evaluation("m", True, {"auc": 1.0}, "naive", {"m": 0.5}, 10)


def test_the_verdict_names_metric_values_and_holdout() -> None:
    verdict = _evaluation(0.8123, 0.7).verdict()
    assert verdict == "m 0.8123 beats the naive baseline's 0.7 on 100 holdout rows"
