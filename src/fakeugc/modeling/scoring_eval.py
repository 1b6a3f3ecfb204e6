"""Evaluate a registered model on labelled exports, night by night, as it would score."""

from __future__ import annotations

from pathlib import Path

import mlflow
import numpy as np

from fakeugc.modeling.data import (
    DigestCache,
    FrameCache,
    as_matrix,
    export_inventory,
    frame_cache_dir,
    plan_nights,
    prepare_nights,
    select_nights,
)
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


def score_labelled(bundle, exports, post_ids=None, nights=None, workers: int = 2):
    """Labelled posts of the exports with calibrated probabilities.

    The nights are read one by one and built as training builds them, through the
    same night-frame cache (a model evaluated on the exports it was trained on finds
    their tokenized frames there), ``workers`` processes for the nights not cached,
    and only the labelled posts (of ``post_ids``, when given) kept night by night.
    ``nights`` (night names, e.g. a model's held-out nights) limits which export
    folders are read at all."""
    sources = select_nights(exports, nights)
    tokenizer = bundle.pipeline.named_steps["tokenize"]
    cache_dir = frame_cache_dir()
    inventory = export_inventory(sources, DigestCache(cache_dir / "digests.json"))
    plan = plan_nights(sources, tokenizer, bundle.families, bundle.pipeline, inventory)
    nf, _lineage, _info = prepare_nights(
        sources, tokenizer, bundle.families, bundle.pipeline, workers=workers,
        cache=FrameCache(cache_dir), plan=plan, labelled_only=True,
        post_ids=set(post_ids) if post_ids is not None else None)
    lab = nf.labelled
    if lab.empty:
        return lab, np.zeros(0)
    X = as_matrix(bundle.pipeline.named_steps["features"].transform(lab)[bundle.feature_names])
    prob = bundle.calibrator.predict(bundle.margin(X))
    return lab, np.asarray(prob)


def evaluate_model(uri: str, exports, out: Path | None = None, k: int = 100,
                   post_ids=None, evasion_nights: int | None = None) -> dict:
    """Evaluate model ``uri`` on the labelled posts of ``exports``; with
    ``evasion_nights``, also the evasion tests (:mod:`fakeugc.modeling.evasion`) on the
    last that many nights."""
    from fakeugc.modeling.pyfunc import load_bundle

    info = resolve_model(uri)
    bundle = load_bundle(info["resolved_uri"])
    lab, prob = score_labelled(bundle, exports, post_ids)
    if lab.empty:
        raise ValueError("the exports have no labelled posts to evaluate on")
    report = evaluation_report(lab, prob, bundle.threshold, k)
    report["model"] = info
    if evasion_nights:
        from fakeugc.modeling.evasion import evasion_report

        last = sorted(lab["night"].astype(str).unique())[-evasion_nights:]
        report["evasion"] = evasion_report(bundle, exports, nights=last)
    if out is not None:
        write_report(report, Path(out))
        save_plots(lab, prob, bundle.threshold, Path(out) / "plots")
    return report
