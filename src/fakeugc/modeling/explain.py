"""Per-post reasons from LightGBM's ``pred_contrib``, in words.

Contributions are TreeSHAP values in log-odds: they sum, with the expected
value in the last column, to the raw margin. They are ranked and turned into
the feature catalogue's sentences; they are never shown as probabilities.
TreeSHAP costs about 1 ms a row, so callers compute it for flagged posts only.
"""

from __future__ import annotations

import json
import math

import numpy as np
import pandas as pd

from fakeugc.features._catalogue import catalogue


def contributions(booster, X: pd.DataFrame) -> np.ndarray:
    """(n, n_features + 1) log-odds contributions; the last column is the expected value."""
    if len(X) == 0:
        return np.zeros((0, X.shape[1] + 1))
    return np.asarray(booster.predict(X, pred_contrib=True, num_threads=1))


def family_of(name: str) -> str:
    doc = catalogue().get(name)
    return doc.family if doc else "other"


def explain_rows(booster, X: pd.DataFrame, top_k: int = 3, words_for=None) -> pd.DataFrame:
    """Reasons for each row of ``X``: ``reasons`` (sentences), ``reason_features``,
    ``reason_logodds`` and ``family_contrib`` (JSON: log-odds per family).

    ``words_for``, when given, maps each row's reason features (a list of lists) to
    the words of that post behind them (a list of ``{feature: [words]}``); a sentence
    then quotes them: "uses 2 seeding hype words (...) (in this post: 闭眼入, 天花板)".
    """
    contrib = contributions(booster, X)
    names = list(X.columns)
    docs = catalogue()
    families = [family_of(n) for n in names]
    fam_names = sorted(set(families))
    fam_index = {f: i for i, f in enumerate(fam_names)}
    fam_matrix = np.zeros((len(names), len(fam_names)))
    for j, f in enumerate(families):
        fam_matrix[j, fam_index[f]] = 1.0
    per_family = contrib[:, :-1] @ fam_matrix if len(X) else np.zeros((0, len(fam_names)))
    values = X.to_numpy(dtype=float)
    docs_by_col = [docs.get(n) for n in names]
    chosen = []
    for i in range(len(X)):
        c = contrib[i, :-1]
        order = np.argsort(-c, kind="stable")
        # the strongest pushes towards fake whose sentence is true at this value
        js: list[int] = []
        for j in order:
            if c[j] <= 0 or len(js) == top_k:
                break
            doc = docs_by_col[j]
            if doc is None or doc.explains(values[i, j]):
                js.append(int(j))
        chosen.append(js)
    words = words_for([[names[j] for j in js] for js in chosen]) if words_for else None
    reasons, reason_features, reason_logodds, fam_json = [], [], [], []
    for i, js in enumerate(chosen):
        row = {n: values[i, j] for j, n in enumerate(names)}
        sentences, feats, lods = [], [], []
        for j in js:
            name = names[j]
            doc = docs.get(name)
            v = values[i, j]
            text = doc.sentence(v, row) if doc else f"{name} = {v:.3g}"
            quoted = words[i].get(name) if words else None
            if quoted:
                text = f"{text} (in this post: {', '.join(quoted)})"
            sentences.append(text)
            feats.append(name)
            lods.append(round(float(contrib[i, j]), 4))
        reasons.append(sentences)
        reason_features.append(feats)
        reason_logodds.append(lods)
        fam_json.append(json.dumps(
            {f: round(float(per_family[i, k]), 4) for f, k in fam_index.items()
             if not math.isclose(per_family[i, k], 0.0, abs_tol=1e-9)},
            sort_keys=True))
    return pd.DataFrame(
        {"reasons": reasons, "reason_features": reason_features,
         "reason_logodds": reason_logodds, "family_contrib": fam_json},
        index=X.index,
    )
