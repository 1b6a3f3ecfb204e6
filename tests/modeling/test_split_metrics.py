"""Splits, calibration, thresholds, metrics and the registry's alias log."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakeugc.modeling.calibration import MarginCalibrator
from fakeugc.modeling.config import SplitConfig, load_config
from fakeugc.modeling.metrics import binary_metrics, choose_threshold, per_group_table
from fakeugc.modeling.split import account_groups, assign_split


def _frame(n_days=20, per_day=30, seed=0):
    rng = np.random.default_rng(seed)
    rows = []
    for d in range(n_days):
        for i in range(per_day):
            acc = f"a{rng.integers(0, 120)}"
            rows.append({
                "post_id": f"p{d}-{i}", "account_id": acc,
                "published_at": pd.Timestamp("2026-10-01", tz="UTC") + pd.Timedelta(days=d, hours=4),
                "ctx_coordination_cluster_id": f"c{rng.integers(0, 5)}" if rng.random() < 0.1 else None,
            })
    return pd.DataFrame(rows)


def test_split_keeps_time_order_and_groups_apart():
    f = _frame()
    split = assign_split(f, SplitConfig(), seed=3)
    f["split"] = split
    groups = account_groups(f)
    f["group"] = groups
    train_groups = set(f.loc[f["split"] == "train", "group"])
    eval_groups = set(f.loc[f["split"].isin(["valid", "calibration", "test"]), "group"])
    assert train_groups and eval_groups and not (train_groups & eval_groups)
    train_acc = set(f.loc[f["split"] == "train", "account_id"])
    test_acc = set(f.loc[f["split"] == "test", "account_id"])
    assert not (train_acc & test_acc)
    last = {w: f.loc[f["split"] == w, "published_at"] for w in ("train", "valid", "calibration", "test")}
    assert last["train"].max() < last["valid"].min() <= last["valid"].max() < last["calibration"].min()
    assert last["calibration"].max() < last["test"].min()


def test_clusters_join_accounts_into_one_group():
    f = pd.DataFrame({"account_id": ["a", "b", "c", "d"],
                      "ctx_coordination_cluster_id": ["x", "x", None, "y"]})
    g = account_groups(f)
    assert g[0] == g[1] and g[2] != g[0] and g[3] != g[0]


def test_only_clusters_that_cross_a_time_window_join_accounts():
    f = pd.DataFrame({"account_id": ["a", "b", "c", "d"],
                      "ctx_coordination_cluster_id": ["x", "x", "y", "y"]})
    g = account_groups(f, window=np.array(["train", "train", "train", "test"]))
    assert g[0] != g[1]  # x lives in one window: its accounts stay apart
    assert g[2] == g[3]  # y reaches two windows: one group, one side


def _roster_campaigns(n_days=40, campaigns=30, roster=40, per_campaign=8, seed=0):
    """An intermediary's campaigns: each a one-day cluster written by accounts
    drawn from one roster, so every campaign shares accounts with others."""
    rng = np.random.default_rng(seed)
    rows = []
    for c in range(campaigns):
        day = int(rng.integers(0, n_days))
        for i, acc in enumerate(rng.choice(roster, per_campaign, replace=False)):
            rows.append({"post_id": f"c{c}-{i}", "account_id": f"r{acc}",
                         "published_at": pd.Timestamp("2026-10-01 04:00", tz="UTC")
                         + pd.Timedelta(days=day),
                         "ctx_coordination_cluster_id": f"camp{c}"})
    for d in range(n_days):  # ordinary posts, so every day exists
        for i in range(20):
            rows.append({"post_id": f"o{d}-{i}", "account_id": f"o{rng.integers(0, 400)}",
                         "published_at": pd.Timestamp("2026-10-01 04:00", tz="UTC")
                         + pd.Timedelta(days=d), "ctx_coordination_cluster_id": None})
    return pd.DataFrame(rows)


@settings(max_examples=15, deadline=None)
@given(st.integers(0, 10_000))
def test_a_roster_intermediary_reaches_both_sides_without_sharing_an_account(seed):
    f = _roster_campaigns(seed=seed % 50)
    split = assign_split(f, SplitConfig(), seed=seed)
    camp = f["post_id"].str.startswith("c").to_numpy()
    # the roster is not one group: campaign posts are trained on and evaluated on
    assert (split[camp] == "train").any()
    assert split[camp].isin(["valid", "calibration", "test"]).any()
    train_acc = set(f.loc[split == "train", "account_id"])
    eval_acc = set(f.loc[split.isin(["valid", "calibration", "test"]), "account_id"])
    assert not (train_acc & eval_acc)
    # no cluster has posts on both sides
    sides = pd.DataFrame({"c": f["ctx_coordination_cluster_id"],
                          "side": np.where(split == "train", "t",
                                           np.where(split == "unused", "u", "e"))})
    used = sides[sides["c"].notna() & (sides["side"] != "u")]
    assert (used.groupby("c")["side"].nunique() <= 1).all()


def test_split_config_must_sum_to_one_and_unknown_keys_fail(tmp_path):
    with pytest.raises(ValueError):
        SplitConfig(train=0.9, valid=0.2, calibration=0.1, test=0.1)
    p = tmp_path / "t.yaml"
    p.write_text("model_name: x\nlightgbm:\n  num_leavs: 3\n")
    with pytest.raises(ValueError, match="num_leavs"):
        load_config(p)
    p.write_text("model_name: x\n")
    cfg = load_config(p, {"seed": 9, "lightgbm.num_leaves": 7})
    assert cfg.seed == 9 and cfg.lightgbm.num_leaves == 7 and cfg.model_name == "x"


@settings(max_examples=30, deadline=None)
@given(st.integers(0, 10_000))
def test_isotonic_calibration_is_monotone_and_bounded(seed):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=400)
    y = (rng.random(400) < 1 / (1 + np.exp(-2 * m))).astype(int)
    cal = MarginCalibrator("isotonic").fit(m, y)
    grid = np.linspace(-5, 5, 50)
    p = cal.predict(grid)
    assert np.all(np.diff(p) >= -1e-12) and p.min() >= 0 and p.max() <= 1


def test_calibration_fixes_a_shifted_margin():
    rng = np.random.default_rng(1)
    true = rng.normal(-2, 1.5, 20000)
    y = (rng.random(20000) < 1 / (1 + np.exp(-true))).astype(int)
    shifted = true + 2.0  # what class weighting does to a margin
    cal = MarginCalibrator("sigmoid").fit(shifted, y)
    p = cal.predict(shifted)
    assert abs(p.mean() - y.mean()) < 0.01
    assert abs((1 / (1 + np.exp(-shifted))).mean() - y.mean()) > 0.1


def test_threshold_policies():
    rng = np.random.default_rng(0)
    y = (rng.random(2000) < 0.1).astype(int)
    p = np.clip(y * 0.6 + rng.random(2000) * 0.5, 0, 1)
    t = choose_threshold(y, p, "precision", target_precision=0.9)
    assert binary_metrics(y, p, t)["precision"] >= 0.9
    days = np.repeat(np.arange(10), 200)
    t2 = choose_threshold(y, p, "capacity", daily_capacity=20, days=days)
    per_day = [(p[days == d] >= t2).sum() for d in range(10)]
    assert 10 <= np.median(per_day) <= 30


def test_per_group_rates():
    f = pd.DataFrame({"label": [1, 1, 0, 0, 0, 0],
                      "fraud_type": ["fake_account", "paid_intermediary", "", "", "", ""],
                      "hard_case": ["", "", "launch_burst", "launch_burst", "", ""]})
    p = np.array([0.9, 0.1, 0.8, 0.1, 0.1, 0.1])
    t = per_group_table(f, p, 0.5)
    assert t["fraud_type"]["fake_account"]["recall"] == 1.0
    assert t["fraud_type"]["paid_intermediary"]["recall"] == 0.0
    assert t["hard_case"]["launch_burst"]["fpr"] == 0.5
    assert t["hard_case"]["ordinary_genuine"]["fpr"] == 0.0


def test_a_presence_sentence_is_not_a_reason_at_zero():
    """"0 other accounts posted paraphrases" may push towards fake (0 against missing),
    but its sentence would be false: the next contributor is shown instead."""
    import lightgbm as lgb

    from fakeugc.modeling.explain import explain_rows

    rng = np.random.default_rng(0)
    n = 600
    X = pd.DataFrame({"coord_cluster_other_accounts": rng.choice([np.nan, 0.0], n),
                      "content_hype_terms": rng.integers(0, 4, n).astype(float)})
    y = ((~np.isnan(X["coord_cluster_other_accounts"])) & (rng.random(n) < 0.7)
         | (X["content_hype_terms"] >= 2)).astype(int)
    booster = lgb.train({"objective": "binary", "verbose": -1, "min_data_in_leaf": 5,
                         "num_threads": 1}, lgb.Dataset(X, y), num_boost_round=20)
    zero = X[X["coord_cluster_other_accounts"] == 0].head(50)
    ex = explain_rows(booster, zero, top_k=2)
    assert all("coord_cluster_other_accounts" not in f for f in ex["reason_features"])
    assert any("content_hype_terms" in f for f in ex["reason_features"])
    # the same contribution counts in the family totals
    assert any('"coordination"' in j for j in ex["family_contrib"])
