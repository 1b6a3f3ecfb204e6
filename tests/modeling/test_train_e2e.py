"""Train → register → evaluate → promote through the CLI, on a real MLflow store
(SQLite, and a real ``mlflow server`` on 127.0.0.1), and load the champion in a
fresh process."""

from __future__ import annotations

import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from unittest import mock

import pytest

from fakeugc.cli import main

FAST = ["--no-ablation"]


def _write_fast_config(path: Path, **extra) -> Path:
    import yaml

    cfg = {"lightgbm": {"n_estimators": 150, "num_threads": 2}, "text_model_splits": 3,
           "ablation": False}
    cfg.update(extra)
    path.write_text(yaml.safe_dump(cfg))
    return path


@pytest.fixture(scope="module")
def exports(tmp_path_factory):
    from fakeugc.synthetic import GeneratorConfig, generate

    out = tmp_path_factory.mktemp("platform") / "raw"
    generate(GeneratorConfig(days=12, accounts=1500, seed=11), out)
    return out


@pytest.fixture(scope="module")
def trained(exports, tmp_path_factory):
    """One model trained through the CLI into a module-wide SQLite store."""
    root = tmp_path_factory.mktemp("mlflow")
    uri = f"sqlite:///{root / 'mlflow.db'}"
    cfg = _write_fast_config(root / "train.yaml")
    with mock.patch.dict(os.environ, {"MLFLOW_TRACKING_URI": uri,
                                      "FAKEUGC_STORE": str(root / "store.sqlite")}):
        import io
        from contextlib import redirect_stdout

        buf = io.StringIO()
        with redirect_stdout(buf):
            assert main(["train", str(exports), "--model-name", "e2e", "--config", str(cfg)]) == 0
    return {"uri": uri, "root": root, "stdout": buf.getvalue(), "config": cfg}


def test_train_prints_tables_and_registers(trained, monkeypatch):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained["uri"])
    out = trained["stdout"]
    assert "fraud type" in out and "paid_intermediary" in out and "genuine group" in out
    import mlflow

    mlflow.set_tracking_uri(trained["uri"])
    client = mlflow.MlflowClient()
    champion = client.get_model_version_by_alias("e2e", "champion")
    challenger = client.get_model_version_by_alias("e2e", "challenger")
    assert str(champion.version) == str(challenger.version) == "1"
    run = client.get_run(champion.run_id)
    assert run.data.tags["code_version"] and run.data.tags["data_hash"]
    assert "test_pr_auc" in run.data.metrics and run.data.params["seed"] == "42"
    arts = {a.path for a in client.list_artifacts(champion.run_id)}
    assert {"evaluation.json", "lineage.json", "feature_importance.csv", "plots"} <= arts
    assert champion.tags["threshold"]


def test_evaluate_json(trained, exports, monkeypatch, capsys, tmp_path):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained["uri"])
    nights = sorted(exports.iterdir())[-3:]
    assert main(["evaluate", "--model", "models:/e2e@champion", *map(str, nights), "--json",
                 "--out", str(tmp_path / "eval")]) == 0
    report = json.loads(capsys.readouterr().out)
    assert report["model"]["version"] == "1"
    assert 0.5 < report["overall"]["roc_auc"] <= 1
    assert set(report["fraud_type"]) >= {"fake_account", "paid_intermediary", "bought_exposure"}
    assert "disclosed_partnership" in report["hard_case"]
    assert (tmp_path / "eval" / "plots" / "reliability.png").stat().st_size > 1000


def _fresh_process_predict(uri: str, model: str, export: Path) -> dict:
    code = f"""
import json, mlflow
from fakeugc.io import read_export
from fakeugc.features import build_post_frame
from fakeugc.modeling.pyfunc import to_model_input
mlflow.set_tracking_uri({uri!r})
m = mlflow.pyfunc.load_model({model!r})
frame = to_model_input(build_post_frame(read_export({str(export)!r})).head(40))
out = m.predict(frame)
print(json.dumps({{"n": len(out), "cols": list(out.columns),
                  "p": [float(x) for x in out["probability"]],
                  "reasons": out.loc[out["flagged"], "reasons"].tolist()}}))
"""
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST")}
    res = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         timeout=300, env=env)
    assert res.returncode == 0, res.stderr[-3000:]
    return json.loads(res.stdout.strip().splitlines()[-1])


def test_champion_loads_in_a_fresh_process(trained, exports):
    night = sorted(exports.iterdir())[-1]
    out = _fresh_process_predict(trained["uri"], "models:/e2e@champion", night)
    assert out["n"] == 40
    assert {"probability", "flagged", "reasons", "cluster_id"} <= set(out["cols"])
    assert all(0 <= p <= 1 for p in out["p"])
    for r in out["reasons"]:
        assert json.loads(r), "a flagged post has reasons in words"


def test_promotion_gate_refuses_a_worse_challenger(trained, exports, monkeypatch, capsys):
    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained["uri"])
    worse = _write_fast_config(trained["root"] / "worse.yaml",
                               families=["content"], lightgbm={"n_estimators": 3,
                                                                "num_leaves": 2})
    assert main(["train", str(exports), "--model-name", "e2e", "--config", str(worse)]) == 0
    capsys.readouterr()
    assert main(["promote", "--model-name", "e2e", "--config", str(trained["config"]),
                 "--json"]) == 0
    decision = json.loads(capsys.readouterr().out)
    assert decision["promoted"] is False and decision["challenger"] == "2"
    assert decision["challenger_score"] < decision["champion_score"]
    import mlflow

    client = mlflow.MlflowClient()
    assert str(client.get_model_version_by_alias("e2e", "champion").version) == "1"
    # forcing is possible and recorded
    assert main(["promote", "--model-name", "e2e", "--config", str(trained["config"]),
                 "--force", "--json"]) == 0
    capsys.readouterr()
    assert str(client.get_model_version_by_alias("e2e", "champion").version) == "2"
    assert main(["promote", "--model-name", "e2e", "--history", "--json"]) == 0
    hist = json.loads(capsys.readouterr().out)
    forced = [h for h in hist if h["alias"] == "champion" and h["forced"]]
    assert forced and forced[-1]["version"] == "2" and forced[-1]["previous"] == "1"
    import pandas as pd

    from fakeugc.modeling.registry import live_version_on

    moves = [pd.Timestamp(h["at"]) for h in hist if h["alias"] == "champion"]
    between = moves[0] + (moves[1] - moves[0]) / 2
    assert live_version_on(client, "e2e", between) == "1"
    assert live_version_on(client, "e2e", moves[1] + pd.Timedelta(seconds=1)) == "2"
    assert live_version_on(client, "e2e", "2000-01-01") is None


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.mark.server
@pytest.mark.slow
def test_against_a_real_mlflow_server(exports, tmp_path, monkeypatch, capsys):
    port = _free_port()
    env = dict(os.environ, MLFLOW_SERVER_ENABLE_JOB_EXECUTION="false")
    env.pop("MLFLOW_TRACKING_URI", None)
    mlflow_bin = Path(sys.executable).parent / "mlflow"
    server = subprocess.Popen(
        [str(mlflow_bin), "server", "--host", "127.0.0.1", "--port", str(port), "--workers", "1",
         "--backend-store-uri", f"sqlite:///{tmp_path / 'server.db'}",
         "--artifacts-destination", str(tmp_path / "artifacts")],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        url = f"http://127.0.0.1:{port}"
        for _ in range(120):
            try:
                if urllib.request.urlopen(url + "/health", timeout=2).status == 200:
                    break
            except OSError:
                time.sleep(0.5)
        else:
            pytest.fail("mlflow server did not answer /health")
        monkeypatch.setenv("MLFLOW_TRACKING_URI", url)
        cfg = _write_fast_config(tmp_path / "t.yaml")
        assert main(["train", str(exports), "--model-name", "srv", "--config", str(cfg)]) == 0
        assert main(["train", str(exports), "--model-name", "srv", "--config", str(cfg),
                     "--seed", "7"]) == 0
        capsys.readouterr()
        assert main(["promote", "--model-name", "srv", "--config", str(cfg), "--force",
                     "--json"]) == 0
        assert json.loads(capsys.readouterr().out)["promoted"] is True
        night = sorted(exports.iterdir())[-1]
        out = _fresh_process_predict(url, "models:/srv@champion", night)
        assert out["n"] == 40
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_reasons_quote_the_posts_own_words(trained, exports, monkeypatch):
    """A lexicon or text-model reason names the words of that post behind it."""
    import mlflow

    from fakeugc.features import build_post_frame
    from fakeugc.io import read_export
    from fakeugc.modeling.pyfunc import load_bundle

    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained["uri"])
    mlflow.set_tracking_uri(trained["uri"])
    bundle = load_bundle("models:/e2e@champion")
    frame = build_post_frame(read_export(sorted(exports.iterdir())[-1]))
    out = bundle.score(frame, reasons="all").set_index("post_id")
    ready = bundle.tokenize(frame).set_index("post_id")
    quoted = 0
    for pid, sentences, feats in zip(out.index, out["reasons"], out["reason_features"],
                                     strict=True):
        for s, f in zip(sentences, feats, strict=True):
            if "(in this post: " not in s:
                continue
            quoted += 1
            words = s.rsplit("(in this post: ", 1)[1].rstrip(")").split(", ")
            if f == "text_model_score":  # n-grams of the post's own tokens
                toks = ready.loc[pid, "tokens"]
                grams = set(toks) | {a + " " + b for a, b in zip(toks, toks[1:], strict=False)}
                assert set(words) <= grams, (pid, s)
            else:  # lexicon matches, found in the normalised text
                assert all(w in ready.loc[pid, "text_norm"] for w in words), (pid, s)
    assert quoted >= 10


def test_labelled_posts_are_scored_as_the_whole_export_reader_scores_them(trained, exports,
                                                                           monkeypatch):
    """``evaluate`` and ``promote`` read night by night through the frame cache, keep
    only labelled (or asked-for) posts, and read only the nights asked for; the
    probabilities are those of the whole-export path."""
    import mlflow
    import numpy as np

    from fakeugc.io import read_exports
    from fakeugc.modeling.data import build_night_frames
    from fakeugc.modeling.pyfunc import load_bundle
    from fakeugc.modeling.scoring_eval import score_labelled

    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained["uri"])
    mlflow.set_tracking_uri(trained["uri"])
    bundle = load_bundle("models:/e2e/1")
    lab, prob = score_labelled(bundle, [exports], workers=1)

    old = build_night_frames(read_exports([exports]), bundle.pipeline.named_steps["tokenize"],
                             bundle.families, pipeline=bundle.pipeline).labelled
    X = bundle.pipeline.named_steps["features"].transform(old)[bundle.feature_names]
    expected = bundle.calibrator.predict(bundle.margin(X.astype("float64")))
    assert lab["post_id"].tolist() == old["post_id"].tolist() and len(lab) > 100
    np.testing.assert_array_equal(prob, expected)

    nights = sorted(lab["night"].unique())[-2:]
    ids = lab.loc[lab["night"].isin(nights), "post_id"].tolist()[::3]
    some, p_some = score_labelled(bundle, [exports], post_ids=ids, nights=nights, workers=2)
    assert some["post_id"].tolist() == ids
    np.testing.assert_array_equal(p_some, prob[lab["post_id"].isin(set(ids)).to_numpy()])
    none, p_none = score_labelled(bundle, [exports], nights=["1999-01-01"])
    assert none.empty and len(p_none) == 0


def test_evaluate_runs_the_evasion_tests(trained, exports, monkeypatch, capsys):
    from fakeugc.modeling.evasion import EVASIONS

    monkeypatch.setenv("MLFLOW_TRACKING_URI", trained["uri"])
    capsys.readouterr()
    assert main(["evaluate", str(exports), "--model", "models:/e2e/1", "--evasion", "2",
                 "--json"]) == 0
    ev = json.loads(capsys.readouterr().out)["evasion"]
    assert set(ev["evasions"]) == set(EVASIONS)
    assert ev["nights"] == sorted(p.name.split("=", 1)[1] for p in exports.iterdir()
                                  if p.name.startswith("export_date="))[-2:]
    assert ev["fake_posts"] > 20 and 0 < ev["recall_before"] <= 1
    # what the normaliser removes leaves every feature, hence every score, as it was
    for kind in ("fullwidth", "zero_width", "spaces_inside_words"):
        row = ev["evasions"][kind]
        assert row["mean_logodds_change"] == 0 and row["flags_lost"] == 0, kind
        assert row["recall"] == ev["recall_before"]
    # the rest may move scores (emoji counts are a signal of their own, a reordered
    # text shingles differently) but must not take the flags away
    for kind, row in ev["evasions"].items():
        assert row["flags_lost"] <= 0.1, kind
    # the text table too
    assert main(["evaluate", str(exports), "--model", "models:/e2e/1", "--evasion", "1"]) == 0
    out = capsys.readouterr().out
    assert "evasion tests:" in out and "sentence_order" in out
