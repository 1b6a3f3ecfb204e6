"""Each benchmark set's own protocol, run with the real pipeline and the baselines.

* **CED** -- 5-fold cross-validation grouped by ``account_id`` (no poster on both
  sides), all signals (content + exposure + account), then again with the
  exposure curve cut at 1, 6 and 24 hours (``hour < H``, applied to the exposure
  table before the post frame is built), plus the ablations of the config and
  the baselines on the same folds.
* **Ott** -- the corpus's five hotel-grouped folds (``labels.split``), pooled
  over both polarities and each polarity on its own; accuracy at calibrated
  probability 0.5 (the classes are balanced).
* **Weibo21** -- the authors' split: train to fit, val for early stopping and
  calibration, test to report; overall and per domain (``labels.domain``).

Every figure comes from predictions on rows the model never trained on; CV
figures pool the out-of-fold predictions (and give the fold mean and spread).
"""

from __future__ import annotations

import logging
import time
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fakeugc.benchmarks_public import baselines as B
from fakeugc.benchmarks_public.config import BenchConfig
from fakeugc.benchmarks_public.data import (
    BenchData,
    cut_exposure,
    labelled_frame,
    subsample,
    token_columns,
)
from fakeugc.benchmarks_public.fitting import fit_predict
from fakeugc.benchmarks_public.metrics import fold_summary, per_group, scores
from fakeugc.features._frame import CURVE_HOURS
from fakeugc.features._text_model import group_folds

log = logging.getLogger(__name__)

PIPELINE = "fakeugc pipeline"


@dataclass
class SetResult:
    """Everything one benchmark set produced."""

    name: str
    headline: dict = field(default_factory=dict)
    rows: list[dict] = field(default_factory=list)
    details: dict = field(default_factory=dict)
    predictions: list[pd.DataFrame] = field(default_factory=list)
    importance: list[pd.DataFrame] = field(default_factory=list)
    seconds: dict = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def add_row(self, protocol: str, model: str, metric: str, value: float, **extra):
        self.rows.append({"set": self.name, "protocol": protocol, "model": model,
                          "metric": metric, "value": float(value), **extra})

    def add_predictions(self, frame: pd.DataFrame, prob, variant: str, model: str, by: str):
        self.predictions.append(pd.DataFrame({
            "post_id": frame["post_id"].to_numpy(), "label": frame["label"].to_numpy(),
            "group": frame[by].astype(str).to_numpy(), "variant": variant, "model": model,
            "score": np.asarray(prob, dtype=float)}))


def _cv(frame: pd.DataFrame, folds: np.ndarray, fit: Callable, label: str) -> np.ndarray:
    """Out-of-fold predictions of ``fit(train, test) -> scores`` over ``folds``."""
    out = np.full(len(frame), np.nan)
    for k in sorted(set(folds.tolist())):
        t = time.perf_counter()
        test = folds == k
        out[test] = fit(frame[~test].reset_index(drop=True), frame[test].reset_index(drop=True))
        log.info("%s: fold %s done in %.1fs", label, k, time.perf_counter() - t)
    return out


def _pipeline_fit(families, set_cfg, cfg, group_column, importance: list, tag: str):
    def fit(train, test):
        out = fit_predict(train, test, families, set_cfg, cfg, group_column=group_column)
        importance.append(out.importance.assign(variant=tag))
        return out.prob
    return fit


def _importance_table(parts: list[pd.DataFrame]) -> pd.DataFrame:
    if not parts:
        return pd.DataFrame()
    imp = pd.concat(parts, ignore_index=True)
    return (imp.groupby(["variant", "feature"], as_index=False)[["gain", "splits"]].mean()
            .sort_values(["variant", "gain"], ascending=[True, False]))


# ----------------------------------------------------------------------------- CED


def run_ced(data: BenchData, bc: BenchConfig, quick: bool = False) -> SetResult:
    sc = bc.ced
    cfg = bc.train_config("ced", quick)
    res = SetResult("ced", notes=list(data.notes))
    t0 = time.perf_counter()
    families = list(sc.families)
    base = data.frame
    if quick:
        base = subsample(base, sc.quick.sample, bc.seed)
    keep = set(base["post_id"])
    n_folds = sc.quick.folds if quick else sc.folds
    folds_of = pd.Series(np.empty(len(base), dtype=int), index=base["post_id"].to_numpy())
    for k, (_, te) in enumerate(group_folds(base["account_id"].astype(str).to_numpy(),
                                            base["label"].to_numpy(int), n_folds, bc.seed)):
        folds_of.iloc[te] = k + 1
    tokens = token_columns(data.frame)

    cache: dict[int, pd.DataFrame] = {}

    def frame_at(hours: int | None) -> pd.DataFrame:
        """The post frame rebuilt from the export with exposure cut to ``hour < hours``
        (context included), rows in the order of ``base``."""
        if hours is None:
            return base
        if hours not in cache:
            f = labelled_frame(cut_exposure(data.export, hours), families, tokens=tokens)
            cache[hours] = f[f["post_id"].isin(keep)].set_index("post_id") \
                .loc[base["post_id"]].reset_index()
        return cache[hours]

    protocol = f"{n_folds}-fold CV grouped by account"
    importance: list[pd.DataFrame] = []
    variants: list[tuple[str, int | None, list[str]]] = [("all signals", None, families)]
    variants += [(f"curve < {h} h", h, families) for h in sc.curve_cuts]
    if not quick:
        variants += [(name, None, list(fams)) for name, fams in sc.ablations.items()]
    y = base["label"].to_numpy(int)
    folds = folds_of.reindex(base["post_id"]).to_numpy()
    details: dict = {"folds": n_folds, "posts": len(base), "positives": int(y.sum()),
                     "accounts": int(base["account_id"].nunique()), "variants": {}}
    for name, hours, fams in variants:
        t = time.perf_counter()
        frame = frame_at(hours)
        assert (frame["post_id"].to_numpy() == base["post_id"].to_numpy()).all()
        prob = _cv(frame, folds, _pipeline_fit(fams, sc, cfg, "account_id", importance, name),
                   f"ced {name}")
        m = scores(y, prob) | fold_summary(y, prob, folds)
        m["families"] = fams
        m["seconds"] = round(time.perf_counter() - t, 1)
        details["variants"][name] = m
        res.seconds[f"pipeline {name}"] = m["seconds"]
        res.add_row(protocol, f"{PIPELINE}, {name}" + ("" if fams == families
                                                       else f" ({'+'.join(fams)})"),
                    "roc_auc", m["roc_auc"], fold_sd=m["roc_auc_fold_sd"],
                    seconds=m["seconds"])
        res.add_predictions(frame.assign(fold=folds), prob, name, PIPELINE, "fold")

    # baselines on the same folds
    bl = sc.baselines
    t = time.perf_counter()
    text_c = bl.get("text_lr", {}).get("C", 4.0)
    p_text = _cv(base, folds, lambda tr, te: B.tfidf_lr(tr, te, C=text_c), "ced text baseline")
    res.seconds["baseline text"] = round(time.perf_counter() - t, 1)
    m_text = scores(y, p_text) | fold_summary(y, p_text, folds)
    details["baselines"] = {"jieba TF-IDF + LR, text only": m_text}
    res.add_row(protocol, "baseline: jieba TF-IDF + LR, text only", "roc_auc",
                m_text["roc_auc"], fold_sd=m_text["roc_auc_fold_sd"])
    res.add_predictions(base.assign(fold=folds), p_text, "all signals", "baseline text", "fold")
    for hours in [None, *sc.curve_cuts]:
        h = CURVE_HOURS if hours is None else hours
        tag = "full curve" if hours is None else f"curve < {hours} h"
        frame = frame_at(hours)
        t = time.perf_counter()
        p_beh = _cv(frame, folds, lambda tr, te, h=h: B.account_curve_lgbm(
            tr, te, hours=h, seed=bc.seed,
            n_estimators=bl.get("account_curve_lgbm", {}).get("n_estimators", 300)),
            f"ced behaviour baseline {tag}")
        res.seconds[f"baseline behaviour {tag}"] = round(time.perf_counter() - t, 1)
        m_beh = scores(y, p_beh) | fold_summary(y, p_beh, folds)
        p_mean = (p_text + p_beh) / 2
        m_mean = scores(y, p_mean) | fold_summary(y, p_mean, folds)
        details["baselines"][f"LightGBM account + curve, {tag}"] = m_beh
        details["baselines"][f"mean of the two, {tag}"] = m_mean
        res.add_row(protocol, f"baseline: LightGBM on account + curve only, {tag}", "roc_auc",
                    m_beh["roc_auc"], fold_sd=m_beh["roc_auc_fold_sd"])
        res.add_row(protocol, f"baseline: mean of text LR and account + curve, {tag}",
                    "roc_auc", m_mean["roc_auc"], fold_sd=m_mean["roc_auc_fold_sd"])
    v = details["variants"]
    res.headline = {
        "roc_auc": v["all signals"]["roc_auc"],
        **{f"roc_auc_{h}h": v[f"curve < {h} h"]["roc_auc"] for h in sc.curve_cuts},
        "roc_auc_fold_mean": v["all signals"]["roc_auc_fold_mean"],
        "roc_auc_fold_sd": v["all signals"]["roc_auc_fold_sd"],
        "pr_auc": v["all signals"]["pr_auc"],
        "accuracy": v["all signals"]["accuracy"],
        "baseline_text_lr_roc_auc": m_text["roc_auc"],
        "baseline_account_curve_roc_auc":
            details["baselines"]["LightGBM account + curve, full curve"]["roc_auc"],
        "baseline_mean_roc_auc": details["baselines"]["mean of the two, full curve"]["roc_auc"],
        "folds": n_folds, "posts": len(base),
    }
    res.details = details
    res.importance = [_importance_table(importance)]
    res.seconds["total"] = round(time.perf_counter() - t0, 1)
    return res


# ----------------------------------------------------------------------------- Ott


def run_ott(data: BenchData, bc: BenchConfig, quick: bool = False) -> SetResult:
    sc = bc.ott
    cfg = bc.train_config("ott", quick)
    res = SetResult("ott", notes=list(data.notes))
    t0 = time.perf_counter()
    frame = data.frame
    if quick:
        frame = subsample(frame, sc.quick.sample, bc.seed, group="post_id",
                          stratify="split")
    families = list(sc.families)
    importance: list[pd.DataFrame] = []
    protocol = "5 hotel-grouped corpus folds"
    details: dict = {"posts": len(frame), "runs": {}}
    subsets = [("pooled", frame)]
    if sc.per_polarity and not quick:
        subsets += [(f"{p} only", frame[frame["polarity"] == p].reset_index(drop=True))
                    for p in ("positive", "negative")]
    svm_c = sc.baselines.get("tfidf_svm", {}).get("C", 1.0)
    for name, f in subsets:
        folds = f["split"].astype(str).to_numpy()
        y = f["label"].to_numpy(int)
        t = time.perf_counter()
        prob = _cv(f, folds, _pipeline_fit(families, sc, cfg, "hotel", importance, name),
                   f"ott {name}")
        m = scores(y, prob) | fold_summary(y, prob, folds, metric="accuracy")
        m["by_polarity"] = {k: v["accuracy"] for k, v in per_group(f, prob, "polarity").items()}
        m["seconds"] = round(time.perf_counter() - t, 1)
        res.seconds[f"pipeline {name}"] = m["seconds"]
        t = time.perf_counter()
        dec = _cv(f, folds, lambda tr, te: B.tfidf_svm(tr, te, C=svm_c), f"ott svm {name}")
        res.seconds[f"baseline {name}"] = round(time.perf_counter() - t, 1)
        pred_svm = (dec > 0).astype(float)
        b = scores(y, dec, threshold=0.0) | fold_summary(y, pred_svm, folds, metric="accuracy")
        b["by_polarity"] = {k: v["accuracy"]
                            for k, v in per_group(f, pred_svm, "polarity").items()}
        details["runs"][name] = {"pipeline": m, "baseline_tfidf_svm": b}
        res.add_row(protocol, f"{PIPELINE}, {name}", "accuracy", m["accuracy"],
                    fold_sd=m["accuracy_fold_sd"], seconds=m["seconds"])
        res.add_row(protocol, f"baseline: word 1-2-gram TF-IDF + linear SVM, {name}",
                    "accuracy", b["accuracy"], fold_sd=b["accuracy_fold_sd"])
        res.add_predictions(f.assign(fold=folds), prob, name, PIPELINE, "fold")
        res.add_predictions(f.assign(fold=folds), dec, name, "baseline tfidf svm", "fold")
    pooled = details["runs"]["pooled"]
    res.headline = {
        "accuracy": pooled["pipeline"]["accuracy"],
        "accuracy_fold_sd": pooled["pipeline"]["accuracy_fold_sd"],
        "roc_auc": pooled["pipeline"]["roc_auc"],
        "macro_f1": pooled["pipeline"]["macro_f1"],
        "pooled_accuracy_positive": pooled["pipeline"]["by_polarity"].get("positive"),
        "pooled_accuracy_negative": pooled["pipeline"]["by_polarity"].get("negative"),
        "baseline_tfidf_svm_accuracy": pooled["baseline_tfidf_svm"]["accuracy"],
        "posts": len(frame),
    }
    for p in ("positive", "negative"):
        run = details["runs"].get(f"{p} only")
        if run:
            res.headline[f"accuracy_{p}_only"] = run["pipeline"]["accuracy"]
            res.headline[f"baseline_tfidf_svm_accuracy_{p}_only"] = \
                run["baseline_tfidf_svm"]["accuracy"]
    res.details = details
    res.importance = [_importance_table(importance)]
    res.seconds["total"] = round(time.perf_counter() - t0, 1)
    return res


# ----------------------------------------------------------------------------- Weibo21


def run_weibo21(data: BenchData, bc: BenchConfig, quick: bool = False) -> SetResult:
    sc = bc.weibo21
    cfg = bc.train_config("weibo21", quick)
    res = SetResult("weibo21", notes=list(data.notes))
    t0 = time.perf_counter()
    frame = data.frame
    if quick:
        frame = subsample(frame, sc.quick.sample, bc.seed, group="post_id", stratify="split")
    parts = {s: frame[frame["split"] == s].reset_index(drop=True) for s in ("train", "val", "test")}
    families = list(sc.families)
    t = time.perf_counter()
    out = fit_predict(parts["train"], parts["test"], families, sc, cfg, valid=parts["val"])
    res.seconds["pipeline"] = round(time.perf_counter() - t, 1)
    test = parts["test"]
    y = test["label"].to_numpy(int)
    m = scores(y, out.prob)
    m["by_domain"] = per_group(test, out.prob, "domain")
    m["best_iteration"] = out.best_iteration
    m["calibration"] = out.calibration_method
    t = time.perf_counter()
    lr_c = sc.baselines.get("tfidf_lr", {}).get("C", 4.0)
    p_lr = B.tfidf_lr(parts["train"], test, C=lr_c)
    res.seconds["baseline"] = round(time.perf_counter() - t, 1)
    b = scores(y, p_lr)
    b["by_domain"] = per_group(test, p_lr, "domain")
    # test posts whose (normalised) text also occurs in train or val (the release has
    # exact duplicates across splits, always with the same label): figures without them
    seen = set(parts["train"]["text_norm"]) | set(parts["val"]["text_norm"])
    unseen = ~test["text_norm"].isin(seen).to_numpy()
    m["unseen_text"] = scores(y[unseen], out.prob[unseen])
    b["unseen_text"] = scores(y[unseen], p_lr[unseen])
    protocol = "official split (train / val / test)"
    res.add_row(protocol, PIPELINE, "macro_f1", m["macro_f1"], seconds=res.seconds["pipeline"])
    res.add_row(protocol, PIPELINE, "roc_auc", m["roc_auc"])
    res.add_row(protocol, "baseline: jieba 1-2-gram TF-IDF + LR", "macro_f1", b["macro_f1"])
    res.add_row(protocol, "baseline: jieba 1-2-gram TF-IDF + LR", "roc_auc", b["roc_auc"])
    res.add_predictions(test, out.prob, "test", PIPELINE, "domain")
    res.add_predictions(test, p_lr, "test", "baseline tfidf lr", "domain")
    res.details = {"pipeline": m, "baseline_tfidf_lr": b,
                   "rows": {s: len(p) for s, p in parts.items()}}
    res.headline = {
        "macro_f1": m["macro_f1"], "roc_auc": m["roc_auc"], "accuracy": m["accuracy"],
        "pr_auc": m["pr_auc"],
        "macro_f1_by_domain": {k: round(v["macro_f1"], 4) for k, v in m["by_domain"].items()},
        "roc_auc_by_domain": {k: round(v["roc_auc"], 4) for k, v in m["by_domain"].items()},
        "baseline_tfidf_lr_macro_f1": b["macro_f1"],
        "baseline_tfidf_lr_roc_auc": b["roc_auc"],
        "macro_f1_unseen_text": m["unseen_text"]["macro_f1"],
        "roc_auc_unseen_text": m["unseen_text"]["roc_auc"],
        "baseline_tfidf_lr_macro_f1_unseen_text": b["unseen_text"]["macro_f1"],
        "test_posts": len(test),
        "test_posts_unseen_text": int(unseen.sum()),
    }
    res.importance = [out.importance.assign(variant="official split")
                      .sort_values("gain", ascending=False)]
    res.seconds["total"] = round(time.perf_counter() - t0, 1)
    return res


PROTOCOLS = {"ced": run_ced, "ott": run_ott, "weibo21": run_weibo21}
