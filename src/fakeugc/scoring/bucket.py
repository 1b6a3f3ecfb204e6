"""The work done on one bucket of the night, identical in every engine.

A bucket holds every post of a set of accounts (posts and accounts are bucketed by
a hash of ``account_id``), with the exposure, reports and labels rows of those
posts. The local engine reads buckets from files; the Spark engine gets them as
groups of rows. Both then call:

* :func:`clean_bucket` -- the table-wide rules the streaming pass could not apply:
  duplicate keys (first row in file order wins) and rows about unknown posts;
* :func:`prepare_bucket` -- clean, tokenize the posts once, and project the
  posts to the compact night-wide context keys;
* :func:`score_bucket` -- build the post frame, score it with the night's context,
  and add the analyst columns (brands, curves for flagged posts, the account's
  usual curve) and the run's stamps.
"""

from __future__ import annotations

import dataclasses
import functools
import io
import re
import warnings
from collections.abc import Mapping

import numpy as np
import pandas as pd
import pyarrow as pa

from fakeugc import contract as C
from fakeugc.features._frame import CURVE_HOURS, build_post_frame, curve_matrix
from fakeugc.features._pipeline import context_keys
from fakeugc.io.reader import finalise_dtypes
from fakeugc.scoring.ingest import quarantine_rows
from fakeugc.scoring.schema import ROW, SCORES_SCHEMA, TEXT_COLUMNS, empty_quarantine, to_arrow

#: tables that go into the post frame
FRAME_TABLES = ("posts", "accounts", "exposure", "reports")
#: tables stored per bucket
BUCKET_TABLES = ("posts", "accounts", "exposure", "reports", "labels")
#: tables whose rows refer to a post
ROUTED_TABLES = ("exposure", "reports", "labels")


@dataclasses.dataclass
class Cleaned:
    tables: dict[str, pd.DataFrame | None]
    quarantine: pd.DataFrame
    used: dict[str, int]


def _sorted(df: pd.DataFrame) -> pd.DataFrame:
    if len(df) and not df[ROW].is_monotonic_increasing:
        df = df.sort_values(ROW, kind="stable")
    return df.reset_index(drop=True)


def clean_bucket(tables: Mapping[str, pd.DataFrame | None], source: str,
                 post_losers=None) -> Cleaned:
    """Apply the duplicate-key and unknown-post rules inside one bucket.

    ``post_losers`` are ``__row`` numbers of posts that lost to an earlier row with
    the same ``post_id`` in another bucket (the engine decides those night-wide).
    """
    out: dict[str, pd.DataFrame | None] = {}
    parts = []
    used = {}

    def aside(name, df, mask, reason):
        if mask.any():
            parts.append(quarantine_rows(name, source, df.loc[mask], [reason] * int(mask.sum())))
        return df.loc[~mask].reset_index(drop=True)

    posts = _sorted(tables["posts"])
    if post_losers is not None and len(post_losers):
        lost = np.isin(posts[ROW].to_numpy(), np.asarray(post_losers, dtype="int64"))
        posts = aside("posts", posts, lost, f"{C.REASON_DUPLICATE}:post_id")
    posts = aside("posts", posts, posts.duplicated("post_id", keep="first").to_numpy(),
                  f"{C.REASON_DUPLICATE}:post_id")
    out["posts"] = posts
    used["posts"] = len(posts)
    known = pd.Index(posts["post_id"])

    acc = tables.get("accounts")
    if acc is not None:
        acc = _sorted(acc)
        acc = aside("accounts", acc, acc.duplicated("account_id", keep="first").to_numpy(),
                    f"{C.REASON_DUPLICATE}:account_id")
        used["accounts"] = len(acc)
    out["accounts"] = acc

    for name in ROUTED_TABLES:
        df = tables.get(name)
        if df is None:
            out[name] = None
            continue
        df = _sorted(df)
        unknown = ~df["post_id"].isin(known).to_numpy()
        df = aside(name, df, unknown, f"{C.REASON_UNKNOWN_POST}:post_id")
        key = list(C.TABLES[name].key)
        if key:
            df = aside(name, df, df.duplicated(key, keep="first").to_numpy(),
                       f"{C.REASON_DUPLICATE}:{','.join(key)}")
        out[name] = df
        used[name] = len(df)
    q = pd.concat(parts, ignore_index=True) if parts else empty_quarantine()
    return Cleaned(out, q, used)


def post_frame(tables: Mapping[str, pd.DataFrame | None]) -> pd.DataFrame:
    """:func:`build_post_frame` over a bucket's typed tables (counts finalised as the
    reader does, bookkeeping columns dropped)."""
    t = {}
    for name in FRAME_TABLES:
        df = tables.get(name)
        if df is None:
            continue
        df = df.drop(columns=[c for c in df.columns if c.startswith("__")])
        t[name] = finalise_dtypes(name, df.reset_index(drop=True))
    return build_post_frame(t)


# ----------------------------------------------------------------------------- pass 1


@dataclasses.dataclass
class Prepared:
    tables: dict[str, pd.DataFrame | None]  # cleaned, posts tokenized
    keys: dict[str, pd.DataFrame]  # family -> keys with ``__row`` (the post's row number)
    quarantine: pd.DataFrame
    used: dict[str, int]


def tokenize_posts(bundle, posts: pd.DataFrame) -> pd.DataFrame:
    """The posts with the tokenizer's columns (segmented once; a no-op when present)."""
    if all(c in posts.columns for c in TEXT_COLUMNS):
        return posts
    return bundle.tokenize(posts)


def prepare_bucket(tables: Mapping[str, pd.DataFrame | None], bundle, source: str,
                   post_losers=None) -> Prepared:
    cleaned = clean_bucket(tables, source, post_losers)
    t = dict(cleaned.tables)
    keys = {}
    if len(t["posts"]) == 0:  # a bucket of accounts without posts tonight
        return Prepared(t, keys, cleaned.quarantine, cleaned.used)
    t["posts"] = tokenize_posts(bundle, t["posts"])
    if bundle.families:
        frame = post_frame(t)
        rows = t["posts"][ROW].to_numpy()
        for family, k in _with_pipeline(context_keys, bundle)(frame, bundle.families).items():
            k = k.reset_index(drop=True)
            pos = pd.Index(frame["post_id"]).get_indexer(k["post_id"])
            k[ROW] = rows[pos]
            keys[family] = k
    return Prepared(t, keys, cleaned.quarantine, cleaned.used)


def frame_to_arrow(df: pd.DataFrame) -> pa.Table:
    """A pandas frame as Arrow with its dtypes in the pandas metadata."""
    return pa.Table.from_pandas(df, preserve_index=False)


def frame_from_arrow(table: pa.Table) -> pd.DataFrame:
    """Back from :func:`frame_to_arrow` (list columns as Python lists again)."""
    df = table.to_pandas()
    for c in df.columns:
        if df[c].dtype == object and len(df) and df[c].notna().any() and isinstance(
                df[c].dropna().iloc[0], np.ndarray):
            df[c] = df[c].map(lambda v: v.tolist() if isinstance(v, np.ndarray) else v)
    return df


def keys_to_bytes(keys: Mapping[str, pd.DataFrame]) -> dict[str, bytes]:
    """Frames as Arrow IPC bytes (dtypes kept through pandas metadata); lists, bytes and
    timestamps survive the trip, so every engine hands the context the same keys."""
    out = {}
    for family, k in keys.items():
        sink = io.BytesIO()
        table = frame_to_arrow(k)
        with pa.ipc.new_stream(sink, table.schema) as w:
            w.write_table(table)
        out[family] = sink.getvalue()
    return out


def keys_from_bytes(data: bytes) -> pd.DataFrame:
    return frame_from_arrow(pa.ipc.open_stream(pa.BufferReader(data)).read_all())


def _with_pipeline(fn, bundle):
    """``fn`` with the fitted pipeline passed when it accepts one (the families' keys
    and context take their step's parameters, e.g. brand terms, from it)."""
    import inspect

    if bundle is not None and "pipeline" in inspect.signature(fn).parameters:
        return functools.partial(fn, pipeline=bundle.pipeline)
    return fn


def release_memory() -> None:
    """Give freed heap pages back to the OS (glibc ``malloc_trim``, and Arrow's memory
    pool, which keeps freed blocks for reuse), so a step's peak is not raised by the
    previous step's garbage; a no-op where unsupported."""
    try:
        pa.default_memory_pool().release_unused()
    except (AttributeError, NotImplementedError, pa.ArrowException):
        pass
    try:
        import ctypes

        ctypes.CDLL("libc.so.6").malloc_trim(0)
    except (OSError, AttributeError):
        pass


def drop_tokenizer(bundle) -> None:
    """Let go of the bundle's jieba tokenizer (~70 MB) in a process that has segmented
    every post it will see: the segmenter is replaced by its pickled copy, which builds
    a tokenizer again only if it is ever used."""
    import pickle

    steps = getattr(getattr(bundle, "pipeline", None), "named_steps", {})
    step = steps.get("tokenize") if hasattr(steps, "get") else None
    seg = getattr(step, "segmenter_", None)
    if seg is not None:
        step.segmenter_ = pickle.loads(pickle.dumps(seg))


#: families whose night context depends only on the set of keys (documented and tested
#: for :func:`fakeugc.features._coordination.coordination_context`): their keys are not
#: put back in file order first, which would copy them
ORDER_FREE_CONTEXT = ("coordination",)


def night_context(keys_by_family: dict[str, list[pd.DataFrame]], bundle=None
                  ) -> tuple[pd.DataFrame, pd.Series]:
    """The night-wide ``ctx_`` columns from every bucket's keys, concatenated in the
    posts' file order (so the context never depends on how the night was bucketed),
    and each post's bucket (from the keys' ``__bucket`` column, when present).

    The parts are taken out of ``keys_by_family`` as they are concatenated, so the
    caller's dict does not keep a second copy alive."""
    from fakeugc.features._pipeline import context_from_keys

    keys = {}
    where = None
    for family in list(keys_by_family):
        parts = keys_by_family.pop(family)
        k = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
        del parts
        if len(k):
            if family not in ORDER_FREE_CONTEXT:
                k = k.sort_values(ROW, kind="stable").reset_index(drop=True)
            if where is None and "__bucket" in k.columns:
                where = pd.Series(np.asarray(k["__bucket"].to_numpy(), dtype="int64"),
                                  index=pd.Index(np.asarray(k["post_id"].to_numpy(),
                                                            dtype=object)))
            k = k.drop(columns=[c for c in k.columns if c.startswith("__")])
        keys[family] = k
        release_memory()
    where = where if where is not None else pd.Series(dtype="int64")
    if not keys:
        return pd.DataFrame(), where
    return _with_pipeline(context_from_keys, bundle)(keys), where


def context_params(bundle, families) -> dict[str, dict]:
    """Each family's context parameters (its fitted step's constructor parameters, e.g.
    brand terms): small, so a process computing the night context needs no bundle."""
    from fakeugc.features._pipeline import _step_params

    pipeline = bundle.pipeline if bundle is not None else None
    return {f: _step_params(pipeline, f) for f in families}


def _arrow_strings(t: pa.DataType):
    return pd.ArrowDtype(t) if pa.types.is_string(t) or pa.types.is_large_string(t) else None


def keys_for_context(table: pa.Table, family: str) -> tuple[pd.DataFrame, np.ndarray | None]:
    """One family's keys for its context function, from every bucket's keys (an Arrow
    table, buckets concatenated in order): put in the posts' file order (unless the
    family's context is order-free), bookkeeping columns dropped, and as pandas with
    Arrow-backed strings (``pd.ArrowDtype``; every column for the coordination keys), so
    the ids never become one Python object per post. Also returns each row's bucket.

    The same rows in the same order as :func:`night_context` gives the family."""
    if family not in ORDER_FREE_CONTEXT and table.num_rows and ROW in table.column_names:
        order = np.argsort(table[ROW].to_numpy(), kind="stable")
        if not (order[1:] > order[:-1]).all():
            table = table.take(pa.array(order))
    buckets = table["__bucket"].to_numpy() if "__bucket" in table.column_names else None
    table = table.drop_columns([c for c in table.column_names if c.startswith("__")])
    mapper = pd.ArrowDtype if family in ORDER_FREE_CONTEXT else _arrow_strings
    return table.to_pandas(types_mapper=mapper), buckets


def _object_ids(values) -> np.ndarray:
    return np.asarray(pd.Series(values).to_numpy(dtype=object), dtype=object)


def _same_ids(index: pd.Index, post_ids) -> bool:
    """Whether a context's index lists exactly ``post_ids``, in order (compared in Arrow
    when both are Arrow-backed: no Python object per post)."""
    if len(index) != len(post_ids):
        return False
    a, b = index.array, pd.Series(post_ids).array
    if isinstance(a.dtype, pd.ArrowDtype) and isinstance(b.dtype, pd.ArrowDtype):
        x, y = pa.array(a), pa.array(b)
        x = x if isinstance(x, pa.ChunkedArray) else pa.chunked_array([x])
        y = y if isinstance(y, pa.ChunkedArray) else pa.chunked_array([y])
        return x.type == y.type and x.equals(y)
    return bool((_object_ids(index) == _object_ids(post_ids)).all())


def iter_family_context_by_bucket(context: pd.DataFrame, post_ids, buckets: np.ndarray):
    """``(bucket, rows)`` of one family's context (post_id as an object column), given its
    keys' post ids and buckets. A context whose rows are its keys' rows in order (every
    family but coordination, whose rows are sorted by post id) is cut by position; any
    other by looking its post ids up."""
    if context.empty or buckets is None:
        return
    if _same_ids(context.index, post_ids):
        where = np.asarray(buckets, dtype="int64")
    else:
        pos = pd.Index(_object_ids(post_ids)).get_indexer(_object_ids(context.index))
        where = np.where(pos >= 0, np.asarray(buckets, dtype="int64")[np.maximum(pos, 0)], -1)
    order = np.argsort(where, kind="stable")
    sb = where[order]
    starts = np.flatnonzero(np.r_[True, sb[1:] != sb[:-1]])
    ends = np.r_[starts[1:], len(sb)]
    for s0, e0 in zip(starts, ends, strict=True):
        b = int(sb[s0])
        if b < 0:
            continue
        rows = order[s0:e0]
        sl = context.iloc[rows].reset_index(drop=True)
        sl.insert(0, "post_id", _object_ids(context.index[rows]))
        yield b, sl


def context_by_bucket(context: pd.DataFrame, where: pd.Series) -> dict[int, pd.DataFrame]:
    """The night context cut into each bucket's rows (post_id as a column)."""
    return dict(iter_context_by_bucket(context, where))


def iter_context_by_bucket(context: pd.DataFrame, where: pd.Series):
    """``(bucket, rows)`` of :func:`context_by_bucket`, one bucket at a time (no second
    copy of the whole context)."""
    if context.empty:
        return
    b = where.reindex(context.index).to_numpy()
    for bucket, idx in pd.Series(np.arange(len(context))).groupby(b).groups.items():
        sl = context.iloc[np.asarray(idx)]
        sl.index.name = "post_id"
        yield int(bucket), sl.reset_index()


# ----------------------------------------------------------------------------- pass 2


class _Tap:
    """Wraps the fitted feature union: records the feature matrix ``bundle.score``
    computes, so drift needs no second feature pass."""

    def __init__(self, inner):
        self.inner = inner
        self.X = None

    def transform(self, X):
        out = self.inner.transform(X)
        self.X = out
        return out

    def __getattr__(self, name):
        return getattr(self.inner, name)


class _TapPipeline:
    def __init__(self, pipeline, tap):
        self._pipeline = pipeline
        self.named_steps = {**dict(pipeline.named_steps.items()), "features": tap}

    def __getattr__(self, name):
        return getattr(self._pipeline, name)


def _brand_terms(bundle) -> tuple:
    """Brand names and aliases the fitted pipeline knows (coordination or content step)."""
    try:
        union = bundle.pipeline.named_steps["features"]
        steps = dict(getattr(union, "transformer_list", []))
    except (AttributeError, KeyError, TypeError):
        return ()
    for name in ("coordination", "content"):
        terms = getattr(steps.get(name), "brand_terms", None)
        if terms:
            if isinstance(terms, Mapping):
                return tuple((str(b), str(t)) for b, ts in terms.items()
                             for t in ([ts] if isinstance(ts, str) else list(ts or ())))
            return tuple((str(b), str(t)) for b, t in terms)
    return ()


def _term_source(a: str) -> str:
    """Regex source for one alias with the coordination matcher's semantics (the same
    function: :func:`fakeugc.features._coordination.alias_source`)."""
    from fakeugc.features._coordination import alias_source

    return alias_source(a)


@functools.lru_cache(maxsize=4)
def brand_matcher(terms: tuple) -> tuple[re.Pattern, dict] | None:
    """(pattern, alias -> brand ids) for ``(brand_id, term)`` pairs: the aliases
    :func:`fakeugc.features._coordination` matches, longest first."""
    from fakeugc.features._text import normalise_text

    lookup: dict[str, set[str]] = {}
    for brand, term in terms:
        a = normalise_text(str(term))
        if len(a) >= 2 or (a and not a.isascii()):
            lookup.setdefault(a, set()).add(str(brand))
    if not lookup:
        return None
    parts = [_term_source(a) for a in sorted(lookup, key=lambda s: (-len(s), s))]
    return re.compile("|".join(parts)), lookup


def _tag_list(t) -> list[str]:
    if isinstance(t, list | tuple | np.ndarray):
        return [str(x) for x in t if x is not None and str(x) != ""]
    if isinstance(t, str):
        return [t] if t else []
    return []


def brand_ids(frame: pd.DataFrame, bundle) -> list[list[str]]:
    """Brands tagged on each post, plus brands the model's brand terms name in its
    (normalised) text; sorted."""
    tags = frame["brand_tags"].to_numpy() if "brand_tags" in frame.columns \
        else [None] * len(frame)
    matcher = brand_matcher(_brand_terms(bundle))
    texts = frame["text_norm"].to_numpy() if matcher is not None and \
        "text_norm" in frame.columns else None
    out = []
    for i, t in enumerate(tags):
        found = set(_tag_list(t))
        if texts is not None and isinstance(texts[i], str) and texts[i]:
            pattern, lookup = matcher
            for m in pattern.findall(texts[i]):
                found.update(lookup.get(m, ()))
        out.append(sorted(found))
    return out


def _as_float_list(v) -> list[float] | None:
    if v is None or (isinstance(v, float) and np.isnan(v)):
        return None
    a = np.asarray(v, dtype="float64")
    return a.tolist() if a.size else None


def usual_curves(frame: pd.DataFrame, metric: str | None, rows: np.ndarray) -> list:
    """For each row index in ``rows``: the hour-by-hour median curve of the *other*
    posts of the same account in the frame (hours a post has not reached yet are not
    counted), trimmed after the last hour any of them reached; None without any."""
    if metric is None or not len(rows):
        return [None] * len(rows)
    mat = curve_matrix(frame, metric)
    acc = frame["account_id"].to_numpy()
    by_account: dict = {}
    for i, a in enumerate(acc):
        by_account.setdefault(a, []).append(i)
    out = []
    for i in rows:
        others = [j for j in by_account.get(acc[i], []) if j != i]
        if not others:
            out.append(None)
            continue
        sub = mat[others]
        seen = ~np.isnan(sub)
        if not seen.any():
            out.append(None)
            continue
        last = int(np.flatnonzero(seen.any(axis=0)).max()) + 1
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            med = np.nanmedian(sub[:, :last], axis=0)
        out.append(med.astype("float64").tolist())
    return out


@dataclasses.dataclass
class Stamp:
    model_name: str | None
    model_version: str | None
    model_run_id: str | None
    scored_at: pd.Timestamp
    export_date: str
    curve_metric: str | None


def score_bucket(tables: Mapping[str, pd.DataFrame | None], context: pd.DataFrame | None,
                 bundle, stamp: Stamp, drift=None) -> pd.DataFrame:
    """Score one bucket; returns rows in :data:`SCORES_SCHEMA` column order. ``drift``
    (a :class:`fakeugc.scoring.drift.DriftCounts`) accumulates the feature and score
    histograms."""
    frame = post_frame(tables)
    if len(frame) == 0:
        return pd.DataFrame({f.name: pd.Series([], dtype=object) for f in SCORES_SCHEMA})
    tap = _Tap(bundle.pipeline.named_steps["features"])
    tapped = dataclasses.replace(bundle, pipeline=_TapPipeline(bundle.pipeline, tap))
    ctx = context if context is not None else pd.DataFrame()
    scores = tapped.score(frame, context=ctx, reasons="flagged")
    scores = scores.reset_index(drop=True)
    if not (scores["post_id"].to_numpy() == frame["post_id"].to_numpy()).all():
        raise AssertionError("bundle.score changed the order of the posts")
    if drift is not None:
        X = tap.X[bundle.feature_names].astype("float64") if tap.X is not None else None
        drift.add(X, scores["probability"].to_numpy(dtype="float64"),
                  scores["flagged"].to_numpy(dtype=bool))
    flagged = scores["flagged"].to_numpy(dtype=bool)
    flagged_rows = np.flatnonzero(flagged)
    curve = [None] * len(frame)
    usual = [None] * len(frame)
    if stamp.curve_metric is not None and f"curve_{stamp.curve_metric}" in frame.columns:
        col = frame[f"curve_{stamp.curve_metric}"].to_numpy()
        for i in flagged_rows:
            curve[i] = _as_float_list(col[i])
        for i, u in zip(flagged_rows, usual_curves(frame, stamp.curve_metric, flagged_rows),
                        strict=True):
            usual[i] = u
    fc = scores["family_contrib"].map(lambda v: v if isinstance(v, str) else None)
    cid = scores["cluster_id"].map(
        lambda v: None if v is None or (isinstance(v, float) and np.isnan(v)) else str(v))
    out = pd.DataFrame({
        "post_id": frame["post_id"].to_numpy(),
        "account_id": frame["account_id"].to_numpy(),
        "published_at": frame["published_at"].to_numpy(),
        "title": frame["title"].to_numpy(),
        "body": frame["body"].to_numpy(),
        "brand_ids": brand_ids(frame, bundle),
        "disclosed_partnership": frame["disclosed_partnership"].astype("boolean").to_numpy(),
        "probability": scores["probability"].to_numpy(dtype="float64"),
        "score_raw": scores["score_raw"].to_numpy(dtype="float64"),
        "threshold": scores["threshold"].to_numpy(dtype="float64"),
        "flagged": flagged,
        "reasons": [list(r) for r in scores["reasons"]],
        "reason_features": [list(r) for r in scores["reason_features"]],
        "family_contrib": fc.to_numpy(dtype=object),
        "cluster_id": cid.to_numpy(dtype=object),
        "curve": curve,
        "account_usual_curve": usual,
        "model_name": stamp.model_name,
        "model_version": stamp.model_version,
        "model_run_id": stamp.model_run_id,
        "scored_at": stamp.scored_at,
        "export_date": stamp.export_date,
    })
    out["published_at"] = pd.to_datetime(out["published_at"], utc=True)
    return out


def scores_to_arrow(df: pd.DataFrame) -> pa.Table:
    return to_arrow(df, SCORES_SCHEMA)


__all__ = [
    "BUCKET_TABLES", "CURVE_HOURS", "Cleaned", "Prepared", "Stamp", "clean_bucket",
    "context_by_bucket", "context_params", "drop_tokenizer", "iter_context_by_bucket",
    "iter_family_context_by_bucket", "keys_for_context",
    "keys_from_bytes", "keys_to_bytes", "night_context", "post_frame",
    "prepare_bucket", "score_bucket", "scores_to_arrow", "tokenize_posts",
]
