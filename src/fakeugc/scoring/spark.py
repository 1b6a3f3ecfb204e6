"""The Spark engine: the local engine's bucket code, run by Spark tasks.

Stages (each materialised as Parquet in the run's scratch folder, so nothing is
recomputed):

0. **read** -- one task per Parquet row group (or CSV file) reads the rows with the
   same streaming reader as the local engine and checks them by the reader's row
   rules (``mapInArrow``); rows breaking a rule become quarantine rows.
1. **night-wide decisions** with Spark: duplicate post ids (a window over
   ``post_id`` ordered by row number: the first row wins) and routing exposure,
   reports and labels rows to their post's bucket (a join; no post -> set aside
   as ``unknown_post``). Posts and accounts carry their bucket (a hash of the
   author) from stage 0.
2. **prepare** (``mapInPandas``): rows repartitioned by bucket and sorted, each
   task walks its buckets and runs :func:`~fakeugc.scoring.bucket.prepare_bucket`
   (clean, tokenize once, context keys). The driver collects the compact keys and
   computes the night context once (:func:`~fakeugc.scoring.bucket.night_context`).
3. **score** (``mapInPandas``): each bucket's rows plus its slice of the context
   go through :func:`~fakeugc.scoring.bucket.score_bucket`.

The bundle is broadcast as bytes and unpickled once per task, at the top of each
task's iterator. The driver streams the scores and quarantine parts into single
files in the output folder, committed like the local engine's. Executors must see
the export and the output folder's parent at the same paths (a shared filesystem)
and have this package installed in the Python that ``PYSPARK_PYTHON`` names.
"""

from __future__ import annotations

import functools
import json
import os
import pickle
import sys
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fakeugc import contract as C
from fakeugc.scoring.bucket import (
    BUCKET_TABLES,
    ROUTED_TABLES,
    Stamp,
    context_by_bucket,
    keys_from_bytes,
    keys_to_bytes,
    night_context,
    prepare_bucket,
    score_bucket,
)
from fakeugc.scoring.drift import DriftCounts
from fakeugc.scoring.files import QuarantineWriter, ScoresWriter
from fakeugc.scoring.ingest import (
    TableSource,
    bucket_of,
    iter_raw,
    quarantine_rows,
    validate,
)
from fakeugc.scoring.job import Job, Outcome, most_common_date
from fakeugc.scoring.schema import (
    QUARANTINE_SCHEMA,
    ROW,
    SCORES_SCHEMA,
    table_schema,
    to_arrow,
    to_typed_pandas,
)

PREFIX = {"posts": "p__", "accounts": "a__", "exposure": "e__", "reports": "r__",
          "labels": "l__"}
Q_PREFIX = "q_"
BRANDS_PREFIX = "b__"


# ----------------------------------------------------------------------------- schemas


def _long_schema() -> pa.Schema:
    """One row type for every kind of row that moves between stages."""
    fields = [pa.field("__bucket", pa.int32()), pa.field("__kind", pa.string()),
              pa.field(ROW, pa.int64())]
    for name in BUCKET_TABLES:
        for f in table_schema(name, tokens=name == "posts"):
            if f.name != ROW:
                fields.append(pa.field(PREFIX[name] + f.name, f.type))
    fields += [pa.field("__family", pa.string()), pa.field("__payload", pa.binary())]
    fields += [pa.field(Q_PREFIX + f.name, f.type) for f in QUARANTINE_SCHEMA]
    return pa.schema(fields)


LONG = _long_schema()


def _stage0_schema() -> pa.Schema:
    """Stage 0 rows: every table's typed rows (kind = table) and quarantine rows."""
    fields = list(LONG)
    fields += [pa.field(BRANDS_PREFIX + f.name, f.type) for f in table_schema("brands")
               if f.name != ROW]
    return pa.schema(fields)


def _prefix(name: str) -> str:
    return BRANDS_PREFIX if name == "brands" else PREFIX[name]


def _scored_schema() -> pa.Schema:
    return pa.schema(list(SCORES_SCHEMA) + [pa.field("__bucket", pa.int32()),
                                            pa.field("__kind", pa.string()),
                                            pa.field("__payload", pa.binary())])


def spark_type(t: pa.DataType):
    from pyspark.sql import types as T

    if pa.types.is_string(t):
        return T.StringType()
    if pa.types.is_timestamp(t):
        return T.TimestampType()
    if pa.types.is_boolean(t):
        return T.BooleanType()
    if pa.types.is_float64(t):
        return T.DoubleType()
    if pa.types.is_int64(t):
        return T.LongType()
    if pa.types.is_int32(t):
        return T.IntegerType()
    if pa.types.is_binary(t):
        return T.BinaryType()
    if pa.types.is_list(t):
        return T.ArrayType(spark_type(t.value_type))
    raise TypeError(t)  # pragma: no cover


def spark_schema(schema: pa.Schema):
    from pyspark.sql import types as T

    return T.StructType([T.StructField(f.name, spark_type(f.type), True) for f in schema])


def _frame(schema: pa.Schema, n: int, columns: dict) -> pd.DataFrame:
    """A pandas frame with every column of ``schema`` (missing ones all None), in
    types Spark's Arrow conversion accepts."""
    table = pa.Table.from_arrays(
        [columns[f.name] if f.name in columns else pa.nulls(n, f.type) for f in schema],
        schema=schema)
    return table.to_pandas(timestamp_as_object=False)


def _arrays(df: pd.DataFrame, schema: pa.Schema, prefix: str = "") -> dict:
    t = to_arrow(df, schema)
    return {prefix + f.name: t.column(f.name).combine_chunks() for f in schema}


# ----------------------------------------------------------------------------- stage 0


def _read_items(job: Job, name: str) -> list[tuple]:
    """Work items for stage 0: (table, file, row group, first row number)."""
    src = job.sources[name]
    items = []
    if src.form == "csv":
        return [(name, str(src.files[0]), -1, 0)]
    offset = 0
    for f in src.files:
        md = pq.ParquetFile(f).metadata
        for rg in range(md.num_row_groups):
            items.append((name, str(f), rg, offset))
            offset += md.row_group(rg).num_rows
    return items


def _stage0_task(batches, sources: dict, chunk_rows: int, source: str, buckets: int):
    """mapInArrow: read work items of any table, check rows, emit typed rows (kind = the
    table) and quarantine rows (kind = "q")."""
    schema = _stage0_schema()
    for batch in batches:
        for item in batch.to_pylist():
            src = sources[item["table"]]
            rows = chunk_rows if src.name == "posts" else chunk_rows * 16
            pre = _prefix(src.name)
            for raw, bad, from_csv in _item_chunks(src, item, rows):
                chunk = validate(src, raw, bad, from_csv, source)
                good = chunk.good
                n = len(good)
                if n:
                    cols = _arrays(good, table_schema(src.name), pre)
                    cols[ROW] = pa.array(good[ROW].to_numpy(), pa.int64())
                    b = bucket_of(good["account_id"].to_numpy(), buckets) \
                        if src.name in ("posts", "accounts") else np.full(n, -1, "int32")
                    cols["__bucket"] = pa.array(b, pa.int32())
                    cols["__kind"] = pa.array([src.name] * n, pa.string())
                    yield _record_batch(schema, n, cols)
                q = chunk.quarantine
                if len(q):
                    cols = _arrays(q, QUARANTINE_SCHEMA, Q_PREFIX)
                    cols["__kind"] = pa.array(["q"] * len(q), pa.string())
                    yield _record_batch(schema, len(q), cols)


def _record_batch(schema: pa.Schema, n: int, cols: dict) -> pa.RecordBatch:
    return pa.RecordBatch.from_arrays(
        [cols[f.name] if f.name in cols else pa.nulls(n, f.type) for f in schema],
        schema=schema)


def _item_chunks(src: TableSource, item: dict, rows: int):
    if src.form == "csv":
        yield from iter_raw(src, rows)
        return
    path, rg, offset = Path(item["path"]), int(item["row_group"]), int(item["offset"])
    pf = pq.ParquetFile(path)
    one = TableSource(src.name, "parquet", [path], src.columns, 0)
    for batch in pf.iter_batches(batch_size=rows, row_groups=[rg]):
        df = pa.Table.from_batches([batch]).to_pandas(types_mapper=None, timestamp_as_object=False,
                                                      ignore_metadata=True)
        df.columns = [str(c) for c in df.columns]
        for c in one.columns:
            if c not in df.columns:
                df[c] = None
        df = df[one.columns]
        df[ROW] = np.arange(offset, offset + len(df), dtype="int64")
        offset += len(df)
        yield df, [], False


# ----------------------------------------------------------------------------- buckets


def _typed(pdf: pd.DataFrame, schema: pa.Schema, prefix: str = "") -> pd.DataFrame:
    """Rows that came through Spark back to the reader's dtypes (via Arrow)."""
    cols = {f.name: pdf[f.name if f.name == ROW else prefix + f.name] for f in schema}
    return to_typed_pandas(to_arrow(pd.DataFrame(cols), schema), None)


def _split_tables(pdf: pd.DataFrame, present: tuple[str, ...]) -> dict:
    kinds = pdf["__kind"].to_numpy()
    out = {}
    for name in BUCKET_TABLES:
        if name not in present:
            out[name] = None
            continue
        sub = pdf.loc[kinds == name]
        schema = table_schema(name, tokens=name == "posts")
        out[name] = _typed(sub.reset_index(drop=True), schema, PREFIX[name]) if len(sub) else \
            to_typed_pandas(schema.empty_table(), None)
        if name == "posts" and len(sub) and sub[PREFIX["posts"] + "tokens"].isna().all():
            out[name] = out[name].drop(columns=["text_raw", "text_norm", "tokens"])
    return out


def _buckets(batches: Iterator[pd.DataFrame]) -> Iterator[tuple[int, pd.DataFrame]]:
    """Whole buckets from a partition sorted by ``__bucket``, one at a time."""
    held: list[pd.DataFrame] = []
    current = None
    for pdf in batches:
        if not len(pdf):
            continue
        b = pdf["__bucket"].to_numpy()
        starts = np.flatnonzero(np.r_[True, b[1:] != b[:-1]])
        ends = np.r_[starts[1:], len(b)]
        for s, e in zip(starts, ends, strict=True):
            bid = int(b[s])
            part = pdf.iloc[s:e]
            if current is not None and bid != current:
                yield current, pd.concat(held, ignore_index=True)
                held = []
            current = bid
            held.append(part)
    if held:
        yield current, pd.concat(held, ignore_index=True)


_CACHE: dict = {}


def _load_bundle(bc, token: str):
    """The broadcast bundle, unpickled once per Python worker (Spark reuses workers, so
    jieba's dictionary is built once per worker, not per task)."""
    os.environ["OMP_NUM_THREADS"] = "1"
    os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")
    bundle = _CACHE.get(token)
    if bundle is None:
        _CACHE.clear()
        bundle = _CACHE[token] = pickle.loads(bc.value)
    return bundle


def _prepare_task(batches, bc, token: str, source: str, present: tuple[str, ...]):
    """mapInPandas: prepare every bucket of the partition (bundle loaded once)."""
    bundle = _load_bundle(bc, token)
    for bucket, pdf in _buckets(batches):
        prep = prepare_bucket(_split_tables(pdf, present), bundle, source)
        yield from _prepared_rows(bucket, prep)


def _prepared_rows(bucket: int, prep) -> Iterator[pd.DataFrame]:
    for name, df in prep.tables.items():
        if df is None or not len(df):
            continue
        n = len(df)
        cols = _arrays(df, table_schema(name, tokens=name == "posts"), PREFIX[name])
        cols[ROW] = pa.array(df[ROW].to_numpy(), pa.int64())
        cols["__bucket"] = pa.array(np.full(n, bucket, "int32"))
        cols["__kind"] = pa.array([name] * n, pa.string())
        yield _frame(LONG, n, cols)
    kb = keys_to_bytes(prep.keys)
    extra = [("keys", fam, data) for fam, data in kb.items()]
    extra.append(("used", None, json.dumps(prep.used).encode()))
    n = len(extra)
    yield _frame(LONG, n, {
        "__bucket": pa.array(np.full(n, bucket, "int32")),
        "__kind": pa.array([e[0] for e in extra], pa.string()),
        "__family": pa.array([e[1] for e in extra], pa.string()),
        "__payload": pa.array([e[2] for e in extra], pa.binary()),
    })
    q = prep.quarantine
    if len(q):
        cols = _arrays(q, QUARANTINE_SCHEMA, Q_PREFIX)
        cols["__bucket"] = pa.array(np.full(len(q), bucket, "int32"))
        cols["__kind"] = pa.array(["q"] * len(q), pa.string())
        yield _frame(LONG, len(q), cols)


def _score_task(batches, bc, token: str, present: tuple[str, ...], stamp: Stamp):
    """mapInPandas: score every bucket of the partition (bundle loaded once)."""
    bundle = _load_bundle(bc, token)
    schema = _scored_schema()
    for bucket, pdf in _buckets(batches):
        kinds = pdf["__kind"].to_numpy()
        ctx_rows = pdf.loc[kinds == "ctx", "__payload"]
        context = None
        if len(ctx_rows):
            context = keys_from_bytes(bytes(ctx_rows.iloc[0])).set_index("post_id")
        drift = DriftCounts(bundle.reference)
        df = score_bucket(_split_tables(pdf.loc[kinds != "ctx"], present), context, bundle,
                          stamp, drift=drift)
        n = len(df)
        if n:
            t = to_arrow(df, SCORES_SCHEMA)
            cols = {f.name: t.column(f.name).combine_chunks() for f in SCORES_SCHEMA}
            cols["__bucket"] = pa.array(np.full(n, bucket, "int32"))
            cols["__kind"] = pa.array(["score"] * n, pa.string())
            yield _frame(schema, n, cols)
        yield _frame(schema, 1, {
            "__bucket": pa.array([bucket], pa.int32()),
            "__kind": pa.array(["drift"], pa.string()),
            "__payload": pa.array([json.dumps(drift.to_dict()).encode()], pa.binary()),
        })


def _quarantine_task(batches, table: str, reason: str, source: str, prefix: str = ""):
    """mapInPandas: typed rows set aside by a night-wide rule -> quarantine rows."""
    schema = table_schema(table)
    qschema = pa.schema([pa.field(Q_PREFIX + f.name, f.type) for f in QUARANTINE_SCHEMA])
    for pdf in batches:
        if not len(pdf):
            continue
        typed = _typed(pdf.reset_index(drop=True), schema, prefix)
        q = quarantine_rows(table, source, typed, [reason] * len(typed))
        yield _frame(qschema, len(q), _arrays(q, QUARANTINE_SCHEMA, Q_PREFIX))


# ----------------------------------------------------------------------------- driver


def _session(job: Job):
    os.environ.setdefault("PYSPARK_PYTHON", sys.executable)
    os.environ.setdefault("PYSPARK_DRIVER_PYTHON", sys.executable)
    os.environ.setdefault("SPARK_LOCAL_IP", "127.0.0.1")
    from pyspark.sql import SparkSession

    existing = SparkSession.getActiveSession()
    builder = (
        SparkSession.builder.master(job.master).appName("fakeugc-score")
        .config("spark.sql.execution.arrow.pyspark.enabled", "true")
        .config("spark.sql.execution.arrow.maxRecordsPerBatch", str(max(job.chunk_size, 1)))
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.parquet.outputTimestampType", "TIMESTAMP_MICROS")
        .config("spark.executorEnv.OMP_NUM_THREADS", "1")
        .config("spark.executorEnv.OMP_WAIT_POLICY", "PASSIVE")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.adaptive.enabled", "false")
    )
    if os.environ.get("PYTHONPATH"):
        builder = builder.config("spark.executorEnv.PYTHONPATH", os.environ["PYTHONPATH"])
    spark = builder.getOrCreate()
    spark.sparkContext.setLogLevel("ERROR")
    return spark, existing is None


def _merge_parts(folder: Path, kind: str, write, columns: list[str]) -> None:
    """Stream the rows of ``kind`` from Spark's Parquet parts to ``write``."""
    parts = sorted(p for p in folder.rglob("*.parquet") if not p.name.startswith((".", "_")))
    for p in parts:
        pf = pq.ParquetFile(p)
        for batch in pf.iter_batches(batch_size=65536, columns=columns + ["__kind"]):
            t = pa.Table.from_batches([batch])
            mask = pc.equal(t["__kind"], kind)
            t = t.filter(mask).select(columns)
            if t.num_rows:
                write(t)


def run_spark(job: Job) -> Outcome:
    from pyspark.sql import Window
    from pyspark.sql import functions as F

    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    work = job.work
    spark, owned = _session(job)
    timings["spark_start_s"] = time.perf_counter() - t0
    K = job.buckets
    P = job.spark_partitions or max(1, min(K, 2 * spark.sparkContext.defaultParallelism))
    spark.conf.set("spark.sql.shuffle.partitions", str(P))
    present = tuple(n for n in C.TABLES if n in job.sources)
    url = lambda p: Path(p).absolute().as_uri()  # noqa: E731
    try:
        # ---- stage 0: read and check rows (one job for every table)
        t = time.perf_counter()
        from pyspark.sql import types as T

        item_schema = T.StructType([T.StructField("table", T.StringType()),
                                    T.StructField("path", T.StringType()),
                                    T.StructField("row_group", T.IntegerType()),
                                    T.StructField("offset", T.LongType())])
        items = [it for name in present for it in _read_items(job, name)]
        fn = functools.partial(_stage0_task, sources=job.sources, chunk_rows=job.chunk_size,
                               source=job.source, buckets=K)
        path0 = work / "stage0"
        spark.createDataFrame(items, item_schema).repartition(len(items)) \
            .mapInArrow(fn, spark_schema(_stage0_schema())) \
            .write.mode("overwrite").parquet(url(path0))
        stage0 = spark.read.parquet(url(path0))
        timings["read_s"] = time.perf_counter() - t

        # ---- night-wide decisions: duplicate posts, routing, brands
        t = time.perf_counter()
        qcols = [Q_PREFIX + f.name for f in QUARANTINE_SCHEMA]
        read: dict[str, int] = {}
        for r in stage0.groupBy(F.coalesce(F.col("q_table"), F.col("__kind")).alias("t")) \
                .count().collect():
            read[r["t"]] = int(r["count"])
        for name in present:
            read.setdefault(name, 0)
        q_parts = [stage0.filter(F.col("__kind") == "q").select(*qcols)]

        def aside(df, table, reason):
            fn = functools.partial(_quarantine_task, table=table, reason=reason,
                                   source=job.source, prefix=_prefix(table))
            qschema = pa.schema([pa.field(c, f.type) for c, f in zip(qcols, QUARANTINE_SCHEMA,
                                                                     strict=True)])
            q_parts.append(df.mapInPandas(fn, spark_schema(qschema)))

        def rows_of(name):
            cols = [_prefix(name) + f.name if f.name != ROW else ROW
                    for f in table_schema(name, tokens=name == "posts")]
            return stage0.filter(F.col("__kind") == name).select(*cols, "__bucket", "__kind")

        pp = PREFIX["posts"]
        posts = rows_of("posts")
        if job.export_date is None:
            counts = posts.groupBy(F.date_format(pp + "published_at", "yyyy-MM-dd").alias("d")) \
                .count().collect()
            export_date = most_common_date({r["d"]: r["count"] for r in counts})
        else:
            export_date = job.export_date
        ranked = posts.withColumn("__rn", F.row_number().over(
            Window.partitionBy(pp + "post_id").orderBy(ROW)))
        aside(ranked.filter(F.col("__rn") > 1), "posts", f"{C.REASON_DUPLICATE}:post_id")
        pieces = [ranked.filter(F.col("__rn") == 1).drop("__rn")]
        route = pieces[0].select(F.col(pp + "post_id").alias("__pid"),
                                 F.col("__bucket").alias("__pb"))
        if "accounts" in present:
            pieces.append(rows_of("accounts"))
        for name in ROUTED_TABLES:
            if name not in present:
                continue
            rows = rows_of(name).drop("__bucket")
            joined = rows.join(route, rows[PREFIX[name] + "post_id"] == route["__pid"], "left")
            aside(joined.filter(F.col("__pb").isNull()), name,
                  f"{C.REASON_UNKNOWN_POST}:post_id")
            pieces.append(joined.filter(F.col("__pb").isNotNull()).drop("__pid")
                          .withColumnRenamed("__pb", "__bucket"))
        used: dict[str, int] = {}
        if "brands" in present:
            rb = rows_of("brands").withColumn("__rn", F.row_number().over(
                Window.partitionBy(BRANDS_PREFIX + "brand_id").orderBy(ROW)))
            aside(rb.filter(F.col("__rn") > 1), "brands", f"{C.REASON_DUPLICATE}:brand_id")
            used["brands"] = rb.filter(F.col("__rn") == 1).count()
        long = pieces[0]
        for p in pieces[1:]:
            long = long.unionByName(p, allowMissingColumns=True)
        long = long.select(*[F.col(f.name).cast(spark_type(f.type)) if f.name in long.columns
                             else F.lit(None).cast(spark_type(f.type)).alias(f.name)
                             for f in LONG])
        timings["night_wide_s"] = time.perf_counter() - t

        # ---- stage A: prepare buckets, collect the context keys
        t = time.perf_counter()
        bc = spark.sparkContext.broadcast(job.bundle_path.read_bytes())
        token = f"{job.out_tmp.name}-{os.getpid()}"
        prep = long.repartition(P, "__bucket").sortWithinPartitions("__bucket", "__kind", ROW)
        prep = prep.mapInPandas(functools.partial(_prepare_task, bc=bc, token=token, source=job.source,
                                                  present=present), spark_schema(LONG))
        path_a = work / "stageA"
        prep.write.mode("overwrite").parquet(url(path_a))
        stage_a = spark.read.parquet(url(path_a))
        q_parts.append(stage_a.filter(F.col("__kind") == "q").select(*qcols))
        for r in stage_a.filter(F.col("__kind") == "used").select("__payload").collect():
            for name, n in json.loads(bytes(r["__payload"])).items():
                used[name] = used.get(name, 0) + int(n)
        keys: dict[str, list] = {}
        for r in stage_a.filter(F.col("__kind") == "keys") \
                .select("__bucket", "__family", "__payload").toLocalIterator():
            k = keys_from_bytes(bytes(r["__payload"]))
            k["__bucket"] = np.int32(r["__bucket"])
            keys.setdefault(r["__family"], []).append(k)
        timings["prepare_s"] = time.perf_counter() - t
        t = time.perf_counter()
        context, where = night_context(keys, job.bundle) if keys else (pd.DataFrame(), None)
        del keys
        slices = context_by_bucket(context, where) if len(context) else {}
        del context
        timings["context_s"] = time.perf_counter() - t

        # ---- stage B: score
        t = time.perf_counter()
        stamp = Stamp(job.model.get("name"), job.model.get("version"), job.model.get("run_id"),
                      job.scored_at, export_date, job.curve_metric)
        tables = stage_a.filter(F.col("__kind").isin(*BUCKET_TABLES))
        if slices:
            ctx_rows = [(b, "ctx", keys_to_bytes({"c": sl})["c"]) for b, sl in slices.items()]
            cschema = T.StructType([T.StructField("__bucket", T.IntegerType()),
                                    T.StructField("__kind", T.StringType()),
                                    T.StructField("__payload", T.BinaryType())])
            ctx_df = spark.createDataFrame(ctx_rows, cschema)
            tables = tables.unionByName(ctx_df, allowMissingColumns=True)
        del slices
        scored = tables.repartition(P, "__bucket").sortWithinPartitions("__bucket", "__kind", ROW)
        scored = scored.mapInPandas(functools.partial(_score_task, bc=bc, token=token, present=present,
                                                      stamp=stamp),
                                    spark_schema(_scored_schema()))
        path_b = work / "stageB"
        scored.write.mode("overwrite").parquet(url(path_b))
        timings["score_s"] = time.perf_counter() - t

        # ---- the quarantine, in one pass
        t = time.perf_counter()
        qall = q_parts[0]
        for q in q_parts[1:]:
            qall = qall.unionByName(q)
        path_q = work / "quarantine"
        qall.withColumn("__kind", F.lit("q")).write.mode("overwrite").parquet(url(path_q))
        timings["quarantine_s"] = time.perf_counter() - t
    finally:
        if owned:
            spark.stop()

    # ---- merge the parts into the output folder (driver, streaming)
    t = time.perf_counter()
    qw = QuarantineWriter(job.out_tmp / "quarantine.parquet")
    _merge_parts(work / "quarantine", "q", lambda tb: qw.write(_q_frame(tb)), qcols)
    qw.close()
    sw = ScoresWriter(job.out_tmp / "scores.parquet")
    _merge_parts(path_b, "score", sw.write, SCORES_SCHEMA.names)
    sw.close()
    drift = DriftCounts(getattr(job.bundle, "reference", None))
    _merge_parts(path_b, "drift", lambda tb: [drift.merge(DriftCounts.from_dict(
        drift.reference, json.loads(bytes(v)))) for v in tb.column("__payload").to_pylist()],
        ["__payload"])
    timings["merge_s"] = time.perf_counter() - t
    for name in read:
        used.setdefault(name, 0)
    set_aside = {name: qw.set_aside(name) for name in read}
    reasons = {k: Counter(v) for k, v in qw.counts.items()}
    return Outcome(read=read, used=used, set_aside=set_aside, reasons=reasons, scored=sw.rows,
                   flagged=sw.flagged, export_date=export_date, drift=drift, timings=timings,
                   extra={"spark_partitions": P})


def _q_frame(table: pa.Table) -> pd.DataFrame:
    df = table.to_pandas()
    df.columns = [c[len(Q_PREFIX):] for c in df.columns]
    df["row_number"] = df["row_number"].astype("int64")
    return df
