"""PSI helpers the scorer calls to write drift.json."""

from __future__ import annotations

import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakeugc.reports import drift as D


def test_psi_of_identical_fractions_is_zero():
    f = [0.1, 0.2, 0.3, 0.4]
    assert D.psi(f, f) == 0.0
    assert D.psi([0.5, 0.5, 0.0], [0.5, 0.5, 0.0]) == 0.0


def test_psi_known_value():
    e, a = [0.5, 0.5], [0.25, 0.75]
    expected = (0.25 - 0.5) * math.log(0.25 / 0.5) + (0.75 - 0.5) * math.log(0.75 / 0.5)
    assert D.psi(e, a) == pytest.approx(expected)


@pytest.mark.parametrize(
    "e,a", [([0.5, 0.5], [1.0]), ([0.5, float("nan")], [0.5, 0.5]), ([-0.1, 1.1], [0.5, 0.5])]
)
def test_psi_rejects_bad_vectors(e, a):
    with pytest.raises(ValueError):
        D.psi(e, a)


def test_reference_of_the_same_values_gives_zero_and_a_shift_gives_an_alarm():
    rng = np.random.default_rng(0)
    ref_values = rng.normal(size=20_000)
    ref = D.reference_histogram(ref_values, bins=10)
    assert D.psi_from_reference(ref, ref_values) == 0.0
    same = D.psi_from_reference(ref, rng.normal(size=20_000))
    assert same < D.WARN
    shifted = D.psi_from_reference(ref, rng.normal(loc=1.0, size=20_000))
    assert shifted > D.ALARM
    assert D.classify(shifted) == "alarm"
    assert D.classify(same) == "ok"


def test_reference_histogram_shape_and_json():
    values = np.r_[np.arange(100, dtype=float), [np.nan] * 25]
    ref = D.reference_histogram(values, bins=4)
    assert json.loads(json.dumps(ref)) == ref  # JSON-safe: stored beside the model
    assert len(ref["edges"]) == 5 and len(ref["fractions"]) == 4
    assert ref["missing"] == pytest.approx(0.2)
    assert sum(ref["fractions"]) + ref["missing"] == pytest.approx(1.0)
    assert ref["edges"][0] == 0 and ref["edges"][-1] == 99


def test_out_of_range_and_lost_signal_are_seen():
    ref = D.reference_histogram(np.linspace(0, 1, 1000))
    assert D.psi_from_reference(ref, np.full(500, 5.0)) > D.ALARM  # out of range
    assert D.psi_from_reference(ref, np.full(500, np.nan)) > D.ALARM  # signal went missing
    assert D.psi_from_reference(ref, np.linspace(0, 1, 1000)) == 0.0


def test_constant_and_all_missing_references():
    ref = D.reference_histogram([3.0] * 50)
    assert ref["edges"] == [3.0] and ref["fractions"] == [1.0]
    assert D.psi_from_reference(ref, [3.0] * 7) == 0.0
    assert D.psi_from_reference(ref, [4.0] * 7) > D.ALARM
    empty = D.reference_histogram([np.nan, np.nan])
    assert empty["missing"] == 1.0
    assert D.psi_from_reference(empty, [np.nan]) == 0.0
    with pytest.raises(ValueError):
        D.reference_histogram([])


def test_psi_table_and_payload():
    rng = np.random.default_rng(1)
    refs = {
        "content": D.reference_histogram(rng.normal(size=5000)),
        "score": D.reference_histogram(rng.uniform(size=5000)),
    }
    table = D.psi_table(
        refs, {"content": rng.normal(2, 1, 5000), "score": rng.uniform(size=5000), "other": [1, 2]}
    )
    assert set(table) == {"content", "score"}
    payload = D.drift_payload(table, "2026-10")
    assert payload["threshold_alarm"] == D.ALARM and payload["psi"]["content"] > D.ALARM
    assert D.classify(None) == "unknown" and D.classify(0.12) == "warn"


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0, 1), min_size=2, max_size=12), st.integers(0, 2**31 - 1))
def test_psi_is_never_negative(fr, seed):
    e = np.asarray(fr) + 1e-3
    e = e / e.sum()
    a = np.random.default_rng(seed).dirichlet(np.ones(len(e)))
    assert D.psi(e, a) >= 0.0


def test_bucket_counts_add_up_over_batches():
    rng = np.random.default_rng(2)
    ref = D.reference_histogram(rng.normal(size=3000))
    night = np.r_[rng.normal(0.3, 1.2, 5000), [np.nan] * 40, [9.0, -9.0]]
    batches = np.array_split(night, 7)
    total = sum(D.bucket_counts(ref, b) for b in batches)
    assert total.sum() == night.size and total.dtype == np.int64
    assert D.psi_from_counts(ref, total) == pytest.approx(D.psi_from_reference(ref, night))
    assert D.psi_from_counts(ref, np.zeros_like(total)) is None
    with pytest.raises(ValueError):
        D.psi_from_counts(ref, [1, 2])


@settings(max_examples=60, deadline=None)
@given(seed=st.integers(0, 10_000), n=st.integers(1, 400), cuts=st.integers(1, 9))
def test_the_label_free_estimate_does_not_depend_on_the_buckets(seed, n, cuts):
    """Summed bucket by bucket (and merged across processes or Spark partitions) in any
    cut, the estimate is the same, and it is what the probabilities say directly."""
    from fakeugc.scoring.drift import DriftCounts

    rng = np.random.default_rng(seed)
    p = rng.beta(0.4, 2.0, n)
    p[rng.random(n) < 0.05] = np.nan  # a post that failed to score counts nowhere
    flagged = np.nan_to_num(p) >= 0.5
    whole = DriftCounts(None)
    whole.add(None, p, flagged)
    parts = DriftCounts(None)
    for idx in np.array_split(rng.permutation(n), cuts):
        part = DriftCounts(None)
        part.add(None, p[idx], flagged[idx])
        parts.merge(DriftCounts.from_dict(None, json.loads(json.dumps(part.to_dict()))))
    assert parts.estimate() == whole.estimate()
    est = whole.estimate()
    ok = np.isfinite(p)
    if not ok.any():
        assert est is None
        return
    assert est["posts"] == ok.sum() and est["flagged"] == flagged.sum()
    assert est["expected_fake_flagged"] == pytest.approx(p[flagged].sum(), abs=1e-3)
    if flagged.any():
        assert est["expected_precision"] == pytest.approx(p[flagged].mean(), abs=1e-6)
    else:
        assert est["expected_precision"] is None


def test_calibrated_scores_estimate_the_precision_they_will_get():
    """With labels drawn from calibrated probabilities, the estimate lands near the
    precision the verdicts then give."""
    from fakeugc.scoring.drift import DriftCounts

    rng = np.random.default_rng(7)
    p = rng.beta(0.3, 3.0, 200_000)
    y = rng.random(p.size) < p
    flagged = p >= 0.6
    d = DriftCounts(None)
    d.add(None, p, flagged)
    est = d.estimate()
    assert est["expected_precision"] == pytest.approx(y[flagged].mean(), abs=0.01)
