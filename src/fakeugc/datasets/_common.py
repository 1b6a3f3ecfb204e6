"""What every adapter returns, and how an export directory is written."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fakeugc.io.writer import commit_directory

#: Placeholder publication time for text-only sets that carry none (the contract
#: requires one; no feature of a text-only set depends on it).
PLACEHOLDER_TIME = pd.Timestamp("2011-01-01T00:00:00Z")


@dataclass
class Conversion:
    """The contract tables of one converted data set, and what the adapter skipped.

    ``skipped`` counts source items that could not become a contract row (with
    the reason), so that nothing is dropped silently.
    """

    name: str
    source: Path
    tables: dict[str, pd.DataFrame]
    skipped: dict[str, int] = field(default_factory=dict)
    notes: list[str] = field(default_factory=list)

    def summary(self) -> dict:
        return {
            "dataset": self.name,
            "source": str(self.source),
            "rows": {name: len(df) for name, df in self.tables.items()},
            "skipped": dict(sorted(self.skipped.items())),
            "notes": list(self.notes),
        }


def write_export(conversion: Conversion, out: str | Path) -> Path:
    """Write the tables as ``<table>.parquet`` into ``out``, atomically (a reader never
    sees half an export); an existing ``out`` is replaced."""

    def fill(tmp: Path) -> dict:
        for name, df in conversion.tables.items():
            df.reset_index(drop=True).to_parquet(tmp / f"{name}.parquet", index=False)
        return conversion.summary()

    return commit_directory(out, fill)


def utc(values) -> pd.Series:
    """Timestamps as ``datetime64[ns, UTC]``."""
    return pd.to_datetime(pd.Series(values), utc=True).astype("datetime64[ns, UTC]")
