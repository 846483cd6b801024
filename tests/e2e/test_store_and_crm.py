"""A tenant with a store, a CRM and a hosting platform, all connected (both engines).

STORE_TENANT imports no order file: its orders come from a Shopify store (synced by the CLI up to
the day before the last, that day by signed webhooks through `earshot webhooks serve`), its
leads and deals from HubSpot, its host figures from Buzzsprout (tests/conftest.py,
tests/support/commerce_world.py). The other e2e tests, which compare attribution with the
simulator's truth for every tenant, therefore run on connector-fed orders for this tenant; the
checks here are on what the connectors themselves brought.
"""

from __future__ import annotations

import pytest

from tests.conftest import STORE_TENANT, BuiltPipeline
from tests.support.commerce_world import CommerceWorld
from tests.support.warehouse_query import sql

pytestmark = pytest.mark.e2e


def world(pipeline: BuiltPipeline) -> CommerceWorld:
    return pipeline.commerce[STORE_TENANT]


def _text(value: object) -> str | None:
    """A text cell as read by pandas: a missing value comes back as NaN, not None."""
    return value if isinstance(value, str) else None


def test_every_order_came_from_the_store_the_last_day_by_webhook(pipeline: BuiltPipeline) -> None:
    shop = world(pipeline).shop
    raw = sql(
        pipeline,
        f"""
        select order_id, _source, _cursor from raw.orders where _tenant_id = '{STORE_TENANT}'
        """,
    )
    assert set(raw["_source"]) == {"shopify"}, "no order file was imported for this tenant"
    assert set(raw["order_id"]) == {o.name for o in shop.orders}
    pushed = raw[raw["_cursor"].str.startswith("webhook:")]
    assert sorted(pushed["order_id"]) == sorted(world(pipeline).webhook_orders)
    assert len(pushed) > 0, "the last day's orders came by webhook"
    synced = raw[raw["_cursor"].str.startswith("orders:")]
    assert set(synced["order_id"]).isdisjoint(pushed["order_id"])

    staged = sql(
        pipeline,
        f"""
        select order_id, revenue, discount_codes, survey_answer
        from staging.stg_files__orders where tenant_id = '{STORE_TENANT}'
        """,
    ).set_index("order_id")
    assert len(staged) == len(shop.orders)
    for order in shop.orders:
        row = staged.loc[order.name]
        assert row["revenue"] == pytest.approx(order.revenue)
        assert (_text(row["discount_codes"]) or "") == ",".join(order.discount_codes)
        assert _text(row["survey_answer"]) == order.survey_answer


def test_attribution_runs_on_the_store_orders(pipeline: BuiltPipeline) -> None:
    names = {o.name for o in world(pipeline).shop.orders}
    conversions = sql(
        pipeline,
        f"""
        select c.source_record_id, c.conversion_type, c.household_id,
               count(a.conversion_id) as credits
        from intermediate.int_conversions as c
        left join marts.fct_attribution_credits as a
            on a.tenant_id = c.tenant_id and a.conversion_id = c.conversion_id
        where c.tenant_id = '{STORE_TENANT}'
        group by c.source_record_id, c.conversion_type, c.household_id
        """,
    )
    orders = conversions[conversions["conversion_type"] == "order"]
    assert set(orders["source_record_id"]) == names
    # Orders carry the browser's address, so they join the households that listened, and the
    # five models credit the ones with podcast touches.
    assert orders["household_id"].notna().mean() > 0.9
    assert (orders["credits"] > 0).sum() > 0


def test_leads_and_won_deals_from_the_crm_are_conversions(pipeline: BuiltPipeline) -> None:
    crm = world(pipeline).crm
    until = world(pipeline).webhook_day
    contacts = [c for c in crm.contacts if c.updated_at.date() < until]
    deals = [d for d in crm.deals if d.updated_at.date() < until]
    leads = sql(
        pipeline,
        f"""
        select lead_id, lead_type, is_conversion, conversion_type, revenue, email_key,
               utm_campaign
        from marts.fct_leads where tenant_id = '{STORE_TENANT}'
        """,
    ).set_index("lead_id")
    assert set(leads.index) == {f"contact:{c.contact_id}" for c in contacts} | {
        f"deal:{d.deal_id}" for d in deals
    }
    contact_keys = leads.loc[leads.index.str.startswith("contact:"), "email_key"]
    assert contact_keys.notna().all() and contact_keys.nunique() == len(contacts)
    assert not contact_keys.str.contains("@").any(), "no e-mail address leaves staging"
    won = {f"deal:{d.deal_id}": d.amount for d in deals if d.is_won}
    assert won, "the CRM holds won deals"
    converted = leads[leads["is_conversion"]]
    assert set(converted[converted["conversion_type"] == "deal"].index) == set(won)
    for lead_id, amount in won.items():
        assert converted.loc[lead_id, "revenue"] == pytest.approx(amount)
    assert (converted[converted["conversion_type"] == "lead"]["revenue"] == 0).all()
    assert len(converted[converted["conversion_type"] == "lead"]) == len(contacts)


def test_a_lead_naming_the_show_in_the_survey_is_a_survey_signal(
    pipeline: BuiltPipeline,
) -> None:
    answered = [
        c
        for c in world(pipeline).crm.contacts
        if c.survey_answer and c.updated_at.date() < world(pipeline).webhook_day
    ]
    assert answered, "some of the CRM's contacts answered the survey"
    mentions = sql(
        pipeline,
        f"""
        select m.mention_type, m.mentioned_name, c.source_record_id
        from intermediate.int_survey_mentions as m
        inner join intermediate.int_conversions as c
            on c.tenant_id = m.tenant_id and c.conversion_id = m.conversion_id
        where m.tenant_id = '{STORE_TENANT}' and c.conversion_type = 'lead'
        """,
    )
    # A mention evidences the show's campaigns whose flight (plus the look-back) covers the lead.
    assert len(mentions) > 0
    assert set(mentions["source_record_id"]) <= {f"contact:{c.contact_id}" for c in answered}
    assert (mentions["mentioned_name"] == world(pipeline).show_name).all()
