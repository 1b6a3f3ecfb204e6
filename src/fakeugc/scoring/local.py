"""The local engine: two passes over the night in memory set by the chunk size.

Pass 1 streams every table once (``ParquetFile.iter_batches`` / chunked CSV),
checks each chunk by the reader's row rules and writes the good rows into
``K`` bucket files by a hash of the author (posts, accounts) or of the post's
author (exposure, reports, labels: routed through a compact night-wide
fingerprint table of the posts). Duplicate post ids across buckets are decided
on the fingerprints; everything else night-wide is decided inside a bucket.
Buckets are then cleaned, their posts tokenized once, and projected to the
compact context keys; the night context is computed once from all the keys.
Pass 2 scores bucket by bucket with that context and appends to
``scores.parquet``.

Buckets are processed by a pool of worker processes (spawned; each loads the
pickled bundle once and runs single-threaded LightGBM); ``workers=0`` does all of
it in this process.
"""

from __future__ import annotations

import gc
import os
import pickle
import time
from collections import Counter, deque
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from multiprocessing import get_context

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fakeugc import contract as C
from fakeugc.features._pipeline import family_context, join_contexts
from fakeugc.scoring.bucket import (
    BUCKET_TABLES,
    ROUTED_TABLES,
    Stamp,
    context_params,
    drop_tokenizer,
    frame_from_arrow,
    frame_to_arrow,
    iter_family_context_by_bucket,
    keys_for_context,
    prepare_bucket,
    release_memory,
    score_bucket,
    scores_to_arrow,
    tokenize_posts,
)
from fakeugc.scoring.drift import DriftCounts
from fakeugc.scoring.files import (
    BucketSink,
    QuarantineWriter,
    ScoresWriter,
    bucket_path,
    read_bucket,
    write_bucket,
)
from fakeugc.scoring.ingest import bucket_of, id_hashes, iter_validated, quarantine_rows
from fakeugc.scoring.job import Job, Outcome, Progress, log, most_common_date
from fakeugc.scoring.schema import ROW, table_schema, to_arrow, to_typed_pandas

#: nights with at least this many posts compute the night context in a process of
#: its own (and restart the worker pool after it), so its memory is returned
ISOLATE_CONTEXT_POSTS = 250_000
#: families whose night context is by far the costliest (time and memory): computed
#: beside the others
HEAVY_CONTEXT = ("coordination",)

# ----------------------------------------------------------------------------- workers

_BUNDLE = None


def _init_worker(bundle_path: str) -> None:
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    global _BUNDLE
    with open(bundle_path, "rb") as f:
        _BUNDLE = pickle.load(f)
    _freeze_heap()


def _freeze_heap() -> None:
    """Move what is alive now (the bundle: models, vocabularies) out of the cyclic
    garbage collector's sight. Each bucket allocates a few hundred thousand container
    objects (token lists, curves), so full collections run often, and each would walk
    the bundle again: ~15% of a bucket's CPU time (measured). Values are unchanged."""
    gc.collect()
    gc.freeze()


def _read_arrow(work, b: int, present: tuple[str, ...], prefix: str = "") -> dict:
    tables = {}
    for name in BUCKET_TABLES:
        if name not in present:
            tables[name] = None
        elif name == "posts" and not prefix:
            tok = bucket_path(work, "posts_tok", b).exists()
            tables[name] = read_bucket(work, "posts_tok" if tok else "posts", b,
                                       table_schema("posts", tokens=tok))
        else:
            tables[name] = read_bucket(work, prefix + name, b,
                                       table_schema(name, tokens=bool(prefix) and name == "posts"))
    return tables


def _bucket_source(work, name: str, b: int):
    """The bucket file :func:`_read_arrow` read table ``name`` from (None: none)."""
    kind = name
    if name == "posts":
        if not bucket_path(work, "posts_tok", b).exists():
            return None  # tokenized in prepare: the file lacks the tokens
        kind = "posts_tok"
    path = bucket_path(work, kind, b)
    return path if path.exists() else None


def _typed(arrow: dict) -> dict:
    return {n: None if t is None else to_typed_pandas(t, None) for n, t in arrow.items()}


def task_tokenize(work, b: int) -> int:
    t = read_bucket(work, "posts", b, table_schema("posts"))
    if t.num_rows == 0:
        return 0
    posts = tokenize_posts(_BUNDLE, to_typed_pandas(t, None))
    write_bucket(work, "posts_tok", b, to_arrow(posts, table_schema("posts", tokens=True)))
    return t.num_rows


def task_prepare(work, b: int, losers, source: str, present: tuple[str, ...]):
    """Clean a bucket, tokenize its posts (unless done), write its context keys and its
    cleaned tables; returns (quarantine rows, used rows per table)."""
    arrow = _read_arrow(work, b, present)
    prep = prepare_bucket(_typed(arrow), _BUNDLE, source, losers)
    for name, df in prep.tables.items():
        if df is None or not len(df):
            continue
        schema = table_schema(name, tokens=name == "posts")
        t = arrow[name]
        if t.schema.equals(schema) and t.num_rows >= len(df):
            # the file's rows are in row order, as the cleaned frame's: keep them in Arrow
            if t.num_rows == len(df):
                # nothing set aside (the common case): the file is the clean table
                src = _bucket_source(work, name, b)
                if src is not None:
                    dst = bucket_path(work, "clean_" + name, b)
                    dst.parent.mkdir(parents=True, exist_ok=True)
                    os.replace(src, dst)
                    continue
            t = t.filter(pc.is_in(t[ROW], value_set=pa.array(df[ROW].to_numpy())))
        else:
            t = to_arrow(df, schema)
        write_bucket(work, "clean_" + name, b, t)
    for family, k in prep.keys.items():
        k = k.assign(__bucket=np.int32(b))
        write_bucket(work, f"keys_{family}", b, frame_to_arrow(k))
    return prep.quarantine, prep.used


def task_context(work, K: int, families: tuple[str, ...], params: dict[str, dict]):
    """The night context of ``families`` from every bucket's keys, one family at a time,
    written as one file per family and bucket (``ctx_<family>``). The heavy family runs
    in its own short-lived process on large nights (its memory goes away with it), in a
    worker otherwise, beside the others.

    Memory is one family's keys and context at a time (never all of them, and no
    night-wide join of the families: a bucket's rows are joined when it is scored).
    The keys stay in Arrow memory: strings (ids, device clusters) as ``pd.ArrowDtype``
    columns, and every coordination column (MinHash signatures, brand and hashtag
    lists: most of the keys' bytes, ~0.4 KB a post), so no Python object is made per
    post. ``params`` are the families' step parameters (:func:`context_params`): no
    bundle is loaded here. Returns (posts, columns, seconds per family)."""
    n, cols = 0, 0
    seconds: dict[str, float] = {}
    for family in families:
        t_family = time.perf_counter()
        tables = []
        for b in range(K):
            path = bucket_path(work, f"keys_{family}", b)
            if path.exists():
                with pa.OSFile(str(path)) as src:
                    tables.append(pa.ipc.open_file(src).read_all())
        if not tables:
            continue
        # a bucket whose values of a column are all missing or empty wrote it as Arrow
        # null (or list<null>): unify the types across buckets
        table = pa.concat_tables(tables, promote_options="permissive")
        del tables
        keys, buckets = keys_for_context(table, family)
        del table
        post_ids = keys["post_id"].array
        context = family_context(family, keys, params.get(family))
        del keys
        release_memory()
        n, cols = max(n, len(context)), cols + context.shape[1]
        for b, sl in iter_family_context_by_bucket(context, post_ids, buckets):
            write_bucket(work, f"ctx_{family}", b, frame_to_arrow(sl))
        del context, post_ids, buckets
        release_memory()
        seconds[family] = round(time.perf_counter() - t_family, 2)
    return n, cols, seconds


def read_context(work, b: int, families: tuple[str, ...]) -> pd.DataFrame | None:
    """Bucket ``b``'s night context: its rows of every family's, joined."""
    parts = []
    for family in families:
        path = bucket_path(work, f"ctx_{family}", b)
        if path.exists():
            with pa.OSFile(str(path)) as src:
                parts.append(frame_from_arrow(pa.ipc.open_file(src).read_all())
                             .set_index("post_id"))
    return join_contexts(parts) if parts else None


def task_score(work, b: int, stamp: Stamp, present: tuple[str, ...],
               families: tuple[str, ...] = ()):
    tables = _typed(_read_arrow(work, b, present, prefix="clean_"))
    context = read_context(work, b, families)
    drift = DriftCounts(_BUNDLE.reference)
    df = score_bucket(tables, context, _BUNDLE, stamp, drift=drift)
    return scores_to_arrow(df), drift.to_dict()


class _Runner:
    """Runs tasks in a process pool (results in submission order, a bounded number in
    flight) or inline."""

    def __init__(self, job: Job):
        self.job = job
        self.workers = job.workers
        self.pool = None
        if self.workers == 0:
            global _BUNDLE
            _BUNDLE = job.bundle

    def start(self):
        if self.workers > 0 and self.pool is None:
            self.pool = ProcessPoolExecutor(
                max_workers=self.workers, mp_context=get_context("spawn"),
                initializer=_init_worker, initargs=(str(self.job.bundle_path),))
        return self

    def map(self, fn, argss, inflight: int | None = None):
        """Yield ``fn(*args)`` for each args, in order. With a pool, this process works
        too: when every worker is busy it runs the next task itself (it holds the
        bundle already), so the machine's cores are all used."""
        if self.pool is None:
            for args in argss:
                yield fn(*args)
            return
        inflight = inflight or self.workers + 1
        limit = 4 * self.workers + 2  # results held back to keep the output in order
        pending: deque = deque()
        it = iter(argss)
        exhausted = False
        while True:
            busy = sum(1 for kind, v in pending if kind == "f" and not v.done())
            while not exhausted and busy < inflight and len(pending) < limit:
                try:
                    args = next(it)
                except StopIteration:
                    exhausted = True
                    break
                pending.append(("f", self.pool.submit(fn, *args)))
                busy += 1
            while pending and (pending[0][0] == "v" or pending[0][1].done()):
                kind, v = pending.popleft()
                yield v if kind == "v" else v.result()
            if exhausted and not pending:
                return
            if not exhausted and len(pending) < limit:
                try:
                    args = next(it)
                except StopIteration:
                    exhausted = True
                    continue
                pending.append(("v", self.inline(fn, *args)))
            else:
                head = next(v for kind, v in pending if kind == "f")
                wait([head], return_when=FIRST_COMPLETED)

    def inline(self, fn, *args):
        """Run a task in this process, with the bundle this process already holds."""
        global _BUNDLE
        _BUNDLE = self.job.bundle
        try:
            return fn(*args)
        finally:
            _BUNDLE = None

    def help_with(self, futures: list, argss: list) -> None:
        """Run, in this process, the queued tasks no worker has started yet; then wait."""
        for f, args in zip(futures, argss, strict=True):
            if f.cancel():
                self.inline(*args)
        for f in futures:
            if not f.cancelled():
                f.result()

    def submit(self, fn, *args):
        if self.pool is None:
            return _Done(fn(*args))
        return self.pool.submit(fn, *args)

    def isolated(self, fn, *args):
        """``fn(*args)`` in a fresh process when workers are used (its memory is
        returned when it exits), else inline."""
        if self.workers == 0:
            return fn(*args)
        with ProcessPoolExecutor(max_workers=1, mp_context=get_context("spawn")) as one:
            return one.submit(fn, *args).result()

    def close(self):
        if self.pool is not None:
            self.pool.shutdown(wait=True, cancel_futures=True)
            self.pool = None


class _Done:
    def __init__(self, value):
        self.value = value

    def result(self):
        return self.value


# ----------------------------------------------------------------------------- pass 1


class _Fingerprints:
    """Night-wide 128-bit fingerprints of the used posts' ids and their buckets."""

    def __init__(self):
        self._h1, self._h2, self._row, self._bucket = [], [], [], []

    def add(self, post_ids, rows, buckets):
        h1, h2 = id_hashes(post_ids)
        self._h1.append(h1)
        self._h2.append(h2)
        self._row.append(np.asarray(rows, dtype="int64"))
        self._bucket.append(np.asarray(buckets, dtype="int32"))

    def settle(self) -> dict[int, np.ndarray]:
        """Decide duplicates (first row wins); returns the losing rows per bucket."""
        def cat(xs, t):
            return np.concatenate(xs) if xs else np.zeros(0, t)

        h1, h2 = cat(self._h1, "uint64"), cat(self._h2, "uint64")
        row, bucket = cat(self._row, "int64"), cat(self._bucket, "int32")
        self._h1 = self._h2 = self._row = self._bucket = None
        order = np.lexsort((row, h2, h1))
        s1, s2 = h1[order], h2[order]
        first = np.r_[True, (s1[1:] != s1[:-1]) | (s2[1:] != s2[:-1])] if len(order) else \
            np.zeros(0, bool)
        win = order[first]
        self.w1, self.w2, self.wb = h1[win], h2[win], bucket[win]
        lose = order[~first]
        losers: dict[int, list] = {}
        for r, b in zip(row[lose], bucket[lose], strict=True):
            losers.setdefault(int(b), []).append(int(r))
        return {b: np.asarray(v, dtype="int64") for b, v in losers.items()}

    def lookup(self, post_ids) -> np.ndarray:
        """The bucket of each post id, -1 for ids no used post has."""
        q1, q2 = id_hashes(post_ids)
        lo = np.searchsorted(self.w1, q1, side="left")
        hi = np.searchsorted(self.w1, q1, side="right")
        out = np.full(len(q1), -1, dtype="int32")
        one = (hi - lo) == 1
        idx = lo[one]
        ok = self.w2[idx] == q2[one]
        out[np.flatnonzero(one)[ok]] = self.wb[idx[ok]]
        for i in np.flatnonzero((hi - lo) > 1):  # a 64-bit collision: compare the 2nd hash
            for j in range(lo[i], hi[i]):
                if self.w2[j] == q2[i]:
                    out[i] = self.wb[j]
                    break
        return out


def _stream(job: Job, name: str, qw: QuarantineWriter, read: dict, on_good,
            arrow: bool = False) -> None:
    """Stream a table; ``on_good`` gets each chunk's typed good rows (a pandas frame, or
    with ``arrow`` an Arrow table for chunks whose every row is good: see
    :func:`fakeugc.scoring.ingest.arrow_clean`)."""
    src = job.sources[name]
    rows = job.chunk_size if name == "posts" else job.chunk_size * 16
    prog = Progress(f"read {name}", src.rows_hint, "rows")
    total = 0
    for chunk in iter_validated(src, rows, job.source, arrow=arrow):
        total += chunk.read
        qw.write(chunk.quarantine)
        if len(chunk.good):
            on_good(chunk.good)
        prog.update(chunk.read)
    prog.close()
    read[name] = total


def run_local(job: Job) -> Outcome:
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    work = job.work
    work.mkdir(parents=True, exist_ok=True)
    K = job.buckets
    qw = QuarantineWriter(job.out_tmp / "quarantine.parquet")
    read: dict[str, int] = {}
    used: dict[str, int] = {}
    present = tuple(n for n in C.TABLES if n in job.sources)
    _freeze_heap()  # this process holds the bundle and runs buckets too
    runner = _Runner(job).start()
    try:
        # ---- posts: bucket by author, fingerprint ids, count dates
        fp = _Fingerprints()
        dates: Counter = Counter()
        sink = BucketSink(work, "posts", K, table_schema("posts"))

        def on_posts(good: pd.DataFrame):
            b = bucket_of(good["account_id"].to_numpy(), K)
            sink.write(good, b)
            fp.add(good["post_id"].to_numpy(), good[ROW].to_numpy(), b)
            if job.export_date is None:
                dates.update(good["published_at"].dt.strftime("%Y-%m-%d").value_counts()
                             .to_dict())

        _stream(job, "posts", qw, read, on_posts)
        sink.close()
        losers = fp.settle()
        export_date = job.export_date or most_common_date(dates)
        timings["read_posts_s"] = time.perf_counter() - t0

        # ---- tokenize each posts bucket in the pool while the other tables stream
        tok_args = [(task_tokenize, work, b) for b in range(K)] if runner.pool is not None \
            else []
        tok_futures = [runner.submit(*a) for a in tok_args]

        t = time.perf_counter()
        if "accounts" in job.sources:
            asink = BucketSink(work, "accounts", K, table_schema("accounts"))
            _stream(job, "accounts", qw, read,
                    lambda g: asink.write(g, bucket_of(g["account_id"].to_numpy(), K)))
            asink.close()
        for name in ROUTED_TABLES:
            if name not in job.sources:
                continue
            rsink = BucketSink(work, name, K, table_schema(name))

            def on_routed(good: pd.DataFrame | pa.Table, name=name, rsink=rsink):
                is_arrow = isinstance(good, pa.Table)
                b = fp.lookup(good["post_id"] if is_arrow else good["post_id"].to_numpy())
                unknown = b < 0
                if unknown.any():
                    if is_arrow:
                        bad = to_typed_pandas(good.filter(pa.array(unknown)), None)
                        good = good.filter(pa.array(~unknown))
                    else:
                        bad = good.loc[unknown]
                        good = good.loc[~unknown]
                    qw.write(quarantine_rows(name, job.source, bad,
                                             [f"{C.REASON_UNKNOWN_POST}:post_id"] * len(bad)))
                    b = b[~unknown]
                rsink.write(good, b)

            _stream(job, name, qw, read, on_routed, arrow=True)
            rsink.close()
        if "brands" in job.sources:
            seen: set = set()
            n_used = [0]

            def on_brands(good: pd.DataFrame):
                dup = np.zeros(len(good), dtype=bool)
                for i, v in enumerate(good["brand_id"].to_numpy()):
                    dup[i] = v in seen
                    seen.add(v)
                if dup.any():
                    qw.write(quarantine_rows("brands", job.source, good.loc[dup],
                                             [f"{C.REASON_DUPLICATE}:brand_id"] * int(dup.sum())))
                n_used[0] += int((~dup).sum())

            _stream(job, "brands", qw, read, on_brands)
            used["brands"] = n_used[0]
        runner.help_with(tok_futures, tok_args)
        timings["read_other_tables_s"] = time.perf_counter() - t

        # ---- pass 1b: clean, tokenize (if not done), context keys
        t = time.perf_counter()
        prog = Progress("prepare buckets", K, "buckets")
        args = ((work, b, losers.get(b), job.source, present) for b in range(K))
        for q, u in runner.map(task_prepare, args):
            qw.write(q)
            for name, n in u.items():
                used[name] = used.get(name, 0) + n
            prog.update(1)
        timings["prepare_s"] = prog.close()
        # every post is segmented now (the tokens are in the bucket files): this process
        # needs no tokenizer any more
        drop_tokenizer(job.bundle)
        t = time.perf_counter()
        families = tuple(f for f in (job.bundle.families or ())
                         if (work / f"keys_{f}").is_dir())
        params = context_params(job.bundle, families)
        # the families' contexts are independent: on small nights the heavy one
        # (coordination) runs beside the others, in the two pool workers
        heavy = tuple(f for f in families if f in HEAVY_CONTEXT)
        light = tuple(f for f in families if f not in HEAVY_CONTEXT)
        if used.get("posts", 0) >= ISOLATE_CONTEXT_POSTS and runner.workers > 0:
            # the night context is the one step whose memory grows with the night: on a
            # big night the workers (a tokenizer and a bundle each) are let go and the
            # families are computed one after the other in a short-lived process of its
            # own (no bundle in it), while this process returns what it freed to the OS.
            # (Not beside one another here: the light families' keys and contexts would
            # add to the heavy one's peak.)
            runner.close()
            gc.collect()
            release_memory()
            results = [runner.isolated(task_context, work, K, families, params)]
        elif runner.pool is not None and heavy and light:
            futures = [runner.pool.submit(task_context, work, K, part, params)
                       for part in (heavy, light)]
            results = [f.result() for f in futures]
        else:
            results = [task_context(work, K, families, params)]
        n_ctx = max(r[0] for r in results)
        n_cols = sum(r[1] for r in results)
        per_family = {k: v for r in results for k, v in r[2].items()}
        timings["context_s"] = time.perf_counter() - t
        log.info("night context: %d posts x %d columns in %.1fs (%s)", n_ctx, n_cols,
                 timings["context_s"], ", ".join(f"{k} {v:.1f}s" for k, v in per_family.items()))

        # ---- pass 2: score
        t = time.perf_counter()
        runner.start()
        stamp = Stamp(job.model.get("name"), job.model.get("version"), job.model.get("run_id"),
                      job.scored_at, export_date, job.curve_metric)
        drift = DriftCounts(getattr(job.bundle, "reference", None))
        sw = ScoresWriter(job.out_tmp / "scores.parquet")
        prog = Progress("score", used.get("posts", 0), "posts")
        args = ((work, b, stamp, present, families) for b in range(K)
                if bucket_path(work, "clean_posts", b).exists())
        for table, d in runner.map(task_score, args):
            sw.write(table)
            drift.merge(DriftCounts.from_dict(drift.reference, d))
            prog.update(table.num_rows)
        sw.close()
        timings["score_s"] = prog.close()
    finally:
        runner.close()
        qw.close()
    set_aside = {name: qw.set_aside(name) for name in read}
    for name in read:
        used.setdefault(name, 0)
    return Outcome(read=read, used=used, set_aside=set_aside,
                   reasons={k: v for k, v in qw.counts.items()}, scored=sw.rows,
                   flagged=sw.flagged, export_date=export_date, drift=drift, timings=timings)
