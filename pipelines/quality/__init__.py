"""Data-quality suites of landed batches (Great Expectations), free of Dagster.

``validate_landed_batches(entity, files)`` is what the blocking asset checks call; the suites
themselves are JSON files in ``pipelines/quality/suites/``.
"""

from pipelines.quality.validation import (
    FailedExpectation,
    ValidationOutcome,
    validate_landed_batches,
)

__all__ = ["FailedExpectation", "ValidationOutcome", "validate_landed_batches"]
