"""TextModelScore: out-of-fold scoring, synthetic separable text, explanations, pickling."""

from __future__ import annotations

import pickle
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sklearn.base import clone
from sklearn.metrics import roc_auc_score

from fakeugc.features._catalogue import describe
from fakeugc.features._text_model import FEATURES, TextModelScore, group_folds, token_ngrams

BENCH = Path(__file__).resolve().parents[3] / "shared" / "benchmarks"

FAKE = ["闭眼入", "天花板", "绝绝子", "yyds", "无限回购", "冲"]
REAL = ["搓泥", "有点贵", "用了三天", "一般般", "退货", "混干皮"]
NOISE = [f"词{i}" for i in range(60)]


def synthetic(n_accounts: int, posts_per_account: int = 4, seed: int = 0, signal: bool = True):
    """Posts as token lists: each account is fake or genuine; a post has noise words and,
    when ``signal``, two words from its class's vocabulary."""
    rng = np.random.default_rng(seed)
    rows = []
    for a in range(n_accounts):
        label = int(rng.random() < 0.5)
        for _ in range(posts_per_account):
            toks = list(rng.choice(NOISE, size=8))
            if signal:
                toks += list(rng.choice(FAKE if label else REAL, size=2))
            rng.shuffle(toks)
            rows.append({"account_id": f"s{seed}a{a}", "tokens": toks, "label": label})
    df = pd.DataFrame(rows)
    return df.drop(columns="label"), df["label"].to_numpy()


def test_learns_separable_text_and_generalises():
    X, y = synthetic(100, seed=1)
    Xt, yt = synthetic(50, seed=2)
    m = TextModelScore(n_splits=5, random_state=0).fit(X, y)
    score = m.transform(Xt)
    assert list(score.columns) == list(FEATURES) == ["text_model_score"]
    assert score.index.equals(Xt.index)
    assert score.dtypes.iloc[0] == np.float64
    assert roc_auc_score(yt, score.iloc[:, 0]) > 0.9
    oof = m.fit_transform(X, y).iloc[:, 0]
    assert oof.notna().all()
    assert roc_auc_score(y, oof) > 0.9


def test_oof_differs_from_in_sample_and_does_not_memorise():
    """With labels unrelated to the text, the in-sample fit memorises the posts while
    the out-of-fold score stays near chance."""
    X, _ = synthetic(150, seed=3, signal=True)
    y = np.random.default_rng(4).integers(0, 2, len(X))
    m = TextModelScore(n_splits=5, C=100.0)
    oof = m.fit_transform(X, y).iloc[:, 0].to_numpy()
    in_sample = m.transform(X).iloc[:, 0].to_numpy()
    assert not np.allclose(oof, in_sample)
    assert roc_auc_score(y, in_sample) > 0.9
    assert roc_auc_score(y, oof) < 0.7
    assert m.folds_ == 5


def test_groups_never_split_across_folds():
    groups = np.repeat(np.arange(40), 3).astype(str)
    y = np.repeat(np.arange(40) % 2, 3)
    seen = np.zeros(len(groups), dtype=int)
    for train, test in group_folds(groups, y, 4, random_state=0):
        assert not set(groups[train]) & set(groups[test])
        assert 0 < y[test].mean() < 1
        seen[test] += 1
    assert (seen == 1).all()


def test_nan_without_labels_or_with_one_class():
    X, y = synthetic(10, seed=5)
    for labels in (None, np.zeros(len(X), dtype=int)):
        m = TextModelScore()
        assert m.fit_transform(X, labels).iloc[:, 0].isna().all()
        assert m.model_ is None
        assert m.transform(X).iloc[:, 0].isna().all()
        assert m.top_terms(X.head(2)) == [[], []]


def test_empty_text_and_unlabelled_rows():
    X, y = synthetic(40, seed=6)
    X.loc[0, "tokens"] = []
    y = y.astype(float)
    y[1] = np.nan
    m = TextModelScore(n_splits=3)
    oof = m.fit_transform(X, y).iloc[:, 0]
    assert np.isnan(oof.iloc[0])
    assert np.isfinite(oof.iloc[1])  # unlabelled: scored by the all-data model
    assert oof.iloc[2:].notna().all()
    assert np.isnan(m.transform(X.head(1)).iloc[0, 0])
    assert m.transform(X.iloc[:0]).shape == (0, 1)


def test_top_terms_name_the_seeding_words():
    X, y = synthetic(100, seed=7)
    m = TextModelScore().fit(X, y)
    post = pd.DataFrame({"tokens": [["词1", "闭眼入", "天花板", "词2"]]})
    terms = m.top_terms(post, n=3)[0]
    assert terms and {t for t, _ in terms[:2]} == {"闭眼入", "天花板"}
    assert all(v > 0 for _, v in terms)
    genuine = m.top_terms(["词1", "搓泥", "有点贵"], n=2, towards="genuine")[0]
    assert {t for t, _ in genuine} == {"搓泥", "有点贵"}
    assert all(v < 0 for _, v in genuine)


def test_works_from_title_and_body_without_tokens():
    texts_fake = ["闭眼入 天花板 绝绝子", "yyds 无限回购 冲", "天花板 闭眼入 yyds"]
    texts_real = ["有点贵 搓泥", "用了三天 一般般", "退货 混干皮 搓泥"]
    X = pd.DataFrame({"title": [""] * 6, "body": texts_fake + texts_real,
                      "account_id": [f"a{i}" for i in range(6)]})
    y = np.array([1, 1, 1, 0, 0, 0])
    m = TextModelScore(n_splits=3).fit(X, y)
    s = m.transform(pd.DataFrame({"body": ["这个真的闭眼入，天花板", "有点贵，还搓泥"]}))
    assert s.iloc[0, 0] > s.iloc[1, 0]
    english = pd.DataFrame({"tokens": [["great", "stay"], ["dirty", "room"]] * 5,
                            "account_id": [f"e{i}" for i in range(10)]})
    out = TextModelScore(n_splits=2).fit_transform(english, np.array([1, 0] * 5))
    assert out.iloc[:, 0].notna().all()


def test_token_ngrams():
    assert token_ngrams(["a", "b", "c"]) == ["a", "b", "c", "a b", "b c"]
    assert token_ngrams([]) == []
    assert token_ngrams(None) == []


def test_clone_pickle_and_catalogue():
    X, y = synthetic(30, seed=8)
    m = TextModelScore(C=2.0, n_splits=3).fit(X, y)
    c = clone(m)
    assert c.get_params() == m.get_params() and not hasattr(c, "model_")
    back = pickle.loads(pickle.dumps(m))
    pd.testing.assert_frame_equal(back.transform(X), m.transform(X))
    assert back.top_terms(X.head(1)) == m.top_terms(X.head(1))
    doc = describe("text_model_score")
    assert doc is not None and doc.family == "content"
    assert "log-odds" in doc.sentence(2.5, {})


def test_weibo21_oof_auc():
    path = BENCH / "weibo21"
    if not path.is_dir():
        pytest.skip(f"{path} not present")
    from fakeugc.features._frame import build_post_frame
    from fakeugc.features._lexicon import lexicon_words
    from fakeugc.features._text import TokenizeText
    from fakeugc.io import read_export

    export = read_export(path)
    frame = build_post_frame(export)
    labels = export.tables["labels"].set_index("post_id").reindex(frame["post_id"])
    train = (labels["split"] == "train").to_numpy()
    X = frame[train]
    X = TokenizeText(tuple(lexicon_words())).fit(X).transform(X)
    y = labels["label"].to_numpy()[train]
    oof = TextModelScore().fit_transform(X, y).iloc[:, 0].to_numpy()
    ok = ~np.isnan(oof)
    assert ok.mean() > 0.99
    assert roc_auc_score(y[ok], oof[ok]) > 0.8


def test_declared_partnerships_are_outside_the_text_model():
    """Declared posts are neither trained on nor scored: relabelling them changes nothing."""
    X, y = synthetic(100, seed=5)
    declared = np.zeros(len(X), dtype=bool)
    declared[::7] = True
    X = X.assign(disclosed_partnership=pd.array(declared, dtype="boolean"))
    a = TextModelScore(random_state=0).fit(X, y)
    b = TextModelScore(random_state=0).fit(X, np.where(declared, 1 - y, y))
    np.testing.assert_allclose(a.model_.coef_, b.model_.coef_)
    out = a.transform(X)["text_model_score"]
    assert out[declared].isna().all() and out[~declared].notna().all()
    oof = a.fit_transform(X, y)["text_model_score"]
    assert oof[declared].isna().all() and oof[~declared].notna().all()
    # unknown (NA) counts as undeclared; declared_column=None scores everyone
    X.loc[0, "disclosed_partnership"] = pd.NA
    assert a.transform(X.iloc[:1])["text_model_score"].notna().all()
    c = TextModelScore(random_state=0, declared_column=None).fit(X, y)
    assert c.transform(X)["text_model_score"].notna().all()


def test_model_pickled_before_declared_column_still_scores_everyone():
    X, y = synthetic(40, seed=7)
    m = TextModelScore(random_state=0).fit(X, y)
    del m.__dict__["declared_column"]  # what an older pickle looks like
    old = pickle.loads(pickle.dumps(m))
    X = X.assign(disclosed_partnership=True)
    assert old.transform(X)["text_model_score"].notna().all()


@settings(max_examples=200, deadline=None)
@given(st.lists(st.lists(st.sampled_from(["好用", "不错", "a", "b", "😊", "广告", "x y", "第一"]),
                         max_size=8), min_size=1, max_size=6),
       st.sampled_from([(1, 1), (1, 2), (2, 2), (1, 3)]),
       st.sampled_from([8, 2**10, 2**20]))
def test_hashed_ngram_counts_equal_the_hashing_vectorizer(tokens, ngram_range, n_features):
    from sklearn.feature_extraction.text import HashingVectorizer

    from fakeugc.features._text_model import _NgramAnalyzer, hashed_ngram_counts

    want = HashingVectorizer(analyzer=_NgramAnalyzer(ngram_range), n_features=n_features,
                             alternate_sign=False, norm=None, lowercase=False).transform(tokens)
    got = hashed_ngram_counts(tokens, n_features, ngram_range)
    assert got.shape == want.shape and got.has_sorted_indices
    assert np.array_equal(got.indptr, want.indptr)
    assert np.array_equal(got.indices, want.indices)
    assert np.array_equal(got.data, want.data)


def _with_launch_posts(seed: int):
    """synthetic() plus genuine launch-burst posts that gush like seeding ("闭眼入",
    "天花板"), marked as hard cases by review."""
    X, y = synthetic(100, seed=seed)
    rng = np.random.default_rng(seed + 100)
    launch = [{"account_id": f"L{seed}-{i}", "hard_case": "launch_burst",
               "tokens": list(rng.choice(NOISE, size=8)) + ["新品", "闭眼入"]} for i in range(30)]
    X = pd.concat([X.assign(hard_case=""), pd.DataFrame(launch)], ignore_index=True)
    return X, np.r_[y, np.zeros(30, dtype=int)]


def test_hard_case_weight_lowers_launch_posts_and_one_is_off():
    X, y = _with_launch_posts(5)
    Xt, _ = _with_launch_posts(6)
    launch = (Xt["hard_case"] == "launch_burst").to_numpy()
    plain = TextModelScore(n_splits=3, random_state=0).fit(X, y)
    weighted = TextModelScore(n_splits=3, random_state=0, hard_case_weight=5.0).fit(X, y)
    s_plain = plain.transform(Xt).iloc[:, 0].to_numpy()
    s_weighted = weighted.transform(Xt).iloc[:, 0].to_numpy()
    # the genuine launch posts score lower once a false flag on them costs more
    assert s_weighted[launch].mean() < s_plain[launch].mean() - 0.2
    # weight 1 and no hard-case column give the unweighted model
    off = TextModelScore(n_splits=3, random_state=0, hard_case_weight=1.0).fit(X, y)
    blind = TextModelScore(n_splits=3, random_state=0, hard_case_weight=5.0,
                           hard_case_column=None).fit(X, y)
    np.testing.assert_array_equal(off.transform(Xt).to_numpy(), s_plain[:, None])
    np.testing.assert_array_equal(blind.transform(Xt).to_numpy(), s_plain[:, None])


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 10_000), st.sampled_from(["fake", "genuine"]), st.integers(1, 6))
def test_top_terms_of_a_batch_equal_the_row_by_row_reading(seed, towards, n):
    X, y = synthetic(30, seed=seed % 7)
    m = TextModelScore(n_splits=2, random_state=0, n_features=2**8).fit(X, y)  # collisions
    Xt, _ = synthetic(6, seed=seed)
    Xt.loc[0, "tokens"] = []
    batch = m.top_terms(Xt, n=n, towards=towards)
    loop = m._top_terms_loop(m._tokens(Xt), n, towards)
    assert [[g for g, _ in r] for r in batch] == [[g for g, _ in r] for r in loop]
    for rb, rl in zip(batch, loop, strict=True):
        np.testing.assert_allclose([v for _, v in rb], [v for _, v in rl], rtol=1e-12)


@settings(max_examples=6, deadline=None)
@given(st.integers(0, 10_000), st.integers(2, 5), st.booleans(), st.booleans())
def test_fits_in_worker_processes_equal_the_fits_in_process(seed, n_splits, groups, unlabelled):
    """fit_transform's all-rows and fold models fitted in forked workers give the same
    bytes as fitted one after the other in process (scores, model, pickled estimator)."""
    from fakeugc.features import _text_model

    X, y = synthetic(40, seed=seed % 11)
    y = y.astype(float)
    if unlabelled:
        y[::7] = np.nan
    if not groups:
        X = X.drop(columns="account_id")
    got = {}
    for workers in (1, 2):
        with pytest.MonkeyPatch.context() as mp:
            mp.setattr(_text_model, "FIT_WORKERS", workers)
            mp.setattr(_text_model, "PARALLEL_MIN_ROWS", 0)
            m = TextModelScore(n_splits=n_splits, random_state=seed)
            got[workers] = (m.fit_transform(X, y).to_numpy().tobytes(), m)
    (a, m1), (b, m2) = got[1], got[2]
    assert a == b
    assert m1.folds_ == m2.folds_ == n_splits
    assert m1.oof_.tobytes() == m2.oof_.tobytes()
    # the all-rows model came back from a worker: every fitted attribute the same
    a, b = vars(m1.model_), vars(m2.model_)
    assert a.keys() == b.keys()
    for k in a:
        if isinstance(a[k], np.ndarray):
            assert (a[k].dtype, a[k].shape, a[k].tobytes()) == \
                (b[k].dtype, b[k].shape, b[k].tobytes()), k
        else:
            assert a[k] == b[k], k
    Xt, _ = synthetic(10, seed=seed % 11 + 20)
    assert m1.transform(Xt).to_numpy().tobytes() == m2.transform(Xt).to_numpy().tobytes()


def test_run_fits_keeps_job_order_in_workers():
    from fakeugc.features._text_model import run_fits

    jobs = [lambda i=i: (i, np.arange(i)) for i in range(5)]
    for workers in (1, 2):
        out = run_fits(jobs, workers)
        assert [o[0] for o in out] == list(range(5))
        assert all(np.array_equal(o[1], np.arange(i)) for i, o in enumerate(out))
