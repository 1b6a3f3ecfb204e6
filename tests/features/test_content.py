"""ContentFeatures: hand-made cases with known answers, properties, invariance, pickling."""

from __future__ import annotations

import pickle
import subprocess
import sys
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from sklearn.base import clone

from fakeugc.features._catalogue import describe
from fakeugc.features._content import FEATURES, ContentFeatures
from fakeugc.features._lexicon import lexicon_words
from fakeugc.features._text import TokenizeText, normalise_text

BENCH = Path(__file__).resolve().parents[3] / "shared" / "benchmarks"
BRANDS = (("lanskin", "澜肌"), ("lanskin", "LanSkin"), ("veroa", "薇若"), ("veroa", "Veroa"))
PROPS = settings(max_examples=50, deadline=None,
                 suppress_health_check=[HealthCheck.too_slow, HealthCheck.function_scoped_fixture])


@pytest.fixture(scope="module")
def tok():
    return TokenizeText(user_words=tuple(lexicon_words())).fit(pd.DataFrame({"body": [""]}))


@pytest.fixture(scope="module")
def cf():
    return ContentFeatures(brand_terms=BRANDS).fit(pd.DataFrame({"body": [""]}))


def posts(texts, **cols) -> pd.DataFrame:
    n = len(texts)
    df = pd.DataFrame({
        "post_id": [f"p{i}" for i in range(n)],
        "account_id": [f"a{i}" for i in range(n)],
        "title": [""] * n,
        "body": list(texts),
        "brand_tags": cols.pop("brand_tags", [None] * n),
        "disclosed_partnership": pd.array(cols.pop("disclosed", [None] * n), dtype="boolean"),
        "image_count": pd.array(cols.pop("image_count", [None] * n), dtype="Int64"),
    })
    for k, v in cols.items():
        df[k] = v
    return df


def feats(cf, tok, texts, **cols) -> pd.DataFrame:
    return cf.transform(tok.transform(posts(texts, **cols)))


def one(cf, tok, text, **cols) -> pd.Series:
    cols = {k: [v] for k, v in cols.items()}
    return feats(cf, tok, [text], **cols).iloc[0]


# -- known answers -------------------------------------------------------------------

@pytest.mark.parametrize(
    "text, expected",
    [
        ("第一次用这个面霜", {"content_absolute_terms": 0}),
        ("全网第一的面霜", {"content_absolute_terms": 1}),
        ("最😊好用的面霜", {"content_absolute_terms": 1}),
        ("最　好用的面霜", {"content_absolute_terms": 1}),
        ("最好别买，最近才发现", {"content_absolute_terms": 0}),
        ("不是最好的，但还行", {"content_absolute_terms": 0}),
        ("完美日记的口红，不完美", {"content_absolute_terms": 0}),
        ("第一天第一眼就爱了", {"content_absolute_terms": 0}),
        ("国家级认证，全网第一，独家配方", {"content_absolute_terms": 3}),
        ("this is the best hotel, perfect stay", {"content_absolute_terms": 2}),
        ("唯一的缺点就是太好用",
         {"content_fake_con": 1, "content_real_downside_terms": 0, "content_absolute_terms": 0}),
        ("唯一的缺点是有点贵",
         {"content_fake_con": 0, "content_real_downside_terms": 2, "content_absolute_terms": 0}),
        ("硬要说缺点的话，用得太快", {"content_fake_con": 1, "content_real_downside_terms": 0}),
        ("自费入的，闭眼入",
         {"content_anti_disclosure_terms": 1, "content_hype_terms": 1,
          "content_anti_disclosure_hype": 1}),
        ("不是广告，纯分享", {"content_disclosure_terms": 0, "content_anti_disclosure_terms": 2}),
        ("本篇品牌方提供 #ad", {"content_disclosure_terms": 2}),
        ("不假滑不搓泥不闷痘", {"content_denied_downsides": 3, "content_real_downside_terms": 0}),
        ("用了会搓泥，还闷痘，退货了", {"content_real_downside_terms": 3,
                                     "content_denied_downsides": 0}),
        ("不买后悔", {"content_real_downside_terms": 0, "content_hype_terms": 1}),
        ("姐妹们冲鸭！链接在评论区", {"content_cta_terms": 2}),
        ("冲!", {"content_cta_terms": 1}),
        ("用清水冲洗干净", {"content_cta_terms": 0}),
        ("加vx: abc12345 详聊", {"content_redirect_contact": 1}),
        ("电话13812345678", {"content_redirect_contact": 2}),
        ("vxyz is a word", {"content_redirect_contact": 0}),
        ("混干皮用了3天T区出油少了，89块在屈臣氏买的",
         {"content_personal_details": 5}),
        ("祛斑效果立竿见影", {"content_efficacy_claims": 2}),
        ("", {"content_length_chars": 0, "content_tokens": 0, "content_hype_terms": 0}),
    ],
)
def test_known_answers(cf, tok, text, expected):
    got = one(cf, tok, text)
    for name, value in expected.items():
        assert got[name] == value, (text, name, got[name])


def test_structure_counts(cf, tok):
    text = "好用😊😊 #护肤[话题]# #好物分享# @小美 @Amy [笑哭R] 详见 http://xhslink.com/abc！！"
    got = one(cf, tok, text)
    assert got["content_emoji_count"] == 3  # 😊 😊 [笑哭R]
    assert got["content_topic_tags"] == 2
    assert got["content_mentions"] == 2
    assert got["content_links"] == 1
    assert got["content_exclamations_per_100_chars"] > 0
    assert 0 < got["content_latin_share"] < 1
    assert 0 < got["content_emoji_ratio"] < 1
    assert one(cf, tok, "write to a@b.com")["content_mentions"] == 0
    assert one(cf, tok, "see example.com/page or www.example.cn")["content_links"] == 2
    assert one(cf, tok, "😊")["content_emoji_ratio"] == 1.0
    assert np.isnan(one(cf, tok, "")["content_emoji_ratio"])


def test_brand_alias_counted(cf, tok):
    text = "澜肌的小蓝瓶真的好用 LanSkin yyds"
    got = feats(cf, tok, [text] * 4 + ["PlanSkin 不是品牌"],
                brand_tags=[["veroa"], ["lanskin"], None, [], None])
    assert (got["content_brands_mentioned"].iloc[:4] == 1).all()
    n_tokens = got["content_tokens"].iloc[0]
    assert got["content_brand_mentions_per_100_tokens"].iloc[0] == pytest.approx(200 / n_tokens)
    assert got["content_untagged_brand_mention"].iloc[0] == 1  # tagged another brand
    assert got["content_untagged_brand_mention"].iloc[1] == 0  # tagged it
    assert np.isnan(got["content_untagged_brand_mention"].iloc[2])  # tags unknown
    assert got["content_untagged_brand_mention"].iloc[3] == 1
    assert got["content_brands_mentioned"].iloc[4] == 0  # whole words only
    assert got["content_brand_tag_count"].tolist()[:2] == [1, 1]
    assert np.isnan(got["content_brand_tag_count"].iloc[2])


def test_brand_features_missing_without_brands(tok):
    cf0 = ContentFeatures().fit(pd.DataFrame({"body": [""]}))
    got = cf0.transform(tok.transform(posts(["澜肌真好用"], brand_tags=[["lanskin"]])))
    for name in ("content_brand_mentions_per_100_tokens", "content_brands_mentioned",
                 "content_untagged_brand_mention"):
        assert np.isnan(got[name].iloc[0])


def test_disclosure_against_platform_label(cf, tok):
    texts = ["品牌合作 闭眼入 全网第一"] * 3 + ["今天天气不错"]
    got = feats(cf, tok, texts, disclosed=[True, False, None, False], image_count=[3, 0, None, 1])
    assert got["content_disclosed_partnership"].tolist()[:2] == [1.0, 0.0]
    assert np.isnan(got["content_disclosed_partnership"].iloc[2])
    assert got["content_undisclosed_promo"].iloc[0] == 0
    assert got["content_undisclosed_promo"].iloc[1] == 2  # 闭眼入 + 全网第一
    assert np.isnan(got["content_undisclosed_promo"].iloc[2])
    assert got["content_undisclosed_promo"].iloc[3] == 0
    assert got["content_disclosure_unlabelled"].tolist()[:2] == [0.0, 1.0]
    assert got["content_disclosure_unlabelled"].iloc[3] == 0
    assert got["content_image_count"].iloc[0] == 3
    assert np.isnan(got["content_image_count"].iloc[2])


def test_template_and_one_sidedness(cf, tok):
    seeding = "一直被毛孔粗大困扰，用了这款精华，上脸很清爽，现在毛孔小了，绝绝子，闭眼入"
    neutral = "今天去公园散步，天气不错"
    critical = "用了两周，搓泥，闷痘，有点贵，不推荐"
    got = feats(cf, tok, [seeding, neutral, critical])
    assert got["content_template_score"].iloc[0] == 1.0
    assert got["content_template_score"].iloc[1] == 0.0
    assert got["content_one_sidedness"].iloc[0] > 0.5
    assert got["content_one_sidedness"].iloc[1] == 0.0
    assert got["content_one_sidedness"].iloc[2] < -0.5


def test_evidence_lists_the_matched_words(cf):
    X = posts(["第一次用就爱了，全网第一，唯一的缺点就是太好用，澜肌 yyds", "最好别买，有点贵"])
    ev = cf.evidence(X)
    assert ev[0]["absolute"] == ["全网第一"]
    assert ev[0]["fake_con"] == ["缺点就是太好用"]
    assert ev[0]["hype"] == ["yyds"]
    assert ev[0]["brands"] == ["澜肌"]
    assert ev[1]["absolute"] == [] and ev[1]["real_downside"] == ["有点贵"]
    counts = cf.transform(X)
    for i, e in enumerate(ev):
        assert len(e["absolute"]) == counts["content_absolute_terms"].iloc[i]
        assert len(e["real_downside"]) == counts["content_real_downside_terms"].iloc[i]


# -- directional and invariance --------------------------------------------------------

@pytest.mark.parametrize(
    "added, name",
    [("闭眼入", "content_hype_terms"), ("全网第一", "content_absolute_terms"),
     ("链接在评论区", "content_cta_terms"), ("有点贵", "content_real_downside_terms"),
     ("混干皮用了3天", "content_personal_details"), ("加微信", "content_redirect_contact")],
)
def test_adding_a_marker_raises_its_count(cf, tok, added, name):
    base = "这款面霜质地清爽，今天分享一下。"
    before, after = feats(cf, tok, [base, base + added + "。"]).to_dict("records")
    assert after[name] > before[name]


@pytest.mark.parametrize(
    "a, b",
    [
        ("最好用！ＹＹＤＳ 闭眼入", "最 好用!yyds  闭眼入"),
        ("全网第一的面霜，唯一的缺点就是太好用", "全 网 第 一的面霜,唯一的缺点就是太好用"),
        ("全网第一，绝绝子", "全\u200b网第一，绝\u3000绝子"),
        ("這款面霜全網第一", "这款面霜全网第一"),
    ],
)
def test_whitespace_and_width_variants_give_same_features(cf, tok, a, b):
    fa, fb = feats(cf, tok, [a, b]).to_numpy()
    np.testing.assert_array_equal(fa, fb)


@PROPS
@given(st.lists(st.integers(min_value=1, max_value=12), max_size=4),
       st.sampled_from([" ", "\u3000", "\u200b", "😊", "·"]))
def test_wedged_characters_do_not_change_features(cf, tok, cuts, filler):
    text = "全网第一绝绝子闭眼入唯一的缺点就是太好用"
    wedged = text
    for c in sorted(set(cuts), reverse=True):
        wedged = wedged[:c] + filler + wedged[c:]
    got = feats(cf, tok, [text, wedged]).drop(columns=["content_emoji_count",
                                                       "content_emoji_ratio"])
    np.testing.assert_array_equal(got.to_numpy()[0], got.to_numpy()[1])


# -- properties ------------------------------------------------------------------------

def check_output(out: pd.DataFrame, X: pd.DataFrame):
    assert list(out.columns) == list(FEATURES)
    assert out.index.equals(X.index)
    assert (out.dtypes == np.float64).all()
    v = out.to_numpy()
    assert (np.isfinite(v) | np.isnan(v)).all()


@PROPS
@given(st.lists(st.text(), min_size=1, max_size=5))
def test_arbitrary_text_never_raises(cf, tok, texts):
    X = tok.transform(posts(texts))
    X.index = pd.RangeIndex(100, 100 + len(X))
    check_output(cf.transform(X), X)


@PROPS
@given(st.lists(st.text(alphabet=st.characters(min_codepoint=0x1F300, max_codepoint=0x1FAFF)),
                min_size=1, max_size=3))
def test_emoji_only_text(cf, tok, texts):
    X = tok.transform(posts(texts))
    out = cf.transform(X)
    check_output(out, X)
    assert (out["content_hype_terms"] == 0).all()


def test_empty_long_and_missing_columns(cf, tok):
    long = ("全网第一闭眼入" + "a" * 100 + "😊") * 460  # ~50,000 characters
    X = tok.transform(posts(["", long, "😊😊😊"]))
    out = cf.transform(X)
    check_output(out, X)
    assert out["content_absolute_terms"].iloc[1] == 460
    # a frame with text only and without the tokenizer's columns
    bare = pd.DataFrame({"body": ["全网第一", None, ""]}, index=["x", "y", "z"])
    out = cf.transform(bare)
    check_output(out, bare)
    assert out["content_absolute_terms"].tolist() == [1, 0, 0]
    assert out["content_image_count"].isna().all()


def test_empty_frame(cf, tok):
    X = tok.transform(posts(["x"])).iloc[:0]
    out = cf.transform(X)
    assert out.shape == (0, len(FEATURES)) and list(out.columns) == list(FEATURES)


def test_without_tokenizer_columns_same_as_with(cf):
    """Without ``tokens`` the transformer segments itself, with the lexicon words and
    brand terms as user words (what the pipeline's TokenizeText is given)."""
    words = tuple(lexicon_words()) + tuple(t for _, t in BRANDS)
    tok_brands = TokenizeText(user_words=words).fit(pd.DataFrame({"body": [""]}))
    texts = ["全网第一的面霜 闭眼入", "第一次用，一般般", "澜肌 LanSkin 加vx abc12345"]
    X = posts(texts)
    np.testing.assert_array_equal(cf.transform(X).to_numpy(),
                                  cf.transform(tok_brands.transform(X)).to_numpy())


def test_chunking_does_not_change_results(cf, tok, monkeypatch):
    from fakeugc.features import _content

    texts = ["全网第一 闭眼入 澜肌", "第一次用", "", "唯一的缺点是有点贵", "#a# @b 😊"] * 7
    X = tok.transform(posts(texts, brand_tags=[["veroa"]] * len(texts)))
    whole = cf.transform(X)
    monkeypatch.setattr(_content, "_CHUNK", 3)
    np.testing.assert_array_equal(whole.to_numpy(), cf.transform(X).to_numpy())
    np.testing.assert_array_equal(cf.transform(X.iloc[5:]).to_numpy(), whole.iloc[5:].to_numpy())


# -- estimator conventions, catalogue, pickling --------------------------------------------

def test_catalogue_declares_every_feature():
    for name in FEATURES:
        doc = describe(name)
        assert doc is not None and doc.family == "content"
        for v in (0.0, 1.0, 3.0):
            s = doc.sentence(v, {})
            assert s and ":" not in s[:1]
            assert "probab" not in s.lower()


def test_clone_and_pickle_round_trip(cf, tok):
    X = tok.transform(posts(["全网第一 闭眼入 澜肌", "第一次用"]))
    c = clone(cf)
    assert c.get_params() == cf.get_params()
    assert not hasattr(c, "matchers_")
    back = pickle.loads(pickle.dumps(cf))
    pd.testing.assert_frame_equal(back.transform(X), cf.transform(X))
    assert back.lexicons_ == cf.lexicons_


def test_pickled_estimator_works_in_fresh_process_without_data(cf, tmp_path):
    """The model carries its lexicons: a fresh process with no project data folder
    (FAKEUGC_HOME pointing at an empty folder) transforms the same."""
    X = posts(["全网第一的面霜 闭眼入", "唯一的缺点是有点贵"])
    (tmp_path / "model.pkl").write_bytes(pickle.dumps(cf))
    X.to_pickle(tmp_path / "X.pkl")
    cf.transform(X).to_pickle(tmp_path / "expected.pkl")
    home = tmp_path / "empty_home"
    home.mkdir()
    code = (
        "import pickle, pandas as pd\n"
        f"m = pickle.loads(open({str(tmp_path / 'model.pkl')!r}, 'rb').read())\n"
        f"X = pd.read_pickle({str(tmp_path / 'X.pkl')!r})\n"
        f"pd.testing.assert_frame_equal(m.transform(X), "
        f"pd.read_pickle({str(tmp_path / 'expected.pkl')!r}))\n"
    )
    env = {"FAKEUGC_HOME": str(home), "PATH": "/usr/bin:/bin",
           "FAKEUGC_JIEBA_CACHE": str(tmp_path / "jieba")}
    res = subprocess.run([sys.executable, "-c", code], env=env, capture_output=True, text=True,
                         timeout=120)
    assert res.returncode == 0, res.stderr


# -- normalisation (the text every lexicon is matched on) -----------------------------

# Once-found counterexamples to idempotence, kept as regression cases: OpenCC maps
# 薴 -> 苧 -> 苎 (two steps), and an invisible character between a letter and a
# combining mark used to be removed only after NFKC.
_ONCE_NOT_IDEMPOTENT = ["薴", "e\u200b\u0301"]


@settings(max_examples=80, deadline=None)
@given(st.text())
def test_normalise_text_idempotent(text):
    once = normalise_text(text)
    assert normalise_text(once) == once


@pytest.mark.parametrize("text", _ONCE_NOT_IDEMPOTENT)
def test_normalise_text_idempotent_regressions(text):
    once = normalise_text(text)
    assert normalise_text(once) == once


# -- real text ---------------------------------------------------------------------------

@pytest.mark.parametrize("name", ["weibo21", "ott-op-spam"])
def test_smoke_on_benchmark_text(cf, tok, name):
    path = BENCH / name
    if not path.is_dir():
        pytest.skip(f"{path} not present")
    from fakeugc.features._frame import build_post_frame
    from fakeugc.io import read_export

    frame = build_post_frame(read_export(path)).sample(300, random_state=0)
    out = cf.transform(tok.transform(frame))
    check_output(out, frame)
    assert out["content_length_chars"].gt(0).all()


@settings(max_examples=500, deadline=None)
@given(st.lists(st.one_of(
    st.sampled_from(list("，！～…‼：（）？｜　ＡＢａｂ１２e好物\n ") + ["\u0301", "\u0308", "\u3099",
                                                              "\uf900", "ﬁ", "㎏", "①", "😊",
                                                              "\ufe0f", "\u200b"]),
    st.characters(codec="utf-8")), max_size=30))
def test_fast_nfkc_equals_unicodedata(pieces):
    import unicodedata

    from fakeugc.features._text import nfkc

    text = "".join(pieces)
    assert nfkc(text) == unicodedata.normalize("NFKC", text)
