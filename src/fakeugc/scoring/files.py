"""Bucket files on local disk (Arrow IPC, LZ4) and the streaming output writers."""

from __future__ import annotations

from collections import Counter
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fakeugc.scoring.schema import QUARANTINE_SCHEMA, SCORES_SCHEMA, to_arrow

_IPC = pa.ipc.IpcWriteOptions(compression="lz4")
#: rows buffered by a sink before they are written out, in bytes (independent of the
#: export's size: the bucket files grow, memory does not)
BUFFER_BYTES = 32 << 20


def bucket_path(work: Path, kind: str, b: int) -> Path:
    return work / kind / f"b{b:05d}.arrow"


def read_bucket(work: Path, kind: str, b: int, schema: pa.Schema) -> pa.Table:
    path = bucket_path(work, kind, b)
    if not path.exists():
        return schema.empty_table()
    with pa.OSFile(str(path)) as src:
        return pa.ipc.open_file(src).read_all().combine_chunks()


def write_bucket(work: Path, kind: str, b: int, table: pa.Table) -> None:
    path = bucket_path(work, kind, b)
    path.parent.mkdir(parents=True, exist_ok=True)
    with pa.ipc.new_file(str(path), table.schema, options=_IPC) as w:
        w.write_table(table)


class BucketSink:
    """Rows of one table spread over ``buckets`` files, buffered up to a fixed size."""

    def __init__(self, work: Path, kind: str, buckets: int, schema: pa.Schema):
        self.work, self.kind, self.buckets, self.schema = work, kind, buckets, schema
        (work / kind).mkdir(parents=True, exist_ok=True)
        self._writers: dict[int, pa.ipc.RecordBatchFileWriter] = {}
        self._buffers: dict[int, list[pa.Table]] = {}
        self._bytes = 0
        self.rows = 0

    def write(self, df: pd.DataFrame | pa.Table, bucket: np.ndarray) -> None:
        """Rows (a typed frame, or an Arrow table of the sink's schema) into their
        buckets."""
        if len(df) == 0:
            return
        if isinstance(df, pa.Table):
            table = df if df.schema.equals(self.schema) else \
                df.select(self.schema.names).cast(self.schema)
        else:
            table = to_arrow(df, self.schema)
        order = np.argsort(bucket, kind="stable")
        sb = bucket[order]
        table = table.take(pa.array(order))
        starts = np.flatnonzero(np.r_[True, sb[1:] != sb[:-1]])
        ends = np.r_[starts[1:], len(sb)]
        for s, e in zip(starts, ends, strict=True):
            b = int(sb[s])
            part = table.slice(int(s), int(e - s))
            self._buffers.setdefault(b, []).append(part)
            self._bytes += part.nbytes
        self.rows += len(df)
        if self._bytes >= BUFFER_BYTES:
            self.flush()

    def flush(self) -> None:
        for b in sorted(self._buffers):
            parts = self._buffers[b]
            w = self._writers.get(b)
            if w is None:
                w = pa.ipc.new_file(str(bucket_path(self.work, self.kind, b)), self.schema,
                                    options=_IPC)
                self._writers[b] = w
            w.write_table(pa.concat_tables(parts).combine_chunks())
        self._buffers.clear()
        self._bytes = 0

    def close(self) -> None:
        self.flush()
        for w in self._writers.values():
            w.close()
        self._writers.clear()


class QuarantineWriter:
    """``quarantine.parquet`` written as rows are set aside, with counts per table."""

    def __init__(self, path: Path):
        self.path = path
        self._w = pq.ParquetWriter(str(path), QUARANTINE_SCHEMA)
        self.counts: dict[str, Counter] = {}

    def write(self, df: pd.DataFrame) -> None:
        if df is None or len(df) == 0:
            return
        for (table, reason), n in df.groupby(["table", "reason"]).size().items():
            self.counts.setdefault(table, Counter())[reason] += int(n)
        self._w.write_table(to_arrow(df, QUARANTINE_SCHEMA))

    def set_aside(self, table: str) -> int:
        return int(sum(self.counts.get(table, Counter()).values()))

    def close(self) -> None:
        self._w.close()


class ScoresWriter:
    """``scores.parquet``, appended bucket by bucket."""

    def __init__(self, path: Path):
        self.path = path
        self._w = pq.ParquetWriter(str(path), SCORES_SCHEMA, compression="zstd")
        self.rows = 0
        self.flagged = 0

    def write(self, table: pa.Table) -> None:
        if table.num_rows == 0:
            return
        if table.schema != SCORES_SCHEMA:
            table = table.select(SCORES_SCHEMA.names).cast(SCORES_SCHEMA)
        self._w.write_table(table)
        self.rows += table.num_rows
        self.flagged += int(pc.sum(table["flagged"]).as_py() or 0)

    def close(self) -> None:
        self._w.close()
