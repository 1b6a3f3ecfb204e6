"""Feedback features: what users reported about the post and about its author.

Why: user reports are the platform's cheapest human signal (detection.md §3
"Feedback"): fake reviews and undisclosed ads draw reports of those reasons,
quickly and at a higher rate per impression than genuine posts; an account
whose earlier posts were reported is likelier to be seeding again (brand and
account ledgers, §2.4). Reports are also an attack surface and labels
over-represent reported posts, so the features are counts and rates the model
weighs, never rules.

A post frame without a reports table (``report_times`` is None) gives NaN for
every ``fb_`` feature; with the table, a post without reports gives 0. Reports
on the account's *earlier* posts (published strictly before the scored post)
follow the feature-builder protocol: :func:`feedback_keys` projects report
counts per post, :func:`feedback_context` sums them over the account's earlier
posts of the whole night into ``ctx_feedback_*`` columns.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
from sklearn.base import BaseEstimator, TransformerMixin

from fakeugc.features._catalogue import StatelessFeaturesMixin, feature, mark_presence
from fakeugc.features._exposure import (
    earlier_sums,
    finite,
    post_index,
    resolve_context,
    seconds,
)
from fakeugc.features._frame import curve_matrix

FAMILY = "feedback"
#: Report reasons counted separately; every other reason (or none) counts as "other".
REASONS = ("fake_review", "undisclosed_ad", "spam")
ALL_REASONS = (*REASONS, "other")

# --------------------------------------------------------------------------- catalogue

F_REPORTS = feature(
    "fb_reports", FAMILY,
    "user reports against the post",
    "users reported the post {value:.0f} times",
    "no user reported the post",
)
F_BY_REASON = {
    r: feature(
        f"fb_reports_{r}", FAMILY,
        f"user reports against the post with reason {r}"
        + (" (any reason not listed, or none)" if r == "other" else ""),
        f"users reported the post {{value:.0f}} times as {r.replace('_', ' ')}",
    )
    for r in ALL_REASONS
}
F_DISTINCT = feature(
    "fb_report_reasons_distinct", FAMILY,
    "distinct non-empty report reasons on the post",
    "users reported the post for {value:.0f} different reasons",
)
F_FIRST = feature(
    "fb_hours_to_first_report", FAMILY,
    "hours from publication to the first report",
    "the first report came {value:.1f} hours after publication",
)
F_PER_1K = feature(
    "fb_reports_per_1k_impressions", FAMILY,
    "reports per 1,000 impressions seen",
    "{value:.2f} reports per 1,000 impressions",
)
F_VIEW_GAP = feature(
    "fb_report_view_gap", FAMILY,
    "how far the timing of the post's reports departs from the timing of its views "
    "(Kolmogorov-Smirnov distance between the reports' and the impressions' cumulative "
    "curves over hours since publication; 2+ reports and a known impression curve)",
    "the post's reports arrived when its views did (timing gap {value:.2f})",
    "the post's reports did not follow its views (timing gap {value:.2f}): a sign of "
    "bulk reporting rather than of viewers objecting",
)
F_BURST_EXCESS = feature(
    "fb_report_burst_excess", FAMILY,
    "reports in the post's densest 2-hour window beyond what its share of impressions "
    "in that window would bring (2+ reports and a known impression curve)",
    "{value:.1f} more reports in one 2-hour window than its views there explain",
    "{value:.0f} reports arrived in one 2-hour burst that the post's views do not explain "
    "(a possible report brigade)",
)
F_PREV_POSTS = feature(
    "fb_account_prev_posts", FAMILY,
    "the account's earlier posts in the data (published before this one)",
    "the account had {value:.0f} earlier posts in the data",
)
F_PREV_REPORTS = feature(
    "fb_account_prev_reports", FAMILY,
    "reports against the account's earlier posts",
    "the account's earlier posts drew {value:.0f} reports",
    "the account's earlier posts drew no reports",
)
F_PREV_BY_REASON = {
    r: feature(
        f"fb_account_prev_reports_{r}", FAMILY,
        f"reports with reason {r} against the account's earlier posts",
        f"the account's earlier posts were reported {{value:.0f}} times as {r.replace('_', ' ')}",
    )
    for r in ALL_REASONS
}
F_PREV_REPORTED_SHARE = feature(
    "fb_account_prev_reported_share", FAMILY,
    "share of the account's earlier posts with at least one report",
    "{value:.0%} of the account's earlier posts were reported",
)
# "reported 0 times" is no reason to flag a post
mark_presence(F_REPORTS, *F_BY_REASON.values(), F_DISTINCT, F_PREV_REPORTS,
              *F_PREV_BY_REASON.values())

FEATURES = (
    F_REPORTS, *F_BY_REASON.values(), F_DISTINCT, F_FIRST, F_PER_1K, F_VIEW_GAP,
    F_BURST_EXCESS, F_PREV_POSTS,
    F_PREV_REPORTS, *F_PREV_BY_REASON.values(), F_PREV_REPORTED_SHARE,
)

CTX_PREV_POSTS = "ctx_feedback_prev_posts"
CTX_PREV_REPORTS = "ctx_feedback_prev_reports"
CTX_PREV_BY_REASON = {r: f"ctx_feedback_prev_reports_{r}" for r in ALL_REASONS}
CTX_PREV_REPORTED = "ctx_feedback_prev_reported_posts"
CONTEXT_COLUMNS = (CTX_PREV_POSTS, CTX_PREV_REPORTS, *CTX_PREV_BY_REASON.values(),
                   CTX_PREV_REPORTED)

# --------------------------------------------------------------------------- per post


def _is_list(v) -> bool:
    return isinstance(v, (list, tuple, np.ndarray))


def _report_counts(frame: pd.DataFrame) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(total, per-reason (n, 4), distinct reasons); NaN rows where the reports table is
    absent."""
    n = len(frame)
    total = np.full(n, np.nan)
    by = np.full((n, len(ALL_REASONS)), np.nan)
    distinct = np.full(n, np.nan)
    if "report_times" not in frame.columns:
        return total, by, distinct
    times = frame["report_times"].to_numpy()
    reasons = (frame["report_reasons"].to_numpy() if "report_reasons" in frame.columns
               else np.full(n, None, dtype=object))
    known = np.fromiter((_is_list(t) for t in times), dtype=bool, count=n)
    if not known.any():
        return total, by, distinct
    idx = np.flatnonzero(known)
    lens = np.fromiter((len(times[i]) for i in idx), dtype=np.int64, count=idx.size)
    total[idx] = lens
    by[idx] = 0.0
    distinct[idx] = 0.0
    flat_rows, flat_reasons = [], []
    for i, k in zip(idx, lens, strict=True):
        if k == 0:
            continue
        rs = reasons[i] if _is_list(reasons[i]) else [""] * k
        flat_rows.extend([i] * len(rs))
        flat_reasons.extend(r if isinstance(r, str) else "" for r in rs)
    if flat_rows:
        rows = np.asarray(flat_rows)
        rs = pd.Series(flat_reasons, dtype=object).str.strip().str.lower()
        code = np.full(len(rs), len(REASONS))
        for j, r in enumerate(REASONS):
            code[(rs == r).to_numpy()] = j
        np.add.at(by, (rows, code), 1.0)
        nonempty = (rs != "").to_numpy()
        pairs = pd.DataFrame({"row": rows[nonempty], "r": rs[nonempty].to_numpy()})
        d = pairs.drop_duplicates().groupby("row").size()
        distinct[d.index.to_numpy()] = d.to_numpy(dtype=float)
    return total, by, distinct


def _first_report_hours(frame: pd.DataFrame) -> np.ndarray:
    n = len(frame)
    out = np.full(n, np.nan)
    if "report_times" not in frame.columns or n == 0:
        return out
    times = frame["report_times"].to_numpy()
    rows, flat = [], []
    for i, ts in enumerate(times):
        if _is_list(ts) and len(ts):
            rows.extend([i] * len(ts))
            flat.extend(ts)
    if not rows:
        return out
    sec = seconds(flat)
    first = pd.Series(sec).groupby(np.asarray(rows)).min()
    pub = seconds(frame["published_at"])
    r = first.index.to_numpy()
    out[r] = (first.to_numpy() - pub[r]) / 3600.0
    return out


#: Width of the window in which a report burst is counted, hours.
BURST_HOURS = 2.0


def _report_timing(frame: pd.DataFrame, imp: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(view gap, burst excess) per post, NaN below 2 reports or without impressions.

    Organic reports come from viewers, so their times follow the impression curve;
    a brigade (many accounts reporting on cue) lands in a burst that views do not
    explain. detection.md: bulk or suspicious reports are an attack surface.
    """
    n = len(frame)
    gap = np.full(n, np.nan)
    excess = np.full(n, np.nan)
    if "report_times" not in frame.columns or n == 0:
        return gap, excess
    times = frame["report_times"].to_numpy()
    rows, flat = [], []
    for i, ts in enumerate(times):
        if _is_list(ts) and len(ts) >= 2:
            rows.extend([i] * len(ts))
            flat.extend(ts)
    if not rows:
        return gap, excess
    rows = np.asarray(rows)
    pub = seconds(frame["published_at"])
    hours = (seconds(flat) - pub[rows]) / 3600.0
    starts = np.flatnonzero(np.r_[True, rows[1:] != rows[:-1]])
    for s0, s1 in zip(starts, np.r_[starts[1:], len(rows)], strict=True):
        i = rows[s0]
        h = np.sort(hours[s0:s1])
        h = h[np.isfinite(h)]
        k = h.size
        seen = np.flatnonzero(~np.isnan(imp[i]))
        if k < 2 or seen.size == 0:
            continue
        c = np.nan_to_num(np.clip(imp[i, : seen[-1] + 1], 0.0, None))
        total = c.sum()
        if total <= 0:
            continue
        cum = np.concatenate([[0.0], np.cumsum(c)]) / total  # cum[j]: share by hour j
        grid = np.arange(cum.size, dtype=float)
        h = np.clip(h, 0.0, grid[-1])
        f = np.interp(h, grid, cum)
        ecdf_hi = np.arange(1, k + 1) / k
        ecdf_lo = np.arange(0, k) / k
        gap[i] = float(max(np.max(np.abs(ecdf_hi - f)), np.max(np.abs(ecdf_lo - f))))
        in_window = np.searchsorted(h, h + BURST_HOURS, side="left") - np.arange(k)
        expected = k * (np.interp(h + BURST_HOURS, grid, cum) - f)
        excess[i] = float(max(np.max(in_window - expected), 0.0))
    return gap, excess


# --------------------------------------------------------------------------- context


def feedback_keys(frame: pd.DataFrame) -> pd.DataFrame:
    """Compact per-post projection for :func:`feedback_context`: post_id, account_id,
    published_at (seconds), report count and counts per reason (NaN without a reports
    table)."""
    total, by, _ = _report_counts(frame)
    data = {
        "post_id": frame["post_id"].to_numpy(),
        "account_id": frame["account_id"].to_numpy(),
        "published_at": seconds(frame["published_at"]),
        "reports": total,
    }
    for j, r in enumerate(ALL_REASONS):
        data[f"reports_{r}"] = by[:, j]
    return pd.DataFrame(data)


def feedback_context(keys: pd.DataFrame) -> pd.DataFrame:
    """Per post: the account's earlier posts in the night (published strictly before),
    the reports against them in total and by reason, and how many were reported.
    NaN (except the post count) where the post's own reports are unknown."""
    total = keys["reports"].to_numpy(dtype=float)
    cols = [total, (total > 0).astype(float)]
    cols += [keys[f"reports_{r}"].to_numpy(dtype=float) for r in ALL_REASONS]
    vals = np.column_stack(cols) if len(keys) else np.zeros((0, len(cols)))
    t = keys["published_at"].to_numpy(dtype=float)
    sums, counts = earlier_sums(keys["account_id"], t, vals)
    known = ~np.isnan(total)
    sums[~known] = np.nan
    data = {
        CTX_PREV_POSTS: counts,
        CTX_PREV_REPORTS: sums[:, 0],
        **{CTX_PREV_BY_REASON[r]: sums[:, 2 + j] for j, r in enumerate(ALL_REASONS)},
        CTX_PREV_REPORTED: sums[:, 1],
    }
    return pd.DataFrame(data, index=post_index(keys))


# --------------------------------------------------------------------------- transformer


class FeedbackFeatures(StatelessFeaturesMixin, TransformerMixin, BaseEstimator):
    """User-report features of the post and of its author's earlier posts.

    Stateless (nothing is fitted; ``fit`` records the output names and transform
    works on an unfitted instance). No parameters.

    Attributes
    ----------
    feature_names_out_ : ndarray of str
    """

    _features = FEATURES

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        total, by, distinct = _report_counts(X)
        out: dict[str, np.ndarray] = {F_REPORTS: total, F_DISTINCT: distinct}
        for j, r in enumerate(ALL_REASONS):
            out[F_BY_REASON[r]] = by[:, j]
        out[F_FIRST] = _first_report_hours(X)
        imp = curve_matrix(X, "impressions")
        has_imp = ~np.all(np.isnan(imp), axis=1)
        imp_tot = np.nansum(imp, axis=1)
        out[F_PER_1K] = np.where(has_imp, 1000.0 * total / np.maximum(imp_tot, 1.0), np.nan)
        out[F_VIEW_GAP], out[F_BURST_EXCESS] = _report_timing(X, imp)

        ctx = resolve_context(X, CONTEXT_COLUMNS, feedback_keys, feedback_context)
        known = ~np.isnan(total)  # False everywhere when the export has no reports table
        prev_posts = np.where(known, ctx[CTX_PREV_POSTS].to_numpy(dtype=float), np.nan)
        out[F_PREV_POSTS] = prev_posts
        out[F_PREV_REPORTS] = ctx[CTX_PREV_REPORTS].to_numpy(dtype=float)
        for r in ALL_REASONS:
            out[F_PREV_BY_REASON[r]] = ctx[CTX_PREV_BY_REASON[r]].to_numpy(dtype=float)
        reported = ctx[CTX_PREV_REPORTED].to_numpy(dtype=float)
        with np.errstate(divide="ignore", invalid="ignore"):
            out[F_PREV_REPORTED_SHARE] = np.where(prev_posts > 0, reported / prev_posts, np.nan)
        df = pd.DataFrame({k: finite(out[k]) for k in FEATURES}, index=X.index)
        return df.astype("float64")
