"""Coordination features: paraphrase clusters, brand bursts, co-targeting crews.

Paid intermediaries (代理/中介) pay many established accounts to post paraphrases
of one brief about one brand within days. One post at a time looks genuine; the
crew shows only across posts (detection.md §1 lesson 2, §3 Coordination, §7.3):

* **shared-brief clusters** — MinHash LSH over shingles of jieba tokens after
  normalisation and a synonym map (好用/好使/超好用 → 好用), n-grams taken within
  sentences so 调整语序 does not change the shingle set (the QUT toolkit's
  single-character tokeniser is the trap this avoids); candidate pairs are
  verified by estimated Jaccard and kept only between *different accounts*
  within ``window_days``; clusters are connected components;
* **brand bursts that are homogeneous** — a brand's volume around the post
  against the brand's fitted baseline rate, multiplied by how much of that
  volume is one cluster or one hashtag set (a launch burst of varied organic
  posts is a burst, not a campaign, so the raw burst is not a feature:
  :meth:`CoordinationFeatures.brand_burst` gives it for analysts);
* **shared hashtag sets**, **co-targeting** (other accounts that co-posted with
  this account on >= 2 brands within windows, with FRAUDAR's 1/log(degree + 5)
  down-weighting of popular brands), and **device-cluster sharing**.

These are cross-post signals, so they are computed once over the whole night:
:func:`coordination_keys` projects each post to a compact row (ids, time,
brands, hashtags, device cluster, a 64 x uint32 MinHash signature) and
:func:`coordination_context` turns the keys of the whole night into per-post
``ctx_coordination_*`` columns. :class:`CoordinationFeatures` uses those columns
when the frame carries them (chunked scoring) and otherwise computes them on the
frame it is given, treating it as the whole night. Cluster ids are a side
output (:meth:`CoordinationFeatures.cluster_ids`, :func:`assign_clusters`),
never a model feature.
"""

from __future__ import annotations

import hashlib
import math
import re
from collections.abc import Iterable, Mapping
from functools import lru_cache
from itertools import chain

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
from scipy.sparse import coo_matrix
from scipy.sparse.csgraph import connected_components
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from fakeugc.features._catalogue import feature, mark_presence
from fakeugc.features._minhash import (
    band_key,
    distinct_partner_accounts,
    lsh_params,
    minhash_signatures,
    pair_similarity,
    shingle_arrays,
    unique_sorted,
    window_counts,
    window_pair_blocks,
)
from fakeugc.features._text import _INVISIBLE, Segmenter, nfkc, normalise_text, post_text

__all__ = [
    "CTX_COLUMNS",
    "CTX_PREFIX",
    "CoordinationFeatures",
    "assign_clusters",
    "brand_terms_from_table",
    "coordination_context",
    "coordination_keys",
    "extract_hashtags",
]

FAMILY = "coordination"
CTX_PREFIX = "ctx_coordination_"
_DAY = 86_400

# --------------------------------------------------------------------------- catalogue

F_CLUSTER_SIZE = feature(
    "coord_cluster_size",
    FAMILY,
    "posts in the post's near-duplicate / paraphrase cluster (itself included)",
    "text is one of {value:.0f} paraphrases posted by {row[coord_cluster_other_accounts]:.0f} "
    "other accounts within {row[coord_cluster_span_days]:.1f} days",
    "no other account posted a paraphrase of this text",
)
F_CLUSTER_ACCOUNTS = feature(
    "coord_cluster_other_accounts",
    FAMILY,
    "distinct other accounts in the post's paraphrase cluster",
    "{value:.0f} other accounts posted paraphrases of the same text",
    "no other account posted a paraphrase of this text",
)
F_CLUSTER_SPAN = feature(
    "coord_cluster_span_days",
    FAMILY,
    "days between the first and last post of the paraphrase cluster",
    "the {row[coord_cluster_size]:.0f} paraphrases were all posted within {value:.1f} days",
    "the paraphrases are spread over {value:.1f} days",
)
F_CLUSTER_PURITY = feature(
    "coord_cluster_brand_purity",
    FAMILY,
    "share of the paraphrase cluster's posts about its most common brand",
    "{value:.0%} of the {row[coord_cluster_size]:.0f} paraphrases promote the same brand",
    "the paraphrases are about different brands ({value:.0%} share one brand)",
)
F_TEMPLATE = feature(
    "coord_cluster_is_template",
    FAMILY,
    "1 if the paraphrase cluster spans at least `template_min_accounts` accounts (a shared brief)",
    "text follows a shared brief used by {row[coord_cluster_other_accounts]:.0f} other accounts",
    "text is not part of a multi-account template",
)
F_CLUSTER_DEVICE = feature(
    "coord_cluster_shared_device_accounts",
    FAMILY,
    "accounts of the paraphrase cluster that share a device cluster with another of its accounts",
    "{value:.0f} accounts behind these paraphrases log in from shared devices",
    "the accounts behind these paraphrases use separate devices",
)
F_MAX_SIM = feature(
    "coord_max_similarity",
    FAMILY,
    "highest estimated Jaccard similarity (MinHash) to another account's post within the window "
    "(0 when no candidate was found)",
    "text is {value:.0%} similar to another account's post from the same days",
    "text is not close to any other account's post",
)
F_EXACT = feature(
    "coord_exact_copy_accounts",
    FAMILY,
    "other accounts that posted the identical normalised text within the window",
    "{value:.0f} other accounts posted exactly the same text within the window",
    "no other account posted exactly this text",
)
F_HASHTAGS = feature(
    "coord_hashtag_set_accounts",
    FAMILY,
    "other accounts that used the same set of >= 2 hashtags within the window",
    "{value:.0f} other accounts used exactly the same hashtag set within the window",
    "the hashtag set is not shared with other accounts",
)
F_HOMOGENEITY = feature(
    "coord_brand_homogeneity",
    FAMILY,
    "share of the brand's other posts in the window that are paraphrases of this post or use "
    "the same hashtag set",
    "{value:.0%} of the other posts about this brand at this time repeat this text or hashtags",
    "the other posts about this brand at this time are varied",
)
F_BURST_HOMOG = feature(
    "coord_burst_homogeneity",
    FAMILY,
    "posts about the post's brand in a window around it over the brand's own baseline "
    "(the burst), times the share of them that repeat this text or hashtag set: the part of "
    "a burst that is one brief. The burst alone is not a feature: launches and viral "
    "moments burst with varied text, and a model given the raw burst flags them",
    "posts repeating this text or its hashtags ({row[coord_brand_homogeneity]:.0%} of its "
    "brand's posts at this time) reached {value:.1f}x the brand's usual volume",
    "no homogeneous burst around its brand",
)
F_COTARGET = feature(
    "coord_cotarget_accounts",
    FAMILY,
    "other accounts that co-posted with this account on this brand and on at least one more "
    "brand, each time within the window (a repeated crew)",
    "{value:.0f} other accounts repeatedly post about the same brands at the same time as "
    "this account",
    "this account has no repeated co-posting partners",
)
F_COTARGET_SCORE = feature(
    "coord_cotarget_score",
    FAMILY,
    "co-targeting partners weighted by shared brands, each brand weighted 1/log(accounts + 5) "
    "(FRAUDAR), so popular brands give little evidence",
    "dense account x brand co-posting block (score {value:.2f}, "
    "{row[coord_cotarget_accounts]:.0f} partners)",
    "no dense account x brand co-posting block",
)
F_DEVICE_BRAND = feature(
    "coord_device_brand_accounts",
    FAMILY,
    "other accounts on the same device cluster that posted about the same brand within the window",
    "{value:.0f} other accounts on the same device posted about this brand within the window",
    "no other account on this device posted about this brand",
)
# "0 other accounts posted paraphrases" is no reason to flag a post
mark_presence(F_CLUSTER_ACCOUNTS, F_CLUSTER_DEVICE, F_EXACT, F_HASHTAGS, F_COTARGET,
              F_COTARGET_SCORE, F_DEVICE_BRAND)

FEATURES = (
    F_CLUSTER_SIZE,
    F_CLUSTER_ACCOUNTS,
    F_CLUSTER_SPAN,
    F_CLUSTER_PURITY,
    F_TEMPLATE,
    F_CLUSTER_DEVICE,
    F_MAX_SIM,
    F_EXACT,
    F_HASHTAGS,
    F_HOMOGENEITY,
    F_BURST_HOMOG,
    F_COTARGET,
    F_COTARGET_SCORE,
    F_DEVICE_BRAND,
)

#: The raw brand burst was a feature of models fitted before it was dropped (a launch
#: bursts too); such pickled models still get it, in its old place, so a registered
#: champion keeps scoring after an upgrade. Not in the catalogue: not a current feature.
LEGACY_BURST = "coord_brand_burst_ratio"
LEGACY_FEATURES = (*FEATURES[:9], LEGACY_BURST, *FEATURES[9:])

# --------------------------------------------------------------------------- context columns

C_CLUSTER_ID = CTX_PREFIX + "cluster_id"
C_CLUSTER_SIZE = CTX_PREFIX + "cluster_size"
C_CLUSTER_ACCOUNTS = CTX_PREFIX + "cluster_accounts"
C_CLUSTER_SPAN = CTX_PREFIX + "cluster_span_days"
C_CLUSTER_BRAND = CTX_PREFIX + "cluster_brand"
C_CLUSTER_PURITY = CTX_PREFIX + "cluster_brand_purity"
C_CLUSTER_DEVICE = CTX_PREFIX + "cluster_shared_device_accounts"
C_MAX_SIM = CTX_PREFIX + "max_similarity"
C_EXACT = CTX_PREFIX + "exact_copy_accounts"
C_HASHTAGS = CTX_PREFIX + "hashtag_set_accounts"
C_BURST_BRAND = CTX_PREFIX + "burst_brand"
C_BRAND_POSTS = CTX_PREFIX + "brand_window_posts"
C_BRAND_DAYS = CTX_PREFIX + "brand_window_days"
C_BRAND_RATE = CTX_PREFIX + "brand_night_rate"
C_BRAND_MEAN_RATE = CTX_PREFIX + "brand_mean_night_rate"
C_HOMOGENEITY = CTX_PREFIX + "brand_homogeneity"
C_DEVICE_BRAND = CTX_PREFIX + "device_brand_accounts"
C_COTARGET = CTX_PREFIX + "cotarget_accounts"
C_COTARGET_SCORE = CTX_PREFIX + "cotarget_score"

#: Every ``ctx_coordination_*`` column, in order. Object columns: cluster id and brands.
CTX_COLUMNS = (
    C_CLUSTER_ID,
    C_CLUSTER_SIZE,
    C_CLUSTER_ACCOUNTS,
    C_CLUSTER_SPAN,
    C_CLUSTER_BRAND,
    C_CLUSTER_PURITY,
    C_CLUSTER_DEVICE,
    C_MAX_SIM,
    C_EXACT,
    C_HASHTAGS,
    C_BURST_BRAND,
    C_BRAND_POSTS,
    C_BRAND_DAYS,
    C_BRAND_RATE,
    C_BRAND_MEAN_RATE,
    C_HOMOGENEITY,
    C_DEVICE_BRAND,
    C_COTARGET,
    C_COTARGET_SCORE,
)
_CTX_OBJECT = (C_CLUSTER_ID, C_CLUSTER_BRAND, C_BURST_BRAND)

KEY_COLUMNS = (
    "post_id",
    "account_id",
    "published_at",
    "brands",
    "hashtags",
    "device_cluster",
    "text_hash",
    "n_shingles",
    "minhash",
)

# --------------------------------------------------------------------------- hashtags and brands

_TAG_CLOSED = re.compile(r"#([^#\s]{1,40}?)(?:\[话题\])?#")
_TAG_OPEN = re.compile(r"#([^#\s]{1,40})(?=\s|$)")
_TAG_SUFFIX = re.compile(r"\[话题\]$")


def extract_hashtags(text: str | None) -> list[str]:
    """Hashtags of a post, normalised, distinct, in order of appearance.

    Xiaohongshu writes ``#topic#`` or ``#topic[话题]#``; other clients write
    ``#topic`` followed by a space. Read this from the *raw* text: the shared
    normaliser removes spaces between Chinese characters, which glues an open
    ``#topic`` to the next word.

    >>> extract_hashtags("好物 #护肤[话题]# #好物分享# #OOTD 今天")
    ['护肤', '好物分享', 'ootd']
    """
    if not text or not isinstance(text, str):
        return []
    starts = [i for i in (text.find("#"), text.find("＃")) if i >= 0]
    if not starts:
        return []
    # Tags are read forward from a "#", so only the text from the first one on is
    # normalised (NFKC of a whole post costs more than the rest of this function; a
    # "#" composes with nothing before it, so the cut does not change the result).
    s = nfkc(text[min(starts):])
    # zero-width characters inside a tag or its [话题] suffix would make another tag
    # of the same words (an evasion, docs/evasion.md): gone before the tags are read
    s = _INVISIBLE.sub("", s)
    tags = []
    for m in _TAG_CLOSED.finditer(s):
        tags.append(m.group(1))
    rest = _TAG_CLOSED.sub(" ", s)
    for m in _TAG_OPEN.finditer(rest):
        tags.append(m.group(1))
    out: list[str] = []
    for t in tags:
        t = _normal_tag(t)
        if t and t not in out:
            out.append(t)
    return out


@lru_cache(maxsize=1 << 16)
def _normal_tag(tag: str) -> str:
    """One hashtag normalised; cached, since a night repeats the same few thousand
    tags (a campaign's brief, a category's usual tags) hundreds of thousands of times."""
    # normalised first, so a suffix with an emoji or space wedged in it (话😊题) is
    # still recognised as the suffix
    return _TAG_SUFFIX.sub("", normalise_text(tag)).strip("#").strip()


def brand_terms_from_table(brands: pd.DataFrame | None) -> tuple[tuple[str, str], ...]:
    """``((brand_id, term), ...)`` from an export's ``brands`` table (name and
    aliases), for the ``brand_terms`` parameter; empty when the table is absent."""
    if brands is None or "brand_id" not in brands.columns:
        return ()
    out: dict[str, tuple[str, ...]] = {}
    for row in brands.itertuples(index=False):
        names = []
        name = getattr(row, "name", None)
        if isinstance(name, str):
            names.append(name)
        aliases = getattr(row, "aliases", None)
        if isinstance(aliases, list | tuple | np.ndarray):
            names.extend(str(a) for a in aliases if a is not None)
        out[str(row.brand_id)] = tuple(dict.fromkeys(n for n in names if n))
    return tuple((b, t) for b, terms in out.items() for t in terms)


def _term_pairs(brand_terms) -> list[tuple[str, str]]:
    """``(brand_id, term)`` pairs from the pipeline's tuple of pairs or a
    ``{brand_id: terms}`` mapping."""
    if brand_terms is None:
        return []
    if isinstance(brand_terms, Mapping):
        pairs = []
        for brand, terms in brand_terms.items():
            for term in [terms] if isinstance(terms, str) else list(terms or ()):
                pairs.append((str(brand), str(term)))
        return pairs
    return [(str(b), str(t)) for b, t in brand_terms]


def _alias_matcher(brand_terms):
    pairs = _term_pairs(brand_terms)
    if not pairs:
        return None
    lookup: dict[str, set[str]] = {}
    for brand, term in pairs:
        a = normalise_text(term)
        if len(a) >= 2 or (a and not a.isascii()):
            lookup.setdefault(a, set()).add(brand)
    if not lookup:
        return None
    parts = [alias_source(a) for a in sorted(lookup, key=lambda s: (-len(s), s))]
    return re.compile("|".join(parts)), lookup


def alias_source(a: str) -> str:
    """Regex source of one normalised alias: a Latin alias must not match inside a
    longer Latin word (sk in skin), i.e. a Latin first or last character must not touch
    another Latin letter or digit. The look-behind is written *after* the first
    character (``s(?<![a-z0-9]s)k``, same matches as ``(?<![a-z0-9])sk``) so that every
    alternative starts with a literal and the regex engine can skip ahead by first
    character: ~100x faster over a night's texts than a leading look-behind."""
    head, rest = a[0], a[1:]
    src = re.escape(head)
    if head.isascii() and head.isalnum():
        src += f"(?<![a-z0-9]{re.escape(head)})"
    src += re.escape(rest)
    if a[-1].isascii() and a[-1].isalnum():
        src += "(?![a-z0-9])"
    return src


def _as_list(v) -> list[str]:
    if v is None:
        return []
    if isinstance(v, str):
        return [v] if v else []
    if isinstance(v, list | tuple | np.ndarray):
        return [str(x) for x in v if x is not None and str(x) != ""]
    if isinstance(v, float) and math.isnan(v):
        return []
    return [str(v)]


def _post_brands(frame: pd.DataFrame, text_norm: pd.Series | None, brand_terms) -> list | None:
    """Sorted distinct brands per post (tagged or named by alias), or None when the
    frame carries no brand information at all."""
    has_tags = "brand_tags" in frame.columns
    matcher = _alias_matcher(brand_terms)
    if not has_tags and matcher is None:
        return None
    tags = frame["brand_tags"].to_numpy() if has_tags else [None] * len(frame)
    texts = text_norm.to_numpy() if (matcher is not None and text_norm is not None) else None
    out = []
    for i, t in enumerate(tags):
        s = set(_as_list(t))
        if texts is not None and isinstance(texts[i], str) and texts[i]:
            pattern, lookup = matcher
            for m in pattern.findall(texts[i]):
                s.update(lookup.get(m, ()))
        out.append(sorted(s))
    return out


# --------------------------------------------------------------------------- keys

_SEGMENTER: Segmenter | None = None


def _default_segmenter() -> Segmenter:
    global _SEGMENTER
    if _SEGMENTER is None:
        _SEGMENTER = Segmenter()
    return _SEGMENTER


def _raw_text(frame: pd.DataFrame) -> pd.Series:
    raw = frame["text_raw"] if "text_raw" in frame.columns else post_text(frame)
    if isinstance(raw, str):  # no title/body columns at all
        raw = pd.Series([raw] * len(frame), index=frame.index, dtype=object)
    return raw.fillna("").astype(str)


def _norm_text(frame: pd.DataFrame, raw: pd.Series | None = None) -> pd.Series:
    if "text_norm" in frame.columns:
        return frame["text_norm"].fillna("").astype(str)
    raw = _raw_text(frame) if raw is None else raw
    return raw.map(normalise_text).astype(object)


def _texts(frame: pd.DataFrame, segmenter: Segmenter | None):
    """(raw text, normalised text, tokens) of each post, reusing TokenizeText's columns."""
    raw = _raw_text(frame)
    norm = _norm_text(frame, raw)
    if "tokens" in frame.columns:
        tokens = list(frame["tokens"].to_numpy())
    else:
        seg = segmenter or _default_segmenter()
        tokens = [seg.cut(t) for t in norm.to_numpy()]
    return raw, norm, tokens


def _seconds(ts: pd.Series) -> np.ndarray:
    """UTC epoch seconds as float (NaN for NaT)."""
    t = pd.to_datetime(ts, utc=True, errors="coerce")
    return ((t - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(dtype=float)


def _require(frame: pd.DataFrame, cols: Iterable[str]) -> None:
    missing = [c for c in cols if c not in frame.columns]
    if missing:
        raise KeyError(f"coordination features need post column(s) {missing}")


def coordination_keys(
    frame: pd.DataFrame,
    num_perm: int = 64,
    shingle_size: int = 2,
    random_state: int = 0,
    brand_terms=(),
    segmenter: Segmenter | None = None,
) -> pd.DataFrame:
    """Compact per-post projection that :func:`coordination_context` needs.

    One row per post, in the frame's order, with a fresh RangeIndex and columns
    ``post_id``, ``account_id`` (str), ``published_at`` (UTC timestamp),
    ``brands`` (sorted list of brand ids, or None when the export has neither
    ``brand_tags`` nor ``brand_terms``), ``hashtags`` (sorted distinct list),
    ``device_cluster`` (str or None), ``text_hash`` (uint64 of the normalised
    text, 0 when empty), ``n_shingles`` (int) and ``minhash`` (``num_perm``
    little-endian uint32 as ``bytes``, None when the text has no content token).
    No text is kept. Keys of separate chunks can be concatenated: a post's key
    does not depend on the other posts.
    """
    _require(frame, ("post_id", "account_id", "published_at"))
    n = len(frame)
    raw, norm, tokens = _texts(frame, segmenter)
    post, sh = shingle_arrays(tokens, shingle_size=shingle_size)
    sig, counts = minhash_signatures(post, sh, n, num_perm=num_perm, random_state=random_state)
    sig = sig.astype("<u4", copy=False)
    minhash = [sig[i].tobytes() if counts[i] > 0 else None for i in range(n)]
    norm_arr = norm.to_numpy(dtype=object)
    text_hash = pd.util.hash_array(norm_arr).astype(np.uint64)
    text_hash[np.array([not t for t in norm_arr], dtype=bool)] = 0
    if "account_device_cluster" in frame.columns:
        dev = frame["account_device_cluster"]
    elif "device_cluster" in frame.columns:
        dev = frame["device_cluster"]
    else:
        dev = pd.Series([None] * n, index=frame.index)
    dev = [str(d) if isinstance(d, str) and d else None for d in dev.to_numpy()]
    brands = _post_brands(frame, norm, brand_terms)
    keys = pd.DataFrame(
        {
            "post_id": frame["post_id"].astype(str).to_numpy(),
            "account_id": frame["account_id"].astype(str).to_numpy(),
            "published_at": pd.to_datetime(frame["published_at"], utc=True, errors="coerce")
            .reset_index(drop=True),
            "brands": pd.Series(brands if brands is not None else [None] * n, dtype=object),
            "hashtags": pd.Series([sorted(extract_hashtags(t)) for t in raw.to_numpy()],
                                  dtype=object),
            "device_cluster": pd.Series(dev, dtype=object),
            "text_hash": text_hash,
            "n_shingles": counts.astype(np.int64),
            "minhash": pd.Series(minhash, dtype=object),
        }
    )
    return keys


# --------------------------------------------------------------------------- context


def _signature_matrix(values, width: int) -> np.ndarray:
    out = np.full((len(values), width), np.iinfo(np.uint32).max, dtype=np.uint32)
    for i, v in enumerate(values):
        if isinstance(v, bytes | bytearray | memoryview) and len(v) >= 4 * width:
            out[i] = np.frombuffer(v, dtype="<u4", count=width)
        elif isinstance(v, np.ndarray) and v.size >= width:
            out[i] = v.ravel()[:width].astype(np.uint32)
    return out



def _signature_columns(values, rows: np.ndarray, width: int, step: int = 1 << 16) -> np.ndarray:
    """``(width, len(rows))`` uint32: the signatures of ``values[rows]``, one row per
    permutation (the layout the band keys and pair checks read), built in pieces so no
    second full-size copy is held."""
    out = np.empty((width, len(rows)), dtype=np.uint32)
    for s in range(0, len(rows), step):
        vals = values[rows[s:s + step]]
        if all(isinstance(v, bytes) and len(v) == 4 * width for v in vals):
            block = np.frombuffer(b"".join(vals), dtype="<u4").reshape(len(vals), width)
        else:
            block = _signature_matrix(vals, width)
        out[:, s:s + len(vals)] = block.T
    return out


def _slug(s: str) -> str:
    return re.sub(r"[^0-9A-Za-z_\u3400-\u9fff]+", "_", s).strip("_")[:32] or "x"


def _cluster_id(brand: str | None, first_post: str) -> str:
    h = hashlib.blake2b(first_post.encode("utf-8"), digest_size=5).hexdigest()
    return f"c-{_slug(brand) if brand else 'none'}-{h}"


def _pair_codes(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Dense int codes of the pairs ``(a[i], b[i])`` of two int arrays."""
    a = np.asarray(a, np.int64)
    b = np.asarray(b, np.int64)
    if len(a) == 0:
        return np.zeros(0, np.int64)
    b0 = b - b.min()
    return pd.factorize((a - a.min()) * (int(b0.max()) + 1) + b0)[0].astype(np.int64)


def _arrow(col: pd.Series) -> pa.ChunkedArray | None:
    """The column's Arrow data when it is Arrow-backed (``pd.ArrowDtype``), else None."""
    if not isinstance(col.dtype, pd.ArrowDtype):
        return None
    data = getattr(col.array, "_pa_array", None)
    if isinstance(data, pa.ChunkedArray):
        return data
    return pa.chunked_array([pa.array(col)])


def _id_strings(col: pd.Series) -> np.ndarray:
    arr = _arrow(col)
    vals = np.asarray(arr.to_pylist() if arr is not None else col.to_numpy(), dtype=object)
    return np.array([v if isinstance(v, str) else str(v) for v in vals], dtype=object)


def _id_codes(col: pd.Series, rows: np.ndarray) -> np.ndarray:
    """Codes of ``str(value)`` of the given rows (equal values, equal codes)."""
    arr = _arrow(col)
    if arr is None:
        return pd.factorize(col.astype(str).to_numpy()[rows])[0].astype(np.int64)
    arr = pc.fill_null(arr.cast(pa.string()), "None").take(pa.array(rows))
    enc = arr.combine_chunks().dictionary_encode() if arr.num_chunks != 1 else \
        arr.chunk(0).dictionary_encode()
    return enc.indices.to_numpy(zero_copy_only=False).astype(np.int64)


def _numbers(keys: pd.DataFrame, name: str, rows: np.ndarray, dtype) -> np.ndarray:
    if name not in keys.columns:
        return np.zeros(len(rows), dtype)
    col = keys[name]
    arr = _arrow(col)
    if arr is not None:
        v = arr.take(pa.array(rows)).to_numpy()
        v = np.where(pd.isna(v), 0, v) if v.dtype == object or v.dtype.kind == "f" else v
        return np.asarray(v).astype(dtype)
    return pd.to_numeric(col, errors="coerce").fillna(0).to_numpy(dtype)[rows]


def _list_events(keys: pd.DataFrame, name: str, rows: np.ndarray):
    """Every non-empty string of each row's list (``_as_list`` semantics, duplicates
    kept, in order), for ``rows`` renumbered 0..len(rows)-1: ``(row, code, names,
    known)`` with ``names`` sorted, ``code`` indexing them, and ``known`` False when
    no row carries a value at all (the column is missing or all None)."""
    empty = (np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0, dtype=object), False)
    if name not in keys.columns:
        return empty
    arr = _arrow(keys[name])
    if arr is None:
        vals = keys[name].to_numpy()[rows]
        known = any(v is not None and not isinstance(v, float) for v in vals)
        lists = [_as_list(v) for v in vals]
        lengths = np.fromiter(map(len, lists), np.int64, len(lists))
        flat = np.asarray(list(chain.from_iterable(lists)), dtype=object)
        ev_row = np.repeat(np.arange(len(lists), dtype=np.int64), lengths)
        if not len(flat):
            return ev_row, np.zeros(0, np.int64), np.zeros(0, dtype=object), known
        code, names = pd.factorize(flat, sort=True)
        return ev_row, code.astype(np.int64), np.asarray(names, dtype=object), known
    arr = arr.take(pa.array(rows))
    arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    known = arr.null_count < len(arr)
    if not pa.types.is_list(arr.type) and not pa.types.is_large_list(arr.type):
        raise TypeError(f"coordination keys: {name} must be a list column, not {arr.type}")
    flat = pc.list_flatten(arr)
    ev_row = pc.list_parent_indices(arr)
    flat = flat.cast(pa.string())
    ok = pc.and_(pc.is_valid(flat), pc.greater(pc.utf8_length(flat), 0))
    ok = pc.fill_null(ok, False)
    flat, ev_row = flat.filter(ok), ev_row.filter(ok)
    ev_row = ev_row.to_numpy(zero_copy_only=False).astype(np.int64)
    if not len(flat):
        return ev_row, np.zeros(0, np.int64), np.zeros(0, dtype=object), known
    enc = flat.dictionary_encode()
    names = np.asarray(enc.dictionary.to_pylist(), dtype=object)
    rank = np.empty(len(names), np.int64)
    srt = np.argsort(names, kind="stable")
    rank[srt] = np.arange(len(names))
    code = rank[enc.indices.to_numpy(zero_copy_only=False)]
    return ev_row, code, names[srt], known


def _set_codes(n: int, ev_row: np.ndarray, code: np.ndarray) -> np.ndarray:
    """Per row: a code of its set of values when its list has >= 2 entries, else -1
    (equal sets, equal codes)."""
    out = np.full(n, -1, np.int64)
    entries = np.bincount(ev_row, minlength=n)
    rows = np.flatnonzero(entries >= 2)
    if not len(rows):
        return out
    sel = entries[ev_row] >= 2
    r, c = ev_row[sel], code[sel]
    key = unique_sorted(r * (int(code.max()) + 1) + c)  # distinct (row, value), sorted
    r, c = key // (int(code.max()) + 1), (key % (int(code.max()) + 1)).astype(np.int32)
    bounds = np.r_[0, np.cumsum(np.bincount(r, minlength=n)[rows])]
    cb = c.tobytes()
    sets = [cb[4 * bounds[x]:4 * bounds[x + 1]] for x in range(len(rows))]
    out[rows] = pd.factorize(np.asarray(sets, dtype=object))[0]
    return out


def _device_codes(keys: pd.DataFrame, rows: np.ndarray) -> np.ndarray:
    """Device cluster codes (-1: none; empty strings are none)."""
    if "device_cluster" not in keys.columns:
        return np.full(len(rows), -1, np.int64)
    arr = _arrow(keys["device_cluster"])
    if arr is None:
        dv = keys["device_cluster"].to_numpy()[rows]
        ok = np.array([isinstance(d, str) and d != "" for d in dv], dtype=bool)
        out = np.full(len(rows), -1, np.int64)
        if ok.any():
            out[ok] = pd.factorize(dv[ok].astype(object))[0]
        return out
    arr = arr.take(pa.array(rows)).cast(pa.string())
    arr = arr.combine_chunks() if arr.num_chunks != 1 else arr.chunk(0)
    ok = pc.fill_null(pc.greater(pc.utf8_length(arr), 0), False)
    enc = pc.if_else(ok, arr, pa.scalar(None, pa.string())).dictionary_encode()
    return pc.fill_null(enc.indices, -1).to_numpy(zero_copy_only=False).astype(np.int64)


def _signatures(keys: pd.DataFrame, rows: np.ndarray, width: int, step: int = 1 << 16):
    """``(has, columns)``: which of ``rows`` carry a signature, and a function giving the
    ``(width, len(sel))`` uint32 signatures of a selection of them."""
    if "minhash" not in keys.columns:
        return np.zeros(len(rows), bool), None
    arr = _arrow(keys["minhash"])
    if arr is None:
        mh = keys["minhash"].to_numpy()[rows]
        has = np.array([v is not None and not isinstance(v, float) for v in mh], dtype=bool)
        return has, lambda sel: _signature_columns(mh, sel, width, step)
    has = pc.is_valid(arr).to_numpy(zero_copy_only=False)[rows]

    def columns(sel):
        out = np.empty((width, len(sel)), dtype=np.uint32)
        for s in range(0, len(sel), step):
            part = arr.take(pa.array(rows[sel[s:s + step]]))
            part = part.combine_chunks() if part.num_chunks != 1 else part.chunk(0)
            lens = pc.binary_length(part).to_numpy(zero_copy_only=False)
            if part.null_count == 0 and (lens == 4 * width).all():
                off = np.frombuffer(part.buffers()[1], dtype=np.int32 if
                                    pa.types.is_binary(part.type) else np.int64)
                start = int(off[part.offset])
                data = np.frombuffer(part.buffers()[2], dtype=np.uint8)
                block = data[start:start + 4 * width * len(part)].view("<u4")
                block = block.reshape(len(part), width)
            else:
                block = _signature_matrix(part.to_pylist(), width)
            out[:, s:s + len(part)] = block.T
        return out

    return has, columns


def coordination_context(
    keys: pd.DataFrame,
    window_days: float = 7.0,
    threshold: float = 0.5,
    num_perm: int = 64,
    min_shingles: int = 5,
    max_neighbours: int = 64,
    cotarget_min_brands: int = 2,
) -> pd.DataFrame:
    """Cross-post coordination context of a whole night.

    ``keys`` are :func:`coordination_keys` rows of every post of the night (from
    one frame or concatenated chunks). Returns a frame indexed by ``post_id``
    (sorted) with the :data:`CTX_COLUMNS`. The result depends only on the set of
    keys, never on their order or on how they were chunked.

    Clusters: LSH bands over the first ``num_perm`` values of the signatures give
    candidate pairs; pairs by different accounts at most ``window_days`` apart
    whose estimated Jaccard is >= ``threshold`` are edges; clusters are connected
    components of >= 2 posts. Posts with fewer than ``min_shingles`` shingles are
    too short to compare (their cluster columns are NaN). Within one LSH bucket,
    hashtag set or brand, each post is compared with at most ``max_neighbours``
    posts that follow it in time (bounds the work on huge groups).

    ``ctx_coordination_cluster_id`` is ``c-<brand>-<10 hex>``: the cluster's most
    common brand and a hash of its earliest post, so it is stable given the data;
    None for posts in no cluster.
    """
    _require(keys, ("post_id", "account_id", "published_at"))
    # The keys (object columns, or Arrow-backed ones: ``pd.ArrowDtype``, a few hundred
    # bytes a post) are read column by column into compact arrays, in post id order
    # (first row of a duplicated id); no per-post Python object is kept.
    all_ids = _id_strings(keys["post_id"])
    firsts = np.flatnonzero(~pd.Series(all_ids).duplicated(keep="first").to_numpy())
    rows = firsts[np.argsort(all_ids[firsts], kind="stable")]
    post_ids = all_ids[rows]
    del all_ids
    n = len(rows)
    out = pd.DataFrame(index=pd.Index(post_ids, name="post_id"))
    for c in CTX_COLUMNS:
        out[c] = None if c in _CTX_OBJECT else np.nan
    if n == 0:
        return out

    window_s = float(window_days) * _DAY
    pub = keys["published_at"]
    if _arrow(pub) is not None:
        pub = pd.Series(_arrow(pub).take(pa.array(rows)).to_pandas())
    else:
        pub = pub.iloc[rows]
    secs = _seconds(pub)
    del pub
    valid = np.isfinite(secs)
    t = np.where(valid, np.nan_to_num(secs), 0.0).astype(np.int64)
    acc = _id_codes(keys["account_id"], rows)

    # ---- paraphrase clusters
    n_sh = _numbers(keys, "n_shingles", rows, np.float64)
    has_sig, signature_columns = _signatures(keys, rows, num_perm)
    comparable = valid & has_sig & (n_sh >= min_shingles)

    size = np.full(n, np.nan)
    n_acc = np.full(n, np.nan)
    span = np.full(n, np.nan)
    purity = np.full(n, np.nan)
    shared_dev = np.full(n, np.nan)
    max_sim = np.full(n, np.nan)
    cl_id = np.full(n, None, dtype=object)
    cl_brand = np.full(n, None, dtype=object)
    label = -1 - np.arange(n)  # singleton "cluster" codes for non-members

    ev_row, ev_brand, brand_names, brand_known = _list_events(keys, "brands", rows)
    devices = _device_codes(keys, rows)  # -1: none
    device_known = bool((devices >= 0).any())

    if comparable.any():
        # comparable posts only, by their position ``c`` in ``cidx`` (increasing, so pair
        # keys and components are those of the row numbers); signatures stored one row
        # per permutation, 4 * num_perm bytes a post, nothing else per post
        cidx = np.flatnonzero(comparable)
        nc = len(cidx)
        sig_t = signature_columns(cidx)
        max_sim[cidx] = 0.0
        size[cidx] = 1.0
        n_acc[cidx] = 1.0
        span[cidx] = 0.0
        if device_known:
            shared_dev[cidx] = 0.0
        b, r = lsh_params(threshold, num_perm)
        tc, ac = t[cidx], acc[cidx]
        # candidates of one band, one block at a time, are checked at once: the max
        # similarity is a max and the edges a set, so a pair found in several bands
        # gives the same result as the distinct pairs would (no night-wide pair list)
        edges = [np.zeros(0, np.int64)]
        for band in range(b):
            bk = band_key(sig_t, band, r, transposed=True)
            for li, ri in window_pair_blocks(bk, tc, ac, window_s, max_neighbours, tiebreak=cidx):
                sims = pair_similarity(sig_t, li, ri, threshold, transposed=True)
                np.maximum.at(max_sim, cidx[li], sims)
                np.maximum.at(max_sim, cidx[ri], sims)
                e = sims >= threshold
                if e.any():
                    edges.append(unique_sorted(np.minimum(li[e], ri[e]) * nc
                                               + np.maximum(li[e], ri[e])))
            del bk
        del sig_t
        pk = unique_sorted(np.concatenate(edges))
        del edges
        if len(pk):
            i, j = cidx[pk // nc], cidx[pk % nc]
            g = coo_matrix((np.ones(len(i)), (i, j)), shape=(n, n)).tocsr()
            _, comp = connected_components(g, directed=False)
            csize = np.bincount(comp, minlength=n)
            member = csize[comp] >= 2
            label = np.where(member, comp, label)
            m_idx = np.flatnonzero(member)
            df = pd.DataFrame({"c": comp[m_idx], "t": t[m_idx], "acc": acc[m_idx],
                               "row": m_idx})
            grp = df.groupby("c")
            stats = pd.DataFrame({
                "size": grp.size(),
                "accounts": grp["acc"].nunique(),
                "span": (grp["t"].max() - grp["t"].min()) / _DAY,
            })
            first = df.sort_values(["c", "t", "row"]).drop_duplicates("c")
            stats["first"] = pd.Series(post_ids[first["row"].to_numpy()],
                                       index=first["c"].to_numpy())
            # dominant brand and purity
            stats["brand"] = None
            stats["purity"] = np.nan
            if brand_known:
                in_cl = member[ev_row]
                if in_cl.any():
                    eb = pd.DataFrame({"c": comp[ev_row[in_cl]], "b": ev_brand[in_cl]}) \
                        .value_counts().reset_index()
                    # brand codes are in brand id order: ties go to the smallest id
                    eb = eb.sort_values(["c", "count", "b"], ascending=[True, False, True])
                    top = eb.drop_duplicates("c").set_index("c")
                    stats["brand"] = pd.Series(brand_names[top["b"].to_numpy()],
                                               index=top.index, dtype=object) \
                        .reindex(stats.index).astype(object)
                    stats["purity"] = top["count"].reindex(stats.index) / stats["size"]
                stats["purity"] = stats["purity"].fillna(0.0)
                stats.loc[stats["brand"].isna(), "purity"] = np.nan
            if device_known:
                dd = pd.DataFrame({"c": df["c"], "acc": df["acc"], "dev": devices[m_idx]})
                dd = dd[dd["dev"] >= 0].drop_duplicates()
                per_dev = dd.groupby(["c", "dev"])["acc"].transform("size")
                shared = dd[per_dev >= 2].groupby("c")["acc"].nunique()
                stats["shared_dev"] = shared.reindex(stats.index).fillna(0.0)
            c_of = comp[m_idx]
            size[m_idx] = stats["size"].reindex(c_of).to_numpy(float)
            n_acc[m_idx] = stats["accounts"].reindex(c_of).to_numpy(float)
            span[m_idx] = stats["span"].reindex(c_of).to_numpy(float)
            purity[m_idx] = stats["purity"].reindex(c_of).to_numpy(float)
            if device_known:
                shared_dev[m_idx] = stats["shared_dev"].reindex(c_of).to_numpy(float)
            ids = {
                c: _cluster_id(br if isinstance(br, str) else None, fp)
                for c, br, fp in zip(stats.index, stats["brand"], stats["first"], strict=True)
            }
            cl_id[m_idx] = [ids[c] for c in c_of]
            cl_brand[m_idx] = stats["brand"].reindex(c_of).to_numpy(object)

    out[C_CLUSTER_ID] = cl_id
    out[C_CLUSTER_SIZE] = size
    out[C_CLUSTER_ACCOUNTS] = n_acc
    out[C_CLUSTER_SPAN] = span
    out[C_CLUSTER_BRAND] = [b if isinstance(b, str) else None for b in cl_brand]
    out[C_CLUSTER_PURITY] = purity if brand_known else np.nan
    out[C_CLUSTER_DEVICE] = shared_dev
    out[C_MAX_SIM] = max_sim

    # ---- exact copies
    th = _numbers(keys, "text_hash", rows, np.uint64)
    has_text = valid & (th != 0)
    exact = np.full(n, np.nan)
    if has_text.any():
        idx = np.flatnonzero(has_text)
        exact[idx] = distinct_partner_accounts(th[idx], t[idx], acc[idx], window_s,
                                               max_neighbours, tiebreak=idx)
    out[C_EXACT] = exact

    # ---- shared hashtag sets
    # a post's hashtag set (when it lists >= 2 hashtags) as a code: equal sets, equal codes
    tag_row, tag_code, _, _ = _list_events(keys, "hashtags", rows)
    set_code = _set_codes(n, tag_row, tag_code)
    del tag_row, tag_code
    tagset = np.full(n, np.nan)
    tagset[valid] = 0.0
    has_set = valid & (set_code >= 0)
    set_code = np.where(has_set, set_code, -1)
    if has_set.any():
        idx = np.flatnonzero(has_set)
        tagset[idx] = distinct_partner_accounts(set_code[idx], t[idx], acc[idx], window_s,
                                                max_neighbours, tiebreak=idx)
    out[C_HASHTAGS] = tagset

    # ---- brand-level signals
    if brand_known:
        _brand_context(out, ev_row, ev_brand, brand_names, valid, t, acc, label, set_code,
                       devices, device_known, window_s, max_neighbours, cotarget_min_brands)
    return out


def _brand_context(out, ev_row, ev_brand, brand_names, valid, t, acc, label, set_code, devices,
                   device_known, window_s, max_neighbours, cotarget_min_brands) -> None:
    n = len(out)
    ok = valid[ev_row]
    ev_row = ev_row[ok]
    has_brand = np.zeros(n, bool)
    has_brand[ev_row] = True
    posts = np.full(n, np.nan)
    days = np.full(n, np.nan)
    rate = np.full(n, np.nan)
    homog = np.full(n, np.nan)
    burst_brand = np.full(n, None, dtype=object)
    cot = np.full(n, np.nan)
    cot_score = np.full(n, np.nan)
    dev_brand = np.full(n, np.nan)
    tv = t[valid]
    mean_rate = np.nan
    if len(ev_row):
        # brand codes of tonight's valid posts, in brand id order
        used, bcode = np.unique(ev_brand[ok], return_inverse=True)
        bcode = bcode.astype(np.int64)
        bnames = np.asarray(brand_names, dtype=object)[used]
        et = t[ev_row]
        half = int(window_s // 2)
        tmin, tmax = int(tv.min()), int(tv.max())
        night_days = max((tmax - tmin) / _DAY, window_s / _DAY)
        per_brand = np.bincount(bcode, minlength=len(bnames))
        brand_rate = per_brand / night_days
        mean_rate = float(brand_rate.mean())
        cnt_b = window_counts(bcode, et, half)
        eff_days = np.maximum((np.minimum(et + half, tmax) - np.maximum(et - half, tmin)) / _DAY,
                              1.0)
        # homogeneity: same cluster or same hashtag set among the brand's window posts
        lab = label[ev_row]
        lab_code = _pair_codes(bcode, lab)
        cnt_c = window_counts(lab_code, et, half)
        sc = set_code[ev_row]
        sc_u = np.where(sc >= 0, sc, -1 - ev_row)  # posts with no tag set are their own group
        set_code_b = _pair_codes(bcode, sc_u)
        cnt_h = window_counts(set_code_b, et, half)
        denom = np.maximum(cnt_b - 1, 1)
        hom = np.where(cnt_b > 1, np.maximum(cnt_c - 1, cnt_h - 1) / denom, 0.0)

        # co-targeting: pairs of accounts co-posting on a brand within the window
        ev_acc = acc[ev_row]
        ev_cot, ev_cot_score = _cotarget(ev_acc, bcode, et, len(bnames), window_s,
                                         max_neighbours, cotarget_min_brands, ev_row)

        ev_dev = np.full(len(ev_row), np.nan)
        if device_known:
            dv = devices[ev_row]
            has_dev = dv >= 0
            if has_dev.any():
                ix = np.flatnonzero(has_dev)
                gcode = _pair_codes(dv[ix], bcode[ix])
                ev_dev[ix] = distinct_partner_accounts(gcode, et[ix], acc[ev_row[ix]], window_s,
                                                       max_neighbours, tiebreak=ev_row[ix])

        # per post: the brand with most posts in the window (ties: brand id; codes are
        # in brand id order); co-targeting and device columns: max over its brands.
        # ``ev_row`` is non-decreasing, so each post's events are contiguous.
        best = np.lexsort((bcode, -cnt_b, ev_row))
        first = best[np.r_[True, ev_row[best][1:] != ev_row[best][:-1]]]
        r_ = ev_row[first]
        posts[r_] = cnt_b[first].astype(float)
        days[r_] = eff_days[first]
        rate[r_] = brand_rate[bcode[first]]
        homog[r_] = hom[first]
        burst_brand[r_] = np.asarray(bnames, dtype=object)[bcode[first]]
        starts = np.flatnonzero(np.r_[True, ev_row[1:] != ev_row[:-1]])
        rows_ = ev_row[starts]
        cot[rows_] = np.fmax.reduceat(ev_cot.astype(float), starts)
        cot_score[rows_] = np.fmax.reduceat(ev_cot_score.astype(float), starts)
        dev_brand[rows_] = np.fmax.reduceat(ev_dev, starts)
    out[C_BURST_BRAND] = burst_brand
    out[C_BRAND_POSTS] = posts
    out[C_BRAND_DAYS] = days
    out[C_BRAND_RATE] = rate
    out[C_BRAND_MEAN_RATE] = np.where(has_brand, mean_rate, np.nan)
    out[C_HOMOGENEITY] = homog
    out[C_COTARGET] = cot
    out[C_COTARGET_SCORE] = cot_score
    out[C_DEVICE_BRAND] = dev_brand if device_known else np.nan


def _partner_pieces(tri: np.ndarray, nb: int, w_brand: np.ndarray, min_brands: int,
                    step: int = 1 << 20):
    """Pieces of the sorted distinct (pair, brand) keys ``tri``, cut at pair boundaries:
    ``(pair, brand, w_pair, grp, partner)`` with each row's pair's summed brand weight
    (``w_pair[grp]``) and whether the pair shares >= ``min_brands`` brands."""
    lo = 0
    while lo < len(tri):
        hi = min(lo + step, len(tri))
        if hi < len(tri):
            cut = int(np.searchsorted(tri, (tri[hi] // nb) * nb, side="left"))
            hi = cut if cut > lo else hi
        pair, brand = tri[lo:hi] // nb, tri[lo:hi] % nb
        starts = np.flatnonzero(np.r_[True, pair[1:] != pair[:-1]])
        n_shared = np.diff(np.r_[starts, len(pair)])
        w_pair = np.add.reduceat(w_brand[brand], starts)
        grp = np.repeat(np.arange(len(starts)), n_shared)
        yield pair, brand, w_pair, grp, n_shared[grp] >= min_brands
        lo = hi


def _cotarget(ev_acc, bcode, et, n_brands, window_s, max_neighbours, min_brands, tiebreak):
    """Per (account, brand) event: partner accounts (co-posted with it on >= min_brands
    brands, each time within the window) that co-posted on this brand, and their
    FRAUDAR-weighted score (sum over partners of sum over shared brands of
    1/log(brand's accounts + 5)).

    Only accounts with events on >= ``min_brands`` brands can be partners, so pairs are
    formed (in bounded blocks, see :func:`window_pair_blocks`) only between such
    accounts' events; the neighbour offsets still count every event, so the result is
    that of pairing all events and discarding the rest."""
    m = len(ev_acc)
    zeros = (np.zeros(m), np.zeros(m))
    if m < 2:
        return zeros
    nb = max(int(n_brands), 1)
    ev_acc = np.asarray(ev_acc, np.int64)
    acc_brand = unique_sorted(ev_acc * nb + bcode)
    n_acc_brand = np.bincount(acc_brand % nb, minlength=nb)
    w_brand = 1.0 / np.log(n_acc_brand + 5.0)
    brands_of = np.bincount(acc_brand // nb, minlength=int(ev_acc.max()) + 1)
    del acc_brand
    keep = brands_of[ev_acc] >= max(int(min_brands), 1)
    if keep.sum() < 2:
        return zeros
    # dense codes of the accounts that can be partners
    cand = brands_of >= max(int(min_brands), 1)
    code = np.cumsum(cand) - 1
    n_a = int(cand.sum())
    if n_a * n_a * nb >= 2**62:  # would overflow the int64 (pair, brand) key
        raise OverflowError(f"co-targeting: {n_a} accounts x {nb} brands is too many")
    ac = np.where(keep, code[ev_acc], -1)
    parts, pending = [np.zeros(0, np.int64)], 0
    for li, ri in window_pair_blocks(bcode, et, ev_acc, window_s, max_neighbours,
                                     tiebreak=tiebreak, keep=keep):
        a1, a2 = ac[li], ac[ri]
        parts.append(unique_sorted((np.minimum(a1, a2) * n_a + np.maximum(a1, a2)) * nb
                                   + bcode[li]))  # distinct (pair, brand)
        pending += len(parts[-1])
        if pending > 2_000_000:
            parts, pending = [unique_sorted(np.concatenate(parts))], 0
    tri = unique_sorted(np.concatenate(parts))
    del parts
    if len(tri) == 0:
        return zeros
    # per kept (account, brand): partners and their summed weights. Done over ranges of
    # (account, brand), each a pass over ``tri`` in pieces, so only one range's
    # contributions are held; within a range they are summed in the order a single
    # global pass would use (all "lo" contributions in pair order, then all "hi"), so
    # the sums do not depend on how many ranges there are.
    ab = unique_sorted(ac[keep] * nb + bcode[keep])
    count = np.zeros(len(ab))
    score = np.zeros(len(ab))
    n_ranges = max(1, -(-2 * len(tri) // 4_000_000))
    edges = np.linspace(0, len(ab), n_ranges + 1).astype(np.int64)
    for r0, r1 in zip(edges[:-1], edges[1:], strict=True):
        los, his, wlo, whi = [], [], [], []
        for pair, brand, w_pair, grp, partner in _partner_pieces(tri, nb, w_brand, min_brands):
            w = w_pair[grp[partner]]
            for k_, keys_, ws in ((pair // n_a, los, wlo), (pair % n_a, his, whi)):
                ix = np.searchsorted(ab, k_[partner] * nb + brand[partner])
                inr = (ix >= r0) & (ix < r1)
                keys_.append(ix[inr])
                ws.append(w[inr])
        key = np.concatenate(los + his)
        val = np.concatenate(wlo + whi)
        del los, his, wlo, whi
        if not len(key):
            continue
        order = np.argsort(key, kind="stable")
        key, val = key[order], val[order]
        st = np.flatnonzero(np.r_[True, key[1:] != key[:-1]])
        count[key[st]] = np.diff(np.r_[st, len(key)])
        score[key[st]] = np.add.reduceat(val, st)
    del tri
    if not (count > 0).any():
        return zeros
    ukey = ab
    pos_c = np.minimum(np.searchsorted(ukey, np.where(keep, ac * nb + bcode, -1)), len(ukey) - 1)
    hit = keep & (ukey[pos_c] == np.where(keep, ac * nb + bcode, -1))
    return np.where(hit, count[pos_c], 0.0), np.where(hit, score[pos_c], 0.0)


def assign_clusters(keys: pd.DataFrame, **context_kwargs) -> pd.Series:
    """Cluster id per ``post_id`` (None outside clusters), from the whole night's keys."""
    ctx = coordination_context(keys, **context_kwargs)
    return ctx[C_CLUSTER_ID].rename("cluster_id")


# --------------------------------------------------------------------------- transformer


class CoordinationFeatures(TransformerMixin, BaseEstimator):
    """Cross-post coordination features (``coord_*``) of each post.

    Uses the frame's ``ctx_coordination_*`` columns when present (the context of
    the whole night, computed before chunking); otherwise computes them from the
    frame itself with :func:`coordination_keys` and :func:`coordination_context`.
    Missing inputs give NaN: no ``brand_tags`` and no ``brand_terms`` → brand
    features NaN; no device cluster → device features NaN; text too short to
    compare → cluster features NaN.

    Parameters
    ----------
    num_perm : int
        MinHash permutations (signature width).
    shingle_size : int
        Shingles are n-grams of 1..``shingle_size`` canonical tokens within a sentence.
    threshold : float
        Estimated Jaccard at or above which two posts are paraphrases.
    window_days : float
        Maximum days between two coordinated posts; the brand-burst window is
        ``window_days`` wide, centred on the post.
    min_shingles : int
        Posts with fewer shingles are too short to compare.
    template_min_accounts : int
        Accounts a cluster needs to count as a shared brief.
    max_neighbours : int
        Comparisons per post within one LSH bucket, hashtag set or brand.
    cotarget_min_brands : int
        Brands two accounts must have co-posted on to be crew partners.
    brand_terms : tuple of (brand_id, term) pairs, or dict of brand_id to terms
        Brand names and aliases (the pipeline's ``brand_terms``; see
        :func:`brand_terms_from_table`); a brand named in the text counts as a
        mention besides ``brand_tags``. Pass the same terms to
        :func:`coordination_keys` when computing the night context.
    random_state : int
        Seed of the MinHash permutations.

    Attributes
    ----------
    brand_rates_ : dict
        Posts per day of each brand in the training frame.
    brand_rate_prior_ : float
        Baseline rate for brands unseen in training (25th percentile of the
        fitted rates; NaN when training had no brands).
    fit_span_days_ : float
        Days covered by the training frame.
    """

    def __init__(
        self,
        num_perm: int = 64,
        shingle_size: int = 2,
        threshold: float = 0.5,
        window_days: float = 7.0,
        min_shingles: int = 5,
        template_min_accounts: int = 5,
        max_neighbours: int = 64,
        cotarget_min_brands: int = 2,
        brand_terms=(),
        random_state: int = 0,
    ):
        self.num_perm = num_perm
        self.shingle_size = shingle_size
        self.threshold = threshold
        self.window_days = window_days
        self.min_shingles = min_shingles
        self.template_min_accounts = template_min_accounts
        self.max_neighbours = max_neighbours
        self.cotarget_min_brands = cotarget_min_brands
        self.brand_terms = brand_terms
        self.random_state = random_state

    # ---- sklearn API

    def fit(self, X: pd.DataFrame, y=None):
        self.n_features_in_ = X.shape[1]
        self.feature_names_in_ = np.asarray(X.columns, dtype=object)
        norm = None
        if self.brand_terms:
            norm = _norm_text(X)
        brands = _post_brands(X, norm, self.brand_terms)
        secs = _seconds(X["published_at"]) if "published_at" in X.columns else np.zeros(len(X))
        ok = np.isfinite(secs)
        span = (secs[ok].max() - secs[ok].min()) / _DAY if ok.any() else 0.0
        self.fit_span_days_ = float(max(span, 1.0))
        rates: dict[str, float] = {}
        if brands is not None:
            counts = pd.Series([b for i, bl in enumerate(brands) if ok[i] for b in bl],
                               dtype=object).value_counts()
            rates = {str(b): float(c) / self.fit_span_days_ for b, c in counts.items()}
        self.brand_rates_ = rates
        self.brand_rate_prior_ = (
            float(np.percentile(list(rates.values()), 25)) if rates else float("nan")
        )
        self.outputs_ = FEATURES
        return self

    def _outputs(self) -> tuple[str, ...]:
        if hasattr(self, "brand_rates_") and not hasattr(self, "outputs_"):
            return LEGACY_FEATURES  # unpickled from before the raw burst was dropped
        return FEATURES

    def get_feature_names_out(self, input_features=None):
        return np.asarray(self._outputs(), dtype=object)

    def context(self, X: pd.DataFrame) -> pd.DataFrame:
        """The ``ctx_coordination_*`` columns aligned to X's rows: X's own when it
        carries them, else computed on X as the whole night."""
        if C_CLUSTER_ID in X.columns:
            ctx = pd.DataFrame(index=X.index)
            for c in CTX_COLUMNS:
                ctx[c] = X[c] if c in X.columns else (None if c in _CTX_OBJECT else np.nan)
            return ctx
        keys = coordination_keys(
            X,
            num_perm=self.num_perm,
            shingle_size=self.shingle_size,
            random_state=self.random_state,
            brand_terms=self.brand_terms,
        )
        ctx = coordination_context(
            keys,
            window_days=self.window_days,
            threshold=self.threshold,
            num_perm=self.num_perm,
            min_shingles=self.min_shingles,
            max_neighbours=self.max_neighbours,
            cotarget_min_brands=self.cotarget_min_brands,
        )
        ctx = ctx[~ctx.index.duplicated()]
        aligned = ctx.reindex(X["post_id"].astype(str).to_numpy())
        aligned.index = X.index
        return aligned

    def cluster_ids(self, X: pd.DataFrame) -> pd.Series:
        """Cluster id of each row of X (None outside clusters): the side output the
        report groups campaigns by. Not a model feature."""
        return self.context(X)[C_CLUSTER_ID].rename("cluster_id")

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "brand_rates_")
        return self._features(self.context(X), X.index)

    def transform_with_clusters(self, X: pd.DataFrame) -> tuple[pd.DataFrame, pd.Series]:
        """``(transform(X), cluster_ids(X))`` computing the context once."""
        check_is_fitted(self, "brand_rates_")
        ctx = self.context(X)
        return self._features(ctx, X.index), ctx[C_CLUSTER_ID].rename("cluster_id")

    # ---- features from context

    def _baseline(self, brand: np.ndarray, night_mean: np.ndarray) -> np.ndarray:
        prior = self.brand_rate_prior_
        out = np.empty(len(brand))
        for i, b in enumerate(brand):
            r = self.brand_rates_.get(b) if isinstance(b, str) else None
            if r is None:
                r = prior if np.isfinite(prior) else night_mean[i]
            out[i] = r
        return out

    def _burst(self, ctx: pd.DataFrame) -> np.ndarray:
        """Posts about the post's brand in its window over the brand's baseline."""
        posts = pd.to_numeric(ctx[C_BRAND_POSTS], errors="coerce").to_numpy(dtype=float)
        days = pd.to_numeric(ctx[C_BRAND_DAYS], errors="coerce").to_numpy(dtype=float)
        night_mean = pd.to_numeric(ctx[C_BRAND_MEAN_RATE], errors="coerce").to_numpy(dtype=float)
        base = self._baseline(ctx[C_BURST_BRAND].to_numpy(object), night_mean)
        expected = np.maximum(base * days, 1.0)
        with np.errstate(invalid="ignore"):
            return np.where(np.isfinite(posts), posts / expected, np.nan)

    def brand_burst(self, X: pd.DataFrame) -> pd.Series:
        """The raw brand burst ratio of each row of X: context for analysts, not a model
        feature (a launch or a viral moment bursts too; only
        ``coord_burst_homogeneity``, the part of a burst that is one brief, is)."""
        check_is_fitted(self, "brand_rates_")
        return pd.Series(self._burst(self.context(X)), index=X.index, name="brand_burst_ratio")

    def _features(self, ctx: pd.DataFrame, index) -> pd.DataFrame:
        def col(c):
            return pd.to_numeric(ctx[c], errors="coerce").to_numpy(dtype=float)

        size = col(C_CLUSTER_SIZE)
        accounts = col(C_CLUSTER_ACCOUNTS)
        homog = col(C_HOMOGENEITY)
        burst = self._burst(ctx)
        with np.errstate(invalid="ignore", divide="ignore"):
            template = np.where(np.isfinite(accounts),
                                (accounts >= self.template_min_accounts).astype(float), np.nan)
        feats = {
            F_CLUSTER_SIZE: size,
            F_CLUSTER_ACCOUNTS: accounts - 1.0,
            F_CLUSTER_SPAN: col(C_CLUSTER_SPAN),
            F_CLUSTER_PURITY: col(C_CLUSTER_PURITY),
            F_TEMPLATE: template,
            F_CLUSTER_DEVICE: col(C_CLUSTER_DEVICE),
            F_MAX_SIM: col(C_MAX_SIM),
            F_EXACT: col(C_EXACT),
            F_HASHTAGS: col(C_HASHTAGS),
            F_HOMOGENEITY: homog,
            F_BURST_HOMOG: burst * homog,
            F_COTARGET: col(C_COTARGET),
            F_COTARGET_SCORE: col(C_COTARGET_SCORE),
            F_DEVICE_BRAND: col(C_DEVICE_BRAND),
        }
        feats[LEGACY_BURST] = burst
        out = pd.DataFrame(feats, index=index, columns=list(self._outputs())).astype(np.float64)
        return out.where(np.isfinite(out.to_numpy()), np.nan)
