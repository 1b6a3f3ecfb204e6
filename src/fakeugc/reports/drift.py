"""Population stability index (PSI): how far tonight moved from the training window.

The scorer calls :func:`reference_histogram` on the training window (once per
model, stored beside it), then :func:`psi_from_reference` on each night's values,
and writes the figures to ``drift.json``; the report colours them with
:func:`classify`.

PSI = sum over bins of (actual - expected) * ln(actual / expected). Rule of
thumb (and the defaults here): below 0.1 stable, 0.1-0.25 worth a look
(``warn``), 0.25 and above the population has moved (``alarm``): distrust the
model until it is checked.

Bins are quantiles of the reference, so each holds about the same share of the
training window; values below the reference's minimum or above its maximum, and
missing values, get their own buckets, so a night that moves out of the
training range or loses a signal is seen, not folded into the outer bins.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence

import numpy as np

#: default PSI thresholds
WARN = 0.1
ALARM = 0.25
#: floor for an empty bucket (a zero would make the logarithm infinite)
EPS = 1e-4


def psi(
    expected_fractions: Sequence[float], actual_fractions: Sequence[float], eps: float = EPS
) -> float:
    """PSI between two vectors of bucket fractions over the same buckets.

    Empty buckets are floored at ``eps``. Identical vectors give exactly 0.
    """
    e = np.asarray(expected_fractions, dtype="float64")
    a = np.asarray(actual_fractions, dtype="float64")
    if e.shape != a.shape or e.ndim != 1:
        raise ValueError(
            f"PSI needs two 1-d vectors of the same length, got {e.shape} and {a.shape}"
        )
    if not (np.isfinite(e).all() and np.isfinite(a).all()):
        raise ValueError("PSI fractions must be finite")
    if (e < 0).any() or (a < 0).any():
        raise ValueError("PSI fractions must be >= 0")
    e = np.maximum(e, eps)
    a = np.maximum(a, eps)
    return float(np.sum((a - e) * np.log(a / e)))


def _clean(values) -> np.ndarray:
    return np.asarray(values, dtype="float64").ravel()


def reference_histogram(values, bins: int = 10) -> dict:
    """Quantile bins of the reference (training-window) values.

    Returns ``{"edges": [...], "fractions": [...], "missing": f, "n": n}``:
    ``edges`` are the distinct quantiles (first = minimum, last = maximum),
    ``fractions[i]`` the share of all values in ``[edges[i], edges[i+1])`` (the
    last bin closed; a single edge means one bin holding that value), and
    ``missing`` the share of NaN or infinite values. ``sum(fractions) + missing == 1``. JSON-safe.
    """
    if bins < 1:
        raise ValueError("bins must be >= 1")
    v = _clean(values)
    n = int(v.size)
    if n == 0:
        raise ValueError("reference_histogram needs at least one value")
    finite = v[np.isfinite(v)]
    missing = float((n - finite.size) / n)
    if finite.size == 0:
        return {"edges": [], "fractions": [], "missing": missing, "n": n}
    edges = np.unique(np.quantile(finite, np.linspace(0.0, 1.0, bins + 1)))
    ref = {"edges": [float(x) for x in edges], "fractions": [], "missing": missing, "n": n}
    counts = _bucket_counts(ref["edges"], v)
    # counts = [below, bins..., above, missing]; below/above are empty for the reference
    ref["fractions"] = [float(c / n) for c in counts[1:-2]]
    return ref


def _bucket_counts(edges: Sequence[float], values: np.ndarray) -> np.ndarray:
    """Counts in [below, bin_0..bin_k-1, above, missing] for the reference edges."""
    edges = np.asarray(edges, dtype="float64")
    v = values
    nan = ~np.isfinite(v)  # NaN and +-inf: missing (no bin can hold them)
    k = max(len(edges) - 1, 1) if len(edges) else 0
    out = np.zeros(k + 3, dtype="int64")
    out[-1] = int(nan.sum())
    x = v[~nan]
    if len(edges) == 0:
        # the reference had no values at all: everything present is "out of range"
        out[-2] = x.size
        return out
    lo, hi = edges[0], edges[-1]
    below = x < lo
    above = x > hi
    out[0] = int(below.sum())
    out[-2] = int(above.sum())
    inside = x[~below & ~above]
    if len(edges) == 1:
        out[1] = inside.size
    else:
        idx = np.searchsorted(edges[1:-1], inside, side="right")
        out[1 : 1 + k] = np.bincount(idx, minlength=k)[:k]
    return out


def bucket_counts(reference: Mapping, values) -> np.ndarray:
    """Counts of ``values`` in the reference's buckets, as int64:
    ``[below the minimum, bin_0 … bin_k-1, above the maximum, missing]``.

    Counts add up, so a scorer working in batches sums them and calls
    :func:`psi_from_counts` once: the same figure as :func:`psi_from_reference`
    on the whole night.
    """
    return _bucket_counts(list(reference["edges"]), _clean(values))


def _expected(reference: Mapping) -> np.ndarray:
    edges = list(reference["edges"])
    fr = list(reference["fractions"])
    if edges and len(fr) != max(len(edges) - 1, 1):
        raise ValueError("reference histogram: fractions do not match edges")
    return np.array([0.0, *fr, 0.0, float(reference.get("missing", 0.0))])


def psi_from_counts(reference: Mapping, counts) -> float | None:
    """PSI of summed :func:`bucket_counts` against the reference (``None`` for no values)."""
    c = np.asarray(counts, dtype="float64")
    expected = _expected(reference)
    if c.shape != expected.shape:
        raise ValueError(f"expected {expected.size} bucket counts, got {c.size}")
    n = c.sum()
    if n <= 0:
        return None
    return psi(expected, c / n)


def psi_from_reference(reference: Mapping, values) -> float:
    """PSI of ``values`` against a histogram made by :func:`reference_histogram`."""
    v = _clean(values)
    if v.size == 0:
        raise ValueError("psi_from_reference needs at least one value")
    return psi_from_counts(reference, bucket_counts(reference, v))


def psi_table(references: Mapping[str, Mapping], current: Mapping[str, object]) -> dict[str, float]:
    """PSI for every name present in both ``references`` and ``current`` (e.g. per family)."""
    return {
        name: round(psi_from_reference(references[name], current[name]), 6)
        for name in references
        if name in current
    }


def classify(value: float | None, warn: float = WARN, alarm: float = ALARM) -> str:
    """``ok`` / ``warn`` / ``alarm`` (``unknown`` for a missing or non-finite value)."""
    if value is None:
        return "unknown"
    try:
        x = float(value)
    except (TypeError, ValueError):
        return "unknown"
    if math.isnan(x):
        return "unknown"
    if x >= alarm:
        return "alarm"
    if x >= warn:
        return "warn"
    return "ok"


def drift_payload(
    psi_by_name: Mapping[str, float],
    reference_window: str = "",
    warn: float = WARN,
    alarm: float = ALARM,
) -> dict:
    """The ``drift.json`` document the report reads."""
    return {
        "psi": {k: float(v) for k, v in psi_by_name.items()},
        "reference_window": reference_window,
        "threshold_warn": warn,
        "threshold_alarm": alarm,
    }
