"""Lexicons for the content signals: loading, and compiling them into fast regexes.

A lexicon is a UTF-8 text file with one entry per line in
``data/external/lexicons/`` (a versioned input, editable by analysts without a
code change) and a copy shipped inside the package at
``fakeugc/resources/lexicons/`` so that an installed package (or a model loaded
in a fresh process) works without the project checkout.

File conventions
----------------
* ``<name>.txt``: literal terms, matched on *normalised* text
  (:func:`fakeugc.features._text.normalise_text`: NFKC, lower-case, simplified
  Chinese, emoji/spaces wedged inside Chinese words removed). Terms are
  normalised the same way when compiled. A term that starts or ends with a Latin
  letter or digit only matches as a whole word there (``vx`` does not match
  ``vxyz``). At one position the longest term wins.
* ``<name>_patterns.txt``: Python regular expressions on the same normalised
  text; a pattern must not match a newline.
* A line that is ``#`` alone or starts with ``# `` is a comment; blank lines are
  ignored. ``#ad`` or ``#1`` are entries, not comments.

Feature builders load the lexicons at ``fit`` and keep them in fitted
attributes, so a pickled estimator carries its lexicons.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from importlib import resources
from pathlib import Path

from fakeugc.features._text import normalise_text

#: Lexicon files the content features expect (file stems).
LEXICON_NAMES = (
    "absolute_terms",
    "absolute_exclusions",
    "seeding_hype",
    "call_to_action",
    "call_to_action_patterns",
    "disclosure",
    "anti_disclosure",
    "fake_con",
    "fake_con_patterns",
    "real_downside",
    "negation_prefixes",
    "personal_detail",
    "personal_detail_patterns",
    "redirect_contact",
    "redirect_contact_patterns",
    "efficacy_claims",
    "template_pain",
    "template_experience",
    "template_effect",
)

#: Lexicons whose entries are regular expressions rather than literal terms.
PATTERN_SUFFIX = "_patterns"

_ASCII_WORD = re.compile(r"[a-z0-9]")
_CJK = re.compile("[\u3400-\u9fff]")
_NEVER = "(?!x)x"


def package_lexicon_dir():
    """The copy of the lexicons shipped inside the package (a Traversable)."""
    return resources.files("fakeugc").joinpath("resources", "lexicons")


def default_lexicon_dir() -> Path | None:
    """``<project>/data/external/lexicons`` if it holds lexicon files, else ``None``."""
    try:
        from fakeugc.settings import get_settings

        folder = get_settings().external / "lexicons"
    except Exception:  # pragma: no cover - settings unavailable
        return None
    if folder.is_dir() and any(folder.glob("*.txt")):
        return folder
    return None


def parse_lexicon(text: str, name: str = "<lexicon>") -> list[str]:
    """Entries of one lexicon file's text: comments and blanks dropped, order kept,
    duplicates removed. Pattern lexicons (``*_patterns``) are compiled to check them;
    a bad pattern raises ``ValueError`` naming the file and line."""
    out: list[str] = []
    seen: set[str] = set()
    for lineno, line in enumerate(text.splitlines(), start=1):
        entry = line.strip()
        if not entry or entry == "#" or entry.startswith("# "):
            continue
        if name.endswith(PATTERN_SUFFIX):
            try:
                rx = re.compile(entry)
            except re.error as exc:
                raise ValueError(f"{name}.txt line {lineno}: bad pattern {entry!r}: {exc}") from exc
            if rx.search("\n") is not None:
                raise ValueError(f"{name}.txt line {lineno}: pattern {entry!r} matches a newline")
        if entry not in seen:
            seen.add(entry)
            out.append(entry)
    return out


def load_lexicons(folder: str | Path | None = None) -> dict[str, list[str]]:
    """Every ``*.txt`` lexicon in ``folder`` as ``{file stem: entries}``.

    ``folder=None`` reads ``settings.external / "lexicons"`` (the project's
    versioned copy) and falls back to the copy shipped in the package.
    """
    out: dict[str, list[str]] = {}
    if folder is None:
        folder = default_lexicon_dir()
    if folder is None:
        base = package_lexicon_dir()
        files = sorted((p for p in base.iterdir() if p.name.endswith(".txt")), key=lambda p: p.name)
        for p in files:
            stem = p.name[: -len(".txt")]
            out[stem] = parse_lexicon(p.read_text(encoding="utf-8"), stem)
        return out
    folder = Path(folder)
    if not folder.is_dir():
        raise FileNotFoundError(f"lexicon folder {folder} does not exist")
    for p in sorted(folder.glob("*.txt")):
        out[p.stem] = parse_lexicon(p.read_text(encoding="utf-8"), p.stem)
    return out


def _is_word_char(ch: str) -> bool:
    return bool(_ASCII_WORD.fullmatch(ch))


def term_regex(term: str) -> str:
    """Regex source for one literal (already normalised) term.

    Latin/digit edges get word-boundary assertions. The leading assertion is
    placed *after* the first character (``v(?<![a-z0-9]v)x``) so that every
    alternative still starts with a literal and the regex engine can skip
    positions by first character.
    """
    if not term:
        return _NEVER
    head, rest = term[0], term[1:]
    src = re.escape(head)
    if _is_word_char(head):
        src += f"(?<![a-z0-9]{re.escape(head)})"
    src += re.escape(rest)
    if _is_word_char(term[-1]):
        src += "(?![a-z0-9])"
    return src


def normalise_terms(terms: Iterable[str]) -> list[str]:
    """Normalised, de-duplicated, non-empty terms, longest first (ties by text)."""
    seen = {normalise_text(t) for t in terms}
    seen.discard("")
    return sorted(seen, key=lambda t: (-len(t), t))


def _trie_regex(node: dict, last: str) -> str:
    """Regex source of a trie node: continuations first (greedy, so the longest term
    wins), then the end of a term if one ends here (``"" in node``)."""
    alts = [re.escape(ch) + _trie_regex(child, ch) for ch, child in sorted(node.items()) if ch]
    if "" in node:
        end = "(?![a-z0-9])" if _is_word_char(last) else ""
        if not alts:
            return end
        if end:
            return "(?:" + "|".join(alts) + "|" + end + ")"
        return "(?:" + "|".join(alts) + ")?"
    if len(alts) == 1:
        return alts[0]
    return "(?:" + "|".join(alts) + ")"


def terms_alternation(terms: Iterable[str]) -> str:
    """Regex source matching any of the literal terms, the longest at a position, or a
    never-matching regex when there are none.

    Built as a trie (``最(?:佳|好(?:用)?|...)?``) so that the engine tests one
    branch per character instead of every term; each top-level branch starts with
    a literal, which lets the engine skip positions by first character. Latin
    edges get the word-boundary assertions of :func:`term_regex`.
    """
    norm = normalise_terms(terms)
    if not norm:
        return _NEVER
    root: dict = {}
    for t in norm:
        node = root
        for ch in t:
            node = node.setdefault(ch, {})
        node[""] = {}
    branches = []
    for ch, child in sorted(root.items()):
        head = re.escape(ch)
        if _is_word_char(ch):
            head += f"(?<![a-z0-9]{re.escape(ch)})"
        branches.append(head + _trie_regex(child, ch))
    return "|".join(branches)


def compile_terms(terms: Iterable[str] = ()) -> re.Pattern:
    """Compiled alternation of literal terms (see :func:`term_regex`)."""
    return re.compile(terms_alternation(terms), re.MULTILINE)


def compile_patterns(patterns: Iterable[str] = ()) -> tuple[re.Pattern, ...]:
    """Each regex pattern compiled on its own.

    Not one alternation: the regex engine skips positions quickly only when every
    alternative starts with a literal, which a set of free patterns rarely does.
    """
    return tuple(re.compile(p, re.MULTILINE) for p in patterns if p)


def compile_prefixed(prefixes: Iterable[str], terms: Iterable[str]) -> re.Pattern:
    """``prefix`` immediately followed by ``term`` (e.g. 不 + 搓泥 = a denied downside)."""
    pre = normalise_terms(prefixes)
    body = normalise_terms(terms)
    if not pre or not body:
        return re.compile(_NEVER)
    src = "(?:" + "|".join(re.escape(p) for p in pre) + ")(?:" + terms_alternation(body) + ")"
    return re.compile(src, re.MULTILINE)


def lexicon_words(
    lexicons: Mapping[str, list[str]] | None = None,
    folder: str | Path | None = None,
    max_len: int = 6,
) -> list[str]:
    """Words to add to the jieba user dictionary so lexicon terms stay whole tokens.

    Literal (non-pattern) terms, normalised, that contain a Chinese character,
    have no spaces and are 2 to ``max_len`` characters long; sorted.
    """
    lex = load_lexicons(folder) if lexicons is None else lexicons
    words: set[str] = set()
    for name, entries in lex.items():
        if name.endswith(PATTERN_SUFFIX) or name == "negation_prefixes":
            continue
        for t in entries:
            w = normalise_text(t)
            if 2 <= len(w) <= max_len and " " not in w and _CJK.search(w):
                words.add(w)
    return sorted(words)
