"""The rows of ``ml.anomalies``: one per anomaly, with what was seen, what was expected, how
severe it is, what kind it is and a sentence an operator understands.

A show-day alerts when its combined score is above 1. When the forest raised it (its part above
the seasonal ones), the row names the most specific cause among its signs at the gate:

- one network took the day: ``traffic_share`` of a ``network`` (the warehouse's pseudonymous
  network key, never an address), kind ``concentration``;
- else one user agent took the day: ``traffic_share`` of a ``user_agent``, kind
  ``concentration``;
- else networks never seen before brought much of the day: ``traffic_share`` of the ``show``,
  kind ``spike``;
- else the show's traffic rose out of line with its downloads: ``downloads`` of the ``show``,
  kind ``spike``, the sentence telling the traffic from the count.

Otherwise the seasonal parts raised it: ``downloads`` of the ``show``, kind ``spike`` or ``drop``
(a drop also when the audio fetched fell, the count with it).

A campaign-day alerts on its ``conversions`` or ``spend``, kind ``spike`` or ``drop``.

Severity follows the score (multiples of the alert threshold): ``critical`` from 3, ``high`` from
2, ``medium`` from 1.5, ``low`` above 1; a concentration's follows the share of the show's audio
the network or user agent fetched beyond the busiest one's usual share: ``critical`` from 50
points, ``high`` from 25, ``medium`` from 15, ``low`` below.
"""

from __future__ import annotations

import hashlib
import math
from collections.abc import Callable
from datetime import date
from typing import Any

import pandas as pd
import pyarrow as pa

from models_ml.anomalies.detector import ALERT_SCORE, GATE, AnomalyDetector, forest_signs

# Score floors of the severities above "low" (every alert has a score above 1).
SEVERITIES = (("critical", 3.0), ("high", 2.0), ("medium", 1.5))
# A concentration's severity is the share of the show's audio the one network or user agent
# fetched beyond what the busiest one usually fetches (what is at stake in the counts), not its
# score: the forest's score saturates.
CONCENTRATION_SEVERITIES = (("critical", 0.5), ("high", 0.25), ("medium", 0.15))

SCHEMA = pa.schema(
    [
        ("anomaly_id", pa.string()),
        ("tenant_id", pa.string()),
        ("detected_at_day", pa.date32()),
        ("metric", pa.string()),
        ("entity_type", pa.string()),
        ("entity_id", pa.string()),
        ("scope_type", pa.string()),
        ("scope_id", pa.string()),
        ("observed", pa.float64()),
        ("expected", pa.float64()),
        ("expected_low", pa.float64()),
        ("expected_high", pa.float64()),
        ("score", pa.float64()),
        ("severity", pa.string()),
        ("kind", pa.string()),
        ("explanation", pa.string()),
        ("model_version", pa.string()),
    ]
)

# The forest features whose rise names a network or a user agent as the cause.
_NETWORK_SIGNS = ("network_share_dev", "network_volume_dev")
_USER_AGENT_SIGNS = ("user_agent_share_dev",)
_NEW_NETWORK_SIGNS = ("new_network_share_dev",)
# Characters of a network key or user agent quoted in a sentence.
_KEY_CHARS = 12
_USER_AGENT_CHARS = 60


def severity(score: float) -> str:
    """The severity band of an alert's score (multiples of the alert threshold)."""
    for name, floor in SEVERITIES:
        if score >= floor:
            return name
    return "low"


def concentration_severity(share: float, usual: float) -> str:
    """The severity band of a concentration: the share of the show's audio above the usual
    share of the busiest network or user agent."""
    for name, floor in CONCENTRATION_SEVERITIES:
        if share - usual >= floor:
            return name
    return "low"


def anomaly_id(
    tenant_id: str, day: date, metric: str, entity: str, entity_id: str, scope: str
) -> str:
    """A deterministic id: the same anomaly scored again keeps its id."""
    text = "|".join([tenant_id, day.isoformat(), metric, entity, entity_id, scope])
    return hashlib.sha256(text.encode()).hexdigest()[:20]


def _day(value: Any) -> date:
    return pd.Timestamp(value).date()


def _when(day: date) -> str:
    return f"{day.strftime('%A')} {day.isoformat()}"


def _count(value: float) -> str:
    return f"{value:,.0f}" if abs(value - round(value)) < 1e-9 else f"{value:,.1f}"


def _versus(observed: float, expected: float, usual: str) -> str:
    """ "3.4x the usual Tuesday" or "85% below the usual Tuesday"."""
    if expected <= 0:
        return f"where the usual {usual} has none" if observed > 0 else f"as on the usual {usual}"
    ratio = observed / expected
    if ratio >= 1:
        return f"{ratio:.1f}x the usual {usual}"
    return f"{(1 - ratio):.0%} below the usual {usual}"


def _whole_range(low: float, high: float) -> str:
    """The whole numbers inside [low, high] (the counts that would not have alerted)."""
    return f"{math.ceil(low - 1e-9):,}-{max(math.floor(high + 1e-9), 0):,}"


def _band(expected: float, spread: float, threshold: float, upper: float | None = None):
    low = max(0.0, expected - threshold * spread)
    high = expected + threshold * spread
    return low, high if upper is None else min(upper, high)


def _row(tenant_id: str, model_version: str, **values: Any) -> dict[str, Any]:
    day = values["detected_at_day"]
    values["anomaly_id"] = anomaly_id(
        tenant_id,
        day,
        values["metric"],
        values["entity_type"],
        values["entity_id"],
        f"{values['scope_type']}:{values['scope_id']}",
    )
    if values["kind"] == "concentration":
        values["severity"] = concentration_severity(values["observed"], values["expected"])
    else:
        values["severity"] = severity(values["score"])
    return {"tenant_id": tenant_id, "model_version": model_version, **values}


def show_alerts(
    scored: pd.DataFrame,
    detector: AnomalyDetector,
    show_names: dict[str, str],
    tenant_id: str,
    model_version: str,
) -> list[dict[str, Any]]:
    """One row per alerting show-day of ``scored`` (:func:`score_shows`)."""
    flagged = scored[scored["combined_score"] > ALERT_SCORE]
    if flagged.empty:
        return []
    signs = pd.DataFrame(
        forest_signs(flagged, detector.features), columns=detector.features, index=flagged.index
    )
    rows = []
    for index, day_row in flagged.iterrows():
        cause = _forest_cause(signs.loc[index]) if _forest_led(day_row) else None
        if cause == "network" and _text(day_row["top_network_key"]):
            rows.append(_network_row(day_row, show_names, tenant_id, model_version))
        elif cause == "user_agent" and _text(day_row["top_user_agent"]):
            rows.append(_user_agent_row(day_row, show_names, tenant_id, model_version))
        elif cause == "new_networks":
            rows.append(_new_networks_row(day_row, show_names, tenant_id, model_version))
        else:
            traffic_led = cause is not None
            rows.append(
                _downloads_row(day_row, detector, traffic_led, show_names, tenant_id, model_version)
            )
    return rows


def _forest_led(row: pd.Series) -> bool:
    seasonal = max(row["downloads_part"], row["volume_drop_part"])
    return row["forest_part"] > max(seasonal, ALERT_SCORE)


def _forest_cause(signs: pd.Series) -> str:
    """What the forest's alert names, the most specific cause first: one network, one user
    agent, new networks, else the traffic volume."""
    for cause, features in (
        ("network", _NETWORK_SIGNS),
        ("user_agent", _USER_AGENT_SIGNS),
        ("new_networks", _NEW_NETWORK_SIGNS),
    ):
        if any(signs.get(f, 0.0) >= GATE for f in features):
            return cause
    return "traffic"


def _text(value: Any) -> str:
    """A label column's value, or "" when missing (NaN in a frame)."""
    return value if isinstance(value, str) else ""


def _show_name(row: pd.Series, show_names: dict[str, str]) -> str:
    show_id = str(row["show_id"])
    return f"show '{show_names[show_id]}'" if show_id in show_names else f"show {show_id}"


def _sentence_start(text: str) -> str:
    return text[:1].upper() + text[1:]


def _downloads_context(row: pd.Series) -> str:
    """A clause on the day's downloads, when they moved too."""
    if row["downloads_part"] < 1.0:
        return ""
    weekday = pd.Timestamp(row["day"]).strftime("%A")
    versus = _versus(row["downloads"], row["downloads_expected"], weekday)
    return f" The show's downloads were {_count(row['downloads'])}, {versus}."


def _traffic_share_row(
    row: pd.Series,
    tenant_id: str,
    model_version: str,
    column: str,
    entity_type: str,
    entity_id: str,
    kind: str,
    explain: Callable[[float, float, float], str],
) -> dict[str, Any]:
    """An anomaly in a show's day of traffic, from the share columns ``<column>_share``,
    ``_share_usual`` and ``_share_spread``; ``explain(share, usual, high)`` words it."""
    share, usual = float(row[f"{column}_share"]), float(row[f"{column}_share_usual"])
    low, high = _band(usual, float(row[f"{column}_share_spread"]), GATE, upper=1.0)
    return _row(
        tenant_id,
        model_version,
        detected_at_day=_day(row["day"]),
        metric="traffic_share",
        entity_type=entity_type,
        entity_id=entity_id,
        scope_type="show",
        scope_id=str(row["show_id"]),
        observed=share,
        expected=usual,
        expected_low=low,
        expected_high=high,
        score=float(row["combined_score"]),
        kind=kind,
        explanation=explain(share, usual, high) + _downloads_context(row),
    )


def _network_row(row, show_names, tenant_id, model_version) -> dict[str, Any]:
    key = str(row["top_network_key"])
    episode = _text(row["top_network_episode_id"])
    mostly = f", mostly of episode {episode}" if episode else ""

    def explain(share: float, usual: float, high: float) -> str:
        return (
            f"One network ({key[:_KEY_CHARS]}) fetched {share:.0%} of the audio of"
            f" {_show_name(row, show_names)} on {_when(_day(row['day']))}, about"
            f" {_count(round(float(row['network_volume'])))} full downloads{mostly}, where the"
            f" busiest network usually has {usual:.0%} (expected at most {high:.0%}):"
            " suspected invalid traffic."
        )

    return _traffic_share_row(
        row, tenant_id, model_version, "network", "network", key, "concentration", explain
    )


def _user_agent_row(row, show_names, tenant_id, model_version) -> dict[str, Any]:
    agent = str(row["top_user_agent"])
    name = _text(row["top_user_agent_name"])
    quoted = agent if len(agent) <= _USER_AGENT_CHARS else agent[:_USER_AGENT_CHARS] + "..."
    label = f"{name}, '{quoted}'" if name else f"'{quoted}'"

    def explain(share: float, usual: float, high: float) -> str:
        return (
            f"One user agent ({label}) fetched {share:.0%} of the audio of"
            f" {_show_name(row, show_names)} on {_when(_day(row['day']))}, where the busiest"
            f" user agent usually has {usual:.0%} (expected at most {high:.0%}): suspected"
            " invalid traffic."
        )

    return _traffic_share_row(
        row, tenant_id, model_version, "user_agent", "user_agent", agent, "concentration", explain
    )


def _new_networks_row(row, show_names, tenant_id, model_version) -> dict[str, Any]:
    def explain(share: float, usual: float, high: float) -> str:
        return (
            f"Networks never seen before fetched {share:.0%} of the audio of"
            f" {_show_name(row, show_names)} on {_when(_day(row['day']))}, where they usually"
            f" bring {usual:.0%} (expected at most {high:.0%}): new listeners, or traffic from"
            " rotating addresses."
        )

    show_id = str(row["show_id"])
    return _traffic_share_row(
        row, tenant_id, model_version, "new_network", "show", show_id, "spike", explain
    )


def _downloads_row(
    row, detector, traffic_led: bool, show_names, tenant_id, model_version
) -> dict[str, Any]:
    """A downloads spike or drop; ``traffic_led``: raised by the forest on the day's traffic
    volume (audio fetched out of line with the downloads counted)."""
    day = _day(row["day"])
    observed, expected = float(row["downloads"]), float(row["downloads_expected"])
    threshold = detector.z_thresholds["downloads"]
    low, high = _band(expected, float(row["downloads_spread"]), threshold)
    weekday = day.strftime("%A")
    show = _sentence_start(_show_name(row, show_names))
    versus = _versus(observed, expected, weekday)
    usual_range = f"expected {_whole_range(low, high)}"
    volume, usual = float(row["volume"]), float(row["volume_expected"])
    fetched = f"about {_count(round(volume))} downloads' worth of audio"
    if traffic_led:
        kind = "spike"
        explanation = (
            f"{show} was fetched {fetched} on {_when(day)}, {_versus(volume, usual, weekday)},"
            f" while it counted {_count(observed)} downloads, {versus} ({usual_range}):"
            " fetches that IAB counting does not count, such as repeated downloads."
        )
    elif row["volume_drop_part"] > row["downloads_part"]:
        kind = "drop"
        explanation = (
            f"{show} was fetched only {fetched} on {_when(day)},"
            f" {_versus(volume, usual, weekday)}, and counted {_count(observed)} downloads"
            f" ({usual_range})."
        )
    else:
        kind = "spike" if observed > expected else "drop"
        explanation = f"{show} had {_count(observed)} downloads on {_when(day)}, {versus}"
        explanation += f" ({usual_range})."
    if bool(row.get("release", False)):
        explanation += " An episode came out that day."
    return _row(
        tenant_id,
        model_version,
        detected_at_day=day,
        metric="downloads",
        entity_type="show",
        entity_id=str(row["show_id"]),
        scope_type="show",
        scope_id=str(row["show_id"]),
        observed=observed,
        expected=expected,
        expected_low=low,
        expected_high=high,
        score=float(row["combined_score"]),
        kind=kind,
        explanation=explanation,
    )


def campaign_alerts(
    scored: pd.DataFrame,
    detector: AnomalyDetector,
    campaign_info: dict[str, tuple[str, date | None, date | None, str | None]],
    tenant_id: str,
    model_version: str,
) -> list[dict[str, Any]]:
    """One row per alerting campaign-day and metric of ``scored`` (:func:`score_campaigns`)."""
    if scored.empty:
        return []
    rows = []
    for _, row in scored[scored["combined_score"] > ALERT_SCORE].iterrows():
        day = _day(row["day"])
        metric = str(row["metric"])
        campaign_id = str(row["campaign_id"])
        name, _, _, currency = campaign_info.get(campaign_id, (campaign_id, None, None, None))
        observed, expected = float(row["value"]), float(row["expected"])
        low, high = _band(expected, float(row["spread"]), detector.z_thresholds[metric])
        versus = _versus(observed, expected, "daily figure")
        if metric == "conversions":
            explanation = (
                f"Campaign '{name}' had {_count(observed)} conversions (last-touch credit) on"
                f" {_when(day)}, {versus} (expected {_whole_range(low, high)})."
            )
        else:
            money = currency or ""
            explanation = (
                f"Campaign '{name}' delivered {money} {observed:,.2f} of spend on {_when(day)}"
                f" (impressions at the placements' cost per impression), {versus}"
                f" (expected {money} {low:,.2f}-{high:,.2f})."
            ).replace("  ", " ")
        rows.append(
            _row(
                tenant_id,
                model_version,
                detected_at_day=day,
                metric=metric,
                entity_type="campaign",
                entity_id=campaign_id,
                scope_type="campaign",
                scope_id=campaign_id,
                observed=observed,
                expected=expected,
                expected_low=low,
                expected_high=high,
                score=float(row["combined_score"]),
                kind="spike" if observed > expected else "drop",
                explanation=explanation,
            )
        )
    return rows


def anomaly_table(rows: list[dict[str, Any]]) -> pa.Table:
    """``rows`` as the ``ml.anomalies`` table, newest and most severe first."""
    rows = sorted(
        rows, key=lambda r: (-r["detected_at_day"].toordinal(), -r["score"], r["anomaly_id"])
    )
    return pa.Table.from_pylist(rows, schema=SCHEMA)
