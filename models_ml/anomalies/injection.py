"""Synthetic anomalies written into a copy of a tenant's daily series, for judging detectors
without any ground truth (a production tenant has none).

Four kinds, each sized from what the day would have been:

- spike: the metric gains (k - 1) x max(expected, ``SPIKE_MIN_EVENTS`` events), k drawn from
  ``SPIKE_FACTORS``; for a show the extra downloads come from many listeners (the traffic grows
  with its usual make-up, some of it from new networks);
- drop: every count of the day falls to a fraction drawn from ``DROP_FRACTIONS`` (only on days
  expected to have at least ``DROP_MIN_EVENTS`` events: a day that usually has two downloads
  cannot drop noticeably);
- flood (shows only): one network never seen before downloads the show's audio m times
  (m = max(``FLOOD_MIN_DOWNLOADS``, a share ``FLOOD_SHARES`` of the expected downloads)),
  with one to three user agents on one or two episodes, so that the IAB count grows by at most
  (user agents x episodes) while the bytes, requests and the network's share jump;
- user-agent flood (shows only): one user agent never seen on the show downloads it m times
  (m sized as a flood's) from as many networks never seen before, one download each, so that
  every download counts: the rotating-address fraud that one network's share cannot see.
"""

from __future__ import annotations

from typing import Any

import numpy as np

SPIKE_FACTORS = (2.5, 5.0)
SPIKE_MIN_EVENTS = 3.0
DROP_FRACTIONS = (0.0, 0.35)
DROP_MIN_EVENTS = 4.0
FLOOD_SHARES = (0.15, 0.5)
FLOOD_MIN_DOWNLOADS = 5
# Share of a spike's extra traffic from networks never seen before.
SPIKE_NEW_SHARE = 0.3

SHOW_KINDS = ("spike", "drop", "flood", "user_agent_flood")
CAMPAIGN_KINDS = ("spike", "drop")


def inject_show_day(
    row: dict[str, Any], kind: str, expected: float, per_download: float, rng: np.random.Generator
) -> dict[str, Any]:
    """The show-day ``row`` (a dense daily row: column -> value) with the anomaly written in
    (a changed copy)."""
    row = dict(row)
    downloads = float(row["downloads"])
    requests_per_download = float(row["requests"]) / downloads if downloads > 0 else 1.0
    requests_per_download = max(requests_per_download, 1.0)
    if kind == "spike":
        factor = rng.uniform(*SPIKE_FACTORS)
        extra = float(np.round((factor - 1.0) * max(expected, SPIKE_MIN_EVENTS)))
        extra_bytes = extra * per_download
        user_agent_share = (
            row["top_user_agent_bytes"] / row["countable_bytes"] if row["countable_bytes"] else 0.2
        )
        row["downloads"] += extra
        row["countable_bytes"] += extra_bytes
        row["requests"] += np.round(extra * requests_per_download)
        row["new_network_bytes"] += SPIKE_NEW_SHARE * extra_bytes
        row["top_user_agent_bytes"] += user_agent_share * extra_bytes
    elif kind == "drop":
        fraction = rng.uniform(*DROP_FRACTIONS)
        for column in (
            "countable_bytes",
            "new_network_bytes",
            "top_network_bytes",
            "top_user_agent_bytes",
        ):
            row[column] *= fraction
        for column in ("downloads", "requests", "top_network_requests"):
            row[column] = float(np.floor(row[column] * fraction))
    elif kind == "flood":
        fetches = _flood_size(expected, rng)
        user_agents = int(rng.integers(1, 4))
        episodes = int(rng.integers(1, 3))
        flood_bytes = fetches * per_download
        row["downloads"] += float(min(fetches, user_agents * episodes))
        row["countable_bytes"] += flood_bytes
        row["requests"] += np.round(fetches * requests_per_download)
        row["new_network_bytes"] += flood_bytes
        if flood_bytes > row["top_network_bytes"]:
            row["top_network_bytes"] = flood_bytes
            row["top_network_requests"] = np.round(fetches * requests_per_download)
            row["top_network_key"] = "injected-flood"
        row["top_user_agent_bytes"] = max(row["top_user_agent_bytes"], flood_bytes / user_agents)
    elif kind == "user_agent_flood":
        fetches = _flood_size(expected, rng)
        flood_bytes = fetches * per_download
        row["downloads"] += fetches
        row["countable_bytes"] += flood_bytes
        row["requests"] += np.round(fetches * requests_per_download)
        row["new_network_bytes"] += flood_bytes
        if flood_bytes > row["top_user_agent_bytes"]:
            row["top_user_agent_bytes"] = flood_bytes
            row["top_user_agent"] = "injected-user-agent"
            row["top_user_agent_name"] = None
    else:
        raise ValueError(f"unknown anomaly kind {kind!r}")
    return row


def _flood_size(expected: float, rng: np.random.Generator) -> float:
    share = rng.uniform(*FLOOD_SHARES)
    return float(max(FLOOD_MIN_DOWNLOADS, np.ceil(share * max(expected, 1.0))))


def inject_campaign_value(
    value: float, kind: str, expected: float, unit: float, rng: np.random.Generator
) -> float:
    """A campaign metric's day with the anomaly written in (``unit``: the worth of one event)."""
    if kind == "spike":
        factor = rng.uniform(*SPIKE_FACTORS)
        return value + (factor - 1.0) * max(expected, SPIKE_MIN_EVENTS * unit)
    if kind == "drop":
        return value * rng.uniform(*DROP_FRACTIONS)
    raise ValueError(f"unknown campaign anomaly kind {kind!r}")


def eligible_kinds(kinds: tuple[str, ...], expected_events: float) -> list[str]:
    """The kinds that make sense on a day expected to have ``expected_events`` events."""
    return [k for k in kinds if k != "drop" or expected_events >= DROP_MIN_EVENTS]
