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


#: probabilities are summed as integers of this many units, so the sums (hence the
#: estimate) do not depend on how the night was cut into buckets or partitions
_UNITS = 10**9


def _units(p: np.ndarray) -> int:
    return int(np.rint(np.clip(p, 0.0, 1.0) * _UNITS).astype(np.int64).sum())


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
        #: posts, flagged posts, and the sums of the probabilities of all and of the
        #: flagged posts (in :data:`_UNITS`): the label-free estimate of :meth:`payload`
        self.sums = [0, 0, 0, 0]

    def add(self, X: pd.DataFrame | None, probability: np.ndarray,
            flagged: np.ndarray | None = None) -> None:
        p = np.asarray(probability, dtype="float64")
        ok = np.isfinite(p)
        if flagged is not None:
            f = np.asarray(flagged, dtype=bool) & ok
            self.sums = [a + b for a, b in zip(self.sums, (
                int(ok.sum()), int(f.sum()), _units(p[ok]), _units(p[f])), strict=True)]
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
        self.sums = [a + b for a, b in zip(self.sums, other.sums, strict=True)]

    def to_dict(self) -> dict:
        return {"features": {k: v.tolist() for k, v in self.features.items()},
                "score": None if self.score is None else self.score.tolist(),
                "sums": list(self.sums)}

    @classmethod
    def from_dict(cls, reference: Mapping | None, d: Mapping) -> DriftCounts:
        out = cls(reference)
        out.features = {k: np.asarray(v, dtype="int64") for k, v in d.get("features", {}).items()}
        out.score = None if d.get("score") is None else np.asarray(d["score"], dtype="int64")
        out.sums = [int(v) for v in d.get("sums", [0, 0, 0, 0])]
        return out

    def estimate(self) -> dict | None:
        """Tonight's precision as the calibrated probabilities expect it, before any
        verdict exists (confidence-based performance estimation): a flagged post with
        probability p is confirmed with chance p, so the expected precision is the mean
        probability of the flagged posts. It holds while the calibration does: a moved
        score (see the PSI) makes it a guess, and the verdicts that arrive later are the
        check.

        No recall is estimated: the calibration is fitted on *reviewed* posts, which
        report-driven review enriches with fakes, so the small probabilities of the
        unreviewed bulk overstate how many fakes it holds. On the documented platform
        the "expected recall" came out 0.73-0.77 against a true 0.93, while the
        expected precision (0.92-0.93) was within 2-4 points of the true one (docs/report.md)."""
        n, nf, _sp, spf = self.sums
        if n == 0:
            return None
        return {
            "posts": n,
            "flagged": nf,
            "expected_fake_flagged": round(spf / _UNITS, 3),
            "expected_precision": round(spf / _UNITS / nf, 6) if nf else None,
        }

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
        est = self.estimate()
        if est is not None:
            out["estimate"] = est
        return out
