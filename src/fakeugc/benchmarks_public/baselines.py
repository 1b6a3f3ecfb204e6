"""Plain baselines, computed in the same run on the same folds as the pipeline.

They are the floors the README of ``../shared/benchmarks`` quotes, rebuilt here
so that the comparison is like for like (same rows, same folds, same metric):

* :func:`tfidf_svm` -- word 1-2-gram TF-IDF + linear SVM (Ott);
* :func:`tfidf_lr` -- TF-IDF over the pipeline's jieba tokens + logistic
  regression (Weibo21, CED text only);
* :func:`account_curve_lgbm` -- LightGBM on the raw account columns and the
  raw hourly curve, nothing engineered (CED).

Each returns a score per test row (higher = more likely fake) and, where it
has one, a probability.
"""

from __future__ import annotations

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.svm import LinearSVC

from fakeugc.features._exposure import bool_float
from fakeugc.features._frame import CURVE_HOURS, curve_matrix


def _joined_tokens(frame: pd.DataFrame) -> list[str]:
    return [" ".join(t) if isinstance(t, list | tuple | np.ndarray) else ""
            for t in frame["tokens"].tolist()]


def tfidf_svm(train: pd.DataFrame, test: pd.DataFrame, C: float = 1.0) -> np.ndarray:
    """Decision values of a linear SVM over word 1-2-gram TF-IDF of the raw text
    (scikit-learn's own tokenizer, lower-cased). Positive = predicted fake."""
    vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
    text_tr = (train["title"].fillna("") + " " + train["body"].fillna("")).str.strip()
    text_te = (test["title"].fillna("") + " " + test["body"].fillna("")).str.strip()
    model = LinearSVC(C=C).fit(vec.fit_transform(text_tr), train["label"].to_numpy(int))
    return model.decision_function(vec.transform(text_te))


def tfidf_lr(train: pd.DataFrame, test: pd.DataFrame, C: float = 4.0,
             ngram_range=(1, 2)) -> np.ndarray:
    """Probabilities of a logistic regression over TF-IDF of the jieba tokens
    (the pipeline's segmentation, n-grams of words)."""
    vec = TfidfVectorizer(ngram_range=tuple(ngram_range), sublinear_tf=True,
                          token_pattern=r"\S+", lowercase=False)
    model = LogisticRegression(C=C, solver="liblinear", max_iter=1000)
    model.fit(vec.fit_transform(_joined_tokens(train)), train["label"].to_numpy(int))
    return model.predict_proba(vec.transform(_joined_tokens(test)))[:, 1]


def account_curve_matrix(frame: pd.DataFrame, hours: int = CURVE_HOURS) -> pd.DataFrame:
    """Raw columns: followers, following, posts_total, verified, account age at the
    post (days), and the hourly ``shares`` of the first ``hours`` hours (0 where the
    hour had no activity), plus their total."""
    def num(c):
        return pd.to_numeric(frame[f"account_{c}"], errors="coerce").to_numpy(float)

    out = {"followers": num("followers"), "following": num("following"),
           "posts_total": num("posts_total")}
    out["verified"] = bool_float(frame["account_verified"], len(frame))
    created = pd.to_datetime(frame["account_created_at"], utc=True, errors="coerce")
    published = pd.to_datetime(frame["published_at"], utc=True)
    out["age_days"] = ((published - created).dt.total_seconds() / 86400).to_numpy(float)
    curve = np.nan_to_num(curve_matrix(frame, "shares")[:, :hours], nan=0.0)
    for h in range(curve.shape[1]):
        out[f"shares_h{h}"] = curve[:, h]
    out["shares_total"] = curve.sum(1)
    return pd.DataFrame(out, index=frame.index)


def account_curve_lgbm(train: pd.DataFrame, test: pd.DataFrame, hours: int = CURVE_HOURS,
                       seed: int = 0, n_estimators: int = 300) -> np.ndarray:
    """Probabilities of a LightGBM with fixed, untuned settings on
    :func:`account_curve_matrix` (no early stopping, no calibration)."""
    params = {"objective": "binary", "learning_rate": 0.05, "num_leaves": 15,
              "min_child_samples": 20, "feature_fraction": 0.8, "bagging_fraction": 0.8,
              "bagging_freq": 1, "seed": seed, "deterministic": True, "num_threads": 2,
              "verbosity": -1, "force_col_wise": True}
    X_tr = account_curve_matrix(train, hours)
    booster = lgb.train(params, lgb.Dataset(X_tr, label=train["label"].to_numpy(int)),
                        num_boost_round=n_estimators)
    return booster.predict(account_curve_matrix(test, hours))
