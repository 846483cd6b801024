"""ROI: a placement's ROAS and CAC, and a budget spread over shows (docs/user/ml/roi.md)."""

from models_ml.roi.allocation import AllocationSettings
from models_ml.roi.family import RoiFamily

FAMILY = RoiFamily()

__all__ = ["FAMILY", "AllocationSettings", "RoiFamily"]
