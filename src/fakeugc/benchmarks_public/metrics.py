"""Benchmark metrics: the figures each protocol reports."""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.metrics import accuracy_score, average_precision_score, f1_score, roc_auc_score


def _safe(fn, *args, **kwargs) -> float:
    try:
        return float(fn(*args, **kwargs))
    except ValueError:
        return float("nan")


def scores(y, prob, threshold: float = 0.5) -> dict:
    """ROC-AUC, PR-AUC, and accuracy / macro-F1 of ``prob >= threshold``."""
    y = np.asarray(y, dtype=int)
    prob = np.asarray(prob, dtype=float)
    pred = (prob >= threshold).astype(int)
    both = len(np.unique(y)) == 2
    return {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "roc_auc": _safe(roc_auc_score, y, prob) if both else float("nan"),
        "pr_auc": _safe(average_precision_score, y, prob) if both else float("nan"),
        "accuracy": float(accuracy_score(y, pred)) if len(y) else float("nan"),
        "macro_f1": _safe(f1_score, y, pred, average="macro", zero_division=0),
    }


def fold_summary(y, prob, folds, threshold: float = 0.5, metric: str = "roc_auc") -> dict:
    """Mean and standard deviation of ``metric`` over the folds."""
    y, prob, folds = np.asarray(y), np.asarray(prob), np.asarray(folds)
    vals = [scores(y[folds == f], prob[folds == f], threshold)[metric]
            for f in sorted(set(folds.tolist()))]
    return {f"{metric}_fold_mean": float(np.nanmean(vals)),
            f"{metric}_fold_sd": float(np.nanstd(vals, ddof=1)) if len(vals) > 1 else 0.0,
            f"{metric}_folds": [round(v, 4) for v in vals]}


def per_group(frame: pd.DataFrame, prob, column: str, threshold: float = 0.5) -> dict:
    """:func:`scores` for each value of ``column``."""
    out = {}
    prob = np.asarray(prob, dtype=float)
    for value in sorted(frame[column].dropna().unique().tolist()):
        m = (frame[column] == value).to_numpy()
        out[str(value)] = scores(frame["label"].to_numpy()[m], prob[m], threshold)
    return out
