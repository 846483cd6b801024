"""A lexicon sentiment score of host talk, from -1 (all negative words) to 1 (all positive).

General-purpose English opinion words (no domain list, no training): ``(positive - negative) /
(positive + negative)`` over the words of the text, 0 when it has none. A negation ("not",
"never", "n't", ...) flips the next three words, so "not great" counts as negative.
"""

from __future__ import annotations

import re

_POSITIVE_WORDS = """
    amazing amazed awesome beautiful beautifully best better brilliant calm celebrate charming
    cheerful clever comfortable confident cool delight delighted delightful easy elegant enjoy
    enjoyed enjoying excellent excited exciting fabulous fantastic favourite favorite fun
    generous genius glad good gorgeous grateful great happy helpful hope hopeful impressive
    improve improved improvement incredible inspiring interesting joy joyful kind love loved
    lovely loving lucky marvellous marvelous nice perfect pleasant pleased positive proud
    relaxing reliable remarkable rewarding satisfying smart smooth solid splendid strong success
    successful superb sweet terrific thankful thrilled thrilling triumph useful valuable
    warm win wonderful wonderfully worth wow
"""
_NEGATIVE_WORDS = """
    afraid angry annoyed annoying anxious ashamed awful bad badly boring broke broken careless
    chaos confused confusing crisis cruel damage damaged dangerous dead decline depressing
    difficult disappointed disappointing disappointment disaster dreadful dull embarrassing
    exhausted exhausting fail failed failing failure fear frustrated frustrating frustration
    gloomy grim guilty harm harmful hate hated horrible hurt hurts ill inferior lose losing
    loss lost mess miserable mistake nasty negative nightmare painful pathetic poor poorly
    problem problems regret ruin ruined sad scary shame shocking sick sorry stress stressful
    stupid suffer suffering terrible tired tragic trouble ugly unfair unhappy upset useless
    weak worried worry worse worst wrong
"""
POSITIVE = frozenset(_POSITIVE_WORDS.split())
NEGATIVE = frozenset(_NEGATIVE_WORDS.split())
NEGATIONS = frozenset({"not", "no", "never", "nothing", "hardly", "without", "n't", "cannot"})
_WORD = re.compile(r"[a-z]+(?:'[a-z]+)?|n't")
NEGATION_REACH = 3


def counts(text: str) -> tuple[int, int]:
    """(positive, negative) opinion words of ``text``, after negation."""
    positive = negative = 0
    flip_left = 0
    for word in _WORD.findall(text.lower().replace("n't", " n't")):
        if word in NEGATIONS:
            flip_left = NEGATION_REACH
            continue
        sign = 1 if word in POSITIVE else -1 if word in NEGATIVE else 0
        if flip_left:
            flip_left -= 1
            sign = -sign
        positive += sign > 0
        negative += sign < 0
    return positive, negative


def sentiment(text: str) -> float:
    positive, negative = counts(text)
    if positive + negative == 0:
        return 0.0
    return (positive - negative) / (positive + negative)
