"""Promotion: move ``champion`` only when the challenger is better on the same
held-out window, or when forced (which is recorded)."""

from __future__ import annotations

import json
import tempfile
from dataclasses import dataclass
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd
from mlflow import MlflowClient

from fakeugc.modeling.config import PromotionConfig
from fakeugc.modeling.metrics import binary_metrics
from fakeugc.modeling.registry import CHALLENGER, CHAMPION, alias_version, move_alias
from fakeugc.settings import get_settings


@dataclass
class PromotionDecision:
    promoted: bool
    champion_before: str | None
    challenger: str | None
    metric: str
    champion_score: float | None
    challenger_score: float | None
    margin: float
    forced: bool
    reason: str

    def as_dict(self) -> dict:
        return self.__dict__.copy()


def _heldout(client: MlflowClient, run_id: str) -> tuple[list[str], list[str], list[str] | None]:
    """The challenger's training exports, its held-out (test-window) posts and their
    nights (``None`` for a run that did not record them)."""
    run = client.get_run(run_id)
    exports = json.loads(run.data.tags.get("exports", "[]"))
    with tempfile.TemporaryDirectory() as tmp:
        path = mlflow.artifacts.download_artifacts(run_id=run_id, artifact_path="heldout_posts.parquet",
                                                   dst_path=tmp)
        held = pd.read_parquet(path)
    nights = sorted(held["night"].astype(str).unique()) if "night" in held else None
    return exports, held["post_id"].tolist(), nights


def promote(name: str, cfg: PromotionConfig, force: bool = False,
            exports: list[str] | None = None) -> PromotionDecision:
    from fakeugc.modeling.pyfunc import load_bundle
    from fakeugc.modeling.scoring_eval import score_labelled

    mlflow.set_tracking_uri(get_settings().tracking_uri)
    client = MlflowClient()
    champion = alias_version(client, name, CHAMPION)
    challenger = alias_version(client, name, CHALLENGER)
    base = dict(champion_before=champion, challenger=challenger, metric=cfg.metric,
                margin=cfg.margin, forced=force)
    if challenger is None:
        return PromotionDecision(False, champion_score=None, challenger_score=None,
                                 reason="no challenger", **base)
    if challenger == champion:
        return PromotionDecision(False, champion_score=None, challenger_score=None,
                                 reason="the challenger is already champion", **base)
    mv = client.get_model_version(name, challenger)
    held_exports, ids, held_nights = _heldout(client, mv.run_id)
    held_exports = exports or held_exports
    missing = [e for e in held_exports if not Path(e).exists()]
    scores = {}
    if not missing:
        for label, version in (("champion", champion), ("challenger", challenger)):
            if version is None:
                continue
            bundle = load_bundle(f"models:/{name}/{version}")
            # only the held-out nights are read (a fraction of the training exports)
            lab, prob = score_labelled(bundle, held_exports, ids, nights=held_nights)
            y = lab["label"].to_numpy(dtype=int)
            m = binary_metrics(y, prob, bundle.threshold)
            scores[label] = m[cfg.metric]
    ch, cl = scores.get("champion"), scores.get("challenger")
    evidence = {"metric": cfg.metric, "champion": ch, "challenger": cl, "margin": cfg.margin,
                "heldout_posts": len(ids), "exports": held_exports}
    if force:
        move_alias(client, name, CHAMPION, challenger, "forced promotion", forced=True,
                   evidence=evidence)
        return PromotionDecision(True, champion_score=ch, challenger_score=cl,
                                 reason="forced", **base)
    if missing:
        return PromotionDecision(False, champion_score=None, challenger_score=None,
                                 reason=f"held-out exports not found: {missing[:2]}", **base)
    if ch is None or (cl is not None and np.isfinite(cl) and cl >= ch + cfg.margin):
        move_alias(client, name, CHAMPION, challenger,
                   f"challenger {cfg.metric} {cl:.4f} >= champion {ch if ch is None else round(ch, 4)}"
                   f" + margin {cfg.margin}", evidence=evidence)
        return PromotionDecision(True, champion_score=ch, challenger_score=cl,
                                 reason="challenger better on the held-out window", **base)
    return PromotionDecision(False, champion_score=ch, challenger_score=cl,
                             reason=f"challenger {cfg.metric} {cl:.4f} is not above champion "
                                    f"{ch:.4f} + margin {cfg.margin}", **base)
