"""The scoring bundle: everything a trained model needs to score a post frame.

The fitted feature pipeline (with its jieba dictionary and lexicons inside),
the LightGBM booster, the calibrator and the operating threshold travel
together, so training, local scoring, Spark scoring and notebooks all score
with the same object. The MLflow pyfunc model is a thin wrapper around it.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pandas as pd

from fakeugc.features._pipeline import add_context, reason_words
from fakeugc.modeling.calibration import MarginCalibrator
from fakeugc.modeling.explain import explain_rows

CLUSTER_COLUMN = "ctx_coordination_cluster_id"

SCORE_COLUMNS = [
    "post_id", "score_raw", "probability", "threshold", "flagged", "reasons",
    "reason_features", "family_contrib", "cluster_id",
]


@dataclass
class ScoringBundle:
    pipeline: object  # fitted sklearn Pipeline: TokenizeText -> FeatureUnion
    booster: object  # lightgbm.Booster
    calibrator: MarginCalibrator
    threshold: float
    families: list[str]
    feature_names: list[str]
    top_k: int = 3
    metadata: dict = field(default_factory=dict)
    #: feature-family and score histograms of the training window, for drift (PSI)
    reference: dict = field(default_factory=dict)

    # ------------------------------------------------------------------ stages
    def tokenize(self, frame: pd.DataFrame) -> pd.DataFrame:
        return self.pipeline.named_steps["tokenize"].transform(frame)

    def with_context(self, frame: pd.DataFrame, context: pd.DataFrame | None = None):
        """Tokenized frame with night-wide context; ``context`` precomputed over the
        whole night when scoring in chunks."""
        tokens = self.tokenize(frame)
        return add_context(tokens, self.families, context, pipeline=self.pipeline)

    def features(self, frame: pd.DataFrame, context: pd.DataFrame | None = None) -> pd.DataFrame:
        ready = self.with_context(frame, context)
        X = self.pipeline.named_steps["features"].transform(ready)
        return X[self.feature_names].astype("float64")

    def margin(self, X: pd.DataFrame) -> np.ndarray:
        return self.booster.predict(X, raw_score=True, num_threads=1)

    # ------------------------------------------------------------------ scoring
    def score(
        self,
        frame: pd.DataFrame,
        context: pd.DataFrame | None = None,
        reasons: str = "flagged",
        threshold: float | None = None,
    ) -> pd.DataFrame:
        """Score a post frame: calibrated probability, flag, reasons, cluster id.

        ``reasons``: ``"flagged"`` (default; TreeSHAP only where it is read),
        ``"all"`` or ``"none"``.
        """
        thr = self.threshold if threshold is None else float(threshold)
        ready = self.with_context(frame, context)
        X = self.pipeline.named_steps["features"].transform(ready)[self.feature_names]
        X = X.astype("float64")
        raw = self.margin(X)
        prob = self.calibrator.predict(raw)
        flagged = prob >= thr
        out = pd.DataFrame(
            {
                "post_id": ready["post_id"].to_numpy(),
                "score_raw": raw,
                "probability": prob,
                "threshold": thr,
                "flagged": flagged,
            },
            index=ready.index,
        )
        out["reasons"] = [[] for _ in range(len(out))]
        out["reason_features"] = [[] for _ in range(len(out))]
        out["family_contrib"] = None
        rows = {"flagged": flagged, "all": np.ones(len(out), bool),
                "none": np.zeros(len(out), bool)}[reasons]
        if rows.any():
            picked = ready.loc[rows]
            ex = explain_rows(self.booster, X.loc[rows], self.top_k,
                              words_for=lambda feats: reason_words(self.pipeline, picked, feats))
            out.loc[rows, "reasons"] = pd.Series(ex["reasons"].to_list(), index=ex.index)
            out.loc[rows, "reason_features"] = pd.Series(
                ex["reason_features"].to_list(), index=ex.index)
            out.loc[rows, "family_contrib"] = ex["family_contrib"]
        if CLUSTER_COLUMN in ready.columns:
            cid = ready[CLUSTER_COLUMN]
            out["cluster_id"] = cid.where(cid.notna() & (cid.astype(str) != ""), None)
        else:
            out["cluster_id"] = None
        return out[SCORE_COLUMNS]
