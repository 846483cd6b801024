"""The pieces of the transcripts family on hand-made segments, with hand-computed answers."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from models_ml.transcripts.analyzers import (
    AnalyzerNotConfigured,
    HostedAnalyzer,
    LocalAnalyzer,
    analyzer_from_env,
    parse_answer,
)
from models_ml.transcripts.backtest import read_detection
from models_ml.transcripts.baseline import keyword_flags
from models_ml.transcripts.classifier import holdout_episodes
from models_ml.transcripts.compliance import compliance_rows, status
from models_ml.transcripts.labels import NOT_READ, READ, UNLABELLED, weak_labels
from models_ml.transcripts.mentions import (
    brands_in,
    canonical_text,
    classifier_text,
    codes_in,
    urls_in,
)
from models_ml.transcripts.reads import (
    Catalogue,
    DetectedRead,
    detect_episode_reads,
    position_of,
    runs,
    split_by_campaign,
)
from models_ml.transcripts.sentiment import counts, sentiment
from models_ml.transcripts.summary import pagerank, summarise
from models_ml.transcripts.topics import fit_topics

# --- mentions ---------------------------------------------------------------------------------


def test_spoken_urls_are_typed_and_found_in_both_forms() -> None:
    said = "Head over to Acme dot com slash kitchen and enter KITCHEN20."
    assert canonical_text(said) == "Head over to acme.com/kitchen and enter KITCHEN20."
    assert urls_in(said) == ["acme.com/kitchen"]
    assert urls_in("Go to https://www.Acme.com/Kitchen/ today, or acme dot com.") == [
        "acme.com/kitchen",
        "acme.com",
    ]


def test_codes_known_in_any_case_and_unknown_by_shape() -> None:
    text = "use code kitchen20 or KITCHEN15, not Kitchen or 2024 or A1"
    assert codes_in(text, {"KITCHEN20"}) == ["KITCHEN20", "KITCHEN15"]
    assert codes_in(text) == ["KITCHEN15"]


def test_brands_known_first_then_after_a_sponsor_phrase() -> None:
    assert brands_in("Thanks to acme for this one.", ["Acme"]) == ["Acme"]
    assert brands_in("This episode is brought to you by Blue Apron.", ["Acme"]) == ["Blue Apron"]
    assert brands_in("No sponsor here.", ["Acme"]) == []


def test_classifier_text_hides_which_url_code_and_number() -> None:
    text = classifier_text("Go to Acme dot com slash kitchen, code KITCHEN20 for 20 percent")
    assert text == "go to  xxurl , code  xxcode  for  xxnum  percent"


def test_keyword_baseline() -> None:
    flags = keyword_flags(
        ["Use code X1", "sponsored BY acme", "see acme.com/x", "enter X1 at checkout", "hello"]
    )
    assert flags.tolist() == [True, True, True, False, False]


# --- weak labels --------------------------------------------------------------------------------


def _segments(rows: list[tuple[str, float, float, str]]) -> pd.DataFrame:
    return pd.DataFrame(rows, columns=["episode_id", "start_s", "end_s", "text"])


def test_weak_labels_from_the_plan() -> None:
    segments = _segments(
        [
            ("e1", 0, 100, "talk about bees"),  # 400 s before the window: not a read
            ("e1", 400, 460, "brought to you by Acme"),  # inside a window where the code is said
            ("e1", 460, 500, "use code BEES20"),  # says a known code
            ("e1", 500, 540, "more bees"),  # within 60 s of the window and the code: unknown
            ("e1", 900, 1000, "patreon.com/bees"),  # far, unknown URL: not a read
            ("e2", 0, 50, "visit acme dot com slash bees"),  # a known URL in an unplanned episode
            ("e2", 80, 120, "talk"),  # 30 s after it: unknown
            ("e3", 100, 200, "host talk in a planned window"),  # nothing said there: unknown
            ("e3", 600, 700, "talk"),  # far from the window: not a read
        ]
    )
    placements = pd.DataFrame(
        {"episode_id": ["e1", "e3"], "ad_start_s": [400.0, 100.0], "ad_end_s": [500.0, 200.0]}
    )
    labels = weak_labels(segments, placements, {"BEES20"}, {"acme.com/bees"})
    assert labels.tolist() == [
        NOT_READ, READ, READ, UNLABELLED, NOT_READ, READ, UNLABELLED, UNLABELLED, NOT_READ,
    ]  # fmt: skip


def test_holdout_is_the_latest_episodes_holding_a_share_of_the_reads() -> None:
    order = pd.DataFrame(
        {
            "episode_id": ["a", "b", "c", "d", "e", "f"],
            "published_at": pd.to_datetime(
                ["2024-01-01", "2024-01-08", "2024-01-15", "2024-01-22", "2024-01-29", None]
            ),
        }
    )
    reads = pd.Series({"a": 4, "b": 4, "c": 0, "d": 1, "e": 1})
    # Newest first: e (1), d (2 of 10), c (2), then b brings 6 >= 3: e, d, c, b.
    assert holdout_episodes(order, reads, share=0.3) == {"e", "d", "c", "b"}
    # Three episodes at least, even when the newest hold every read.
    assert holdout_episodes(order, pd.Series({"e": 5}), share=0.3) == {"e", "d", "c"}


# --- reads --------------------------------------------------------------------------------------


def test_runs_join_consecutive_read_segments_only() -> None:
    seg = _segments([("e", 0, 10, ""), ("e", 10, 20, ""), ("e", 30, 40, ""), ("e", 40, 50, "")])
    assert runs(seg, np.array([True, True, True, False])) == [[0, 1], [2]]  # a 10 s gap
    assert runs(seg, np.array([True, False, True, True])) == [[0], [2, 3]]


def test_a_run_naming_two_campaigns_is_cut_after_the_first_ones_last_mention() -> None:
    run = [5, 6, 7, 8, 9]
    assert split_by_campaign(run, [None, "c1", None, None, "c2"]) == [[5, 6], [7, 8, 9]]
    assert split_by_campaign(run, [None, "c1", "c1", None, None]) == [run]
    assert split_by_campaign(run, [None, None, None, None, None]) == [run]


def test_position_from_the_talk_around_the_read() -> None:
    assert position_of(20.0, 3000.0) == "pre"
    assert position_of(1500.0, 1400.0) == "mid"
    assert position_of(2800.0, 35.0) == "post"


def _catalogue() -> Catalogue:
    placements = pd.DataFrame(
        {
            "placement_id": ["p1", "p2", "p3"],
            "campaign_id": ["c1", "c2", "c3"],
            "episode_id": ["e1", "e1", "e9"],
            "position": ["pre", "mid", "pre"],
            "ad_start_s": [0.0, 500.0, 0.0],
            "ad_end_s": [60.0, 560.0, 60.0],
            "promo_code": ["BEES20", "BEES10", "MAPS20"],
            "vanity_url": ["acme.com/bees", "acme.com/bees2", "acme.com/maps"],
            "advertiser": ["Acme", "Acme", "Acme"],
        }
    )
    return Catalogue(placements, ["Acme"], {"BEES20", "BEES10", "MAPS20"}, set())


def test_an_episodes_reads_are_assembled_described_and_matched() -> None:
    catalogue = _catalogue()
    catalogue.known_urls.update({"acme.com/bees", "acme.com/bees2", "acme.com/maps"})
    segments = _segments(
        [
            ("e1", 0, 30, "This episode is brought to you by Acme."),
            ("e1", 30, 60, "Go to acme.com/bees and use code BEES20."),
            ("e1", 60, 400, "Talk about bees."),
            ("e1", 400, 430, "A word from Acme."),  # back to back: the second names c2
            ("e1", 430, 460, "Visit acme dot com slash bees2 with code BEES15."),  # wrong code
            ("e1", 460, 900, "More talk."),
            ("e1", 900, 930, "Acme. Try MAPS20 at acme.com/maps."),  # planned in e9 only
            ("e1", 930, 950, "Bye."),
        ]
    )
    probability = np.array([0.9, 0.95, 0.1, 0.8, 0.9, 0.2, 0.7, 0.1])
    reads = detect_episode_reads("e1", segments, probability, 0.5, catalogue)
    got = [
        (r.start_s, r.end_s, r.position, r.promo_code, r.vanity_url, r.placement_id, r.campaign_id)
        for r in reads
    ]
    assert got == [
        (0.0, 60.0, "pre", "BEES20", "acme.com/bees", "p1", "c1"),
        (400.0, 460.0, "mid", "BEES15", "acme.com/bees2", "p2", "c2"),
        (900.0, 930.0, "post", "MAPS20", "acme.com/maps", None, "c3"),
    ]
    assert [r.brand for r in reads] == ["Acme", "Acme", "Acme"]
    assert reads[0].confidence == pytest.approx(0.925)


def test_compliance_verdicts_in_order_of_precedence() -> None:
    read = DetectedRead("e1", [0], 0.0, 30.0, "", 0.9, promo_code="BEES20", position="pre")
    assert status("pre", "BEES20", read) == "ok"
    assert status("pre", "bees20", read) == "ok"
    assert status("mid", "BEES10", read) == "wrong_position"
    assert status("pre", "BEES10", read) == "wrong_promo_code"
    assert status("pre", None, read) == "ok"
    assert status("pre", "BEES20", None) == "missing_read"
    planned = _catalogue().placements
    read.placement_id = "p1"
    rows = compliance_rows(planned, [read], transcribed={"e1"})
    assert [(r["placement_id"], r["status"]) for r in rows] == [
        ("p1", "ok"),
        ("p2", "missing_read"),
    ]  # p3's episode has no transcript: not judged


# --- insights -----------------------------------------------------------------------------------


def test_lexicon_sentiment_with_negation() -> None:
    assert counts("A great, wonderful day; the bad part was short.") == (2, 1)
    assert counts("It was not great and never boring.") == (1, 1)
    assert counts("This isn't good.") == (0, 1)
    assert sentiment("great great bad") == pytest.approx(1 / 3)
    assert sentiment("nothing to say") == 0.0


def test_pagerank_ranks_the_hub_of_a_star_first() -> None:
    star = np.zeros((4, 4))
    star[0, 1:] = star[1:, 0] = 1.0
    score = pagerank(star)
    assert score.sum() == pytest.approx(1.0)
    assert score[0] > score[1] == pytest.approx(score[2])
    # Hand computation: hub h, leaves l; h = 0.15/4 + 0.85 * 3l, l = 0.15/4 + 0.85 * h/3.
    h = (0.0375 + 0.85 * 3 * 0.0375) / (1 - 0.85 * 0.85)
    assert score[0] == pytest.approx(h, rel=1e-6)


def test_summary_keeps_the_central_sentences_in_order() -> None:
    sentences = [
        "Bees visit flowers all morning.",
        "My cat sleeps all day long.",
        "Bees carry flowers' nectar to the hive for honey.",  # shares words with 0 and 3
        "Honey waits in the hive.",
    ]
    # Sentence 2 links the others, the cat links nothing.
    assert summarise(sentences, max_sentences=1) == sentences[2]
    assert "cat" not in summarise(sentences, max_sentences=3)
    # Kept in their order, not by rank.
    assert summarise(sentences, max_sentences=3).startswith("Bees visit")
    assert summarise(sentences[:2], max_sentences=2) == " ".join(sentences[:2])


def test_local_analyzer_describes_each_episode() -> None:
    from models_ml.transcripts.analyzers import EpisodeText

    talk = {
        "e1": "Bees and honey. The hive and the queen. Bees swarm in spring. Pollen and nectar.",
        "e2": "Honey bees and the hive. The queen leaves with the swarm. Nectar is great.",
        "e3": "Tides and the moon. The ocean and its currents. The coast at low tide is awful.",
        "e4": "The moon pulls the tides. Ocean currents along the coast. Waves and tides.",
    }
    analyzer = LocalAnalyzer(fit_topics(list(talk.values())))
    insights = analyzer.analyse([EpisodeText(e, t) for e, t in talk.items()])
    terms = [set(i.topics.split(", ")) for i in insights]
    assert terms[0] & {"bees", "hive", "honey", "queen"} and not terms[0] & {"tides", "ocean"}
    assert terms[2] & {"tides", "moon", "ocean", "coast"} and not terms[2] & {"bees", "hive"}
    assert [i.sentiment for i in insights] == [0.0, 1.0, -1.0, 0.0]
    assert all(0 < len(i.summary) <= 400 for i in insights)


def test_the_hosted_analyzer_is_never_the_default_and_needs_its_settings() -> None:
    model = fit_topics(["bees honey hive", "bees hive queen", "tides moon", "tides ocean moon"])
    assert isinstance(analyzer_from_env(model, {}), LocalAnalyzer)
    with pytest.raises(AnalyzerNotConfigured, match="EARSHOT_TRANSCRIPTS_LLM_URL"):
        analyzer_from_env(model, {"EARSHOT_TRANSCRIPT_ANALYZER": "hosted"})
    with pytest.raises(AnalyzerNotConfigured, match="expected local or hosted"):
        analyzer_from_env(model, {"EARSHOT_TRANSCRIPT_ANALYZER": "cloud"})
    configured = analyzer_from_env(
        model,
        {
            "EARSHOT_TRANSCRIPT_ANALYZER": "hosted",
            "EARSHOT_TRANSCRIPTS_LLM_URL": "http://llm.invalid/v1/chat/completions",
            "EARSHOT_TRANSCRIPTS_LLM_MODEL": "m",
        },
    )
    assert isinstance(configured, HostedAnalyzer) and configured.api_key is None
    answer = parse_answer('{"topics": ["bees", "honey"], "sentiment": 3, "summary": "Bees."}')
    assert (answer.topics, answer.sentiment, answer.summary) == ("bees, honey", 1.0, "Bees.")


# --- back-test ---------------------------------------------------------------------------------


def test_read_detection_pairs_reads_by_overlap() -> None:
    truth = pd.DataFrame(
        {
            "episode_id": ["e1", "e1", "e2"],
            "start_s": [0.0, 500.0, np.nan],  # e2's read is missing: nothing to find
            "end_s": [60.0, 560.0, np.nan],
        }
    )
    detected = pd.DataFrame(
        {
            "episode_id": ["e1", "e1", "e1"],
            "start_s": [0.0, 530.0, 900.0],  # exact; IoU 30/60 = 0.5; nothing there
            "end_s": [60.0, 560.0, 930.0],
        }
    )
    scores = read_detection(detected, truth)
    assert scores["precision"] == pytest.approx(2 / 3)
    assert scores["recall"] == pytest.approx(1.0)
