"""Raw download requests, one day at a time, and the ad exposures they deliver.

A *listen* is one device fetching one episode. Who listens to what: an episode's pull decays
after its publish time; followers of a show (weighted by how much each household listens) take
most listens of its episodes, other listeners the rest. Each listen becomes the requests its app
really sends: an optional HEAD, an optional 2-byte probe (``bytes=0-1``), then either one 200 GET
or a sequence of 206 ranges, and sometimes a later conditional GET answered 304. Some listens
stop early; iPhones paired with an Apple Watch are sometimes fetched again by the watch; bots
fetch from data-centre addresses.

A listen by a household *exposes* it to a campaign when the episode carries the campaign's ad,
the bytes fetched reach the IAB one-minute threshold and the bytes the IAB requires for that ad
(``Catalog.ad_delivery_bytes``: a dynamically inserted ad up to its end; a baked-in ad in the
first quarter of the episode a quarter of the episode; other baked-in ads up to their end), and
the listen is inside the campaign's flight. That exposure (not what a pipeline later infers)
drives the true incremental orders.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from connectors.simulator.addresses import IP_CLASS_CODE, Addresses
from connectors.simulator.catalog import DAY_MS, Catalog
from connectors.simulator.config import WorldConfig
from connectors.simulator.network import (
    NET_CELLULAR,
    NET_DATA_CENTRE,
    NET_HOME,
    NET_OFFICE,
    NET_RELAY,
    WATCH_SLOT,
    AddressPools,
    Households,
    away_address,
    pick_device,
    pick_weighted_in_segments,
)
from connectors.simulator.seeding import generator
from connectors.simulator.user_agents import PLATFORM_CODE, UserAgentTable

LISTEN_HUMAN, LISTEN_WATCH, LISTEN_BOT = 0, 1, 2

# Share of listens per UTC hour for a mostly North American audience (commutes, evenings).
LISTEN_HOURS = np.array(
    [
        5,
        4,
        3,
        2.5,
        2,
        1.5,
        1.2,
        1,
        1,
        1.2,
        1.8,
        3,
        4.5,
        5.5,
        5.5,
        5,
        5,
        5.2,
        5.5,
        5.5,
        5.5,
        6,
        6.5,
        6,
    ]  # fmt: skip
)
LISTEN_HOURS = LISTEN_HOURS / LISTEN_HOURS.sum()
WEEKDAY_FACTOR = np.array([1.06, 1.05, 1.05, 1.04, 1.02, 0.9, 0.88])  # Monday first


def episode_pull(age_days: np.ndarray) -> np.ndarray:
    """Relative daily listens of an episode by age: a launch spike, a month-long tail, and a
    small floor for the back catalogue."""
    return 0.75 * np.exp(-age_days / 3.0) + 0.22 * np.exp(-age_days / 30.0) + 0.01


@dataclass
class DayTraffic:
    """One day's requests (sorted by time) and the exposures its listens delivered."""

    requests: pa.Table  # the export columns plus listen, household, listen_kind
    listens: int
    human_listens: int
    exposure_household: np.ndarray  # int64
    exposure_campaign: np.ndarray  # int64
    exposure_placement: np.ndarray  # int64
    exposure_ts: np.ndarray  # int64 epoch ms
    exposure_household_ip: np.ndarray  # bool: seen from the household's own home address
    deliveries_by_campaign: np.ndarray  # int64, ad deliveries (not de-duplicated)


@dataclass
class ListeningModel:
    config: WorldConfig
    catalog: Catalog
    households: Households
    pools: AddressPools
    uas: UserAgentTable
    period_start_ms: int = field(init=False)
    period_end_ms: int = field(init=False)

    def __post_init__(self) -> None:
        self.period_start_ms = int(self.config.period_start.timestamp() * 1000)
        self.period_end_ms = int(self.config.period_end.timestamp() * 1000)
        cat = self.catalog
        self._threshold = cat.valid_download_bytes()
        self._ad_delivery_bytes = cat.ad_delivery_bytes()
        self._has_subscribers = np.diff(self.households.sub_offsets) > 0

    # --- who listens to what, when ------------------------------------------------------------

    def day_start_ms(self, day: int) -> int:
        return self.period_start_ms + day * DAY_MS

    def episode_weights(self, day: int) -> np.ndarray:
        """Relative listens of each episode on ``day`` (0 before it is published)."""
        cat = self.catalog
        start = self.day_start_ms(day)
        published = cat.published_ms
        age_days = (start + DAY_MS / 2 - published) / DAY_MS
        available = np.clip((start + DAY_MS - published) / DAY_MS, 0.0, 1.0)
        return (
            cat.show_popularity[cat.episode_show]
            * episode_pull(np.maximum(age_days, 0.0))
            * (available)
        )

    def day_shares(self) -> np.ndarray:
        """Share of all human listens that falls on each day."""
        days = self.config.days
        weekday = np.array(
            [(self.config.start_date + timedelta(days=d)).weekday() for d in range(days)]
        )
        volume = np.array([self.episode_weights(d).sum() > 0 for d in range(days)], float)
        share = WEEKDAY_FACTOR[weekday] * volume
        if share.sum() == 0:
            raise ValueError(
                f"tenant {self.config.tenant_id}: no episode is published during the period"
            )
        return share / share.sum()

    def expected_episode_listens(self, human_listens: int) -> np.ndarray:
        shares = self.day_shares()
        out = np.zeros(self.catalog.episodes)
        for d, share in enumerate(shares):
            w = self.episode_weights(d)
            if w.sum() > 0:
                out += human_listens * share * w / w.sum()
        return out

    # --- one day --------------------------------------------------------------------------------

    def _human_listens(self, rng: np.random.Generator, day: int, n: int) -> dict[str, np.ndarray]:
        cat, hh = self.catalog, self.households
        w = self.episode_weights(day)
        episode = rng.choice(cat.episodes, size=n, p=w / w.sum()).astype(np.int64)
        start = self.day_start_ms(day)
        hour = rng.choice(24, size=n, p=LISTEN_HOURS)
        ts = start + hour * 3_600_000 + rng.integers(0, 3_600_000, size=n)
        published = cat.published_ms[episode]
        early = ts < published
        # Listens on release day come after release (auto-downloads bunch just after it).
        ts[early] = published[early] + (
            rng.random(int(early.sum())) ** 2 * (start + DAY_MS - 1 - published[early])
        ).astype(np.int64)

        show = cat.episode_show[episode].astype(np.int64)
        follower = (rng.random(n) >= self.config.discovery_share) & self._has_subscribers[show]
        household = np.empty(n, dtype=np.int64)
        if follower.any():
            s = show[follower]
            pos = pick_weighted_in_segments(
                rng, hh.sub_cum, hh.sub_offsets[s], hh.sub_offsets[s + 1]
            )
            household[follower] = hh.sub_household[pos]
        others = ~follower
        if others.any():
            m = int(others.sum())
            pos = pick_weighted_in_segments(
                rng,
                hh.listener_cum,
                np.zeros(m, dtype=np.int64),
                np.full(m, hh.listener_index.size, dtype=np.int64),
            )
            household[others] = hh.listener_index[pos]
        device = pick_device(rng, hh, household, for_listening=True)
        ua = hh.app_ua[household, device]
        platform = hh.device_platform[household, device]

        # The network of the moment.
        u = rng.random(n)
        mobile = platform != PLATFORM_CODE["desktop"]
        has_office = hh.office[household] >= 0
        net = np.full(n, NET_HOME, dtype=np.int8)
        net[mobile & (u < 0.16)] = NET_CELLULAR
        net[mobile & (u >= 0.16) & (u < 0.21)] = np.where(
            platform[mobile & (u >= 0.16) & (u < 0.21)] == PLATFORM_CODE["ios"],
            NET_RELAY,
            NET_CELLULAR,
        )
        net[mobile & (u >= 0.21) & (u < 0.24) & has_office] = NET_OFFICE
        net[~mobile & (u < 0.15) & has_office] = NET_OFFICE

        file_bytes = cat.file_bytes[episode]
        partial = rng.random(n) < self.config.partial_listen_share
        fraction = rng.beta(0.9, 1.8, size=n)
        id3 = cat.id3_bytes[episode]
        stop = np.where(
            partial,
            np.maximum(id3 + (fraction * (file_bytes - id3)).astype(np.int64), 1),
            file_bytes,
        )
        return {
            "episode": episode,
            "ts": ts.astype(np.int64),
            "household": household,
            "device": device.astype(np.int64),
            "ua": ua.astype(np.int64),
            "platform": platform.astype(np.int64),
            "net": net,
            "stop": stop.astype(np.int64),
            "kind": np.full(n, LISTEN_HUMAN, dtype=np.int8),
        }

    def _watch_listens(
        self, rng: np.random.Generator, human: dict[str, np.ndarray]
    ) -> dict[str, np.ndarray]:
        hh = self.households
        watch_ua = hh.watch_ua[human["household"]]
        dup = (
            (human["platform"] == PLATFORM_CODE["ios"])
            & (watch_ua >= 0)
            & (human["net"] == NET_HOME)
            & (rng.random(watch_ua.size) < self.config.watch_duplicate_share)
        )
        idx = np.flatnonzero(dup)
        ts = human["ts"][idx] + rng.integers(30_000, 1_200_000, size=idx.size)
        ts = np.minimum(ts, self.period_end_ms - 1)
        episode = human["episode"][idx]
        return {
            "episode": episode,
            "ts": ts,
            "household": human["household"][idx],
            "device": np.full(idx.size, WATCH_SLOT, dtype=np.int64),
            "ua": watch_ua[idx].astype(np.int64),
            "platform": np.full(idx.size, PLATFORM_CODE["watch"], dtype=np.int64),
            "net": np.full(idx.size, NET_HOME, dtype=np.int8),
            "stop": self.catalog.file_bytes[episode],
            "kind": np.full(idx.size, LISTEN_WATCH, dtype=np.int8),
        }

    def _bot_listens(self, rng: np.random.Generator, day: int, n: int) -> dict[str, np.ndarray]:
        cat = self.catalog
        available = np.flatnonzero(self.episode_weights(day) > 0)
        episode = available[rng.integers(0, available.size, size=n)].astype(np.int64)
        start = self.day_start_ms(day)
        ts = start + rng.integers(0, DAY_MS, size=n)
        published = cat.published_ms[episode]
        ts = np.where(ts < published, published + (start + DAY_MS - published) // 2, ts)
        bot = rng.choice(len(self.pools.bots), size=n, p=self.pools.bot_weight)
        return {
            "episode": episode,
            "ts": ts.astype(np.int64),
            "household": np.full(n, -1, dtype=np.int64),
            "device": bot.astype(np.int64),  # for bots: index into the bot pool
            "ua": self.pools.bot_ua[bot].astype(np.int64),
            "platform": np.full(n, PLATFORM_CODE["bot"], dtype=np.int64),
            "net": np.full(n, NET_DATA_CENTRE, dtype=np.int8),
            "stop": cat.file_bytes[episode],
            "kind": np.full(n, LISTEN_BOT, dtype=np.int8),
        }

    def _addresses(self, rng: np.random.Generator, listens: dict[str, np.ndarray]) -> Addresses:
        hh = self.households
        net = listens["net"]
        household = listens["household"]
        n = net.size
        out = Addresses(np.full(n, 4, np.int8), np.zeros(n, np.uint64), np.zeros(n, np.uint64))
        home = net == NET_HOME
        if home.any():
            use_v6 = rng.random(int(home.sum())) < self.config.ipv6_traffic_share
            addr = hh.home_address(household[home], listens["device"][home], use_v6)
            out.version[home], out.hi[home], out.lo[home] = addr.version, addr.hi, addr.lo
        away = (net == NET_CELLULAR) | (net == NET_RELAY) | (net == NET_OFFICE)
        if away.any():
            addr = away_address(rng, self.pools, hh, net[away], household[away])
            out.version[away], out.hi[away], out.lo[away] = addr.version, addr.hi, addr.lo
        bots = net == NET_DATA_CENTRE
        if bots.any():
            addr = self.pools.bots.take(listens["device"][bots])
            out.version[bots], out.hi[bots], out.lo[bots] = addr.version, addr.hi, addr.lo
        return out

    def day(self, day: int, n_human: int, n_bot: int, listen_base: int = 0) -> DayTraffic:
        """The traffic of one day; ``listen_base`` numbers its listens after earlier days'."""
        cfg = self.config
        rng = generator(cfg.seed, cfg.tenant_id, "listening", day)
        return self._traffic(rng, day, n_human, n_bot, listen_base)

    def _traffic(
        self, rng: np.random.Generator, day: int, n_human: int, n_bot: int, listen_base: int
    ) -> DayTraffic:
        if n_human > 0:
            human = self._human_listens(rng, day, n_human)
            parts = [human, self._watch_listens(rng, human)]
        else:
            parts = []
        if n_bot > 0:
            parts.append(self._bot_listens(rng, day, n_bot))
        if not parts:
            parts.append(_no_listens())
        listens = {k: np.concatenate([p[k] for p in parts]) for k in parts[0]}
        addresses = self._addresses(rng, listens)
        requests, delivered = self._render(rng, listens, addresses, listen_base)
        exposures = self._exposures(listens, delivered)
        return DayTraffic(
            requests=requests,
            listens=listens["kind"].size,
            human_listens=n_human,
            **exposures,
        )

    # --- requests -------------------------------------------------------------------------------

    def _render(
        self,
        rng: np.random.Generator,
        listens: dict[str, np.ndarray],
        addresses: Addresses,
        listen_base: int,
    ) -> tuple[pa.Table, np.ndarray]:
        """Expand listens into requests; returns the requests (sorted by time) and the bytes
        each listen fetched from the start of the file."""
        cat, uas = self.catalog, self.uas
        n = listens["kind"].size
        ua = listens["ua"]
        episode = listens["episode"]
        file_bytes = cat.file_bytes[episode]
        stop = listens["stop"]
        t0 = listens["ts"]

        head = rng.random(n) < uas.p_head[ua]
        probe = rng.random(n) < uas.p_probe[ua]
        chunk = uas.chunk_bytes[ua]
        ranged = (rng.random(n) < uas.p_ranged[ua]) & (chunk > 0)
        open_ended = rng.random(n) < uas.p_open_ended[ua]
        revalidate = rng.random(n) < uas.p_revalidate[ua]
        safe_chunk = np.maximum(chunk, 1)
        body_n = np.where(ranged, -(-stop // safe_chunk), 1)
        delivered = np.where(ranged, np.minimum(body_n * safe_chunk, file_bytes), stop)
        per_listen = head.astype(np.int64) + probe + body_n + revalidate

        # Time between body requests: streaming clients follow playback, downloaders burst;
        # both finish before the period ends.
        audio_rate = cat.bitrate_kbps[episode] * 125
        gap = np.where(
            uas.streams[ua] & ranged,
            (safe_chunk / audio_rate * 1000 * 0.85).astype(np.int64),
            rng.integers(300, 1500, size=n),
        )
        room = np.maximum(self.period_end_ms - 2 - t0 - 500, 0)
        gap = np.minimum(gap, room // np.maximum(body_n, 1))
        reval_at = t0 + (rng.random(n) * np.minimum(18 * 3_600_000, room)).astype(np.int64)

        listen = np.repeat(np.arange(n), per_listen)
        starts = np.cumsum(per_listen) - per_listen
        pos = np.arange(listen.size) - np.repeat(starts, per_listen)
        h = head[listen].astype(np.int64)
        p = probe[listen].astype(np.int64)
        k = pos - h - p
        is_head = pos < h
        is_probe = ~is_head & (pos < h + p)
        is_body = (k >= 0) & (k < body_n[listen])
        is_reval = k >= body_n[listen]
        is_range = is_body & ranged[listen]

        fb = file_bytes[listen]
        c = safe_chunk[listen]
        range_start = k * c
        range_end = np.minimum((k + 1) * c, fb) - 1
        bytes_sent = np.select(
            [is_probe, is_range, is_body],
            [np.minimum(fb, 2), range_end - range_start + 1, stop[listen]],
            default=0,
        )
        status = np.select([is_probe | is_range, is_reval], [206, 304], default=200).astype(
            np.int32
        )
        ts = np.select(
            [is_head, is_probe, is_body],
            [t0[listen], t0[listen] + 150, t0[listen] + 400 + k * gap[listen]],
            default=reval_at[listen],
        )
        ts = np.minimum(ts, self.period_end_ms - 1)  # a listen in the last second stays inside

        order = np.argsort(ts, kind="stable")
        listen, ts = listen[order], ts[order]
        is_head, is_probe, is_range = is_head[order], is_probe[order], is_range[order]
        range_start, range_end = range_start[order], range_end[order]
        open_last = is_range & open_ended[listen] & (range_end == fb[order] - 1)

        start_text = pa.array(range_start).cast(pa.string())
        end_text = pc.if_else(
            pa.array(open_last), pa.scalar(""), pa.array(range_end).cast(pa.string())
        )
        range_text = pc.binary_join_element_wise(pa.scalar("bytes="), start_text, "-", end_text, "")
        range_text = pc.if_else(pa.array(is_probe), pa.scalar("bytes=0-1"), range_text)
        range_text = pc.if_else(
            pa.array(is_probe | is_range), range_text, pa.nulls(listen.size, pa.string())
        )
        ip_text = addresses.text().take(pa.array(listen))
        table = pa.table(
            {
                # Sub-millisecond jitter: two clients hitting one URL in the same millisecond
                # are distinct log lines, not a repeat of one line.
                "ts": pa.array(
                    ts * 1000 + rng.integers(0, 1000, size=ts.size), type=pa.timestamp("us")
                ),
                "ip": ip_text,
                "user_agent": uas.text.take(pa.array(ua[listen])),
                "episode_id": cat.episode_id.take(pa.array(episode[listen])),
                "method": pc.if_else(pa.array(is_head), pa.scalar("HEAD"), pa.scalar("GET")),
                "status": pa.array(status[order], type=pa.int32()),
                "bytes_sent": pa.array(bytes_sent[order], type=pa.int64()),
                "range": range_text,
                # a hosting log does not report it
                "seconds_downloaded": pa.nulls(listen.size, pa.float64()),
                "listen": pa.array(listen + listen_base, type=pa.int64()),
                "household": pa.array(listens["household"][listen], type=pa.int64()),
                "listen_kind": pa.array(listens["kind"][listen], type=pa.int8()),
            }
        )
        return table, delivered

    # --- exposures ------------------------------------------------------------------------------

    def _exposures(self, listens: dict[str, np.ndarray], delivered: np.ndarray) -> dict:
        cat, hh = self.catalog, self.households
        human = np.flatnonzero(listens["kind"] == LISTEN_HUMAN)
        episode = listens["episode"][human]
        ts = listens["ts"][human]
        got = delivered[human]
        valid = got >= self._threshold[episode]
        out_h, out_c, out_p, out_t, out_home = [], [], [], [], []
        for slot in range(3):
            placement = cat.episode_slots[episode, slot].astype(np.int64)
            has = placement >= 0
            pl = np.where(has, placement, 0)
            campaign = cat.placement_campaign[pl].astype(np.int64)
            hit = (
                has
                & valid
                & (got >= self._ad_delivery_bytes[pl])
                & (ts >= cat.flight_start_ms[campaign])
                & (ts < cat.flight_end_ms[campaign])
            )
            sel = np.flatnonzero(hit)
            household = listens["household"][human[sel]]
            out_h.append(household)
            out_c.append(campaign[sel])
            out_p.append(pl[sel])
            out_t.append(ts[sel])
            out_home.append(
                (listens["net"][human[sel]] == NET_HOME)
                & (hh.ip_class[household] == IP_CLASS_CODE["household"])
            )
        campaign_all = np.concatenate(out_c)
        return {
            "exposure_household": np.concatenate(out_h).astype(np.int64),
            "exposure_campaign": campaign_all.astype(np.int64),
            "exposure_placement": np.concatenate(out_p).astype(np.int64),
            "exposure_ts": np.concatenate(out_t).astype(np.int64),
            "exposure_household_ip": np.concatenate(out_home).astype(bool),
            "deliveries_by_campaign": np.bincount(
                campaign_all, minlength=len(cat.campaign_id)
            ).astype(np.int64),
        }

    # --- sizing ---------------------------------------------------------------------------------

    def requests_per_human_listen(self) -> float:
        """Requests per human listen (including the watch and bot traffic that comes with it),
        measured on a pilot sample from its own random stream."""
        cfg = self.config
        rng = generator(cfg.seed, cfg.tenant_id, "pilot")
        shares = self.day_shares()
        days = np.flatnonzero(shares > 0)
        sample_days = days[np.linspace(0, days.size - 1, num=min(3, days.size)).astype(int)]
        requests = humans = 0
        for d in sample_days:
            n = 3000
            traffic = self._traffic(rng, int(d), n, int(round(n * cfg.bot_share)), 0)
            requests += traffic.requests.num_rows
            humans += n
        return requests / humans


def _no_listens() -> dict[str, np.ndarray]:
    empty = {
        k: np.zeros(0, dtype=np.int64)
        for k in ("episode", "ts", "household", "device", "ua", "platform", "stop")
    }
    empty["net"] = np.zeros(0, np.int8)
    empty["kind"] = np.zeros(0, np.int8)
    return empty


def allocate(total: int, shares: np.ndarray) -> np.ndarray:
    """Split ``total`` into integers proportional to ``shares`` (largest remainders)."""
    raw = total * shares
    counts = np.floor(raw).astype(np.int64)
    short = total - int(counts.sum())
    if short > 0:
        counts[np.argsort(-(raw - counts), kind="stable")[:short]] += 1
    return counts
