"""The contacts and deals a fake CRM holds, in one platform-neutral form.

HubSpot and Salesforce fakes render these in their own shapes (a contact is a Salesforce Lead, a
deal an Opportunity); the contract tests compare what a connector landed with them. Times are
aware UTC datetimes.
"""

from __future__ import annotations

import random
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta


@dataclass
class CrmContact:
    contact_id: str
    created_at: datetime
    updated_at: datetime
    email: str
    first_url: str | None = None
    referrer: str | None = None
    utm_source: str | None = None
    utm_medium: str | None = None
    utm_campaign: str | None = None
    survey_answer: str | None = None
    status: str = "lead"


@dataclass
class CrmDeal:
    deal_id: str
    created_at: datetime
    updated_at: datetime
    amount: float
    stage: str
    is_won: bool
    contact_id: str | None
    currency: str = "USD"


@dataclass
class Crm:
    contacts: list[CrmContact]
    deals: list[CrmDeal]

    def contacts_changed_between(self, start: datetime, end: datetime) -> list[CrmContact]:
        return sorted(
            (c for c in self.contacts if start <= c.updated_at < end),
            key=lambda c: (c.updated_at, c.contact_id),
        )

    def deals_changed_between(self, start: datetime, end: datetime) -> list[CrmDeal]:
        return sorted(
            (d for d in self.deals if start <= d.updated_at < end),
            key=lambda d: (d.updated_at, d.deal_id),
        )

    def change(self, day: date) -> None:
        """On ``day``: the first open deal is won, and a new contact arrives from a podcast."""
        when = datetime(day.year, day.month, day.day, 14, 0, tzinfo=UTC)
        deal = next(d for d in self.deals if not d.is_won)
        deal.is_won, deal.stage, deal.updated_at = True, "closedwon", when
        self.contacts.append(
            CrmContact(
                contact_id=str(max(int(c.contact_id) for c in self.contacts) + 1),
                created_at=when + timedelta(minutes=10),
                updated_at=when + timedelta(minutes=10),
                email="new.lead@example.com",
                first_url="https://brand.example/demo?utm_source=podcast&utm_campaign=cmp_1",
                utm_source="podcast",
                utm_campaign="cmp_1",
                survey_answer="Heard it on The Morning Cup",
            )
        )


def make_crm(first_day: date, days: int, per_day: int = 2, seed: int = 11) -> Crm:
    """``per_day`` contacts a day with numeric ids, and a deal for every other contact (a third
    of them won)."""
    rng = random.Random(seed)
    contacts, deals = [], []
    next_id = 51
    for offset in range(days):
        day = first_day + timedelta(days=offset)
        for i in range(per_day):
            created = datetime(
                day.year, day.month, day.day, 3 + 8 * i, rng.randrange(60), tzinfo=UTC
            )
            podcast = rng.random() < 0.5
            contact = CrmContact(
                contact_id=str(next_id),
                created_at=created,
                updated_at=created + timedelta(hours=1),
                email=f"lead{next_id}@example.com",
                first_url=(
                    "https://brand.example/?utm_source=podcast&utm_medium=audio&utm_campaign=cmp_1"
                    if podcast
                    else "https://brand.example/pricing"
                ),
                referrer=None if podcast else "https://www.google.com/",
                utm_source="podcast" if podcast else None,
                utm_medium="audio" if podcast else None,
                utm_campaign="cmp_1" if podcast else None,
                survey_answer="the morning cup" if podcast and rng.random() < 0.4 else None,
            )
            contacts.append(contact)
            if next_id % 2 == 0:
                won = rng.random() < 0.34
                deals.append(
                    CrmDeal(
                        deal_id=str(9000 + next_id),
                        created_at=created + timedelta(hours=2),
                        updated_at=created + timedelta(hours=3),
                        amount=round(rng.uniform(500, 5000), 2),
                        stage="closedwon" if won else "appointmentscheduled",
                        is_won=won,
                        contact_id=contact.contact_id,
                    )
                )
            next_id += 1
    return Crm(contacts, deals)
