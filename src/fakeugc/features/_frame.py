"""The post frame: one row per post, every table of an export joined onto it.

Feature builders are scikit-learn transformers, and scikit-learn passes one
table around. The post frame is that table: the ``posts`` columns, the
author's ``accounts`` row (prefixed ``account_``), the first
:data:`CURVE_HOURS` hours of the exposure curve as fixed-length arrays
(prefixed ``curve_``), and the post's user reports (prefixed ``report_``).

Rows are independent once the frame is built, so the same frame can be cut
into chunks for streaming or Spark. Signals that need the whole night
(coordination clusters, device-cluster sizes, account history) are computed
by :func:`fakeugc.features.build_context` over the whole export first and
joined in as ``ctx_`` columns; a builder that finds no ``ctx_`` columns
computes them from the frame it was given, treating it as the whole night.

A missing table or column gives missing values here (``None``/NaN), never
invented ones.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import pandas as pd

from fakeugc.contract import EXPOSURE_COUNTS

#: Hours of exposure curve the features look at.
CURVE_HOURS = 72

ACCOUNT_COLUMNS = (
    "created_at",
    "followers",
    "following",
    "posts_total",
    "verified",
    "is_brand",
    "device_cluster",
    "bio",
)

POST_COLUMNS = (
    "post_id",
    "account_id",
    "published_at",
    "title",
    "body",
    "brand_tags",
    "disclosed_partnership",
    "image_count",
)


def _tables(export) -> Mapping[str, pd.DataFrame | None]:
    if hasattr(export, "tables"):
        return export.tables
    return export


def curve_matrix(frame: pd.DataFrame, metric: str) -> np.ndarray:
    """The ``curve_<metric>`` column as an (n_posts, CURVE_HOURS) float matrix.

    Rows are NaN where the metric is not in the export or the post has no curve;
    hours at or after ``curve_hours`` are NaN (not seen), earlier hours with no
    row are 0 (no activity).
    """
    col = f"curve_{metric}"
    out = np.full((len(frame), CURVE_HOURS), np.nan)
    if col not in frame.columns:
        return out
    values = frame[col].to_numpy()
    rows = [i for i, arr in enumerate(values)
            if arr is not None and not (isinstance(arr, float) and np.isnan(arr))]
    if not rows:
        return out
    parts = [values[i] for i in rows]
    if all(type(a) is np.ndarray and a.ndim == 1 and a.dtype == np.float64 for a in parts):
        # the frame's own curves (float arrays): one concatenation and one masked
        # assignment instead of a row-by-row copy (the same values)
        parts = [a[:CURVE_HOURS] for a in parts]
        lens = np.fromiter((len(a) for a in parts), dtype=np.int64, count=len(parts))
        sub = np.full((len(rows), CURVE_HOURS), np.nan)
        sub[np.arange(CURVE_HOURS)[None, :] < lens[:, None]] = np.concatenate(parts)
        out[np.asarray(rows)] = sub
        return out
    for i, arr in zip(rows, parts, strict=True):
        a = np.asarray(arr, dtype=float)
        out[i, : len(a)] = a[:CURVE_HOURS]
    return out


def build_post_frame(export) -> pd.DataFrame:
    """Join an export's tables onto its posts (see module docstring).

    ``export`` is a :class:`fakeugc.io.Export` or a mapping of table name to
    typed DataFrame (as the reader returns them). The frame keeps the posts'
    order and has a fresh RangeIndex.
    """
    tables = _tables(export)
    posts = tables["posts"]
    frame = posts.reset_index(drop=True).copy()
    n = len(frame)

    accounts = tables.get("accounts")
    if accounts is not None and len(accounts.columns):
        acc = accounts.drop_duplicates("account_id").set_index("account_id")
        idx = acc.index.get_indexer(frame["account_id"])
        frame["account_known"] = idx >= 0
        for c in ACCOUNT_COLUMNS:
            if c in acc.columns:
                col = acc[c].reindex(frame["account_id"])
                if c == "created_at" and pd.api.types.is_datetime64_any_dtype(col.dtype):
                    # stays a datetime column (not one Timestamp object per post); as
                    # the object path gives: UTC, nanoseconds
                    frame[f"account_{c}"] = pd.to_datetime(
                        pd.Series(col.array), utc=True).dt.as_unit("ns").array
                else:
                    frame[f"account_{c}"] = col.to_numpy()
            else:
                frame[f"account_{c}"] = None
        frame["account_created_at"] = pd.to_datetime(frame["account_created_at"], utc=True)
    else:
        frame["account_known"] = False
        for c in ACCOUNT_COLUMNS:
            frame[f"account_{c}"] = None

    exposure = tables.get("exposure")
    frame["curve_hours"] = 0 if exposure is not None else np.nan
    for m in EXPOSURE_COUNTS:
        frame[f"curve_{m}"] = None
    if exposure is not None and len(exposure):
        # the rows of the first CURVE_HOURS hours, column by column (no filtered copy
        # of the whole table: a bucket has ~70 exposure rows a post)
        early = (exposure["hour"] < CURVE_HOURS).to_numpy(dtype=bool, na_value=False)
        every = bool(early.all())

        def column(name, **kw):
            v = exposure[name].to_numpy(**kw)
            return v if every else v[early]

        pos = pd.Index(frame["post_id"]).get_indexer(column("post_id"))
        keep = pos >= 0
        pos = pos[keep]
        hours = column("hour")[keep].astype(int)
        seen = np.zeros(n, dtype=int)
        np.maximum.at(seen, pos, hours + 1)
        frame["curve_hours"] = seen
        for m in EXPOSURE_COUNTS:
            if m not in exposure.columns:
                continue
            vals = column(m, dtype=float, na_value=np.nan)
            if np.isnan(vals).all():
                continue
            mat = np.zeros((n, CURVE_HOURS), dtype=float)
            vals = np.nan_to_num(vals[keep], nan=0.0)
            # (post_id, hour) is unique after the reader, so plain assignment is exact
            mat[pos, hours] = vals
            frame[f"curve_{m}"] = [
                mat[i, : seen[i]] if seen[i] > 0 else None for i in range(n)
            ]

    reports = tables.get("reports")
    if reports is not None:
        pos = pd.Index(frame["post_id"]).get_indexer(reports["post_id"])
        keep = pos >= 0
        pos = pos[keep]
        times = pd.to_datetime(reports["reported_at"], utc=True).dt.tz_convert("UTC")
        times = times.dt.tz_localize(None).to_numpy(dtype="datetime64[ns]")[keep]
        if "reason" in reports.columns:
            reasons = reports["reason"].to_numpy(dtype=object)[keep]
        else:
            reasons = np.full(len(pos), "", dtype=object)
        order = np.argsort(pos, kind="stable")
        pos, times, reasons = pos[order], times[order], reasons[order]
        bounds = np.searchsorted(pos, np.arange(n + 1))
        time_lists: list = [[] for _ in range(n)]
        reason_lists: list = [[] for _ in range(n)]
        for i in np.flatnonzero(np.diff(bounds)):
            lo, hi = bounds[i], bounds[i + 1]
            time_lists[i] = [pd.Timestamp(t, tz="UTC") for t in times[lo:hi]]
            reason_lists[i] = [r if isinstance(r, str) else "" for r in reasons[lo:hi]]
        frame["report_times"] = time_lists
        frame["report_reasons"] = reason_lists
    else:
        frame["report_times"] = None
        frame["report_reasons"] = None
    return frame
