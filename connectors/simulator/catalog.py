"""Shows, episodes, campaigns and ad placements: what is published and what is bought.

An episode file is its ID3 header followed by constant-bitrate audio, so
``file_bytes = id3_bytes + duration_s * bitrate_kbps * 1000 / 8`` exactly (durations are whole
seconds). A placement puts one campaign's ad at one position of one episode; an episode has at
most one ad per position (pre, mid, post).

An ad is either inserted dynamically when the file is served or baked into the audio. The IAB
rule for when a download delivers it (``Catalog.ad_delivery_bytes``) depends on which, so the
simulated exposures follow the rule the pipeline applies to the export.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import pyarrow as pa

from connectors.simulator import text
from connectors.simulator.config import WorldConfig
from connectors.simulator.seeding import generator

POSITIONS = ("pre", "mid", "post")
READ_TYPES = ("host", "produced")
INSERTION_TYPES = ("dynamic", "baked_in")
# Share of placements inserted dynamically (the rest are baked into the audio).
DYNAMIC_SHARE = 0.6
# IAB: a baked-in ad that starts in the first quarter of the episode counts once a quarter of
# the episode has been downloaded.
BAKED_IN_EARLY_FRACTION = 0.25
BITRATES_KBPS = (64, 96, 128)
DAY_MS = 86_400_000

_ADJECTIVES = tuple(
    str.split(
        "Curious Daily Quiet Bright Hidden Modern Open Wild Slow Honest Late Little Brave Useful "
        "Secret Simple Deep Good Weekly Plain Electric Common Second Lucky Northern Golden Odd "
        "Hard"
    )
)
_NOUNS = tuple(
    str.split(
        "Kitchen Money Science Garden History Startup Parent Crime Table Hour Frontier Signal "
        "Mind Market Workshop Planet Habit Story Machine Field Room Road Desk Almanac Dispatch "
        "Commute Lab"
    )
)
_TOPICS = tuple(
    str.split(
        "Sleep Budgets Coffee Rockets Habits Sourdough Interest Rates Mushrooms Cities Memory "
        "Running Chess Tides Jazz Taxes Volcanoes Startups Bees Maps Fermentation Trust Bridges "
        "Salt Silence Luck Weather Attention Moths Glass"
    )
)
_CAMPAIGN_THEMES = (
    "Spring Launch",
    "Always-on Audio",
    "Summer Sale",
    "New Customer Push",
    "Brand Awareness",
    "Holiday Gifting",
    "Product Drop",
    "Retention Test",
)
_DISCOUNTS = (10, 15, 20, 25)


def _slug(value: str) -> str:
    return re.sub(r"[^a-z0-9]+", "", value.lower()) or "shop"


@dataclass
class Catalog:
    """Everything published and bought, as columns (index = position in each table)."""

    brand: str
    domain: str
    # Shows.
    show_id: list[str]
    show_name: list[str]
    show_slug: list[str]
    show_popularity: np.ndarray  # float64, sums to 1
    # Episodes.
    episode_id: pa.Array
    episode_show: np.ndarray  # int32
    episode_title: pa.Array
    published_ms: np.ndarray  # int64, epoch ms
    duration_s: np.ndarray  # int64
    bitrate_kbps: np.ndarray  # int64
    id3_bytes: np.ndarray  # int64
    file_bytes: np.ndarray  # int64
    # Campaigns.
    campaign_id: list[str]
    advertiser: list[str]
    campaign_name: list[str]
    start_date: list[date]
    end_date: list[date]
    flight_start_ms: np.ndarray  # int64
    flight_end_ms: np.ndarray  # int64, exclusive (midnight after end_date)
    budget: np.ndarray  # float64
    currency: str
    incremental_rate: np.ndarray  # float64, P(caused order | exposed), per campaign
    visit_rate: np.ndarray  # float64, P(caused visit | exposed), >= incremental_rate
    # Placements.
    placement_id: list[str]
    placement_campaign: np.ndarray  # int32
    placement_episode: np.ndarray  # int32
    placement_position: np.ndarray  # int8, index into POSITIONS
    placement_read_type: np.ndarray  # int8, index into READ_TYPES
    placement_insertion: np.ndarray  # int8, index into INSERTION_TYPES
    ad_start_s: np.ndarray  # float64
    ad_end_s: np.ndarray  # float64
    cost: np.ndarray  # float64, set by price_placements
    promo_code: list[str]
    vanity_url: list[str]
    # Placement index at each position of each episode (-1 = no ad), shape (episodes, 3).
    episode_slots: np.ndarray

    @property
    def episodes(self) -> int:
        return len(self.episode_show)

    @property
    def placements(self) -> int:
        return len(self.placement_id)

    def audio_bytes_per_s(self) -> np.ndarray:
        return self.bitrate_kbps * 125

    def valid_download_bytes(self) -> np.ndarray:
        """IAB threshold per episode: ID3 header plus one minute of audio (capped at the file)."""
        return np.minimum(self.id3_bytes + 60 * self.audio_bytes_per_s(), self.file_bytes)

    def ad_end_bytes(self) -> np.ndarray:
        """Bytes an episode must deliver for each placement's ad to be fully downloaded."""
        ep = self.placement_episode
        return self.id3_bytes[ep] + np.ceil(self.ad_end_s * self.audio_bytes_per_s()[ep]).astype(
            np.int64
        )

    def ad_delivery_bytes(self) -> np.ndarray:
        """Bytes a download must reach for each placement's ad to count (IAB): a dynamically
        inserted ad all of its bytes (up to its end); a baked-in ad that starts in the first
        quarter of the episode a quarter of the episode (ID3 header + 25% of the audio); any
        other baked-in ad the bytes up to its end. A download of the whole file reaches every
        one (never more than ``file_bytes``)."""
        ep = self.placement_episode
        audio = self.duration_s[ep] * self.audio_bytes_per_s()[ep]
        quarter = self.id3_bytes[ep] + np.ceil(BAKED_IN_EARLY_FRACTION * audio).astype(np.int64)
        early = self.ad_start_s < BAKED_IN_EARLY_FRACTION * self.duration_s[ep]
        baked = self.placement_insertion == INSERTION_TYPES.index("baked_in")
        need = np.where(baked & early, quarter, self.ad_end_bytes())
        return np.minimum(need, self.file_bytes[ep])


def _episode_schedule(
    config: WorldConfig, rng: np.random.Generator, shows: int
) -> tuple[np.ndarray, np.ndarray]:
    """Publish times (epoch ms) and show index of every episode, newest last per show."""
    per_show = config.episodes_per_show
    end_ms = int(config.period_end.timestamp() * 1000)
    cadence = rng.choice([1.0, 3.5, 7.0, 14.0], size=shows, p=[0.1, 0.2, 0.55, 0.15])
    # A show's episodes reach back past the start of the period, so that every day has something
    # to listen to.
    cadence = np.maximum(cadence, 1.1 * config.days / per_show)
    newest_age = rng.random(shows) * np.minimum(cadence, 7.0)
    steps = np.arange(per_show)[::-1]  # oldest first
    jitter = rng.uniform(-0.1, 0.1, size=(shows, per_show))
    age_days = newest_age[:, None] + (steps[None, :] + jitter) * cadence[:, None]
    publish_hour = rng.choice([4, 5, 8, 9, 10, 13, 14], size=shows)  # releases are scheduled
    day_index = np.floor((end_ms - age_days * DAY_MS - 1) / DAY_MS)
    published = (
        day_index * DAY_MS
        + publish_hour[:, None] * 3_600_000
        + rng.integers(0, 59, size=(shows, per_show)) * 60_000
    ).astype(np.int64)
    # Nothing is published after the period (the newest episode may be published on its last day).
    published = np.minimum(published, end_ms - 3_600_000)
    published = np.maximum.accumulate(published, axis=1)
    show_of = np.repeat(np.arange(shows, dtype=np.int32), per_show)
    return published.reshape(-1), show_of


def build_catalog(config: WorldConfig) -> Catalog:
    rng = generator(config.seed, config.tenant_id, "catalog")
    brand_slug = _slug(config.tenant_id)
    brand = brand_slug[:1].upper() + brand_slug[1:]
    domain = f"{brand_slug}.com"

    # Shows: unique names; popularity follows a Zipf-like curve (a few shows get most listens).
    n_shows = config.shows
    combos = [(a, b) for a in _ADJECTIVES for b in _NOUNS]
    order = rng.permutation(len(combos))
    show_name, show_slug = [], []
    for k in range(n_shows):
        adjective, noun = combos[order[k % len(combos)]]
        suffix = "" if k < len(combos) else f" {k // len(combos) + 1}"
        show_name.append(f"The {adjective} {noun}{suffix}")
        show_slug.append(_slug(f"{adjective}{noun}{suffix}"))
    show_id = [f"show{k + 1:04d}" for k in range(n_shows)]
    popularity = 1.0 / np.arange(1, n_shows + 1) ** 0.9
    popularity = popularity[rng.permutation(n_shows)]
    popularity /= popularity.sum()
    show_bitrate = rng.choice(BITRATES_KBPS, size=n_shows, p=[0.25, 0.35, 0.4])
    show_minutes = np.clip(rng.lognormal(np.log(38.0), 0.45, size=n_shows), 8, 110)
    show_id3 = rng.choice([12_000, 45_000, 180_000, 420_000], size=n_shows, p=[0.2, 0.3, 0.3, 0.2])

    # Episodes.
    published, ep_show = _episode_schedule(config, rng, n_shows)
    n_eps = len(ep_show)
    duration = np.clip(
        np.rint(show_minutes[ep_show] * 60 * rng.lognormal(0.0, 0.2, size=n_eps)), 300, 9000
    ).astype(np.int64)
    bitrate = show_bitrate[ep_show].astype(np.int64)
    id3 = (show_id3[ep_show] + rng.integers(0, 4_000, size=n_eps)).astype(np.int64)
    file_bytes = id3 + duration * bitrate * 125
    number_in_show = np.tile(np.arange(1, config.episodes_per_show + 1), n_shows)
    topics = rng.integers(0, len(_TOPICS), size=(n_eps, 2))
    title = text.concat(
        "Episode ",
        pa.array(number_in_show).cast(pa.string()),
        ": ",
        text.choose(_TOPICS, topics[:, 0]),
        " and ",
        text.choose(_TOPICS, topics[:, 1]),
    )
    episode_id = text.numbered("ep", np.arange(1, n_eps + 1), 6)

    # Campaigns: flights inside the period, three to six weeks long when the period allows.
    n_camp = config.campaigns
    days = config.days
    start_ms0 = int(config.period_start.timestamp() * 1000)
    length = np.minimum(rng.integers(21, 46, size=n_camp), days)
    first_day = rng.integers(0, np.maximum(days - length, 0) + 1)
    start_date = [config.start_date + timedelta(days=int(d)) for d in first_day]
    end_date = [s + timedelta(days=int(n) - 1) for s, n in zip(start_date, length, strict=True)]
    flight_start_ms = start_ms0 + first_day.astype(np.int64) * DAY_MS
    flight_end_ms = flight_start_ms + length.astype(np.int64) * DAY_MS
    campaign_id = [f"cmp{k + 1:04d}" for k in range(n_camp)]
    campaign_name = [
        f"{brand} {_CAMPAIGN_THEMES[k % len(_CAMPAIGN_THEMES)]} {k // len(_CAMPAIGN_THEMES) + 1}"
        for k in range(n_camp)
    ]
    # The campaign-specific effect: lognormal around the scaled benchmark, mean preserved.
    sigma = config.effect_spread
    factor = np.exp(sigma * rng.standard_normal(n_camp) - sigma**2 / 2)
    incremental = np.minimum(config.incremental_purchase_rate * config.effect_scale * factor, 0.9)
    visit = np.clip(config.visitor_rate * config.effect_scale * factor, incremental, 1.0)

    # Placements, campaign by campaign (a loop over campaigns and their shows).
    slots = np.full((n_eps, 3), -1, dtype=np.int32)
    p_campaign: list[np.ndarray] = []
    p_episode: list[np.ndarray] = []
    p_position: list[np.ndarray] = []
    promo_of: list[str] = []
    vanity_of: list[str] = []
    p_code_index: list[np.ndarray] = []
    codes_taken: set[str] = set()
    vanity_taken: set[str] = set()
    n_shows_per = min(config.shows_per_campaign, n_shows)
    for c in range(n_camp):
        bought = rng.choice(n_shows, size=n_shows_per, replace=False, p=popularity)
        for s in bought:
            eps = np.flatnonzero(ep_show == s)
            window = (published[eps] >= flight_start_ms[c] - 21 * DAY_MS) & (
                published[eps] < flight_end_ms[c]
            )
            chosen = eps[window & (rng.random(eps.size) < config.placement_coverage)]
            if chosen.size == 0:  # keep every bought show on air: its newest episodes
                before = eps[published[eps] < flight_end_ms[c]]
                chosen = before[-2:] if before.size else eps[:2]
            # One position per episode, among the free ones (pre- and mid-roll sell first).
            free = slots[chosen] < 0
            pref = np.array([0.4, 0.45, 0.15])[None, :] * free
            has_free = pref.sum(axis=1) > 0
            chosen, pref = chosen[has_free], pref[has_free]
            if chosen.size == 0:
                continue
            cum = np.cumsum(pref / pref.sum(axis=1, keepdims=True), axis=1)
            position = (rng.random(chosen.size)[:, None] > cum).sum(axis=1).clip(0, 2)
            word = re.sub(r"[^A-Z]", "", show_name[s].split()[-1].upper()) or "PODCAST"
            code = f"{word}{_DISCOUNTS[int(rng.integers(len(_DISCOUNTS)))]}"
            while code in codes_taken:
                code = f"{code}{chr(65 + int(rng.integers(26)))}"
            codes_taken.add(code)
            vanity = f"{domain}/{show_slug[s]}"
            n_vanity = 2
            while vanity in vanity_taken:
                vanity = f"{domain}/{show_slug[s]}{n_vanity}"
                n_vanity += 1
            vanity_taken.add(vanity)
            promo_of.append(code)
            vanity_of.append(vanity)
            first = sum(len(a) for a in p_campaign)
            slots[chosen, position] = first + np.arange(chosen.size)
            p_campaign.append(np.full(chosen.size, c, dtype=np.int32))
            p_episode.append(chosen.astype(np.int32))
            p_position.append(position.astype(np.int8))
            p_code_index.append(np.full(chosen.size, len(promo_of) - 1, dtype=np.int32))

    placement_campaign = np.concatenate(p_campaign) if p_campaign else np.zeros(0, np.int32)
    placement_episode = np.concatenate(p_episode) if p_episode else np.zeros(0, np.int32)
    position = np.concatenate(p_position) if p_position else np.zeros(0, np.int8)
    code_index = np.concatenate(p_code_index) if p_code_index else np.zeros(0, np.int32)
    n_place = len(placement_campaign)
    read_type = np.where(rng.random(n_place) < np.where(position == 2, 0.3, 0.65), 0, 1).astype(
        np.int8
    )
    ad_len = np.where(read_type == 0, rng.integers(45, 91, size=n_place), 30).astype(np.float64)
    ep_duration = duration[placement_episode].astype(np.float64)
    ad_start = np.select(
        [position == 0, position == 1],
        [
            rng.uniform(0.0, 25.0, size=n_place),
            ep_duration * rng.uniform(0.35, 0.6, size=n_place),
        ],
        default=ep_duration - ad_len - rng.uniform(5.0, 40.0, size=n_place),
    )
    ad_start = np.round(np.clip(ad_start, 0.0, np.maximum(ep_duration - ad_len, 0.0)), 1)
    ad_end = np.minimum(ad_start + ad_len, ep_duration)
    # Its own stream, so that adding the insertion type moved no other draw of the catalogue.
    insertion = np.where(
        generator(config.seed, config.tenant_id, "insertion").random(n_place) < DYNAMIC_SHARE,
        INSERTION_TYPES.index("dynamic"),
        INSERTION_TYPES.index("baked_in"),
    ).astype(np.int8)

    return Catalog(
        brand=brand,
        domain=domain,
        show_id=show_id,
        show_name=show_name,
        show_slug=show_slug,
        show_popularity=popularity,
        episode_id=episode_id,
        episode_show=ep_show,
        episode_title=title,
        published_ms=published,
        duration_s=duration,
        bitrate_kbps=bitrate,
        id3_bytes=id3,
        file_bytes=file_bytes,
        campaign_id=campaign_id,
        advertiser=[brand] * n_camp,
        campaign_name=campaign_name,
        start_date=start_date,
        end_date=end_date,
        flight_start_ms=flight_start_ms,
        flight_end_ms=flight_end_ms,
        budget=np.zeros(n_camp),
        currency=config.currency,
        incremental_rate=incremental,
        visit_rate=visit,
        placement_id=[f"pl{k + 1:06d}" for k in range(n_place)],
        placement_campaign=placement_campaign,
        placement_episode=placement_episode,
        placement_position=position,
        placement_read_type=read_type,
        placement_insertion=insertion,
        ad_start_s=ad_start,
        ad_end_s=ad_end,
        cost=np.zeros(n_place),
        promo_code=[promo_of[i] for i in code_index],
        vanity_url=[vanity_of[i] for i in code_index],
        episode_slots=slots,
    )


# Published CPMs of host-read and produced spots, by position (US$ per thousand downloads).
CPM_BY_POSITION = np.array([22.0, 25.0, 15.0])
HOST_READ_PREMIUM = 1.25


def price_placements(
    catalog: Catalog, expected_episode_listens: np.ndarray, rng: np.random.Generator
) -> None:
    """Set each placement's cost (CPM x expected downloads in the flight) and each campaign's
    budget (its placements' cost plus an unspent margin)."""
    cpm = CPM_BY_POSITION[catalog.placement_position] * np.where(
        catalog.placement_read_type == 0, HOST_READ_PREMIUM, 1.0
    )
    impressions = expected_episode_listens[catalog.placement_episode] * 0.8
    catalog.cost = np.round(cpm * np.maximum(impressions, 1.0) / 1000.0, 2)
    spend = np.bincount(
        catalog.placement_campaign, weights=catalog.cost, minlength=len(catalog.campaign_id)
    )
    margin = rng.uniform(1.0, 1.15, size=spend.size)
    catalog.budget = np.maximum(np.ceil(spend * margin / 10.0) * 10.0, 100.0)
