"""Households, their devices and networks, and the shared address pools of everyone else.

A household has a home connection with an IP class: mostly a residential (cable/DSL/fibre)
address outside every reference range, sometimes a mobile-only (cellular) or shared-building
(commercial) connection drawn from the reference ranges. About a third of households are dual
stack: they also have an IPv6 /64 and each device its own interface address in it. Away from
home, phones use carrier addresses (shared CGNAT pools), iPhones sometimes iCloud Private Relay,
and some people listen or shop from the office. Bots fetch from data-centre addresses.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from connectors.simulator.addresses import (
    IP_CLASS_CODE,
    Addresses,
    IpRanges,
    draw_in_class,
    draw_residential,
)
from connectors.simulator.config import WorldConfig
from connectors.simulator.seeding import generator, mix64, world_salt
from connectors.simulator.user_agents import PLATFORM_CODE, ROLE_CODE, UserAgentTable

MAX_DEVICES = 4
# Listening weight of a device by platform code (ios, android, desktop): phones carry podcasts.
DEVICE_LISTEN_WEIGHT = np.array([1.0, 1.0, 0.35, 0.0, 0.0])
# Where a listen or a visit happens (a device's network at that moment).
NET_HOME, NET_CELLULAR, NET_RELAY, NET_OFFICE, NET_DATA_CENTRE = range(5)
# Interface-id slot of an Apple Watch in the household's IPv6 network.
WATCH_SLOT = MAX_DEVICES


@dataclass
class Households:
    """One row per household (index = household key)."""

    count: int
    ip_class: np.ndarray  # int8, IP_CLASS_CODE of the home connection
    home_v4: np.ndarray  # uint64, the home IPv4 address
    has_v6: np.ndarray  # bool
    v6_prefix: np.ndarray  # uint64, upper 64 bits (0 when no IPv6)
    office: np.ndarray  # int32, index into the office pool (-1 = none)
    n_devices: np.ndarray  # int8
    device_platform: np.ndarray  # int8 (households, MAX_DEVICES), PLATFORM_CODE or -1
    app_ua: np.ndarray  # int16 (households, MAX_DEVICES), podcast app user agent or -1
    browser_ua: np.ndarray  # int16 (households, MAX_DEVICES)
    watch_ua: np.ndarray  # int16, -1 = no Apple Watch
    listener: np.ndarray  # bool
    intensity: np.ndarray  # float32, relative listening volume (0 for non-listeners)
    propensity: np.ndarray  # float32, expected baseline orders over the period
    # Who follows which show: households of show s are sub_household[sub_offsets[s]:...[s+1]].
    sub_offsets: np.ndarray  # int64 (shows + 1)
    sub_household: np.ndarray  # int32
    sub_cum: np.ndarray  # float64, cumulative intensity along sub_household
    listener_index: np.ndarray  # int32, every listening household
    listener_cum: np.ndarray  # float64, cumulative intensity along listener_index
    salt: np.uint64

    def interface_ids(self, household: np.ndarray, slot: np.ndarray) -> np.ndarray:
        """Stable IPv6 interface id of a device (slot) in its household's /64: mostly random
        looking, some small DHCPv6-style numbers."""
        with np.errstate(over="ignore"):
            key = (household.astype(np.uint64) * np.uint64(8) + slot.astype(np.uint64)) ^ self.salt
        iid = mix64(key)
        small = (iid & np.uint64(0xFF)) < np.uint64(38)
        return np.where(small, (iid >> np.uint64(8)) & np.uint64(0xFFFF), iid)

    def home_address(
        self, household: np.ndarray, slot: np.ndarray, use_v6: np.ndarray
    ) -> Addresses:
        """The address a device shows from home: its IPv6 address when the household has one
        and ``use_v6``, else the home IPv4 address."""
        v6 = use_v6 & self.has_v6[household]
        version = np.where(v6, 6, 4).astype(np.int8)
        hi = np.where(v6, self.v6_prefix[household], np.uint64(0)).astype(np.uint64)
        lo = np.where(v6, self.interface_ids(household, slot), self.home_v4[household])
        return Addresses(version, hi, lo.astype(np.uint64))


@dataclass
class AddressPools:
    """Addresses shared by many people: carriers, relays, offices, and bots' servers."""

    cellular: Addresses
    relay: Addresses
    office: Addresses
    bots: Addresses
    bot_ua: np.ndarray  # int16, the user agent of each bot address
    bot_weight: np.ndarray  # float64, share of bot traffic per address (a few are heavy)


def _segments_cum(owner: np.ndarray, weight: np.ndarray, groups: int):
    order = np.argsort(owner, kind="stable")
    counts = np.bincount(owner, minlength=groups)
    offsets = np.zeros(groups + 1, dtype=np.int64)
    np.cumsum(counts, out=offsets[1:])
    return order, offsets, np.cumsum(weight[order].astype(np.float64))


def build_pools(config: WorldConfig, ranges: IpRanges, uas: UserAgentTable) -> AddressPools:
    rng = generator(config.seed, config.tenant_id, "pools")
    h = config.households
    bots = draw_in_class(rng, ranges, "data_centre", int(min(300, max(6, h // 500))), 0.1)
    bot_candidates = np.flatnonzero(uas.role == ROLE_CODE["bot"])
    w = uas.weight[bot_candidates]
    bot_ua = bot_candidates[rng.choice(w.size, size=len(bots), p=w / w.sum())]
    bot_weight = rng.pareto(1.2, size=len(bots)) + 1.0
    return AddressPools(
        cellular=draw_in_class(rng, ranges, "cellular", max(32, h // 8), 0.3),
        relay=draw_in_class(rng, ranges, "relay", max(16, h // 200), 0.4),
        office=draw_in_class(rng, ranges, "commercial", max(8, h // 60), 0.0),
        bots=bots,
        bot_ua=bot_ua.astype(np.int16),
        bot_weight=bot_weight / bot_weight.sum(),
    )


def build_households(
    config: WorldConfig,
    ranges: IpRanges,
    uas: UserAgentTable,
    pools: AddressPools,
    show_popularity: np.ndarray,
) -> Households:
    rng = generator(config.seed, config.tenant_id, "households")
    n = config.households

    # Home connection class and addresses.
    cls_draw = rng.random(n)
    ip_class = np.where(
        cls_draw < 0.93,
        IP_CLASS_CODE["household"],
        np.where(cls_draw < 0.96, IP_CLASS_CODE["cellular"], IP_CLASS_CODE["commercial"]),
    ).astype(np.int8)
    home_v4 = draw_residential(rng, ranges, n, 4)
    for name in ("cellular", "commercial"):
        sel = np.flatnonzero(ip_class == IP_CLASS_CODE[name])
        if sel.size:
            home_v4[sel] = draw_in_class(rng, ranges, name, sel.size, 0.0).lo
    has_v6 = (rng.random(n) < config.ipv6_share) & (ip_class == IP_CLASS_CODE["household"])
    v6_prefix = np.zeros(n, dtype=np.uint64)
    if has_v6.any():
        v6_prefix[has_v6] = draw_residential(rng, ranges, int(has_v6.sum()), 6)
    office = np.where(rng.random(n) < 0.35, rng.integers(0, len(pools.office), size=n), -1).astype(
        np.int32
    )

    # Devices: one to four; the first is most often a phone.
    n_devices = rng.choice([1, 2, 3, 4], size=n, p=[0.35, 0.35, 0.2, 0.1]).astype(np.int8)
    platform_codes = np.array(
        [PLATFORM_CODE["ios"], PLATFORM_CODE["android"], PLATFORM_CODE["desktop"]], np.int8
    )
    first = rng.choice(3, size=(n, 1), p=[0.55, 0.35, 0.10])
    others = rng.choice(3, size=(n, MAX_DEVICES - 1), p=[0.4, 0.3, 0.3])
    platform = platform_codes[np.concatenate([first, others], axis=1)]
    present = np.arange(MAX_DEVICES)[None, :] < n_devices[:, None]
    platform = np.where(present, platform, -1).astype(np.int8)
    flat = platform.reshape(-1)
    app_ua = np.full(flat.size, -1, dtype=np.int16)
    browser_ua = np.full(flat.size, -1, dtype=np.int16)
    some = flat >= 0
    app_ua[some] = uas.pick(rng, flat[some], "app")
    browser_ua[some] = uas.pick(rng, flat[some], "browser")
    has_iphone = (platform == PLATFORM_CODE["ios"]).any(axis=1)
    watch = has_iphone & (rng.random(n) < 0.25)
    watch_ua = np.full(n, -1, dtype=np.int16)
    if watch.any():
        watch_ua[watch] = uas.pick(
            rng, np.full(int(watch.sum()), PLATFORM_CODE["watch"], np.int8), "watch"
        )

    # Listening and buying.
    listener = rng.random(n) < config.listener_share
    intensity = np.where(listener, rng.lognormal(0.0, 1.1, size=n), 0.0).astype(np.float32)
    shape = config.baseline_propensity_shape
    propensity = rng.gamma(shape, config.baseline_orders_per_household / shape, size=n).astype(
        np.float32
    )

    # Subscriptions: each listener follows one or more shows, popular ones more often.
    shows = len(show_popularity)
    listeners = np.flatnonzero(listener).astype(np.int32)
    k = np.minimum(1 + rng.poisson(1.2, size=listeners.size), shows)
    owner = np.repeat(listeners, k)
    show = rng.choice(shows, size=owner.size, p=show_popularity)
    pair = np.unique(show.astype(np.int64) * n + owner)
    sub_show = (pair // n).astype(np.int64)
    sub_owner = (pair % n).astype(np.int32)
    order, sub_offsets, sub_cum = _segments_cum(sub_show, intensity[sub_owner], shows)
    sub_household = sub_owner[order]

    return Households(
        count=n,
        ip_class=ip_class,
        home_v4=home_v4,
        has_v6=has_v6,
        v6_prefix=v6_prefix,
        office=office,
        n_devices=n_devices,
        device_platform=platform,
        app_ua=app_ua.reshape(n, MAX_DEVICES),
        browser_ua=browser_ua.reshape(n, MAX_DEVICES),
        watch_ua=watch_ua,
        listener=listener,
        intensity=intensity,
        propensity=propensity,
        sub_offsets=sub_offsets,
        sub_household=sub_household,
        sub_cum=sub_cum,
        listener_index=listeners,
        listener_cum=np.cumsum(intensity[listeners].astype(np.float64)),
        salt=world_salt(config.seed, config.tenant_id),
    )


def pick_weighted_in_segments(
    rng: np.random.Generator,
    cum: np.ndarray,
    first: np.ndarray,
    stop: np.ndarray,
) -> np.ndarray:
    """For each row, an index in [first, stop) drawn with the weights whose running sum is
    ``cum`` (one searchsorted over all rows at once). Rows need stop > first."""
    base = np.where(first > 0, cum[np.maximum(first - 1, 0)], 0.0)
    top = cum[stop - 1]
    target = base + rng.random(first.size) * (top - base)
    idx = np.searchsorted(cum, target, side="right")
    return np.clip(idx, first, stop - 1)


def pick_device(
    rng: np.random.Generator, households: Households, household: np.ndarray, for_listening: bool
) -> np.ndarray:
    """A device slot of each household: by listening weight, or uniformly for shopping."""
    platform = households.device_platform[household]
    if for_listening:
        w = np.where(platform >= 0, DEVICE_LISTEN_WEIGHT[np.maximum(platform, 0)], 0.0)
    else:
        w = (platform >= 0).astype(np.float64)
    cum = np.cumsum(w, axis=1)
    target = rng.random(household.size) * cum[:, -1]
    return np.minimum((cum <= target[:, None]).sum(axis=1), MAX_DEVICES - 1).astype(np.int8)


def away_address(
    rng: np.random.Generator,
    pools: AddressPools,
    households: Households,
    kind: np.ndarray,
    household: np.ndarray,
) -> Addresses:
    """Addresses of devices away from home, for rows whose network kind is cellular, relay or
    office (other rows get a placeholder that the caller replaces)."""
    n = kind.size
    idx = np.zeros(n, dtype=np.int64)
    parts = []
    for code, pool in ((NET_CELLULAR, pools.cellular), (NET_RELAY, pools.relay)):
        sel = kind == code
        idx[sel] = rng.integers(0, len(pool), size=int(sel.sum()))
        parts.append((sel, pool))
    sel = kind == NET_OFFICE
    idx[sel] = np.maximum(households.office[household[sel]], 0)
    parts.append((sel, pools.office))
    out = Addresses(np.full(n, 4, np.int8), np.zeros(n, np.uint64), np.zeros(n, np.uint64))
    for sel, pool in parts:
        if sel.any():
            chosen = pool.take(idx[sel])
            out.version[sel] = chosen.version
            out.hi[sel] = chosen.hi
            out.lo[sel] = chosen.lo
    return out
