"""Text normalisation and jieba segmentation shared by every text-based signal.

Seeding posts dodge keyword checks with full-width characters, traditional
characters, zero-width spaces and emoji or spaces inserted inside words
(最　好, 最😊好). Every text signal reads the *normalised* text, and the text is
segmented once per post by :class:`TokenizeText`, which adds ``text_norm`` and
``tokens`` columns that later builders reuse.

jieba's tokenizer cannot be pickled and is slow to build (~1 s), so
:class:`Segmenter` builds it lazily once per process and drops it when pickled
(engineering.md §6).
"""

from __future__ import annotations

import os
import re
import tempfile
import threading
import unicodedata
import weakref
from functools import lru_cache
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

# Zero-width and formatting characters used to split words invisibly.
_INVISIBLE = re.compile("[\u200b-\u200f\u2060-\u2064\ufeff\u00ad\u034f\u180e]")
# Emoji and pictographs (and their modifiers), for counting and stripping.
EMOJI_RE = re.compile(
    "[\U0001f000-\U0001faff\u2600-\u27bf\u2b00-\u2bff\u2300-\u23ff\ufe0f\u20e3"
    "\U0001f1e6-\U0001f1ff\u3030\u303d\u3297\u3299]"
)
_CJK = "\u3400-\u9fff"
# A run of spaces, emoji, or light punctuation wedged between two CJK characters.
_WEDGE = re.compile(
    f"(?<=[{_CJK}])(?:[\\s\u3000·•*_~\\-|/\\\\]|"
    f"{EMOJI_RE.pattern})+(?=[{_CJK}])"
)
_SPACES = re.compile(r"\s+")


def _ascii_compat_table() -> dict[int, str]:
    """Full-width forms and punctuation (，！～…‼ and the ideographic space) whose NFKC
    form is plain ASCII: each is a starter that composes with nothing, so replacing it
    by that form first leaves the NFKC of the text unchanged."""
    table = {}
    for cp in [*range(0x2000, 0x2070), *range(0x3000, 0x3040), *range(0xFF00, 0xFFF0)]:
        ch = chr(cp)
        n = unicodedata.normalize("NFKC", ch)
        if (n != ch and n.isascii() and unicodedata.combining(ch) == 0
                and not any(unicodedata.combining(c) for c in n)):
            table[cp] = n
    return table


_ASCII_COMPAT = _ascii_compat_table()


def nfkc(text: str) -> str:
    """``unicodedata.normalize("NFKC", text)``, faster on Chinese posts: their usual
    full-width punctuation is mapped by a table, and the full normalisation runs only
    when something else still needs it (about half the cost on synthetic posts)."""
    s = text.translate(_ASCII_COMPAT)
    return s if unicodedata.is_normalized("NFKC", s) else unicodedata.normalize("NFKC", s)


@lru_cache(maxsize=1)
def _traditional() -> tuple[frozenset, object]:
    """Characters that differ between traditional and simplified, and a converter."""
    import opencc as _opencc_pkg
    from opencc import OpenCC

    path = Path(_opencc_pkg.__file__).parent / "dictionary" / "TSCharacters.txt"
    chars = set()
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.split()
            if len(parts) >= 2 and parts[0] not in parts[1:]:
                chars.add(parts[0])
    return frozenset(chars), OpenCC("t2s")


def normalise_text(text: str | None) -> str:
    """Normalise text against keyword-dodging tricks.

    NFKC (full-width to half-width), lower-case Latin, traditional to simplified
    Chinese (only when a traditional character is present, which keeps the common
    case fast), invisible characters removed, spaces/emoji/light punctuation wedged
    between Chinese characters removed, whitespace collapsed.

    >>> normalise_text("最　好用！ＹＹＤＳ")
    '最好用!yyds'
    >>> normalise_text("最😊好")
    '最好'
    >>> normalise_text("這款面霜")
    '这款面霜'
    """
    if not text:
        return ""
    s = _INVISIBLE.sub("", str(text))
    s = nfkc(s)
    s = _INVISIBLE.sub("", s)
    trad, cc = _traditional()
    for _ in range(3):  # a few characters simplify in two steps (薴 → 苧 → 苎)
        if trad.isdisjoint(s):
            break
        s = cc.convert(s)
    s = _WEDGE.sub("", s)
    s = _SPACES.sub(" ", s).strip()
    return s.lower()


def _jieba_cache_dir() -> str:
    base = os.environ.get("FAKEUGC_JIEBA_CACHE") or os.path.join(
        tempfile.gettempdir(), f"fakeugc-jieba-{os.getuid() if hasattr(os, 'getuid') else 0}"
    )
    os.makedirs(base, exist_ok=True)
    return base


#: jieba tokenizers built in this process, by (user words, HMM). A segmenter with the
#: same settings (a model unpickled right after training for MLflow's input-example
#: check, a model loaded twice, a second copy of a pipeline) uses the one already
#: built instead of building the ~0.5 s dictionary again. Weak: a tokenizer lives
#: only as long as a segmenter holds it.
_BUILT: weakref.WeakValueDictionary = weakref.WeakValueDictionary()
_BUILD_LOCK = threading.Lock()


class Segmenter:
    """A picklable jieba segmenter with a user dictionary.

    The underlying ``jieba.Tokenizer`` is built on first use in each process (or
    taken from another segmenter of the process with the same user words and HMM
    setting), with its cache file in a per-user folder, and dropped when pickled.
    """

    def __init__(self, user_words: tuple[str, ...] = (), hmm: bool = False):
        self.user_words = tuple(user_words)
        self.hmm = hmm
        self._tokenizer = None

    def __getstate__(self):
        return {"user_words": self.user_words, "hmm": self.hmm}

    def __setstate__(self, state):
        self.user_words = tuple(state["user_words"])
        self.hmm = state["hmm"]
        self._tokenizer = None

    @property
    def tokenizer(self):
        if self._tokenizer is None:
            with _BUILD_LOCK:
                if self._tokenizer is None:
                    key = (self.user_words, bool(self.hmm))
                    tok = _BUILT.get(key)
                    if tok is None:
                        tok = self._build()
                        _BUILT[key] = tok
                    self._tokenizer = tok
        return self._tokenizer

    def _build(self):
        import jieba

        jieba.setLogLevel(60)
        tok = jieba.Tokenizer()
        tok.tmp_dir = _jieba_cache_dir()
        tok.initialize()
        for w in self.user_words:
            w = normalise_text(w)
            if w and not w.isspace():
                tok.add_word(w, freq=max(tok.suggest_freq(w, tune=False), 2000))
        return tok

    def cut(self, text: str, share=None) -> list[str]:
        """Tokens of already-normalised text, whitespace and empty tokens removed.

        ``share``, a dict's ``setdefault``, makes equal tokens one string object."""
        if not text:
            return []
        if share is None:
            return [t for t in self.tokenizer.lcut(text, HMM=self.hmm) if t.strip()]
        return [share(t, t) for t in self.tokenizer.lcut(text, HMM=self.hmm) if t.strip()]


def post_text(frame: pd.DataFrame) -> pd.Series:
    """Title and body of each post as one string (title first)."""
    title = frame["title"].fillna("").astype(str) if "title" in frame else ""
    body = frame["body"].fillna("").astype(str) if "body" in frame else ""
    return (title + "\n" + body).str.strip()


class TokenizeText(TransformerMixin, BaseEstimator, auto_wrap_output_keys=None):
    """Add ``text_raw``, ``text_norm`` and ``tokens`` columns to the post frame.

    Runs first in the feature pipeline so that every text builder shares one
    segmentation pass (segmentation is the most expensive step). Other columns
    pass through unchanged. A frame that already has ``tokens`` is left as it is.

    Parameters
    ----------
    user_words : tuple of str
        Extra dictionary words: brand names and aliases, lexicon terms.
    hmm : bool
        jieba's HMM new-word discovery (off by default: faster, and a fixed
        vocabulary segments the same text the same way in training and scoring).
    """

    def __init__(self, user_words: tuple[str, ...] = (), hmm: bool = False):
        self.user_words = user_words
        self.hmm = hmm

    def fit(self, X, y=None):
        self.segmenter_ = Segmenter(tuple(self.user_words), hmm=self.hmm)
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        return self

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        if "tokens" in X.columns and "text_norm" in X.columns:
            return X
        seg = getattr(self, "segmenter_", None) or Segmenter(tuple(self.user_words), self.hmm)
        out = X.copy()
        raw = post_text(X)
        norm = raw.map(normalise_text)
        out["text_raw"] = raw
        out["text_norm"] = norm
        # equal tokens share one string object: the same values, a fraction of the memory
        # (a night of posts repeats a small vocabulary)
        memo: dict[str, str] = {}
        share = memo.setdefault
        out["tokens"] = [seg.cut(t, share) for t in norm.to_numpy()]
        return out

    def set_output(self, *, transform=None):
        """The output is always the input frame plus three columns (no wrapping)."""
        return self

    def get_feature_names_out(self, input_features=None):
        if hasattr(self, "feature_names_in_"):
            names = list(self.feature_names_in_)
        else:
            names = [] if input_features is None else list(input_features)
        for extra in ("text_raw", "text_norm", "tokens"):
            if extra not in names:
                names.append(extra)
        return np.asarray(names, dtype=object)
