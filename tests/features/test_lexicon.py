"""Lexicon files and their loading and compiling."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from fakeugc.features._lexicon import (
    LEXICON_NAMES,
    compile_patterns,
    compile_prefixed,
    compile_terms,
    lexicon_words,
    load_lexicons,
    normalise_terms,
    package_lexicon_dir,
    parse_lexicon,
    term_regex,
)
from fakeugc.features._text import Segmenter

ROOT = Path(__file__).resolve().parents[2]
DATA_DIR = ROOT / "data" / "external" / "lexicons"
PACKAGE_DIR = ROOT / "src" / "fakeugc" / "resources" / "lexicons"


def test_package_copy_is_identical_to_data_external():
    data = {p.name: p.read_bytes() for p in DATA_DIR.glob("*.txt")}
    shipped = {p.name: p.read_bytes() for p in PACKAGE_DIR.glob("*.txt")}
    assert data, f"no lexicons in {DATA_DIR}"
    assert sorted(data) == sorted(shipped)
    for name in data:
        assert data[name] == shipped[name], f"{name} differs between data/external and package"


def test_every_expected_lexicon_exists_with_a_header():
    lex = load_lexicons(DATA_DIR)
    for name in LEXICON_NAMES:
        assert lex.get(name), f"{name}.txt missing or empty"
        first = (DATA_DIR / f"{name}.txt").read_text(encoding="utf-8").splitlines()[0]
        assert first.startswith("# "), f"{name}.txt has no header comment"
        text = (DATA_DIR / f"{name}.txt").read_text(encoding="utf-8")
        assert "Source:" in text and "onfidence" in text


def test_default_folder_and_package_fallback(monkeypatch, tmp_path):
    from_data = load_lexicons()
    assert from_data == load_lexicons(DATA_DIR)
    monkeypatch.setenv("FAKEUGC_HOME", str(tmp_path))  # a project without data/external
    assert load_lexicons() == from_data
    assert package_lexicon_dir().joinpath("absolute_terms.txt").is_file()
    with pytest.raises(FileNotFoundError):
        load_lexicons(tmp_path / "nowhere")


def test_parse_comments_and_entries():
    text = "# header: source\n#\n\n#ad\n  合作 \n合作\n# 不是 comment? yes it is\n#1\n"
    assert parse_lexicon(text, "disclosure") == ["#ad", "合作", "#1"]


def test_bad_pattern_names_file_and_line():
    with pytest.raises(ValueError, match=r"x_patterns\.txt line 2"):
        parse_lexicon("# header\n(unclosed\n", "x_patterns")
    with pytest.raises(ValueError, match="newline"):
        parse_lexicon("# header\n[^a]\n", "x_patterns")


def test_patterns_compile_and_match_examples():
    lex = load_lexicons()
    detail = compile_patterns(lex["personal_detail_patterns"])
    for text in ["用了3天", "坚持了两周", "89块", "¥59", "30ml", "25岁", "回购了3次", "在屈臣氏买的",
                 "3 nights"]:
        assert any(rx.search(text) for rx in detail), text
    redirect = compile_patterns(lex["redirect_contact_patterns"])
    for text in ["13812345678", "qq:12345678", "vx:abc_123"]:
        assert any(rx.search(text) for rx in redirect), text
    assert not any(rx.search("订单号213812345678901") for rx in redirect)


def test_term_regex_word_boundaries():
    rx = compile_terms(["vx", "+v", "#ad", "no.1", "yyds", "加微"])
    assert [m.group() for m in rx.finditer("加vx或+v")] == ["vx", "+v"]
    assert rx.findall("vxyz #adorable no.10 ayyds") == []
    assert rx.findall("#ad! no.1, yyds加微") == ["#ad", "no.1", "yyds", "加微"]
    assert re.fullmatch(term_regex("最好"), "最好")


def test_terms_are_normalised_and_longest_first():
    assert normalise_terms(["ＹＹＤＳ", "最　好", "最", ""]) == ["yyds", "最好", "最"]
    rx = compile_terms(["最", "最好", "最好用", "全网第一", "第一"])
    assert rx.findall("最好用的全网第一最") == ["最好用", "全网第一", "最"]


def test_prefixed_terms():
    rx = compile_prefixed(["不", "没有"], ["搓泥", "过敏"])
    assert rx.findall("不搓泥没有过敏会过敏") == ["不搓泥", "没有过敏"]


@settings(max_examples=50, deadline=None)
@given(
    st.lists(st.text(alphabet="最好用第一次ab1 ", min_size=1, max_size=5), min_size=1, max_size=8),
    st.text(alphabet="最好用第一次ab1 .", max_size=40),
)
def test_trie_regex_matches_like_a_plain_alternation(terms, text):
    """The trie-shaped regex finds exactly what a longest-first plain alternation finds."""
    norm = normalise_terms(terms)
    plain = re.compile("|".join(term_regex(t) for t in norm)) if norm else re.compile("(?!x)x")
    trie = compile_terms(terms)
    assert [m.span() for m in trie.finditer(text)] == [m.span() for m in plain.finditer(text)]


def test_lexicon_words_for_jieba():
    words = lexicon_words()
    assert "闭眼入" in words and "全网第一" in words and "第一次" in words
    assert all(" " not in w and 2 <= len(w) <= 6 for w in words)
    assert not any(w.startswith("(") for w in words)
    seg = Segmenter(tuple(words))
    assert "闭眼入" in seg.cut("这个面霜闭眼入就对了")
