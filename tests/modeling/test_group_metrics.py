"""Per-group false-positive rates with Wilson intervals and the ratio to ordinary posts."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given
from hypothesis import strategies as st

from fakeugc.features._docs import hard_groups_markdown
from fakeugc.modeling.evaluate import format_tables
from fakeugc.modeling.metrics import per_group_table, rate_with_interval


def test_group_rates_intervals_and_ratio():
    # 100 ordinary genuine (2 flagged), 20 declared (1 flagged), 10 fakes (9 flagged)
    hc = [""] * 100 + ["disclosed_partnership"] * 20 + [""] * 10
    y = [0] * 120 + [1] * 10
    p = np.zeros(130)
    p[[3, 50]] = 0.9
    p[105] = 0.9
    p[120:129] = 0.9
    frame = pd.DataFrame({"label": y, "hard_case": hc,
                          "fraud_type": [""] * 120 + ["bought_exposure"] * 10})
    out = per_group_table(frame, p, 0.5)
    o, d = out["hard_case"]["ordinary_genuine"], out["hard_case"]["disclosed_partnership"]
    assert (o["n"], o["flagged"], d["n"], d["flagged"]) == (100, 2, 20, 1)
    assert o["fpr"] == pytest.approx(0.02) and d["fpr"] == pytest.approx(0.05)
    assert d["vs_ordinary"] == pytest.approx(2.5) and o["vs_ordinary"] == pytest.approx(1.0)
    assert o["ci_low"] < 0.02 < o["ci_high"]
    assert d["ci_high"] - d["ci_low"] > o["ci_high"] - o["ci_low"]  # fewer posts, wider
    assert out["fraud_type"]["bought_exposure"]["recall"] == pytest.approx(0.9)
    text = format_tables({"overall": {"n": 130, "positives": 10, "threshold": 0.5,
                                      "roc_auc": 1, "pr_auc": 1, "precision": 1, "recall": 1,
                                      "k": 5, "precision_at_k": 1,
                                      "recall_at_precision_90": 1, "brier": 0},
                          **out})
    assert "disclosed_partnership" in text and "2.50" in text
    md = hard_groups_markdown(out["hard_case"])
    assert "| disclosed_partnership | 20 | 1 | 0.050 |" in md


def test_no_flags_on_ordinary_gives_nan_ratio():
    frame = pd.DataFrame({"label": [0, 0, 0], "hard_case": ["", "", "viral_genuine"]})
    out = per_group_table(frame, np.array([0.1, 0.1, 0.9]), 0.5)
    assert np.isnan(out["hard_case"]["viral_genuine"]["vs_ordinary"])


@given(st.integers(0, 500), st.integers(0, 500))
def test_interval_contains_the_rate(hits, extra):
    n = hits + extra
    r = rate_with_interval(hits, n)
    if n == 0:
        assert np.isnan(r["fpr"])
    else:
        assert 0.0 <= r["ci_low"] <= r["fpr"] <= r["ci_high"] <= 1.0


def test_hard_negative_weights():
    from fakeugc.modeling.config import TrainConfig
    from fakeugc.modeling.train import training_weights

    frame = pd.DataFrame({"hard_case": ["", "viral_genuine", None, "launch_burst", " "]})
    y = np.array([0, 0, 0, 1, 0])  # a fake marked as a hard case (label noise) is not up-weighted
    w = training_weights(frame, y, TrainConfig(hard_negative_weight=3.0))
    assert w.tolist() == [1.0, 3.0, 1.0, 1.0, 1.0]
    assert training_weights(frame, y, TrainConfig(hard_negative_weight=1.0)) is None
    assert training_weights(frame.drop(columns="hard_case"), y, TrainConfig()) is None
    with pytest.raises(ValueError):
        TrainConfig(hard_negative_weight=0.5)
