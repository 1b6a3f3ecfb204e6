"""CoordinationFeatures: template clusters, bursts, crews, invariance, properties."""

from __future__ import annotations

import pickle
import random

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from fakeugc.features._catalogue import describe
from fakeugc.features._coordination import (
    CTX_COLUMNS,
    FEATURES,
    CoordinationFeatures,
    assign_clusters,
    brand_terms_from_table,
    coordination_context,
    coordination_keys,
    extract_hashtags,
)
from fakeugc.features._minhash import minhash_signatures, pair_similarity, shingle_arrays
from fakeugc.features._text import Segmenter, TokenizeText, normalise_text

H = pd.Timedelta(hours=1)
D = pd.Timedelta(days=1)
T0 = pd.Timestamp("2026-11-24T00:00:00Z")

# --------------------------------------------------------------------------- text makers

BRIEF = [
    "姐妹们，这款{b}面霜真的超好用！",
    "我是油皮，用了一周皮肤水水润润的。",
    "质地很轻薄，一抹就化开，完全不油腻。",
    "性价比超高，学生党也能闭眼入。",
    "已经无限回购了，强烈推荐给大家！",
    "包装也很好看，放在梳妆台上颜值超高。",
]
SWAPS = [
    ("姐妹们", ["集美们", "宝子们"]),
    ("超好用", ["巨好使", "好用", "超级好用"]),
    ("水水润润", ["很滋润", "特别水润"]),
    ("闭眼入", ["冲", "闭眼冲"]),
    ("强烈推荐", ["墙裂安利", "疯狂安利"]),
    ("无限回购", ["回购无数次"]),
    ("很轻薄", ["超轻薄", "特别轻薄"]),
    ("性价比超高", ["性价比很高", "超级划算"]),
]
FILLER = ["今天天气不错心情很好。", "周末去商场顺便买的。", "最近熬夜有点多。", "室友也在用。", ""]

WHEN = ["早上起床", "下班回家", "周末宅家", "出门旅行", "健身之后", "开会之前",
        "约会那天", "熬夜加班后", "换季的时候", "考试周", "搬家以后", "刚洗完澡",
        "午休时", "通勤路上", "在宿舍", "去海边"]
DID = ["随手拿起", "试着用了一下", "认真对比了", "仔细研究了", "特地翻出", "第一次尝试",
       "给妈妈也试了", "和闺蜜分着用", "拍照记录了", "看了看成分", "查了价格",
       "用手背试了", "连续用了几天", "挤了一点"]
THING = ["面霜", "精华", "防晒", "口红", "粉底液", "洗面奶", "眼霜", "身体乳", "面膜",
         "卸妆油", "护手霜"]
FELT = ["感觉还不错", "说实话一般", "有点出乎意料", "和宣传差不多", "没有想象中好",
        "效果慢慢出来了", "暂时看不出变化", "不太喜欢这个味道", "手感挺舒服", "有点粘手",
        "吸收得挺快", "价格有点劝退", "包装很用心", "物流有点慢", "分量挺足的",
        "颜色比图片深", "质感很高级", "有点小失望"]
SKIN = ["我是混干皮，T区容易出油。", "敏感肌，换季容易泛红。", "大油皮一枚。",
        "干皮，冬天会起皮。", "痘肌，最近在爆痘。", "熟龄肌，主要想抗老。",
        "男生，平时不太护肤。", "中性皮，没啥大问题。"]


def template_text(rng: random.Random, brand: str) -> str:
    """One brief rewritten the way a crew does: 替换近义词、调整语序, a personal filler."""
    out = []
    for s in BRIEF:
        s = s.format(b=brand)
        for old, new in SWAPS:
            if old in s and rng.random() < 0.6:
                s = s.replace(old, rng.choice(new))
        out.append(s)
    rng.shuffle(out)
    out.insert(rng.randrange(len(out) + 1), rng.choice(FILLER))
    return "".join(out)


def organic_text(rng: random.Random, brand: str) -> str:
    """A varied genuine review: personal detail, few shared phrases."""
    parts = [f"{rng.choice(WHEN)}{rng.choice(DID)}{brand}的{rng.choice(THING)}，"
             f"{rng.choice(FELT)}。" for _ in range(rng.randint(3, 5))]
    parts.insert(rng.randrange(len(parts) + 1), rng.choice(SKIN))
    return "".join(parts)


def posts_frame(rows: list[dict], devices: dict | None = None, brand_tags: bool = True):
    """A post frame as build_post_frame gives it (accounts joined when ``devices``)."""
    from fakeugc.features._frame import build_post_frame

    df = pd.DataFrame(rows)
    df["published_at"] = pd.to_datetime(df["published_at"], utc=True)
    for c in ("title", "body"):
        if c not in df:
            df[c] = ""
    if brand_tags and "brand_tags" not in df:
        df["brand_tags"] = None
    if not brand_tags and "brand_tags" in df:
        df = df.drop(columns="brand_tags")
    tables = {"posts": df}
    if devices is not None:
        accs = sorted(set(df["account_id"]))
        tables["accounts"] = pd.DataFrame({
            "account_id": accs,
            "created_at": T0 - 400 * D,
            "followers": 100, "following": 10, "posts_total": 10,
            "device_cluster": [devices.get(a) for a in accs],
        })
    return build_post_frame(tables)


def campaign_rows(rng, n=12, brand="bx", start=T0, days=3.0, prefix="t", tags=None):
    rows = []
    for i in range(n):
        body = template_text(rng, "雪肌")
        if tags:
            body += " " + " ".join(f"#{t}[话题]#" for t in tags)
        rows.append({"post_id": f"{prefix}{i:02d}", "account_id": f"{prefix}acct{i:02d}",
                     "published_at": start + days * D * i / max(n - 1, 1), "body": body,
                     "brand_tags": [brand]})
    return rows


def organic_rows(rng, n, brand, start=T0, days=3.0, prefix="o", tagged=True):
    return [{"post_id": f"{prefix}{i:03d}", "account_id": f"{prefix}acct{i:03d}",
             "published_at": start + D * rng.uniform(0, days), "body": organic_text(rng, brand),
             "brand_tags": [brand] if tagged else []} for i in range(n)]


def fitted(frame, **kw):
    return CoordinationFeatures(**kw).fit(frame)


@pytest.fixture(scope="module")
def night():
    """12-account template campaign on brand bx + 40 varied organic posts, 3 days."""
    rng = random.Random(7)
    rows = campaign_rows(rng, tags=["护肤", "面霜推荐"])
    rows += organic_rows(rng, 40, "某某", prefix="o")
    for i, r in enumerate(rows[12:]):
        r["brand_tags"] = [f"b{i % 4}"]
    return TokenizeText().fit_transform(posts_frame(rows))


# --------------------------------------------------------------------------- clusters


def test_template_cluster_survives_reordering_and_synonyms(night):
    cf = fitted(night)
    feats, ids = cf.transform_with_clusters(night)
    camp = night["post_id"].str.startswith("t").to_numpy()
    camp_ids = ids[camp]
    assert camp_ids.notna().all()
    assert camp_ids.nunique() == 1
    cid = camp_ids.iloc[0]
    assert cid.startswith("c-bx-")
    assert (ids == cid).sum() >= 10
    assert (feats.loc[camp, "coord_cluster_size"] >= 10).all()
    assert (feats.loc[camp, "coord_cluster_other_accounts"] >= 9).all()
    assert (feats.loc[camp, "coord_cluster_is_template"] == 1).all()
    assert (feats.loc[camp, "coord_cluster_brand_purity"] == 1).all()
    assert (feats.loc[camp, "coord_cluster_span_days"] <= 3.0 + 1e-9).all()
    assert (feats.loc[camp, "coord_max_similarity"] >= 0.5).all()
    # exact matching finds (much) less: the rewritten texts are mostly unique
    exact_groups = night.loc[camp, "text_norm"].value_counts()
    assert exact_groups.max() < 10
    assert feats.loc[camp, "coord_exact_copy_accounts"].max() < 9
    # the varied organic posts stay out of big clusters
    org = ~camp
    assert (feats.loc[org, "coord_cluster_size"].fillna(1) <= 2).all()
    assert (feats.loc[org, "coord_cluster_is_template"].fillna(0) == 0).all()
    assert not ids[org].isin([cid]).any()
    # shared hashtag set: the other 11 crew accounts
    assert (feats.loc[camp, "coord_hashtag_set_accounts"] == 11).all()


def test_synonym_map_and_reordering_give_the_same_shingles():
    seg = Segmenter()
    texts = ["这款面霜超好用！已经无限回购了！", "已经回购无数次了！这款面霜巨好使！",
             "这个面霜好用！已经回购了！"]
    toks = [seg.cut(normalise_text(t)) for t in texts]
    post, sh = shingle_arrays(toks, shingle_size=2)
    sets = [set(sh[post == i].tolist()) for i in range(len(texts))]
    assert sets[0] == sets[1] == sets[2]


def test_minhash_estimates_jaccard():
    rng = np.random.default_rng(0)
    base = rng.choice(2**32, size=400, replace=False).astype(np.uint64)
    sets, exact = [], []
    for keep in (400, 300, 200, 100):  # Jaccard 0.5, 0.67, 0.33, 0 against the last set
        sets.append(np.sort(base[:keep]))
    sets.append(np.sort(base[100:300]))
    post = np.concatenate([np.full(len(x), i) for i, x in enumerate(sets)])
    sig, counts = minhash_signatures(post, np.concatenate(sets), len(sets), num_perm=256)
    assert counts.tolist() == [len(x) for x in sets]
    last = len(sets) - 1
    for i in range(last):
        a, b = set(sets[i].tolist()), set(sets[last].tolist())
        exact.append(len(a & b) / len(a | b))
    est = pair_similarity(sig, np.arange(last), np.full(last, last), threshold=0.0)
    assert np.allclose(est, exact, atol=0.1)


def test_same_account_near_duplicates_are_not_a_cross_account_cluster():
    rng = random.Random(3)
    rows = [{"post_id": f"s{i}", "account_id": "solo", "published_at": T0 + i * H,
             "body": template_text(rng, "雪肌"), "brand_tags": ["bx"]} for i in range(6)]
    frame = posts_frame(rows)
    feats, ids = fitted(frame).transform_with_clusters(frame)
    assert ids.isna().all()
    assert (feats["coord_cluster_size"] == 1).all()
    assert (feats["coord_cluster_other_accounts"] == 0).all()
    assert (feats["coord_max_similarity"] == 0).all()
    assert (feats["coord_exact_copy_accounts"] == 0).all()
    # one other account posting the brief joins them into a 2-account cluster
    rows.append({"post_id": "x", "account_id": "other", "published_at": T0 + 2 * H,
                 "body": template_text(rng, "雪肌"), "brand_tags": ["bx"]})
    frame = posts_frame(rows)
    feats, ids = fitted(frame).transform_with_clusters(frame)
    assert ids.notna().all() and ids.nunique() == 1
    assert (feats["coord_cluster_other_accounts"] == 1).all()
    assert (feats["coord_cluster_size"] == 7).all()


def test_posts_further_apart_than_the_window_do_not_cluster():
    rng = random.Random(5)
    a, b = template_text(rng, "雪肌"), template_text(rng, "雪肌")
    far = posts_frame([
        {"post_id": "p1", "account_id": "a1", "published_at": T0, "body": a},
        {"post_id": "p2", "account_id": "a2", "published_at": T0 + 10 * D, "body": b},
    ])
    near = far.copy()
    near.loc[1, "published_at"] = T0 + 3 * D
    ids_far = fitted(far, window_days=7).cluster_ids(far)
    ids_near = fitted(near, window_days=7).cluster_ids(near)
    assert ids_far.isna().all()
    assert ids_near.notna().all() and ids_near.nunique() == 1
    assert fitted(far, window_days=14).cluster_ids(far).notna().all()


def test_cluster_ids_do_not_depend_on_row_order_or_chunking(night, chunked):
    cf = fitted(night)
    ids = cf.cluster_ids(night).set_axis(night["post_id"])
    shuffled = night.sample(frac=1.0, random_state=1).reset_index(drop=True)
    ids_shuf = cf.cluster_ids(shuffled).set_axis(shuffled["post_id"])
    pd.testing.assert_series_equal(ids.sort_index(), ids_shuf.sort_index())
    # chunks: keys per chunk, context once over the concatenated keys
    whole, parts = chunked(cf, shuffled, coordination_keys, coordination_context, cut=17)
    pd.testing.assert_frame_equal(whole, parts)
    keys = pd.concat([coordination_keys(shuffled.iloc[:17]), coordination_keys(shuffled.iloc[17:])])
    ctx = coordination_context(keys)
    chunk_ids = pd.concat([cf.cluster_ids(p.join(ctx, on="post_id"))
                           for p in (shuffled.iloc[:17], shuffled.iloc[17:])])
    pd.testing.assert_series_equal(chunk_ids.set_axis(shuffled["post_id"]).sort_index(),
                                   ids.sort_index())
    via_keys = assign_clusters(keys)
    pd.testing.assert_series_equal(via_keys.sort_index(), ids.sort_index(), check_names=False)


def test_context_is_indexed_by_post_id_with_prefixed_columns(night):
    ctx = coordination_context(coordination_keys(night))
    assert list(ctx.columns) == list(CTX_COLUMNS)
    assert all(c.startswith("ctx_coordination_") for c in ctx.columns)
    assert ctx.index.name == "post_id"
    assert sorted(ctx.index) == sorted(night["post_id"])
    keys = coordination_keys(night)
    assert "body" not in keys.columns and "text_norm" not in keys.columns
    assert isinstance(keys["minhash"].iloc[0], bytes) and len(keys["minhash"].iloc[0]) == 64 * 4


# --------------------------------------------------------------------------- bursts


def test_launch_burst_of_varied_posts_is_a_burst_not_a_campaign():
    rng = random.Random(11)
    # training: brands L and bx are small (6 posts in 30 days), b0 steady at 10 a day
    train_rows = []
    for i, brand in enumerate(["L"] * 6 + ["bx"] * 6 + ["b0"] * 300):
        train_rows.append({"post_id": f"tr{i}", "account_id": f"tra{i}",
                           "published_at": T0 - 40 * D + D * rng.uniform(0, 30),
                           "body": organic_text(rng, "品牌"), "brand_tags": [brand]})
    train = posts_frame(train_rows)
    # the night: a launch of L (30 varied posts in 2 days) and a crew campaign on bx
    rows = organic_rows(rng, 30, "新品", days=2.0, prefix="l")
    for r in rows:
        r["brand_tags"] = ["L"]
    rows += campaign_rows(rng, n=12, brand="bx", days=2.0)
    rows += organic_rows(rng, 20, "日常", days=2.0, prefix="g")
    for r in rows[-20:]:
        r["brand_tags"] = ["b0"]
    frame = posts_frame(rows)
    cf = CoordinationFeatures().fit(train)
    assert cf.brand_rates_["L"] == pytest.approx(6 / cf.fit_span_days_)
    feats = cf.transform(frame).set_axis(frame["post_id"])
    burst = cf.brand_burst(frame).set_axis(frame["post_id"])
    assert "coord_brand_burst_ratio" not in feats.columns  # a burst alone is not evidence
    launch = feats[feats.index.str.startswith("l")]
    crew = feats[feats.index.str.startswith("t")]
    assert burst[launch.index].median() > 5
    assert launch["coord_brand_homogeneity"].max() < 0.15
    assert launch["coord_cluster_size"].max() <= 2
    assert crew["coord_brand_homogeneity"].min() > 0.8
    assert crew["coord_burst_homogeneity"].min() > 3 * launch["coord_burst_homogeneity"].max()
    # the steady brand is not bursting
    steady = feats[feats.index.str.startswith("g")]
    assert burst[steady.index].median() < 3


# --------------------------------------------------------------------------- crews and devices


def test_co_targeting_crew_and_device_sharing():
    rng = random.Random(2)
    rows = []
    crew = [f"crew{i}" for i in range(5)]
    for k, (brand, day) in enumerate([("b1", 0), ("b2", 10), ("b3", 20)]):
        for i, a in enumerate(crew):
            rows.append({"post_id": f"c{k}{i}", "account_id": a,
                         "published_at": T0 + (day + i * 0.3) * D,
                         "body": organic_text(rng, "x"), "brand_tags": [brand]})
    # a bystander co-posts on b1 only, once
    rows.append({"post_id": "by", "account_id": "bystander", "published_at": T0 + D,
                 "body": organic_text(rng, "x"), "brand_tags": ["b1"]})
    devices = {"crew0": "d1", "crew1": "d1", "crew2": "d2", "bystander": "d9"}
    frame = posts_frame(rows, devices=devices)
    feats = fitted(frame).transform(frame).set_axis(frame["post_id"])
    crew_rows = feats[feats.index.str.startswith("c")]
    assert (crew_rows["coord_cotarget_accounts"] == 4).all()
    assert (crew_rows["coord_cotarget_score"] > 0).all()
    assert feats.loc["by", "coord_cotarget_accounts"] == 0
    assert feats.loc["c00", "coord_device_brand_accounts"] == 1  # crew1 on d1, same brand
    assert feats.loc["c02", "coord_device_brand_accounts"] == 0
    assert np.isnan(feats.loc["c03", "coord_device_brand_accounts"])  # crew3: no device


def test_missing_inputs_give_nan(night):
    no_brands = night.drop(columns=["brand_tags"])
    feats = fitted(no_brands).transform(no_brands)
    assert fitted(no_brands).brand_burst(no_brands).isna().all()
    for c in ("coord_brand_homogeneity", "coord_burst_homogeneity",
              "coord_cotarget_accounts", "coord_cotarget_score", "coord_cluster_brand_purity"):
        assert feats[c].isna().all(), c
    # no accounts table: device features missing, not zero
    assert night["account_device_cluster"].isna().all()
    feats = fitted(night).transform(night)
    assert feats["coord_device_brand_accounts"].isna().all()
    assert feats["coord_cluster_shared_device_accounts"].isna().all()
    # clusters still found without brands
    assert fitted(no_brands).cluster_ids(no_brands).str.startswith("c-none-").sum() >= 10


def test_brand_terms_count_text_mentions():
    rows = [{"post_id": "p0", "account_id": "a0", "published_at": T0,
             "body": "今天用了雪肌的面霜，还不错", "brand_tags": None},
            {"post_id": "p1", "account_id": "a1", "published_at": T0,
             "body": "skincare 日常", "brand_tags": None}]
    frame = posts_frame(rows)
    keys = coordination_keys(frame, brand_terms=(("bx", "雪肌"), ("sk", "SK")))
    assert keys["brands"].tolist() == [["bx"], []]
    keys = coordination_keys(frame, brand_terms={"bx": ["雪肌精"]})
    assert keys["brands"].tolist() == [[], []]


def test_brand_terms_from_table():
    brands = pd.DataFrame({"brand_id": ["bx"], "name": ["雪肌"], "aliases": [["XJ", "雪肌精"]]})
    assert brand_terms_from_table(brands) == (("bx", "雪肌"), ("bx", "XJ"), ("bx", "雪肌精"))
    assert brand_terms_from_table(None) == ()


def test_hashtag_forms():
    assert extract_hashtags("#好物分享[话题]# #护肤# #OOTD 今天") == ["好物分享", "护肤", "ootd"]
    assert extract_hashtags("没有标签") == []
    assert extract_hashtags("＃全角＃ 结尾 #末尾") == ["全角", "末尾"]


# --------------------------------------------------------------------------- protocol


def test_feature_names_catalogue_and_dtypes(night):
    cf = fitted(night)
    feats = cf.transform(night)
    assert list(feats.columns) == list(cf.get_feature_names_out()) == list(FEATURES)
    assert feats.index.equals(night.index)
    assert (feats.dtypes == np.float64).all()
    row = feats.iloc[0].to_dict()
    for name in FEATURES:
        assert name.startswith("coord_")
        doc = describe(name)
        assert doc is not None and doc.family == "coordination"
        text = doc.sentence(row[name], row)
        assert isinstance(text, str) and text


def test_clone_and_pickle_round_trip(night):
    cf = fitted(night, num_perm=32, threshold=0.45)
    again = pickle.loads(pickle.dumps(cf))
    pd.testing.assert_frame_equal(cf.transform(night), again.transform(night))
    c2 = clone(cf)
    assert c2.get_params() == cf.get_params()
    assert not hasattr(c2, "brand_rates_")
    pd.testing.assert_frame_equal(c2.fit(night).transform(night), cf.transform(night))


def test_works_without_tokenize_step(night):
    raw = night.drop(columns=["tokens", "text_norm", "text_raw"])
    cf = fitted(night)
    pd.testing.assert_frame_equal(cf.transform(raw), cf.transform(night))


_TEXT = st.one_of(
    st.just(""),
    st.text(alphabet="😀🔥✨💄👍🏻", max_size=20),
    st.text(max_size=60),
    st.sampled_from(BRIEF),
    st.builds(lambda n: "好用" * n + "#标签# #话题#", st.integers(0, 5)),
)


@settings(max_examples=40, deadline=None,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])
@given(
    texts=st.lists(_TEXT, min_size=0, max_size=8),
    long=st.booleans(),
    hours=st.lists(st.integers(0, 24 * 20), min_size=8, max_size=8),
    accounts=st.lists(st.integers(0, 3), min_size=8, max_size=8),
    with_brands=st.booleans(),
)
def test_never_raises_right_shape_no_inf(texts, long, hours, accounts, with_brands):
    if long:
        texts = [*texts, "姐妹们这款面霜超好用😀" * 4000]  # ~50,000 characters
    rows = [{"post_id": f"p{i}", "account_id": f"a{accounts[i % 8]}",
             "published_at": T0 + hours[i % 8] * H, "body": t,
             "brand_tags": [f"b{accounts[i % 8] % 2}"] if with_brands else None}
            for i, t in enumerate(texts)]
    if not rows:
        frame = posts_frame([{"post_id": "x", "account_id": "a", "published_at": T0}]).iloc[:0]
    else:
        frame = posts_frame(rows)
    frame.index = pd.RangeIndex(100, 100 + len(frame))
    cf = CoordinationFeatures().fit(frame)
    feats, ids = cf.transform_with_clusters(frame)
    assert feats.shape == (len(frame), len(FEATURES))
    assert feats.index.equals(frame.index)
    assert ids.index.equals(frame.index)
    assert (feats.dtypes == np.float64).all()
    assert not np.isinf(feats.to_numpy()).any()
    assert ((feats["coord_max_similarity"].dropna() >= 0)
            & (feats["coord_max_similarity"].dropna() <= 1)).all()


# --------------------------------------------------------------------------- bounded-memory pair helpers


def _naive_pairs(group, time, account, window, max_offset):
    """Reference for window_pairs: every row with the next ``max_offset`` rows of its group
    in (time, row) order."""
    out = set()
    n = len(group)
    for g in set(group.tolist()):
        rows = sorted((r for r in range(n) if group[r] == g), key=lambda r: (time[r], r))
        for x, r in enumerate(rows):
            for s in rows[x + 1:x + 1 + max_offset]:
                if time[s] - time[r] <= window and account[s] != account[r]:
                    out.add((r, s))
    return out


_GROUPS = st.lists(st.tuples(st.integers(0, 3), st.integers(0, 20), st.integers(0, 4)),
                   min_size=0, max_size=60)


@settings(max_examples=60, deadline=None)
@given(rows=_GROUPS, window=st.integers(0, 12), max_offset=st.integers(1, 6),
       block=st.integers(1, 9), keep_seed=st.integers(0, 2**16))
def test_blocked_pairs_and_partner_counts_equal_the_unblocked_reference(
        rows, window, max_offset, block, keep_seed):
    from fakeugc.features._minhash import (
        distinct_partner_accounts,
        window_pair_blocks,
        window_pairs,
    )

    g = np.array([r[0] for r in rows], np.int64)
    t = np.array([r[1] for r in rows], np.int64)
    a = np.array([r[2] for r in rows], np.int64)
    ref = _naive_pairs(g, t, a, window, max_offset)
    li, ri = window_pairs(g, t, a, window, max_offset)
    assert set(zip(li.tolist(), ri.tolist(), strict=True)) == ref
    assert len(li) == len(ref)
    got = set()
    for bl, br in window_pair_blocks(g, t, a, window, max_offset, block=block):
        assert len(bl) <= block * max_offset
        got |= set(zip(bl.tolist(), br.tolist(), strict=True))
    assert got == ref
    keep = np.random.default_rng(keep_seed).random(len(g)) < 0.6
    kept = set()
    for bl, br in window_pair_blocks(g, t, a, window, max_offset, keep=keep, block=block):
        kept |= set(zip(bl.tolist(), br.tolist(), strict=True))
    assert kept == {(x, y) for x, y in ref if keep[x] and keep[y]}
    want = np.zeros(len(g))
    for r in range(len(g)):
        want[r] = len({a[y] for x, y in ref if x == r} | {a[x] for x, y in ref if y == r})
    got_n = distinct_partner_accounts(g, t, a, window, max_offset, block=block)
    np.testing.assert_array_equal(got_n, want)


def _crowded_night(n=600, seed=5):
    """Keys of a crowded night: few brands, hashtag sets, devices and texts shared by
    many accounts, crews posting on several brands; groups far larger than a block."""
    rng = np.random.default_rng(seed)
    base = rng.integers(0, 2**32 - 1, size=(n // 25, 64), dtype=np.uint64).astype(np.uint32)
    sig = base[rng.integers(0, len(base), n)]
    noise = rng.random((n, 64)) < 0.3
    sig[noise] = rng.integers(0, 2**32 - 1, size=int(noise.sum()), dtype=np.uint64).astype(np.uint32)
    return pd.DataFrame({
        "post_id": [f"p{i:05d}" for i in range(n)],
        "account_id": [f"a{x}" for x in rng.integers(0, n // 3, n)],
        "published_at": T0 + pd.to_timedelta(rng.integers(0, 10 * 86400, n), unit="s"),
        "brands": [sorted({f"b{x}" for x in rng.integers(0, 5, rng.integers(0, 3))})
                   for _ in range(n)],
        "hashtags": [sorted({f"t{x}" for x in rng.integers(0, 3, rng.integers(0, 4))})
                     for _ in range(n)],
        "device_cluster": [None if x < 0 else f"d{x}" for x in rng.integers(-3, n // 15, n)],
        "text_hash": rng.integers(0, 20, n).astype(np.uint64),
        "n_shingles": rng.integers(0, 30, n),
        "minhash": [sig[i].astype("<u4").tobytes() for i in range(n)],
    })


@pytest.mark.parametrize("block", [1, 7, 64, 1 << 15])
def test_context_does_not_depend_on_the_pair_block_size(block, monkeypatch):
    import fakeugc.features._minhash as mh

    keys = _crowded_night()
    want = coordination_context(keys, max_neighbours=16)
    monkeypatch.setattr(mh, "PAIR_BLOCK", block)
    got = coordination_context(keys.sample(frac=1, random_state=block), max_neighbours=16)
    pd.testing.assert_frame_equal(got, want)
    assert (want["ctx_coordination_cotarget_accounts"] > 0).sum() > 50
    assert want["ctx_coordination_cluster_id"].notna().sum() > 50


@settings(max_examples=200, deadline=None)
@given(text=st.text(alphabet="skabz9i- 兰蔻SKLS", max_size=24))
def test_alias_regex_matches_like_a_leading_lookbehind(text):
    """The fast alias pattern (look-behind after the first character) finds what the
    plain form ``(?<![a-z0-9])alias(?![a-z0-9])`` finds."""
    import re

    from fakeugc.features._coordination import _alias_matcher

    terms = (("b1", "sk"), ("b2", "SK-II"), ("b3", "兰蔻"), ("b4", "LS"), ("b5", "a9"),
             ("b6", "z"), ("b7", "兰蔻sk"))
    pattern, lookup = _alias_matcher(terms)
    parts = []
    for a in sorted(lookup, key=lambda s: (-len(s), s)):
        esc = re.escape(a)
        if a[0].isascii() and a[0].isalnum():
            esc = r"(?<![a-z0-9])" + esc
        if a[-1].isascii() and a[-1].isalnum():
            esc += r"(?![a-z0-9])"
        parts.append(esc)
    plain = re.compile("|".join(parts))
    s = normalise_text(text)
    assert pattern.findall(s) == plain.findall(s)


def _hashtags_whole_text(text):
    """extract_hashtags as first written: NFKC of the whole post, then the same rules."""
    import unicodedata

    from fakeugc.features._coordination import _TAG_CLOSED, _TAG_OPEN, _TAG_SUFFIX

    if not text or ("#" not in text and "＃" not in text):
        return []
    s = unicodedata.normalize("NFKC", text)
    tags = [m.group(1) for m in _TAG_CLOSED.finditer(s)]
    tags += [m.group(1) for m in _TAG_OPEN.finditer(_TAG_CLOSED.sub(" ", s))]
    out = []
    for t in tags:
        t = normalise_text(_TAG_SUFFIX.sub("", t)).strip("#").strip()
        if t and t not in out:
            out.append(t)
    return out


@settings(max_examples=300, deadline=None)
@given(st.lists(st.sampled_from(
    list("#＃ 　\n好物分享护肤abcＡＢＣ[]［］话题㎏ﬁ①́̈e") + ["\u200b", "[话题]", "😊"]),
    max_size=40))
def test_hashtags_read_from_the_first_hash_equal_the_whole_text_reading(pieces):
    text = "".join(pieces)
    assert extract_hashtags(text) == _hashtags_whole_text(text)


def test_a_model_pickled_with_the_raw_burst_still_gets_it(night):
    """Estimators fitted before the raw burst left the features (no ``outputs_``) keep
    their columns, so a registered champion scores after an upgrade."""
    from fakeugc.features._coordination import FEATURES, LEGACY_BURST, LEGACY_FEATURES

    cf = fitted(night)
    new = cf.transform(night)
    assert list(new.columns) == list(FEATURES) and LEGACY_BURST not in new.columns
    old = pickle.loads(pickle.dumps(cf))
    del old.outputs_
    legacy = old.transform(night)
    assert list(legacy.columns) == list(LEGACY_FEATURES)
    assert list(old.get_feature_names_out()) == list(LEGACY_FEATURES)
    pd.testing.assert_frame_equal(legacy[list(FEATURES)], new)
    np.testing.assert_array_equal(legacy[LEGACY_BURST].to_numpy(),
                                  cf.brand_burst(night).to_numpy())
