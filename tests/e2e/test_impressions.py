"""Ad impressions on the simulated worlds, through the whole pipeline on DuckDB and PostgreSQL:
the IAB delivery rule by insertion type (int_ad_impressions), the daily mart built on it
(fct_impressions), and the simulator's ground truth, which decides exposures with the same rule
from the bytes each listen fetched."""

from __future__ import annotations

import pandas as pd
import pytest

from tests.conftest import TENANTS, BuiltPipeline
from tests.support.warehouse_query import sql

pytestmark = pytest.mark.e2e

# Fewest in-flight downloads of a campaign's placements at one position for its delivery share
# to be compared with the campaign's other positions.
MIN_CHANCES = 10


def _per_position(p: BuiltPipeline) -> pd.DataFrame:
    """Per campaign and position: valid downloads of the placements' episodes in flight (the
    chances to deliver an ad) and the impressions among them."""
    chances = sql(
        p,
        "select pl.tenant_id, pl.campaign_id, pl.position, count(*) as chances "
        "from staging.stg_files__placements as pl "
        "join staging.stg_files__campaigns as c "
        "  on c.tenant_id = pl.tenant_id and c.campaign_id = pl.campaign_id "
        "join intermediate.int_downloads as d "
        "  on d.tenant_id = pl.tenant_id and d.episode_id = pl.episode_id "
        "  and d.download_date between c.start_date and c.end_date "
        "group by pl.tenant_id, pl.campaign_id, pl.position",
    )
    impressions = sql(
        p,
        "select tenant_id, campaign_id, position, count(*) as impressions "
        "from intermediate.int_ad_impressions group by tenant_id, campaign_id, position",
    )
    key = ["tenant_id", "campaign_id", "position"]
    merged = chances.merge(impressions, on=key, how="left").fillna({"impressions": 0})
    merged["rate"] = merged["impressions"].astype(float) / merged["chances"].astype(float)
    return merged


def test_every_placement_rule_applies_and_is_consistent(pipeline: BuiltPipeline) -> None:
    rows = sql(
        pipeline,
        "select insertion_type, delivery_rule, position, count(*) as n "
        "from intermediate.int_ad_impressions group by insertion_type, delivery_rule, position",
    )
    # The simulated exports say how every ad is inserted, and all three rules occur.
    assert rows["insertion_type"].notna().all()
    assert set(rows["delivery_rule"]) == {
        "dynamic_full_ad",
        "baked_in_first_quarter",
        "baked_in_to_ad_end",
    }
    rule_of = {
        "dynamic": {"dynamic_full_ad"},
        "baked_in": {"baked_in_first_quarter", "baked_in_to_ad_end"},
    }
    for kind, rules in rule_of.items():
        assert set(rows.loc[rows["insertion_type"] == kind, "delivery_rule"]) <= rules
    # Simulated pre-rolls start within 25 s and mid-rolls 35-60% in: only baked-in pre-rolls
    # fall in the episode's first quarter.
    early = rows[rows["delivery_rule"] == "baked_in_first_quarter"]
    assert set(early["position"]) == {"pre"}
    # A download counts an ad only with the required bytes or the whole file. download_id is
    # the documented hash of the download's key; every impression finds its download by it.
    short = sql(
        pipeline,
        "select count(*) as n, count(d.tenant_id) as matched,"
        " sum(case when not d.has_full_response and d.bytes_delivered < i.required_bytes"
        "  then 1 else 0 end) as short"
        " from intermediate.int_ad_impressions as i"
        " left join intermediate.int_downloads as d"
        "  on d.tenant_id = i.tenant_id and i.download_id = md5(d.tenant_id || '|'"
        "   || d.network_key || '|' || d.user_agent || '|' || d.episode_id || '|'"
        "   || cast(d.download_date as varchar))",
    )
    assert int(short["matched"].iloc[0]) == int(short["n"].iloc[0]) > 0
    assert int(short["short"].iloc[0]) == 0


def test_pre_rolls_deliver_at_least_as_often_as_mid_and_post_rolls(
    pipeline: BuiltPipeline,
) -> None:
    """Follows from the bytes listeners fetch: nothing in the pipeline orders positions. A
    campaign's positions sit on different episodes, so counts are compared as the share of its
    in-flight downloads that delivered each position's ads, and in total per position."""
    rates = _per_position(pipeline)
    totals = rates.groupby("position")[["impressions", "chances"]].sum()
    assert set(totals.index) == {"pre", "mid", "post"}
    share = totals["impressions"] / totals["chances"]
    assert share["pre"] >= share["mid"] >= share["post"]
    assert share["post"] < 1.0  # some listens stop before a post-roll
    # Per campaign, among positions with enough downloads for a share to mean something.
    enough = rates[rates["chances"] >= MIN_CHANCES]
    wide = enough.pivot_table(index=["tenant_id", "campaign_id"], columns="position", values="rate")
    assert len(wide) == 2 * 3  # every simulated campaign has such positions
    for (tenant, campaign), row in wide.iterrows():
        present = [row[p] for p in ("pre", "mid", "post") if p in row and pd.notna(row[p])]
        assert len(present) >= 2
        assert present == sorted(present, reverse=True), (tenant, campaign, row.to_dict())


def test_fct_impressions_totals_match_int_ad_impressions(pipeline: BuiltPipeline) -> None:
    source = sql(
        pipeline,
        "select tenant_id, campaign_id, position, count(*) as impressions, "
        "sum(case when ip_class = 'household' then 1 else 0 end) as household_ip "
        "from intermediate.int_ad_impressions group by tenant_id, campaign_id, position",
    )
    mart = sql(
        pipeline,
        "select tenant_id, campaign_id, position, sum(impressions) as impressions, "
        "sum(household_ip_impressions) as household_ip, sum(other_ip_impressions) as other_ip "
        "from marts.fct_impressions group by tenant_id, campaign_id, position",
    )
    assert set(source["tenant_id"]) == set(TENANTS)
    key = ["tenant_id", "campaign_id", "position"]
    merged = source.merge(mart, on=key, how="outer", suffixes=("_int", "_mart"), indicator=True)
    assert (merged["_merge"] == "both").all(), merged[merged["_merge"] != "both"]
    for col in ("impressions", "household_ip"):
        assert (merged[f"{col}_int"].astype(int) == merged[f"{col}_mart"].astype(int)).all(), col
    assert (
        merged["household_ip_mart"].astype(int) + merged["other_ip"].astype(int)
        == merged["impressions_mart"].astype(int)
    ).all()
    # Households reached on a day never exceed the day's impressions.
    days = sql(pipeline, "select impressions, households_reached from marts.fct_impressions")
    assert (days["households_reached"].astype(int) <= days["impressions"].astype(int)).all()
    assert (days["households_reached"].astype(int) >= 1).all()


def test_simulated_truth_agrees_with_the_pipeline(pipeline: BuiltPipeline) -> None:
    """The truth counts every listen that delivered an ad in flight by the same rule; the
    pipeline counts IAB downloads, one per network + user agent + episode a day: it loses the
    few listens repeated within a day, and gains an ad where two partial listens of one device
    in a day add up to its bytes (IAB reassembly). Campaign by campaign the two agree closely."""
    pipeline_counts = sql(
        pipeline,
        "select tenant_id, campaign_id, count(*) as impressions "
        "from intermediate.int_ad_impressions group by tenant_id, campaign_id",
    )
    frames = []
    for tenant in TENANTS:
        truth = pd.read_csv(pipeline.exports[tenant] / "_truth" / "campaign_effects.csv")
        frames.append(truth[["campaign_id", "ad_deliveries"]].assign(tenant_id=tenant))
    truth = pd.concat(frames, ignore_index=True)
    merged = truth.merge(pipeline_counts, on=["tenant_id", "campaign_id"], how="left").fillna(
        {"impressions": 0}
    )
    merged["impressions"] = merged["impressions"].astype(int)
    assert merged["ad_deliveries"].sum() > 0
    ratio = merged["impressions"].sum() / merged["ad_deliveries"].sum()
    assert 0.95 <= ratio <= 1.02, merged
    for row in merged.itertuples():
        assert abs(row.impressions - row.ad_deliveries) <= max(3, 0.1 * row.ad_deliveries), row
