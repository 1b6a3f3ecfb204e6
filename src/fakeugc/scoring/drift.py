"""Drift of the night against the training window, accumulated bucket by bucket.

PSI needs only bucket counts over the reference's edges, and counts add up, so
each bucket adds its counts and the PSI is computed once at the end: the same
figures :func:`fakeugc.reports.drift.psi_from_reference` gives on the whole night,
without keeping the night's feature matrix.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fakeugc.reports import drift as D


def _counts(reference: Mapping, values: np.ndarray) -> np.ndarray:
    return D._bucket_counts(list(reference["edges"]), np.asarray(values, dtype="float64").ravel())


def _psi(reference: Mapping, counts: np.ndarray) -> float | None:
    n = counts.sum()
    if n == 0:
        return None
    expected = np.array([0.0, *reference["fractions"], 0.0, float(reference.get("missing", 0.0))])
    return D.psi(expected, counts / n)


class DriftCounts:
    """Histogram counts of tonight's features and scores on the reference's edges."""

    def __init__(self, reference: Mapping | None):
        self.reference = dict(reference or {})
        self.features: dict[str, np.ndarray] = {}
        self.score: np.ndarray | None = None

    def add(self, X: pd.DataFrame | None, probability: np.ndarray) -> None:
        ref_f = self.reference.get("features") or {}
        if X is not None:
            for name, ref in ref_f.items():
                if name in X.columns:
                    c = _counts(ref, X[name].to_numpy(dtype="float64"))
                    self.features[name] = self.features.get(name, 0) + c
        ref_s = self.reference.get("score")
        if ref_s:
            c = _counts(ref_s, probability)
            self.score = c if self.score is None else self.score + c

    def merge(self, other: DriftCounts) -> None:
        for k, v in other.features.items():
            self.features[k] = self.features.get(k, 0) + v
        if other.score is not None:
            self.score = other.score if self.score is None else self.score + other.score

    def to_dict(self) -> dict:
        return {"features": {k: v.tolist() for k, v in self.features.items()},
                "score": None if self.score is None else self.score.tolist()}

    @classmethod
    def from_dict(cls, reference: Mapping | None, d: Mapping) -> DriftCounts:
        out = cls(reference)
        out.features = {k: np.asarray(v, dtype="int64") for k, v in d.get("features", {}).items()}
        out.score = None if d.get("score") is None else np.asarray(d["score"], dtype="int64")
        return out

    def payload(self, reference_window: str = "") -> dict:
        """``drift.json``: PSI per signal family (mean over its features) and for the
        score, in the shape the report reads; per-feature PSI alongside."""
        ref_f = self.reference.get("features") or {}
        families = self.reference.get("families") or {}
        per_feature = {}
        for name, counts in sorted(self.features.items()):
            v = _psi(ref_f[name], counts)
            if v is not None:
                per_feature[name] = round(v, 6)
        by_family: dict[str, list[float]] = {}
        for name, v in per_feature.items():
            by_family.setdefault(families.get(name, "other"), []).append(v)
        psi = {f: round(float(np.mean(v)), 6) for f, v in sorted(by_family.items())}
        if self.score is not None:
            s = _psi(self.reference["score"], self.score)
            if s is not None:
                psi["score"] = round(s, 6)
        out = D.drift_payload(psi, reference_window)
        out["features"] = per_feature
        out["family_aggregate"] = "mean of the family's feature PSIs"
        out["max_feature_psi_by_family"] = {
            f: round(float(np.max(v)), 6) for f, v in sorted(by_family.items())}
        if not self.reference:
            out["note"] = "the model carries no training-window histograms"
        return out
