"""Small real parts for the scoring tests: a contract-shaped synthetic export (with
every kind of bad row on demand) and a real ScoringBundle around a tiny LightGBM
booster trained on a few features of a minimal scikit-learn pipeline.

Worker processes and Spark tasks unpickle the bundle, so this module must be
importable there: tests put ``tests/scoring`` on ``PYTHONPATH``.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import lightgbm as lgb
import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.pipeline import Pipeline

from fakeugc.features._text import TokenizeText
from fakeugc.modeling.bundle import ScoringBundle
from fakeugc.modeling.calibration import MarginCalibrator

HERE = Path(__file__).resolve().parent
DAY = pd.Timestamp("2026-11-24T00:00:00Z")
#: the registry facts stamped on the stand-in model's output rows
MODEL = {"name": "stand-in", "version": "7", "run_id": "run-stand-in",
         "uri": "models:/stand-in@champion", "resolved_uri": "models:/stand-in/7"}
BRANDS = [("b1", "雅诗兰黛", ["Estee Lauder", "EL"]), ("b2", "兰蔻", ["Lancome"]),
          ("b3", "完美日记", ["Perfect Diary"])]
_WORDS = ["姐妹们", "这款", "精华液", "真的", "绝了", "用了", "七天", "皮肤", "变好", "回购",
          "推荐", "大家", "闭眼入", "平价", "好物", "分享", "#护肤#", "@小红薯", "😍", "yyds",
          "性价比", "质地", "清爽", "不油腻", "敏感肌", "包装", "今天", "安利", "宝藏", "单品"]


class SmallFeatures(TransformerMixin, BaseEstimator):
    """A few features of the post frame: text, tags, exposure, account, reports, and
    (when the frame carries it) one night-wide context column."""

    def __init__(self, use_context: bool = False):
        self.use_context = use_context

    def fit(self, X, y=None):
        self.n_features_in_ = X.shape[1]
        return self

    def transform(self, X):
        n_tokens = X["tokens"].map(len).to_numpy(dtype=float)
        yyds = X["text_norm"].str.count("yyds").to_numpy(dtype=float)
        tags = X["brand_tags"].map(lambda v: len(v) if isinstance(v, list) else 0)
        imp = X["curve_impressions"].map(
            lambda v: float(np.sum(v)) if v is not None and len(v) else np.nan)
        fol = pd.to_numeric(X["account_followers"], errors="coerce").to_numpy(dtype=float)
        rep = X["report_times"].map(lambda v: len(v) if isinstance(v, list) else np.nan)
        out = pd.DataFrame({
            "t_tokens": n_tokens,
            "t_yyds": yyds,
            "t_tags": tags.to_numpy(dtype=float),
            "e_log_impressions": np.log1p(imp.to_numpy(dtype=float)),
            "a_log_followers": np.log1p(fol),
            "r_reports": rep.to_numpy(dtype=float),
        }, index=X.index)
        if self.use_context:
            col = "ctx_account_posts"
            out["x_account_posts"] = X[col].to_numpy(dtype=float) if col in X.columns \
                else np.nan
        return out

    def get_feature_names_out(self, input_features=None):
        names = ["t_tokens", "t_yyds", "t_tags", "e_log_impressions", "a_log_followers",
                 "r_reports"]
        return np.asarray(names + (["x_account_posts"] if self.use_context else []), object)


# ----------------------------------------------------------------------------- exports


def _text(rng, k):
    return "".join(rng.choice(_WORDS, size=k))


def make_tables(n_posts: int = 120, seed: int = 0, hours: int = 24,
                n_accounts: int | None = None) -> dict[str, pd.DataFrame]:
    rng = np.random.default_rng(seed)
    n_accounts = n_accounts or max(3, n_posts // 4)
    acc_ids = [f"a{i:04d}" for i in range(n_accounts)]
    post_acc = rng.integers(0, n_accounts, n_posts)
    posts = pd.DataFrame({
        "post_id": [f"p{i:05d}" for i in range(n_posts)],
        "account_id": [acc_ids[a] for a in post_acc],
        "published_at": DAY + pd.to_timedelta(rng.integers(0, 86400, n_posts), unit="s"),
        "title": [_text(rng, 3) for _ in range(n_posts)],
        "body": [_text(rng, int(rng.integers(5, 40))) for _ in range(n_posts)],
        "brand_tags": [list(rng.choice(["b1", "b2", "b3"], size=int(rng.integers(0, 3)),
                                       replace=False)) for _ in range(n_posts)],
        "disclosed_partnership": rng.random(n_posts) < 0.1,
        "image_count": rng.integers(0, 9, n_posts),
    })
    accounts = pd.DataFrame({
        "account_id": acc_ids,
        "created_at": DAY - pd.to_timedelta(rng.integers(1, 2000, n_accounts), unit="D"),
        "followers": rng.integers(0, 100000, n_accounts),
        "following": rng.integers(0, 2000, n_accounts),
        "posts_total": rng.integers(1, 500, n_accounts),
        "verified": rng.random(n_accounts) < 0.2,
        "is_brand": rng.random(n_accounts) < 0.05,
        "device_cluster": [f"d{int(x)}" for x in rng.integers(0, max(2, n_accounts // 3),
                                                              n_accounts)],
        "bio": [_text(rng, 4) for _ in range(n_accounts)],
    })
    seen = rng.integers(1, hours + 1, n_posts)
    rows = []
    for i in range(n_posts):
        base = rng.uniform(5, 200)
        for h in range(int(seen[i])):
            rows.append((posts.post_id[i], h, int(base * np.exp(-h / 10) + rng.integers(0, 5)),
                         int(rng.integers(0, 10)), int(rng.integers(0, 3)),
                         int(rng.integers(0, 3)), int(rng.integers(0, 2))))
    exposure = pd.DataFrame(rows, columns=["post_id", "hour", "impressions", "likes",
                                           "collects", "comments", "shares"])
    rep_posts = rng.choice(n_posts, size=max(1, n_posts // 5))
    reports = pd.DataFrame({
        "post_id": [posts.post_id[i] for i in rep_posts],
        "reported_at": [posts.published_at[i] + pd.Timedelta(hours=int(rng.integers(1, 20)))
                        for i in rep_posts],
        "reason": rng.choice(["fake_review", "undisclosed_ad", "spam"], size=len(rep_posts)),
    })
    brands = pd.DataFrame({"brand_id": [b[0] for b in BRANDS], "name": [b[1] for b in BRANDS],
                           "aliases": [b[2] for b in BRANDS]})
    lab = rng.choice(n_posts, size=n_posts // 3, replace=False)
    labels = pd.DataFrame({"post_id": [posts.post_id[i] for i in lab],
                           "label": rng.integers(0, 2, len(lab)),
                           "fraud_type": None, "split": "test"})
    return {"posts": posts, "accounts": accounts, "exposure": exposure, "reports": reports,
            "brands": brands, "labels": labels}


def write_export(tables: dict[str, pd.DataFrame], folder: Path, csv_tables=()) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    for name, df in tables.items():
        if name in csv_tables:
            write_csv(df, folder / f"{name}.csv")
        else:
            df.to_parquet(folder / f"{name}.parquet", index=False)
    return folder


def _csv_cell(v):
    if isinstance(v, list | tuple | np.ndarray):
        return "|".join(str(x) for x in v)
    if isinstance(v, pd.Timestamp):
        return v.strftime("%Y-%m-%dT%H:%M:%SZ")
    if isinstance(v, bool | np.bool_):
        return "true" if v else "false"
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return ""
    return str(v)


def write_csv(df: pd.DataFrame, path: Path, extra_lines=()) -> None:
    import csv

    with open(path, "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f)
        w.writerow(list(df.columns))
        for row in df.itertuples(index=False):
            w.writerow([_csv_cell(v) for v in row])
        for line in extra_lines:
            f.write(line)


def bad_export(folder: Path, n_posts: int = 60, seed: int = 1) -> Path:
    """An export with every kind of bad row: missing required value, negative count,
    duplicate post_id (same and other author), unparseable timestamp, exposure and
    reports and labels rows for unknown posts, duplicate exposure hour, duplicate
    account, and malformed CSV rows (posts and reports are CSV)."""
    folder.mkdir(parents=True, exist_ok=True)
    t = make_tables(n_posts, seed)
    posts = t["posts"].copy()
    posts["published_at"] = posts["published_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    extra = pd.DataFrame([
        {**posts.iloc[0].to_dict(), "title": "dup same author"},                  # duplicate
        {**posts.iloc[1].to_dict(), "account_id": "a9999", "title": "dup other"},  # duplicate
        {**posts.iloc[2].to_dict(), "post_id": "p_missing", "account_id": ""},     # missing
        {**posts.iloc[3].to_dict(), "post_id": "p_badts", "published_at": "yesterday-ish"},
        {**posts.iloc[4].to_dict(), "post_id": "p_negimg", "image_count": -3},     # negative
    ])
    posts = pd.concat([posts, extra], ignore_index=True)
    write_csv(posts, folder / "posts.csv",
              extra_lines=["\n", 'p_malformed,a0001,"only three fields"\n'])
    exp = t["exposure"]
    bad_exp = pd.DataFrame([
        {"post_id": "p_ghost", "hour": 0, "impressions": 3, "likes": 0, "collects": 0,
         "comments": 0, "shares": 0},                                             # unknown post
        {**exp.iloc[0].to_dict()},                                                # duplicate hour
        {**exp.iloc[1].to_dict(), "hour": 80, "impressions": -5},                 # negative
        {"post_id": "p_missing", "hour": 1, "impressions": 2, "likes": 0, "collects": 0,
         "comments": 0, "shares": 0},                                             # post set aside
        {"post_id": exp.post_id[2], "hour": 99, "impressions": None, "likes": None,
         "collects": None, "comments": None, "shares": None},                    # no counts
    ])
    pd.concat([exp, bad_exp], ignore_index=True).astype(
        {"impressions": "float64"}).to_parquet(folder / "exposure.parquet", index=False)
    acc = t["accounts"]
    acc = pd.concat([acc, acc.iloc[[0]], pd.DataFrame([{**acc.iloc[1].to_dict(),
                                                        "account_id": "a_neg",
                                                        "followers": -1}])], ignore_index=True)
    acc.to_parquet(folder / "accounts.parquet", index=False)
    rep = t["reports"].copy()
    rep["reported_at"] = rep["reported_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    rep = pd.concat([rep, pd.DataFrame([
        {"post_id": "p_ghost", "reported_at": "2026-11-24T10:00:00Z", "reason": "spam"},
        {"post_id": rep.post_id[0], "reported_at": "not a time", "reason": "spam"},
    ])], ignore_index=True)
    write_csv(rep, folder / "reports.csv", extra_lines=['p00001,"2026-11-24T01:00:00Z",spam,x,y\n'])
    t["brands"].to_parquet(folder / "brands.parquet", index=False)
    lab = t["labels"]
    lab = pd.concat([lab, pd.DataFrame([{"post_id": "p_ghost", "label": 1, "fraud_type": None,
                                         "split": "test"},
                                        {**lab.iloc[0].to_dict()}])], ignore_index=True)
    lab.to_parquet(folder / "labels.parquet", index=False)
    return folder


# ----------------------------------------------------------------------------- the model


def make_bundle(families=(), seed: int = 0, n_posts: int = 400) -> ScoringBundle:
    """A real ScoringBundle: TokenizeText + SmallFeatures, a small LightGBM booster,
    a sigmoid calibrator and a threshold that flags a share of the posts."""
    from fakeugc.features._frame import build_post_frame
    from fakeugc.features._pipeline import add_context
    from fakeugc.reports.drift import reference_histogram

    t = make_tables(n_posts, seed=seed + 100)
    frame = build_post_frame(t)
    pipe = Pipeline([("tokenize", TokenizeText(user_words=("雅诗兰黛", "兰蔻"))),
                     ("features", SmallFeatures(use_context=bool(families)))])
    pipe.set_output(transform="pandas")
    tok = pipe.named_steps["tokenize"].fit(frame)
    ready = add_context(tok.transform(frame), list(families))
    X = pipe.named_steps["features"].fit(ready).transform(ready).astype("float64")
    rng = np.random.default_rng(seed)
    logit = 0.8 * X["t_yyds"] + 0.5 * X["t_tags"] - 0.2 * X["a_log_followers"].fillna(5) + \
        0.3 * X["r_reports"].fillna(0) + rng.normal(0, 0.5, len(X))
    y = (logit > np.quantile(logit, 0.7)).astype(int).to_numpy()
    params = {"objective": "binary", "num_leaves": 7, "learning_rate": 0.2, "verbose": -1,
              "min_data_in_leaf": 5, "deterministic": True, "force_row_wise": True,
              "seed": 0, "num_threads": 1}
    booster = lgb.train(params, lgb.Dataset(X, y), num_boost_round=25)
    margin = booster.predict(X, raw_score=True)
    cal = MarginCalibrator("sigmoid").fit(margin, y)
    prob = cal.predict(margin)
    threshold = float(np.quantile(prob, 0.75))
    reference = {
        "features": {c: reference_histogram(X[c].to_numpy(dtype=float)) for c in X.columns},
        "score": reference_histogram(prob),
        "families": {c: {"t": "content", "e": "exposure", "a": "account", "r": "feedback",
                         "x": "account"}[c[0]] for c in X.columns},
    }
    return ScoringBundle(pipeline=pipe, booster=booster, calibrator=cal, threshold=threshold,
                         families=list(families), feature_names=list(X.columns), top_k=3,
                         metadata={"model_name": "stand-in", "trained_at": "2026-11-01"},
                         reference=reference)


def save_model_dir(bundle: ScoringBundle, folder: Path) -> Path:
    """The bundle as a local MLflow pyfunc model folder (loadable by ``--model PATH``)."""
    import mlflow

    from fakeugc.modeling.pyfunc import FakeUGCModel

    folder.parent.mkdir(parents=True, exist_ok=True)
    pkl = folder.parent / f"{folder.name}.bundle.pkl"
    with open(pkl, "wb") as f:
        pickle.dump(bundle, f)
    mlflow.pyfunc.save_model(str(folder), python_model=FakeUGCModel(),
                             artifacts={"bundle": str(pkl)}, pip_requirements=["fakeugc"])
    return folder


def read_scores(folder: Path) -> pd.DataFrame:
    df = pd.read_parquet(folder / "scores.parquet")
    return df.sort_values("post_id").reset_index(drop=True)


def manifest(folder: Path) -> dict:
    return json.loads((folder / "_SUCCESS").read_text(encoding="utf-8"))
