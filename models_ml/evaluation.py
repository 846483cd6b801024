"""How a candidate model is judged: its metrics beside its baseline's on the same holdout."""

from __future__ import annotations

import math
from dataclasses import dataclass, field


@dataclass(frozen=True)
class Evaluation:
    """A candidate's holdout metrics beside a baseline's, and the rule that promotes it.

    ``metric`` names the primary metric in both dicts; the candidate is promoted when it is
    better than the baseline's by more than ``min_gain`` (absolute, in the metric's units). The
    other metrics are reported, not judged.
    """

    metric: str
    higher_is_better: bool
    model: dict[str, float]
    baseline_name: str
    baseline: dict[str, float]
    holdout_rows: int
    min_gain: float = 0.0
    notes: dict[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for side, metrics in (("model", self.model), ("baseline", self.baseline)):
            if self.metric not in metrics:
                raise ValueError(f"the {side} metrics lack the primary metric {self.metric!r}")

    @property
    def gain(self) -> float:
        """How much better the candidate is on the primary metric (negative: worse)."""
        diff = self.model[self.metric] - self.baseline[self.metric]
        return diff if self.higher_is_better else -diff

    def beats_baseline(self) -> bool:
        ours, theirs = self.model[self.metric], self.baseline[self.metric]
        if not math.isfinite(ours):
            return False
        if not math.isfinite(theirs):
            return True
        return self.gain > self.min_gain

    def verdict(self) -> str:
        ours, theirs = self.model[self.metric], self.baseline[self.metric]
        better = "beats" if self.beats_baseline() else "does not beat"
        return (
            f"{self.metric} {ours:.4g} {better} the {self.baseline_name} baseline's {theirs:.4g}"
            f" on {self.holdout_rows} holdout rows"
            + (f" (needs a gain over {self.min_gain:g})" if self.min_gain else "")
        )
