"""The artefact the registry keeps: the segment classifier and the topic model."""

from __future__ import annotations

from dataclasses import dataclass

from sklearn.pipeline import Pipeline

from models_ml.transcripts.topics import TopicModel


@dataclass
class TranscriptModel:
    classifier: Pipeline  # text -> P(sponsor read), fitted on every weakly labelled segment
    threshold: float  # P(read) from which a segment is a read
    topic_model: TopicModel  # fitted on the host talk of every episode at training
