"""Which networks are households: the range classes and the behaviour rules against the
simulator's ground truth, and the usable-IP share of fct_campaign_performance.

The simulator (connectors/simulator/network.py) gives every household a home connection of up
to four listening devices plus an Apple Watch, so none of its household-range networks listens
like an office; offices, carriers and relays draw from the reference ranges. The behaviour rules
must therefore leave every simulated household alone.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from tests.conftest import ROOT, TENANTS, BuiltPipeline
from tests.support.warehouse_query import pipeline_tenant_key, sql

pytestmark = pytest.mark.e2e


def _tenant_key(pipeline: BuiltPipeline, tenant: str) -> bytes:
    return pipeline_tenant_key(ROOT, pipeline.env, tenant)


def _truth_networks(pipeline: BuiltPipeline, tenant: str) -> pd.DataFrame:
    """The simulator's households, one row per home network (IPv4, and the IPv6 /64 of
    dual-stack homes), with the network_key the pipeline gives it."""
    from warehouse.data_subjects import network_of
    from warehouse.pseudonymisation import pseudonymise

    key = _tenant_key(pipeline, tenant)
    truth = pd.read_csv(pipeline.exports[tenant] / "_truth" / "households.csv")
    rows = []
    for record in truth.itertuples():
        rows.append((record.household_key, record.ip_class, record.ip))
        if isinstance(record.ipv6_prefix, str):
            rows.append((record.household_key, record.ip_class, record.ipv6_prefix.split("/")[0]))
    frame = pd.DataFrame(rows, columns=["household_key", "true_class", "address"])
    frame["network_key"] = [pseudonymise(key, network_of(a)) for a in frame["address"]]
    return frame.drop(columns="address")


def _households(pipeline: BuiltPipeline, tenant: str) -> pd.DataFrame:
    return sql(
        pipeline,
        "select network_key, range_ip_class, ip_class, ip_class_reason, user_agents,"
        " downloads_per_active_day from intermediate.int_households"
        f" where tenant_id = '{tenant}'",
    )


def test_simulated_households_keep_their_class(pipeline: BuiltPipeline) -> None:
    for tenant in TENANTS:
        truth = _truth_networks(pipeline, tenant)
        seen = truth.merge(_households(pipeline, tenant), on="network_key", how="inner")
        homes = seen[seen["true_class"] == "household"]
        assert len(homes) > 50, f"{tenant}: too few simulated homes seen to judge"
        # A real household is never reclassified by its behaviour ...
        wrong = homes[(homes["ip_class"] != "household") | (homes["ip_class_reason"] != "range")]
        assert wrong.empty, f"{tenant}: households reclassified:\n{wrong.head()}"
        # ... and it has no more user agents than devices: four and a watch.
        assert int(homes["user_agents"].max()) <= 5
        # Homes on a cellular or shared-building line keep the class of their range.
        others = seen[seen["true_class"] != "household"]
        assert (others["ip_class"] == others["true_class"]).all()
        assert (others["ip_class_reason"] == "range").all()


def test_behaviour_rules_only_demote_household_ranges(pipeline: BuiltPipeline) -> None:
    """The simulator puts no shared network inside household ranges, so no rule fires; every
    class other than the range's must come with a behaviour reason, and only as commercial."""
    for tenant in TENANTS:
        households = _households(pipeline, tenant)
        changed = households[households["ip_class"] != households["range_ip_class"]]
        assert (changed["range_ip_class"] == "household").all()
        assert (changed["ip_class"] == "commercial").all()
        assert (changed["ip_class_reason"] != "range").all()
        reasons = households[households["ip_class_reason"] != "range"]
        assert len(reasons) == len(changed)
        assert reasons.empty, f"{tenant}: a simulated network was reclassified:\n{reasons}"


def test_usable_ip_share_matches_the_impressions(pipeline: BuiltPipeline) -> None:
    expected = sql(
        pipeline,
        "select i.tenant_id, i.campaign_id, count(*) as impressions,"
        " sum(case when h.ip_class = 'household' then 1 else 0 end) as household_impressions"
        " from intermediate.int_ad_impressions i"
        " join intermediate.int_households h"
        " on h.tenant_id = i.tenant_id and h.household_id = i.household_id"
        " group by i.tenant_id, i.campaign_id",
    )
    actual = sql(
        pipeline,
        "select tenant_id, campaign_id, model, impressions, household_impressions,"
        " usable_ip_share, low_usable_ip_share from marts.fct_campaign_performance",
    )
    merged = actual.merge(
        expected, on=["tenant_id", "campaign_id"], how="left", suffixes=("", "_x")
    )
    merged = merged.fillna({"impressions_x": 0, "household_impressions_x": 0})
    assert (merged["impressions"].astype(int) == merged["impressions_x"].astype(int)).all()
    assert (
        merged["household_impressions"].astype(int) == merged["household_impressions_x"].astype(int)
    ).all()
    some = merged[merged["impressions"].astype(int) > 0]
    assert len(some) > 0, "the small world should deliver impressions"
    share = some["household_impressions_x"].astype(float) / some["impressions_x"].astype(float)
    assert np.allclose(some["usable_ip_share"].astype(float), share, atol=1e-12)
    assert (some["low_usable_ip_share"].astype(bool) == (share < 0.20)).all()
    none = merged[merged["impressions"].astype(int) == 0]
    assert none["usable_ip_share"].isna().all()
    assert not none["low_usable_ip_share"].astype(bool).any()
    # Simulated audiences are mostly residential: most impressions are usable.
    assert float(share.mean()) > 0.5


def test_prior_customer_exclusion_is_off_by_default(pipeline: BuiltPipeline) -> None:
    counts = sql(
        pipeline,
        "select sum(excluded_prior_customer_conversions) as n from marts.fct_campaign_performance",
    )
    assert int(counts["n"].iloc[0]) == 0
    listed = sql(
        pipeline,
        "select count(*) as n, sum(case when is_excluded then 1 else 0 end) as excluded"
        " from intermediate.int_prior_customer_exclusions",
    )
    # Whatever pairs are listed, the tenants' default setting applies none of them.
    assert int(listed["excluded"].fillna(0).iloc[0]) == 0
