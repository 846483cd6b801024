"""Who describes an episode (topics, sentiment, summary): a provider behind one interface.

``local`` (the default, and what the tests and the pipeline use) runs on the machine: the topic
model fitted at training (:mod:`topics`), the lexicon score (:mod:`sentiment`) and TextRank
(:mod:`summary`). ``hosted`` would send each episode's host talk to an OpenAI-compatible chat
endpoint; it is chosen only with ``EARSHOT_TRANSCRIPT_ANALYZER=hosted`` and needs
``EARSHOT_TRANSCRIPTS_LLM_URL`` (and ``EARSHOT_TRANSCRIPTS_LLM_MODEL``; a bearer key in
``EARSHOT_TRANSCRIPTS_LLM_API_KEY`` if the endpoint wants one). It sends transcript text off the
machine, so it is never a default. Sponsor-read detection is the trained classifier either way.
"""

from __future__ import annotations

import json
import os
import urllib.request
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Protocol

from models_ml.transcripts.sentiment import sentiment
from models_ml.transcripts.summary import sentences_of, summarise
from models_ml.transcripts.topics import TopicModel

ANALYZER_ENV = "EARSHOT_TRANSCRIPT_ANALYZER"
URL_ENV = "EARSHOT_TRANSCRIPTS_LLM_URL"
MODEL_ENV = "EARSHOT_TRANSCRIPTS_LLM_MODEL"
KEY_ENV = "EARSHOT_TRANSCRIPTS_LLM_API_KEY"


@dataclass(frozen=True)
class EpisodeText:
    episode_id: str
    talk: str  # the host talk, sponsor reads left out


@dataclass(frozen=True)
class EpisodeInsight:
    topics: str  # comma-separated terms
    sentiment: float  # -1 .. 1
    summary: str


class TranscriptAnalyzer(Protocol):
    name: str

    def analyse(self, episodes: Sequence[EpisodeText]) -> list[EpisodeInsight]: ...


class AnalyzerNotConfigured(RuntimeError):
    """The chosen analyzer lacks its settings."""


@dataclass
class LocalAnalyzer:
    topic_model: TopicModel
    name: str = "local"

    def analyse(self, episodes: Sequence[EpisodeText]) -> list[EpisodeInsight]:
        topics = self.topic_model.describe([e.talk for e in episodes])
        return [
            EpisodeInsight(
                topics=terms,
                sentiment=round(sentiment(e.talk), 4),
                summary=summarise(sentences_of(e.talk), vectorizer=self.topic_model.vectorizer),
            )
            for e, terms in zip(episodes, topics, strict=True)
        ]


_PROMPT = (
    "You describe a podcast episode from its transcript. Answer with JSON only: "
    '{"topics": [up to 6 short lower-case terms], "sentiment": a number from -1 to 1, '
    '"summary": at most two sentences}.'
)


def parse_answer(content: str) -> EpisodeInsight:
    """An insight from the model's JSON answer (topics a list or a string)."""
    answer = json.loads(content)
    topics = answer.get("topics", [])
    if isinstance(topics, list):
        topics = ", ".join(str(t) for t in topics)
    value = float(answer.get("sentiment", 0.0))
    return EpisodeInsight(str(topics), max(-1.0, min(1.0, value)), str(answer.get("summary", "")))


@dataclass
class HostedAnalyzer:
    url: str
    model: str
    api_key: str | None = None
    timeout_s: float = 60.0
    name: str = "hosted"

    @classmethod
    def from_env(cls, environ: Mapping[str, str]) -> HostedAnalyzer:
        url, model = environ.get(URL_ENV, ""), environ.get(MODEL_ENV, "")
        if not url or not model:
            raise AnalyzerNotConfigured(
                f"{ANALYZER_ENV}=hosted needs {URL_ENV} (an OpenAI-compatible chat completions"
                f" URL) and {MODEL_ENV}; unset {ANALYZER_ENV} to use the local analyzer"
            )
        return cls(url, model, environ.get(KEY_ENV) or None)

    def analyse(self, episodes: Sequence[EpisodeText]) -> list[EpisodeInsight]:
        return [self._ask(e.talk) for e in episodes]

    def _ask(self, talk: str) -> EpisodeInsight:
        body = {
            "model": self.model,
            "messages": [
                {"role": "system", "content": _PROMPT},
                {"role": "user", "content": talk[:20_000]},
            ],
        }
        headers = {"Content-Type": "application/json"}
        if self.api_key:
            headers["Authorization"] = f"Bearer {self.api_key}"
        request = urllib.request.Request(
            self.url, data=json.dumps(body).encode(), headers=headers, method="POST"
        )
        with urllib.request.urlopen(request, timeout=self.timeout_s) as response:
            reply = json.loads(response.read())
        return parse_answer(reply["choices"][0]["message"]["content"])


def analyzer_from_env(
    topic_model: TopicModel, environ: Mapping[str, str] | None = None
) -> TranscriptAnalyzer:
    env = os.environ if environ is None else environ
    choice = env.get(ANALYZER_ENV, "local").strip().lower() or "local"
    if choice == "local":
        return LocalAnalyzer(topic_model)
    if choice == "hosted":
        return HostedAnalyzer.from_env(env)
    raise AnalyzerNotConfigured(f"{ANALYZER_ENV}={choice!r}: expected local or hosted")
