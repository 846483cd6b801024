"""From segment probabilities to sponsor reads: where each read starts and ends, what it says,
where in the episode it is, and which planned placement it fulfils.

* A read is a run of consecutive read segments (at most ``MAX_GAP_S`` apart). A run that names
  two campaigns (two ads back to back) is cut after the last segment naming the first one: a
  read closes with its code and URL.
* Its promo code, vanity URL and brand are looked up in its text (:mod:`mentions`), the
  tenant's own codes, URLs and advertisers first.
* Its position comes from the host talk around it: ``pre`` when at most ``EDGE_TALK_S`` seconds
  of talk come before it, ``post`` when at most that much comes after it, ``mid`` otherwise. It
  does not depend on how long the episode is, so a post-roll before another post-roll is still
  a post-roll.
* Its placement is the episode's planned placement whose promo code it says, else whose vanity
  URL it says, else (when it names the advertiser of several) the nearest planned one in time.
  A code or URL of a campaign planned elsewhere gives the campaign without a placement.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from models_ml.transcripts.mentions import brands_in, codes_in, normalise_url, urls_in

MAX_GAP_S = 5.0
EDGE_TALK_S = 60.0


@dataclass
class DetectedRead:
    episode_id: str
    segments: list[int]  # row positions in the episode's segment frame
    start_s: float
    end_s: float
    text: str
    confidence: float
    brand: str | None = None
    promo_code: str | None = None
    vanity_url: str | None = None
    position: str | None = None
    campaign_id: str | None = None
    placement_id: str | None = None


@dataclass
class Catalogue:
    """The tenant's planned placements (with their campaign's advertiser), indexed once for
    matching reads."""

    placements: pd.DataFrame  # placement_id, campaign_id, episode_id, ..., advertiser
    advertisers: list[str]
    known_codes: set[str]
    known_urls: set[str]
    by_code: dict[str, str] = field(init=False)  # promo code -> campaign
    by_url: dict[str, str] = field(init=False)  # vanity URL -> campaign
    _by_episode: dict[str, pd.DataFrame] = field(init=False)

    def __post_init__(self) -> None:
        p = self.placements
        codes = p.dropna(subset=["promo_code"])
        self.by_code = {
            str(c).upper(): str(k)
            for c, k in zip(codes["promo_code"], codes["campaign_id"], strict=True)
        }
        urls = p.dropna(subset=["vanity_url"])
        self.by_url = {
            normalise_url(str(u)): str(k)
            for u, k in zip(urls["vanity_url"], urls["campaign_id"], strict=True)
        }
        planned = p.assign(
            code_upper=p["promo_code"].fillna("").astype(str).str.upper(),
            url_normal=p["vanity_url"].fillna("").astype(str).map(normalise_url),
            advertiser_lower=p["advertiser"].fillna("").astype(str).str.lower(),
        )
        self._by_episode = {str(e): g for e, g in planned.groupby("episode_id")}
        self._empty = planned.iloc[0:0]

    def planned_in(self, episode_id: str) -> pd.DataFrame:
        """The episode's planned placements."""
        return self._by_episode.get(episode_id, self._empty)


def _identity(text: str, catalogue: Catalogue) -> str | None:
    """The campaign a segment names by its code or URL, if any."""
    for code in codes_in(text, catalogue.known_codes):
        if code in catalogue.by_code:
            return catalogue.by_code[code]
    for url in urls_in(text):
        if url in catalogue.by_url:
            return catalogue.by_url[url]
    return None


def runs(segments: pd.DataFrame, is_read: np.ndarray) -> list[list[int]]:
    """Row positions of consecutive read segments of one episode (sorted by segment_index)."""
    out: list[list[int]] = []
    start = segments["start_s"].to_numpy(dtype=float)
    end = segments["end_s"].to_numpy(dtype=float)
    for i in np.flatnonzero(is_read):
        if out and out[-1][-1] == i - 1 and start[i] - end[i - 1] <= MAX_GAP_S:
            out[-1].append(int(i))
        else:
            out.append([int(i)])
    return out


def split_by_campaign(run: list[int], identities: list[str | None]) -> list[list[int]]:
    """Cut a run where it moves from one named campaign to another (``identities`` per
    segment of the run): after the last segment naming the first campaign."""
    pieces: list[list[int]] = []
    current: str | None = None
    last_named = -1
    begin = 0
    for k, ident in enumerate(identities):
        if ident is None:
            continue
        if current is not None and ident != current:
            pieces.append(run[begin : last_named + 1])
            begin = last_named + 1
        current, last_named = ident, k
    pieces.append(run[begin:])
    return [p for p in pieces if p]


def position_of(talk_before_s: float, talk_after_s: float) -> str:
    if talk_before_s <= EDGE_TALK_S:
        return "pre"
    if talk_after_s <= EDGE_TALK_S:
        return "post"
    return "mid"


def detect_episode_reads(
    episode_id: str,
    segments: pd.DataFrame,
    probability: np.ndarray,
    threshold: float,
    catalogue: Catalogue,
) -> list[DetectedRead]:
    """The reads of one episode (``segments`` sorted by segment_index, with P(read) each)."""
    segments = segments.reset_index(drop=True)
    texts = list(segments["text"])
    start = segments["start_s"].to_numpy(dtype=float)
    end = segments["end_s"].to_numpy(dtype=float)
    pieces = []
    for run in runs(segments, probability >= threshold):
        identities = [_identity(texts[i], catalogue) for i in run]
        pieces += split_by_campaign(run, identities)
    in_read = np.zeros(len(segments), dtype=bool)
    for piece in pieces:
        in_read[piece] = True
    talk = np.where(in_read, 0.0, np.maximum(end - start, 0.0))
    reads = []
    for piece in pieces:
        text = " ".join(texts[i] for i in piece)
        first, last = piece[0], piece[-1]
        codes = codes_in(text, catalogue.known_codes)
        known = [c for c in codes if c in catalogue.known_codes]
        urls = urls_in(text)
        known_urls = [u for u in urls if u in catalogue.known_urls]
        brands = brands_in(text, catalogue.advertisers)
        reads.append(
            DetectedRead(
                episode_id=episode_id,
                segments=piece,
                start_s=float(start[first]),
                end_s=float(end[last]),
                text=text,
                confidence=float(np.mean(probability[piece])),
                brand=brands[0] if brands else None,
                promo_code=(known or codes or [None])[0],
                vanity_url=(known_urls or urls or [None])[0],
                position=position_of(float(talk[:first].sum()), float(talk[last + 1 :].sum())),
            )
        )
    match_placements(reads, catalogue)
    return reads


def match_placements(reads: list[DetectedRead], catalogue: Catalogue) -> None:
    """Set each read's campaign_id and placement_id (a placement goes to one read at most:
    reads that name it by code come first, then by URL, then by brand; the nearest planned
    start wins among several)."""
    claimed: set[str] = set()

    def claim(read: DetectedRead, rows: pd.DataFrame) -> bool:
        rows = rows[~rows["placement_id"].isin(claimed)]
        if rows.empty:
            return False
        gap = (rows["ad_start_s"] - read.start_s).abs().to_numpy()
        row = rows.iloc[int(np.argmin(gap))]
        read.placement_id, read.campaign_id = str(row["placement_id"]), str(row["campaign_id"])
        claimed.add(read.placement_id)
        return True

    ranked = sorted(reads, key=lambda r: -r.confidence)
    for read in ranked:
        rows = catalogue.planned_in(read.episode_id)
        if read.promo_code:
            claim(read, rows[rows["code_upper"] == read.promo_code.upper()])
    for read in ranked:
        if read.placement_id is None and read.vanity_url:
            rows = catalogue.planned_in(read.episode_id)
            claim(read, rows[rows["url_normal"] == read.vanity_url])
    for read in ranked:
        if read.placement_id is not None:
            continue
        named = catalogue.by_code.get((read.promo_code or "").upper()) or catalogue.by_url.get(
            read.vanity_url or ""
        )
        if named is not None:
            read.campaign_id = named  # a campaign planned elsewhere, or already matched here
        elif read.brand is not None:
            rows = catalogue.planned_in(read.episode_id)
            claim(read, rows[rows["advertiser_lower"] == read.brand.lower()])
