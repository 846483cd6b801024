"""A short extractive summary: the most central sentences of the host talk (TextRank).

Sentences are TF-IDF vectors (with the IDF of the tenant's episodes); their cosine
similarities make a graph, and PageRank on it (damping 0.85) scores each sentence by how much
the others resemble it. The best
``MAX_SENTENCES`` are kept in their original order, cut at ``MAX_CHARS``. Sentences repeated
word for word count once.
"""

from __future__ import annotations

import re

import numpy as np
from sklearn.feature_extraction.text import TfidfVectorizer

MAX_SENTENCES = 2
MAX_CHARS = 400
DAMPING = 0.85
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def sentences_of(text: str) -> list[str]:
    return [s.strip() for s in _SENTENCE_END.split(text) if len(s.strip().split()) >= 3]


def pagerank(similarity: np.ndarray, damping: float = DAMPING, iterations: int = 100) -> np.ndarray:
    """PageRank scores of a weighted undirected graph (a sentence with no neighbour keeps the
    teleport share only)."""
    n = similarity.shape[0]
    weights = similarity.copy()
    np.fill_diagonal(weights, 0.0)
    out = weights.sum(axis=1, keepdims=True)
    transition = np.divide(weights, out, out=np.zeros_like(weights), where=out > 0)
    score = np.full(n, 1.0 / n)
    for _ in range(iterations):
        updated = (1 - damping) / n + damping * transition.T @ score
        if np.abs(updated - score).sum() < 1e-10:
            return updated
        score = updated
    return score


def summarise(
    sentences: list[str],
    max_sentences: int = MAX_SENTENCES,
    vectorizer: TfidfVectorizer | None = None,
) -> str:
    """The ``max_sentences`` most central sentences, in their order. ``vectorizer``: a TF-IDF
    fitted on the tenant's episodes (its IDF then discounts the show's stock phrases, so
    sentences are linked by what the episode is about); else one fitted on these sentences."""
    unique = list(dict.fromkeys(s for s in sentences if s))
    if len(unique) <= max_sentences:
        chosen = unique
    else:
        try:
            if vectorizer is None:
                vectors = TfidfVectorizer(stop_words="english").fit_transform(unique)
            else:
                vectors = vectorizer.transform(unique)
        except ValueError:  # nothing but stop words
            vectors = None
        if vectors is None:
            chosen = unique[:max_sentences]
        else:
            score = pagerank((vectors @ vectors.T).toarray())
            best = sorted(np.argsort(-score, kind="stable")[:max_sentences])
            chosen = [unique[i] for i in best]
    text = " ".join(chosen)
    return text if len(text) <= MAX_CHARS else text[: MAX_CHARS - 1].rstrip() + "…"
