"""A ``--quick`` benchmark run on a subsample of a shared set, through the CLI: the
JSON has the contract's keys, the AUC is sane, and the run is in MLflow."""

from __future__ import annotations

import json

import mlflow
import pytest
from mlflow import MlflowClient

from fakeugc.cli import main
from shared_paths import benchmark_path


@pytest.mark.slow
def test_quick_ced_run(tmp_path, capsys):
    data = benchmark_path("ced-weibo-rumour").parent
    out = tmp_path / "bench.json"
    (out).write_text(json.dumps({"ott": {"accuracy": 0.5}}))  # other sets are kept
    assert main(["benchmark", "ced", "--data", str(data), "--quick", "--json", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "fakeugc pipeline, all signals" in printed and "curve < 6 h" in printed
    result = json.loads(out.read_text())
    assert result["ott"] == {"accuracy": 0.5}
    ced = result["ced"]
    for key in ("roc_auc", "roc_auc_1h", "roc_auc_6h", "roc_auc_24h"):
        assert 0.7 < ced[key] <= 1.0, (key, ced[key])
    assert ced["quick"] is True and ced["folds"] == 3
    assert ced["baseline_text_lr_roc_auc"] > 0.6
    mlflow.set_tracking_uri(mlflow.get_tracking_uri())
    exp = MlflowClient().get_experiment_by_name("benchmarks")
    runs = MlflowClient().search_runs([exp.experiment_id])
    assert len(runs) == 1
    run = runs[0]
    assert run.data.tags["benchmark"] == "ced" and run.data.tags["quick"] == "True"
    assert run.data.metrics["variants.all_signals.roc_auc"] == pytest.approx(ced["roc_auc"],
                                                                           abs=1e-4)
    names = {a.path for a in MlflowClient().list_artifacts(run.info.run_id)}
    assert {"result.json", "table.csv", "predictions.parquet"} <= names


def test_unknown_set_is_refused(capsys):
    assert main(["benchmark", "imdb", "--quick"]) == 2
    assert "unknown set" in capsys.readouterr().err
