"""The benchmark's own pieces: config, character model, curve cut, grouped holdout,
subsample, headline JSON and the doc block."""

from __future__ import annotations

import json
import pickle

import numpy as np
import pandas as pd
import pytest
from sklearn.metrics import roc_auc_score

from fakeugc.benchmarks_public.char_model import F_CHAR_SCORE, CharModelScore
from fakeugc.benchmarks_public.config import BenchConfig, load_bench_config
from fakeugc.benchmarks_public.data import cut_exposure, subsample
from fakeugc.benchmarks_public.fitting import feature_union, holdout_mask
from fakeugc.benchmarks_public.protocols import SetResult
from fakeugc.benchmarks_public.report import DOC_END, DOC_START, update_doc, write_json
from fakeugc.datasets import convert
from fakeugc.features._catalogue import describe
from fakeugc.io import read_export
from fakeugc.settings import get_settings


def test_project_config_is_valid():
    bc = load_bench_config(get_settings().pipelines / "benchmarks.yaml")
    assert bc.ced.curve_cuts == [1, 6, 24] and bc.ced.folds == 5
    assert set(bc.ced.families) == {"content", "exposure", "account"}
    cfg = bc.train_config("weibo21")
    assert cfg.lightgbm.num_leaves == bc.weibo21.lightgbm.get("num_leaves", 31)
    assert bc.train_config("ced", quick=True).lightgbm.n_estimators <= bc.ced.quick.n_estimators
    with pytest.raises(ValueError):
        BenchConfig.model_validate({"ced": {"folds": 5, "typo": 1}})


def _texts(n, seed):
    rng = np.random.default_rng(seed)
    fake = ["限时抢购速来", "震惊!转疯了", "内部消息"]
    real = ["记者从官方获悉", "据新华社报道", "发布会上表示"]
    y = rng.integers(0, 2, n)
    text = [f"{rng.choice(fake if v else real)}，{rng.integers(0, 999)}号消息" for v in y]
    return pd.DataFrame({"account_id": [f"a{i}" for i in range(n)], "title": "",
                         "body": text}), y


def test_char_model_scores_out_of_fold():
    X, y = _texts(200, 0)
    Xt, yt = _texts(100, 1)
    m = CharModelScore(n_splits=4, C=4.0)
    oof = m.fit_transform(X, y)
    assert list(oof.columns) == [F_CHAR_SCORE]
    assert roc_auc_score(y, oof[F_CHAR_SCORE]) > 0.95
    out = m.transform(Xt)
    assert list(out.columns) == [F_CHAR_SCORE] and out.index.equals(Xt.index)
    assert roc_auc_score(yt, out[F_CHAR_SCORE]) > 0.95
    assert describe(F_CHAR_SCORE).family == "content"
    again = pickle.loads(pickle.dumps(m))
    np.testing.assert_allclose(again.transform(Xt)[F_CHAR_SCORE], out[F_CHAR_SCORE])
    # characters of the normalised text, whitespace as one symbol
    assert m._tokens(pd.DataFrame({"text_norm": ["ab  c"]})) == [["a", "b", "▁", "c"]]


def test_feature_union_adds_the_char_model():
    bc = load_bench_config(get_settings().pipelines / "benchmarks.yaml")
    names = [n for n, _ in feature_union(["content"], bc.weibo21, 0).transformer_list]
    assert names == ["content", "text_model", "char_model"]
    union = feature_union(["content"], bc.ott, 0, group_column="hotel")
    steps = dict(union.transformer_list)
    assert steps["text_model"].group_column == "hotel" == steps["char_model"].group_column
    assert isinstance(steps["text_model"].ngram_range, tuple)


def test_holdout_keeps_groups_whole():
    groups = np.repeat([f"g{i}" for i in range(50)], 4)
    y = np.repeat(np.arange(50) % 2, 4)
    m = holdout_mask(groups, y, 0.2, seed=1)
    assert 0.1 < m.mean() < 0.3
    assert not set(groups[m]) & set(groups[~m])


def test_cut_exposure(tmp_path, ced_tree):
    convert("ced", ced_tree, tmp_path / "ced")
    ex = read_export(tmp_path / "ced")
    cut = cut_exposure(ex, 1)
    assert cut.get("exposure")["hour"].max() == 0
    assert len(cut.get("exposure")) == 3 and len(ex.get("exposure")) == 4
    assert cut_exposure(ex, None) is ex
    assert cut.posts is ex.posts


def test_subsample_keeps_whole_groups_and_splits():
    frame = pd.DataFrame({"account_id": np.repeat([f"a{i}" for i in range(100)], 5),
                          "split": np.tile(["train", "train", "val", "test", "test"], 100)})
    sub = subsample(frame, 100, seed=0)
    assert 100 <= len(sub) < 110
    assert (sub.groupby("account_id").size() == 5).all()
    sub = subsample(frame.assign(post_id=np.arange(500)), 100, seed=0, group="post_id",
                    stratify="split")
    assert set(sub["split"]) == {"train", "val", "test"}


def test_headline_json_shape_and_merge(tmp_path):
    path = tmp_path / "b.json"
    path.write_text(json.dumps({"ced": {"roc_auc": 0.9}, "weibo21": {"macro_f1": 0.1}}))
    res = SetResult("weibo21", headline={"macro_f1": 0.91234567, "roc_auc": float("nan")},
                    seconds={"total": 3.0, "load": 1.0})
    write_json({"weibo21": res}, path, {"quick": False})
    data = json.loads(path.read_text())
    assert list(data) == ["weibo21", "ced"]
    assert data["ced"] == {"roc_auc": 0.9}
    assert data["weibo21"]["macro_f1"] == 0.9123 and data["weibo21"]["roc_auc"] is None
    assert data["weibo21"]["seconds"] == 3.0


def test_doc_block_is_replaced_between_markers(tmp_path):
    doc = tmp_path / "b.md"
    doc.write_text(f"# B\n\nbefore\n{DOC_START}\nold\n{DOC_END}\nafter\n")
    assert update_doc(doc, "| new |")
    assert doc.read_text() == f"# B\n\nbefore\n{DOC_START}\n| new |\n{DOC_END}\nafter\n"
    plain = tmp_path / "plain.md"
    plain.write_text("no markers")
    assert not update_doc(plain, "x") and plain.read_text() == "no markers"
