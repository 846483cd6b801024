"""Collecting exposures day by day and reducing them to one row per (household, campaign)."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

# Compact the log once it holds this many raw rows, to keep memory bounded on large worlds.
_COMPACT_AT = 8_000_000


@dataclass
class FirstExposures:
    """One row per exposed (household, campaign), sorted by household then campaign."""

    household: np.ndarray  # int64
    campaign: np.ndarray  # int64
    placement: np.ndarray  # int64, the placement of the first exposure
    first_ts: np.ndarray  # int64 epoch ms
    frequency: np.ndarray  # int64, ad deliveries to the household in the flight
    household_ip: np.ndarray  # bool, at least one delivery seen from its home address

    def __len__(self) -> int:
        return len(self.household)


def _reduce(
    household: np.ndarray,
    campaign: np.ndarray,
    placement: np.ndarray,
    ts: np.ndarray,
    frequency: np.ndarray,
    household_ip: np.ndarray,
    campaigns: int,
) -> FirstExposures:
    key = household * campaigns + campaign
    order = np.lexsort((placement, ts, key))
    key = key[order]
    starts = np.flatnonzero(np.r_[True, key[1:] != key[:-1]]) if key.size else key[:0]
    if key.size == 0:
        empty = np.zeros(0, np.int64)
        return FirstExposures(empty, empty, empty, empty, empty, np.zeros(0, bool))
    return FirstExposures(
        household=household[order][starts],
        campaign=campaign[order][starts],
        placement=placement[order][starts],
        first_ts=ts[order][starts],
        frequency=np.add.reduceat(frequency[order], starts),
        household_ip=np.maximum.reduceat(household_ip[order].astype(np.int8), starts).astype(bool),
    )


class ExposureLog:
    """Accumulates exposures across days; ``first()`` gives each pair's first exposure."""

    def __init__(self, campaigns: int) -> None:
        self.campaigns = campaigns
        self._parts: list[FirstExposures] = []
        self._rows = 0

    def add(
        self,
        household: np.ndarray,
        campaign: np.ndarray,
        placement: np.ndarray,
        ts: np.ndarray,
        household_ip: np.ndarray,
    ) -> None:
        part = _reduce(
            household, campaign, placement, ts, np.ones(household.size, np.int64), household_ip,
            self.campaigns,
        )  # fmt: skip
        self._parts.append(part)
        self._rows += len(part)
        if self._rows > _COMPACT_AT and len(self._parts) > 1:
            merged = self.first()
            self._parts = [merged]
            self._rows = len(merged)

    def first(self) -> FirstExposures:
        if not self._parts:
            return _reduce(*(np.zeros(0, np.int64),) * 5, np.zeros(0, bool), self.campaigns)
        if len(self._parts) == 1:
            return self._parts[0]
        cat = {
            name: np.concatenate([getattr(p, name) for p in self._parts])
            for name in ("household", "campaign", "placement", "first_ts", "frequency")
        }
        return _reduce(
            cat["household"], cat["campaign"], cat["placement"], cat["first_ts"],
            cat["frequency"], np.concatenate([p.household_ip for p in self._parts]),
            self.campaigns,
        )  # fmt: skip
