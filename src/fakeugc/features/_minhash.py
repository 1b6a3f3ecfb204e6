"""Vectorised shingling, MinHash signatures, LSH banding and windowed pair search.

Private helpers for :mod:`fakeugc.features._coordination`. Everything is numpy over
flat arrays, with one Python pass per post only to join token lists, so 100k posts
take seconds (datasketch's per-post ``MinHash.update`` loop takes minutes). The
signatures follow the same scheme as datasketch (min over universal hash
permutations of 32-bit shingle hashes) but use a multiply-add-shift family in
uint64 arithmetic, so they are not interchangeable with datasketch objects.

Shingles are jieba-token n-grams (1..``shingle_size`` tokens) taken *within* a
sentence, after a canonicalisation map merges common seeding synonyms
(好用/好使/超好用 → 好用) and stop words and intensifiers are dropped. Taking
n-grams within sentences makes the shingle set invariant to sentence reordering;
the synonym map and stop-word removal make it robust to the usual 替换近义词.
"""

from __future__ import annotations

import zlib
from functools import lru_cache
from itertools import chain

import numpy as np
import pandas as pd

#: canonical form → variants (as text; any jieba segmentation of a variant matches).
SYNONYMS: dict[str, tuple[str, ...]] = {
    "好用": (
        "好用", "好使", "超好用", "巨好用", "贼好用", "很好用", "太好用", "真好用",
        "非常好用", "超级好用", "特别好用", "好用到哭", "好用到爆", "蛮好用", "挺好用",
        "超好使", "巨好使", "好用哭了",
    ),
    "推荐": (
        "推荐", "安利", "种草", "强推", "力荐", "强烈推荐", "强烈安利", "墙裂推荐",
        "墙裂安利", "吹爆", "疯狂安利", "必须安利", "狠狠安利", "真心推荐", "诚心推荐",
        "被种草", "拔草",
    ),
    "姐妹": (
        "姐妹", "姐妹们", "集美", "集美们", "宝子", "宝子们", "宝宝们", "家人们",
        "姐妹儿", "小仙女们", "姐姐们", "uu们", "朋友们", "小伙伴们",
    ),
    "绝了": ("绝了", "绝绝子", "yyds", "太绝了", "真的绝了", "绝", "无敌", "封神"),
    "宝藏": ("宝藏", "神仙", "天花板", "宝藏级", "神器", "神仙级", "宝藏单品"),
    "回购": (
        "回购", "无限回购", "回购无数次", "已回购", "必回购", "空瓶", "回购了", "已空瓶",
        "囤货", "囤", "屯",
    ),
    "入手": (
        "入手", "闭眼入", "必入", "冲", "冲鸭", "买它", "必买", "入", "下单", "剁手",
        "闭眼冲", "无脑入", "入股", "直接冲",
    ),
    "划算": (
        "划算", "实惠", "便宜", "性价比高", "性价比超高", "平价", "白菜价", "性价比",
        "超值", "不贵",
    ),
    "保湿": ("保湿", "补水", "水润", "滋润", "水水润润", "水嫩", "不干", "不拔干"),
    "温和": ("温和", "不刺激", "温温柔柔", "零刺激", "无刺激", "不刺痛", "很温和"),
    "效果": ("效果", "功效", "作用", "效果好"),
    "皮肤": ("皮肤", "肌肤", "皮皮", "脸蛋", "皮肤状态", "肤质"),
    "惊艳": ("惊艳", "惊喜", "惊到", "震惊", "惊呆", "惊艳到"),
    "喜欢": ("喜欢", "爱了", "爱死", "爱惨了", "心动", "超爱", "真爱", "爱上", "好喜欢"),
    "发现": ("发现", "挖到", "找到", "遇到", "无意中发现", "偶然发现", "意外发现", "挖到宝"),
    "不踩雷": ("不踩雷", "不踩坑", "零踩雷", "不会踩雷", "闭眼买", "不翻车", "零翻车"),
    "大家": ("大家", "你们", "所有人", "各位", "每个人"),
    "一定": ("一定", "必须", "务必", "千万", "一定要", "必须要"),
    "好看": ("好看", "漂亮", "美", "绝美", "颜值高", "高颜值", "颜值"),
    "好吃": ("好吃", "美味", "香", "巨香", "好香", "超香"),
    "用": ("用", "使用", "用了", "用过", "试了", "试用", "上脸", "用上"),
    "分享": ("分享", "推荐一下", "说一下", "聊聊", "讲讲"),
    "好物": ("好物", "单品", "宝贝", "东西"),
}

#: Dropped tokens: function words, pronouns, intensifiers, the Xiaohongshu tag suffix.
STOPWORDS = frozenset(
    """的 了 是 我 也 都 就 和 与 及 在 有 这 那 这个 那个 这款 那款 款 个 一 一个 一款
    啊 呀 吧 呢 哦 嘛 啦 哈 哈哈 哈哈哈 呜呜 嗯 哇 噢 喔 还 又 再 给 让 把 被 对 着 过
    会 能 可以 要 们 吗 而且 然后 所以 因为 但是 但 就是 还是 一下 自己 我们 我的 你
    你的 他 她 它 超 超级 巨 贼 很 太 非常 特别 真的 真 真心 确实 简直 好 蛮 挺 十分
    相当 最 更 比较 实在 话题 之 其 并 或 等 呀呀 哟 咯 嘿 得 地 着呢 啥 么 什么
    """.split()
)

_KEY_MULT = np.uint64(0x100000001B3)  # FNV prime: odd, so the key is a bijection per step
_M1 = np.uint64(0xBF58476D1CE4E5B9)
_M2 = np.uint64(0x94D049BB133111EB)
_GOLD = np.uint64(0x9E3779B97F4A7C15)
_S30, _S27, _S31, _S32 = (np.uint64(v) for v in (30, 27, 31, 32))


def mix64(z: np.ndarray) -> np.ndarray:
    """splitmix64 finaliser, elementwise on a uint64 array (wrapping arithmetic)."""
    z = np.asarray(z, dtype=np.uint64)
    z = (z ^ (z >> _S30)) * _M1
    z = (z ^ (z >> _S27)) * _M2
    return z ^ (z >> _S31)


@lru_cache(maxsize=1)
def _variant_lookup() -> dict[str, str]:
    lookup: dict[str, str] = {}
    for canon, variants in SYNONYMS.items():
        lookup.setdefault(canon, canon)
        for v in variants:
            lookup.setdefault(v, canon)
    return lookup


def _segmentations(word: str, max_pieces: int = 4):
    """Every split of ``word`` into 2..``max_pieces`` consecutive pieces."""
    n = len(word)
    for mask in range(1, 2 ** (n - 1)):
        cuts = [i + 1 for i in range(n - 1) if mask >> i & 1]
        if len(cuts) + 1 > max_pieces:
            continue
        bounds = [0, *cuts, n]
        yield tuple(word[a:b] for a, b in zip(bounds[:-1], bounds[1:], strict=True))


def _window_keys(codes: np.ndarray, starts: np.ndarray, w: int) -> np.ndarray:
    """uint64 polynomial key of the ``w`` codes from each of ``starts``."""
    h = np.zeros(len(starts), np.uint64)
    for k in range(w):
        h = h * _KEY_MULT + codes[starts + k].astype(np.uint64) + np.uint64(1)
    return h


def _canonical_codes(codes: np.ndarray, post: np.ndarray, vocab: list[str]):
    """Map a flat token-code stream onto canonical synonyms.

    A variant (好使, 超好用, 无限回购, ...) matches as one token or as any run of 2-4
    consecutive tokens of one post that spell it (jieba cuts 超好用 as 超/好/用);
    longer runs win. Returns ``(codes, dropped, vocab)``: the first token of a
    matched run carries the canonical code, the rest are ``dropped``; canonical
    words missing from ``vocab`` are appended to it.
    """
    lookup = _variant_lookup()
    index = {v: i for i, v in enumerate(vocab)}
    vocab = list(vocab)

    def code_of(word: str) -> int:
        i = index.get(word)
        if i is None:
            i = index[word] = len(vocab)
            vocab.append(word)
        return i

    out = codes.copy()
    dropped = np.zeros(len(codes), bool)
    consumed = np.zeros(len(codes), bool)
    # runs of several tokens, longest first
    by_w: dict[int, dict[int, int]] = {}
    firsts: dict[int, set[int]] = {}
    for variant, canon in lookup.items():
        if len(variant) < 2:
            continue
        for pieces in _segmentations(variant):
            if all(p in index for p in pieces):
                pc = np.array([index[p] for p in pieces], np.int64)
                key = _window_keys(pc, np.zeros(1, np.int64), len(pieces))
                by_w.setdefault(len(pieces), {})[int(key[0])] = code_of(canon)
                firsts.setdefault(len(pieces), set()).add(int(pc[0]))
    n_tok = len(codes)
    for w in sorted(by_w, reverse=True):
        if n_tok < w:
            continue
        table = by_w[w]
        first = np.zeros(len(vocab), bool)
        first[list(firsts[w])] = True
        cand = np.flatnonzero(first[codes[: n_tok - w + 1]])
        cand = cand[post[cand] == post[cand + w - 1]]
        if len(cand) == 0:
            continue
        targets = np.array(sorted(table), dtype=np.uint64)
        keys = _window_keys(codes, cand, w)
        pos = np.minimum(np.searchsorted(targets, keys), len(targets) - 1)
        hit = targets[pos] == keys
        csum = np.r_[0, np.cumsum(consumed)]
        hit &= (csum[cand + w] - csum[cand]) == 0
        cand, keys = cand[hit], keys[hit]
        if len(cand) == 0:
            continue
        # overlapping runs of the same length: keep the earlier one
        keep = np.ones(len(cand), bool)
        idx = np.arange(len(cand))
        for d in range(1, w):
            prev = np.searchsorted(cand, cand - d)
            keep &= ~((prev < idx) & (cand[np.minimum(prev, len(cand) - 1)] == cand - d))
        cand, keys = cand[keep], keys[keep]
        out[cand] = np.array([table[int(k)] for k in keys], dtype=np.int64)
        for k in range(w):
            consumed[cand + k] = True
            if k:
                dropped[cand + k] = True
    # single tokens
    single = np.arange(len(vocab), dtype=np.int64)
    for i, v in enumerate(list(vocab)):
        c = lookup.get(v)
        if c is not None and c != v:
            single[i] = code_of(c)
    single = np.r_[single, np.arange(len(single), len(vocab))]
    free = ~consumed
    out[free] = single[out[free]]
    return out, dropped, vocab


def _is_boundary(tok: str) -> bool:
    """Punctuation, symbols and emoji separate sentences (no letter, digit or CJK)."""
    return not any(ch.isalnum() for ch in tok)


def _stable_hash32(tok: str) -> int:
    return zlib.crc32(tok.encode("utf-8", "surrogatepass"))


def _flatten(token_lists) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """``(codes, post, vocab)`` of every token of every post, in order."""
    lists = [t if isinstance(t, list | tuple | np.ndarray) else () for t in token_lists]
    lengths = np.fromiter(map(len, lists), np.int64, len(lists))
    flat = list(chain.from_iterable(lists))
    if not flat:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), []
    codes, vocab = pd.factorize(np.asarray(flat, dtype=object), sort=False)
    post = np.repeat(np.arange(len(lists), dtype=np.int64), lengths)
    return codes.astype(np.int64), post, [str(v) for v in vocab]


def shingle_arrays(
    token_lists, shingle_size: int = 2, min_size: int = 1
) -> tuple[np.ndarray, np.ndarray]:
    """Distinct shingle hashes of every post, as flat arrays.

    Returns ``(post, shingle)``: ``post`` (int64, non-decreasing) is the row number
    and ``shingle`` the uint64 hash (< 2**32) of a ``min_size``..``shingle_size``-gram
    of canonical content tokens inside one sentence. Each (post, shingle) appears once.
    """
    empty = (np.zeros(0, np.int64), np.zeros(0, np.uint64))
    codes, post, vocab = _flatten(token_lists)
    if len(codes) == 0:
        return empty
    codes, dropped, vocab = _canonical_codes(codes, post, vocab)
    nv = len(vocab)
    is_bound = np.fromiter((_is_boundary(v) for v in vocab), bool, nv)
    is_stop = np.fromiter((v in STOPWORDS for v in vocab), bool, nv)
    vhash = np.fromiter((_stable_hash32(v) for v in vocab), np.uint64, nv)

    codes, post = codes[~dropped], post[~dropped]
    starts = np.r_[True, post[1:] != post[:-1]]
    seg = np.cumsum(is_bound[codes] | starts)  # sentence id (a post start opens one)
    keep = ~(is_bound[codes] | is_stop[codes])
    k_post = post[keep]
    k_seg = seg[keep]
    k_hash = vhash[codes[keep]]
    if len(k_hash) == 0:
        return empty

    posts_out = []
    hashes_out = []
    h = k_hash.copy()
    for size in range(1, max(1, int(shingle_size)) + 1):
        m = len(k_hash) - size + 1
        if m <= 0:
            break
        if size == 1:
            g = mix64(h ^ np.uint64(0x51ED2701A3C5E6F1))
            ok = np.ones(m, bool)
        else:
            h = mix64(h[:m] * _GOLD + k_hash[size - 1 :] + np.uint64(size))
            ok = k_seg[:m] == k_seg[size - 1 :]
            g = h
        if size >= min_size:
            posts_out.append(k_post[:m][ok])
            hashes_out.append(g[ok] >> _S32)
    if not posts_out:
        return empty
    post = np.concatenate(posts_out)
    sh = np.concatenate(hashes_out)
    key = np.sort((post.astype(np.uint64) << _S32) | sh)
    key = key[np.r_[True, key[1:] != key[:-1]]]
    return (key >> _S32).astype(np.int64), key & np.uint64(0xFFFFFFFF)


def permutations(num_perm: int, random_state: int = 0) -> tuple[np.ndarray, np.ndarray]:
    """Seeded multiply-add-shift hash family: odd 64-bit ``a`` and 64-bit ``b``."""
    rng = np.random.default_rng(random_state)
    a = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2) + np.uint64(1)
    b = rng.integers(0, 2**63, size=num_perm, dtype=np.uint64) * np.uint64(2)
    return a, b


def minhash_signatures(
    post: np.ndarray,
    shingle: np.ndarray,
    n_posts: int,
    num_perm: int = 64,
    random_state: int = 0,
    chunk: int = 4096,
) -> tuple[np.ndarray, np.ndarray]:
    """MinHash signature (uint32, ``num_perm`` wide) of each post.

    Returns ``(signatures, n_shingles)``; rows of posts with no shingle are all
    ``0xFFFFFFFF`` and have ``n_shingles == 0``.
    """
    sig = np.full((n_posts, num_perm), np.iinfo(np.uint32).max, dtype=np.uint32)
    counts = np.bincount(post, minlength=n_posts).astype(np.int64) if len(post) else np.zeros(
        n_posts, np.int64
    )
    if len(post) == 0:
        return sig, counts
    a, b = permutations(num_perm, random_state)
    starts = np.flatnonzero(np.r_[True, post[1:] != post[:-1]])
    rows = post[starts]
    bounds = np.r_[starts, len(post)]
    i = 0
    while i < len(starts):
        # take whole posts until about `chunk` shingles
        j = int(np.searchsorted(bounds, bounds[i] + chunk, side="right")) - 1
        j = max(j, i + 1)
        lo, hi = bounds[i], bounds[j]
        x = shingle[lo:hi]
        hv = ((x[:, None] * a[None, :] + b[None, :]) >> _S32).astype(np.uint32)
        sig[rows[i:j]] = np.minimum.reduceat(hv, starts[i:j] - lo, axis=0)
        i = j
    return sig, counts


@lru_cache(maxsize=64)
def lsh_params(threshold: float, num_perm: int, fn_weight: float = 0.7) -> tuple[int, int]:
    """Bands ``b`` and rows ``r`` (b*r <= num_perm) minimising weighted false
    positive and false negative probability mass around ``threshold`` (the
    datasketch criterion, weighted towards recall: clusters are connected
    components, so a missed pair is costlier than a pair verified and dropped)."""
    xs = np.linspace(0.0, 1.0, 201)
    best, best_cost = (1, num_perm), np.inf
    for b in range(1, num_perm + 1):
        for r in range(1, num_perm // b + 1):
            p = 1.0 - (1.0 - xs**r) ** b
            fp = np.trapezoid(np.where(xs < threshold, p, 0.0), xs)
            fn = np.trapezoid(np.where(xs >= threshold, 1.0 - p, 0.0), xs)
            cost = (1 - fn_weight) * fp + fn_weight * fn
            if cost < best_cost - 1e-12:
                best, best_cost = (b, r), cost
    return best


def band_key(sig: np.ndarray, band: int, rows: int, transposed: bool = False) -> np.ndarray:
    """uint64 hash of band ``band`` (columns ``band*rows .. (band+1)*rows - 1``) of each
    signature; the band number is mixed in, so equal keys in different bands do not
    collide. ``transposed``: ``sig`` is ``(num_perm, n_posts)``."""
    n = sig.shape[1] if transposed else sig.shape[0]
    h = np.full(n, np.uint64(band + 1)) * _GOLD
    for c in range(band * rows, (band + 1) * rows):
        col = sig[c] if transposed else sig[:, c]
        h = mix64(h ^ col.astype(np.uint64))
    return h


def band_keys(sig: np.ndarray, bands: int, rows: int) -> np.ndarray:
    """(n_posts, bands) uint64 hash of each band of each signature (:func:`band_key`)."""
    out = np.empty((sig.shape[0], bands), dtype=np.uint64)
    for k in range(bands):
        out[:, k] = band_key(sig, k, rows)
    return out


def unique_sorted(a: np.ndarray) -> np.ndarray:
    """Sorted distinct values (``np.unique`` without its hash path, which is ~100x
    slower than a sort on large integer arrays in numpy 2.4)."""
    a = np.sort(np.asarray(a), kind="stable")
    if len(a) == 0:
        return a
    return a[np.r_[True, a[1:] != a[:-1]]]


def group_codes(a: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``(inverse, counts)`` as ``np.unique(a, return_inverse=True,
    return_counts=True)`` would give (codes follow the sorted values)."""
    a = np.asarray(a)
    n = len(a)
    if n == 0:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    order = np.argsort(a, kind="stable")
    srt = a[order]
    new = np.r_[True, srt[1:] != srt[:-1]]
    codes_sorted = np.cumsum(new) - 1
    inverse = np.empty(n, np.int64)
    inverse[order] = codes_sorted
    counts = np.diff(np.r_[np.flatnonzero(new), n])
    return inverse, counts


#: rows of the time-ordered group sequence handled at once by the blocked pair helpers
#: (each block holds at most ``PAIR_BLOCK * max_offset`` pairs)
PAIR_BLOCK = 1 << 13


def _window_order(group, time, tiebreak):
    """Positions of the rows in groups of >= 2, sorted by (group, time, tiebreak), and
    the group codes and times in that order."""
    n = len(group)
    inv, cnt = group_codes(group)
    idx = np.flatnonzero(cnt[inv] > 1)
    if len(idx) < 2:
        return np.zeros(0, np.int64), np.zeros(0, np.int64), np.zeros(0)
    tb = np.arange(n) if tiebreak is None else np.asarray(tiebreak)
    order = idx[np.lexsort((tb[idx], time[idx], inv[idx]))]
    return order, inv[order], np.asarray(time)[order]


def _offset_pairs(g, t, a, lo: int, hi: int, stop: int, window: float, max_offset: int,
                  keep=None):
    """Positions ``(p, p + d)`` of the ordered sequence with ``lo <= p < hi``,
    ``p + d < stop`` and ``1 <= d <= max_offset``: same group, at most ``window`` apart,
    different accounts (and ``keep`` at both ends, when given)."""
    left, right = [], []
    for d in range(1, max_offset + 1):
        end = min(hi, stop - d)
        if end <= lo:
            break
        p = np.arange(lo, end)
        same = (g[lo:end] == g[lo + d:end + d]) & (t[lo + d:end + d] - t[lo:end] <= window)
        if not same.any():
            break  # sorted by (group, time): no pair at a larger offset either
        ok = same & (a[lo:end] != a[lo + d:end + d])
        if keep is not None:
            ok &= keep[lo:end] & keep[lo + d:end + d]
        pos = p[ok]
        left.append(pos)
        right.append(pos + d)
    if not left:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(left), np.concatenate(right)


def window_pair_blocks(
    group: np.ndarray,
    time: np.ndarray,
    account: np.ndarray,
    window: float,
    max_offset: int = 64,
    tiebreak: np.ndarray | None = None,
    keep: np.ndarray | None = None,
    block: int | None = None,
):
    """The pairs of :func:`window_pairs`, yielded in pieces of bounded size.

    Each piece holds the pairs whose earlier row falls in one block of ``block``
    rows of the (group, time, tiebreak) order, so a piece has at most
    ``block * max_offset`` pairs whatever the size of the night or of one group.
    ``keep`` (bool per row) keeps only pairs with both rows kept; the offsets are
    counted over *all* rows, so the kept pairs are exactly the kept subset of the
    unfiltered pairs. The union of the pieces does not depend on ``block``.
    """
    if len(group) < 2:
        return
    order, g, t = _window_order(group, time, tiebreak)
    if len(order) < 2:
        return
    a = np.asarray(account)[order]
    k = None if keep is None else np.asarray(keep, bool)[order]
    L = len(order)
    step = max(1, int(block or PAIR_BLOCK))
    for lo in range(0, L, step):
        li, ri = _offset_pairs(g, t, a, lo, min(lo + step, L), L, window, int(max_offset), k)
        if len(li):
            yield order[li], order[ri]


def window_pairs(
    group: np.ndarray,
    time: np.ndarray,
    account: np.ndarray,
    window: float,
    max_offset: int = 64,
    tiebreak: np.ndarray | None = None,
) -> tuple[np.ndarray, np.ndarray]:
    """Pairs of rows in the same ``group`` at most ``window`` apart in ``time`` and
    by different ``account`` codes.

    Rows of a group are ordered by (time, tiebreak) and each row is paired with
    at most ``max_offset`` following rows, which bounds the work on huge groups
    (popular hashtags, degenerate texts); rows are returned as the original row
    numbers. Groups of one row are skipped. The result is deterministic given the
    data (not the row order) when ``tiebreak`` is a data-derived rank. (For large
    inputs, consume :func:`window_pair_blocks` or :func:`distinct_partner_accounts`
    instead: they give the same pairs in bounded memory.)
    """
    parts = list(window_pair_blocks(group, time, account, window, max_offset, tiebreak))
    if not parts:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))


def distinct_partner_accounts(
    group: np.ndarray,
    time: np.ndarray,
    account: np.ndarray,
    window: float,
    max_offset: int = 64,
    tiebreak: np.ndarray | None = None,
    block: int | None = None,
) -> np.ndarray:
    """For each row, the distinct accounts among its :func:`window_pairs` partners
    (float; 0 for rows without any), in memory bounded by ``block`` rows.

    A row's partners lie within ``max_offset`` positions of it in the (group, time,
    tiebreak) order, so each block of rows is counted from the pairs inside the
    block widened by ``max_offset`` on both sides: exact, and independent of
    ``block``.
    """
    n = len(group)
    out = np.zeros(n, np.float64)
    if n < 2:
        return out
    order, g, t = _window_order(group, time, tiebreak)
    if len(order) < 2:
        return out
    account = np.asarray(account, np.int64)
    a = account[order]
    L = len(order)
    h = int(max_offset)
    n_acc = int(account.max()) + 1
    step = max(1, int(block or PAIR_BLOCK))
    for lo in range(0, L, step):
        hi = min(lo + step, L)
        w_lo, w_hi = max(0, lo - h), min(L, hi + h)
        li, ri = _offset_pairs(g, t, a, w_lo, w_hi, w_hi, window, h)
        if not len(li):
            continue
        pos = np.concatenate([li, ri])
        other = np.concatenate([a[ri], a[li]])
        mine = (pos >= lo) & (pos < hi)
        key = unique_sorted((pos[mine] - lo) * n_acc + other[mine])
        out[order[lo:hi]] = np.bincount(key // n_acc, minlength=hi - lo)
    return out


def window_counts(group: np.ndarray, time_s: np.ndarray, half: int) -> np.ndarray:
    """For each row, rows of its ``group`` (int codes >= 0) with integer time
    within ``half`` of its own (itself included)."""
    n = len(group)
    if n == 0:
        return np.zeros(0, np.int64)
    t = time_s - time_s.min()
    span = int(t.max()) + 2 * int(half) + 1
    key = group.astype(np.int64) * span + t
    srt = np.sort(key)
    return np.searchsorted(srt, key + half, "right") - np.searchsorted(srt, key - half, "left")


def pair_similarity(sig: np.ndarray, i: np.ndarray, j: np.ndarray, threshold: float,
                    first: int = 16, margin: float = 0.25, transposed: bool = False) -> np.ndarray:
    """Estimated Jaccard (share of equal signature values) of row pairs ``(i, j)``.

    Two stages: the first ``first`` values screen out pairs estimated below
    ``threshold - margin`` (they keep that rough estimate); the rest get the full
    ``num_perm`` estimate. Column-wise gathers keep memory at O(pairs), and on
    10M LSH candidates this is ~1 s instead of ~15 s for a row-wise comparison.
    ``transposed``: ``sig`` is already ``(num_perm, n_posts)`` (no copy is made).
    """
    m = len(i)
    if m == 0:
        return np.zeros(0)
    sig_t = sig if transposed else np.ascontiguousarray(sig.T)
    num_perm = sig_t.shape[0]
    first = min(first, num_perm)
    eq = np.zeros(m, np.int32)
    for c in range(first):
        row = sig_t[c]
        eq += row[i] == row[j]
    sims = eq / first
    if first == num_perm:
        return sims
    keep = np.flatnonzero(sims >= threshold - margin)
    ik, jk = i[keep], j[keep]
    eq_k = eq[keep]
    for c in range(first, num_perm):
        row = sig_t[c]
        eq_k += row[ik] == row[jk]
    sims[keep] = eq_k / num_perm
    return sims
