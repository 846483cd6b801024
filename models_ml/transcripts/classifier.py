"""The segment classifier: is this transcript segment (part of) a sponsor read?

TF-IDF of words and word pairs (URLs, codes and numbers as placeholder words, see
:func:`~models_ml.transcripts.mentions.classifier_text`) into a logistic regression with balanced
class weights (reads are a few percent of an episode). It learns the wording of reads from the
segments the weak labels mark, so it also finds the parts of a read that say no code (the
introduction, the pitch) and reads whose code is new or wrong, and it learns that the show's own
links and talk about coupons are not reads.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.pipeline import Pipeline

from models_ml.transcripts.mentions import classifier_text

THRESHOLD = 0.5
# The later episodes that hold this share of the read-labelled segments are the holdout.
HOLDOUT_SHARE = 0.3
MIN_HOLDOUT_EPISODES = 3


def build_classifier() -> Pipeline:
    return Pipeline(
        [
            (
                "tfidf",
                TfidfVectorizer(
                    preprocessor=classifier_text,
                    ngram_range=(1, 2),
                    min_df=2,
                    sublinear_tf=True,
                ),
            ),
            (
                "logistic",
                LogisticRegression(
                    C=4.0,
                    class_weight="balanced",
                    solver="liblinear",
                    max_iter=2000,
                    random_state=0,
                ),
            ),
        ]
    )


def read_probability(classifier: Pipeline, texts: pd.Series) -> np.ndarray:
    """P(read) of each text."""
    if len(texts) == 0:
        return np.zeros(0)
    return classifier.predict_proba(list(texts))[:, 1]


def holdout_episodes(
    order: pd.DataFrame, read_counts: pd.Series, share: float = HOLDOUT_SHARE
) -> set[str]:
    """The latest episodes (``order``: episode_id, published_at) that together hold at least
    ``share`` of the read-labelled segments (``read_counts`` per episode_id), and at least
    MIN_HOLDOUT_EPISODES of them: train on the earlier episodes, evaluate on the later ones."""
    ranked = order.sort_values(["published_at", "episode_id"], na_position="first")
    episodes = list(ranked["episode_id"])
    total = float(read_counts.sum())
    held: set[str] = set()
    reads = 0.0
    for episode in reversed(episodes):
        if reads >= share * total and len(held) >= MIN_HOLDOUT_EPISODES:
            break
        held.add(episode)
        reads += float(read_counts.get(episode, 0))
    return held
