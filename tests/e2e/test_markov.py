"""The sixth attribution model (markov) on the session's simulated tenants, on both engines."""

from __future__ import annotations

import numpy as np
import pandas as pd

from tests.conftest import BuiltPipeline
from tests.support.warehouse_query import sql

RULE_MODELS = {"first_touch", "last_touch", "linear", "time_decay", "position_based"}


def test_six_models_credit_every_converting_path(pipeline: BuiltPipeline):
    paths = sql(
        pipeline,
        "select tenant_id, conversion_id, count(*) as touches"
        " from intermediate.int_conversion_paths group by tenant_id, conversion_id",
    )
    assert len(paths) > 0, "the simulated worlds have converting paths"
    credits = sql(
        pipeline,
        "select tenant_id, conversion_id, model, count(*) as n, sum(credit) as credit_sum"
        " from marts.fct_attribution_credits group by tenant_id, conversion_id, model",
    )
    models = credits.groupby(["tenant_id", "conversion_id"])["model"].apply(frozenset)
    expected = frozenset(RULE_MODELS | {"markov"})
    missing = [
        key
        for key in paths.set_index(["tenant_id", "conversion_id"]).index
        if models.get(key) != expected
    ]
    assert not missing, f"{len(missing)} converting paths lack a model, e.g. {missing[:3]}"
    assert np.allclose(credits["credit_sum"].astype(float), 1.0, atol=1e-9)
    # markov has a row for every touch of the path, like linear.
    markov = credits[credits["model"] == "markov"].merge(paths, on=["tenant_id", "conversion_id"])
    assert (markov["n"] == markov["touches"]).all()


def test_removal_effects_are_probabilities_and_match_the_exact_chain(pipeline: BuiltPipeline):
    effects = sql(pipeline, "select * from marts.rpt_markov_removal_effects")
    assert len(effects) > 0
    assert effects["removal_effect"].between(0, 1).all()
    assert effects["conversion_probability"].between(0, 1).all()
    transitions = sql(
        pipeline,
        "select tenant_id, from_state, to_state, probability"
        " from intermediate.int_markov_transitions",
    )
    for tenant, chain in transitions.groupby("tenant_id"):
        rows = effects[effects["tenant_id"] == tenant].set_index("state")
        exact = _conversion_probability(chain)
        # The iteration approaches the exact value from below, within its reported bound.
        reported = float(rows["conversion_probability"].iloc[0])
        bound = float(rows["unabsorbed_probability"].iloc[0])
        assert reported <= exact + 1e-12
        assert exact - reported <= bound + 1e-12
        assert abs(exact - reported) < 1e-9, (tenant, exact, reported, bound)
        for state, row in rows.iterrows():
            without = _conversion_probability(chain, removed=state)
            assert abs(1 - without / exact - row["removal_effect"]) < 1e-9, (tenant, state)


def test_markov_credits_reach_the_comparison_report(pipeline: BuiltPipeline):
    compared = sql(
        pipeline,
        "select tenant_id, sum(markov_conversions) as markov, sum(linear_conversions) as linear"
        " from marts.rpt_attribution_model_comparison group by tenant_id",
    )
    # Every observed conversion is shared out whole by both models.
    assert np.allclose(compared["markov"].astype(float), compared["linear"].astype(float))
    performance = sql(
        pipeline,
        "select distinct model from marts.fct_campaign_performance",
    )
    assert set(performance["model"]) == RULE_MODELS | {"markov"}


def _conversion_probability(chain: pd.DataFrame, removed: str | None = None) -> float:
    """P(absorbed in '#conversion' from '#start') solved exactly: (I - Q) x = r, with the
    transitions into ``removed`` sent to '#null'."""
    transient = sorted(
        (set(chain["from_state"]) | set(chain["to_state"])) - {"#conversion", "#null", removed}
    )
    index = {state: i for i, state in enumerate(transient)}
    q = np.zeros((len(transient), len(transient)))
    r = np.zeros(len(transient))
    for row in chain.itertuples():
        if row.from_state == removed or row.from_state not in index:
            continue
        i = index[row.from_state]
        if row.to_state == "#conversion":
            r[i] += row.probability
        elif row.to_state in index:
            q[i, index[row.to_state]] += row.probability
    x = np.linalg.solve(np.eye(len(transient)) - q, r)
    return float(x[index["#start"]])
