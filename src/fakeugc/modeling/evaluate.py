"""Evaluation: the figures a data scientist needs before trusting a model.

ROC-AUC and PR-AUC, precision and recall at the operating threshold,
precision at K (review capacity), recall at precision 0.9, Brier score and a
reliability curve, the same per fraud type, and the false-positive rate on each
hard genuine group (disclosed partnerships, launch bursts, viral genuine posts,
reported genuine posts) the data marks.
"""

from __future__ import annotations

import json
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402
from sklearn.metrics import precision_recall_curve  # noqa: E402

from fakeugc.modeling.metrics import (  # noqa: E402
    binary_metrics,
    per_group_table,
    reliability_curve,
)


def evaluation_report(frame: pd.DataFrame, prob: np.ndarray, threshold: float,
                      k: int = 100) -> dict:
    """All figures for labelled rows ``frame`` scored ``prob``."""
    y = frame["label"].to_numpy(dtype=int)
    report = {
        "overall": binary_metrics(y, prob, threshold, k),
        "reliability": reliability_curve(y, prob),
        **per_group_table(frame, prob, threshold),
    }
    if "fraud_type" in frame:
        ft = frame["fraud_type"].fillna("").astype(str).to_numpy()
        per_type = {}
        for t in sorted(set(ft[y == 1]) - {""}):
            m = (y == 0) | (ft == t)
            per_type[t] = binary_metrics(y[m], prob[m], threshold, k)
        report["per_fraud_type"] = per_type
    return report


def format_tables(report: dict) -> str:
    """Plain-text tables: overall, per fraud type, per hard genuine group."""
    o = report["overall"]
    lines = [
        f"posts {o['n']}  positives {o['positives']}  threshold {o['threshold']:.3f}",
        f"ROC-AUC {o['roc_auc']:.3f}  PR-AUC {o['pr_auc']:.3f}  precision {o['precision']:.3f}"
        f"  recall {o['recall']:.3f}  P@{o['k']} {o['precision_at_k']:.3f}"
        f"  R@P0.9 {o['recall_at_precision_90']:.3f}  Brier {o['brier']:.4f}",
        "",
        f"{'fraud type':<22}{'n':>7}{'recall':>9}{'PR-AUC':>9}",
    ]
    per = report.get("per_fraud_type", {})
    for t, row in report.get("fraud_type", {}).items():
        pr = per.get(t, {}).get("pr_auc", float("nan"))
        lines.append(f"{t:<22}{row['n']:>7}{row['recall']:>9.3f}{pr:>9.3f}")
    lines += ["", f"{'genuine group':<22}{'n':>7}{'flagged':>8}{'FPR':>9}{'95% CI':>17}"
                  f"{'vs ordinary':>13}"]
    for g, row in report.get("hard_case", {}).items():
        ci = (f"{row['ci_low']:.4f}-{row['ci_high']:.4f}" if "ci_low" in row
              and row["ci_low"] == row["ci_low"] else "")
        vs = row.get("vs_ordinary", float("nan"))
        lines.append(f"{g:<22}{row['n']:>7}{row.get('flagged', 0):>8}{row['fpr']:>9.4f}"
                     f"{ci:>17}{vs:>13.2f}")
    return "\n".join(lines)


def save_plots(frame: pd.DataFrame, prob: np.ndarray, threshold: float, folder: Path) -> list[Path]:
    """PR curve, reliability diagram and score distribution as PNG files."""
    folder.mkdir(parents=True, exist_ok=True)
    y = frame["label"].to_numpy(dtype=int)
    paths = []
    fig, ax = plt.subplots(figsize=(5, 4))
    if len(np.unique(y)) == 2:
        p, r, _ = precision_recall_curve(y, prob)
        ax.plot(r, p, label="all")
        if "fraud_type" in frame:
            ft = frame["fraud_type"].fillna("").astype(str).to_numpy()
            for t in sorted(set(ft[y == 1]) - {""}):
                m = (y == 0) | (ft == t)
                pp, rr, _ = precision_recall_curve(y[m], prob[m])
                ax.plot(rr, pp, lw=1, label=t)
    ax.set_xlabel("recall")
    ax.set_ylabel("precision")
    ax.set_title("Precision-recall (test window)")
    ax.legend(fontsize=7)
    paths.append(_save(fig, folder / "pr_curve.png"))

    rel = reliability_curve(y, prob)
    fig, ax = plt.subplots(figsize=(4, 4))
    ax.plot([0, 1], [0, 1], ls="--", c="grey")
    xs = [b["mean_predicted"] for b in rel["bins"]]
    ys = [b["observed_rate"] for b in rel["bins"]]
    ax.plot(xs, ys, marker="o")
    ax.set_xlabel("predicted probability")
    ax.set_ylabel("observed rate of fake")
    ax.set_title("Reliability")
    paths.append(_save(fig, folder / "reliability.png"))

    fig, ax = plt.subplots(figsize=(5, 3))
    bins = np.linspace(0, 1, 41)
    ax.hist(prob[y == 0], bins=bins, alpha=0.6, label="genuine", log=True)
    ax.hist(prob[y == 1], bins=bins, alpha=0.6, label="fake", log=True)
    ax.axvline(threshold, c="k", ls="--", lw=1, label="threshold")
    ax.set_xlabel("calibrated probability")
    ax.legend(fontsize=7)
    paths.append(_save(fig, folder / "score_distribution.png"))
    return paths


def _save(fig, path: Path) -> Path:
    """Write ``fig`` with fixed margins (in inches, room for the axis labels and the
    title): ``tight_layout`` measures every text by drawing the figure once more, about
    a tenth of a second per plot."""
    w, h = fig.get_size_inches()
    fig.subplots_adjust(left=0.75 / w, right=1 - 0.15 / w, bottom=0.55 / h, top=1 - 0.35 / h)
    fig.savefig(path, dpi=100)
    plt.close(fig)
    return path


def write_report(report: dict, folder: Path) -> Path:
    from fakeugc.io.writer import write_json_atomic

    return write_json_atomic(_clean(report), folder / "evaluation.json")


def _clean(obj):
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, float | np.floating):
        return None if not np.isfinite(obj) else float(obj)
    if isinstance(obj, np.integer):
        return int(obj)
    return obj


def to_json(report: dict) -> str:
    return json.dumps(_clean(report), ensure_ascii=False, sort_keys=True)
