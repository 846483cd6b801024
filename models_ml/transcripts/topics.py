"""Topics of the episodes' host talk: NMF on TF-IDF, described by each episode's top terms.

At training, non-negative matrix factorisation splits the TF-IDF matrix of the tenant's episodes
(their host talk, sponsor reads left out) into ``n_topics`` topics. An episode is then described
by the words that weigh most in its reconstruction (its topic mix times the topics' words),
among the words it actually says: a few recurring terms that name what the episode is about,
rather than words that are merely rare.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from sklearn.decomposition import NMF
from sklearn.feature_extraction.text import TfidfVectorizer

TERMS_PER_EPISODE = 6
MAX_TOPICS = 24
# Words of the show format rather than of a topic.
_FORMAT_WORDS = ["episode", "episodes", "show", "listening", "thanks", "week", "today", "welcome"]


@dataclass
class TopicModel:
    vectorizer: TfidfVectorizer
    nmf: NMF
    terms: np.ndarray

    def describe(self, documents: list[str], terms: int = TERMS_PER_EPISODE) -> list[str]:
        """The top terms of each document, comma-separated ("" for a document of no known
        word)."""
        if not documents:
            return []
        matrix = self.vectorizer.transform(documents)
        mix = self.nmf.transform(matrix)
        weight = mix @ self.nmf.components_
        said = matrix.toarray() > 0
        weight = np.where(said, weight, 0.0)
        out = []
        for row in weight:
            best = [int(i) for i in np.argsort(-row, kind="stable")[:terms] if row[i] > 0]
            out.append(", ".join(str(self.terms[i]) for i in best))
        return out


def topic_count(documents: int) -> int:
    """About one topic per four episodes, between 2 and MAX_TOPICS."""
    return int(np.clip(documents // 4, 2, MAX_TOPICS))


def fit_topics(documents: list[str]) -> TopicModel:
    from sklearn.feature_extraction.text import ENGLISH_STOP_WORDS

    vectorizer = TfidfVectorizer(
        stop_words=sorted(ENGLISH_STOP_WORDS.union(_FORMAT_WORDS)),
        token_pattern=r"(?u)\b[a-z][a-z]{2,}\b",
        min_df=2,
        max_df=0.5,
        sublinear_tf=True,
    )
    matrix = vectorizer.fit_transform(documents)
    n_topics = min(topic_count(len(documents)), matrix.shape[1])
    nmf = NMF(n_components=n_topics, init="nndsvda", max_iter=500, random_state=0)
    nmf.fit(matrix)
    return TopicModel(vectorizer, nmf, vectorizer.get_feature_names_out())
