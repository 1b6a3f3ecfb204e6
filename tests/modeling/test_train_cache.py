"""Retraining on the same exports: the caches are used, recorded in MLflow, and give
the very matrices (and model) a cold run gives."""

from __future__ import annotations

import numpy as np
import pytest
from mlflow import MlflowClient

from fakeugc.modeling.config import TrainConfig
from fakeugc.modeling.train import train


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    from fakeugc.synthetic import GeneratorConfig, generate

    out = tmp_path_factory.mktemp("cache-platform") / "raw"
    generate(GeneratorConfig(days=12, accounts=1500, seed=11), out)
    return out


def _cfg(**kw):
    base = {"model_name": "cache", "experiment": "cache", "ablation": False,
            "text_model_splits": 3, "lightgbm": {"n_estimators": 80}}
    base.update(kw)
    return TrainConfig.model_validate(base)


def _tags(result):
    return MlflowClient().get_run(result.run_id).data


def test_warm_runs_match_cold(exports, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKEUGC_FRAME_CACHE", str(tmp_path / "cache"))
    cold = train([exports], _cfg(), register=False, keep_matrices=True)
    assert cold.frame_cache["state"] == "miss" and cold.frame_cache["features"] == "miss"
    data = _tags(cold)
    assert data.tags["frame_cache"] == "miss" and data.tags["feature_cache"] == "miss"
    assert data.metrics["frame_cache_misses"] == 12

    # same data, split and features, another booster setting: the matrices come back
    warm = train([exports], _cfg(lightgbm={"n_estimators": 80, "num_leaves": 15}),
                 register=False, keep_matrices=True)
    assert warm.frame_cache["features"] == "hit"
    assert _tags(warm).tags["feature_cache"] == "hit"
    for w, (X, y) in cold.matrices.items():
        Xw, yw = warm.matrices[w]
        assert list(X.columns) == list(Xw.columns)
        assert X.to_numpy().tobytes() == Xw.to_numpy().tobytes()
        assert np.array_equal(y, yw)
        # one float64 block, read in place by LightGBM (no copy at every call)
        assert np.shares_memory(Xw.to_numpy(), Xw.to_numpy()) and Xw.to_numpy().dtype == float
    # the drift reference of the features comes back with the matrices
    assert warm.bundle.reference["features"] == cold.bundle.reference["features"]
    assert warm.bundle.reference["features"].keys() == set(warm.bundle.feature_names)
    # the export files' hashes are remembered, and the same
    assert (tmp_path / "cache" / "digests.json").is_file()

    # the same config again gives the same model (the ablation does not change it; its
    # last, every-family row is that model)
    again = train([exports], _cfg(ablation=True), register=False, keep_matrices=True)
    assert again.frame_cache["features"] == "hit"
    assert again.bundle.booster.model_to_string() == cold.bundle.booster.model_to_string()
    assert again.evaluation["overall"] == cold.evaluation["overall"]
    assert len(again.ablation) == len(again.bundle.families)
    last = again.ablation.iloc[-1]
    assert last["features"] == len(again.bundle.feature_names)
    assert last["pr_auc"] == pytest.approx(round(cold.evaluation["overall"]["pr_auc"], 4))
    for t, per in cold.evaluation.get("per_fraud_type", {}).items():
        if f"pr_auc_{t}" in last and per["pr_auc"] == per["pr_auc"]:
            assert last[f"pr_auc_{t}"] == pytest.approx(round(per["pr_auc"], 4))

    # another feature setting: the frames come from the cache, the features are rebuilt
    other = train([exports], _cfg(text_model_splits=2), register=False, keep_matrices=True)
    assert other.frame_cache["state"] == "hit" and other.frame_cache["features"] == "miss"
    assert _tags(other).tags["frame_cache"] == "hit"

    # a bound smaller than one run: everything but this run's own entries goes (the
    # other feature settings' matrices), and those still hit next time
    cache = tmp_path / "cache"
    assert len(list(cache.glob("features-*.pkl"))) == 2
    tiny = train([exports], _cfg(text_model_splits=2, cache_max_gib=1e-9), register=False)
    assert tiny.frame_cache["features"] == "hit"
    assert tiny.frame_cache["pruned"]["removed"] == 1
    assert len(list(cache.glob("features-*.pkl"))) == 1
    assert len(list(cache.glob("night-*.pkl"))) == 12
    again = train([exports], _cfg(text_model_splits=2, cache_max_gib=1e-9), register=False)
    assert again.frame_cache["features"] == "hit" and again.frame_cache["pruned"]["removed"] == 0


def test_caches_off(exports, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKEUGC_FRAME_CACHE", str(tmp_path / "cache"))
    result = train([exports], _cfg(frame_cache=False, feature_cache=False, workers=1),
                   register=False)
    assert result.frame_cache["state"] == "off" and result.frame_cache["features"] == "off"
    assert not (tmp_path / "cache").exists()


def test_digest_cache_follows_the_file(tmp_path, monkeypatch):
    import json
    import os

    from fakeugc.modeling import data

    real = data._hash_files
    f = tmp_path / "posts.parquet"
    f.write_bytes(b"first version")
    old = 1_700_000_000_000_000_000
    os.utime(f, ns=(old, old))
    store = tmp_path / "digests.json"
    cache = data.DigestCache(store)
    first = cache.digest(f)
    assert first == real([f])
    cache.save()
    assert list(json.loads(store.read_text())) == [str(f.resolve())]

    hashed = []
    monkeypatch.setattr(data, "_hash_files", lambda paths: hashed.append(paths) or real(paths))
    # the same file (path, size, time, inode) in a new process: remembered, not read
    assert data.DigestCache(store).digest(f) == first and hashed == []
    # rewritten in place with the same size and a later time: read again
    f.write_bytes(b"other version")
    os.utime(f, ns=(old + 10**9, old + 10**9))
    assert data.DigestCache(store).digest(f) == real([f]) != first and len(hashed) == 1
    # another size with the very time remembered: read again
    cache = data.DigestCache(store)
    f.write_bytes(b"a longer first version")
    os.utime(f, ns=(old, old))
    assert cache.digest(f) == real([f]) and len(hashed) == 2
    # a file written just now is not remembered (a second write in the same tick
    # would keep its time); a deleted file's entry goes on save
    fresh = tmp_path / "fresh.parquet"
    fresh.write_bytes(b"x")
    assert cache.digest(fresh) == real([fresh])
    f.unlink()
    cache.save()
    assert json.loads(store.read_text()) == {}


def test_prune_cache_removes_least_recently_used_first(tmp_path):
    import os

    from fakeugc.modeling.data import FrameCache, prune_cache

    cache = FrameCache(tmp_path)
    t0 = 1_700_000_000
    for i, key in enumerate("abcde"):
        cache.save(key, b"x" * 1000)
        os.utime(cache.path(key), (t0 + i, t0 + i))  # a oldest ... e newest
    (tmp_path / "digests.json").write_text("{}")
    dead = tmp_path / "night-z.pkl.123.tmp"
    dead.write_bytes(b"half")
    os.utime(dead, (t0, t0))
    assert cache.load("b") == b"x" * 1000  # a hit makes b the most recently used

    size = cache.path("a").stat().st_size
    got = prune_cache(tmp_path, max_bytes=3 * size, keep=[cache.path("a")])
    left = sorted(p.name for p in tmp_path.iterdir())
    # a is kept (this run's), c and d go (the oldest others), then e, b and a fit
    assert left == ["digests.json", "night-a.pkl", "night-b.pkl", "night-e.pkl"]
    assert got == {"removed": 3, "freed_bytes": 2 * size + 4, "bytes": 3 * size}
    assert prune_cache(tmp_path, max_bytes=0)["removed"] == 0  # 0 = no limit
    assert prune_cache(tmp_path / "nowhere", max_bytes=1)["removed"] == 0


def test_read_brands_once_per_distinct_snapshot(exports):
    from fakeugc.modeling.data import brand_vocabulary, export_inventory, read_brands

    inv = export_inventory([exports])
    every = read_brands(inv.sources)
    once = read_brands(inv.sources, inv)
    snapshots = {tuple(inv.digests[str(p)] for p in inv.files[str(s)]["brands"])
                 for s in inv.sources}
    assert len(every) == len(once) * len(inv.sources) / len(snapshots)
    assert brand_vocabulary(once) == brand_vocabulary(every)


def test_packed_frame_unpacks_to_the_same_frame():
    import pickle

    import pandas as pd

    from fakeugc.modeling.train import pack_frame, unpack_frame

    n = 400
    frame = pd.DataFrame({
        "post_id": [f"p{i}" for i in range(n)],  # all distinct: kept as it is
        "night": [f"2026-09-0{i % 3 + 1}" for i in range(n)],
        "fraud_type": [None if i % 5 else "seeding" for i in range(n)],
        "hard_case": [np.nan if i % 7 else "brand_fan" for i in range(n)],
        "split": [None if i % 2 else np.nan for i in range(n)],  # mixed missing: kept
        "label": np.arange(n) % 2 * 1.0,
        "published_at": pd.date_range("2026-09-01", periods=n, freq="min", tz="UTC"),
    }, index=pd.RangeIndex(n))
    packed = pickle.loads(pickle.dumps(pack_frame(frame), protocol=pickle.HIGHEST_PROTOCOL))
    assert packed["columns"]["night"][0] == "codes" and packed["columns"]["post_id"][0] == "column"
    assert packed["columns"]["split"][0] == "column"
    back = unpack_frame(packed)
    pd.testing.assert_frame_equal(back, frame, check_exact=True)
    for c in frame.columns:  # None stays None, NaN stays NaN
        assert [type(v) for v in back[c]] == [type(v) for v in frame[c]]


def test_dataset_digest_is_mlflows():
    import pandas as pd
    from mlflow.data.digest_utils import compute_pandas_digest

    from fakeugc.modeling.train import pandas_digest

    ids = pd.DataFrame({"post_id": [f"p{i}" for i in range(30)],
                        "night": ["2026-09-01"] * 30, "label": np.arange(30) % 2 * 1.0,
                        "split_window": ["train", None] * 15})
    assert pandas_digest(ids) == compute_pandas_digest(ids)
    assert pandas_digest(ids.fillna("x")) == compute_pandas_digest(ids.fillna("x"))


def test_a_reloaded_pipeline_shares_the_built_jieba_tokenizer():
    import pickle

    import pandas as pd
    from sklearn.pipeline import Pipeline

    from fakeugc.features._text import TokenizeText

    posts = pd.DataFrame({"title": ["好物分享"], "body": ["这款面霜真的绝绝子, 闭眼入!"]})
    step = TokenizeText(user_words=("绝绝子",)).fit(posts)
    live = Pipeline([("tokenize", step)])
    want = step.transform(posts)["tokens"].tolist()  # builds the dictionary
    again = pickle.loads(pickle.dumps(live))
    seg = again.named_steps["tokenize"].segmenter_
    assert seg._tokenizer is None  # not pickled
    assert again.transform(posts)["tokens"].tolist() == want
    assert seg._tokenizer is step.segmenter_._tokenizer  # found, not built again
    # other user words: another dictionary, never shared
    other = TokenizeText(user_words=("面霜",)).fit(posts)
    other.transform(posts)
    assert other.segmenter_._tokenizer is not step.segmenter_._tokenizer
