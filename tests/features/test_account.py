"""AccountFeatures: per-account values, bio markers, night context, protocol."""

from __future__ import annotations

import pickle

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from fakeugc.features._account import (
    CONTEXT_COLUMNS,
    FEATURES,
    AccountFeatures,
    account_context,
    account_keys,
    bio_features,
)
from fakeugc.features._catalogue import describe

H = pd.Timedelta(hours=1)
D = pd.Timedelta(days=1)


def feats(frame):
    return AccountFeatures().fit(frame).transform(frame)


def test_basic_account_values(make_frame, t0):
    frame = make_frame(
        [{"post_id": "p0", "account_id": "a0", "published_at": t0}],
        [{"account_id": "a0", "created_at": t0 - 10 * D, "followers": 99, "following": 9,
          "posts_total": 30, "verified": True, "is_brand": False, "bio": "hello"}],
    )
    row = feats(frame).iloc[0]
    assert row["acct_age_days"] == pytest.approx(10)
    assert row["acct_log_followers"] == pytest.approx(np.log1p(99))
    assert row["acct_log_following"] == pytest.approx(np.log1p(9))
    assert row["acct_follower_ratio"] == pytest.approx(10)
    assert row["acct_posts_per_day"] == pytest.approx(3)
    assert row["acct_verified"] == 1
    assert row["acct_is_brand"] == 0
    assert row["acct_bio_length"] == 5
    assert row["acct_bio_contact_markers"] == 0
    assert row["acct_posts_in_export"] == 1
    assert row["acct_posts_prev_24h"] == 0
    assert np.isnan(row["acct_hours_since_prev_post"])


def test_brand_new_account_posts_per_day_uses_one_day(make_frame, t0):
    frame = make_frame(
        [{"post_id": "p0", "account_id": "a0", "published_at": t0}],
        [{"account_id": "a0", "created_at": t0 - 2 * H, "posts_total": 6}],
    )
    row = feats(frame).iloc[0]
    assert row["acct_age_days"] == pytest.approx(2 / 24)
    assert row["acct_posts_per_day"] == pytest.approx(6)


def test_unknown_account_gives_nan_account_values(make_frame):
    frame = make_frame(
        [{"post_id": "p0", "account_id": "ghost"}, {"post_id": "p1", "account_id": "a1"}],
        [{"account_id": "a1", "device_cluster": "d1", "bio": "微信 abc",
          "verified": False, "is_brand": False}],
    )
    out = feats(frame)
    table_features = [f for f in FEATURES if f not in (
        "acct_posts_in_export", "acct_posts_prev_24h", "acct_hours_since_prev_post",
        "acct_promo_share")]
    assert out.loc[0, table_features].isna().all()
    assert out.loc[1, table_features].notna().all()
    # what the posts table itself shows stays observed
    assert out.loc[0, "acct_posts_in_export"] == 1


def test_no_accounts_table(make_frame):
    frame = make_frame([{"post_id": "p0", "account_id": "a0"}])
    out = feats(frame)
    assert out.loc[0, "acct_log_followers":"acct_device_cluster_accounts"].isna().all()


def test_device_cluster_shared_by_four_accounts(make_frame):
    posts = [{"post_id": f"p{i}", "account_id": f"a{i}"} for i in range(6)]
    posts.append({"post_id": "p6", "account_id": "a0"})  # second post: still 4 accounts
    accounts = [{"account_id": f"a{i}", "device_cluster": "dc1"} for i in range(4)]
    accounts += [{"account_id": "a4", "device_cluster": "dc2"}, {"account_id": "a5"}]
    out = feats(make_frame(posts, accounts))
    assert out["acct_device_cluster_accounts"].tolist()[:5] == [4, 4, 4, 4, 1]
    assert np.isnan(out.loc[5, "acct_device_cluster_accounts"])
    assert out.loc[6, "acct_device_cluster_accounts"] == 4


def test_posting_rate_looks_only_backwards(make_frame, t0):
    times = [0, 1, 2, 30, 30, 100]
    posts = [{"post_id": f"p{i}", "account_id": "a0", "published_at": t0 + h * H}
             for i, h in enumerate(times)]
    posts.append({"post_id": "q", "account_id": "b0", "published_at": t0 + 1 * H})
    out = feats(make_frame(posts, [{"account_id": "a0"}, {"account_id": "b0"}]))
    assert out["acct_posts_prev_24h"].tolist() == [0, 1, 2, 0, 0, 0, 0]
    gaps = out["acct_hours_since_prev_post"].tolist()
    assert np.isnan(gaps[0]) and gaps[1:6] == [1, 1, 28, 28, 70]
    assert np.isnan(gaps[6])
    assert out["acct_posts_in_export"].tolist() == [6] * 6 + [1]


def test_promo_share(make_frame):
    posts = [
        {"post_id": "p0", "account_id": "a0", "brand_tags": ["b1"]},
        {"post_id": "p1", "account_id": "a0", "brand_tags": []},
        {"post_id": "p2", "account_id": "a0", "brand_tags": [], "disclosed_partnership": True},
        {"post_id": "p3", "account_id": "a0", "brand_tags": []},
        {"post_id": "p4", "account_id": "a1"},  # nothing known
    ]
    out = feats(make_frame(posts, [{"account_id": "a0"}, {"account_id": "a1"}]))
    assert out.loc[0, "acct_promo_share"] == pytest.approx(0.5)
    assert np.isnan(out.loc[4, "acct_promo_share"])


@pytest.mark.parametrize(
    "bio, markers, digits, emoji",
    [
        ("油皮护肤日常分享", 0, 0, 0),
        ("合作请加微信 abc123", 1, 3, 0),
        ("ＶＸ：１３８ ００１３ ８０００", 1, 11, 0),
        ("+V 看主页", 2, 0, 0),
        ("加薇👉 wx_beauty", 2, 0, 0),
        ("微😊信同号", 1, 0, 0),
        ("📱1️⃣3️⃣8️⃣", 0, 3, 4),
        ("①③⑧⓪⓪①③", 0, 7, 0),
        ("电话 一三八幺二三四五六七八", 1, 11, 0),
    ],
)
def test_bio_contact_markers(bio, markers, digits, emoji):
    length, m, d, e = bio_features(bio)
    assert length == len(bio)
    assert (m, d, e) == (markers, digits, emoji)


def test_bio_missing_is_nan_and_empty_is_zero():
    assert all(np.isnan(v) for v in bio_features(None))
    assert bio_features("") == (0.0, 0.0, 0.0, 0.0)


# --------------------------------------------------------------------------- protocol


def _night(make_frame, t0, n=50):
    rng = np.random.default_rng(3)
    posts = [
        {"post_id": f"p{i}", "account_id": f"a{i % 9}",
         "published_at": t0 + int(rng.integers(0, 96)) * H,
         "brand_tags": ["b"] if i % 3 == 0 else []}
        for i in range(n)
    ]
    accounts = [
        {"account_id": f"a{k}", "device_cluster": f"d{k % 3}" if k < 7 else None,
         "bio": "VX 1234567" if k % 2 else None, "followers": 10 ** (k % 5)}
        for k in range(8)  # a8 has no row
    ]
    return make_frame(posts, accounts)


def test_output_contract_and_catalogue(make_frame, t0):
    frame = _night(make_frame, t0)
    frame.index = pd.RangeIndex(7, 7 + len(frame))
    af = AccountFeatures()
    out = af.fit(frame).transform(frame)
    assert list(out.columns) == list(af.get_feature_names_out())
    assert out.index.equals(frame.index)
    assert (out.dtypes == "float64").all()
    assert not np.isinf(out.to_numpy()).any()
    for name in FEATURES:
        doc = describe(name)
        assert doc is not None and doc.family == "account" and name.startswith("acct_")
        assert doc.sentence(2.0, {name: 2.0})
    assert all(c.startswith("ctx_account_") for c in CONTEXT_COLUMNS)


def test_unfitted_transform_works(make_frame, t0):
    frame = _night(make_frame, t0)
    pd.testing.assert_frame_equal(AccountFeatures().transform(frame), feats(frame))


def test_chunk_invariance(make_frame, t0, chunked):
    frame = _night(make_frame, t0)
    whole, parts = chunked(AccountFeatures(), frame, account_keys, account_context, cut=17)
    pd.testing.assert_frame_equal(whole, parts)
    assert whole["acct_posts_prev_24h"].gt(0).any()


def test_clone_and_pickle(make_frame, t0):
    frame = _night(make_frame, t0)
    af = AccountFeatures()
    assert clone(af).get_params() == {}
    af.fit(frame)
    again = pickle.loads(pickle.dumps(af))
    pd.testing.assert_frame_equal(again.transform(frame), af.transform(frame))


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(
    rows=st.lists(
        st.tuples(st.integers(0, 4), st.integers(0, 1000), st.booleans()),
        min_size=1, max_size=12,
    ),
    accounts=st.lists(
        st.fixed_dictionaries(
            {"followers": st.integers(0, 10**12), "following": st.integers(0, 10**9),
             "posts_total": st.integers(0, 10**9), "age_hours": st.integers(-48, 10**6)},
            optional={"bio": st.text(max_size=40), "device_cluster": st.sampled_from(["x", "y"]),
                      "verified": st.booleans()},
        ),
        min_size=0, max_size=5,
    ),
)
def test_random_accounts_never_raise(make_frame, t0, rows, accounts):
    posts = [{"post_id": f"p{i}", "account_id": f"a{a}", "published_at": t0 + h * H,
              "brand_tags": ["b"] if promo else []}
             for i, (a, h, promo) in enumerate(rows)]
    accs = []
    for k, a in enumerate(accounts):
        a = dict(a)
        a["created_at"] = t0 - a.pop("age_hours") * H
        accs.append({"account_id": f"a{k}", **a})
    frame = make_frame(posts, accs if accs else None)
    out = AccountFeatures().transform(frame)
    assert out.shape == (len(frame), len(FEATURES))
    assert out.index.equals(frame.index)
    assert not np.isinf(out.to_numpy()).any()
    assert (out["acct_posts_prev_24h"] < out["acct_posts_in_export"]).all()


def test_ced_benchmark_smoke(ced):
    export, frame = ced
    out = AccountFeatures().transform(frame)
    known = frame["account_known"].to_numpy()
    assert known.mean() > 0.9
    for name in ("acct_age_days", "acct_log_followers", "acct_log_following",
                 "acct_follower_ratio", "acct_posts_per_day", "acct_verified"):
        assert np.isfinite(out.loc[known, name]).all(), name
    assert out["acct_posts_in_export"].ge(1).all()
    # CED has no bio or device cluster: missing, not invented
    assert out["acct_bio_length"].isna().all()
    assert out["acct_device_cluster_accounts"].isna().all()
    y = export.tables["labels"].set_index("post_id")["label"].reindex(frame["post_id"])
    means = out.groupby(y.to_numpy()).mean()
    assert (means.loc[0] - means.loc[1]).abs()["acct_log_followers"] > 0.1


def _random_account_keys(n: int, seed: int) -> pd.DataFrame:
    rng = np.random.default_rng(seed)
    dc = np.array([None, "", "d0", "d1", "d2", "d3"], dtype=object)[rng.integers(0, 6, n)]
    dc = np.where(dc == "", None, dc)
    promo = rng.choice([0.0, 1.0, np.nan], n)
    return pd.DataFrame({
        "post_id": [f"p{i:04d}" for i in rng.permutation(n)],
        "account_id": [f"a{a}" for a in rng.integers(0, n // 3 + 1, n)],
        "published_at": rng.integers(0, 72, n).astype(float) * 1800.0,  # ties on purpose
        "device_cluster": dc,
        "promo": promo,
    })


def _arrow_backed(keys: pd.DataFrame) -> pd.DataFrame:
    import pyarrow as pa

    def strings(t):
        return pd.ArrowDtype(t) if pa.types.is_string(t) else None

    return pa.Table.from_pandas(keys, preserve_index=False).to_pandas(types_mapper=strings)


@pytest.mark.parametrize("seed", [0, 1, 2])
def test_arrow_backed_keys_give_the_same_context(seed):
    """The scorer hands the night context Arrow-backed string columns (no Python object
    per post); the values are the same as from object columns, and device-cluster sizes
    are the distinct accounts per cluster."""
    keys = _random_account_keys(300, seed)
    obj = account_context(keys)
    arrow = account_context(_arrow_backed(keys))
    assert isinstance(arrow.index.dtype, pd.ArrowDtype)
    assert list(arrow.index.astype(object)) == list(obj.index)
    pd.testing.assert_frame_equal(arrow.reset_index(drop=True), obj.reset_index(drop=True))
    known = keys["device_cluster"].notna().to_numpy()
    sizes = keys.loc[known].groupby("device_cluster")["account_id"].nunique()
    expected = np.full(len(keys), np.nan)
    expected[known] = keys.loc[known, "device_cluster"].map(sizes).to_numpy(dtype=float)
    np.testing.assert_array_equal(obj["ctx_account_device_cluster_accounts"].to_numpy(),
                                  expected)
