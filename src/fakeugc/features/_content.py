"""ContentFeatures: what the post's own text and post fields say (detection.md §3-4).

Lexicon signals (advertising-law absolute claims in context, seeding hype, calls
to action, disclosure and anti-disclosure, fake cons, real and denied downsides,
personal detail, contact redirection, efficacy claims), brand mentions against
the author's brand tags, the undisclosed-ad pattern, the 三段式 template, and
the post's structure (length, emoji, tags, mentions, links).

Every lexicon is matched on the *normalised* text (``text_norm``, see
:func:`fakeugc.features._text.normalise_text`), so full-width characters and
emoji or spaces wedged inside words (最😊好, 最　好) do not hide a term. Context
is applied by masking before counting: absolute-term exclusions (第一次, 最近,
最好别, 唯一的缺点) and negations (不完美) are masked before absolute terms are
counted; anti-disclosure (不是广告) before disclosure (广告); fake cons
(缺点就是太好用), hype (不买后悔) and denied downsides (不搓泥) before real
downsides. A masked span is replaced by filler of the same length, so
positions stay aligned.

Speed: posts are processed in chunks; each chunk's texts are joined into one
string (posts separated by a newline, which normalised text never contains)
and every regex runs once over the joined string; matches are assigned back to
posts by their offsets. Character classes (Latin share, emoji, exclamation
marks) are counted on the UTF-32 code points with numpy. Nothing runs per
token in Python.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from fakeugc.features._catalogue import feature, mark_presence
from fakeugc.features._lexicon import (
    LEXICON_NAMES,
    compile_patterns,
    compile_prefixed,
    compile_terms,
    lexicon_words,
    load_lexicons,
    normalise_terms,
)
from fakeugc.features._text import Segmenter, normalise_text

_F = "content"

F_ABSOLUTE = feature(
    "content_absolute_terms", _F,
    "Advertising-law absolute claims (极限词) in context",
    "uses {value:.0f} advertising-law absolute claims (e.g. 全网第一, 最好用, 独家), "
    "not counting everyday uses such as 第一次 or 最近",
    "uses no advertising-law absolute claims",
)
F_HYPE = feature(
    "content_hype_terms", _F,
    "Seeding hype, persona and fake-discovery words",
    "uses {value:.0f} seeding hype words (e.g. 绝绝子, 闭眼入, 天花板, 无限回购)",
    "uses no seeding hype words",
)
F_CTA = feature(
    "content_cta_terms", _F,
    "Calls to action, urgency and shop redirection",
    "pushes readers to buy or to a link {value:.0f} times (e.g. 冲, 链接在评论区, 限时, 私信)",
    "contains no call to buy",
)
F_DISCLOSURE = feature(
    "content_disclosure_terms", _F,
    "In-text disclosure of sponsorship (合作, 赞助, 广告, #ad)",
    "says in its text that it is sponsored or gifted ({value:.0f} markers such as 合作, "
    "品牌方提供, 广告)",
    "does not say in its text that it is sponsored",
)
F_ANTI = feature(
    "content_anti_disclosure_terms", _F,
    "Unprompted claims of not being an ad (自费, 无广, 纯分享)",
    "insists it is not an ad ({value:.0f} markers such as 自费, 无广, 纯分享)",
    "makes no unprompted not-an-ad claim",
)
F_ANTI_HYPE = feature(
    "content_anti_disclosure_hype", _F,
    "Hype and absolute claims in a post that insists it is not an ad",
    "insists it is not an ad (自费/无广) while using {value:.0f} hype or absolute-claim words",
    "does not combine a not-an-ad claim with hype",
)
F_FAKE_CON = feature(
    "content_fake_con", _F,
    "'The only downside is it's too good' (唯一的缺点就是太好用) pattern",
    "names a downside that is really praise {value:.0f} time(s) "
    "(e.g. 唯一的缺点就是太好用, 硬要说缺点)",
    "does not use the 'only downside is it's too good' pattern",
)
F_DENIED = feature(
    "content_denied_downsides", _F,
    "Common product problems explicitly denied (不搓泥, 不闷痘, 不假滑)",
    "denies {value:.0f} common product problems (e.g. 不搓泥, 不闷痘, 不卡粉), "
    "a stock seeding formula",
    "does not list denied product problems",
)
F_DOWNSIDE = feature(
    "content_real_downside_terms", _F,
    "Concrete downsides and criticism named (踩雷, 过敏, 有点贵)",
    "names only {value:.0f} real downsides (genuine reviews usually mention some, "
    "e.g. 有点贵, 搓泥, 过敏)",
    "names {value:.0f} concrete downsides (e.g. 有点贵, 搓泥, 过敏), as genuine reviews do",
)
F_DETAIL = feature(
    "content_personal_details", _F,
    "Concrete personal usage details (skin type, durations, prices, amounts)",
    "gives only {value:.0f} concrete personal details (skin type, how long it was used, "
    "price, where it was bought)",
    "gives {value:.0f} concrete personal details (e.g. 混干皮, 用了3天, 89块)",
)
F_REDIRECT = feature(
    "content_redirect_contact", _F,
    "Off-platform contact markers (微信, vx, 加薇, QQ, phone numbers, 二维码)",
    "points readers to an off-platform contact {value:.0f} time(s) (e.g. 微信, vx, 加薇, "
    "a phone or QQ number)",
    "contains no off-platform contact",
)
F_EFFICACY = feature(
    "content_efficacy_claims", _F,
    "Medical, aesthetic or wealth promises (根治, 祛斑, 医生同款, 躺赚)",
    "makes {value:.0f} medical, aesthetic or money promises (e.g. 根治, 祛斑, 医生同款, "
    "立竿见影)",
    "makes no medical or money promises",
)
F_BRAND_DENSITY = feature(
    "content_brand_mentions_per_100_tokens", _F,
    "Mentions of tracked brand names or aliases per 100 tokens",
    "mentions tracked brands {value:.1f} times per 100 words",
    "mentions tracked brands rarely ({value:.1f} per 100 words)",
)
F_BRANDS = feature(
    "content_brands_mentioned", _F,
    "Distinct tracked brands mentioned in the text",
    "mentions {value:.0f} distinct tracked brands",
    "mentions {value:.0f} distinct tracked brands",
)
F_UNTAGGED = feature(
    "content_untagged_brand_mention", _F,
    "Text mentions a tracked brand that the author did not tag",
    "mentions a brand in the text without tagging it",
    "tags every brand it mentions",
)
F_UNDISCLOSED = feature(
    "content_undisclosed_promo", _F,
    "Promotional markers in a post without the platform partnership label",
    "carries {value:.0f} promotional markers (hype, absolute claims, calls to buy, contacts) "
    "but no brand-partnership label",
    "is labelled as a partnership or carries no promotional markers",
)
F_DISCLOSURE_UNLABELLED = feature(
    "content_disclosure_unlabelled", _F,
    "Says it is sponsored in the text but lacks the platform partnership label",
    "says it is sponsored (合作/赞助/广告) but is not reported as a brand partnership",
    "does not admit an unreported partnership",
)
F_LENGTH = feature(
    "content_length_chars", _F,
    "Length of title and body in characters (normalised)",
    "is {value:.0f} characters long",
    "is {value:.0f} characters long",
)
F_TOKENS = feature(
    "content_tokens", _F,
    "Number of words (jieba tokens) in title and body",
    "has {value:.0f} words",
    "has {value:.0f} words",
)
F_EMOJI = feature(
    "content_emoji_count", _F,
    "Emoji and platform emoticons ([笑哭R]) in the text",
    "uses {value:.0f} emoji",
    "uses {value:.0f} emoji",
)
F_EMOJI_RATIO = feature(
    "content_emoji_ratio", _F,
    "Share of visible characters that are emoji",
    "is {value:.0%} emoji",
    "is only {value:.0%} emoji",
)
F_TAGS = feature(
    "content_topic_tags", _F,
    "#topic# tags in the text",
    "carries {value:.0f} #topic# tags",
    "carries {value:.0f} #topic# tags",
)
F_MENTIONS = feature(
    "content_mentions", _F,
    "@mentions in the text",
    "@mentions {value:.0f} accounts",
    "@mentions {value:.0f} accounts",
)
F_LINKS = feature(
    "content_links", _F,
    "Links and URLs in the text",
    "contains {value:.0f} links",
    "contains no links",
)
F_EXCLAIM = feature(
    "content_exclamations_per_100_chars", _F,
    "Exclamation marks per 100 characters",
    "uses {value:.1f} exclamation marks per 100 characters",
    "uses few exclamation marks ({value:.1f} per 100 characters)",
)
F_LATIN = feature(
    "content_latin_share", _F,
    "Share of characters that are Latin letters",
    "is {value:.0%} Latin letters",
    "is {value:.0%} Latin letters",
)
F_IMAGES = feature(
    "content_image_count", _F,
    "Images attached to the post",
    "has {value:.0f} images",
    "has {value:.0f} images",
)
F_BRAND_TAGS = feature(
    "content_brand_tag_count", _F,
    "Brands the author tagged on the post",
    "tags {value:.0f} brands",
    "tags {value:.0f} brands",
)
F_DISCLOSED = feature(
    "content_disclosed_partnership", _F,
    "Post carries the platform's brand-partnership label (1) or not (0)",
    "is labelled as a declared brand partnership",
    "carries no declared brand-partnership label",
)
F_ONE_SIDED = feature(
    "content_one_sidedness", _F,
    "Praise (hype, absolute claims, fake cons, denied problems) minus real downsides, "
    "normalised to (-1, 1)",
    "is one-sided praise (one-sidedness {value:+.2f} on a -1 to +1 scale)",
    "is balanced or critical (one-sidedness {value:+.2f} on a -1 to +1 scale)",
)
F_TEMPLATE = feature(
    "content_template_score", _F,
    "Fit to the 三段式 seeding template: pain point, product experience, effect promise "
    "(0 to 1)",
    "follows the 三段式 seeding template (pain point → experience → effect promise; "
    "{value:.2f} of 1)",
    "does not follow the 三段式 seeding template ({value:.2f} of 1)",
)

# "uses 0 hype words" is no reason to flag a post, whatever 0 weighs against missing
mark_presence(F_ABSOLUTE, F_HYPE, F_CTA, F_DISCLOSURE, F_ANTI, F_ANTI_HYPE, F_FAKE_CON,
              F_DENIED, F_REDIRECT, F_EFFICACY, F_UNDISCLOSED, F_BRANDS, F_LINKS, F_MENTIONS,
              F_TAGS, F_BRAND_TAGS, F_EMOJI)

#: feature -> the lexicon matches (keys of :meth:`ContentFeatures.evidence`) whose words
#: the reason sentence quotes when the feature pushes a post towards "fake"
REASON_WORDS: dict[str, tuple[str, ...]] = {
    F_ABSOLUTE: ("absolute",),
    F_HYPE: ("hype",),
    F_CTA: ("cta",),
    F_DISCLOSURE: ("disclosure",),
    F_ANTI: ("anti_disclosure",),
    F_ANTI_HYPE: ("anti_disclosure", "hype", "absolute"),
    F_FAKE_CON: ("fake_con",),
    F_DENIED: ("denied_downside",),
    F_REDIRECT: ("redirect_contact",),
    F_EFFICACY: ("efficacy_claims",),
    F_UNDISCLOSED: ("hype", "absolute", "cta", "redirect_contact", "efficacy_claims"),
    F_DISCLOSURE_UNLABELLED: ("disclosure",),
    F_BRAND_DENSITY: ("brands",),
    F_BRANDS: ("brands",),
    F_UNTAGGED: ("brands",),
}

#: Output columns of :class:`ContentFeatures`, in order.
FEATURES = (
    F_ABSOLUTE, F_HYPE, F_CTA, F_DISCLOSURE, F_ANTI, F_ANTI_HYPE, F_FAKE_CON, F_DENIED,
    F_DOWNSIDE, F_DETAIL, F_REDIRECT, F_EFFICACY, F_BRAND_DENSITY, F_BRANDS, F_UNTAGGED,
    F_UNDISCLOSED, F_DISCLOSURE_UNLABELLED, F_LENGTH, F_TOKENS, F_EMOJI, F_EMOJI_RATIO, F_TAGS,
    F_MENTIONS, F_LINKS, F_EXCLAIM, F_LATIN, F_IMAGES, F_BRAND_TAGS, F_DISCLOSED, F_ONE_SIDED,
    F_TEMPLATE,
)

# --- structure regexes (on normalised text, lower-case) ---------------------------
# "#topic#" (Weibo, and Xiaohongshu's "#护肤[话题]#") or a Latin "#hashtag".
_TAG_RE = re.compile(r"#[^#\s]{1,40}#|#(?<![\w#]#)[a-z0-9_]{2,30}(?![\w#])")
_MENTION_RE = re.compile(r"@(?<![a-z0-9._%+\-]@)[^\s@#:,.!?;。,!?、()\[\]]{1,30}")
_LINK_RE = re.compile(
    r"https?://\S+|www\.[a-z0-9-]+\.\S+|xhslink\S*|t\.cn/\S+"
    r"|\.(?<=[a-z0-9]\.)(?:com|cn|net|org|cc|me|top|xyz|io|ly)(?![a-z])(?:/\S*)?"
)
# Platform emoticons typed as text: Xiaohongshu "[笑哭R]", Weibo "[话筒]"; not "[话题]".
_EMOTICON_RE = re.compile(r"\[(?!话题\])[\u4e00-\u9fff]{1,5}[rR]?\]")

# Code-point classes for numpy counting.
_EMOJI_RANGES = (
    (0x1F000, 0x1F3FA), (0x1F400, 0x1FAFF),  # pictographs, without skin-tone modifiers
    (0x2600, 0x27BF), (0x2B00, 0x2BFF), (0x2300, 0x23FF),
    (0x20E3, 0x20E3),  # keycap (1️⃣ counts once)
    (0x3030, 0x3030), (0x303D, 0x303D), (0x3297, 0x3297), (0x3299, 0x3299),
)
_INVISIBLE_RANGES = (
    (0x200B, 0x200F), (0x2060, 0x2064), (0xFEFF, 0xFEFF), (0xFE00, 0xFE0F), (0x00AD, 0x00AD),
    (0x1F3FB, 0x1F3FF), (0x034F, 0x034F), (0x180E, 0x180E),
)
_WHITESPACE = np.array(
    [9, 10, 11, 12, 13, 28, 29, 30, 31, 32, 0x85, 0xA0, 0x1680, *range(0x2000, 0x200B),
     0x2028, 0x2029, 0x202F, 0x205F, 0x3000],
    dtype=np.uint32,
)

_CHUNK = 20_000
_FILL = "\x00"
_SEP = "\n"


def _in_ranges(cp: np.ndarray, ranges) -> np.ndarray:
    out = np.zeros(cp.shape, dtype=bool)
    for lo, hi in ranges:
        out |= (cp >= lo) & (cp <= hi)
    return out


class _Joined:
    """A chunk of texts joined into one string, with helpers to map matches to rows."""

    __slots__ = ("text", "starts", "n")

    def __init__(self, texts: list[str]):
        self.n = len(texts)
        self.text = _SEP.join(texts) + _SEP
        lens = np.fromiter((len(t) + 1 for t in texts), dtype=np.int64, count=self.n)
        self.starts = np.concatenate([[0], np.cumsum(lens)[:-1]]) if self.n else lens

    def rows(self, pos: np.ndarray) -> np.ndarray:
        return np.searchsorted(self.starts, pos, side="right") - 1

    def codepoints(self) -> np.ndarray:
        return np.frombuffer(self.text.encode("utf-32-le", "surrogatepass"), dtype="<u4")

    def per_row_sum(self, indicator: np.ndarray) -> np.ndarray:
        if self.n == 0:
            return np.zeros(0)
        return np.add.reduceat(indicator.astype(np.int64), self.starts).astype(float)


def _spans(rx: re.Pattern, s: str, joined: _Joined) -> tuple[np.ndarray, ...]:
    """(row, start, end) of every match of ``rx`` in ``s`` that stays inside one row."""
    spans = [m.span() for m in rx.finditer(s)]
    if not spans:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    arr = np.asarray(spans, dtype=np.int64)
    r0 = joined.rows(arr[:, 0])
    r1 = joined.rows(arr[:, 1] - 1)
    keep = (r0 == r1) & (arr[:, 1] > arr[:, 0])  # inside one row, and not empty
    return r0[keep], arr[keep, 0], arr[keep, 1]


def _find(rxs, s: str, joined: _Joined):
    """Rows, starts and ends of the matches of several regexes, overlapping matches merged
    into one (a literal term and a pattern hitting the same words count once)."""
    rows, starts, ends = [], [], []
    for rx in rxs:
        got = _spans(rx, s, joined)
        if len(got[0]):
            rows.append(got[0])
            starts.append(got[1])
            ends.append(got[2])
    if not rows:
        z = np.zeros(0, dtype=np.int64)
        return z, z, z
    r = np.concatenate(rows)
    st = np.concatenate(starts)
    en = np.concatenate(ends)
    if len(rows) > 1:
        order = np.lexsort((-en, st))
        r, st, en = r[order], st[order], en[order]
        prev_end = np.concatenate([[-1], np.maximum.accumulate(en)[:-1]])
        keep = st >= prev_end
        r, st, en = r[keep], st[keep], en[keep]
    return r, st, en


def _count(rxs, s: str, joined: _Joined) -> np.ndarray:
    rows = _find(rxs, s, joined)[0]
    return np.bincount(rows, minlength=joined.n).astype(float)


def _fill(s: str, *found) -> str:
    """``s`` with the spans of the given ``_find`` results replaced by filler of the
    same length (so offsets stay valid)."""
    starts = np.concatenate([f[1] for f in found]) if found else np.zeros(0, dtype=np.int64)
    if not len(starts):
        return s
    ends = np.concatenate([f[2] for f in found])
    order = np.argsort(starts, kind="stable")
    pieces = []
    pos = 0
    for a, b in zip(starts[order].tolist(), ends[order].tolist(), strict=True):
        if b <= pos:
            continue
        a = max(a, pos)
        pieces.append(s[pos:a])
        pieces.append(_FILL * (b - a))
        pos = b
    pieces.append(s[pos:])
    return "".join(pieces)


def _first_last(rows: np.ndarray, pos: np.ndarray, n: int) -> tuple[np.ndarray, np.ndarray]:
    first = np.full(n, np.inf)
    last = np.full(n, -np.inf)
    if len(rows):
        np.minimum.at(first, rows, pos)
        np.maximum.at(last, rows, pos)
    return first, last


def _is_missing(v) -> bool:
    if v is None or v is pd.NA:
        return True
    return isinstance(v, float) and math.isnan(v)


def _bool_float(values) -> np.ndarray:
    out = np.full(len(values), np.nan)
    for i, v in enumerate(values):
        if _is_missing(v):
            continue
        if isinstance(v, bool | np.bool_):
            out[i] = float(v)
        elif isinstance(v, int | float | np.integer | np.floating):
            out[i] = 1.0 if v else 0.0
        elif isinstance(v, str) and v.strip().lower() in ("true", "1", "false", "0"):
            out[i] = 1.0 if v.strip().lower() in ("true", "1") else 0.0
    return out


def _tag_list(v) -> list[str] | None:
    if _is_missing(v):
        return None
    if isinstance(v, str):
        return [v]
    try:
        return [str(x) for x in v if x is not None]
    except TypeError:
        return None


def _tag_count(v) -> float:
    if isinstance(v, list | tuple | np.ndarray):
        return float(len(v))
    if _is_missing(v):
        return np.nan
    return float(len(_tag_list(v) or ()))


def _post_text(X: pd.DataFrame) -> list[str]:
    """Title and body as one string (title first), as :func:`_text.post_text` does,
    tolerating frames without one of the columns."""
    n = len(X)
    title = X["title"].tolist() if "title" in X.columns else [""] * n
    body = X["body"].tolist() if "body" in X.columns else [""] * n
    out = []
    for t, b in zip(title, body, strict=True):
        t = "" if _is_missing(t) else str(t)
        b = "" if _is_missing(b) else str(b)
        out.append((t + "\n" + b).strip())
    return out


def _texts(X: pd.DataFrame, segmenter) -> tuple[list[str], list[str], list]:
    """(text_raw, text_norm, tokens) of each post, computed when the columns are absent."""
    if "text_raw" in X.columns:
        raw = ["" if _is_missing(t) else str(t) for t in X["text_raw"].tolist()]
    else:
        raw = _post_text(X)
    if "text_norm" in X.columns:
        norm = ["" if _is_missing(t) else str(t) for t in X["text_norm"].tolist()]
    else:
        norm = [normalise_text(t) for t in raw]
    if "tokens" in X.columns:
        tokens = [t if isinstance(t, list | tuple | np.ndarray) else [] for t in X["tokens"]]
    else:
        tokens = [segmenter.cut(t) for t in norm]
    return raw, norm, tokens


class ContentFeatures(TransformerMixin, BaseEstimator):
    """Content signals of each post (see the module docstring and :data:`FEATURES`).

    Parameters
    ----------
    brand_terms : tuple of (brand_id, term)
        Names and aliases of the tracked brands (from the export's ``brands``
        table). Empty means no brands table: the brand features are then NaN.
    lexicon_folder : str or Path, optional
        Folder of lexicon files read at ``fit``; ``None`` reads
        ``data/external/lexicons`` with a fallback to the copy in the package.

    Attributes
    ----------
    lexicons_ : dict of str to list of str
        The lexicons read at fit (carried by the pickled estimator).
    brand_index_ : dict of str to str
        Normalised brand term to brand_id.
    matchers_ : dict of str to tuple of re.Pattern
        Compiled matchers, built from ``lexicons_`` and ``brand_index_``.
    segmenter_ : Segmenter
        Used only when the frame has no ``tokens`` column.

    Examples
    --------
    >>> import pandas as pd
    >>> X = pd.DataFrame({"title": [""], "body": ["第一次用, 真的全网第一, 闭眼入!"]})
    >>> out = ContentFeatures().fit(X).transform(X)
    >>> out[["content_absolute_terms", "content_hype_terms"]].iloc[0].tolist()
    [1.0, 1.0]
    """

    def __init__(self, brand_terms: tuple = (), lexicon_folder=None):
        self.brand_terms = brand_terms
        self.lexicon_folder = lexicon_folder

    # -- fitting -------------------------------------------------------------------
    def fit(self, X, y=None):
        lex = load_lexicons(self.lexicon_folder)
        missing = [n for n in LEXICON_NAMES if n not in lex]
        if missing:
            raise ValueError(f"lexicon files missing: {', '.join(m + '.txt' for m in missing)}")
        self.lexicons_ = {k: list(v) for k, v in lex.items()}
        index: dict[str, str] = {}
        for pair in self.brand_terms or ():
            bid, term = pair
            t = normalise_text(term) if isinstance(term, str) else ""
            if t and t not in index and bid is not None:
                index[t] = str(bid)
        self.brand_index_ = index
        self.matchers_ = self._compile(self.lexicons_, self.brand_index_)
        self.segmenter_ = Segmenter(
            tuple(lexicon_words(self.lexicons_)) + tuple(sorted(index)), hmm=False
        )
        self.n_features_in_ = X.shape[1] if hasattr(X, "shape") and len(X.shape) > 1 else 0
        return self

    @staticmethod
    def _compile(lex: Mapping[str, list[str]], brand_index: Mapping[str, str]) -> dict:
        neg = lex["negation_prefixes"]
        return {
            "absolute": (compile_terms(lex["absolute_terms"]),),
            "absolute_mask": (
                compile_terms(lex["absolute_exclusions"]),
                compile_prefixed(neg, lex["absolute_terms"]),
            ),
            "hype": (compile_terms(lex["seeding_hype"]),),
            "cta": (
                compile_terms(lex["call_to_action"]),
                *compile_patterns(lex["call_to_action_patterns"]),
            ),
            "disclosure": (compile_terms(lex["disclosure"]),),
            "anti": (compile_terms(lex["anti_disclosure"]),),
            "fake_con": (
                compile_terms(lex["fake_con"]),
                *compile_patterns(lex["fake_con_patterns"]),
            ),
            "denied": (compile_prefixed(neg, lex["real_downside"]),),
            "downside": (compile_terms(lex["real_downside"]),),
            "detail": (
                compile_terms(lex["personal_detail"]),
                *compile_patterns(lex["personal_detail_patterns"]),
            ),
            "redirect": (
                compile_terms(lex["redirect_contact"]),
                *compile_patterns(lex["redirect_contact_patterns"]),
            ),
            "efficacy": (compile_terms(lex["efficacy_claims"]),),
            "pain": (compile_terms(lex["template_pain"]),),
            "experience": (compile_terms(lex["template_experience"]),),
            "effect": (compile_terms(lex["template_effect"]),),
            "brand": (compile_terms(normalise_terms(brand_index)),) if brand_index else (),
        }

    # -- transform -----------------------------------------------------------------
    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "matchers_")
        if not isinstance(X, pd.DataFrame):
            raise TypeError("ContentFeatures expects the post frame (a pandas DataFrame)")
        n = len(X)
        raw, norm, tokens = _texts(X, self.segmenter_)
        out = np.full((n, len(FEATURES)), np.nan)
        promo = np.zeros(n)
        brand_sets: dict[int, set] = {}
        for lo in range(0, n, _CHUNK):
            hi = min(n, lo + _CHUNK)
            block = self._text_block(raw[lo:hi], norm[lo:hi], tokens[lo:hi])
            for j, name in enumerate(FEATURES):
                if name in block:
                    out[lo:hi, j] = block[name]
            promo[lo:hi] = block["_promo"]
            for r, found in block.get("_brand_sets", {}).items():
                brand_sets[lo + r] = found
        self._post_fields(X, out, promo, brand_sets)
        return pd.DataFrame(out, index=X.index, columns=list(FEATURES))

    def _lexicon_spans(self, s: str, J: _Joined) -> dict[str, tuple]:
        """Matches of every lexicon signal in the joined normalised text ``s`` as
        ``(rows, starts, ends)``, with the context masks applied."""
        m = self.matchers_
        found: dict[str, tuple] = {}
        # absolute claims: exclusions (第一次, 最近, 最好别) and negations (不完美) masked
        excluded = _find(m["absolute_mask"], s, J)
        found["absolute"] = _find(m["absolute"], _fill(s, excluded), J)
        found["hype"] = _find(m["hype"], s, J)
        found["cta"] = _find(m["cta"], s, J)
        found["anti_disclosure"] = _find(m["anti"], s, J)
        # disclosure: anti-disclosure (不是广告) masked first
        found["disclosure"] = _find(m["disclosure"], _fill(s, found["anti_disclosure"]), J)
        # downsides: fake cons masked, then denied downsides (不搓泥) and hype (不买后悔)
        found["fake_con"] = _find(m["fake_con"], s, J)
        found["denied_downside"] = _find(m["denied"], _fill(s, found["fake_con"]), J)
        s_down = _fill(s, found["fake_con"], found["denied_downside"], found["hype"])
        found["real_downside"] = _find(m["downside"], s_down, J)
        found["personal_detail"] = _find(m["detail"], s, J)
        found["redirect_contact"] = _find(m["redirect"], s, J)
        found["efficacy_claims"] = _find(m["efficacy"], s, J)
        if m["brand"]:
            found["brands"] = _find(m["brand"], s, J)
        return found

    def evidence(self, X: pd.DataFrame) -> list[dict[str, list[str]]]:
        """The matched words behind the lexicon counts, per post (for reason codes:
        "极限词 in context"). Keys: absolute, hype, cta, disclosure, anti_disclosure,
        fake_con, denied_downside, real_downside, personal_detail, redirect_contact,
        efficacy_claims and, with brand terms, brands. Words are as matched on the
        normalised text."""
        check_is_fitted(self, "matchers_")
        if "text_norm" in X.columns:
            norm = ["" if _is_missing(t) else str(t) for t in X["text_norm"].tolist()]
        else:
            norm = [normalise_text(t) for t in _post_text(X)]
        out: list[dict[str, list[str]]] = []
        for lo in range(0, len(norm), _CHUNK):
            J = _Joined(norm[lo : lo + _CHUNK])
            found = self._lexicon_spans(J.text, J)
            block = [{k: [] for k in found} for _ in range(J.n)]
            for key, (rows, st, en) in found.items():
                for r, a, b in zip(rows.tolist(), st.tolist(), en.tolist(), strict=True):
                    block[r][key].append(J.text[a:b])
            out.extend(block)
        return out

    def reason_words(self, X: pd.DataFrame, wanted: list, limit: int = 3) -> list[dict]:
        """For each row of X, the words of this post behind each content feature in
        ``wanted[i]`` (feature names), for the reason sentence: "uses 3 seeding hype
        words ... in this post: 闭眼入, 天花板". Features with no words (length, emoji,
        ...) and rows wanting none are skipped; at most ``limit`` distinct words each."""
        out: list[dict] = [{} for _ in range(len(X))]
        need = [i for i, w in enumerate(wanted) if any(f in REASON_WORDS for f in w)]
        if not need:
            return out
        found = self.evidence(X.iloc[need])
        for i, ev in zip(need, found, strict=True):
            for f in wanted[i]:
                keys = REASON_WORDS.get(f)
                if keys:
                    words = list(dict.fromkeys(w for k in keys for w in ev.get(k, ())))
                    if words:
                        out[i][f] = words[:limit]
        return out

    def _text_block(self, raw: list[str], norm: list[str], tokens: list) -> dict:
        m = self.matchers_
        n = len(norm)
        J = _Joined(norm)
        s = J.text
        f: dict[str, np.ndarray] = {}

        def count(key: str) -> np.ndarray:
            return np.bincount(found[key][0], minlength=n).astype(float)

        found = self._lexicon_spans(s, J)
        f[F_ABSOLUTE] = count("absolute")
        f[F_HYPE] = hype = count("hype")
        f[F_CTA] = cta = count("cta")
        f[F_ANTI] = anti = count("anti_disclosure")
        f[F_DISCLOSURE] = count("disclosure")
        f[F_FAKE_CON] = fake_con = count("fake_con")
        f[F_DENIED] = denied = count("denied_downside")
        f[F_DOWNSIDE] = downside = count("real_downside")
        f[F_DETAIL] = count("personal_detail")
        f[F_REDIRECT] = redirect = count("redirect_contact")
        f[F_EFFICACY] = efficacy = count("efficacy_claims")
        absolute = f[F_ABSOLUTE]
        f[F_ANTI_HYPE] = np.where(anti > 0, hype + absolute, 0.0)
        f["_promo"] = hype + absolute + cta + redirect + efficacy

        pos = hype + absolute + fake_con + denied
        f[F_ONE_SIDED] = (pos - downside) / (pos + downside + 1.0)

        # 三段式 template: stages present, and in order
        stage = {}
        for key in ("pain", "experience", "effect"):
            rows, st, _ = _find(m[key], s, J)
            stage[key] = _first_last(rows, st, n)
        present = sum(np.isfinite(stage[k][0]).astype(float) for k in stage)
        ordered = (
            (stage["pain"][0] < stage["experience"][1])
            & (stage["experience"][0] < stage["effect"][1])
        ).astype(float)
        f[F_TEMPLATE] = (present + ordered) / 4.0

        # brands
        n_tok = np.fromiter((len(t) for t in tokens), dtype=float, count=n)
        f[F_TOKENS] = n_tok
        if "brands" in found:
            hit_rows, hit_st, hit_en = found["brands"]
            mentions = np.bincount(hit_rows, minlength=n).astype(float)
            density = 100.0 * mentions / np.maximum(n_tok, 1)
            f[F_BRAND_DENSITY] = np.where(n_tok > 0, density, np.nan)
            per_row: dict[int, set] = {}
            for r, a, b in zip(hit_rows.tolist(), hit_st.tolist(), hit_en.tolist(), strict=True):
                per_row.setdefault(r, set()).add(self.brand_index_.get(s[a:b]))
            f[F_BRANDS] = np.fromiter(
                (len(per_row.get(i, ())) for i in range(n)), dtype=float, count=n
            )
            f["_brand_sets"] = per_row

        # structure on normalised text
        f[F_LENGTH] = np.fromiter((len(t) for t in norm), dtype=float, count=n)
        f[F_TAGS] = _count((_TAG_RE,), s, J)
        f[F_MENTIONS] = _count((_MENTION_RE,), s, J)
        f[F_LINKS] = _count((_LINK_RE,), s, J)
        cp = J.codepoints()
        visible = J.per_row_sum(~np.isin(cp, _WHITESPACE))
        excl = J.per_row_sum(cp == 33)
        latin = J.per_row_sum((cp >= 97) & (cp <= 122))
        with np.errstate(divide="ignore", invalid="ignore"):
            f[F_EXCLAIM] = np.where(visible > 0, 100.0 * excl / visible, np.nan)
            f[F_LATIN] = np.where(visible > 0, latin / visible, np.nan)

        # emoji on the raw text (normalisation strips emoji wedged inside words)
        R = _Joined(raw)
        rcp = R.codepoints()
        emoji = R.per_row_sum(_in_ranges(rcp, _EMOJI_RANGES))
        e_rows, e_st, e_en = _find((_EMOTICON_RE,), R.text, R)
        emoticons = np.bincount(e_rows, minlength=n).astype(float)
        # an emoticon "[笑哭R]" is one emoji but several visible characters
        emo_chars = np.bincount(e_rows, weights=(e_en - e_st).astype(float), minlength=n)
        raw_visible = R.per_row_sum(
            ~np.isin(rcp, _WHITESPACE) & ~_in_ranges(rcp, _INVISIBLE_RANGES)
        )
        f[F_EMOJI] = emoji + emoticons
        denom = raw_visible - emo_chars + emoticons
        with np.errstate(divide="ignore", invalid="ignore"):
            f[F_EMOJI_RATIO] = np.where(denom > 0, (emoji + emoticons) / denom, np.nan)
        return f

    def _post_fields(self, X: pd.DataFrame, out: np.ndarray, promo: np.ndarray,
                     brand_sets: dict[int, set]) -> None:
        """Fields that need the post columns, filled into ``out`` in place."""
        n = len(X)
        col = {name: j for j, name in enumerate(FEATURES)}
        disclosed = (
            _bool_float(X["disclosed_partnership"].tolist())
            if "disclosed_partnership" in X.columns
            else np.full(n, np.nan)
        )
        out[:, col[F_DISCLOSED]] = disclosed
        if "image_count" in X.columns:
            img = pd.to_numeric(X["image_count"], errors="coerce").to_numpy(
                dtype=float, na_value=np.nan
            )
            out[:, col[F_IMAGES]] = np.where(img >= 0, img, np.nan)
        tags = X["brand_tags"].tolist() if "brand_tags" in X.columns else [None] * n
        out[:, col[F_BRAND_TAGS]] = [_tag_count(t) for t in tags]

        # promotional markers and disclosure against the platform label
        disc = out[:, col[F_DISCLOSURE]]
        out[:, col[F_UNDISCLOSED]] = np.where(
            disclosed == 0, promo, np.where(disclosed == 1, 0.0, np.nan)
        )
        out[:, col[F_DISCLOSURE_UNLABELLED]] = np.where(
            disclosed == 0, (disc > 0).astype(float), np.where(disclosed == 1, 0.0, np.nan)
        )

        # brand mentioned but not tagged
        if self.matchers_["brand"]:
            untagged = np.zeros(n)
            for i in range(n):
                mentioned = brand_sets.get(i)
                if not mentioned:
                    continue
                tagged = _tag_list(tags[i])
                if tagged is None:
                    untagged[i] = np.nan
                else:
                    untagged[i] = float(bool(mentioned - set(tagged)))
            out[:, col[F_UNTAGGED]] = untagged

    def get_feature_names_out(self, input_features=None):
        return np.asarray(FEATURES, dtype=object)
