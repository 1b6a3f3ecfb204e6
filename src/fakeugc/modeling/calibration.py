"""Calibrate the booster's margin into a probability analysts can read.

Class weighting for imbalance distorts LightGBM's probabilities, so the final
score is refitted on a later time window than training: isotonic regression
when that window has enough positives, a sigmoid (Platt) otherwise.
"""

from __future__ import annotations

import numpy as np
from sklearn.isotonic import IsotonicRegression
from sklearn.linear_model import LogisticRegression

MIN_POSITIVES_FOR_ISOTONIC = 50


class MarginCalibrator:
    """Maps raw log-odds margins to calibrated probabilities."""

    def __init__(self, method: str = "auto"):
        self.method = method

    def fit(self, margin: np.ndarray, y: np.ndarray) -> MarginCalibrator:
        margin = np.asarray(margin, dtype=float)
        y = np.asarray(y, dtype=int)
        method = self.method
        if method == "auto":
            method = "isotonic" if y.sum() >= MIN_POSITIVES_FOR_ISOTONIC else "sigmoid"
        if len(np.unique(y)) < 2:
            method = "identity"
        self.method_ = method
        if method == "isotonic":
            self.model_ = IsotonicRegression(y_min=0.0, y_max=1.0, out_of_bounds="clip").fit(
                margin, y
            )
        elif method == "sigmoid":
            self.model_ = LogisticRegression(C=1e4).fit(margin.reshape(-1, 1), y)
        else:
            self.model_ = None
        return self

    def predict(self, margin: np.ndarray) -> np.ndarray:
        margin = np.asarray(margin, dtype=float)
        if self.method_ == "isotonic":
            return self.model_.predict(margin)
        if self.method_ == "sigmoid":
            return self.model_.predict_proba(margin.reshape(-1, 1))[:, 1]
        return 1.0 / (1.0 + np.exp(-margin))
