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


def test_caches_off(exports, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKEUGC_FRAME_CACHE", str(tmp_path / "cache"))
    result = train([exports], _cfg(frame_cache=False, feature_cache=False, workers=1),
                   register=False)
    assert result.frame_cache["state"] == "off" and result.frame_cache["features"] == "off"
    assert not (tmp_path / "cache").exists()
