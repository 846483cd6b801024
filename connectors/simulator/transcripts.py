"""Episode transcripts: what a speech-to-text service returns for each episode's audio.

Each episode's transcript is a list of timed segments (start and end second, speaker, text).
Host talk covers the episode's topics (the two of its title and a topic the show keeps coming
back to) with words from a topic bank, in sentences whose tone follows the episode's mood. The
sponsor reads of the episode's placements sit where the placement plans them (``ad_start_s`` to
``ad_end_s``): a produced spot is one segment by an announcer, a host read two or three segments
by the host (an introduction, sometimes a pitch, and a closing with the vanity URL and the promo
code), in varied wordings; some say the URL as a speech recogniser writes it ("acme dot com
slash kitchen"). Host talk also holds what fools a keyword search: the show's own links
("patreon.com/<show>"), anecdotes about promo codes, a study "sponsored by" someone.

Faults, drawn per placement with ``WorldConfig.transcript_fault_share`` (split evenly between the
kinds) on their own random stream:

* ``missing_read``: the read is not in the episode at all (host talk instead);
* ``wrong_position``: the read is at another position (pre, mid or post) than planned: where
  that position's ads go when the episode sells it to nobody else, else back to back with the
  read already there;
* ``wrong_promo_code``: the host says another discount of the code (``KITCHEN15`` for
  ``KITCHEN20``), a code no placement of the tenant uses.

Truth: ``_truth/transcript_reads.csv`` (one row per placement: what was said, where, and the
fault) and ``_truth/transcript_topics.csv`` (the topics of each episode, with the episode's tone).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import numpy as np
import pyarrow as pa

from connectors.simulator.catalog import POSITIONS, READ_TYPES, Catalog
from connectors.simulator.config import WorldConfig
from connectors.simulator.seeding import generator

FAULTS = ("missing_read", "wrong_position", "wrong_promo_code")
NO_FAULT = "none"
_DISCOUNTS = (10, 15, 20, 25)

# Words of each topic an episode title can name (catalog._TOPICS), none of them a word that
# carries sentiment on its own.
TOPIC_VOCABULARY: dict[str, tuple[str, ...]] = {
    "Sleep": ("sleep", "naps", "dreams", "bedtime", "insomnia", "melatonin", "pillow", "snoring",
              "mattress", "alarm"),
    "Budgets": ("budget", "spending", "savings", "rent", "groceries", "spreadsheet", "paycheck",
                "expenses", "envelope", "debt"),
    "Coffee": ("coffee", "espresso", "beans", "roast", "barista", "grinder", "caffeine", "latte",
               "brewing", "crema"),
    "Rockets": ("rocket", "launch", "orbit", "booster", "thrust", "engines", "payload",
                "countdown", "satellite", "propellant"),
    "Habits": ("habit", "routine", "streak", "willpower", "trigger", "cue", "discipline",
               "checklist", "mornings", "repetition"),
    "Sourdough": ("sourdough", "starter", "dough", "flour", "crust", "oven", "loaf", "proofing",
                  "yeast", "crumb"),
    "Interest": ("interest", "loan", "mortgage", "compounding", "lender", "borrowing",
                 "principal", "credit", "repayment", "bank"),
    "Rates": ("rates", "inflation", "central", "bonds", "yield", "economy", "policy", "hike",
              "markets", "treasury"),
    "Mushrooms": ("mushroom", "fungi", "spores", "mycelium", "chanterelle", "forest", "morel",
                  "caps", "foraging", "truffles"),
    "Cities": ("city", "streets", "neighbourhood", "transit", "housing", "downtown", "zoning",
               "bikes", "traffic", "parks"),
    "Memory": ("memory", "recall", "forgetting", "hippocampus", "childhood", "nostalgia", "brain",
               "recollection", "amnesia", "neurons"),
    "Running": ("running", "marathon", "pace", "sneakers", "miles", "stride", "trail", "race",
                "training", "knees"),
    "Chess": ("chess", "opening", "gambit", "bishop", "endgame", "grandmaster", "checkmate",
              "pawn", "knight", "tournament"),
    "Tides": ("tides", "moon", "ocean", "shoreline", "currents", "harbour", "estuary", "coast",
              "waves", "gravity"),
    "Jazz": ("jazz", "saxophone", "improvisation", "trumpet", "swing", "bebop", "chords",
             "quartet", "rhythm", "club"),
    "Taxes": ("taxes", "deduction", "refund", "accountant", "filing", "receipts", "audit",
              "income", "bracket", "deadline"),
    "Volcanoes": ("volcano", "lava", "eruption", "magma", "crater", "ash", "tectonic", "caldera",
                  "geologist", "pumice"),
    "Startups": ("startup", "founders", "investors", "funding", "pitch deck", "seed round",
                 "growth", "customers", "valuation", "product"),
    "Bees": ("bees", "hive", "honey", "pollen", "queen", "beekeeper", "colony", "nectar", "swarm",
             "flowers"),
    "Maps": ("maps", "cartography", "atlas", "compass", "borders", "projection", "navigation",
             "latitude", "surveyors", "terrain"),
    "Fermentation": ("fermentation", "kimchi", "bacteria", "brine", "jars", "kombucha",
                     "pickles", "cultures", "vinegar", "miso"),
    "Trust": ("trust", "honesty", "reputation", "promises", "institutions", "strangers",
              "credibility", "loyalty", "cooperation", "handshake"),
    "Bridges": ("bridge", "engineers", "suspension", "cables", "span", "steel", "river", "arch",
                "concrete", "girders"),
    "Salt": ("salt", "sodium", "seawater", "mines", "crystals", "curing", "seasoning", "flakes",
             "evaporation", "preservation"),
    "Silence": ("silence", "quiet", "noise", "meditation", "retreat", "stillness", "monastery",
                "headphones", "soundproofing", "solitude"),
    "Luck": ("luck", "chance", "coincidence", "lottery", "dice", "odds", "superstition",
             "randomness", "gambling", "fortune"),
    "Weather": ("weather", "forecast", "storms", "rain", "clouds", "humidity", "thunder",
                "meteorologist", "wind", "pressure"),
    "Attention": ("attention", "focus", "distraction", "notifications", "phones",
                  "concentration", "multitasking", "screens", "mindfulness", "scrolling"),
    "Moths": ("moths", "caterpillars", "wings", "nocturnal", "lamps", "cocoon", "species",
              "entomologist", "antennae", "pollinators"),
    "Glass": ("glass", "glassblowing", "furnace", "sand", "windows", "lenses", "molten", "kiln",
              "bottles", "stained glass"),
}  # fmt: skip
TOPICS = tuple(TOPIC_VOCABULARY)

_NEUTRAL = (
    "Let's get into {a}, because {b} turns out to be more complicated than it looks.",
    "A listener wrote in asking about {a} and how it connects to {b}.",
    "I spent the week reading about {a}, and the part about {b} stuck with me.",
    "There is a whole history behind {a} that most people never hear about, starting with {b}.",
    "If you think about {a} for a minute, {b} is really the heart of it.",
    "Our guest has spent years studying {a}, mostly {b}.",
    "We tried an experiment with {a} and kept notes on {b} every day.",
    "The numbers on {a} tell a different story than the anecdotes about {b}.",
    "So the question today is what {a} actually does to {b}.",
    "In the studio we argued about {a} versus {b} for an hour.",
    "You can measure {a} in a few ways, and {b} is the one most people skip.",
    "Here is how {a} works, step by step, and where {b} comes in.",
)
_POSITIVE = (
    "Honestly, {a} is wonderful, and I love how {b} fits into it.",
    "I was amazed by how much {b} improved once we understood {a}.",
    "This is my favourite part about {a}: {b} is genuinely delightful.",
    "What a great story, {a} and {b} working together beautifully.",
    "I'm really excited about {a}; the research on {b} is brilliant.",
    "It's such a joy to see people enjoy {a} and get better at {b}.",
    "The best news this week is about {a}, and {b} looks fantastic.",
)
_NEGATIVE = (
    "The problem with {a} is that {b} gets worse and nobody talks about it.",
    "Honestly, the way people treat {a} is frustrating, and {b} is a mess.",
    "I hate to say it, but {a} was a terrible disappointment this year.",
    "It's a sad story: {b} failed and {a} was the painful lesson.",
    "People are worried about {a}, and the bad news on {b} keeps coming.",
    "I find {a} exhausting; {b} is confusing and the advice is awful.",
    "The worst part of {a} is how {b} hurts the people who can least afford it.",
)
# Host talk that a keyword search for sponsor reads mistakes for one.
_ANECDOTES = (
    "Whenever I buy anything online I hunt for a promo code first, it is a reflex by now.",
    "My brother will not use code from a coupon site, he says they never work for him.",
    "That study on {a} was sponsored by an industry group, which is worth knowing.",
    "A listener told me to use code words for {a} at home so the kids would not notice.",
)
_SELF_PLUGS = (
    "If you like the show, support us at patreon.com/{slug} and you get the episodes early.",
    "Everything we mentioned about {a} is in the show notes at {slug}.com/notes.",
    "The show notes are at {slug}.fm/episodes, and you can write to us there too.",
)

_READ_INTROS = (
    "This episode is brought to you by {brand}.",
    "Today's show is supported by our friends at {brand}.",
    "A quick word from our sponsor, {brand}.",
    "This episode is sponsored by {brand}.",
    "Before we go on, I want to tell you about {brand}, who make this show possible.",
)
_READ_PITCHES = (
    "I've been using {brand} for a few months now and it has become part of my week.",
    "{brand} ships in a couple of days, and their customer service actually answers.",
    "What I like about {brand} is that you can try it without signing up for anything.",
    "Thousands of listeners have already tried {brand}, and the reviews speak for themselves.",
    "{brand} makes everything in small batches, and you can tell the difference.",
    "My whole family uses {brand} now, and the free returns make it an easy first order.",
)
_READ_CLOSINGS = (
    "Go to {url} and use code {code} for {discount} percent off your first order.",
    "Head over to {spoken_url} and enter {code} at checkout to get {discount} percent off.",
    "Visit {url} today with promo code {code} and save {discount} percent.",
    "That's {spoken_url}, and don't forget the code {code}.",
    "Get {discount} percent off at {spoken_url} with the code {code}, that's {code}.",
    "Check out {url} and type {code} at checkout for {discount} percent off.",
)
_PRODUCED = (
    "{brand}. {pitch} {closing}",
    "{intro} {closing}",
    "{intro} {pitch} {closing}",
)


@dataclass
class Transcripts:
    """Every episode's segments (the export) and the truth behind them."""

    segments: pa.Table  # episode_id, segment_index, start_s, end_s, speaker, text
    reads: pa.Table  # one row per placement (_truth/transcript_reads.csv)
    topics: pa.Table  # one row per episode and topic (_truth/transcript_topics.csv)


def spoken_url(url: str) -> str:
    """A URL as a speech recogniser writes it: ``acme.com/kitchen`` -> ``acme dot com slash
    kitchen``."""
    return url.replace(".", " dot ").replace("/", " slash ")


def discount_of(code: str) -> int:
    """The discount a code's digits say (``KITCHEN20K`` -> 20); 10 when it has none."""
    digits = re.search(r"\d+", code)
    return int(digits.group()) if digits else 10


def wrong_code(code: str, taken: set[str], rng: np.random.Generator) -> str:
    """Another discount of ``code`` that no placement of the tenant uses."""
    said = discount_of(code)
    for discount in rng.permutation([d for d in _DISCOUNTS if d != said]):
        candidate = re.sub(r"\d+", str(int(discount)), code, count=1)
        if candidate not in taken:
            return candidate
    candidate = code + "X"
    while candidate in taken:
        candidate += "X"
    return candidate


def _pick(rng: np.random.Generator, options: tuple[str, ...]) -> str:
    return options[int(rng.integers(len(options)))]


def _title_topics(title: str) -> list[str]:
    """The topics an episode title names ("Episode 3: Sleep and Salt" -> Sleep, Salt)."""
    _, _, subject = title.partition(": ")
    return [t for t in subject.split(" and ") if t in TOPIC_VOCABULARY]


@dataclass
class _Read:
    placement: int
    start: float
    end: float
    position: str
    code: str
    fault: str
    row: int  # its row of the truth


def _talk_sentence(rng: np.random.Generator, topic: str, tone: float) -> str:
    a, b = rng.choice(TOPIC_VOCABULARY[topic], size=2, replace=False)
    u = rng.random()
    carries = 0.55  # share of sentences that carry sentiment at all
    if u < carries * (1 + tone) / 2:
        template = _pick(rng, _POSITIVE)
    elif u < carries:
        template = _pick(rng, _NEGATIVE)
    else:
        template = _pick(rng, _NEUTRAL)
    return template.format(a=a, b=b)


def _talk_spans(rng: np.random.Generator, start: float, end: float) -> list[tuple[float, float]]:
    """Cut host talk from ``start`` to ``end`` into segments of 40 to 140 seconds (a short gap
    before a read at the very start of the episode is silence)."""
    if end - start < 4.0:
        return []
    cuts = [start]
    while end - cuts[-1] > 140.0:
        cuts.append(cuts[-1] + float(rng.uniform(40.0, 140.0)))
    if len(cuts) > 1 and end - cuts[-1] < 20.0:
        cuts.pop()
    cuts.append(end)
    return [(round(a, 1), round(b, 1)) for a, b in zip(cuts[:-1], cuts[1:], strict=True)]


def _read_texts(
    rng: np.random.Generator, brand: str, code: str, url: str, produced: bool, parts: int
) -> list[str]:
    values = {
        "brand": brand,
        "code": code,
        "url": url,
        "spoken_url": spoken_url(url),
        "discount": discount_of(code),
    }
    intro = _pick(rng, _READ_INTROS).format(**values)
    pitches = rng.choice(len(_READ_PITCHES), size=2, replace=False)
    pitch = [_READ_PITCHES[int(k)].format(**values) for k in pitches]
    closing = _pick(rng, _READ_CLOSINGS).format(**values)
    if produced:
        return [
            _pick(rng, _PRODUCED).format(intro=intro, pitch=pitch[0], closing=closing, **values)
        ]
    if parts == 2:
        return [f"{intro} {pitch[0]}", f"{pitch[1]} {closing}"]
    return [intro, f"{pitch[0]} {pitch[1]}", closing]


def _move(read: _Read, reads: list[_Read], duration: float, rng: np.random.Generator) -> None:
    """Put ``read`` at another position than planned: where that position's ads go when the
    episode sells it to nobody else, else back to back with the read already there (before a
    post-roll, after a pre- or mid-roll)."""
    length = read.end - read.start
    taken = {r.position: r for r in reads if r is not read}
    others = [q for q in POSITIONS if q != read.position]
    free = [q for q in others if q not in taken]
    choices = free or others
    position = choices[int(rng.integers(len(choices)))]
    if position in taken:
        there = taken[position]
        start = there.start - length - 2.0 if position == "post" else there.end + 2.0
    elif position == "pre":
        start = float(rng.uniform(0.0, 20.0))
    elif position == "mid":
        start = duration * float(rng.uniform(0.4, 0.55))
    else:
        start = duration - length - float(rng.uniform(5.0, 40.0))
    read.position = position
    read.start = round(min(max(start, 0.0), max(duration - length, 0.0)), 1)
    read.end = min(read.start + length, duration)


def build_transcripts(config: WorldConfig, catalog: Catalog) -> Transcripts:
    """Every episode's transcript with its placements' reads and the seeded faults."""
    n_place = catalog.placements
    fault_rng = generator(config.seed, config.tenant_id, "transcript_faults")
    draw = fault_rng.random(n_place)
    share = config.transcript_fault_share
    fault_kind = np.where(
        draw < share, np.minimum((draw / max(share, 1e-12) * len(FAULTS)).astype(int), 2), -1
    )
    taken_codes = set(catalog.promo_code)
    show_rng = generator(config.seed, config.tenant_id, "transcript_shows")
    show_topic = show_rng.integers(len(TOPICS), size=len(catalog.show_id))
    show_hosts = show_rng.integers(1, 3, size=len(catalog.show_id))

    titles = catalog.episode_title.to_pylist()
    episode_ids = catalog.episode_id.to_pylist()
    seg_cols: dict[str, list] = {k: [] for k in ("episode_id", "segment_index", "start_s",
                                                  "end_s", "speaker", "text")}  # fmt: skip
    read_rows: list[dict] = []
    topic_rows: list[dict] = []
    placements_of: dict[int, list[int]] = {}
    for p, e in enumerate(catalog.placement_episode):
        placements_of.setdefault(int(e), []).append(p)

    for e in range(catalog.episodes):
        rng = generator(config.seed, config.tenant_id, "transcripts", e)
        show = int(catalog.episode_show[e])
        duration = float(catalog.duration_s[e])
        slug = catalog.show_slug[show]
        topics = _title_topics(titles[e]) or [TOPICS[int(show_topic[show])]]
        if TOPICS[int(show_topic[show])] not in topics:
            topics.append(TOPICS[int(show_topic[show])])
        tone = float(np.clip(rng.normal(0.15, 0.45), -1.0, 1.0))

        # Where each read is said (or not), after the faults.
        reads: list[_Read] = []
        for p in placements_of.get(e, []):
            kind = FAULTS[fault_kind[p]] if fault_kind[p] >= 0 else NO_FAULT
            planned = POSITIONS[int(catalog.placement_position[p])]
            code = catalog.promo_code[p]
            if kind == "wrong_promo_code":
                code = wrong_code(code, taken_codes, fault_rng)
            read_rows.append(
                {
                    "episode_id": episode_ids[e],
                    "placement_id": catalog.placement_id[p],
                    "campaign_id": catalog.campaign_id[int(catalog.placement_campaign[p])],
                    "brand": catalog.advertiser[int(catalog.placement_campaign[p])],
                    "read_type": READ_TYPES[int(catalog.placement_read_type[p])],
                    "planned_position": planned,
                    "position_said": None if kind == "missing_read" else planned,
                    "planned_promo_code": catalog.promo_code[p],
                    "promo_code_said": None if kind == "missing_read" else code,
                    "vanity_url_said": None if kind == "missing_read" else catalog.vanity_url[p],
                    "start_s": None,
                    "end_s": None,
                    "fault": kind,
                }
            )
            if kind != "missing_read":
                start, end = float(catalog.ad_start_s[p]), float(catalog.ad_end_s[p])
                reads.append(_Read(p, start, end, planned, code, kind, len(read_rows) - 1))
        for r in reads:
            if r.fault == "wrong_position":
                _move(r, reads, duration, fault_rng)
                read_rows[r.row]["position_said"] = r.position
        reads.sort(key=lambda r: r.start)
        for before, after in zip(reads, reads[1:], strict=False):  # reads never overlap
            if after.start < before.end + 2.0:
                length = after.end - after.start
                after.start = round(min(before.end + 2.0, duration - 1.0), 1)
                after.end = min(after.start + length, duration)

        # The timeline: host talk between the reads.
        spans: list[tuple[float, float, _Read | None]] = []
        cursor = 0.0
        for r in reads:
            spans += [(a, b, None) for a, b in _talk_spans(rng, cursor, r.start)]
            spans.append((r.start, r.end, r))
            cursor = r.end
        spans += [(a, b, None) for a, b in _talk_spans(rng, cursor, duration)]
        talk = [k for k, s in enumerate(spans) if s[2] is None]
        plug_at = talk[int(rng.integers(len(talk)))] if talk and rng.random() < 0.35 else -1
        anecdote_at = talk[int(rng.integers(len(talk)))] if talk and rng.random() < 0.25 else -1
        order = [topics[int(k)] for k in rng.permutation(len(topics))]
        topic_segments = dict.fromkeys(topics, 0)
        two_hosts = show_hosts[show] == 2
        index = 0
        for k, (a, b, r) in enumerate(spans):
            if r is None:
                topic = order[min(talk.index(k) * len(order) // max(len(talk), 1), len(order) - 1)]
                topic_segments[topic] += 1
                sentences = [
                    _talk_sentence(rng, topic, tone)
                    for _ in range(int(np.clip(round((b - a) / 45.0), 1, 3)))
                ]
                if k == talk[0]:
                    sentences.insert(
                        0,
                        f"Welcome back to {catalog.show_name[show]}. Today it's "
                        f"{' and '.join(t.lower() for t in topics[:2])}.",
                    )
                if k == talk[-1]:
                    sentences.append(
                        f"That's all for this week on {catalog.show_name[show]}. Thanks for "
                        "listening."
                    )
                if k == plug_at:
                    vocab = TOPIC_VOCABULARY[topic][0]
                    sentences.append(_pick(rng, _SELF_PLUGS).format(a=vocab, slug=slug))
                if k == anecdote_at:
                    vocab = TOPIC_VOCABULARY[topic][0]
                    sentences.append(_pick(rng, _ANECDOTES).format(a=vocab))
                speaker = "co_host" if two_hosts and rng.random() < 0.4 else "host"
                pieces = [(a, b, " ".join(sentences), speaker)]
            else:
                produced = READ_TYPES[int(catalog.placement_read_type[r.placement])] == "produced"
                parts = 1 if produced else (2 if b - a < 65.0 else 3)
                texts = _read_texts(
                    rng,
                    catalog.advertiser[int(catalog.placement_campaign[r.placement])],
                    r.code,
                    catalog.vanity_url[r.placement],
                    produced,
                    parts,
                )
                edges = np.round(np.linspace(a, b, len(texts) + 1), 1)
                speaker = "announcer" if produced else "host"
                pieces = [
                    (float(edges[i]), float(edges[i + 1]), t, speaker) for i, t in enumerate(texts)
                ]
                read_rows[r.row]["start_s"], read_rows[r.row]["end_s"] = round(a, 1), round(b, 1)
            for start, end, content, speaker in pieces:
                seg_cols["episode_id"].append(episode_ids[e])
                seg_cols["segment_index"].append(index)
                seg_cols["start_s"].append(start)
                seg_cols["end_s"].append(end)
                seg_cols["speaker"].append(speaker)
                seg_cols["text"].append(content)
                index += 1
        for topic in topics:
            topic_rows.append(
                {
                    "episode_id": episode_ids[e],
                    "show_id": catalog.show_id[show],
                    "topic": topic,
                    "role": "episode" if topic in _title_topics(titles[e]) else "show",
                    "talk_segments": topic_segments[topic],
                    "vocabulary": " ".join(TOPIC_VOCABULARY[topic]),
                    "tone": round(tone, 4),
                }
            )

    segments = pa.table(
        {
            "episode_id": pa.array(seg_cols["episode_id"], pa.string()),
            "segment_index": pa.array(seg_cols["segment_index"], pa.int64()),
            "start_s": pa.array(seg_cols["start_s"], pa.float64()),
            "end_s": pa.array(seg_cols["end_s"], pa.float64()),
            "speaker": pa.array(seg_cols["speaker"], pa.string()),
            "text": pa.array(seg_cols["text"], pa.string()),
        }
    )
    read_schema = pa.schema(
        [(name, pa.float64() if name in ("start_s", "end_s") else pa.string())
         for name in ("episode_id", "placement_id", "campaign_id", "brand", "read_type",
                      "planned_position", "position_said", "planned_promo_code",
                      "promo_code_said", "vanity_url_said", "start_s", "end_s", "fault")]
    )  # fmt: skip
    topic_schema = pa.schema(
        [("episode_id", pa.string()), ("show_id", pa.string()), ("topic", pa.string()),
         ("role", pa.string()), ("talk_segments", pa.int64()), ("vocabulary", pa.string()),
         ("tone", pa.float64())]
    )  # fmt: skip
    return Transcripts(
        segments=segments,
        reads=pa.Table.from_pylist(read_rows, schema=read_schema),
        topics=pa.Table.from_pylist(topic_rows, schema=topic_schema),
    )
