"""The expectation suites of landed batches, kept in the repository as JSON (``suites/``).

One file per entity, ``suites/<entity>.json``, in Great Expectations' own suite format (``name``,
``meta``, ``expectations`` with ``type``, ``kwargs``, ``meta``, ``notes``), so a suite can be read,
reviewed and edited without running anything. Two kwargs are filled in at validation time from
the batches themselves, as GX suite parameters:

* ``{"$PARAMETER": "freshness_min_event_time"}``: the newest ``_extracted_at`` of the batches
  minus the freshness allowance (``meta.freshness_days`` of the expectation, overridden by the
  ``EARSHOT_FRESHNESS_DAYS`` environment variable or by the caller);
* ``{"$PARAMETER": "latest_plausible_event_time"}``: the newest ``_extracted_at`` plus one day.
"""

from __future__ import annotations

import copy
import json
import os
from functools import cache
from pathlib import Path

SUITES_DIR = Path(__file__).resolve().parent / "suites"
FRESHNESS_ENV = "EARSHOT_FRESHNESS_DAYS"
FRESHNESS_PARAMETER = "freshness_min_event_time"
FUTURE_PARAMETER = "latest_plausible_event_time"
# Where an expectation's position in its suite is kept while GX runs it (GX reorders results).
POSITION_KEY = "earshot_position"


def suite_path(entity: str) -> Path:
    return SUITES_DIR / f"{entity}.json"


def suite_entities() -> list[str]:
    """Entities that have a suite."""
    return sorted(p.stem for p in SUITES_DIR.glob("*.json"))


@cache
def _load(entity: str) -> dict:
    path = suite_path(entity)
    if not path.is_file():
        raise ValueError(f"no expectation suite for {entity!r}: expected {path}")
    return json.loads(path.read_text())


def suite_definition(entity: str) -> dict:
    """The suite of ``entity`` as stored, each expectation tagged with its position."""
    suite = copy.deepcopy(_load(entity))
    for position, expectation in enumerate(suite["expectations"]):
        expectation.setdefault("meta", {})[POSITION_KEY] = position
    return suite


def freshness_days(entity: str, override: float | None = None) -> float | None:
    """How many days the newest event may lag the newest extraction; None without a check."""
    declared = [
        e.get("meta", {}).get("freshness_days")
        for e in _load(entity)["expectations"]
        if e.get("meta", {}).get("check") == "freshness"
    ]
    if not declared:
        return None
    if override is not None:
        return float(override)
    from_env = os.environ.get(FRESHNESS_ENV)
    if from_env:
        try:
            return float(from_env)
        except ValueError as exc:
            raise ValueError(f"{FRESHNESS_ENV} must be a number of days, not {from_env!r}") from exc
    return float(declared[0])
