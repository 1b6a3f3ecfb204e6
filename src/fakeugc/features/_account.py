"""Account features: who posted, and how that account behaves across the night.

Why: behaviour beats text on real fraud (detection.md §1, §3 "Account"). Seeding
crews use young accounts, follow-for-follow ratios, bursts of posts, profiles
that redirect buyers to private chat through obfuscated contacts (微信, VX, +V,
加薇, digit runs, emoji keycaps; §2.4, §4.2–4.3), and many accounts logging in
from one device fingerprint cluster (GEM, §2.2). Xiaohongshu itself throttles
new accounts that post several marketing notes a day and flags device clusters
with many accounts (§2.4, weak sources: the model learns the thresholds).

Per-post features come from the author's ``accounts`` row (joined as
``account_*`` columns by the post frame); they are NaN when the account has no
row (``account_known`` false) or the column is not in the export. Features that
need other posts (device-cluster size, the account's post count, posting rate
and commercial share in the export) follow the feature-builder protocol:
:func:`account_keys` projects a few scalars per post, :func:`account_context`
turns the concatenated keys of the whole night into ``ctx_account_*`` columns.
Those come from ``posts`` alone (except the device cluster), so they stay
available when the account has no row: they are observed, not invented.
Posting-rate features look only at the account's posts published before the
scored post.
"""

from __future__ import annotations

import re
import unicodedata

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from fakeugc.features._catalogue import StatelessFeaturesMixin, feature, mark_presence
from fakeugc.features._exposure import (
    bool_float,
    finite,
    id_codes,
    post_index,
    resolve_context,
    seconds,
)

FAMILY = "account"
DAY_S = 86_400.0

# --------------------------------------------------------------------------- catalogue

F_AGE = feature(
    "acct_age_days", FAMILY,
    "account age when the post was published, in days",
    "the account was only {value:.0f} days old when it posted",
    "the account was {value:.0f} days old when it posted",
)
F_LOG_FOLLOWERS = feature(
    "acct_log_followers", FAMILY,
    "log(1 + followers)",
    "the account has few followers (log {value:.1f})",
)
F_LOG_FOLLOWING = feature(
    "acct_log_following", FAMILY,
    "log(1 + accounts followed)",
    "the account follows many accounts (log {value:.1f})",
)
F_FOLLOW_RATIO = feature(
    "acct_follower_ratio", FAMILY,
    "(followers + 1) / (following + 1)",
    "the account has {value:.2f} followers per account it follows",
)
F_POSTS_PER_DAY = feature(
    "acct_posts_per_day", FAMILY,
    "posts_total per day of the account's life (at least one day)",
    "the account has published {value:.1f} posts per day of its life",
)
F_VERIFIED = feature(
    "acct_verified", FAMILY,
    "the account is verified (1/0)",
    "verified account: {value:.0f} (1 = yes)",
)
F_IS_BRAND = feature(
    "acct_is_brand", FAMILY,
    "the account is an official brand account (1/0)",
    "official brand account: {value:.0f} (1 = yes)",
)
F_BIO_LEN = feature(
    "acct_bio_length", FAMILY,
    "profile bio length in characters",
    "the profile bio is {value:.0f} characters long",
)
F_BIO_MARKERS = feature(
    "acct_bio_contact_markers", FAMILY,
    "obfuscated-contact markers in the bio (微信, VX, wx, +V, 加薇, 薇, QQ, …)",
    "the profile bio carries {value:.0f} private-contact markers (微信/VX/+V…)",
)
F_BIO_DIGITS = feature(
    "acct_bio_longest_digit_run", FAMILY,
    "longest run of digits in the bio after normalising full-width, circled, keycap"
    " and Chinese numerals and removing separators",
    "the profile bio hides a {value:.0f}-digit number (a contact ID or phone number)",
)
F_BIO_EMOJI = feature(
    "acct_bio_contact_emoji", FAMILY,
    "contact emoji in the bio (📞 📱 ✉️ 🐧 keycap digits …)",
    "the profile bio spells a contact with {value:.0f} emoji",
)
F_DEVICE = feature(
    "acct_device_cluster_accounts", FAMILY,
    "accounts in the night's export that share this account's device cluster",
    "{value:.0f} accounts in tonight's posts log in from the same device cluster",
)
F_POSTS_EXPORT = feature(
    "acct_posts_in_export", FAMILY,
    "the account's posts in the export",
    "the account published {value:.0f} posts in this export",
)
F_PREV_24H = feature(
    "acct_posts_prev_24h", FAMILY,
    "the account's posts in the 24 hours before this one",
    "the account published {value:.0f} other posts in the 24 hours before this one",
)
F_GAP = feature(
    "acct_hours_since_prev_post", FAMILY,
    "hours since the account's previous post in the export",
    "the account had posted only {value:.1f} hours earlier",
)
F_PROMO_SHARE = feature(
    "acct_promo_share", FAMILY,
    "share of the account's posts in the export that tag brands or carry a partnership label",
    "{value:.0%} of the account's posts in this export promote brands",
    "only {value:.0%} of the account's posts in this export promote brands",
)
mark_presence(F_BIO_MARKERS, F_BIO_EMOJI, F_PREV_24H)

FEATURES = (
    F_AGE, F_LOG_FOLLOWERS, F_LOG_FOLLOWING, F_FOLLOW_RATIO, F_POSTS_PER_DAY, F_VERIFIED,
    F_IS_BRAND, F_BIO_LEN, F_BIO_MARKERS, F_BIO_DIGITS, F_BIO_EMOJI, F_DEVICE,
    F_POSTS_EXPORT, F_PREV_24H, F_GAP, F_PROMO_SHARE,
)

CTX_DEVICE = "ctx_account_device_cluster_accounts"
CTX_POSTS = "ctx_account_posts_in_export"
CTX_PREV_24H = "ctx_account_posts_prev_24h"
CTX_GAP = "ctx_account_hours_since_prev_post"
CTX_PROMO = "ctx_account_promo_share"
CONTEXT_COLUMNS = (CTX_DEVICE, CTX_POSTS, CTX_PREV_24H, CTX_GAP, CTX_PROMO)

# --------------------------------------------------------------------------- bio

_ZERO_WIDTH = re.compile("[\u200b-\u200f\u2060\ufeff\ufe0e\ufe0f]")
_CONTACT = re.compile(
    r"微信|威信|薇信|徽信|v信|vx|wx|weixin|wechat|加v|\+v|加微|加薇|薇|绿泡泡|"
    r"扣扣|qq|企鹅|q群|tel|电话|手机号|私信|主页|dd我|滴滴我"
)
_CN_DIGITS = str.maketrans("零〇一二三四五六七八九幺两", "0012345678912")
_DIGIT_SEP = re.compile(r"(?<=[0-9])[\s\-\._·,，、/|]+(?=[0-9])")
_DIGIT_RUN = re.compile(r"[0-9]+")
_CONTACT_EMOJI = set("📞☎📱📲✉📧📩📨💌🐧💬🆔🛰📠🔗")
_KEYCAP = "\u20e3"


def _normalise(text: str) -> str:
    t = unicodedata.normalize("NFKC", text).lower()
    return _ZERO_WIDTH.sub("", t)


def bio_features(bio) -> tuple[float, float, float, float]:
    """(length, contact markers, longest digit run, contact emoji) of one bio; NaN if no bio."""
    if not isinstance(bio, str):
        return (np.nan, np.nan, np.nan, np.nan)
    norm = _normalise(bio)
    # markers: drop everything that is not a word character or '+', so 微😊信 and "+ V" match
    squeezed = re.sub(r"[^\w+]", "", norm)
    markers = len(_CONTACT.findall(squeezed))
    digits = norm.replace(_KEYCAP, "").translate(_CN_DIGITS)
    digits = _DIGIT_SEP.sub("", digits)
    runs = _DIGIT_RUN.findall(digits)
    longest = max((len(r) for r in runs), default=0)
    emoji = sum(1 for ch in bio if ch in _CONTACT_EMOJI) + bio.count(_KEYCAP)
    return (float(len(bio)), float(markers), float(longest), float(emoji))


def _bio_matrix(bios) -> np.ndarray:
    """Bio features for every row, computed once per distinct bio."""
    s = pd.Series(np.asarray(bios, dtype=object))
    codes, uniques = pd.factorize(s, use_na_sentinel=True)
    table = np.array([bio_features(b) for b in uniques], dtype=float).reshape(-1, 4)
    out = np.full((len(s), 4), np.nan)
    ok = codes >= 0
    out[ok] = table[codes[ok]]
    return out


# --------------------------------------------------------------------------- context


def _col(frame: pd.DataFrame, name: str):
    return frame[name].to_numpy() if name in frame.columns else None


def _promo_flag(frame: pd.DataFrame) -> np.ndarray:
    """1 if the post tags a brand or carries the partnership label, 0 if it does neither,
    NaN when neither column says anything."""
    n = len(frame)
    tags = _col(frame, "brand_tags")
    if tags is not None:
        has_tags = np.fromiter(
            (np.nan if t is None or (isinstance(t, float) and np.isnan(t)) else float(len(t) > 0)
             for t in tags),
            dtype=float, count=n,
        )
    else:
        has_tags = np.full(n, np.nan)
    disclosed = bool_float(_col(frame, "disclosed_partnership"), n)
    out = np.where((has_tags == 1) | (disclosed == 1), 1.0, np.nan)
    out = np.where(np.isnan(out) & ((has_tags == 0) | (disclosed == 0)), 0.0, out)
    return out


def account_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """Compact per-post projection for :func:`account_context`: post_id, account_id,
    published_at (seconds), device_cluster (None when unknown) and a promo flag."""
    dc = _col(frame, "account_device_cluster")
    if dc is None:
        dc = np.full(len(frame), None, dtype=object)
    dc = pd.Series(np.asarray(dc, dtype=object)).map(
        lambda v: v if isinstance(v, str) and v != "" else None
    )
    return pd.DataFrame(
        {
            "post_id": frame["post_id"].to_numpy(),
            "account_id": frame["account_id"].to_numpy(),
            "published_at": seconds(frame["published_at"]),
            "device_cluster": dc.to_numpy(dtype=object),
            "promo": _promo_flag(frame),
        }
    )


def account_context(keys: pd.DataFrame, window_hours: float = 24.0) -> pd.DataFrame:
    """Per post, from the whole night's keys: accounts sharing the device cluster, the
    account's posts in the export, its posts in the ``window_hours`` before this one,
    hours since its previous post, and its share of promotional posts."""
    n = len(keys)
    # ids as integer codes (object or Arrow-backed columns alike; no per-post objects)
    codes = id_codes(keys["account_id"])
    m = int(codes.max()) + 1 if n else 0
    # device cluster: distinct accounts per cluster
    dc = id_codes(keys["device_cluster"])
    known = dc >= 0
    device = np.full(n, np.nan)
    if known.any():
        kc, ka = dc[known].astype(np.int64), codes[known].astype(np.int64)
        pairs = np.unique(kc * max(m, 1) + ka)  # distinct (cluster, account)
        sizes = np.bincount(pairs // max(m, 1), minlength=int(kc.max()) + 1)
        device[known] = sizes[kc].astype(float)
    # account totals in the export
    posts = np.bincount(codes, minlength=m)[codes].astype(float)
    promo = keys["promo"].to_numpy(dtype=float)
    pk = ~np.isnan(promo)
    num = np.bincount(codes[pk], weights=promo[pk], minlength=m)
    den = np.bincount(codes[pk], minlength=m).astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        share = (num / den)[codes]
    # history: posts strictly before, within the window, and the gap to the previous one
    t = keys["published_at"].to_numpy(dtype=float)
    prev_w = np.full(n, np.nan)
    gap = np.full(n, np.nan)
    if n:
        order = np.lexsort((t, codes))
        a, ts = codes[order], t[order]
        ar = np.arange(n)
        grp_start = np.r_[True, a[1:] != a[:-1]]
        gidx = np.maximum.accumulate(np.where(grp_start, ar, 0))
        tie_start = np.r_[True, (a[1:] != a[:-1]) | (ts[1:] != ts[:-1])]
        tidx = np.maximum.accumulate(np.where(tie_start, ar, 0))
        # rows of one account are contiguous and sorted by time: search inside the block
        span = np.nanmax(ts) - np.nanmin(ts) if np.isfinite(ts).any() else 0.0
        stride = span + 10 * window_hours * 3600.0 + 1.0
        key = a * stride + (ts - np.nanmin(ts) if np.isfinite(ts).any() else ts)
        lo = np.searchsorted(key, key - window_hours * 3600.0, side="left")
        lo = np.maximum(lo, gidx)
        pw = (tidx - lo).astype(float)
        prev_idx = tidx - 1
        has_prev = prev_idx >= gidx
        g = np.where(has_prev, (ts - ts[np.maximum(prev_idx, 0)]) / 3600.0, np.nan)
        prev_w[order] = pw
        gap[order] = g
    return pd.DataFrame(
        {
            CTX_DEVICE: device,
            CTX_POSTS: posts,
            CTX_PREV_24H: prev_w,
            CTX_GAP: gap,
            CTX_PROMO: share,
        },
        index=post_index(keys),
    )


# --------------------------------------------------------------------------- transformer


class AccountFeatures(StatelessFeaturesMixin, TransformerMixin, BaseEstimator):
    """Features of the author's account and of its activity in the night's export.

    Stateless: nothing is learnt from training data (``fit`` only records the
    output names), so transform works on an unfitted instance too. No parameters:
    the context (and its 24-hour window) must be the same whether the scorer
    precomputes it for the night or the transformer computes it here.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
    """

    _features = FEATURES

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        n = len(X)
        known = bool_float(_col(X, "account_known"), n) == 1.0

        def num(name: str) -> np.ndarray:
            v = _col(X, name)
            if v is None:
                return np.full(n, np.nan)
            v = pd.to_numeric(pd.Series(v), errors="coerce").to_numpy(dtype=float)
            return np.where(known, v, np.nan)

        out: dict[str, np.ndarray] = {}
        created = _col(X, "account_created_at")
        if created is not None and n:
            age = (seconds(X["published_at"]) - seconds(created)) / DAY_S
        else:
            age = np.full(n, np.nan)
        age = np.where(known, age, np.nan)
        followers, following, total = (
            num("account_followers"), num("account_following"), num("account_posts_total")
        )
        out[F_AGE] = age
        out[F_LOG_FOLLOWERS] = np.log1p(np.maximum(followers, 0))
        out[F_LOG_FOLLOWING] = np.log1p(np.maximum(following, 0))
        out[F_FOLLOW_RATIO] = (followers + 1) / (following + 1)
        out[F_POSTS_PER_DAY] = total / np.maximum(age, 1.0)
        out[F_VERIFIED] = np.where(known, bool_float(_col(X, "account_verified"), n), np.nan)
        out[F_IS_BRAND] = np.where(known, bool_float(_col(X, "account_is_brand"), n), np.nan)
        bios = _col(X, "account_bio")
        bio = _bio_matrix(bios) if bios is not None else np.full((n, 4), np.nan)
        bio[~known] = np.nan
        out[F_BIO_LEN], out[F_BIO_MARKERS], out[F_BIO_DIGITS], out[F_BIO_EMOJI] = bio.T

        ctx = resolve_context(X, CONTEXT_COLUMNS, account_keys, account_context)
        out[F_DEVICE] = np.where(known, ctx[CTX_DEVICE].to_numpy(dtype=float), np.nan)
        out[F_POSTS_EXPORT] = ctx[CTX_POSTS].to_numpy(dtype=float)
        out[F_PREV_24H] = ctx[CTX_PREV_24H].to_numpy(dtype=float)
        out[F_GAP] = ctx[CTX_GAP].to_numpy(dtype=float)
        out[F_PROMO_SHARE] = ctx[CTX_PROMO].to_numpy(dtype=float)
        df = pd.DataFrame({k: finite(out[k]) for k in FEATURES}, index=X.index)
        return df.astype("float64")
