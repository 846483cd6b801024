"""Every model family the ML stage trains, by name (each in its own package)."""

from __future__ import annotations

from models_ml.anomalies import FAMILY as ANOMALIES
from models_ml.churn import FAMILY as CHURN
from models_ml.family import ModelFamily
from models_ml.forecasts import FAMILY as FORECASTS
from models_ml.roi import FAMILY as ROI
from models_ml.transcripts import FAMILY as TRANSCRIPTS

FAMILIES: dict[str, ModelFamily] = {
    family.name: family for family in (CHURN, ROI, ANOMALIES, FORECASTS, TRANSCRIPTS)
}
