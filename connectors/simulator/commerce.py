"""The shop: visits (site events) and orders, baseline and caused by podcast ads.

Baseline: each household places Poisson(propensity) orders over the period, at shopping hours,
whatever it listens to, and browses without buying ``browse_sessions_per_order`` times as often.
Caused: each (household, campaign) first exposure leads to a visit with the campaign's visit
probability and to an order with its incremental purchase probability (an order always comes
with its visit), after a lag drawn from the published response curve (32.8% within a day, 58.0%
by day 7, 87.4% by day 30, all by day 60). Responses that would fall after the period are not
written (the truth files count them separately).

The shop sees each visit from a household device's browser: from the household's own address
most of the time, sometimes from a phone on a carrier network or from the office. Podcast-caused
visits arrive through the vanity URL, a show-notes link with UTM tags, or by typing/searching;
some buyers use the show's promo code and some name the show in the post-purchase survey.
Promo codes also leak to coupon sites and get used by people who never heard the ad.
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass, field, fields

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.simulator import text
from connectors.simulator.addresses import IP_CLASS_CODE, Addresses
from connectors.simulator.catalog import DAY_MS, Catalog
from connectors.simulator.config import RESPONSE_LAG_DAYS, RESPONSE_LAG_SHARE, WorldConfig
from connectors.simulator.exposures import FirstExposures
from connectors.simulator.network import (
    NET_CELLULAR,
    NET_HOME,
    NET_OFFICE,
    AddressPools,
    Households,
    away_address,
    pick_device,
)
from connectors.simulator.seeding import generator, mix64
from connectors.simulator.user_agents import PLATFORM_CODE

# How a visit reached the shop.
(
    CH_DIRECT,
    CH_SEARCH,
    CH_SOCIAL,
    CH_EMAIL,
    CH_COUPON,
    CH_VANITY,
    CH_PODCAST_LINK,
) = range(7)
BASELINE_CHANNELS = np.array([0.35, 0.30, 0.15, 0.10, 0.10, 0.0, 0.0])
BROWSE_CHANNELS = np.array([0.40, 0.35, 0.15, 0.10, 0.0, 0.0, 0.0])
CAUSED_CHANNELS = np.array([0.35, 0.25, 0.0, 0.0, 0.0, 0.25, 0.15])

# Share of orders per UTC hour (US evenings and lunch breaks).
SHOP_HOURS = np.array(
    [6, 5, 4, 3, 2, 1.5, 1, 1, 1, 1.2, 1.5, 2.5, 3.5, 4.5, 5, 5.5, 6, 6, 6, 6, 6, 6.5, 7, 7]
)
SHOP_HOURS = SHOP_HOURS / SHOP_HOURS.sum()

GENERIC_CODES = ["WELCOME10", "SAVE15", "FREESHIP", "SPRING20", "VIP25", "FIRSTORDER"]
PRODUCTS = ["starter-kit", "bundle", "refill-pack", "gift-card", "classic", "travel-size"]
SURVEY_CAUSED = ["<show>", "podcast", "instagram", "friend", "google"]
SURVEY_CAUSED_P = np.array([0.45, 0.25, 0.1, 0.1, 0.1])
SURVEY_BASELINE = ["instagram", "friend", "google", "tiktok", "podcast", "<show>"]
SURVEY_BASELINE_P = np.array([0.3, 0.3, 0.25, 0.08, 0.04, 0.03])
SURVEY_RESPONSE_RATE = 0.55
PROMO_CODE_USE = 0.3  # codes capture 20-40% of podcast-driven purchases


def response_lag_days(u: np.ndarray, scale: float = 1.0) -> np.ndarray:
    """Days from exposure to response for uniform draws ``u`` (piecewise-linear CDF), the
    published curve stretched by ``scale`` (``WorldConfig.response_lag_scale``)."""
    days = np.interp(u, RESPONSE_LAG_SHARE, RESPONSE_LAG_DAYS)
    # Skipping the multiplication at 1.0 keeps the default world byte-identical by construction.
    return days if scale == 1.0 else days * scale


@dataclass
class CampaignResponse:
    """Caused visits and orders per campaign (index = campaign)."""

    visits: np.ndarray
    orders: np.ndarray
    revenue: np.ndarray
    orders_after_period: np.ndarray


@dataclass
class Commerce:
    """The orders (exported and for truth) and every visit session, ready to write."""

    orders: pa.Table  # export columns
    order_household: np.ndarray  # int64, in order_id order
    order_campaign: np.ndarray  # int64, -1 = baseline
    order_ts: np.ndarray  # int64 epoch ms
    order_revenue: np.ndarray
    order_ip_class: np.ndarray  # int8 IP_CLASS_CODE of the address the order came from
    caused: CampaignResponse
    sessions: _Sessions


@dataclass
class _Sessions:
    """One row per visit to the shop (an order's visit included), all numbers."""

    household: np.ndarray
    start: np.ndarray  # epoch ms
    end: np.ndarray  # epoch ms (the order time for orders)
    is_order: np.ndarray
    campaign: np.ndarray  # -1 = not caused
    placement: np.ndarray  # -1 = not caused
    channel: np.ndarray
    # Choices that decide the pages, drawn once so that text can be built for any subset.
    product: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    lands_on_product: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    variant: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    views_product: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    adds_to_cart: np.ndarray = field(default_factory=lambda: np.zeros(0, bool))
    # Where the visit came from.
    ua: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int64))
    ip_version: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))
    ip_hi: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    ip_lo: np.ndarray = field(default_factory=lambda: np.zeros(0, np.uint64))
    ip_class: np.ndarray = field(default_factory=lambda: np.zeros(0, np.int8))

    def __len__(self) -> int:
        return self.household.size

    def take(self, index: np.ndarray) -> _Sessions:
        return _Sessions(**{name: getattr(self, name)[index] for name in _SESSION_FIELDS})

    def addresses(self) -> Addresses:
        return Addresses(self.ip_version, self.ip_hi, self.ip_lo)


_SESSION_FIELDS = tuple(f.name for f in fields(_Sessions))


def _concat_sessions(parts: list[_Sessions]) -> _Sessions:
    return _Sessions(
        **{name: np.concatenate([getattr(p, name) for p in parts]) for name in _SESSION_FIELDS}
    )


class CommerceModel:
    def __init__(
        self,
        config: WorldConfig,
        catalog: Catalog,
        households: Households,
        pools: AddressPools,
        user_agents_text: pa.Array,
    ) -> None:
        self.config = config
        self.catalog = catalog
        self.households = households
        self.pools = pools
        self.ua_text = user_agents_text
        self.start_ms = int(config.period_start.timestamp() * 1000)
        self.end_ms = int(config.period_end.timestamp() * 1000)
        self.site = f"https://{catalog.domain}/"

    # --- who visits and buys, when ----------------------------------------------------------

    def _times(self, rng: np.random.Generator, n: int) -> np.ndarray:
        day = rng.integers(0, self.config.days, size=n)
        hour = rng.choice(24, size=n, p=SHOP_HOURS)
        return (
            self.start_ms + day * DAY_MS + hour * 3_600_000 + rng.integers(0, 3_600_000, size=n)
        ).astype(np.int64)

    def _baseline(self, rng: np.random.Generator) -> list[_Sessions]:
        hh = self.households
        propensity = hh.propensity.astype(np.float64)
        orders = rng.poisson(propensity)
        browse = rng.poisson(propensity * self.config.browse_sessions_per_order)
        out = []
        for counts, is_order, channels in ((orders, True, BASELINE_CHANNELS),
                                           (browse, False, BROWSE_CHANNELS)):  # fmt: skip
            household = np.repeat(np.arange(hh.count, dtype=np.int64), counts)
            n = household.size
            end = self._times(rng, n)
            duration = rng.integers(60_000, 25 * 60_000, size=n)
            out.append(
                _Sessions(
                    household=household,
                    start=np.maximum(end - duration, self.start_ms),
                    end=end,
                    is_order=np.full(n, is_order),
                    campaign=np.full(n, -1, np.int64),
                    placement=np.full(n, -1, np.int64),
                    channel=rng.choice(7, size=n, p=channels),
                )
            )
        return out

    def _caused(
        self, rng: np.random.Generator, exposures: FirstExposures
    ) -> tuple[_Sessions, CampaignResponse]:
        cat = self.catalog
        c = exposures.campaign
        n = len(exposures)
        visit_p = cat.visit_rate[c]
        visits = rng.random(n) < visit_p
        buys = visits & (rng.random(n) < cat.incremental_rate[c] / np.maximum(visit_p, 1e-12))
        lag_days = response_lag_days(rng.random(n), self.config.response_lag_scale)
        lag_ms = (lag_days * DAY_MS).astype(np.int64)
        start = exposures.first_ts + lag_ms
        duration = rng.integers(60_000, 25 * 60_000, size=n)
        end = start + duration
        in_period_visit = visits & (start < self.end_ms)
        in_period_order = buys & (end < self.end_ms)
        keep = np.where(buys, in_period_order, in_period_visit)
        campaigns = len(cat.campaign_id)
        sel = np.flatnonzero(keep)
        sessions = _Sessions(
            household=exposures.household[sel],
            start=start[sel],
            end=end[sel],
            is_order=buys[sel],
            campaign=c[sel],
            placement=exposures.placement[sel],
            channel=rng.choice(7, size=sel.size, p=CAUSED_CHANNELS),
        )
        response = CampaignResponse(
            visits=np.bincount(c[keep], minlength=campaigns),
            orders=np.bincount(c[in_period_order], minlength=campaigns),
            revenue=np.zeros(campaigns),
            orders_after_period=np.bincount(c[buys & ~in_period_order], minlength=campaigns),
        )
        return sessions, response

    def _decide(self, rng: np.random.Generator, s: _Sessions) -> None:
        """Draw each session's pages, device and network (in place)."""
        hh = self.households
        n = len(s)
        s.product = rng.integers(0, len(PRODUCTS), size=n)
        s.lands_on_product = rng.random(n) < 0.5
        # Search engine, coupon site or social network, by channel (0 = the common one).
        s.variant = (rng.random(n) < np.where(s.channel == CH_COUPON, 0.4,
                     np.where(s.channel == CH_SOCIAL, 0.4, 0.12))).astype(np.int64)  # fmt: skip
        s.views_product = rng.random(n) < 0.6
        s.adds_to_cart = s.is_order | (rng.random(n) < 0.3)

        device = pick_device(rng, hh, s.household, for_listening=False)
        platform = hh.device_platform[s.household, device]
        s.ua = hh.browser_ua[s.household, device].astype(np.int64)
        u = rng.random(n)
        mobile = platform != PLATFORM_CODE["desktop"]
        has_office = hh.office[s.household] >= 0
        net = np.full(n, NET_HOME, dtype=np.int8)
        net[mobile & (u < 0.17)] = NET_CELLULAR
        net[mobile & (u >= 0.17) & (u < 0.2) & has_office] = NET_OFFICE
        net[~mobile & (u < 0.15) & has_office] = NET_OFFICE
        use_v6 = rng.random(n) < self.config.ipv6_traffic_share
        home = hh.home_address(s.household, device.astype(np.int64), use_v6)
        away = away_address(rng, self.pools, hh, net, s.household)
        address = Addresses.where(net == NET_HOME, home, away)
        s.ip_version, s.ip_hi, s.ip_lo = address.version, address.hi, address.lo
        ip_class = hh.ip_class[s.household].copy()
        ip_class[net == NET_CELLULAR] = IP_CLASS_CODE["cellular"]
        ip_class[net == NET_OFFICE] = IP_CLASS_CODE["commercial"]
        s.ip_class = ip_class

    # --- pages ------------------------------------------------------------------------------

    def _pages(self, s: _Sessions) -> tuple[pa.Array, pa.Array, pa.Array]:
        """Landing URL, referrer (null = none) and product page of each session."""
        cat = self.catalog
        n = len(s)
        site = self.site
        product = text.concat(site, "products/", text.choose(PRODUCTS, s.product))
        home = pa.array([site] * n, pa.string())
        parts: list[tuple[np.ndarray, pa.Array]] = []
        referrers: list[tuple[np.ndarray, pa.Array]] = []

        def rows(*channels: int) -> np.ndarray:
            return np.flatnonzero(np.isin(s.channel, channels))

        # Direct, search and coupon-site visits land on the home page or a product page.
        r = rows(CH_DIRECT, CH_SEARCH, CH_COUPON)
        on_product = s.lands_on_product[r]
        parts.append((r[on_product], product.take(pa.array(r[on_product]))))
        parts.append((r[~on_product], home.take(pa.array(r[~on_product]))))
        r = rows(CH_SEARCH)
        referrers.append(
            (r, text.choose(["https://www.google.com/", "https://www.bing.com/"], s.variant[r]))
        )
        r = rows(CH_COUPON)
        referrers.append(
            (r, text.choose(["https://www.retailmenot.com/", "https://www.coupons.com/"],
                            s.variant[r]))
        )  # fmt: skip
        # Social and email links carry their own UTM tags.
        r = rows(CH_SOCIAL)
        parts.append(
            (r, text.concat(product.take(pa.array(r)), "?utm_source=",
                            text.choose(["instagram", "facebook"], s.variant[r]),
                            "&utm_medium=social&utm_campaign=always_on"))
        )  # fmt: skip
        referrers.append(
            (r, text.choose(["https://l.instagram.com/", "https://m.facebook.com/"], s.variant[r]))
        )
        r = rows(CH_EMAIL)
        parts.append(
            (r, text.concat(home.take(pa.array(r)),
                            "?utm_source=newsletter&utm_medium=email&utm_campaign=weekly"))
        )  # fmt: skip
        # Podcast responses: the vanity URL heard in the ad, or the show-notes link.
        r = rows(CH_VANITY)
        parts.append((r, text.concat("https://", text.choose(cat.vanity_url, s.placement[r]))))
        r = rows(CH_PODCAST_LINK)
        show = cat.episode_show[cat.placement_episode[s.placement[r]]]
        parts.append(
            (r, text.concat(home.take(pa.array(r)), "?utm_source=podcast&utm_medium=audio",
                            "&utm_campaign=", text.choose(cat.campaign_id, s.campaign[r]),
                            "&utm_content=", text.choose(cat.show_slug, show)))
        )  # fmt: skip
        return text.scatter(n, parts), text.scatter(n, referrers), product

    # --- orders -----------------------------------------------------------------------------

    def _orders(self, rng: np.random.Generator, s: _Sessions) -> dict:
        cfg, cat, hh = self.config, self.catalog, self.households
        rows = np.flatnonzero(s.is_order)
        rows = rows[np.lexsort((s.household[rows], s.end[rows]))]  # order ids follow time
        o = s.take(rows)
        n = len(o)
        caused = o.campaign >= 0
        ts = o.end

        # Discount codes: the ad's promo code for some caused orders; generic codes; podcast
        # codes leaked to coupon sites (only once the campaign has started).
        code_parts: list[tuple[np.ndarray, pa.Array]] = []
        use_promo = caused & (rng.random(n) < PROMO_CODE_USE)
        r = np.flatnonzero(use_promo)
        code_parts.append((r, text.choose(cat.promo_code, o.placement[r])))
        leak_p = np.where(o.channel == CH_COUPON, 0.4, 0.01)
        leaked = np.full(n, -1, np.int64)
        if cat.placements:
            candidate = rng.integers(0, cat.placements, size=n)
            started = cat.flight_start_ms[cat.placement_campaign[candidate]] <= ts
            leaked = np.where(~caused & started & (rng.random(n) < leak_p), candidate, -1)
        r = np.flatnonzero(leaked >= 0)
        code_parts.append((r, text.choose(cat.promo_code, leaked[r])))
        generic_p = np.where(caused, 0.05, np.where(o.channel == CH_COUPON, 1.0, 0.1))
        generic = ~use_promo & (leaked < 0) & (rng.random(n) < generic_p)
        r = np.flatnonzero(generic)
        code_parts.append(
            (r, text.choose(GENERIC_CODES, rng.integers(0, len(GENERIC_CODES), r.size)))
        )
        codes = text.scatter(n, code_parts)
        # Now and then a free-shipping code is stacked on a podcast code (comma-separated).
        stacked = (use_promo | (leaked >= 0)) & (rng.random(n) < 0.05)
        codes = pc.if_else(pa.array(stacked), text.concat(codes, ",FREESHIP"), codes)
        has_code = use_promo | (leaked >= 0) | generic

        sigma = 0.55
        revenue = rng.lognormal(np.log(cfg.mean_order_value) - sigma**2 / 2, sigma, size=n)
        revenue = np.round(revenue * np.where(has_code, rng.uniform(0.75, 0.9, size=n), 1.0), 2)

        # The post-purchase survey: caused buyers often name the show.
        answered = rng.random(n) < SURVEY_RESPONSE_RATE
        choice = np.where(
            caused,
            rng.choice(len(SURVEY_CAUSED), size=n, p=SURVEY_CAUSED_P),
            rng.choice(len(SURVEY_BASELINE), size=n, p=SURVEY_BASELINE_P),
        )
        names_show = np.where(
            caused,
            choice == SURVEY_CAUSED.index("<show>"),
            choice == SURVEY_BASELINE.index("<show>"),
        )
        show = rng.integers(0, len(cat.show_name), size=n)  # a show they happen to know
        show[caused] = cat.episode_show[cat.placement_episode[o.placement[caused]]]
        words = sorted((set(SURVEY_CAUSED) | set(SURVEY_BASELINE)) - {"<show>"})

        def word_index(options: list[str]) -> np.ndarray:
            return np.array([words.index(w) if w in words else -1 for w in options])

        caused_words = word_index(SURVEY_CAUSED)
        baseline_words = word_index(SURVEY_BASELINE)
        word = np.where(
            caused,
            caused_words[np.minimum(choice, caused_words.size - 1)],
            baseline_words[np.minimum(choice, baseline_words.size - 1)],
        )
        survey = text.scatter(
            n,
            [
                (np.flatnonzero(answered & names_show),
                 text.choose(cat.show_name, show[answered & names_show])),
                (np.flatnonzero(answered & ~names_show),
                 text.choose(words, word[answered & ~names_show])),
            ],
        )  # fmt: skip

        customer = text.hex_id("cus_", mix64(o.household.astype(np.uint64) ^ hh.salt), 12)
        customer = text.null_where(customer, rng.random(n) < 0.08)  # guest checkouts
        landing, referrer, _ = self._pages(o)
        table = pa.table(
            {
                "order_id": text.numbered("ord-", np.arange(1, n + 1), 8),
                "ts": pa.array(ts * 1000, type=pa.timestamp("us")),
                "ip": o.addresses().text(),
                "user_agent": self.ua_text.take(pa.array(o.ua)),
                "customer_id": customer,
                "revenue": pa.array(revenue, pa.float64()),
                "currency": pa.array([cfg.currency] * n, pa.string()),
                "discount_codes": codes,
                "landing_url": landing,
                "referrer": referrer,
                "survey_answer": survey,
            }
        )
        return {"table": table, "sessions": o, "revenue": revenue}

    # --- site events ------------------------------------------------------------------------

    def site_events(self, s: _Sessions, first_event: int) -> pa.Table:
        """Pixel events of a block of sessions, numbered from ``first_event``: a vanity URL
        visit (when it came that way), the landing page view, maybe a product page, and an
        add-to-cart before every order."""
        n = len(s)
        site = self.site
        landing, referrer, product = self._pages(s)
        vanity = (s.channel == CH_VANITY).astype(np.int64)
        per_session = vanity + 1 + s.views_product + s.adds_to_cart
        session = np.repeat(np.arange(n), per_session)
        first = np.cumsum(per_session) - per_session
        pos = np.arange(session.size) - np.repeat(first, per_session)
        v = vanity[session]
        is_vanity = pos < v
        is_landing = pos == v
        is_product = (pos == v + 1) & s.views_product[session]
        is_cart = ~is_vanity & ~is_landing & ~is_product
        duration = s.end - s.start
        ts = s.start[session] + np.select(
            [is_vanity, is_landing, is_product],
            [0, np.where(v == 1, 1_000, 0), duration[session] * 2 // 5],
            default=duration[session] * 4 // 5,
        )
        kind = np.select([is_vanity, is_cart], [1, 2], default=0)
        order = np.lexsort((pos, session, ts))
        session, pos, kind, ts = session[order], pos[order], kind[order], ts[order]
        is_vanity, is_landing, is_product = is_vanity[order], is_landing[order], is_product[order]
        take = pa.array(session)
        # After a vanity redirect the first page is the home page; otherwise the landing URL.
        after_redirect = is_landing & (vanity[session] == 1)
        conditions = pc.make_struct(
            pa.array(is_vanity | (is_landing & ~after_redirect)),
            pa.array(after_redirect),
            pa.array(is_product),
            field_names=["landing", "redirect", "product"],
        )
        url = pc.case_when(
            conditions,
            landing.take(take),
            pa.scalar(site),
            product.take(take),
            pa.scalar(f"{site}cart"),
        )
        # The first page carries the session's referrer; later pages come from the site.
        event_referrer = pc.if_else(pa.array(pos == 0), referrer.take(take), pa.scalar(site))
        return pa.table(
            {
                "event_id": text.numbered(
                    "evt-", np.arange(first_event, first_event + session.size), 10
                ),
                "ts": pa.array(ts * 1000, type=pa.timestamp("us")),
                "ip": s.addresses().text().take(take),
                "user_agent": self.ua_text.take(pa.array(s.ua[session])),
                "event_type": text.choose(["page_view", "vanity_url_visit", "add_to_cart"], kind),
                "url": url,
                "referrer": event_referrer,
            }
        )

    def site_event_blocks(self, s: _Sessions, block: int = 100_000) -> Iterator[pa.Table]:
        """Site events of all sessions (sorted by start), a block of sessions at a time, so
        memory holds one block of text."""
        numbered = 1
        for first in range(0, len(s), block):
            table = self.site_events(s.take(np.arange(first, min(first + block, len(s)))), numbered)
            numbered += table.num_rows
            yield table

    # --- the whole shop ---------------------------------------------------------------------

    def run(self, exposures: FirstExposures) -> Commerce:
        cfg, cat = self.config, self.catalog
        rng = generator(cfg.seed, cfg.tenant_id, "commerce")
        baseline, browse = self._baseline(rng)
        caused, response = self._caused(rng, exposures)
        s = _concat_sessions([baseline, caused, browse])
        self._decide(rng, s)
        s = s.take(np.lexsort((s.household, s.start)))  # site events follow time
        orders = self._orders(rng, s)
        o = orders["sessions"]
        response.revenue = np.bincount(
            o.campaign[o.campaign >= 0],
            weights=orders["revenue"][o.campaign >= 0],
            minlength=len(cat.campaign_id),
        )
        return Commerce(
            orders=orders["table"],
            order_household=o.household,
            order_campaign=o.campaign,
            order_ts=o.end,
            order_revenue=orders["revenue"],
            order_ip_class=o.ip_class,
            caused=response,
            sessions=s,
        )
