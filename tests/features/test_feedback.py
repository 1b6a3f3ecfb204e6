"""FeedbackFeatures: report counts, reasons, timing, the account's earlier reports."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from fakeugc.features._catalogue import describe
from fakeugc.features._feedback import (
    CONTEXT_COLUMNS,
    FEATURES,
    FeedbackFeatures,
    feedback_context,
    feedback_keys,
)

H = pd.Timedelta(hours=1)


def feats(frame):
    return FeedbackFeatures().fit(frame).transform(frame)


def test_reports_on_the_post(make_frame, t0):
    frame = make_frame(
        [{"post_id": "p0", "account_id": "a0", "published_at": t0},
         {"post_id": "p1", "account_id": "a1", "published_at": t0}],
        curves={"p0": {"impressions": [1000, 1000]}, "p1": {"impressions": [10]}},
        reports=[("p0", t0 + 5 * H, "spam"), ("p0", t0 + 2 * H, "fake_review"),
                 ("p0", t0 + 9 * H, "fake_review"), ("p0", t0 + 3 * H, "rude"),
                 ("p0", t0 + 4 * H, None)],
    )
    out = feats(frame)
    r = out.loc[0]
    assert r["fb_reports"] == 5
    assert r["fb_reports_fake_review"] == 2
    assert r["fb_reports_spam"] == 1
    assert r["fb_reports_undisclosed_ad"] == 0
    assert r["fb_reports_other"] == 2  # "rude" and no reason
    assert r["fb_report_reasons_distinct"] == 3
    assert r["fb_hours_to_first_report"] == pytest.approx(2)
    assert r["fb_reports_per_1k_impressions"] == pytest.approx(2.5)
    # a post with no reports in an export that has the table: zeros, not NaN
    q = out.loc[1]
    assert q["fb_reports"] == 0 and q["fb_reports_spam"] == 0
    assert q["fb_reports_per_1k_impressions"] == 0
    assert np.isnan(q["fb_hours_to_first_report"])


def test_no_reports_table_gives_nan(make_frame):
    frame = make_frame([{"post_id": "p0"}, {"post_id": "p1"}],
                       curves={"p0": {"impressions": [5]}})
    assert feats(frame).isna().all().all()


def test_empty_reports_table_gives_zero(make_frame):
    frame = make_frame([{"post_id": "p0"}], reports=[])
    out = feats(frame).iloc[0]
    assert out["fb_reports"] == 0
    assert out["fb_account_prev_reports"] == 0
    assert np.isnan(out["fb_reports_per_1k_impressions"])  # no curve


def test_account_history_counts_only_earlier_posts(make_frame, t0):
    posts = [
        {"post_id": "e0", "account_id": "a0", "published_at": t0},
        {"post_id": "e1", "account_id": "a0", "published_at": t0 + 10 * H},
        {"post_id": "e2", "account_id": "a0", "published_at": t0 + 20 * H},
        {"post_id": "e3", "account_id": "a0", "published_at": t0 + 20 * H},  # tie with e2
        {"post_id": "o0", "account_id": "b0", "published_at": t0 + 30 * H},
    ]
    reports = [
        ("e0", t0 + 1 * H, "undisclosed_ad"), ("e0", t0 + 2 * H, "undisclosed_ad"),
        ("e1", t0 + 11 * H, "spam"),
        ("e2", t0 + 21 * H, "fake_review"),
        ("o0", t0 + 31 * H, "spam"),
    ]
    out = feats(make_frame(posts, reports=reports))
    assert out["fb_account_prev_posts"].tolist() == [0, 1, 2, 2, 0]
    assert out["fb_account_prev_reports"].tolist() == [0, 2, 3, 3, 0]
    assert out["fb_account_prev_reports_undisclosed_ad"].tolist() == [0, 2, 2, 2, 0]
    assert out["fb_account_prev_reports_spam"].tolist() == [0, 0, 1, 1, 0]
    assert out["fb_account_prev_reports_fake_review"].tolist() == [0, 0, 0, 0, 0]
    assert np.isnan(out.loc[0, "fb_account_prev_reported_share"])
    assert out.loc[2, "fb_account_prev_reported_share"] == pytest.approx(1.0)


def _night(make_frame, t0, n=40):
    rng = np.random.default_rng(5)
    posts = [{"post_id": f"p{i}", "account_id": f"a{i % 6}",
              "published_at": t0 + int(rng.integers(0, 100)) * H} for i in range(n)]
    reasons = ["fake_review", "undisclosed_ad", "spam", "other", None]
    reports = [(f"p{int(rng.integers(0, n))}", t0 + int(rng.integers(0, 150)) * H,
                reasons[int(rng.integers(0, 5))]) for _ in range(60)]
    curves = {f"p{i}": {"impressions": rng.integers(0, 300, 10).tolist()} for i in range(0, n, 2)}
    return make_frame(posts, curves=curves, reports=reports)


def test_output_contract_and_catalogue(make_frame, t0):
    frame = _night(make_frame, t0)
    frame.index = pd.RangeIndex(3, 3 + len(frame))
    ff = FeedbackFeatures()
    out = ff.fit(frame).transform(frame)
    assert list(out.columns) == list(ff.get_feature_names_out())
    assert out.index.equals(frame.index)
    assert (out.dtypes == "float64").all()
    assert not np.isinf(out.to_numpy()).any()
    by_reason = out[[f"fb_reports_{r}" for r in ("fake_review", "undisclosed_ad", "spam",
                                                 "other")]].sum(axis=1)
    assert (by_reason == out["fb_reports"]).all()
    for name in FEATURES:
        doc = describe(name)
        assert doc is not None and doc.family == "feedback" and name.startswith("fb_")
        assert doc.sentence(3.0, {name: 3.0})
    assert all(c.startswith("ctx_feedback_") for c in CONTEXT_COLUMNS)


def test_chunk_invariance(make_frame, t0, chunked):
    frame = _night(make_frame, t0)
    whole, parts = chunked(FeedbackFeatures(), frame, feedback_keys, feedback_context, cut=13)
    pd.testing.assert_frame_equal(whole, parts)
    assert whole["fb_account_prev_reports"].gt(0).any()


def test_clone_and_pickle(make_frame, t0):
    frame = _night(make_frame, t0)
    ff = FeedbackFeatures()
    assert clone(ff).get_params() == {}
    ff.fit(frame)
    again = pickle.loads(pickle.dumps(ff))
    pd.testing.assert_frame_equal(again.transform(frame), ff.transform(frame))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    n_posts=st.integers(1, 6),
    reports=st.one_of(
        st.none(),
        st.lists(st.tuples(st.integers(0, 5), st.integers(-100, 10_000),
                           st.one_of(st.none(), st.text(max_size=12),
                                     st.sampled_from(["spam", "fake_review"]))),
                 max_size=15),
    ),
    imp=st.lists(st.integers(0, 10**12), max_size=72),
)
def test_random_reports_never_raise(make_frame, t0, n_posts, reports, imp):
    posts = [{"post_id": f"p{i}", "account_id": f"a{i % 2}", "published_at": t0 + i * H}
             for i in range(n_posts)]
    reps = None
    if reports is not None:
        reps = [(f"p{p % n_posts}", t0 + h * H, r) for p, h, r in reports]
    frame = make_frame(posts, curves={"p0": {"impressions": imp}} if imp else None,
                       reports=reps)
    out = FeedbackFeatures().transform(frame)
    assert out.shape == (n_posts, len(FEATURES))
    assert out.index.equals(frame.index)
    assert not np.isinf(out.to_numpy()).any()
    gap, excess = out["fb_report_view_gap"].dropna(), out["fb_report_burst_excess"].dropna()
    assert ((gap >= 0) & (gap <= 1)).all() and (excess >= 0).all()
    assert (excess <= out.loc[excess.index, "fb_reports"]).all()
    if reports is None:
        assert out.isna().all().all()
    else:
        assert out["fb_reports"].notna().all()


def _views(hours=48, peak_hour=1):
    return [int(5000 / (1 + abs(h - peak_hour)) ** 1.5) for h in range(hours)]


def test_reports_that_follow_views_are_not_a_burst(make_frame, t0):
    """Viewers report while they view: report times follow the impression curve."""
    imp = _views()
    frame = make_frame(
        [{"post_id": "p0", "account_id": "a0", "published_at": t0}],
        curves={"p0": {"impressions": imp}},
        reports=[("p0", t0 + pd.Timedelta(minutes=m), "fake_review")
                 for m in (40, 70, 95, 130, 200)],
    )
    r = feats(frame).iloc[0]
    assert r["fb_report_view_gap"] < 0.35
    assert r["fb_report_burst_excess"] < 2.5


def test_report_brigade_is_a_burst_views_do_not_explain(make_frame, t0):
    """Ten reports inside one hour, a day after the views died down."""
    frame = make_frame(
        [{"post_id": "p0", "account_id": "a0", "published_at": t0}],
        curves={"p0": {"impressions": _views()}},
        reports=[("p0", t0 + 30 * H + pd.Timedelta(minutes=5 * i), "spam") for i in range(10)],
    )
    r = feats(frame).iloc[0]
    assert r["fb_report_view_gap"] > 0.9
    assert r["fb_report_burst_excess"] > 9.0
    assert "brigade" in describe("fb_report_burst_excess").sentence(9.9, {}, towards_fake=False)


def test_report_timing_needs_two_reports_and_views(make_frame, t0):
    frame = make_frame(
        [{"post_id": "p0", "account_id": "a0", "published_at": t0},
         {"post_id": "p1", "account_id": "a1", "published_at": t0}],
        curves={"p0": {"impressions": _views()}},
        reports=[("p0", t0 + 2 * H, "spam"), ("p1", t0 + 2 * H, "spam"),
                 ("p1", t0 + 3 * H, "spam")],
    )
    out = feats(frame)
    assert out[["fb_report_view_gap", "fb_report_burst_excess"]].isna().all().all()


@pytest.mark.parametrize("seed", [0, 1])
def test_arrow_backed_keys_give_the_same_context(seed):
    """The scorer hands the night context Arrow-backed ids (no Python object per post):
    the same values, in the same order."""
    import pyarrow as pa

    rng = np.random.default_rng(seed)
    n = 300
    data = {
        "post_id": [f"p{i:04d}" for i in rng.permutation(n)],
        "account_id": [f"a{a}" for a in rng.integers(0, 40, n)],
        "published_at": rng.integers(0, 48, n).astype(float) * 3600.0,
        "reports": np.where(rng.random(n) < 0.1, np.nan, rng.integers(0, 4, n)),
    }
    for r in ("fake_review", "undisclosed_ad", "spam", "other"):
        data[f"reports_{r}"] = rng.integers(0, 2, n).astype(float)
    keys = pd.DataFrame(data)
    table = pa.Table.from_pandas(keys, preserve_index=False)
    arrow_keys = table.to_pandas(
        types_mapper=lambda t: pd.ArrowDtype(t) if pa.types.is_string(t) else None)
    obj = feedback_context(keys)
    arrow = feedback_context(arrow_keys)
    assert isinstance(arrow.index.dtype, pd.ArrowDtype)
    assert list(arrow.index.astype(object)) == list(obj.index)
    pd.testing.assert_frame_equal(arrow.reset_index(drop=True), obj.reset_index(drop=True))
