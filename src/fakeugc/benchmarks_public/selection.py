"""How the per-set settings were chosen, reproducibly, without the test rows.

``pipelines/benchmarks.yaml`` holds, per set, a ``grid`` of candidate settings
(a list of overrides, or ``{dotted.key: [values]}`` for their product).
``fakeugc benchmark SET --select`` evaluates them without touching what the
benchmark reports:

* **Weibo21**: each candidate is trained on the train split (booster early
  stopping and calibration on held-out train rows) and scored on **val**; the
  test split is never used. The config's choice is the best val ROC-AUC.
* **Ott** has no split beyond its five folds, so the selection is **nested**:
  for each outer fold, every candidate is scored by leave-one-fold-out over the
  four training folds, the best inner accuracy is refitted on the four folds
  and scored on the outer fold. The pooled outer accuracy is an honest
  estimate of "choose the settings, then evaluate"; the gap to the reported
  figure (fixed settings, chosen with all five folds in view) is the optimism
  of that choice.
* **CED** is not tuned (one setting, reported as is).
"""

from __future__ import annotations

import copy
import itertools
import logging
import time

import numpy as np
import pandas as pd

from fakeugc.benchmarks_public.config import BenchConfig
from fakeugc.benchmarks_public.data import BenchData
from fakeugc.benchmarks_public.fitting import fit_predict
from fakeugc.benchmarks_public.metrics import scores

log = logging.getLogger(__name__)


def expand_grid(grid) -> list[dict]:
    """A list of override dicts, from a list or from ``{dotted.key: [values]}``."""
    if grid is None:
        return []
    if isinstance(grid, list):
        return [dict(g) for g in grid]
    keys = list(grid)
    out = []
    for values in itertools.product(*(grid[k] for k in keys)):
        override: dict = {}
        for key, value in zip(keys, values, strict=True):
            node = override
            *parents, last = key.split(".")
            for p in parents:
                node = node.setdefault(p, {})
            node[last] = value
        out.append(override)
    return out


def _merge(base: dict, override: dict) -> dict:
    out = copy.deepcopy(base)
    for k, v in override.items():
        if isinstance(v, dict) and isinstance(out.get(k), dict) and v:
            out[k] = _merge(out[k], v)
        else:
            out[k] = copy.deepcopy(v)
    return out


def candidate_config(bc: BenchConfig, name: str, override: dict) -> BenchConfig:
    """``bc`` with the set's section overridden (``grid`` itself dropped)."""
    data = bc.model_dump()
    data[name] = _merge(data[name], override)
    data[name]["grid"] = None
    return BenchConfig.model_validate(data)


def _flat(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        if isinstance(v, dict) and v:
            out.update(_flat(v, f"{prefix}{k}."))
        else:
            out[f"{prefix}{k}"] = v
    return out


def _label(override: dict) -> str:
    return ", ".join(f"{k}={v}" for k, v in _flat(override).items()) or "(as configured)"


def select_weibo21(data: BenchData, bc: BenchConfig) -> pd.DataFrame:
    frame = data.frame
    train = frame[frame["split"] == "train"].reset_index(drop=True)
    val = frame[frame["split"] == "val"].reset_index(drop=True)
    rows = []
    for override in expand_grid(bc.weibo21.grid):
        cb = candidate_config(bc, "weibo21", override)
        t = time.perf_counter()
        out = fit_predict(train, val, cb.weibo21.families, cb.weibo21,
                          cb.train_config("weibo21"))
        m = scores(val["label"].to_numpy(int), out.prob)
        rows.append({"candidate": _label(override), "val_roc_auc": m["roc_auc"],
                     "val_macro_f1": m["macro_f1"], "seconds": time.perf_counter() - t})
        log.info("weibo21 selection: %s", rows[-1])
    return pd.DataFrame(rows).sort_values("val_roc_auc", ascending=False)


def _cv_accuracy(frame, folds, cb: BenchConfig) -> tuple[float, np.ndarray]:
    sc = cb.ott
    cfg = cb.train_config("ott")
    prob = np.full(len(frame), np.nan)
    for k in sorted(set(folds.tolist())):
        te = folds == k
        prob[te] = fit_predict(frame[~te].reset_index(drop=True),
                               frame[te].reset_index(drop=True), sc.families, sc, cfg,
                               group_column="hotel").prob
    return float(((prob >= 0.5) == frame["label"].to_numpy()).mean()), prob


def nested_ott(data: BenchData, bc: BenchConfig) -> dict:
    frame = data.frame
    folds = frame["split"].astype(str).to_numpy()
    candidates = expand_grid(bc.ott.grid)
    configs = [candidate_config(bc, "ott", o) for o in candidates]
    outer_prob = np.full(len(frame), np.nan)
    choices = {}
    inner_table = []
    for k in sorted(set(folds.tolist())):
        t = time.perf_counter()
        tr = folds != k
        inner = frame[tr].reset_index(drop=True)
        inner_acc = [_cv_accuracy(inner, folds[tr], cb)[0] for cb in configs]
        best = int(np.argmax(inner_acc))
        choices[k] = _label(candidates[best])
        inner_table += [{"outer_fold": k, "candidate": _label(o), "inner_accuracy": a}
                        for o, a in zip(candidates, inner_acc, strict=True)]
        cb = configs[best]
        out = fit_predict(inner, frame[~tr].reset_index(drop=True), cb.ott.families, cb.ott,
                          cb.train_config("ott"), group_column="hotel")
        outer_prob[~tr] = out.prob
        log.info("ott nested: outer %s chose %s (%.1fs)", k, choices[k],
                 time.perf_counter() - t)
    y = frame["label"].to_numpy(int)
    per_candidate = [{"candidate": _label(o), "accuracy_5_fold": _cv_accuracy(frame, folds, cb)[0]}
                     for o, cb in zip(candidates, configs, strict=True)]
    return {
        "nested_accuracy": float(((outer_prob >= 0.5) == y).mean()),
        "nested_roc_auc": scores(y, outer_prob)["roc_auc"],
        "choices": choices,
        "inner": pd.DataFrame(inner_table),
        "candidates": pd.DataFrame(per_candidate),
    }
