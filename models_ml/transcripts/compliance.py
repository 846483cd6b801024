"""Were the planned reads said as bought? One verdict per planned placement.

Only placements of episodes that have a transcript are judged (without one nothing can be
said). In order of precedence:

* ``missing_read``: no detected read matched the placement;
* ``wrong_position``: the read was said at another position (pre, mid, post) than planned;
* ``wrong_promo_code``: the read said another code than the placement's, or none (a placement
  without a code is not judged on it);
* ``ok`` otherwise.
"""

from __future__ import annotations

import pandas as pd

from models_ml.transcripts.reads import DetectedRead

STATUSES = ("ok", "missing_read", "wrong_position", "wrong_promo_code")


def status(
    planned_position: str | None,
    planned_code: str | None,
    read: DetectedRead | None,
) -> str:
    if read is None:
        return "missing_read"
    if planned_position and read.position != str(planned_position).lower():
        return "wrong_position"
    if planned_code and (read.promo_code or "").upper() != str(planned_code).upper():
        return "wrong_promo_code"
    return "ok"


def compliance_rows(
    planned: pd.DataFrame, reads: list[DetectedRead], transcribed: set[str]
) -> list[dict]:
    """One row per planned placement (``planned``: placement_id, campaign_id, episode_id,
    position, promo_code) of the ``transcribed`` episodes."""
    by_placement = {r.placement_id: r for r in reads if r.placement_id is not None}
    rows = []
    judged = planned[planned["episode_id"].isin(transcribed)].sort_values("placement_id")
    for p in judged.itertuples(index=False):
        read = by_placement.get(p.placement_id)
        code = p.promo_code if isinstance(p.promo_code, str) and p.promo_code else None
        position = p.position if isinstance(p.position, str) and p.position else None
        rows.append(
            {
                "placement_id": p.placement_id,
                "campaign_id": p.campaign_id,
                "episode_id": p.episode_id,
                "planned_position": position,
                "detected_position": read.position if read else None,
                "planned_promo_code": code,
                "detected_promo_code": read.promo_code if read else None,
                "status": status(position, code, read),
            }
        )
    return rows
