"""The orders a fake store holds, in one platform-neutral form.

Every store fake (Shopify, WooCommerce, BigCommerce, Squarespace) renders these orders in its own
API's shape, and the contract tests compare what a connector landed with them. Times are aware
UTC datetimes; a store renders them in its own format and offset.
"""

from __future__ import annotations

import random
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta


@dataclass
class ShopOrder:
    order_id: str
    created_at: datetime
    updated_at: datetime
    revenue: float
    currency: str = "USD"
    ip: str | None = None
    user_agent: str | None = None
    customer_id: str | None = None
    email: str | None = None
    discount_codes: list[str] = field(default_factory=list)
    landing_url: str | None = None
    referrer: str | None = None
    survey_answer: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    # The store's own display name of the order ("#1001" in Shopify), when it has one.
    name: str | None = None

    def expected_row(self) -> dict[str, object]:
        """The canonical ``orders`` columns a connector must land for this order."""
        return {
            "order_id": self.order_id,
            "ts": self.created_at.astimezone(UTC).replace(tzinfo=None),
            "revenue": self.revenue,
            "currency": self.currency,
            "discount_codes": ",".join(self.discount_codes) or None,
        }


@dataclass
class Shop:
    orders: list[ShopOrder]

    def changed_between(self, start: datetime, end: datetime) -> list[ShopOrder]:
        """Orders last updated in [start, end), oldest update first."""
        return sorted(
            (o for o in self.orders if start <= o.updated_at < end),
            key=lambda o: (o.updated_at, o.order_id),
        )

    def by_id(self, order_id: str) -> ShopOrder | None:
        return next((o for o in self.orders if o.order_id == order_id), None)

    def change(self, day: date, numeric_ids: bool = True) -> list[str]:
        """One existing order updated on ``day`` (a refund lowers its total) and one new order
        created on ``day``; returns their ids."""
        when = datetime(day.year, day.month, day.day, 15, 30, tzinfo=UTC)
        old = self.orders[0]
        old.revenue = round(old.revenue / 2, 2)
        old.updated_at = when
        new_id = (
            str(max(int(o.order_id) for o in self.orders) + 1)
            if numeric_ids
            else f"new-{len(self.orders)}"
        )
        self.orders.append(
            ShopOrder(
                order_id=new_id,
                created_at=when + timedelta(minutes=5),
                updated_at=when + timedelta(minutes=5),
                revenue=88.5,
                ip="203.0.113.77",
                user_agent="Mozilla/5.0 (iPhone; CPU iPhone OS 17_0 like Mac OS X)",
                customer_id="9001",
                email="new.buyer@example.com",
                discount_codes=["MORNING20"],
                landing_url="/products/beans?utm_source=podcast&utm_campaign=cmp_1",
                referrer="https://podcasts.example/show",
                survey_answer="The Morning Cup podcast",
                utm_source="podcast",
                utm_medium="audio",
                utm_campaign="cmp_1",
            )
        )
        return [old.order_id, new_id]


def make_shop(first_day: date, days: int, per_day: int = 3, seed: int = 7) -> Shop:
    """``per_day`` orders a day over ``days`` days from ``first_day``, with numeric ids, a mix
    of discount codes, landing pages, referrers and survey answers; each updated a few hours
    after it was created, within its day (UTC)."""
    rng = random.Random(seed)
    orders = []
    next_id = 450789469
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for i in range(per_day):
            created = datetime(
                day.year, day.month, day.day, 2 + 6 * i, rng.randrange(60), tzinfo=UTC
            )
            podcast = rng.random() < 0.5
            orders.append(
                ShopOrder(
                    order_id=str(next_id),
                    created_at=created,
                    updated_at=created + timedelta(hours=rng.randrange(1, 4)),
                    revenue=round(rng.uniform(20, 200), 2),
                    currency="USD",
                    ip=f"198.51.100.{rng.randrange(1, 250)}",
                    user_agent="Mozilla/5.0 (Macintosh; Intel Mac OS X 14_0) Safari/605.1.15",
                    customer_id=str(7000 + rng.randrange(50)),
                    email=f"buyer{next_id}@example.com",
                    discount_codes=["MORNING20"] if podcast and rng.random() < 0.5 else [],
                    landing_url=(
                        "/products/beans?utm_source=podcast&utm_medium=audio&utm_campaign=cmp_1"
                        if podcast
                        else "/collections/all"
                    ),
                    referrer="https://www.google.com/" if not podcast else None,
                    survey_answer="morning cup" if podcast and rng.random() < 0.3 else None,
                    utm_source="podcast" if podcast else None,
                    utm_medium="audio" if podcast else None,
                    utm_campaign="cmp_1" if podcast else None,
                )
            )
            next_id += 1
    return Shop(orders)
