"""What the record contract tests need to know of each store, CRM and analytics API.

Stores, CRMs and analytics APIs hold records that change (an order is refunded, a deal is won),
not daily figures per episode; their connectors ask for what changed in each day's window. The
contract (test_record_contracts.py) is the hosting one adapted: a full sync lands exactly what the
platform holds, an incremental one asks only for the recent windows and lands only what changed,
a sync killed midway resumes without loss or duplicates, throttling, 5xx bursts and malformed
pages are survived, bad credentials and a changed field are clear errors. A platform joins by
adding its case to RECORD_CASES.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import date
from typing import Any

from tests.fakes.server import FakeApi, WindowLimit

FIRST_DAY = date(2026, 10, 1)
DAYS = 10


@dataclass
class RecordCase:
    platform: str
    # The records the platform holds (a tests.fakes.shop.Shop, a tests.fakes.crm.Crm, ...).
    world: Callable[[], Any]
    # Build the platform's fake around the world (not started); it serves the world live.
    fake: Callable[[Any], FakeApi]
    # Credential role -> the value the fake accepts.
    secrets: dict[str, str]
    # The stream under test and the entity it lands.
    stream: str
    entity: str
    # The landed entity's key column (order_id, lead_id, ...), or columns: a row's key is then
    # the tuple of their values.
    key: str | tuple[str, ...]
    # key -> the canonical columns (a subset) the connector must land for the world as it is.
    expected: Callable[[Any], dict[str, dict[str, Any]]]
    # Change the world on a day: typically one record updated and one created. Returns how many
    # rows an incremental sync must land for it.
    change: Callable[[Any, date], int]
    # Path substring of the requests that list the stream's records (one or more per slice).
    list_path: str
    # Make the fake use another name for a field the connector needs; returns the field's name
    # as the connector's error reports it.
    rename_field: Callable[[FakeApi], str]
    # Settings besides base_url and start_date.
    settings: dict[str, Any] = field(default_factory=dict)
    # Switch the platform's own throttling on (default: 4 requests a second, 429 + Retry-After).
    throttle: Callable[[FakeApi], None] = lambda fake: setattr(fake, "limit", WindowLimit(4, 1.0))
    # Which request to hold and kill the sync at: the nth request to list_path.
    kill_at: int = 4


def key_of(case: RecordCase, row: dict[str, Any]) -> Any:
    """The key of a landed row, as ``case.expected`` keys it."""
    if isinstance(case.key, str):
        return row[case.key]
    return tuple(row[column] for column in case.key)


def _squarespace() -> RecordCase:
    from datetime import UTC, datetime

    from tests.fakes.shop import ShopOrder
    from tests.fakes.squarespace import FakeSquarespace, squarespace_id, squarespace_shop

    def rename(fake: FakeApi) -> str:
        fake.order_renames = {"createdOn": "createdAt"}  # type: ignore[attr-defined]
        return "createdOn"

    def expected(shop: Any) -> dict[str, dict[str, Any]]:
        return {
            o.order_id: {
                **o.expected_row(),
                "survey_answer": o.survey_answer,
                "customer_id": None,
                "ip": None,
                "landing_url": None,
            }
            for o in shop.orders
        }

    # A merchant's test checkout on the third day: served, and never landed.
    moment = datetime(2026, 10, 3, 12, 0, tzinfo=UTC)
    test_order = ShopOrder(squarespace_id("testmode"), moment, moment, 1.0)
    return RecordCase(
        platform="squarespace",
        world=lambda: squarespace_shop(FIRST_DAY, DAYS),
        # Two orders a page, so a day of three or four orders takes two pages.
        fake=lambda shop: FakeSquarespace(
            shop, "sq-key-1", page_size=2, testmode_orders=[test_order]
        ),
        secrets={"api_key": "sq-key-1"},
        stream="orders",
        entity="orders",
        key="order_id",
        expected=expected,
        change=lambda shop, day: len(shop.change(day, numeric_ids=False)),
        list_path="/1.0/commerce/orders",
        rename_field=rename,
        # Squarespace's own signal: 429 and a cool-down, with no header saying how long.
        throttle=lambda fake: fake.throttle(4, 1.0, cool_down_s=1.0),  # type: ignore[attr-defined]
    )


def _ga4() -> RecordCase:
    from tests.fakes.ga4 import FakeGa4, make_ga4_world, quota_refusal

    def rename(fake: FakeApi) -> str:
        fake.row_renames = {"metricValues": "metrics"}  # type: ignore[attr-defined]
        return "metricValues"

    client_id = "ga-client-1.apps.googleusercontent.com"
    return RecordCase(
        platform="ga4",
        world=lambda: make_ga4_world(FIRST_DAY, DAYS, property_id="312345678"),
        fake=lambda world: FakeGa4(world, client_id, "ga-secret-1", "1//ga-refresh-1"),
        secrets={
            "client_id": client_id,
            "client_secret": "ga-secret-1",
            "refresh_token": "1//ga-refresh-1",
        },
        stream="web_traffic_daily",
        entity="web_traffic_daily",
        key=(
            "platform",
            "property_id",
            "date",
            "session_source",
            "session_medium",
            "session_campaign",
            "landing_page",
        ),
        expected=lambda world: world.expected(),
        change=lambda world, day: world.change(day),
        list_path=":runReport",
        rename_field=rename,
        # One fake plays the token endpoint and the Data API; two rows a page, so a day of
        # three or four rows takes two pages.
        settings={"property_id": "312345678", "token_url": "{base_url}/token", "page_size": 2},
        # Google's own signal: 429 RESOURCE_EXHAUSTED, no Retry-After.
        throttle=lambda fake: setattr(fake, "limit", WindowLimit(4, 1.0, response=quota_refusal)),
    )


def _hubspot() -> RecordCase:
    from tests.fakes.crm import make_crm
    from tests.fakes.hubspot import FakeHubSpot

    def rename(fake: FakeApi) -> str:
        fake.contact_renames = {"properties.createdate": "properties.created_at"}  # type: ignore[attr-defined]
        return "properties.createdate"

    def expected(crm: Any) -> dict[str, dict[str, Any]]:
        return {
            f"contact:{c.contact_id}": {
                "lead_type": "contact",
                "ts": c.created_at.replace(tzinfo=None),
                "updated_at": c.updated_at.replace(tzinfo=None),
                "email": c.email,
                "status": c.status,
                "landing_url": c.first_url,
                "referrer": c.referrer,
                "utm_source": c.utm_source,
                "utm_medium": c.utm_medium,
                "utm_campaign": c.utm_campaign,
                "survey_answer": c.survey_answer,
                "value": None,
                "is_won": None,
                "ip": None,
            }
            for c in crm.contacts
        }

    def change(crm: Any, day: date) -> int:
        # A deal is won (the deals stream's) and one contact arrives: one contact row lands.
        crm.change(day)
        return 1

    return RecordCase(
        platform="hubspot",
        world=lambda: make_crm(FIRST_DAY, DAYS),
        fake=lambda crm: FakeHubSpot(crm, "hs-token-1", survey_property="heard_about_us"),
        secrets={"access_token": "hs-token-1"},
        stream="contacts",
        entity="leads",
        key="lead_id",
        expected=expected,
        change=change,
        list_path="/crm/v3/objects/contacts/search",
        rename_field=rename,
        # One contact a search page, so a day of two takes two pages. Only contacts: deals land
        # in the same entity and are tested in tests/unit/connectors/test_hubspot.py.
        settings={"objects": ["contacts"], "page_size": 1, "survey_property": "heard_about_us"},
        # HubSpot's own signal: search's secondly limit, 429 RATE_LIMIT without Retry-After.
        throttle=lambda fake: fake.throttle_search(4, 1.0),  # type: ignore[attr-defined]
    )


def _shopify() -> RecordCase:
    from tests.fakes.shop import make_shop
    from tests.fakes.shopify import FakeShopify

    def rename(fake: FakeApi) -> str:
        # Only total_price_set is left: revenue can no longer be read.
        fake.order_renames = {"total_price": "total_price_set.shop_money.amount"}  # type: ignore[attr-defined]
        return "total_price"

    def expected(shop: Any) -> dict[str, dict[str, Any]]:
        return {
            o.order_id: {
                **o.expected_row(),
                "ip": o.ip,
                "user_agent": o.user_agent,
                "customer_id": o.customer_id,
                "landing_url": o.landing_url,
                "referrer": o.referrer,
                "survey_answer": o.survey_answer,
            }
            for o in shop.orders
        }

    return RecordCase(
        platform="shopify",
        world=lambda: make_shop(FIRST_DAY, DAYS),
        fake=lambda shop: FakeShopify(shop, "shpat_contract_1"),
        secrets={"access_token": "shpat_contract_1"},
        stream="orders",
        entity="orders",
        key="order_id",
        expected=expected,
        change=lambda shop, day: len(shop.change(day)),
        list_path="/orders.json",
        rename_field=rename,
        # Two orders a page, so a day of three orders takes two pages.
        settings={"shop": "acme-coffee", "page_size": 2},
        # Shopify's own signal: a leaky bucket, 429 with Retry-After when it overflows.
        throttle=lambda fake: fake.throttle_rest(4, 4.0),  # type: ignore[attr-defined]
    )


def _marketo() -> RecordCase:
    from tests.fakes.marketo import VISIT, FakeMarketo, make_marketo_world

    def rename(fake: FakeApi) -> str:
        fake.activity_renames = {"activityDate": "activityTs"}  # type: ignore[attr-defined]
        return "activityDate"

    def expected(world: Any) -> dict[str, dict[str, Any]]:
        return {
            f"marketo:{a.activity_id}": {
                "ts": a.at.replace(tzinfo=None),
                "ip": a.ip,
                "user_agent": a.user_agent,
                "event_type": "visit",
                "url": a.url(),
                "referrer": a.referrer,
                "order_id": None,
                "utm_source": a.utm_source,
                "utm_medium": a.utm_medium,
                "utm_campaign": a.utm_campaign,
            }
            for a in world.of_type(VISIT)
        }

    return RecordCase(
        platform="marketo",
        world=lambda: make_marketo_world(FIRST_DAY, DAYS),
        fake=lambda world: FakeMarketo(world, "mkto-client-1", "mkto-secret-1"),
        secrets={"client_id": "mkto-client-1", "client_secret": "mkto-secret-1"},
        stream="web_visits",
        entity="site_events",
        key="event_id",
        expected=expected,
        change=lambda world, day: world.change(day),
        list_path="/rest/v1/activities.json",
        rename_field=rename,
        # Three activities of all types a call: a day of seven takes three pages, some empty.
        # Visits only: lead_activities asks the same path, and the resume test counts requests
        # to it (tests/unit/connectors/test_marketo.py covers lead_activities).
        settings={
            "munchkin_id": "123-ABC-456",
            "batch_size": 3,
            "activity_type_ids": [1],
            # Marketo's throttle (606 inside a 200) names no wait: the backoff is all the pacing
            # there is, so it keeps its production length here.
            "retry_backoff_s": 1.0,
        },
        # Marketo's own signal: HTTP 200 with error 606.
        throttle=lambda fake: fake.throttle(8, 1.0),  # type: ignore[attr-defined]
        kill_at=5,
    )


def _woocommerce() -> RecordCase:
    from tests.fakes.shop import make_shop
    from tests.fakes.woocommerce import SITE, SURVEY_META_KEY, FakeWooCommerce

    def rename(fake: FakeApi) -> str:
        fake.order_renames = {"date_created_gmt": "date_created_utc"}  # type: ignore[attr-defined]
        return "date_created_gmt"

    def expected(shop: Any) -> dict[str, dict[str, Any]]:
        return {
            o.order_id: {
                **o.expected_row(),
                "ip": o.ip,
                "user_agent": o.user_agent,
                "customer_id": o.customer_id,
                # Order Attribution keeps the whole entry URL.
                "landing_url": SITE + o.landing_url if o.landing_url else None,
                "referrer": o.referrer,
                "survey_answer": o.survey_answer,
            }
            for o in shop.orders
        }

    return RecordCase(
        platform="woocommerce",
        world=lambda: make_shop(FIRST_DAY, DAYS),
        fake=lambda shop: FakeWooCommerce(shop, "ck_contract_1", "cs_contract_1"),
        secrets={"consumer_key": "ck_contract_1", "consumer_secret": "cs_contract_1"},
        stream="orders",
        entity="orders",
        key="order_id",
        expected=expected,
        change=lambda shop, day: len(shop.change(day)),
        list_path="/wp-json/wc/v3/orders",
        rename_field=rename,
        # Two orders a page, so a day of three takes two pages. The order_attribution stream
        # reads the same orders again: the resume test compares every stream's list requests
        # after the kill with one stream's from scratch, so it is off here and tested in
        # tests/unit/connectors/test_woocommerce.py.
        settings={
            "page_size": 2,
            "survey_meta_key": SURVEY_META_KEY,
            "order_attribution": False,
        },
    )


def _bigcommerce() -> RecordCase:
    from tests.fakes.bigcommerce import FakeBigCommerce
    from tests.fakes.shop import make_shop

    def rename(fake: FakeApi) -> str:
        fake.order_renames = {"date_created": "created_date"}  # type: ignore[attr-defined]
        return "date_created"

    def expected(shop: Any) -> dict[str, dict[str, Any]]:
        return {
            o.order_id: {
                **o.expected_row(),
                "ip": o.ip,
                "user_agent": None,
                "customer_id": o.customer_id,
                "landing_url": None,
                "referrer": None,
                "survey_answer": o.survey_answer,
            }
            for o in shop.orders
        }

    return RecordCase(
        platform="bigcommerce",
        world=lambda: make_shop(FIRST_DAY, DAYS),
        fake=lambda shop: FakeBigCommerce(shop, "abc123", "bc-token-1"),
        secrets={"access_token": "bc-token-1"},
        stream="orders",
        entity="orders",
        key="order_id",
        expected=expected,
        change=lambda shop, day: len(shop.change(day)),
        # Also each order's coupons (/v2/orders/{id}/coupons): one request per order.
        list_path="/v2/orders",
        rename_field=rename,
        # Two orders a page, so a day of three takes two pages (and a day of two, a 204).
        settings={"store_hash": "abc123", "page_size": 2, "survey_from_customer_message": True},
        # BigCommerce's own signal: a fixed window, 429 with X-Rate-Limit-Time-Reset-Ms and no
        # Retry-After.
        throttle=lambda fake: fake.throttle(10, 1.0),  # type: ignore[attr-defined]
        # A day is two list pages and three coupon requests: the 6th asks for the second day.
        kill_at=6,
    )


def _salesforce() -> RecordCase:
    from tests.fakes.crm import make_crm
    from tests.fakes.salesforce import SURVEY_FIELD, FakeSalesforce, salesforce_id

    def rename(fake: FakeApi) -> str:
        fake.renames = {"CreatedDate": "CreatedAt"}  # type: ignore[attr-defined]
        return "CreatedDate"

    def expected(crm: Any) -> dict[str, dict[str, Any]]:
        return {
            f"lead:{salesforce_id('00Q', c.contact_id)}": {
                "lead_type": "lead",
                "ts": c.created_at.replace(tzinfo=None),
                "updated_at": c.updated_at.replace(tzinfo=None),
                "email": c.email,
                "status": "Open - Not Contacted",
                "utm_source": c.utm_source,
                "utm_medium": c.utm_medium,
                "utm_campaign": c.utm_campaign,
                "survey_answer": c.survey_answer,
                "value": None,
                "is_won": None,
            }
            for c in crm.contacts
        }

    def change(crm: Any, day: date) -> int:
        # An opportunity is won (the opportunities stream's) and one lead arrives.
        crm.change(day)
        return 1

    return RecordCase(
        platform="salesforce",
        world=lambda: make_crm(FIRST_DAY, DAYS),
        # Batches of one record, so a day of two Leads follows nextRecordsUrl once.
        fake=lambda crm: FakeSalesforce(crm, "00Dsf!token-1", batch_size=1),
        secrets={"access_token": "00Dsf!token-1"},
        stream="leads",
        entity="leads",
        key="lead_id",
        expected=expected,
        change=change,
        list_path="/query",
        rename_field=rename,
        # Only Leads: Opportunities land in the same entity and are tested in
        # tests/unit/connectors/test_salesforce.py.
        settings={
            "objects": ["leads"],
            "survey_field": SURVEY_FIELD,
            "utm_source_field": "UTM_Source__c",
            "utm_medium_field": "UTM_Medium__c",
            "utm_campaign_field": "UTM_Campaign__c",
        },
        # The fake's documented choice for a burst: 429 with Retry-After.
        throttle=lambda fake: fake.throttle(4, 1.0),  # type: ignore[attr-defined]
    )


RECORD_CASES: dict[str, Callable[[], RecordCase]] = {
    "squarespace": _squarespace,
    "ga4": _ga4,
    "hubspot": _hubspot,
    "salesforce": _salesforce,
    "shopify": _shopify,
    "marketo": _marketo,
    "woocommerce": _woocommerce,
    "bigcommerce": _bigcommerce,
}
