"""Evaluate a registered model on labelled exports, night by night, as it would score."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np

from fakeugc.io import read_exports
from fakeugc.modeling.data import build_night_frames
from fakeugc.modeling.evaluate import evaluation_report, save_plots, write_report
from fakeugc.settings import get_settings


def resolve_model(uri: str) -> dict:
    """Resolve ``models:/NAME@alias`` to a concrete version once."""
    mlflow.set_tracking_uri(get_settings().tracking_uri)
    client = mlflow.MlflowClient()
    info = {"uri": uri, "name": None, "version": None, "run_id": None}
    if uri.startswith("models:/") and "@" in uri:
        name, alias = uri[len("models:/"):].split("@", 1)
        mv = client.get_model_version_by_alias(name, alias)
        info.update(name=name, version=str(mv.version), run_id=mv.run_id,
                    resolved_uri=f"models:/{name}/{mv.version}")
    elif uri.startswith("models:/"):
        name, version = uri[len("models:/"):].split("/", 1)
        mv = client.get_model_version(name, version)
        info.update(name=name, version=str(mv.version), run_id=mv.run_id, resolved_uri=uri)
    else:
        info["resolved_uri"] = uri
    return info


def score_labelled(bundle, exports, post_ids=None):
    """Labelled posts of the exports with calibrated probabilities."""
    export = read_exports(exports)
    nf = build_night_frames(export, bundle.pipeline.named_steps["tokenize"], bundle.families,
                            pipeline=bundle.pipeline)
    lab = nf.labelled
    if post_ids is not None:
        lab = lab[lab["post_id"].isin(set(post_ids))].reset_index(drop=True)
    X = bundle.pipeline.named_steps["features"].transform(lab)[bundle.feature_names]
    prob = bundle.calibrator.predict(bundle.margin(X.astype("float64")))
    return lab, np.asarray(prob)


def evaluate_model(uri: str, exports, out: Path | None = None, k: int = 100,
                   post_ids=None) -> dict:
    from fakeugc.modeling.pyfunc import load_bundle

    info = resolve_model(uri)
    bundle = load_bundle(info["resolved_uri"])
    lab, prob = score_labelled(bundle, exports, post_ids)
    if lab.empty:
        raise ValueError("the exports have no labelled posts to evaluate on")
    report = evaluation_report(lab, prob, bundle.threshold, k)
    report["model"] = info
    if out is not None:
        write_report(report, Path(out))
        save_plots(lab, prob, bundle.threshold, Path(out) / "plots")
    return report
