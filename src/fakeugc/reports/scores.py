"""Read a scores folder written by the nightly scorer (``data/scored/export_date=…/``).

A folder is complete only when its ``_SUCCESS`` manifest exists; anything else
is refused with one clear message. Columns the report can live without are
filled with empty values, so a scorer that writes fewer columns still gets a
report (its panels say what is missing instead of failing).
"""

from __future__ import annotations

import json
import logging
import re
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from fakeugc.io.writer import SUCCESS

log = logging.getLogger(__name__)

SCORES_FILE = "scores.parquet"
QUARANTINE_FILE = "quarantine.parquet"
DRIFT_FILE = "drift.json"
_DATE_DIR = re.compile(r"^export_date=(\d{4}-\d{2}-\d{2})$")

#: columns read from previous nights (for the distribution and repeated flags)
PREVIOUS_COLUMNS = ("post_id", "account_id", "probability", "flagged")


class ScoresDirError(Exception):
    """The scores folder cannot be reported on (missing, incomplete, unreadable)."""


@dataclass
class PreviousNight:
    export_date: str
    path: Path
    probability: np.ndarray
    flagged: np.ndarray
    account_id: np.ndarray

    @property
    def n(self) -> int:
        return int(self.probability.size)


@dataclass
class Night:
    path: Path
    export_date: str
    scores: pd.DataFrame
    quarantine: pd.DataFrame
    manifest: dict
    drift: dict | None
    previous: list[PreviousNight] = field(default_factory=list)
    notes: list[str] = field(default_factory=list)

    @property
    def model(self) -> dict:
        m = self.manifest.get("model") if isinstance(self.manifest.get("model"), dict) else {}
        s = self.scores

        def first(col):
            if col in s.columns and len(s):
                v = s[col].dropna()
                return None if v.empty else v.iloc[0]
            return None

        return {
            "name": m.get("name") or first("model_name"),
            "version": m.get("version") or first("model_version"),
            "run_id": m.get("run_id") or first("model_run_id"),
            "threshold": m.get("threshold")
            if m.get("threshold") is not None
            else first("threshold"),
        }


def _read_json(path: Path) -> tuple[dict | None, str | None]:
    try:
        text = path.read_text(encoding="utf-8")
    except OSError as e:
        return None, f"{path.name}: unreadable ({e})"
    if not text.strip():
        return {}, None
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        return None, f"{path.name}: not valid JSON ({e})"
    if not isinstance(data, dict):
        return None, f"{path.name}: expected a JSON object"
    return data, None


def _as_list(v) -> list:
    if v is None:
        return []
    if isinstance(v, list | tuple | np.ndarray):
        return [x for x in v if x is not None and not (isinstance(x, float) and np.isnan(x))]
    if isinstance(v, float) and np.isnan(v):
        return []
    return [v]


def normalise_scores(df: pd.DataFrame) -> pd.DataFrame:
    """Fill the columns the report reads, with the types it expects."""
    if "post_id" not in df.columns or "probability" not in df.columns:
        missing = [c for c in ("post_id", "probability") if c not in df.columns]
        raise ScoresDirError(f"{SCORES_FILE}: required column(s) missing: {', '.join(missing)}")
    df = df.copy()
    n = len(df)
    df["post_id"] = df["post_id"].astype(str)
    df["probability"] = pd.to_numeric(df["probability"], errors="coerce").astype("float64")
    for col in (
        "account_id",
        "title",
        "body",
        "cluster_id",
        "model_name",
        "model_version",
        "model_run_id",
        "export_date",
        "family_contrib",
    ):
        if col not in df.columns:
            df[col] = None
    df["title"] = df["title"].where(df["title"].notna(), "")
    df["body"] = df["body"].where(df["body"].notna(), "")
    df["account_id"] = df["account_id"].where(df["account_id"].notna(), "")
    if "published_at" in df.columns:
        df["published_at"] = pd.to_datetime(df["published_at"], utc=True, errors="coerce")
    else:
        df["published_at"] = pd.Series(pd.NaT, index=df.index, dtype="datetime64[ns, UTC]")
    if "threshold" not in df.columns:
        df["threshold"] = np.nan
    if "score_raw" not in df.columns:
        df["score_raw"] = np.nan
    if "flagged" not in df.columns:
        thr = pd.to_numeric(df["threshold"], errors="coerce")
        df["flagged"] = (df["probability"] >= thr).fillna(False)
    df["flagged"] = df["flagged"].fillna(False).astype(bool)
    if "disclosed_partnership" not in df.columns:
        df["disclosed_partnership"] = pd.Series(pd.NA, index=df.index, dtype="boolean")
    else:
        df["disclosed_partnership"] = df["disclosed_partnership"].astype("boolean")
    for col in ("brand_ids", "reasons", "reason_features"):
        if col not in df.columns:
            df[col] = [[] for _ in range(n)]
        else:
            df[col] = [[str(x) for x in _as_list(v)] for v in df[col]]
    for col in ("curve", "account_usual_curve"):
        if col not in df.columns:
            df[col] = None
    df["cluster_id"] = df["cluster_id"].where(df["cluster_id"].notna(), None)
    return df


def find_previous_nights(path: Path, export_date: str, limit: int = 7) -> list[Path]:
    """Complete sibling ``export_date=…`` folders before ``export_date``, oldest first."""
    parent = path.parent
    if not parent.is_dir():
        return []
    found = []
    for p in parent.iterdir():
        m = _DATE_DIR.match(p.name)
        if not m or not p.is_dir() or p.resolve() == path.resolve():
            continue
        if m.group(1) >= export_date or not (p / SUCCESS).is_file():
            continue
        if not (p / SCORES_FILE).is_file():
            continue
        found.append((m.group(1), p))
    found.sort()
    return [p for _, p in found[-limit:]] if limit > 0 else []


def _read_previous(p: Path) -> PreviousNight | None:
    try:
        f = pq.ParquetFile(p / SCORES_FILE)
        cols = [c for c in PREVIOUS_COLUMNS if c in f.schema_arrow.names]
        if "probability" not in cols:
            return None
        t = f.read(columns=cols).to_pandas()
    except Exception as e:  # a broken old night must not stop tonight's report
        log.warning("previous night %s unreadable: %s", p, e)
        return None
    prob = pd.to_numeric(t["probability"], errors="coerce").to_numpy("float64")
    flagged = (
        t["flagged"].fillna(False).astype(bool).to_numpy()
        if "flagged" in t.columns
        else np.zeros(len(t), dtype=bool)
    )
    acc = (
        t["account_id"].astype(str).to_numpy()
        if "account_id" in t.columns
        else np.array([], dtype=object)
    )
    return PreviousNight(
        export_date=_DATE_DIR.match(p.name).group(1),
        path=p,
        probability=prob,
        flagged=flagged,
        account_id=acc,
    )


def load_night(scores_dir: str | Path, previous_nights: int = 7) -> Night:
    """Read a complete scores folder and up to ``previous_nights`` earlier ones."""
    path = Path(scores_dir).expanduser().absolute()
    if not path.is_dir():
        raise ScoresDirError(f"{path}: no such scores folder")
    if not (path / SUCCESS).is_file():
        raise ScoresDirError(
            f"{path}: incomplete scores folder (no {SUCCESS} marker): the scorer has not "
            f"finished writing it, or it failed; refusing to report on partial results"
        )
    if not (path / SCORES_FILE).is_file():
        raise ScoresDirError(f"{path}: {SCORES_FILE} is missing")
    notes: list[str] = []
    manifest, err = _read_json(path / SUCCESS)
    if err:
        notes.append(err)
    manifest = manifest or {}
    try:
        scores = pd.read_parquet(path / SCORES_FILE)
    except Exception as e:
        raise ScoresDirError(f"{path / SCORES_FILE}: unreadable ({e})") from e
    scores = normalise_scores(scores)
    quarantine = pd.DataFrame(columns=["table", "source", "row_number", "key", "reason", "raw"])
    if (path / QUARANTINE_FILE).is_file():
        try:
            quarantine = pd.read_parquet(path / QUARANTINE_FILE)
        except Exception as e:
            notes.append(f"{QUARANTINE_FILE}: unreadable ({e})")
    drift = None
    if (path / DRIFT_FILE).is_file():
        drift, err = _read_json(path / DRIFT_FILE)
        if err:
            notes.append(err)
    export_date = manifest.get("export_date")
    if not export_date:
        m = _DATE_DIR.match(path.name)
        if m:
            export_date = m.group(1)
        elif len(scores) and scores["export_date"].notna().any():
            export_date = str(scores["export_date"].dropna().iloc[0])
        else:
            export_date = ""
    export_date = str(export_date)
    previous = []
    if export_date:
        for p in find_previous_nights(path, export_date, previous_nights):
            prev = _read_previous(p)
            if prev is not None:
                previous.append(prev)
    return Night(
        path=path,
        export_date=export_date,
        scores=scores,
        quarantine=quarantine,
        manifest=manifest,
        drift=drift,
        previous=previous,
        notes=notes,
    )
