"""The transcripts family: sponsor reads found in episode transcripts, checked against the plan.

Training fits the segment classifier on weak labels from the tenant's own placements
(:mod:`labels`), evaluates it on the later episodes against the keyword baseline
(:mod:`baseline`) by segment-level F1, then refits it on every labelled segment and fits the
topic model on the episodes' host talk. Scoring classifies every segment, assembles and matches
the reads (:mod:`reads`), judges every planned placement (:mod:`compliance`) and describes every
episode (:mod:`analyzers`). See docs/user/ml/transcripts.md.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd
import pyarrow as pa
from sklearn.metrics import precision_recall_fscore_support

from models_ml.evaluation import Evaluation
from models_ml.family import NotEnoughData, Trained
from models_ml.transcripts.analyzers import EpisodeText, analyzer_from_env
from models_ml.transcripts.baseline import KEYWORDS, keyword_flags
from models_ml.transcripts.classifier import (
    THRESHOLD,
    build_classifier,
    holdout_episodes,
    read_probability,
)
from models_ml.transcripts.compliance import compliance_rows
from models_ml.transcripts.data import READS, TenantTranscripts, load
from models_ml.transcripts.labels import NOT_READ, READ, weak_labels
from models_ml.transcripts.model import TranscriptModel
from models_ml.transcripts.reads import Catalogue, DetectedRead, detect_episode_reads
from models_ml.transcripts.topics import fit_topics
from warehouse.connection import Warehouse

# Fewer read-labelled segments than this cannot teach what a read sounds like.
MIN_READ_SEGMENTS = 10
MIN_TRAIN_PER_CLASS = 5
MIN_HOLDOUT_PER_CLASS = 3
# The classifier must beat the keyword baseline's F1 by more than this to be promoted.
MIN_GAIN = 0.02

_STR, _F64 = pa.string(), pa.float64()
SCHEMAS = {
    "sponsor_reads": pa.schema(
        [("tenant_id", _STR), ("episode_id", _STR), ("show_id", _STR), ("start_s", _F64),
         ("end_s", _F64), ("brand", _STR), ("promo_code", _STR), ("vanity_url", _STR),
         ("position", _STR), ("confidence", _F64), ("campaign_id", _STR),
         ("placement_id", _STR), ("model_version", _STR)]
    ),
    "read_compliance": pa.schema(
        [("tenant_id", _STR), ("placement_id", _STR), ("campaign_id", _STR),
         ("episode_id", _STR), ("planned_position", _STR), ("detected_position", _STR),
         ("planned_promo_code", _STR), ("detected_promo_code", _STR), ("status", _STR),
         ("model_version", _STR)]
    ),
    "episode_insights": pa.schema(
        [("tenant_id", _STR), ("episode_id", _STR), ("show_id", _STR), ("topics", _STR),
         ("sentiment", _F64), ("summary", _STR), ("model_version", _STR)]
    ),
}  # fmt: skip


def _scores(truth: np.ndarray, predicted: np.ndarray) -> dict[str, float]:
    precision, recall, f1, _ = precision_recall_fscore_support(
        truth, predicted, average="binary", pos_label=1, zero_division=0
    )
    return {"f1": float(f1), "precision": float(precision), "recall": float(recall)}


def _publication_order(data: TenantTranscripts) -> pd.DataFrame:
    """Transcribed episodes with their publication time (NaT when the episode is unknown)."""
    episodes = pd.DataFrame({"episode_id": data.segments["episode_id"].unique()})
    return episodes.merge(
        data.episodes[["episode_id", "published_at"]], on="episode_id", how="left"
    )


def _catalogue(data: TenantTranscripts) -> Catalogue:
    planned = data.placements.merge(data.campaigns, on="campaign_id", how="left")
    return Catalogue(planned, data.advertisers, data.known_codes, data.known_urls)


class TranscriptsFamily:
    name = "transcripts"
    description = (
        "sponsor reads found in episode transcripts (where, brand, promo code, vanity URL, "
        "position), checked against the planned placements, and each episode's topics, "
        "sentiment and summary"
    )
    reads = READS
    tables = ("sponsor_reads", "read_compliance", "episode_insights")

    def train(self, wh: Warehouse, tenant_id: str) -> Trained:
        return self.train_on(load(wh, tenant_id))

    def score(
        self, wh: Warehouse, tenant_id: str, model: Any, model_version: str
    ) -> dict[str, pa.Table]:
        return self.score_on(load(wh, tenant_id), tenant_id, model, model_version)

    def train_on(self, data: TenantTranscripts) -> Trained:
        """Train and evaluate on one tenant's data as :func:`data.load` reads it."""
        segments = data.segments
        if segments.empty:
            raise NotEnoughData("no transcripts (import transcripts.csv or transcripts.parquet)")
        if not data.known_codes and not data.known_urls and data.placements.empty:
            raise NotEnoughData("no placements to label sponsor reads by")
        labels = weak_labels(segments, data.placements, data.known_codes, data.known_urls)
        reads_labelled = int((labels == READ).sum())
        if reads_labelled < MIN_READ_SEGMENTS:
            raise NotEnoughData(
                f"{reads_labelled} transcript segments say a planned promo code or vanity URL or"
                f" lie in a planned ad window; at least {MIN_READ_SEGMENTS} are needed"
            )
        order = _publication_order(data)
        per_episode = pd.Series(labels == READ).groupby(segments["episode_id"].to_numpy()).sum()
        held = holdout_episodes(order, per_episode)
        in_holdout = segments["episode_id"].isin(held).to_numpy()
        labelled = labels != -1
        fit_rows, test_rows = labelled & ~in_holdout, labelled & in_holdout
        for part, rows, least in (
            ("earlier", fit_rows, MIN_TRAIN_PER_CLASS),
            ("held-out later", test_rows, MIN_HOLDOUT_PER_CLASS),
        ):
            counts = {c: int((labels[rows] == c).sum()) for c in (READ, NOT_READ)}
            if min(counts.values()) < least:
                raise NotEnoughData(
                    f"the {part} episodes have {counts[READ]} read and {counts[NOT_READ]}"
                    f" other labelled segments; at least {least} of each are needed"
                )
        texts = segments["text"]
        candidate = build_classifier().fit(texts[fit_rows], labels[fit_rows])
        truth = labels[test_rows]
        predicted = read_probability(candidate, texts[test_rows]) >= THRESHOLD
        evaluation = Evaluation(
            metric="f1",
            higher_is_better=True,
            model=_scores(truth, predicted),
            baseline_name="keyword",
            baseline=_scores(truth, keyword_flags(texts[test_rows])),
            holdout_rows=int(test_rows.sum()),
            min_gain=MIN_GAIN,
            notes={
                "holdout": f"segments of the {len(held)} latest transcribed episodes, labelled"
                " from the planned placements",
                "baseline": "a segment containing " + ", ".join(f'"{k}"' for k in KEYWORDS),
            },
        )

        # Served: the classifier refitted on every labelled segment, and the topics of the
        # host talk it leaves.
        classifier = build_classifier().fit(texts[labelled], labels[labelled])
        talk = read_probability(classifier, texts) < THRESHOLD
        documents = (
            segments.loc[talk].groupby("episode_id", sort=True)["text"].agg(" ".join).tolist()
        )
        try:
            topic_model = fit_topics(documents)
        except ValueError as short:  # too few episodes or words for a vocabulary
            raise NotEnoughData(f"the host talk is too small for topics ({short})") from short
        published = order["published_at"].dropna()
        return Trained(
            model=TranscriptModel(classifier, THRESHOLD, topic_model),
            features=[
                "segment text: TF-IDF of words and word pairs (URLs, code-like tokens and"
                " numbers as placeholder words)"
            ],
            data_start=published.min().date() if len(published) else None,
            data_end=published.max().date() if len(published) else None,
            training_rows=int(labelled.sum()),
            evaluation=evaluation,
            details={
                "threshold": THRESHOLD,
                "episodes": int(order.shape[0]),
                "holdout_episodes": len(held),
                "segments": len(segments),
                "read_segments": reads_labelled,
                "other_segments": int((labels == NOT_READ).sum()),
                "unlabelled_segments": int((labels == -1).sum()),
                "topics": int(topic_model.nmf.n_components),
            },
        )

    def score_on(
        self, data: TenantTranscripts, tenant_id: str, model: Any, model_version: str
    ) -> dict[str, pa.Table]:
        """The three tables for one tenant's data as :func:`data.load` reads it."""
        segments = data.segments.sort_values(["episode_id", "segment_index"]).reset_index(drop=True)
        probability = read_probability(model.classifier, segments["text"])
        catalogue = _catalogue(data)
        reads: list[DetectedRead] = []
        talks: list[EpisodeText] = []
        for episode, rows in segments.groupby("episode_id", sort=True).indices.items():
            group = segments.iloc[rows]
            found = detect_episode_reads(
                str(episode), group, probability[rows], model.threshold, catalogue
            )
            reads += found
            in_read = {i for r in found for i in r.segments}
            talk = [t for i, t in enumerate(group["text"]) if i not in in_read]
            talks.append(EpisodeText(str(episode), " ".join(talk)))
        insights = analyzer_from_env(model.topic_model).analyse(talks)
        show_of = dict(zip(data.episodes["episode_id"], data.episodes["show_id"], strict=True))
        transcribed = {t.episode_id for t in talks}

        def table(name: str, rows: list[dict]) -> pa.Table:
            common = {"tenant_id": tenant_id, "model_version": model_version}
            return pa.Table.from_pylist([{**r, **common} for r in rows], schema=SCHEMAS[name])

        return {
            "sponsor_reads": table(
                "sponsor_reads",
                [
                    {
                        "episode_id": r.episode_id,
                        "show_id": show_of.get(r.episode_id),
                        "start_s": r.start_s,
                        "end_s": r.end_s,
                        "brand": r.brand,
                        "promo_code": r.promo_code,
                        "vanity_url": r.vanity_url,
                        "position": r.position,
                        "confidence": round(r.confidence, 4),
                        "campaign_id": r.campaign_id,
                        "placement_id": r.placement_id,
                    }
                    for r in reads
                ],
            ),
            "read_compliance": table(
                "read_compliance", compliance_rows(catalogue.placements, reads, transcribed)
            ),
            "episode_insights": table(
                "episode_insights",
                [
                    {
                        "episode_id": t.episode_id,
                        "show_id": show_of.get(t.episode_id),
                        "topics": i.topics,
                        "sentiment": i.sentiment,
                        "summary": i.summary,
                    }
                    for t, i in zip(talks, insights, strict=True)
                ],
            ),
        }
