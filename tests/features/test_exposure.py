"""ExposureFeatures: hand-made curves with known answers, properties, chunk invariance."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from fakeugc.features._catalogue import describe
from fakeugc.features._exposure import (
    CONTEXT_COLUMNS,
    FEATURES,
    ExposureFeatures,
    exposure_context,
    exposure_keys,
)

H = pd.Timedelta(hours=1)


def one(make_frame, curve: dict, published_at=None, followers=1000, fit_on=None, **kw):
    """Features of a single post with ``curve``; fitted on ``fit_on`` or on itself."""
    post = {"post_id": "p0", "account_id": "a0"}
    if published_at is not None:
        post["published_at"] = published_at
    frame = make_frame([post], [{"account_id": "a0", "followers": followers}], {"p0": curve})
    ef = ExposureFeatures(**kw).fit(fit_on if fit_on is not None else frame)
    return ef.transform(frame).iloc[0]


# --------------------------------------------------------------------------- shape


def test_flat_plateau_is_long_and_even(make_frame):
    row = one(make_frame, {"impressions": [500] * 30})
    assert row["exp_plateau_hours"] == 30
    assert row["exp_hourly_cv"] == pytest.approx(0.0, abs=1e-12)
    assert row["exp_hours_seen"] == 30
    assert row["exp_peak_share"] == pytest.approx(1 / 30)
    assert row["exp_secondary_peaks"] == 0
    assert row["exp_max_step_ratio"] == pytest.approx(1.0)


def test_drip_has_cv_near_zero(make_frame):
    drip = [100 + (h % 3) - 1 for h in range(40)]  # 99, 100, 101, ...
    row = one(make_frame, {"impressions": drip, "likes": [5] * 40})
    assert row["exp_hourly_cv"] < 0.02
    assert row["exp_engagement_hourly_cv"] == pytest.approx(0.0, abs=1e-12)
    assert row["exp_plateau_hours"] == 40


def test_organic_rise_and_decay(make_frame, organic_curve):
    curve = organic_curve(peak=5000, peak_hour=2, hours=48, exponent=1.5)
    row = one(make_frame, {"impressions": curve})
    assert row["exp_peak_hour"] == 2
    assert 1.0 < row["exp_decay_exponent"] < 2.0
    assert row["exp_decay_fit_residual"] < 0.5
    assert row["exp_plateau_hours"] <= 2
    assert row["exp_hourly_cv"] > 1.0
    assert row["exp_share_first_3h"] > 0.5
    assert row["exp_share_first_6h"] > row["exp_share_first_3h"]


def test_plateau_decays_slower_than_organic(make_frame, organic_curve):
    organic = one(make_frame, {"impressions": organic_curve(hours=48)})
    flat = one(make_frame, {"impressions": [800] * 48})
    assert flat["exp_decay_exponent"] == pytest.approx(0.0, abs=1e-9)
    assert organic["exp_decay_exponent"] > flat["exp_decay_exponent"] + 1


def test_double_peak_is_counted(make_frame):
    curve = [100, 800, 300, 100, 50, 40, 60, 400, 500, 200, 80, 40, 20, 10]
    row = one(make_frame, {"impressions": curve})
    assert row["exp_peak_hour"] == 1
    assert row["exp_secondary_peaks"] == 1


def test_like_burst_without_impressions(make_frame, organic_curve):
    imp = organic_curve(peak=4000, hours=24)
    likes = [int(v * 0.05) for v in imp]
    normal = one(make_frame, {"impressions": imp, "likes": likes})
    burst_imp = list(imp)
    burst_likes = list(likes)
    burst_imp[10] = 0
    burst_likes[10] = 400
    burst = one(make_frame, {"impressions": burst_imp, "likes": burst_likes})
    assert normal["exp_like_excess_max"] < 2
    assert burst["exp_like_excess_max"] > 50
    assert normal["exp_like_rises_without_impressions"] == 0
    assert burst["exp_like_rises_without_impressions"] == 1
    assert normal["exp_like_rate"] == pytest.approx(sum(likes) / sum(imp))


def test_engagement_before_tier_jump(make_frame):
    imp = [30, 30, 30, 30, 3000, 2500, 2000, 1500, 1000, 800, 600, 400]
    bought = [0, 15, 15, 15, 30, 25, 20, 15, 10, 8, 6, 4]  # 50% before the jump, 1% after
    organic = [1, 1, 1, 1, 100, 80, 60, 50, 30, 25, 20, 12]  # ~3% throughout
    b = one(make_frame, {"impressions": imp, "likes": bought})
    o = one(make_frame, {"impressions": imp, "likes": organic})
    assert b["exp_max_step_ratio"] == pytest.approx(3001 / 31)
    assert b["exp_pre_jump_engagement_ratio"] > 5
    assert o["exp_pre_jump_engagement_ratio"] < 2


def test_funnel_ratios(make_frame):
    row = one(make_frame, {"impressions": [1000] * 5, "likes": [50] * 5,
                           "collects": [10] * 5, "comments": [5] * 5, "shares": [1] * 5})
    assert row["exp_like_rate"] == pytest.approx(0.05)
    assert row["exp_collect_rate"] == pytest.approx(0.01)
    assert row["exp_comment_rate"] == pytest.approx(0.005)
    assert row["exp_share_rate"] == pytest.approx(0.001)
    assert row["exp_collects_per_like"] == pytest.approx(0.2)
    assert row["exp_comments_per_like"] == pytest.approx(0.1)
    assert row["exp_log_impressions_24h"] == pytest.approx(np.log1p(5000))
    assert row["exp_log_engagement_24h"] == pytest.approx(np.log1p(5 * 66))


# --------------------------------------------------------------------------- timing


def test_night_share_at_two_in_the_morning_utc8(make_frame, t0):
    # 18:00 UTC is 02:00 in UTC+8: four hours of traffic, all before 06:00 local
    night = one(make_frame, {"impressions": [100, 100, 100, 100]}, published_at=t0 + 18 * H)
    assert night["exp_night_share"] == pytest.approx(1.0)
    # 04:00 UTC is noon in UTC+8
    noon = one(make_frame, {"impressions": [100, 100, 100, 100]}, published_at=t0 + 4 * H)
    assert noon["exp_night_share"] == pytest.approx(0.0)
    # a flat day: 6 of 24 hours are night
    day = one(make_frame, {"impressions": [100] * 24}, published_at=t0 + 4 * H)
    assert day["exp_night_share"] == pytest.approx(6 / 24)


def test_night_share_of_engagement(make_frame, t0):
    # published 20:00 UTC = 04:00 UTC+8; likes only in the first 2 hours (04:00, 05:00)
    row = one(make_frame, {"impressions": [100] * 8, "likes": [10, 10, 0, 0, 0, 0, 0, 0]},
              published_at=t0 + 20 * H)
    assert row["exp_engagement_night_share"] == pytest.approx(1.0)
    assert row["exp_night_share"] == pytest.approx(2 / 8)


# --------------------------------------------------------------------------- missing data


def test_no_exposure_table_gives_nan(make_frame):
    frame = make_frame([{"post_id": "p0", "account_id": "a0"}], [{"account_id": "a0"}])
    out = ExposureFeatures().fit(frame).transform(frame)
    assert out.isna().all().all()


def test_post_without_rows_saw_zero_hours(make_frame):
    frame = make_frame(
        [{"post_id": "p0", "account_id": "a0"}, {"post_id": "p1", "account_id": "a0"}],
        [{"account_id": "a0"}],
        {"p1": {"impressions": [5, 5]}},
    )
    out = ExposureFeatures().fit(frame).transform(frame)
    assert out.loc[0, "exp_hours_seen"] == 0
    assert out.loc[0].drop("exp_hours_seen").isna().all()
    assert out.loc[1, "exp_hours_seen"] == 2


def test_shares_only_curve_gives_what_it_can(make_frame, organic_curve):
    row = one(make_frame, {"shares": organic_curve(peak=300, hours=30)})
    for name in ("exp_peak_hour", "exp_decay_exponent", "exp_hourly_cv", "exp_night_share",
                 "exp_log_engagement_24h", "exp_engagement_hourly_cv", "exp_plateau_hours"):
        assert np.isfinite(row[name]), name
    for name in ("exp_like_rate", "exp_share_rate", "exp_log_impressions_24h",
                 "exp_impressions_z", "exp_like_excess_max", "exp_pre_jump_engagement_ratio"):
        assert np.isnan(row[name]), name


def test_short_curve_knows_its_hours(make_frame):
    row = one(make_frame, {"impressions": [40, 10]})
    assert row["exp_hours_seen"] == 2
    assert row["exp_peak_hour"] == 0
    assert np.isnan(row["exp_share_first_3h"])
    assert np.isnan(row["exp_decay_exponent"])


def test_all_zero_curve(make_frame):
    row = one(make_frame, {"impressions": [0] * 10, "likes": [0] * 10})
    assert row["exp_hours_seen"] == 10
    assert np.isnan(row["exp_peak_hour"])
    assert np.isnan(row["exp_like_rate"])
    assert row["exp_log_impressions_24h"] == 0


# --------------------------------------------------------------------------- peers, history


def _peer_frame(make_frame, n=60, level=100):
    rng = np.random.default_rng(0)
    posts, accounts, curves = [], [], {}
    for i in range(n):
        posts.append({"post_id": f"q{i}", "account_id": f"b{i}"})
        accounts.append({"account_id": f"b{i}", "followers": 5000})
        imp = (level * rng.uniform(0.7, 1.3, 30)).astype(int).tolist()
        curves[f"q{i}"] = {"impressions": imp,
                           "likes": [int(v * rng.uniform(0.02, 0.04)) for v in imp]}
    return make_frame(posts, accounts, curves)


def test_peer_baseline_by_follower_bucket(make_frame):
    train = _peer_frame(make_frame)
    hot = one(make_frame, {"impressions": [1000] * 30, "likes": [300] * 30},
              followers=5000, fit_on=train)
    usual = one(make_frame, {"impressions": [100] * 30, "likes": [3] * 30},
                followers=5000, fit_on=train)
    assert hot["exp_impressions_3h_vs_peers"] == pytest.approx(10, rel=0.25)
    assert hot["exp_impressions_z"] > 5
    assert hot["exp_like_rate_z"] > 5
    assert abs(usual["exp_impressions_z"]) < 2
    assert usual["exp_impressions_3h_vs_peers"] == pytest.approx(1, rel=0.25)
    # a bucket with no training posts falls back to the all-bucket baseline
    other = one(make_frame, {"impressions": [100] * 30}, followers=50, fit_on=train)
    assert abs(other["exp_impressions_z"]) < 2


def test_partial_curve_is_compared_at_its_own_hours(make_frame):
    train = _peer_frame(make_frame)
    early = one(make_frame, {"impressions": [100] * 5}, followers=5000, fit_on=train)
    assert abs(early["exp_impressions_z"]) < 2  # not "low" just because it is young


def test_history_uses_only_earlier_posts(make_frame, t0):
    posts = [
        {"post_id": f"h{i}", "account_id": "a0", "published_at": t0 + i * 48 * H}
        for i in range(4)
    ]
    curves = {f"h{i}": {"impressions": [100] * 24} for i in range(3)}
    curves["h3"] = {"impressions": [1000] * 24}
    frame = make_frame(posts, [{"account_id": "a0"}], curves)
    out = ExposureFeatures().fit(frame).transform(frame)
    assert np.isnan(out.loc[0, "exp_vs_account_history"])  # no earlier post
    assert out.loc[1, "exp_vs_account_history"] == pytest.approx(1.0)
    assert out.loc[2, "exp_vs_account_history"] == pytest.approx(1.0)  # h3 is later
    assert out.loc[3, "exp_vs_account_history"] == pytest.approx(10, rel=0.01)


def test_context_ignores_ties_and_incomplete_days(make_frame, t0):
    posts = [
        {"post_id": "x0", "account_id": "a0", "published_at": t0},
        {"post_id": "x1", "account_id": "a0", "published_at": t0},
        {"post_id": "x2", "account_id": "a0", "published_at": t0 + 30 * H},
        {"post_id": "x3", "account_id": "a0", "published_at": t0 + 60 * H},
    ]
    curves = {"x0": {"impressions": [10] * 24}, "x1": {"impressions": [10] * 24},
              "x2": {"impressions": [10] * 5}, "x3": {"impressions": [10] * 24}}
    frame = make_frame(posts, [{"account_id": "a0"}], curves)
    ctx = exposure_context(exposure_keys(frame))
    assert ctx.loc["x0", "ctx_exposure_hist_posts"] == 0
    assert ctx.loc["x1", "ctx_exposure_hist_posts"] == 0  # same timestamp: not earlier
    assert ctx.loc["x3", "ctx_exposure_hist_posts"] == 2  # x2 has only 5 hours


# --------------------------------------------------------------------------- protocol


def _mixed_frame(make_frame, t0, n=40):
    rng = np.random.default_rng(1)
    posts, accounts, curves = [], [], {}
    for i in range(n):
        acc = f"a{i % 7}"
        posts.append({"post_id": f"m{i}", "account_id": acc,
                      "published_at": t0 + int(rng.integers(0, 200)) * H})
        length = int(rng.integers(0, 72))
        if length:
            imp = rng.integers(0, 500, length).tolist()
            curves[f"m{i}"] = {"impressions": imp,
                               "likes": [int(v * 0.05) for v in imp]}
    for k in range(6):  # a7 is missing from accounts
        accounts.append({"account_id": f"a{k}", "followers": int(10 ** (k % 5 + 1))})
    return make_frame(posts, accounts, curves)


def test_output_contract(make_frame, t0):
    frame = _mixed_frame(make_frame, t0)
    frame.index = pd.RangeIndex(100, 100 + len(frame))
    ef = ExposureFeatures(min_peer_posts=3).fit(frame)
    out = ef.transform(frame)
    assert list(out.columns) == list(ef.get_feature_names_out())
    assert out.index.equals(frame.index)
    assert (out.dtypes == "float64").all()
    assert not np.isinf(out.to_numpy()).any()
    assert all(name.startswith("exp_") for name in out.columns)


def test_every_feature_is_in_the_catalogue():
    for name in FEATURES:
        doc = describe(name)
        assert doc is not None and doc.family == "exposure", name
        assert doc.sentence(1.5, {name: 1.5})
    assert all(c.startswith("ctx_exposure_") for c in CONTEXT_COLUMNS)


def test_chunk_invariance(make_frame, t0, chunked):
    frame = _mixed_frame(make_frame, t0)
    ef = ExposureFeatures(min_peer_posts=3).fit(frame)
    whole, parts = chunked(ef, frame, exposure_keys, exposure_context)
    pd.testing.assert_frame_equal(whole, parts)
    assert whole["exp_vs_account_history"].notna().any()


def test_clone_and_pickle(make_frame, t0):
    frame = _mixed_frame(make_frame, t0)
    ef = ExposureFeatures(night_hours=(1, 5), min_peer_posts=3)
    c = clone(ef)
    assert c.get_params() == ef.get_params()
    ef.fit(frame)
    again = pickle.loads(pickle.dumps(ef))
    pd.testing.assert_frame_equal(again.transform(frame), ef.transform(frame))


def test_transform_before_fit_raises(make_frame):
    from sklearn.exceptions import NotFittedError

    frame = make_frame([{"post_id": "p0"}])
    with pytest.raises(NotFittedError):
        ExposureFeatures().transform(frame)


# --------------------------------------------------------------------------- properties

counts = st.integers(min_value=0, max_value=10**12)
curve = st.lists(counts, min_size=0, max_size=80)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    curves=st.lists(
        st.fixed_dictionaries({}, optional={"impressions": curve, "likes": curve,
                                            "shares": curve}),
        min_size=1, max_size=5,
    ),
    hour=st.integers(0, 23),
)
def test_random_curves_never_raise(make_frame, t0, curves, hour):
    posts = [{"post_id": f"r{i}", "account_id": f"a{i % 2}", "published_at": t0 + hour * H}
             for i in range(len(curves))]
    cmap = {f"r{i}": c for i, c in enumerate(curves) if c}
    frame = make_frame(posts, [{"account_id": "a0"}], cmap if cmap else None)
    ef = ExposureFeatures(min_peer_posts=1).fit(frame)
    out = ef.transform(frame)
    assert out.shape == (len(frame), len(FEATURES))
    assert out.index.equals(frame.index)
    assert not np.isinf(out.to_numpy()).any()
    seen = out["exp_hours_seen"].to_numpy()
    assert ((seen <= 72) | np.isnan(seen)).all()


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    curves=st.lists(
        st.fixed_dictionaries({}, optional={"impressions": curve, "likes": curve,
                                            "comments": curve, "shares": curve}),
        min_size=1, max_size=8,
    ),
    hours=st.lists(st.integers(0, 23), min_size=8, max_size=8),
    followers=st.lists(st.sampled_from([None, 0, 50, 500, 5_000, 50_000, 500_000]),
                       min_size=3, max_size=3),
)
def test_fit_transform_equals_fit_then_transform(make_frame, t0, curves, hours, followers):
    """fit_transform reads the curves once; the features are those of fit, then transform
    (same bytes)."""
    posts = [{"post_id": f"r{i}", "account_id": f"a{i % 3}", "published_at": t0 + hours[i] * H}
             for i in range(len(curves))]
    # an account without a follower count has no followers key
    accounts = [{"account_id": f"a{i}", **({} if f is None else {"followers": f})}
                for i, f in enumerate(followers)]
    cmap = {f"r{i}": c for i, c in enumerate(curves) if c}
    frame = make_frame(posts, accounts, cmap if cmap else None)
    one_pass = ExposureFeatures(min_peer_posts=2)
    got = one_pass.fit_transform(frame)
    two = ExposureFeatures(min_peer_posts=2).fit(frame)
    want = two.transform(frame)
    assert list(got.columns) == list(want.columns)
    assert got.index.equals(want.index)
    assert got.to_numpy().tobytes() == want.to_numpy().tobytes()
    assert pickle.dumps(one_pass) == pickle.dumps(two)


# --------------------------------------------------------------------------- benchmark


def test_ced_benchmark_smoke(ced):
    export, frame = ced
    ef = ExposureFeatures().fit(frame)
    out = ef.transform(frame)
    assert not np.isinf(out.to_numpy()).any()
    has_curve = frame["curve_hours"].to_numpy() > 0
    assert has_curve.mean() > 0.9
    for name in ("exp_hours_seen", "exp_peak_hour", "exp_log_engagement_24h",
                 "exp_night_share", "exp_engagement_z"):
        assert out.loc[has_curve, name].notna().mean() > 0.95, name
    # CED has only shares: everything that needs impressions or likes is missing
    assert out["exp_like_rate"].isna().all()
    assert out["exp_impressions_z"].isna().all()
    labels = export.tables["labels"].set_index("post_id")["label"]
    y = labels.reindex(frame["post_id"]).to_numpy()
    means = out.groupby(y).mean()
    assert means.loc[:, out.notna().any()].std().gt(0).any()
    assert (means.loc[0] - means.loc[1]).abs().max() > 0


# --------------------------------------------------------------------------- plateau engagement


def _bump(hours, base, top, centre, width):
    return [int(base + top * np.exp(-0.5 * ((h - centre) / width) ** 2)) for h in range(hours)]


def test_bought_plateau_does_not_engage(make_frame, organic_curve):
    """Bot traffic: 14 flat hours of impressions that bring almost no likes."""
    imp = organic_curve(peak=800, peak_hour=1, hours=48, exponent=1.2)
    likes = [round(i * 0.05) for i in imp]
    for h in range(20, 34):
        imp[h] += 2000
    row = one(make_frame, {"impressions": imp, "likes": likes})
    assert row["exp_plateau_hours"] >= 14
    assert row["exp_plateau_like_rate_ratio"] < 0.2


def test_recommendation_wave_engages_like_the_rest(make_frame):
    """A viral second wave: a wide bump whose top looks flat, with likes in proportion."""
    imp = _bump(60, 50, 3000, 35, 10)
    likes = [round(i * 0.04) for i in imp]
    row = one(make_frame, {"impressions": imp, "likes": likes})
    assert row["exp_plateau_hours"] >= 3
    assert row["exp_plateau_like_rate_ratio"] == pytest.approx(1.0, abs=0.15)


def test_plateau_ratio_needs_likes_and_a_plateau(make_frame, organic_curve):
    assert np.isnan(one(make_frame, {"impressions": [500] * 30})["exp_plateau_like_rate_ratio"])
    curve = organic_curve(peak=5000, peak_hour=2, hours=48, exponent=1.5)
    row = one(make_frame, {"impressions": curve, "likes": [c // 20 for c in curve]})
    assert row["exp_plateau_hours"] < 3
    assert np.isnan(row["exp_plateau_like_rate_ratio"])


def _arrow_backed(keys: pd.DataFrame) -> pd.DataFrame:
    import pyarrow as pa

    def strings(t):
        return pd.ArrowDtype(t) if pa.types.is_string(t) else None

    return pa.Table.from_pandas(keys, preserve_index=False).to_pandas(types_mapper=strings)


@pytest.mark.parametrize("seed", [0, 1])
def test_arrow_backed_keys_give_the_same_context(seed):
    """The scorer hands the night context Arrow-backed ids (no Python object per post):
    the same values, in the same order (account codes are numbered alike)."""
    rng = np.random.default_rng(seed)
    n = 400
    keys = pd.DataFrame({
        "post_id": [f"p{i:04d}" for i in rng.permutation(n)],
        "account_id": [f"a{a}" for a in rng.integers(0, 60, n)],
        "published_at": rng.integers(0, 96, n).astype(float) * 3600.0,
        "hours_seen": rng.choice([5.0, 24.0, 72.0], n),
        "log24": np.where(rng.random(n) < 0.1, np.nan, rng.normal(5, 2, n)),
    })
    obj = exposure_context(keys)
    arrow = exposure_context(_arrow_backed(keys))
    assert isinstance(arrow.index.dtype, pd.ArrowDtype)
    assert list(arrow.index.astype(object)) == list(obj.index)
    pd.testing.assert_frame_equal(arrow.reset_index(drop=True), obj.reset_index(drop=True))


def test_seconds_of_timestamp_objects():
    """Object arrays of tz-aware Timestamps (no cache pass) give the same seconds."""
    from fakeugc.features._exposure import seconds

    ts = pd.Series([pd.Timestamp("2026-01-01 00:00:01", tz="UTC"), pd.NaT,
                    pd.Timestamp("2026-06-30 12:00:00.5", tz="UTC")])
    np.testing.assert_array_equal(seconds(ts.to_numpy(dtype=object)), seconds(ts))
    np.testing.assert_array_equal(seconds(list(ts)), seconds(ts))
