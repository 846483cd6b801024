"""The household bootstrap on hand-made worlds."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from attribution_validation import bootstrap


def _frames(households: int = 40) -> tuple[pd.DataFrame, pd.DataFrame]:
    # Each household caused one order for c1 (even) or c2 (odd). Model "exact" credits exactly
    # that; model "double" credits every order twice to its campaign.
    keys = [f"h{i:03d}" for i in range(households)]
    campaign = ["c1" if i % 2 == 0 else "c2" for i in range(households)]
    truth = pd.DataFrame({"household_key": keys, "campaign_id": campaign, "conversions": 1.0})
    attributed = pd.concat(
        [
            pd.DataFrame({"model": "exact", "household_key": keys, "campaign_id": campaign}),
            pd.DataFrame({"model": "double", "household_key": keys, "campaign_id": campaign,
                          "conversions": 2.0}),
            pd.DataFrame({"model": "same_as_exact", "household_key": keys,
                          "campaign_id": campaign}),
        ]
    ).fillna({"conversions": 1.0})  # fmt: skip
    return attributed, truth


MODELS = ["double", "exact", "same_as_exact"]


def test_household_matrix_holds_each_household_once() -> None:
    attributed, truth = _frames(10)
    m = bootstrap.household_matrix(attributed, truth, ["c1", "c2"], MODELS)
    assert m.truth.shape == (10, 2)
    assert m.attributed.shape == (3, 10, 2)
    assert m.truth.sum() == 10
    assert np.array_equal(m.attributed[1], m.truth)
    assert np.array_equal(m.attributed[0], 2 * m.truth)


def test_weighted_error_by_hand() -> None:
    truth = np.array([4.0, 2.0])
    assert bootstrap.weighted_error(np.array([3.0, 2.0]), truth) == pytest.approx(1 / 6)
    assert np.isnan(bootstrap.weighted_error(np.array([1.0, 0.0]), np.zeros(2)))


def test_resamples_separate_a_right_model_from_a_wrong_one() -> None:
    attributed, truth = _frames(40)
    m = bootstrap.household_matrix(attributed, truth, ["c1", "c2"], MODELS)
    errors = bootstrap.resample_errors(m, population=100, samples=300, seed=1)
    assert errors.shape == (3, 300)
    # The exact model is exact on every resample, the doubling one always off by the total.
    assert np.allclose(errors[1], 0.0)
    assert np.allclose(errors[0], 1.0)
    point = pd.Series({"exact": 0.0, "same_as_exact": 0.0, "double": 1.0})
    pairs = bootstrap.pairwise_differences(point, errors, MODELS).set_index(
        ["model", "other_model"]
    )
    assert bool(pairs.loc[("double", "exact"), "significant"])
    assert pairs.loc[("double", "exact"), "difference"] == pytest.approx(1.0)
    assert pairs.loc[("exact", "double"), "upper"] < 0
    assert not bool(pairs.loc[("exact", "same_as_exact"), "significant"])
    assert len(pairs) == 6  # every ordered pair


def test_resample_counts_follow_the_whole_population() -> None:
    # One active household in a population of 1000: it is drawn 0 times in about 37% of the
    # resamples (P = (1 - 1/1000)^1000), and then the error is undefined (no true order).
    attributed, truth = _frames(1)
    m = bootstrap.household_matrix(attributed, truth, ["c1", "c2"], MODELS)
    errors = bootstrap.resample_errors(m, population=1000, samples=4000, seed=3)
    missing = np.isnan(errors[1]).mean()
    assert abs(missing - (1 - 1 / 1000) ** 1000) < 0.03


def test_resamples_are_seeded() -> None:
    rng = np.random.default_rng(5)
    attributed, truth = _frames(30)
    attributed = attributed.assign(conversions=rng.random(len(attributed)))
    m = bootstrap.household_matrix(attributed, truth, ["c1", "c2"], MODELS)
    a = bootstrap.resample_errors(m, 50, 200, seed=9)
    b = bootstrap.resample_errors(m, 50, 200, seed=9)
    c = bootstrap.resample_errors(m, 50, 200, seed=10)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_bad_population_and_samples_are_refused() -> None:
    attributed, truth = _frames(10)
    m = bootstrap.household_matrix(attributed, truth, ["c1", "c2"], MODELS)
    with pytest.raises(ValueError, match="the world has 5 households but 10"):
        bootstrap.resample_errors(m, population=5, samples=10, seed=0)
    with pytest.raises(ValueError, match="bootstrap samples must be >= 1"):
        bootstrap.resample_errors(m, population=10, samples=0, seed=0)


def test_rounding_noise_is_not_a_significant_difference() -> None:
    # Every resample of "a" is larger than "b" by the last bit of a double, and only by that.
    resampled = np.array([[0.1 + 0.2] * 3, [0.3] * 3])
    assert (resampled[0] > resampled[1]).all()
    point = pd.Series({"a": 0.5, "b": 0.5})
    pairs = bootstrap.pairwise_differences(point, resampled, ["a", "b"])
    assert not pairs["significant"].any()
