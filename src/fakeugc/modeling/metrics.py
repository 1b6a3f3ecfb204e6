"""Evaluation metrics for imbalanced, review-capacity-bound flagging."""

from __future__ import annotations

import numpy as np
import pandas as pd
from scipy.stats import binomtest
from sklearn.metrics import (
    average_precision_score,
    brier_score_loss,
    precision_recall_curve,
    roc_auc_score,
)


def _safe(fn, *args, **kwargs) -> float:
    try:
        return float(fn(*args, **kwargs))
    except ValueError:
        return float("nan")


def recall_at_precision(y, p, target: float = 0.9) -> float:
    if len(np.unique(y)) < 2:
        return float("nan")
    precision, recall, _ = precision_recall_curve(y, p)
    ok = precision >= target
    return float(recall[ok].max()) if ok.any() else 0.0


def precision_at_k(y, p, k: int) -> float:
    if len(y) == 0:
        return float("nan")
    order = np.argsort(-np.asarray(p), kind="stable")[:k]
    return float(np.asarray(y)[order].mean())


def reliability_curve(y, p, bins: int = 10) -> dict:
    y = np.asarray(y, dtype=float)
    p = np.asarray(p, dtype=float)
    edges = np.linspace(0, 1, bins + 1)
    idx = np.clip(np.digitize(p, edges) - 1, 0, bins - 1)
    rows = []
    for b in range(bins):
        m = idx == b
        if m.any():
            rows.append({"bin": b, "mean_predicted": float(p[m].mean()),
                         "observed_rate": float(y[m].mean()), "count": int(m.sum())})
    return {"edges": edges.tolist(), "bins": rows}


def binary_metrics(y, p, threshold: float, k: int = 100) -> dict:
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    flag = p >= threshold
    tp = int((flag & (y == 1)).sum())
    fp = int((flag & (y == 0)).sum())
    fn = int((~flag & (y == 1)).sum())
    return {
        "n": int(len(y)),
        "positives": int(y.sum()),
        "roc_auc": _safe(roc_auc_score, y, p),
        "pr_auc": _safe(average_precision_score, y, p),
        "precision": tp / (tp + fp) if tp + fp else float("nan"),
        "recall": tp / (tp + fn) if tp + fn else float("nan"),
        "flagged": int(flag.sum()),
        "precision_at_k": precision_at_k(y, p, k),
        "k": k,
        "recall_at_precision_90": recall_at_precision(y, p, 0.9),
        "brier": _safe(brier_score_loss, y, p) if len(y) else float("nan"),
        "threshold": float(threshold),
    }


def rate_with_interval(hits: int, n: int, confidence: float = 0.95) -> dict:
    """``hits / n`` with its Wilson score interval: hard genuine groups are small (tens
    to hundreds of posts in a test window), and a rate without its interval invites
    reading noise as a difference."""
    if n == 0:
        return {"n": 0, "flagged": 0, "fpr": float("nan"), "ci_low": float("nan"),
                "ci_high": float("nan")}
    ci = binomtest(int(hits), int(n)).proportion_ci(confidence_level=confidence,
                                                     method="wilson")
    return {"n": int(n), "flagged": int(hits), "fpr": hits / n,
            "ci_low": float(ci.low), "ci_high": float(ci.high)}


def per_group_table(frame: pd.DataFrame, p: np.ndarray, threshold: float) -> dict:
    """Recall per fraud type, and false-positive rate per hard genuine group, at the
    threshold (the figures the issue asks to watch).

    Each genuine group's row has ``n``, ``flagged``, ``fpr``, a 95% Wilson interval
    (``ci_low``, ``ci_high``) and ``vs_ordinary`` (its FPR over the ordinary genuine
    posts' FPR; < 1 means flagged less often than an ordinary genuine post)."""
    out: dict = {"fraud_type": {}, "hard_case": {}}
    flag = np.asarray(p) >= threshold
    y = frame["label"].to_numpy(dtype=int)
    if "fraud_type" in frame:
        ft = frame["fraud_type"].fillna("").astype(str).to_numpy()
        for t in sorted(set(ft[y == 1]) - {""}):
            m = (ft == t) & (y == 1)
            out["fraud_type"][t] = {"n": int(m.sum()), "recall": float(flag[m].mean())}
    genuine = y == 0
    groups = {"ordinary_genuine": genuine}
    if "hard_case" in frame:
        hc = frame["hard_case"].fillna("").astype(str).to_numpy()
        groups = {"ordinary_genuine": genuine & (hc == "")}
        for g in sorted(set(hc[genuine]) - {""}):
            groups[g] = genuine & (hc == g)
    for g, m in groups.items():
        out["hard_case"][g] = rate_with_interval(int(flag[m].sum()), int(m.sum()))
    base = out["hard_case"]["ordinary_genuine"]["fpr"]
    for row in out["hard_case"].values():
        row["vs_ordinary"] = (row["fpr"] / base if base and base == base and row["n"]
                              else float("nan"))
    return out


def choose_threshold(y, p, policy: str, target_precision: float = 0.9,
                     daily_capacity: int = 200, days: np.ndarray | None = None) -> float:
    """The operating threshold, chosen on the calibration window."""
    y = np.asarray(y, dtype=int)
    p = np.asarray(p, dtype=float)
    if policy == "capacity":
        if days is None or len(p) == 0:
            return float(np.quantile(p, 0.99)) if len(p) else 0.5
        kth = []
        for d in np.unique(days):
            s = np.sort(p[days == d])[::-1]
            kth.append(s[min(daily_capacity, len(s)) - 1])
        return float(np.median(kth))
    if len(np.unique(y)) < 2:
        return 0.5
    precision, recall, thresholds = precision_recall_curve(y, p)
    ok = np.flatnonzero(precision[:-1] >= target_precision)
    if len(ok) == 0:
        return float(thresholds[-1]) if len(thresholds) else 0.5
    return float(thresholds[ok[0]])
