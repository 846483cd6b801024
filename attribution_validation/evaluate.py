"""One world's verdict: every model's credits against the world's truth, as table rows."""

from __future__ import annotations

import pandas as pd

from attribution_validation import bootstrap, metrics
from attribution_validation.credits import PipelineCredits
from attribution_validation.truth import Truth

# observed: the headline figures (household-IP paths only, as in fct_campaign_performance);
# all: observed plus modelled credits. Both are compared with every caused order.
SCOPES = ("observed", "all")
RANK_METRIC = "wape_conversions"
ROW_COLUMNS = [
    "scope", "model", "metric", "dimension", "group_value", "value", "lower", "upper",
    "attributed", "truth", "significant", "rank", "verdict",
]  # fmt: skip


def truth_frame(truth: Truth, placements: pd.DataFrame) -> pd.DataFrame:
    """One row per caused order with the causing placement's position, read type and show."""
    caused = truth.orders[truth.orders["campaign_id"].notna()]
    out = caused.merge(placements, on="placement_id", how="left")
    unknown = out["position"].isna()
    if unknown.any():
        raise ValueError(
            f"{int(unknown.sum())} caused orders name placements missing from "
            "staging.stg_files__placements: truth and warehouse are from different worlds"
        )
    return out.assign(conversions=1.0)


def attributed_frame(truth: Truth, pipeline: PipelineCredits, scope: str) -> pd.DataFrame:
    """The credits of ``scope`` with the truth's household of the credited order."""
    credits = pipeline.credits
    if scope == "observed":
        credits = credits[credits["is_observed"]]
    households = truth.orders.set_index("order_id")["household_key"]
    out = credits.assign(household_key=credits["order_id"].map(households))
    missing = out["household_key"].isna()
    if missing.any():
        raise ValueError(
            f"{int(missing.sum())} credits are for orders absent from the truth's orders.csv: "
            "truth and warehouse are from different worlds"
        )
    attrs = pipeline.placements[["placement_id", "position", "read_type", "show_size"]]
    out = out.merge(attrs, on="placement_id", how="left")
    return out.rename(columns={"credit": "conversions", "credited_revenue": "revenue"})


def _row(**values: object) -> dict:
    return {column: values.get(column) for column in ROW_COLUMNS}


def evaluate_world(
    truth: Truth, pipeline: PipelineCredits, samples: int, seed: int
) -> pd.DataFrame:
    """Every figure of one world (ROW_COLUMNS), for each scope and every model in the credits."""
    models = sorted(pipeline.credits["model"].unique())
    campaigns = sorted(truth.campaigns["campaign_id"])
    caused = truth_frame(truth, pipeline.placements)
    # The truth's two descriptions of the effect must agree before anything is measured.
    per_campaign = caused.groupby("campaign_id").size().reindex(campaigns, fill_value=0)
    expected = truth.campaigns.set_index("campaign_id")["true_incremental_orders"]
    if not per_campaign.equals(expected.reindex(campaigns).astype(per_campaign.dtype)):
        raise ValueError(
            "the truth's orders.csv and campaign_effects.csv disagree on caused orders"
        )
    rows: list[dict] = []
    for scope in SCOPES:
        attributed = attributed_frame(truth, pipeline, scope)
        rows += _scope_rows(scope, attributed, caused, truth, campaigns, models, samples, seed)
    return pd.DataFrame(rows, columns=ROW_COLUMNS)


def _scope_rows(
    scope: str,
    attributed: pd.DataFrame,
    caused: pd.DataFrame,
    truth: Truth,
    campaigns: list[str],
    models: list[str],
    samples: int,
    seed: int,
) -> list[dict]:
    rows: list[dict] = []
    table = metrics.campaign_table(attributed, caused, campaigns, models)
    for r in table.itertuples(index=False):
        for measure in metrics.MEASURES:
            rows.append(
                _row(
                    scope=scope, model=r.model, metric=f"campaign_error_{measure}",
                    dimension="campaign", group_value=r.campaign_id,
                    value=getattr(r, f"error_{measure}"),
                    attributed=getattr(r, f"attributed_{measure}"),
                    truth=getattr(r, f"true_{measure}"),
                )
            )  # fmt: skip

    accuracy = metrics.accuracy(table)
    matrix = bootstrap.household_matrix(attributed, caused, campaigns, models)
    resampled = bootstrap.resample_errors(matrix, truth.households, samples, seed)
    spread = bootstrap.intervals(resampled, models).set_index("model")
    for r in accuracy.itertuples(index=False):
        ci = spread.loc[r.model] if r.metric == RANK_METRIC else None
        rows.append(
            _row(
                scope=scope, model=r.model, metric=r.metric, value=r.value,
                lower=None if ci is None else ci["lower"],
                upper=None if ci is None else ci["upper"],
            )
        )  # fmt: skip

    for dimension in metrics.GROUP_DIMENSIONS:
        bias = metrics.group_bias(attributed, caused, dimension, campaigns, models)
        for r in bias.itertuples(index=False):
            common = {
                "scope": scope,
                "model": r.model,
                "dimension": dimension,
                "group_value": r.group_value,
                "attributed": r.attributed,
                "truth": r.truth,
            }
            rows.append(_row(metric="bias_conversions", value=r.mean_signed_error, **common))
            rows.append(_row(metric="credit_share_gap", value=r.share_gap, **common))

    point = accuracy[accuracy["metric"] == RANK_METRIC].set_index("model")["value"]
    pairs = bootstrap.pairwise_differences(point, resampled, models)
    for r in pairs.itertuples(index=False):
        rows.append(
            _row(
                scope=scope, model=r.model, metric=f"{RANK_METRIC}_difference",
                dimension="other_model", group_value=r.other_model, value=r.difference,
                lower=r.lower, upper=r.upper, significant=r.significant,
            )
        )  # fmt: skip

    ranks = metrics.rank_models(accuracy, RANK_METRIC)
    for model, rank in ranks.items():
        rows.append(
            _row(
                scope=scope, model=model, metric="verdict", value=point[model],
                lower=spread.loc[model, "lower"], upper=spread.loc[model, "upper"],
                rank=int(rank), verdict=_verdict(model, ranks, pairs),
            )
        )  # fmt: skip
    return rows


def _verdict(model: str, ranks: pd.Series, pairs: pd.DataFrame) -> str:
    """closest / not distinguishable from the closest / farther than the closest."""
    best = [m for m, r in ranks.items() if r == 1]
    if model in best:
        return "closest" if len(best) == 1 else "closest (tied)"
    against = pairs[(pairs["model"] == model) & (pairs["other_model"] == best[0])].iloc[0]
    if against["significant"]:
        return f"farther than {best[0]} (difference significant)"
    return f"not distinguishable from {best[0]}"
