"""Training and evaluation: features at the training cut-offs, labels after them; the same for
the holdout cut-offs; the model and the recency baseline judged on the same holdout rows."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from models_ml.churn.baseline import BASELINE_FEATURE, BASELINE_NAME, RecencyBaseline
from models_ml.churn.cutoffs import (
    ACTIVE_DAYS,
    GRACE_DAYS,
    NEXT_EPISODES,
    WINDOW_DAYS,
    ShowCutoff,
    active_pairs,
    choose_split,
    churn_labels,
)
from models_ml.churn.data import ChurnData, read_churn_data
from models_ml.churn.features import FEATURES, features_at
from models_ml.churn.metrics import calibration_table, rank_auc, scores
from models_ml.churn.model import ChurnModel, lightgbm_params
from models_ml.evaluation import Evaluation
from models_ml.family import NotEnoughData, Trained
from warehouse.connection import Warehouse

# A verdict needs this many churned and this many retained household × shows in the holdout
# (the AUC's standard error is then about 0.03), and the training rows as many of each.
MIN_ROWS_PER_CLASS = 100
# A paired bootstrap of the holdout gives an interval for the AUC gain (reported, not judged).
BOOTSTRAP_SAMPLES = 200
MIN_GAIN = 0.0


def labelled_rows(data: ChurnData, cutoffs: list[ShowCutoff]) -> pd.DataFrame:
    """The active household × shows at each cut-off with their features and ``churned``."""
    parts = []
    for cutoff in cutoffs:
        pairs = active_pairs(data.downloads, cutoff.show_id, cutoff.cutoff)
        pairs["churned"] = churn_labels(data.downloads, cutoff, pairs["household_id"])
        parts.append(pairs)
    if not parts:
        return pd.DataFrame(columns=["household_id", "show_id", "cutoff", *FEATURES, "churned"])
    pairs = pd.concat(parts, ignore_index=True)
    rows = features_at(data.downloads, data.episodes, pairs.drop(columns="churned"))
    rows["churned"] = pairs["churned"].to_numpy()
    return rows


def _class_counts(labels: pd.Series) -> tuple[int, int]:
    churned = int(labels.sum())
    return churned, len(labels) - churned


def auc_gain_interval(
    labels: np.ndarray, model: np.ndarray, baseline: np.ndarray, seed: int = 0
) -> tuple[float, float]:
    """5th and 95th percentiles of the model's AUC minus the baseline's over paired bootstrap
    resamples of the holdout rows."""
    rng = np.random.default_rng(seed)
    y = np.asarray(labels)
    gains = []
    for _ in range(BOOTSTRAP_SAMPLES):
        idx = rng.integers(0, len(y), len(y))
        if 0 < y[idx].sum() < len(idx):
            gains.append(rank_auc(y[idx], model[idx]) - rank_auc(y[idx], baseline[idx]))
    if not gains:
        return math.nan, math.nan
    low, high = np.percentile(gains, [5, 95])
    return round(float(low), 4), round(float(high), 4)


def train_churn(wh: Warehouse, tenant_id: str) -> Trained:
    data = read_churn_data(wh, tenant_id)
    if data is None or data.downloads.empty:
        raise NotEnoughData("no downloads from household networks")
    shows = sorted(data.downloads["show_id"].unique())
    first, last = pd.Timestamp(data.first_day), pd.Timestamp(data.last_day)
    split = choose_split(data.episodes, shows, first, last)
    if not split.holdout:
        raise NotEnoughData(
            f"no show has {NEXT_EPISODES} episodes released after a cut-off with {WINDOW_DAYS}"
            f" days of data before it, and {GRACE_DAYS} more days of data after the last of them"
            f" (data from {data.first_day} to {data.last_day})"
        )
    if not split.training:
        raise NotEnoughData(
            f"no show has a cut-off whose label ({NEXT_EPISODES} episodes + {GRACE_DAYS} days)"
            f" was complete by the holdout boundary {split.boundary.date()} with {WINDOW_DAYS}"
            f" days of data before it (data from {data.first_day} to {data.last_day})"
        )
    train = labelled_rows(data, split.training)
    holdout = labelled_rows(data, split.holdout)
    for name, rows in (("training", train), ("holdout", holdout)):
        churned, retained = _class_counts(rows["churned"])
        if min(churned, retained) < MIN_ROWS_PER_CLASS:
            raise NotEnoughData(
                f"the {name} rows have {churned} churned and {retained} retained household x"
                f" shows; an honest verdict needs at least {MIN_ROWS_PER_CLASS} of each"
            )

    y_train = train["churned"].to_numpy(dtype=np.int64)
    y_hold = holdout["churned"].to_numpy(dtype=np.int64)
    model = ChurnModel.fit(train, y_train, FEATURES)
    baseline = RecencyBaseline.fit(train[BASELINE_FEATURE].to_numpy(), y_train)
    p_model = model.predict(holdout)
    p_base = baseline.predict(holdout[BASELINE_FEATURE].to_numpy())
    model.settings = {
        "next_episodes": NEXT_EPISODES,
        "grace_days": GRACE_DAYS,
        "window_days": WINDOW_DAYS,
        "active_days": ACTIVE_DAYS,
        "boundary": str(split.boundary.date()),
    }

    evaluation = Evaluation(
        metric="auc",
        higher_is_better=True,
        model=scores(y_hold, p_model),
        baseline_name=BASELINE_NAME,
        baseline=scores(y_hold, p_base),
        holdout_rows=len(holdout),
        min_gain=MIN_GAIN,
        notes={
            "label": f"no download of the show's next {NEXT_EPISODES} episodes within"
            f" {GRACE_DAYS} days of the last one's release",
            "split": f"training labels closed by {split.boundary.date()}; holdout cut-offs on"
            " or after it (one per show, its latest with a complete label)",
            "baseline": f"{BASELINE_FEATURE} through a logistic fit on the training rows",
        },
    )
    train_churned, train_retained = _class_counts(train["churned"])
    hold_churned, hold_retained = _class_counts(holdout["churned"])
    details = {
        **model.settings,
        "training_cutoffs": [[c.show_id, str(c.cutoff.date())] for c in split.training],
        "holdout_cutoffs": [
            [c.show_id, str(c.cutoff.date()), str(c.label_end.date())] for c in split.holdout
        ],
        "training_churned": train_churned,
        "training_retained": train_retained,
        "holdout_churned": hold_churned,
        "holdout_retained": hold_retained,
        "baseline_fit": {"intercept": baseline.intercept, "slope": baseline.slope},
        "auc_gain_interval_90": list(auc_gain_interval(y_hold, p_model, p_base)),
        "calibration": {
            "model": calibration_table(y_hold, p_model),
            "baseline": calibration_table(y_hold, p_base),
        },
        "feature_gain": model.importance(),
        "lightgbm": {
            k: v for k, v in lightgbm_params(len(train)).items() if k not in ("verbose", "n_jobs")
        },
    }
    return Trained(
        model=model,
        features=list(FEATURES),
        data_start=data.first_day,
        data_end=data.last_day,
        training_rows=len(train),
        evaluation=evaluation,
        details=details,
    )
