"""Weak labels for the segment classifier, from the tenant's own placements (never from truth).

Nobody labels transcripts by hand, but the tenant knows what it bought: each placement's promo
code, vanity URL and where in the episode the ad was planned (``ad_start_s`` to ``ad_end_s``).
A segment is labelled

* **1 (read)** when it says one of the tenant's codes or vanity URLs, or lies mostly inside a
  planned ad window of its episode in which a code or URL of the tenant is said;
* **0 (not a read)** when it says none and is more than ``MARGIN_S`` seconds from every planned
  window and from every segment that says a code or URL;
* **unlabelled** otherwise (the edges of a read, a read moved away from its plan, a planned
  window where no code or URL is said): left out of training and evaluation rather than
  guessed.

A planned window counts only when a code or URL is said in it, so a read missing from its
episode (host talk in its window) is not taught as a read; what remains noisy is rare (a code
said in host talk inside a planned window).
"""

from __future__ import annotations

import numpy as np
import pandas as pd

from models_ml.transcripts.mentions import codes_in, urls_in

READ, NOT_READ, UNLABELLED = 1, 0, -1
MARGIN_S = 60.0
# Share of a segment's time inside a planned window for it to count as inside.
INSIDE_SHARE = 0.5


def says_known_mention(texts: pd.Series, known_codes: set[str], known_urls: set[str]) -> np.ndarray:
    """Whether each text says one of the tenant's codes or vanity URLs."""
    out = np.zeros(len(texts), dtype=bool)
    for i, text in enumerate(texts):
        said_code = any(c in known_codes for c in codes_in(text, known_codes))
        out[i] = said_code or any(u in known_urls for u in urls_in(text))
    return out


def _gap(a_start: np.ndarray, a_end: np.ndarray, b_start: float, b_end: float) -> np.ndarray:
    """Seconds between intervals a and the interval b (0 when they overlap)."""
    return np.maximum(np.maximum(b_start - a_end, a_start - b_end), 0.0)


def weak_labels(
    segments: pd.DataFrame,
    placements: pd.DataFrame,
    known_codes: set[str],
    known_urls: set[str],
) -> np.ndarray:
    """READ, NOT_READ or UNLABELLED for each row of ``segments`` (episode_id, start_s, end_s,
    text), from the planned ``placements`` (episode_id, ad_start_s, ad_end_s)."""
    labels = np.full(len(segments), UNLABELLED, dtype=np.int8)
    if segments.empty:
        return labels
    mention = says_known_mention(segments["text"], known_codes, known_urls)
    windows = {
        episode: group[["ad_start_s", "ad_end_s"]].dropna().to_numpy(dtype=float)
        for episode, group in placements.groupby("episode_id")
    }
    positions = {episode: idx for episode, idx in segments.groupby("episode_id").indices.items()}
    for episode, rows in positions.items():
        start = segments["start_s"].to_numpy(dtype=float)[rows]
        end = segments["end_s"].to_numpy(dtype=float)[rows]
        length = np.maximum(end - start, 1e-9)
        inside = np.zeros(len(rows), dtype=bool)
        near = np.zeros(len(rows), dtype=bool)
        said = mention[rows]
        for w_start, w_end in windows.get(episode, np.zeros((0, 2))):
            near |= _gap(start, end, w_start, w_end) <= MARGIN_S
            overlap = np.clip(np.minimum(end, w_end) - np.maximum(start, w_start), 0.0, None)
            if (said & (overlap > 0)).any():  # the plan is confirmed by what is said in it
                inside |= overlap / length >= INSIDE_SHARE
        for k in np.flatnonzero(said):
            near |= _gap(start, end, start[k], end[k]) <= MARGIN_S
        episode_labels = np.where(said | inside, READ, np.where(near, UNLABELLED, NOT_READ))
        labels[rows] = episode_labels
    return labels
