"""Transcripts: sponsor reads, their compliance with the plan, and episode insights.

See docs/user/ml/transcripts.md (what it writes) and :mod:`models_ml.transcripts.family`.
"""

from models_ml.transcripts.family import TranscriptsFamily

FAMILY = TranscriptsFamily()

__all__ = ["FAMILY", "TranscriptsFamily"]
