"""Evasion rewrites: what they change, that they are reproducible, and that the text
normaliser undoes the four character-level ones on any text."""

from __future__ import annotations

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakeugc.features._lexicon import lexicon_words
from fakeugc.features._text import normalise_text
from fakeugc.modeling.evasion import EVASIONS, evade_fake_posts, evade_text

CHARACTER_LEVEL = ("fullwidth", "zero_width", "emoji_inside_words", "spaces_inside_words")

def _simplified(ch: str) -> bool:
    from fakeugc.features._text import _traditional

    return ch not in _traditional()[0]


# simplified Chinese (traditional characters are the ``traditional`` evasion's business:
# a rare one converts to a character outside the basic CJK block, next to which a
# wedged emoji is not recognised as wedged; see the closing note of 2026-11-25)
_text = st.text(alphabet=st.one_of(
    st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5).filter(_simplified),
    st.characters(min_codepoint=0x20, max_codepoint=0x7E),      # printable ASCII
    st.sampled_from("。！？，～、 \n😊")), max_size=60)


@pytest.mark.parametrize("kind", CHARACTER_LEVEL)
@settings(max_examples=150, deadline=None)
@given(text=_text, seed=st.integers(0, 3))
def test_the_normaliser_undoes_character_level_evasions(kind, text, seed):
    assert normalise_text(evade_text(text, kind, seed, "k")) == normalise_text(text)


def test_traditional_characters_undone_for_the_lexicon_in_a_sentence():
    # a word alone can stay ambiguous (太乾: 乾 is also a simplified character), in a
    # sentence with other traditional characters the phrase converter resolves it
    for w in lexicon_words():
        sentence = f"這款{w}真的"
        assert normalise_text(evade_text(sentence, "traditional", 0)) == \
            normalise_text(f"这款{w}真的"), w


@settings(max_examples=100, deadline=None)
@given(text=_text, seed=st.integers(0, 3))
def test_sentence_order_keeps_every_character(text, seed):
    out = evade_text(text, "sentence_order", seed, "k")
    assert sorted(out) == sorted(text)
    assert evade_text(text, "sentence_order", seed, "k") == out  # seeded


BODY = "姐妹们真的绝绝子，YYDS闭眼入！用了一周皮肤变好了"


def test_only_the_fake_posts_text_is_rewritten():
    posts = pd.DataFrame({"post_id": ["a", "b", "c"], "title": ["好物分享", "日常", None],
                          "body": [BODY, "今天天气不错。", "无限回购中"],
                          "likes": [1, 2, 3]})
    labels = pd.DataFrame({"post_id": ["a", "b", "c", "a"], "label": [0, 0, 1, 1]})
    for kind in EVASIONS:
        out = evade_fake_posts(posts, labels, kind, seed=1)
        # a: the last label (fake) counts; c is fake with no title; b is genuine
        assert out.loc[1].tolist() == posts.loc[1].tolist()
        assert out["likes"].tolist() == [1, 2, 3] and out["title"].iloc[2] is None
        assert out.equals(evade_fake_posts(posts, labels, kind, seed=1))
        assert out["body"].iloc[0] == evade_text(posts["body"].iloc[0], kind, 1, "a:body")
        assert out["title"].iloc[0] == evade_text("好物分享", kind, 1, "a:title")
        assert normalise_text(out["body"].iloc[2]) == "无限回购中" or kind == "sentence_order"
    assert posts["body"].iloc[0] == BODY  # the input is not modified
    assert evade_fake_posts(posts, None, "fullwidth") is posts
    full = evade_fake_posts(posts, labels, "fullwidth")
    assert full["body"].iloc[0] == "姐妹们真的绝绝子，ＹＹＤＳ闭眼入！用了一周皮肤变好了"


_cjk = st.text(alphabet=st.characters(min_codepoint=0x4E00, max_codepoint=0x9FA5)
               .filter(_simplified), min_size=1, max_size=6)


@pytest.mark.parametrize("kind", ["zero_width", "emoji_inside_words", "fullwidth"])
@settings(max_examples=100, deadline=None)
@given(body=_cjk, tags=st.lists(st.tuples(_cjk, st.booleans()), min_size=1, max_size=4),
       seed=st.integers(0, 3))
def test_hashtags_survive_character_level_evasions(kind, body, tags, seed):
    """A campaign's hashtag set is one of its coordination signals: a zero-width space
    or an emoji inside a tag or its [话题] suffix must not make it another set."""
    from fakeugc.features._coordination import extract_hashtags

    text = body + " " + " ".join(f"#{t}{'[话题]' if s else ''}#" for t, s in tags)
    assert extract_hashtags(evade_text(text, kind, seed, "k")) == extract_hashtags(text)
