"""Exposure-curve features: how a post's hourly impressions and engagement grew.

Why: bought exposure and bought engagement leave marks on the hourly curve
that text cannot show (detection.md §2.3, §3 "Exposure curves", §5). Purchased
drips are too even (low variation of hourly increments, long plateaus of
near-equal values); bought likes arrive without the impressions that would
explain them, often just before a traffic-pool jump, and retention is weak
once organic traffic comes. Organic curves on a pool-based recommender are
staircases, so the curve is judged against peers (accounts of the same
follower bucket, fitted on training data) and against the author's own earlier
posts, not against an ideal decay.

Every feature is computed on the hours the export holds for the post
(``exp_hours_seen`` says how many): a short curve is truncated, not quiet. A
metric that is not in the export gives NaN for the features that need it
(a curve of only ``shares``, as in the CED benchmark, still gives the shape,
timing, night-share and engagement-vs-peers features).

The "primary" curve used for shape and timing is impressions where the export
has them, otherwise total engagement (likes + collects + comments + shares,
whichever are present).

Cross-post context (the author's earlier posts) follows the feature-builder
protocol: :func:`exposure_keys` projects a few scalars per post,
:func:`exposure_context` turns the concatenated keys of a whole night into
``ctx_exposure_*`` columns; :meth:`ExposureFeatures.transform` uses those
columns when the frame carries them and otherwise computes them on the frame
itself (the frame is then the whole night).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.utils.validation import check_is_fitted

from fakeugc.features._catalogue import feature, mark_presence
from fakeugc.features._frame import CURVE_HOURS, curve_matrix

FAMILY = "exposure"
ENGAGEMENT_METRICS = ("likes", "collects", "comments", "shares")
RATE_METRICS = ("likes", "collects", "comments", "shares")
DAY = 24

# --------------------------------------------------------------------------- catalogue

F_HOURS_SEEN = feature(
    "exp_hours_seen", FAMILY,
    "hours of exposure curve in the export",
    "only {value:.0f} hours of the exposure curve were available",
)
F_LOG_IMP_24 = feature(
    "exp_log_impressions_24h", FAMILY,
    "log(1 + impressions in the first 24 hours seen)",
    "the post had about {value:.1f} log-impressions in its first day",
)
F_LOG_ENG_24 = feature(
    "exp_log_engagement_24h", FAMILY,
    "log(1 + likes, collects, comments and shares in the first 24 hours seen)",
    "the post collected about {value:.1f} log-engagements in its first day",
)
F_PEAK_HOUR = feature(
    "exp_peak_hour", FAMILY,
    "hour after publication with the most exposure",
    "exposure peaked {value:.0f} hours after publication",
)
F_PEAK_SHARE = feature(
    "exp_peak_share", FAMILY,
    "share of all exposure seen that fell in the peak hour",
    "{value:.0%} of the exposure came in a single hour",
    "exposure was spread out: the peak hour held only {value:.0%} of it",
)
F_DECAY = feature(
    "exp_decay_exponent", FAMILY,
    "power-law decay exponent of hourly exposure after the peak (organic ≈ 1–1.5)",
    "after its peak, exposure decayed with exponent {value:.2f}, unlike an organic fade",
    "after its peak, exposure faded like an organic post (exponent {value:.2f})",
)
F_DECAY_RESID = feature(
    "exp_decay_fit_residual", FAMILY,
    "RMS residual (log scale) of the power-law fit after the peak",
    "the curve after its peak does not follow a smooth decay (residual {value:.2f})",
)
F_SECOND_PEAKS = feature(
    "exp_secondary_peaks", FAMILY,
    "local maxima (±2 h) of at least 30% of the peak, besides the peak",
    "the curve had {value:.0f} further peaks after the main one",
)
F_PLATEAU = feature(
    "exp_plateau_hours", FAMILY,
    "longest run of consecutive hours with near-equal high exposure",
    "exposure stayed flat at a high level for {value:.0f} consecutive hours, like a purchased drip",
    "no flat stretch: the longest plateau was {value:.0f} hours",
)
F_PLATEAU_ENGAGEMENT = feature(
    "exp_plateau_like_rate_ratio", FAMILY,
    "likes per impression during the longest flat stretch (3+ hours, impressions curve) "
    "over the post's likes per impression in its other hours: bought traffic does not "
    "engage, a recommendation wave or a paid boost does",
    "during its flat stretch the post drew {value:.2f}× its usual likes per impression "
    "(traffic that does not engage)",
    "the flat stretch engaged like the rest of the post's traffic ({value:.2f}× its usual "
    "likes per impression)",
)
F_SHARE_3H = feature(
    "exp_share_first_3h", FAMILY,
    "share of the first day's exposure reached in the first 3 hours",
    "{value:.0%} of the first day's exposure arrived in the first 3 hours",
)
F_SHARE_6H = feature(
    "exp_share_first_6h", FAMILY,
    "share of the first day's exposure reached in the first 6 hours",
    "{value:.0%} of the first day's exposure arrived in the first 6 hours",
)
F_CV = feature(
    "exp_hourly_cv", FAMILY,
    "coefficient of variation of the nonzero hourly exposure increments",
    "hourly exposure was unusually even (variation {value:.2f}), as purchased drips are",
    "hourly exposure varied as organic traffic does (variation {value:.2f})",
)
F_ENG_CV = feature(
    "exp_engagement_hourly_cv", FAMILY,
    "coefficient of variation of the nonzero hourly engagement increments",
    "engagement arrived unusually evenly hour by hour (variation {value:.2f})",
    "engagement varied as organic engagement does (variation {value:.2f})",
)
F_STEP = feature(
    "exp_max_step_ratio", FAMILY,
    "largest hour-on-hour jump in exposure, (x[t]+1)/(x[t-1]+1)",
    "exposure jumped {value:.0f}× from one hour to the next",
)
F_RATES = {
    m: feature(
        f"exp_{m[:-1]}_rate", FAMILY,
        f"{m} per impression over the hours seen",
        f"{{value:.1%}} of impressions turned into {m}",
    )
    for m in RATE_METRICS
}
F_COLLECTS_PER_LIKE = feature(
    "exp_collects_per_like", FAMILY,
    "collects per like over the hours seen",
    "the post had {value:.2f} collects per like",
)
F_COMMENTS_PER_LIKE = feature(
    "exp_comments_per_like", FAMILY,
    "comments per like over the hours seen",
    "the post had {value:.2f} comments per like",
)
F_LIKE_EXCESS = feature(
    "exp_like_excess_max", FAMILY,
    "largest hourly (likes+1)/(impressions × the post's own like rate + 1)",
    "in one hour likes were {value:.0f}× what that hour's impressions would explain",
)
F_LIKE_RISES = feature(
    "exp_like_rises_without_impressions", FAMILY,
    "hours where likes at least doubled (by 5 or more) while impressions did not grow",
    "likes surged without more impressions in {value:.0f} hours",
)
mark_presence(F_SECOND_PEAKS, F_PLATEAU, F_LIKE_RISES)
F_PRE_JUMP = feature(
    "exp_pre_jump_engagement_ratio", FAMILY,
    "engagement rate in the 3 hours before the biggest exposure jump"
    " ÷ the rate in the 6 hours from it",
    "engagement per impression just before the traffic jump was {value:.1f}× the rate after it",
    "engagement before the traffic jump was in line with after it ({value:.1f}×)",
)
F_NIGHT = feature(
    "exp_night_share", FAMILY,
    "share of exposure during 00:00–06:00 in UTC+8",
    "{value:.0%} of the exposure came between midnight and 6 a.m. (UTC+8)",
)
F_ENG_NIGHT = feature(
    "exp_engagement_night_share", FAMILY,
    "share of engagement during 00:00–06:00 in UTC+8",
    "{value:.0%} of the engagement came between midnight and 6 a.m. (UTC+8)",
)
F_IMP_3H_PEERS = feature(
    "exp_impressions_3h_vs_peers", FAMILY,
    "impressions in the first 3 hours ÷ the median of accounts of the same follower bucket",
    "exposure was {value:.0f}× the usual level for an account of this size within 3 hours",
    "exposure in the first 3 hours was {value:.1f}× the usual level for an account of this size",
)
F_IMP_Z = feature(
    "exp_impressions_z", FAMILY,
    "robust z-score of log impressions in the first min(24, hours seen) hours"
    " against the follower bucket",
    "impressions were {value:.1f} robust SDs above accounts of this size",
    "impressions were typical for an account of this size (z = {value:.1f})",
)
F_ENG_Z = feature(
    "exp_engagement_z", FAMILY,
    "robust z-score of log engagement in the first min(24, hours seen) hours"
    " against the follower bucket",
    "engagement was {value:.1f} robust SDs above accounts of this size",
    "engagement was typical for an account of this size (z = {value:.1f})",
)
F_RATE_Z = {
    m: feature(
        f"exp_{m[:-1]}_rate_z", FAMILY,
        f"robust z-score of log {m[:-1]} rate against the follower bucket",
        f"the {m[:-1]} rate was {{value:.1f}} robust SDs above accounts of this size",
        f"the {m[:-1]} rate was typical for an account of this size (z = {{value:.1f}})",
    )
    for m in RATE_METRICS
}
F_VS_HISTORY = feature(
    "exp_vs_account_history", FAMILY,
    "first-day exposure ÷ the geometric mean of the author's earlier posts in the data",
    "the post got {value:.0f}× the exposure of the author's earlier posts",
    "exposure was in line with the author's earlier posts ({value:.1f}×)",
)

FEATURES = (
    F_HOURS_SEEN, F_LOG_IMP_24, F_LOG_ENG_24, F_PEAK_HOUR, F_PEAK_SHARE, F_DECAY,
    F_DECAY_RESID, F_SECOND_PEAKS, F_PLATEAU, F_SHARE_3H, F_SHARE_6H, F_CV, F_ENG_CV,
    F_STEP, *F_RATES.values(), F_COLLECTS_PER_LIKE, F_COMMENTS_PER_LIKE, F_LIKE_EXCESS,
    F_LIKE_RISES, F_PLATEAU_ENGAGEMENT, F_PRE_JUMP, F_NIGHT, F_ENG_NIGHT, F_IMP_3H_PEERS, F_IMP_Z, F_ENG_Z,
    *F_RATE_Z.values(), F_VS_HISTORY,
)

CTX_HIST_MEAN = "ctx_exposure_hist_log24_mean"
CTX_HIST_N = "ctx_exposure_hist_posts"
CONTEXT_COLUMNS = (CTX_HIST_MEAN, CTX_HIST_N)

# --------------------------------------------------------------------------- shared helpers
# (also used by the account and feedback families)


def seconds(values) -> np.ndarray:
    """Timestamps (any datetime unit, tz-aware or naive UTC) as float seconds since epoch."""
    s = pd.Series(values)
    # an object column of Timestamps: no cache (pandas' cache check walks every value
    # in Python first; the values are the same either way)
    s = pd.to_datetime(s, utc=True, cache=s.dtype != object)
    return ((s - pd.Timestamp(0, tz="UTC")) / pd.Timedelta(seconds=1)).to_numpy(
        dtype=float, na_value=np.nan
    )


def bool_float(values, n: int) -> np.ndarray:
    """Nullable booleans (True/False/None/NA) as 1.0/0.0/NaN."""
    if values is None:
        return np.full(n, np.nan)
    mapped = pd.Series(np.asarray(values, dtype=object)).map({True: 1.0, False: 0.0})
    return mapped.to_numpy(dtype=float, na_value=np.nan)


def is_arrow(values) -> bool:
    """An Arrow-backed pandas column (``pd.ArrowDtype``): the scorer hands the night
    context such columns (no Python object per value)."""
    return isinstance(getattr(values, "dtype", None), pd.ArrowDtype)


def id_codes(values) -> np.ndarray:
    """``pd.factorize`` codes of ids (first appearance order, -1 for missing), from an
    object array or column, or from an Arrow-backed column without Python objects
    (the same codes: both number values in order of first appearance)."""
    if is_arrow(values):
        return np.asarray(pd.factorize(values)[0])
    return pd.factorize(pd.Series(np.asarray(values, dtype=object), dtype=object))[0]


def post_index(keys: pd.DataFrame) -> pd.Index:
    """The keys' ``post_id`` as the context's index (Arrow-backed keys keep it in Arrow)."""
    ids = keys["post_id"]
    if is_arrow(ids):
        return pd.Index(ids.array, name="post_id")
    return pd.Index(ids.to_numpy(), name="post_id")


def earlier_sums(
    account_ids, times: np.ndarray, values: np.ndarray
) -> tuple[np.ndarray, np.ndarray]:
    """For each row, sums of ``values`` (n, k) over the *same account's* rows published
    strictly earlier, and how many such rows there are.

    NaN values count as 0 in the sums (pass a 0/1 column to count known values).
    Vectorised: one lexsort and cumulative sums; rows with equal timestamps do not
    see each other.
    """
    values = np.asarray(values, dtype=float)
    if values.ndim == 1:
        values = values[:, None]
    n = len(values)
    if n == 0:
        return np.zeros((0, values.shape[1])), np.zeros(0)
    codes = id_codes(account_ids)
    t = np.asarray(times, dtype=float)
    order = np.lexsort((t, codes))
    a, ts = codes[order], t[order]
    v = np.nan_to_num(values[order], nan=0.0)
    ar = np.arange(n)
    cs = np.cumsum(v, axis=0) - v  # exclusive running sum over the whole sorted array
    grp_start = np.r_[True, a[1:] != a[:-1]]
    gidx = np.maximum.accumulate(np.where(grp_start, ar, 0))
    in_group = cs - cs[gidx]
    cnt = (ar - gidx).astype(float)
    same_t = (ts[1:] == ts[:-1]) | (np.isnan(ts[1:]) & np.isnan(ts[:-1]))
    tie_start = np.r_[True, (a[1:] != a[:-1]) | ~same_t]
    tidx = np.maximum.accumulate(np.where(tie_start, ar, 0))
    sums_sorted, cnt_sorted = in_group[tidx], cnt[tidx]
    sums = np.empty_like(sums_sorted)
    counts = np.empty_like(cnt_sorted)
    sums[order] = sums_sorted
    counts[order] = cnt_sorted
    return sums, counts


def resolve_context(
    X: pd.DataFrame,
    columns: Sequence[str],
    keys_fn: Callable[[pd.DataFrame], pd.DataFrame],
    context_fn: Callable[[pd.DataFrame], pd.DataFrame],
) -> pd.DataFrame:
    """The family's ``ctx_`` columns for the rows of ``X``, positionally aligned with it:
    taken from ``X`` when it carries all of them, else computed on ``X`` as the whole night."""
    cols = list(columns)
    if all(c in X.columns for c in cols):
        return X[cols].reset_index(drop=True)
    ctx = context_fn(keys_fn(X))
    return ctx.reindex(pd.Index(X["post_id"]))[cols].reset_index(drop=True)


def finite(a: np.ndarray) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    return np.where(np.isfinite(a), a, np.nan)


# --------------------------------------------------------------------------- curves


def _has(m: np.ndarray) -> np.ndarray:
    """Rows where the metric has a curve."""
    return ~np.all(np.isnan(m), axis=1)


def _nansum(m: np.ndarray, has: np.ndarray) -> np.ndarray:
    s = np.nansum(m, axis=1)
    return np.where(has, s, np.nan)


def _div(a, b) -> np.ndarray:
    a = np.asarray(a, dtype=float)
    b = np.asarray(b, dtype=float)
    with np.errstate(divide="ignore", invalid="ignore"):
        out = a / b
    return np.where((b > 0) & np.isfinite(out), out, np.nan)


class _Curves:
    """Every matrix the features need, computed once per frame."""

    def __init__(self, frame: pd.DataFrame):
        n = len(frame)
        self.n = n
        hours = (
            pd.to_numeric(frame["curve_hours"], errors="coerce").to_numpy(dtype=float)
            if "curve_hours" in frame.columns
            else np.full(n, np.nan)
        )
        self.hours_seen = hours
        self.m = {k: curve_matrix(frame, k) for k in ("impressions", *ENGAGEMENT_METRICS)}
        self.has = {k: _has(v) for k, v in self.m.items()}
        eng_stack = np.stack([self.m[k] for k in ENGAGEMENT_METRICS])
        eng_has = np.any(np.stack([self.has[k] for k in ENGAGEMENT_METRICS]), axis=0)
        eng = np.nansum(eng_stack, axis=0)
        seen = ~np.all(np.isnan(eng_stack), axis=0)
        self.eng = np.where(seen & eng_has[:, None], eng, np.nan)
        self.eng_has = eng_has
        imp = self.m["impressions"]
        self.primary = np.where(self.has["impressions"][:, None], imp, self.eng)
        self.primary_has = self.has["impressions"] | eng_has
        # hours actually seen in the matrices (the frame's curve_hours, capped)
        self.h = np.where(self.primary_has, np.sum(~np.isnan(self.primary), axis=1), 0)


def _plateau_like_ratio(imp: np.ndarray, likes: np.ndarray, both: np.ndarray, p) -> np.ndarray:
    """Likes per impression inside the longest impressions plateau over outside it.

    NaN without both curves, without a plateau of 3+ hours, or without impressions
    on either side."""
    n = imp.shape[0]
    if n == 0:
        return np.zeros(0)
    mask = _plateau_hours_mask(imp, p)
    valid = ~np.isnan(imp) & ~np.isnan(likes)
    inside = mask & valid
    outside = ~mask & valid
    Iz, Lz = np.nan_to_num(imp, nan=0.0), np.nan_to_num(likes, nan=0.0)
    i_in, l_in = (Iz * inside).sum(1), (Lz * inside).sum(1)
    i_out, l_out = (Iz * outside).sum(1), (Lz * outside).sum(1)
    ok = both & (inside.sum(1) >= 3) & (i_in > 0) & (i_out > 0)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = ((l_in + 0.5) / i_in) / ((l_out + 0.5) / i_out)
    return np.where(ok, ratio, np.nan)


def _cum_log(m: np.ndarray, horizon: int = DAY) -> np.ndarray:
    """(n, horizon) log(1 + cumulative count up to hour h+1); NaN where hour h not seen."""
    sub = m[:, :horizon]
    cum = np.cumsum(np.nan_to_num(sub, nan=0.0), axis=1)
    return np.where(np.isnan(sub), np.nan, np.log1p(cum))


def _longest_run(b: np.ndarray) -> np.ndarray:
    run = np.zeros(b.shape[0])
    best = np.zeros(b.shape[0])
    for t in range(b.shape[1]):
        run = np.where(b[:, t], run + 1, 0)
        best = np.maximum(best, run)
    return best


def _longest_run_mask(b: np.ndarray) -> np.ndarray:
    """Hours of each row's longest run of True in ``b`` (the earliest on ties), plus the
    hour before it (a plateau's first hour has no equal predecessor in ``b``)."""
    n, H = b.shape
    run = np.zeros(n, dtype=np.int64)
    best = np.zeros(n, dtype=np.int64)
    end = np.full(n, -1, dtype=np.int64)
    for t in range(H):
        run = np.where(b[:, t], run + 1, 0)
        better = run > best
        best = np.where(better, run, best)
        end = np.where(better, t, end)
    tt = np.arange(H)[None, :]
    start = end - best  # include the run's first (unmatched) hour
    return (best[:, None] > 0) & (tt >= start[:, None]) & (tt <= end[:, None])


def _plateau_steps(x: np.ndarray, p) -> tuple[np.ndarray, np.ndarray]:
    """(high, steps): hours at a high level (>= ``plateau_min_share`` of the peak and
    >= ``plateau_min_count``), and high hours near-equal to a high previous hour. The
    rule behind ``exp_plateau_hours`` and the plateau-engagement ratio."""
    n = x.shape[0]
    valid = ~np.isnan(x)
    xz = np.nan_to_num(x, nan=0.0)
    peak = np.where(valid, x, -np.inf).max(axis=1) if x.shape[1] else np.zeros(n)
    high = valid & (xz > 0) & (xz >= p.plateau_min_share * peak[:, None]) & (
        xz >= p.plateau_min_count
    )
    prev = np.concatenate([np.full((n, 1), np.nan), x[:, :-1]], axis=1)
    with np.errstate(invalid="ignore"):
        near = np.abs(xz - prev) <= p.plateau_tolerance * np.maximum(xz, prev)
    prev_high = np.concatenate([np.zeros((n, 1), dtype=bool), high[:, :-1]], axis=1)
    return high, high & prev_high & near


def _plateau_hours_mask(x: np.ndarray, p) -> np.ndarray:
    """The hours of each curve's longest plateau."""
    return _longest_run_mask(_plateau_steps(x, p)[1])


def _shape_features(x: np.ndarray, has: np.ndarray, p) -> dict[str, np.ndarray]:
    """Shape of the primary curve ``x`` (n, H) with NaN after the hours seen."""
    n, H = x.shape
    out: dict[str, np.ndarray] = {}
    valid = ~np.isnan(x)
    xz = np.nan_to_num(x, nan=0.0)
    total = xz.sum(axis=1)
    pos = has & (total > 0)
    hseen = valid.sum(axis=1)
    peak = np.where(valid, x, -np.inf).max(axis=1)
    peak_hour = np.argmax(np.where(valid, x, -np.inf), axis=1)
    out[F_PEAK_HOUR] = np.where(pos, peak_hour, np.nan)
    out[F_PEAK_SHARE] = np.where(pos, _div(peak, total), np.nan)

    # power-law decay after the peak: log1p(x) ~ a - k log(t - peak + 1)
    tt = np.arange(H)[None, :]
    after = valid & (tt >= peak_hour[:, None])
    npts = after.sum(axis=1)
    dt = np.log(np.maximum(tt - peak_hour[:, None] + 1, 1).astype(float))
    ly = np.log1p(np.maximum(xz, 0))
    w = after.astype(float)
    with np.errstate(divide="ignore", invalid="ignore"):
        mx = (w * dt).sum(1) / npts
        my = (w * ly).sum(1) / npts
        dx = (dt - mx[:, None]) * w
        dy = (ly - my[:, None]) * w
        slope = (dx * dy).sum(1) / (dx * dx).sum(1)
        resid = np.sqrt(((dy - slope[:, None] * dx) ** 2).sum(1) / npts)
    ok = pos & (npts >= 4)
    out[F_DECAY] = np.where(ok, -slope, np.nan)
    out[F_DECAY_RESID] = np.where(ok, resid, np.nan)

    # secondary peaks: strict max over the 2 hours before, >= the 2 hours after
    xm = np.where(valid, x, -np.inf)
    pad = np.full((n, 2), -np.inf)
    xp = np.concatenate([pad, xm, pad], axis=1)
    c = xp[:, 2:-2]
    is_peak = (
        (c > xp[:, 1:-3]) & (c > xp[:, :-4]) & (c >= xp[:, 3:-1]) & (c >= xp[:, 4:])
        & (c >= p.peak_min_share * peak[:, None]) & (c > 0)
    )
    is_peak[np.arange(n), peak_hour] = False
    out[F_SECOND_PEAKS] = np.where(pos, is_peak.sum(1), np.nan)

    # plateau: consecutive near-equal hours at a high level
    high, steps = _plateau_steps(x, p)
    run = _longest_run(steps)
    out[F_PLATEAU] = np.where(pos, np.where(high.any(1), run + 1, 0), np.nan)

    # early shares of the first day
    day = xz[:, :DAY].sum(1)
    for k, name in ((3, F_SHARE_3H), (6, F_SHARE_6H)):
        out[name] = np.where(pos & (hseen > k), _div(xz[:, :k].sum(1), day), np.nan)

    out[F_CV] = _nonzero_cv(x, has)

    # biggest hour-on-hour jump
    ratio = (xz[:, 1:] + 1) / (xz[:, :-1] + 1)
    ratio = np.where(valid[:, 1:], ratio, -np.inf)
    step = ratio.max(axis=1) if H > 1 else np.full(n, -np.inf)
    out[F_STEP] = np.where(has & (hseen >= 2), step, np.nan)
    out["_jump_hour"] = (np.argmax(ratio, axis=1) + 1) if H > 1 else np.zeros(n, dtype=int)
    out["_total"] = np.where(has, total, np.nan)
    return out


def _nonzero_cv(x: np.ndarray, has: np.ndarray, min_nonzero: int = 3) -> np.ndarray:
    nz = (x > 0) & ~np.isnan(x)
    k = nz.sum(1)
    xs = np.where(nz, x, 0.0)
    with np.errstate(divide="ignore", invalid="ignore"):
        mean = xs.sum(1) / k
        y = np.where(nz, x / mean[:, None], 0.0)  # scaled: no overflow on huge counts
        var = (np.where(nz, (y - 1.0) ** 2, 0.0)).sum(1) / k
    return np.where(has & (k >= min_nonzero), np.sqrt(var), np.nan)


def _local_hours(published_at, n: int, offset: float) -> np.ndarray:
    """(n, CURVE_HOURS) local hour of day (0–23) at the middle of each curve hour."""
    sec = seconds(published_at) if published_at is not None else np.full(n, np.nan)
    start = ((sec / 3600.0 + offset) % 24.0)[:, None]
    return np.floor(start + np.arange(CURVE_HOURS)[None, :] + 0.5) % 24.0


def _night_share(x: np.ndarray, has: np.ndarray, local: np.ndarray, p) -> np.ndarray:
    lo, hi = p.night_hours
    night = (local >= lo) & (local < hi) if lo <= hi else (local >= lo) | (local < hi)
    xz = np.nan_to_num(x, nan=0.0)
    tot = xz.sum(1)
    return np.where(has, _div((xz * night).sum(1), tot), np.nan)


def _bucket(frame: pd.DataFrame, edges: Sequence[float]) -> np.ndarray:
    """Follower bucket: 0 = unknown size, 1.. = by ``edges``."""
    if "account_followers" not in frame.columns:
        return np.zeros(len(frame), dtype=int)
    f = pd.to_numeric(frame["account_followers"], errors="coerce").to_numpy(dtype=float)
    b = np.searchsorted(np.asarray(edges, dtype=float), f, side="right") + 1
    return np.where(np.isnan(f), 0, b).astype(int)


def _robust(values: np.ndarray, min_n: int, min_scale: float):
    """Column-wise median and IQR/1.349 of ``values`` (n, k), ignoring NaN;
    NaN where fewer than ``min_n`` values."""
    k = values.shape[1]
    med = np.full(k, np.nan)
    scale = np.full(k, np.nan)
    cnt = np.sum(~np.isnan(values), axis=0)
    ok = cnt >= min_n
    if ok.any():
        q = np.nanpercentile(values[:, ok], [25, 50, 75], axis=0)
        med[ok] = q[1]
        scale[ok] = np.maximum((q[2] - q[0]) / 1.349, min_scale)
    return med, scale, cnt


def _rates(c: _Curves) -> dict[str, np.ndarray]:
    imp_tot = _nansum(c.m["impressions"], c.has["impressions"])
    out = {}
    for m in RATE_METRICS:
        tot = _nansum(c.m[m], c.has[m])
        out[m] = _div(tot, imp_tot)
    return out


def _log_rate(r: np.ndarray) -> np.ndarray:
    return np.log(r + 1e-3)


# --------------------------------------------------------------------------- context


def exposure_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """Compact per-post projection for :func:`exposure_context`: post_id, account_id,
    published_at, hours seen and log(1 + first-day primary exposure)."""
    return _keys_from_curves(frame, _Curves(frame))


def _keys_from_curves(frame: pd.DataFrame, c: _Curves) -> pd.DataFrame:
    day = np.nan_to_num(c.primary[:, :DAY], nan=0.0).sum(1)
    return pd.DataFrame(
        {
            "post_id": frame["post_id"].to_numpy(),
            "account_id": frame["account_id"].to_numpy(),
            "published_at": seconds(frame["published_at"]),
            "hours_seen": c.h.astype(float),
            "log24": np.where(c.primary_has, np.log1p(day), np.nan),
        }
    )


def exposure_context(keys: pd.DataFrame) -> pd.DataFrame:
    """Per post: mean log first-day exposure over the same account's earlier posts with
    a complete first day (>= 24 hours seen), and how many there were."""
    complete = (keys["hours_seen"].to_numpy(dtype=float) >= DAY) & keys["log24"].notna().to_numpy()
    vals = np.column_stack([np.where(complete, keys["log24"].to_numpy(dtype=float), 0.0),
                            complete.astype(float)])
    t = keys["published_at"].to_numpy(dtype=float) if len(keys) else np.zeros(0)
    sums, _ = earlier_sums(keys["account_id"], t, vals)
    n_prev = sums[:, 1]
    mean = _div(sums[:, 0], n_prev)
    return pd.DataFrame({CTX_HIST_MEAN: mean, CTX_HIST_N: n_prev}, index=post_index(keys))


# --------------------------------------------------------------------------- transformer


class ExposureFeatures(TransformerMixin, BaseEstimator):
    """Features of the hourly exposure curve, relative to peers and the author's history.

    Parameters
    ----------
    utc_offset_hours : float
        Offset of the posters' local time from UTC (Xiaohongshu: +8).
    night_hours : tuple of int
        Local hours [start, end) counted as night.
    follower_buckets : sequence of int
        Follower-count edges of the peer buckets (accounts with unknown size form
        their own bucket).
    min_peer_posts : int
        Fewer training posts than this in a bucket (at an hour) fall back to the
        all-bucket baseline.
    min_rate_impressions : int
        Posts with fewer impressions do not enter the engagement-rate baselines.
    plateau_tolerance : float
        Two hours are "near-equal" when they differ by at most this share.
    plateau_min_share, plateau_min_count : float
        A plateau hour is at least this share of the peak and at least this count.
    peak_min_share : float
        A secondary peak is at least this share of the main peak.

    Attributes
    ----------
    cum_median_, cum_scale_ : dict of metric -> ndarray (n_buckets, 24)
        Median and robust scale of log cumulative impressions / engagement by
        follower bucket and hours seen.
    rate_median_, rate_scale_ : dict of metric -> ndarray (n_buckets,)
        Median and robust scale of log engagement rates by follower bucket.
    n_fit_posts_ : int
    """

    def __init__(
        self,
        utc_offset_hours: float = 8.0,
        night_hours: tuple[int, int] = (0, 6),
        follower_buckets: Sequence[int] = (100, 1_000, 10_000, 100_000),
        min_peer_posts: int = 30,
        min_rate_impressions: int = 50,
        plateau_tolerance: float = 0.1,
        plateau_min_share: float = 0.2,
        plateau_min_count: float = 5.0,
        peak_min_share: float = 0.3,
    ):
        self.utc_offset_hours = utc_offset_hours
        self.night_hours = night_hours
        self.follower_buckets = follower_buckets
        self.min_peer_posts = min_peer_posts
        self.min_rate_impressions = min_rate_impressions
        self.plateau_tolerance = plateau_tolerance
        self.plateau_min_share = plateau_min_share
        self.plateau_min_count = plateau_min_count
        self.peak_min_share = peak_min_share

    # ------------------------------------------------------------------ fit
    def fit(self, X: pd.DataFrame, y=None):
        return self._fit(X, _Curves(X))

    def fit_transform(self, X: pd.DataFrame, y=None, **fit_params) -> pd.DataFrame:
        """``fit(X).transform(X)``, reading the frame's curves once."""
        c = _Curves(X)
        return self._fit(X, c)._transform(X, c)

    def _fit(self, X: pd.DataFrame, c: _Curves):
        buckets = _bucket(X, self.follower_buckets)
        nb = len(self.follower_buckets) + 2
        self.n_buckets_ = nb
        self.cum_median_, self.cum_scale_ = {}, {}
        for name, m, has in (
            ("impressions", c.m["impressions"], c.has["impressions"]),
            ("engagement", c.eng, c.eng_has),
        ):
            logcum = np.where(has[:, None], _cum_log(m), np.nan)
            g_med, g_scale, _ = _robust(logcum, self.min_peer_posts, 0.1)
            med = np.tile(g_med, (nb, 1))
            scale = np.tile(g_scale, (nb, 1))
            for b in range(nb):
                sel = buckets == b
                if sel.sum() >= self.min_peer_posts:
                    bm, bs, cnt = _robust(logcum[sel], self.min_peer_posts, 0.1)
                    ok = cnt >= self.min_peer_posts
                    med[b, ok], scale[b, ok] = bm[ok], bs[ok]
            self.cum_median_[name], self.cum_scale_[name] = med, scale
        rates = _rates(c)
        imp_tot = _nansum(c.m["impressions"], c.has["impressions"])
        enough = imp_tot >= self.min_rate_impressions
        self.rate_median_, self.rate_scale_ = {}, {}
        for m in RATE_METRICS:
            lr = np.where(enough, _log_rate(rates[m]), np.nan)[:, None]
            g_med, g_scale, _ = _robust(lr, self.min_peer_posts, 0.05)
            med = np.full(nb, g_med[0])
            scale = np.full(nb, g_scale[0])
            for b in range(nb):
                sel = buckets == b
                bm, bs, cnt = _robust(lr[sel], self.min_peer_posts, 0.05)
                if cnt[0] >= self.min_peer_posts:
                    med[b], scale[b] = bm[0], bs[0]
            self.rate_median_[m], self.rate_scale_[m] = med, scale
        self.n_fit_posts_ = len(X)
        return self

    # ------------------------------------------------------------------ transform
    def get_feature_names_out(self, input_features=None) -> np.ndarray:
        return np.asarray(FEATURES, dtype=object)

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        check_is_fitted(self, "cum_median_")
        return self._transform(X, _Curves(X))

    def _transform(self, X: pd.DataFrame, c: _Curves) -> pd.DataFrame:
        n = len(X)
        out: dict[str, np.ndarray] = {}
        out[F_HOURS_SEEN] = c.hours_seen

        imp, has_imp = c.m["impressions"], c.has["impressions"]
        out[F_LOG_IMP_24] = np.where(
            has_imp, np.log1p(np.nan_to_num(imp[:, :DAY], nan=0.0).sum(1)), np.nan
        )
        out[F_LOG_ENG_24] = np.where(
            c.eng_has, np.log1p(np.nan_to_num(c.eng[:, :DAY], nan=0.0).sum(1)), np.nan
        )

        shape = _shape_features(c.primary, c.primary_has, self)
        jump_hour = shape.pop("_jump_hour")
        shape.pop("_total")
        out.update(shape)
        out[F_ENG_CV] = _nonzero_cv(c.eng, c.eng_has)

        rates = _rates(c)
        for m in RATE_METRICS:
            out[F_RATES[m]] = rates[m]
        like_tot = _nansum(c.m["likes"], c.has["likes"])
        out[F_COLLECTS_PER_LIKE] = _div(_nansum(c.m["collects"], c.has["collects"]), like_tot)
        out[F_COMMENTS_PER_LIKE] = _div(_nansum(c.m["comments"], c.has["comments"]), like_tot)

        # likes without the impressions to explain them
        L = c.m["likes"]
        both = c.has["likes"] & has_imp
        Lz, Iz = np.nan_to_num(L, nan=0.0), np.nan_to_num(imp, nan=0.0)
        valid = ~np.isnan(L) & ~np.isnan(imp)
        own_rate = np.nan_to_num(rates["likes"], nan=0.0)
        excess = np.where(valid, (Lz + 1) / (Iz * own_rate[:, None] + 1), -np.inf).max(1)
        out[F_LIKE_EXCESS] = np.where(both, excess, np.nan)
        out[F_PLATEAU_ENGAGEMENT] = _plateau_like_ratio(imp, L, both, self)
        rise = (Lz[:, 1:] >= 2 * Lz[:, :-1] + 5) & (Iz[:, 1:] <= Iz[:, :-1]) & valid[:, 1:]
        out[F_LIKE_RISES] = np.where(both, rise.sum(1), np.nan)

        out[F_PRE_JUMP] = self._pre_jump(c, jump_hour, shape[F_STEP])

        local = _local_hours(X["published_at"] if "published_at" in X.columns else None,
                             n, self.utc_offset_hours)
        out[F_NIGHT] = _night_share(c.primary, c.primary_has, local, self)
        out[F_ENG_NIGHT] = _night_share(c.eng, c.eng_has, local, self)

        out.update(self._peer_features(X, c, rates))

        keys = _keys_from_curves(X, c)
        ctx = resolve_context(X, CONTEXT_COLUMNS, lambda _: keys, exposure_context)
        own = keys["log24"].to_numpy(dtype=float)
        hist = ctx[CTX_HIST_MEAN].to_numpy(dtype=float)
        with np.errstate(over="ignore", invalid="ignore"):
            out[F_VS_HISTORY] = np.exp(own - hist)

        df = pd.DataFrame({k: finite(out[k]) for k in FEATURES}, index=X.index)
        return df.astype("float64")

    # ------------------------------------------------------------------ pieces
    def _pre_jump(self, c: _Curves, jump_hour: np.ndarray, step: np.ndarray) -> np.ndarray:
        imp, eng = c.m["impressions"], c.eng
        ok = c.has["impressions"] & c.eng_has & (step >= 2)
        Iz, Ez = np.nan_to_num(imp, nan=0.0), np.nan_to_num(eng, nan=0.0)
        tt = np.arange(CURVE_HOURS)[None, :]
        j = jump_hour[:, None]
        pre = (tt >= j - 3) & (tt < j)
        post = (tt >= j) & (tt < j + 6)
        I_tot, E_tot = Iz.sum(1), Ez.sum(1)
        r0 = np.nan_to_num(_div(E_tot, I_tot), nan=0.0)
        k = 20.0
        pre_rate = ((Ez * pre).sum(1) + k * r0) / ((Iz * pre).sum(1) + k)
        post_rate = ((Ez * post).sum(1) + k * r0) / ((Iz * post).sum(1) + k)
        ratio = (pre_rate + 1e-4) / (post_rate + 1e-4)
        return np.where(ok, ratio, np.nan)

    def _peer_features(self, X, c: _Curves, rates) -> dict[str, np.ndarray]:
        n = c.n
        b = _bucket(X, self.follower_buckets)
        b = np.clip(b, 0, self.n_buckets_ - 1)
        out = {}
        hstar = np.minimum(c.h, DAY).astype(int)
        rows = np.arange(n)
        for name, m, has, fz in (
            ("impressions", c.m["impressions"], c.has["impressions"], F_IMP_Z),
            ("engagement", c.eng, c.eng_has, F_ENG_Z),
        ):
            logcum = _cum_log(m)
            med, scale = self.cum_median_[name], self.cum_scale_[name]
            col = np.maximum(hstar - 1, 0)
            own = logcum[rows, col]
            z = (own - med[b, col]) / scale[b, col]
            out[fz] = np.where(has & (hstar >= 1), z, np.nan)
            if name == "impressions":
                own3 = logcum[:, 2] if logcum.shape[1] > 2 else np.full(n, np.nan)
                with np.errstate(over="ignore", invalid="ignore"):
                    ratio = np.exp(own3 - med[b, 2])
                out[F_IMP_3H_PEERS] = np.where(has & (c.h >= 3), ratio, np.nan)
        for m in RATE_METRICS:
            z = (_log_rate(rates[m]) - self.rate_median_[m][b]) / self.rate_scale_[m][b]
            out[F_RATE_Z[m]] = z
        return out
