"""What an engine is given (:class:`Job`) and what it hands back (:class:`Outcome`)."""

from __future__ import annotations

import logging
import math
import sys
import time
from collections import Counter
from dataclasses import dataclass, field
from pathlib import Path

from fakeugc import contract as C
from fakeugc.scoring.drift import DriftCounts
from fakeugc.scoring.ingest import TableSource

log = logging.getLogger("fakeugc.scoring")

#: most buckets a night is cut into (bounds open files; beyond, buckets grow)
MAX_BUCKETS = 1024


@dataclass
class Job:
    export_dir: Path
    source: str  # the export folder as the quarantine's ``source``
    out_tmp: Path  # the temporary output folder (committed by rename)
    work: Path  # scratch space inside it, removed before the commit
    bundle: object  # ScoringBundle
    bundle_path: Path  # the bundle pickled once, for worker processes and Spark tasks
    model: dict  # name, version, run_id, uri, resolved_uri
    sources: dict[str, TableSource]
    chunk_size: int
    buckets: int
    workers: int
    export_date: str | None  # from the folder name; else decided from the posts
    scored_at: object  # pd.Timestamp, one per run
    master: str = "local[2]"
    spark_partitions: int | None = None

    @property
    def curve_metric(self) -> str | None:
        exp = self.sources.get("exposure")
        if exp is None:
            return None
        for m in C.EXPOSURE_COUNTS:
            if m in exp.columns:
                return m
        return None


@dataclass
class Outcome:
    read: dict[str, int]
    used: dict[str, int]
    set_aside: dict[str, int]
    reasons: dict[str, Counter]
    scored: int
    flagged: int
    export_date: str
    drift: DriftCounts
    timings: dict[str, float] = field(default_factory=dict)
    extra: dict = field(default_factory=dict)


def most_common_date(counts) -> str:
    """The date most posts were published on (ties: the earliest), or "unknown"."""
    items = [(d, n) for d, n in dict(counts).items() if d]
    if not items:
        return "unknown"
    return sorted(items, key=lambda kv: (-kv[1], kv[0]))[0][0]


def n_buckets(posts_hint: int, chunk_size: int) -> int:
    return max(1, min(MAX_BUCKETS, math.ceil(max(posts_hint, 1) / chunk_size)))


class Progress:
    """A progress bar on a terminal, a log line every ``every`` seconds otherwise."""

    def __init__(self, what: str, total: int | None, unit: str, every: float = 30.0):
        self.what, self.total, self.unit, self.every = what, total, unit, every
        self.n = 0
        self.t0 = self.last = time.perf_counter()
        self.bar = None
        if sys.stderr.isatty():
            from tqdm import tqdm

            self.bar = tqdm(total=total, desc=what, unit=unit, file=sys.stderr, leave=False,
                            mininterval=1.0)

    def update(self, k: int) -> None:
        self.n += k
        if self.bar is not None:
            self.bar.update(k)
            return
        now = time.perf_counter()
        if now - self.last >= self.every:
            self.last = now
            of = f"/{self.total:,}" if self.total else ""
            log.info("%s: %s%s %s (%.0f/s)", self.what, f"{self.n:,}", of, self.unit,
                     self.n / max(now - self.t0, 1e-9))

    def close(self) -> float:
        if self.bar is not None:
            self.bar.close()
        dt = time.perf_counter() - self.t0
        log.info("%s: %s %s in %.1fs", self.what, f"{self.n:,}", self.unit, dt)
        return dt
