"""Scoring what the family found against a simulated world's truth (tests and back-tests only).

Training and scoring never see the truth; these functions compare their output with the
simulator's ``_truth/transcript_reads.csv`` (one row per placement: where the read was said,
or nothing for a missing read, and the fault) and ``_truth/transcript_topics.csv``.
"""

from __future__ import annotations

import numpy as np
import pandas as pd

# A detected read and a true one are the same read when their time ranges overlap by at least
# this share of their union (intersection over union).
MIN_IOU = 0.5


def _iou(a_start: float, a_end: float, b_start: float, b_end: float) -> float:
    inter = max(0.0, min(a_end, b_end) - max(a_start, b_start))
    union = max(a_end, b_end) - min(a_start, b_start)
    return inter / union if union > 0 else 0.0


def read_detection(detected: pd.DataFrame, truth: pd.DataFrame) -> dict[str, float]:
    """Precision and recall of detected reads (episode_id, start_s, end_s) against the reads
    that were said (truth rows with a start)."""
    said = truth.dropna(subset=["start_s"])
    true_by_episode = {e: g for e, g in said.groupby("episode_id")}
    matched_true: set[int] = set()
    hits = 0
    for read in detected.itertuples(index=False):
        candidates = true_by_episode.get(read.episode_id)
        if candidates is None:
            continue
        for index, true in candidates.iterrows():
            if index in matched_true:
                continue
            if _iou(read.start_s, read.end_s, true.start_s, true.end_s) >= MIN_IOU:
                matched_true.add(index)
                hits += 1
                break
    precision = hits / len(detected) if len(detected) else float("nan")
    recall = len(matched_true) / len(said) if len(said) else float("nan")
    return {
        "detected": float(len(detected)),
        "true_reads": float(len(said)),
        "precision": precision,
        "recall": recall,
    }


def segment_is_read(segments: pd.DataFrame, truth: pd.DataFrame) -> np.ndarray:
    """Whether each segment (episode_id, start_s, end_s) lies mostly inside a read said."""
    said = truth.dropna(subset=["start_s"])
    windows = {e: g[["start_s", "end_s"]].to_numpy(float) for e, g in said.groupby("episode_id")}
    out = np.zeros(len(segments), dtype=bool)
    for i, seg in enumerate(segments.itertuples(index=False)):
        length = max(seg.end_s - seg.start_s, 1e-9)
        for w_start, w_end in windows.get(seg.episode_id, ()):
            if max(0.0, min(seg.end_s, w_end) - max(seg.start_s, w_start)) / length >= 0.5:
                out[i] = True
                break
    return out


def fault_findings(compliance: pd.DataFrame, truth: pd.DataFrame) -> pd.DataFrame:
    """Per true fault kind (``none`` included): placements, and how many got each status."""
    merged = truth[["placement_id", "fault"]].merge(
        compliance[["placement_id", "status"]], on="placement_id", how="left"
    )
    merged["status"] = merged["status"].fillna("not judged")
    return merged.groupby(["fault", "status"]).size().unstack(fill_value=0)


def topic_overlap(insights: pd.DataFrame, topics_truth: pd.DataFrame) -> float:
    """Mean share of each episode's detected topic terms that belong to the vocabulary of its
    true topics."""
    vocabulary = {
        e: {w for v in g["vocabulary"] for w in str(v).split()}
        for e, g in topics_truth.groupby("episode_id")
    }
    shares = []
    for row in insights.itertuples(index=False):
        terms = [t.strip() for t in str(row.topics or "").split(",") if t.strip()]
        if terms:
            words = vocabulary.get(row.episode_id, set())
            shares.append(sum(t in words for t in terms) / len(terms))
    return float(np.mean(shares)) if shares else float("nan")
