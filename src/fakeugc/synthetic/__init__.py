"""The synthetic platform behind ``fakeugc generate``.

It simulates a Xiaohongshu-like platform: genuine users with heavy-tailed
followers, fake-account farms, paid-intermediary campaigns run through rosters
of real accounts, bought exposure, and the genuine posts that look like fakes
(disclosed partnerships, launch bursts, viral posts, reported posts). Each day
is written as one export of the contract (``../shared/contract/EXPORT.md``).

Public API::

    cfg = load_config("pipelines/generate.yaml", days=3, accounts=500, seed=1)
    for day in iter_days(cfg): ...          # in memory: DayExport
    result = generate(cfg, "data/raw")      # writes export_date=YYYY-MM-DD/ folders

See ``docs/synthetic-platform.md`` for what is modelled and what is not.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pyarrow.parquet as pq

from fakeugc.io.writer import clean_stale, commit_directory
from fakeugc.synthetic._config import GeneratorConfig, load_config
from fakeugc.synthetic._platform import HARD_CASES, DayExport, World

__all__ = [
    "GeneratorConfig",
    "load_config",
    "generate",
    "iter_days",
    "write_day",
    "DayExport",
    "GenerateResult",
    "HARD_CASES",
    "TRUTH_FILE",
]

#: ground truth written beside the tables (the reader does not look for it)
TRUTH_FILE = "_truth.parquet"
TABLE_ORDER = ("posts", "accounts", "exposure", "reports", "brands", "labels")


def iter_days(config: GeneratorConfig) -> Iterator[DayExport]:
    """Build each day's export in memory, in date order."""
    world = World(config)
    for d in range(config.days):
        yield world.build_day(d)


def export_dir_name(day: DayExport) -> str:
    return f"export_date={day.date.isoformat()}"


def write_day(day: DayExport, out: str | Path, *, write_truth: bool = True) -> Path:
    """Write one day atomically to ``out/export_date=YYYY-MM-DD/``."""
    out = Path(out)
    name = export_dir_name(day)
    clean_stale(out, name)

    def fill(tmp: Path) -> dict:
        for t in TABLE_ORDER:
            pq.write_table(day.tables[t], tmp / f"{t}.parquet", compression="zstd")
        if write_truth:
            pq.write_table(day.truth, tmp / TRUTH_FILE, compression="zstd")
        return {
            "export_date": day.date.isoformat(),
            "exported_at": day.exported_at.isoformat().replace("+00:00", "Z"),
            "producer": "fakeugc.synthetic",
            "rows": {t: day.tables[t].num_rows for t in TABLE_ORDER},
            "truth": TRUTH_FILE if write_truth else None,
        }

    return commit_directory(out / name, fill)


@dataclass
class GenerateResult:
    out: Path
    days: list[dict] = field(default_factory=list)
    seconds: float = 0.0

    @property
    def posts(self) -> int:
        return sum(d["posts"] for d in self.days)

    @property
    def fake(self) -> int:
        return sum(d["fake"] for d in self.days)


def generate(
    config: GeneratorConfig,
    out: str | Path,
    *,
    on_day: Callable[[dict], None] | None = None,
) -> GenerateResult:
    """Generate ``config.days`` exports into ``out`` (one folder per day).

    ``on_day`` is called with each day's summary (date, posts, fake, accounts,
    exposure_rows, cut_short, reports, labels, path) after the folder is in place.
    """
    started = time.perf_counter()
    result = GenerateResult(out=Path(out))
    for day in iter_days(config):
        path = write_day(day, out, write_truth=config.write_truth)
        summary = day.summary() | {"path": str(path)}
        result.days.append(summary)
        if on_day is not None:
            on_day(summary)
    result.seconds = time.perf_counter() - started
    return result
