"""Fit the real pipeline on one training set and score a test set.

The same pieces as ``fakeugc train``: :func:`build_feature_pipeline` (the
feature union of the chosen families, with the optional character n-gram model
appended), LightGBM through :func:`fakeugc.modeling.train.fit_booster` with
early stopping, and :class:`~fakeugc.modeling.calibration.MarginCalibrator`
fitted on held-out rows. Only the split differs, because each benchmark has its
own protocol:

* with an explicit ``valid`` frame (Weibo21's official val split), features are
  fitted on ``train`` (text-model scores out-of-fold there), ``valid`` and
  ``test`` are transformed, the booster early-stops on ``valid`` and is
  calibrated on it -- exactly as the train command treats its windows;
* without one (the cross-validated sets), features are fitted on all training
  rows (text-model scores out-of-fold, so no row's feature saw its own label),
  then a share of the training *groups* (accounts, or hotels for Ott) is held
  out of the booster for early stopping and calibration. The text models thus
  learn from every training row, and the booster is still stopped and
  calibrated on rows it did not train on. With ``booster_folds: K`` (K > 1) the
  training groups are cut into K folds and K boosters are trained, each
  early-stopped and calibrated on its own held-out fold; the test probability is
  the mean of their calibrated probabilities (every training row then trains
  K-1 boosters and calibrates one, instead of a fifth of them never training).
"""

from __future__ import annotations

import time
from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fakeugc.benchmarks_public.char_model import CharModelScore
from fakeugc.benchmarks_public.config import SetConfig
from fakeugc.features._lexicon import lexicon_words
from fakeugc.features._pipeline import build_feature_pipeline
from fakeugc.features._text_model import group_folds
from fakeugc.modeling.calibration import MarginCalibrator
from fakeugc.modeling.config import TrainConfig
from fakeugc.modeling.train import fit_booster


@dataclass
class FitOutput:
    """Calibrated probabilities of the test rows, and what the fit looked like."""

    prob: np.ndarray
    margin: np.ndarray
    feature_names: list[str]
    importance: pd.DataFrame
    best_iteration: int
    calibration_method: str
    seconds: dict = field(default_factory=dict)
    valid_rows: int = 0
    boosters: int = 1


def feature_union(families, set_cfg: SetConfig, seed: int, group_column: str | None = None):
    """The pipeline's feature union (the tokenize step is run once per set, earlier)."""
    params = {k: dict(v) for k, v in set_cfg.params.items()}
    if group_column:
        params.setdefault("text_model", {}).setdefault("group_column", group_column)
    for step in params.values():
        if "ngram_range" in step:
            step["ngram_range"] = tuple(step["ngram_range"])
    pipe = build_feature_pipeline(list(families), tuple(lexicon_words()), (), params=params,
                                  random_state=seed)
    union = pipe.named_steps["features"]
    if set_cfg.char_model is not None and "content" in families:
        c = set_cfg.char_model
        union.transformer_list.append((
            "char_model",
            CharModelScore(n_splits=c.n_splits, random_state=seed, C=c.C,
                           n_features=c.n_features, ngram_range=tuple(c.ngram_range),
                           group_column=group_column or "account_id"),
        ))
        union.set_output(transform="pandas")
    return union


def holdout_mask(groups: np.ndarray, y: np.ndarray, share: float, seed: int) -> np.ndarray:
    """True for the rows of about ``share`` of the groups (approximately stratified)."""
    k = max(2, int(round(1 / share)))
    _, held = next(iter(group_folds(groups, y, k, random_state=seed + 1)))
    mask = np.zeros(len(y), dtype=bool)
    mask[held] = True
    return mask


def fit_predict(
    train: pd.DataFrame,
    test: pd.DataFrame,
    families,
    set_cfg: SetConfig,
    cfg: TrainConfig,
    valid: pd.DataFrame | None = None,
    group_column: str = "account_id",
) -> FitOutput:
    """Train on ``train`` (and ``valid`` for early stopping and calibration, or a
    held-out share of ``train``'s groups) and return calibrated test probabilities."""
    seconds: dict[str, float] = {}
    t = time.perf_counter()
    union = feature_union(families, set_cfg, cfg.seed, group_column)
    y_train = train["label"].to_numpy(dtype=int)
    X_train = union.fit_transform(train, y_train).astype("float64")
    names = list(X_train.columns)
    X_test = union.transform(test)[names].astype("float64")
    if valid is not None:
        splits = [(X_train, y_train, union.transform(valid)[names].astype("float64"),
                   valid["label"].to_numpy(dtype=int))]
    else:
        groups = train[group_column].astype(str).to_numpy()
        k = max(1, int(set_cfg.booster_folds))
        if k == 1:
            held_sets = [holdout_mask(groups, y_train, set_cfg.valid_share, cfg.seed)]
        else:
            held_sets = []
            for _, held in group_folds(groups, y_train, k, random_state=cfg.seed + 1):
                m = np.zeros(len(y_train), dtype=bool)
                m[held] = True
                held_sets.append(m)
        splits = [(X_train[~h], y_train[~h], X_train[h], y_train[h]) for h in held_sets]
    seconds["features"] = time.perf_counter() - t

    t = time.perf_counter()
    probs, margins, gains, splits_used, iterations, methods = [], [], [], [], [], []
    valid_rows = 0
    for X_fit, y_fit, X_va, y_va in splits:
        booster, _, _ = fit_booster(X_fit, y_fit, X_va, y_va, cfg)
        calibrator = MarginCalibrator(cfg.calibration).fit(
            booster.predict(X_va, raw_score=True), y_va)
        margin = booster.predict(X_test, raw_score=True)
        margins.append(margin)
        probs.append(calibrator.predict(margin))
        gains.append(booster.feature_importance("gain"))
        splits_used.append(booster.feature_importance("split"))
        iterations.append(int(booster.current_iteration()))
        methods.append(calibrator.method_)
        valid_rows += len(y_va)
    # several boosters (one per held-out fold of the training groups): the mean of their
    # calibrated probabilities
    prob = np.mean(probs, axis=0)
    margin = np.mean(margins, axis=0)
    seconds["lightgbm"] = time.perf_counter() - t
    importance = pd.DataFrame({
        "feature": names,
        "gain": np.mean(gains, axis=0),
        "splits": np.mean(splits_used, axis=0),
    })
    return FitOutput(prob=np.asarray(prob, dtype=float), margin=np.asarray(margin, dtype=float),
                     feature_names=names, importance=importance,
                     best_iteration=int(np.median(iterations)),
                     calibration_method=",".join(sorted(set(methods))), seconds=seconds,
                     valid_rows=valid_rows, boosters=len(iterations))
