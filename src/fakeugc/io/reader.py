"""The export reader: the only way any command reads data.

It finds each table of the contract in any of its three forms (``name.parquet``,
``name.csv``, a folder of Parquet parts), types every column, and sets aside
each row that breaks the contract with a machine-readable reason instead of
dropping it or failing the whole export. For every table,
``read == used + set_aside`` holds, and the reader checks it before returning.

A table or required column that is missing altogether (or a file that cannot
be read at all) raises :class:`ContractError` with one message naming it.
"""

from __future__ import annotations

import csv
import io
import json
import math
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

from fakeugc import contract as C

QUARANTINE_COLUMNS = ["table", "source", "row_number", "key", "reason", "raw"]


class ContractError(Exception):
    """The export cannot be read at all: a required table or column is missing, or a
    file is unreadable. The message names the table (and column)."""


@dataclass
class TableStats:
    read: int = 0
    used: int = 0
    set_aside: int = 0
    reasons: Counter = field(default_factory=Counter)

    def as_dict(self) -> dict:
        return {
            "read": self.read,
            "used": self.used,
            "set_aside": self.set_aside,
            "reasons": dict(sorted(self.reasons.items())),
        }


@dataclass
class Export:
    """Typed tables of one or more exports, with what was set aside and why."""

    tables: dict[str, pd.DataFrame]
    quarantine: pd.DataFrame
    stats: dict[str, TableStats]
    sources: list[Path]
    files: dict[str, list[Path]]
    #: for every used row of every table, the export directory it came from
    origins: dict[str, np.ndarray] = field(default_factory=dict)

    def get(self, name: str) -> pd.DataFrame | None:
        """The typed table, or ``None`` when the export does not have it."""
        return self.tables.get(name)

    @property
    def posts(self) -> pd.DataFrame:
        return self.tables["posts"]

    def summary(self) -> dict:
        return {"tables": {name: s.as_dict() for name, s in self.stats.items()}}


# --------------------------------------------------------------------------- discovery


def table_location(export_dir: Path, name: str) -> tuple[str, list[Path]] | None:
    """Where table ``name`` lives in ``export_dir``: (form, files), or None if absent."""
    pq_file = export_dir / f"{name}.parquet"
    if pq_file.is_file():
        return "parquet", [pq_file]
    part_dir = export_dir / name
    if part_dir.is_dir():
        parts = sorted(p for p in part_dir.rglob("*.parquet") if p.is_file())
        parts = [p for p in parts if not p.name.startswith((".", "_"))]
        return "parquet", parts
    csv_file = export_dir / f"{name}.csv"
    if csv_file.is_file():
        return "csv", [csv_file]
    return None


def is_export_dir(path: Path) -> bool:
    return path.is_dir() and table_location(path, "posts") is not None


def discover_exports(paths: Iterable[str | Path]) -> list[Path]:
    """Expand arguments into export directories.

    A directory holding ``posts`` is one export; a directory of ``export_date=...``
    folders (or of any export folders) counts as all of them, in sorted order.
    """
    found: list[Path] = []
    for raw in paths:
        p = Path(raw)
        if not p.exists():
            raise ContractError(f"export {p}: no such directory")
        if is_export_dir(p):
            found.append(p)
            continue
        children = sorted(c for c in p.iterdir() if is_export_dir(c)) if p.is_dir() else []
        if not children:
            raise ContractError(f"export {p}: required table 'posts' is missing")
        found.extend(children)
    return found


# --------------------------------------------------------------------------- raw reading


def _read_csv(path: Path, table: str) -> tuple[pd.DataFrame, list[tuple[int, str, str]]]:
    """Read a CSV as strings; rows with the wrong number of fields are returned apart."""
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except UnicodeDecodeError as e:
        raise ContractError(
            f"table {table}: {path} is not UTF-8 ({e.reason} at byte {e.start})") from None
    try:
        rows = list(csv.reader(io.StringIO(text, newline="")))
    except csv.Error as e:
        raise ContractError(f"table {table}: {path} is not valid CSV ({e})") from None
    if not rows:
        raise ContractError(f"table {table}: {path} has no header row")
    header = [h.strip() for h in rows[0]]
    good, bad = [], []
    good_numbers = []
    for i, row in enumerate(rows[1:]):
        if len(row) == len(header):
            good.append(row)
            good_numbers.append(i)
        elif not any(cell.strip() for cell in row):
            continue  # blank line: not a row
        else:
            bad.append((i, "malformed_row", json.dumps(row, ensure_ascii=False)))
    df = pd.DataFrame(good, columns=header, dtype=object)
    df.index = pd.RangeIndex(len(df))
    df["__row"] = good_numbers
    return df, bad


def _read_parquet(paths: Sequence[Path], table: str) -> pd.DataFrame:
    frames = []
    for path in paths:
        try:
            t = pq.read_table(path)
        except (pa.ArrowException, OSError, ValueError) as e:
            raise ContractError(f"table {table}: cannot read {path} ({e})") from None
        frames.append(t)
    if not frames:
        return pd.DataFrame()
    try:
        t = pa.concat_tables(frames, promote_options="permissive")
    except pa.ArrowException as e:
        raise ContractError(
            f"table {table}: part files disagree on their schema ({e})") from None
    df = t.to_pandas(types_mapper=None, timestamp_as_object=False, ignore_metadata=True)
    df.columns = [str(c) for c in df.columns]
    return df


def read_raw_table(export_dir: Path, name: str) -> tuple[pd.DataFrame, list, list[Path]] | None:
    """The table as it is in the files, with a ``__row`` column of source row numbers."""
    loc = table_location(export_dir, name)
    if loc is None:
        return None
    form, files = loc
    if form == "csv":
        df, bad = _read_csv(files[0], name)
    else:
        df = _read_parquet(files, name)
        df["__row"] = np.arange(len(df))
        bad = []
    return df, bad, files


# --------------------------------------------------------------------------- typing


def _is_null(values: pd.Series) -> np.ndarray:
    return values.isna().to_numpy()


def _blank(values: pd.Series, from_csv: bool) -> np.ndarray:
    """Null, or an empty CSV field (CSV has no null: an empty field means no value)."""
    null = _is_null(values)
    if from_csv:
        null |= values.astype(str).str.strip().eq("").to_numpy()
    return null


def _type_string(values: pd.Series, col: C.Column, from_csv: bool):
    null = _is_null(values)
    out = values.astype(object)
    if null.any():
        out = out.where(~null, None)
    # the common case (every value already a string) stays vectorised
    if pd.api.types.infer_dtype(out, skipna=True) not in ("string", "empty"):
        out = out.map(lambda v: v if v is None or isinstance(v, str) else str(v))
    bad = np.zeros(len(values), dtype=bool)
    if col.non_empty:
        empty = out.str.strip().eq("").fillna(True).to_numpy(dtype=bool)
        return out, null, empty & ~null
    return out, null, bad


def _type_timestamp(values: pd.Series, col: C.Column, from_csv: bool):
    null = _blank(values, from_csv)
    if pd.api.types.is_datetime64_any_dtype(values.dtype):
        ts = values
        if getattr(ts.dt, "tz", None) is None:
            ts = ts.dt.tz_localize("UTC")
        else:
            ts = ts.dt.tz_convert("UTC")
        try:
            ts = ts.astype("datetime64[ns, UTC]")
        except (pd.errors.OutOfBoundsDatetime, OverflowError):
            # outside what a nanosecond timestamp holds (years 1677..2262): retry as text
            values = ts.astype(object).map(lambda v: None if pd.isna(v) else v.isoformat())
        else:
            return ts, null, np.zeros(len(values), dtype=bool)
    as_str = values.astype(object).where(~null, None)
    as_str = as_str.map(lambda v: v if v is None else str(v).strip())
    ts = pd.to_datetime(as_str, utc=True, errors="coerce", format="ISO8601")
    bad = ts.isna().to_numpy() & ~null
    # year bounds: pandas ns timestamps cover 1677..2262; outside -> NaT already
    return ts.astype("datetime64[ns, UTC]"), null, bad


_TRUE = {"true", "1", "t", "yes"}
_FALSE = {"false", "0", "f", "no"}


def _type_bool(values: pd.Series, col: C.Column, from_csv: bool):
    null = _blank(values, from_csv)
    if pd.api.types.is_bool_dtype(values.dtype):
        return values.astype("boolean"), null, np.zeros(len(values), dtype=bool)

    def conv(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        if isinstance(v, bool | np.bool_):
            return bool(v)
        if isinstance(v, int | np.integer | float | np.floating):
            return {0: False, 1: True}.get(v, "bad")
        s = str(v).strip().lower()
        if s in _TRUE:
            return True
        if s in _FALSE:
            return False
        return "bad"

    conv_vals = values.astype(object).where(~null, None).map(conv)
    bad = conv_vals.map(lambda v: isinstance(v, str)).to_numpy()
    out = conv_vals.where(~bad, None).astype("boolean")
    return out, null, bad


def _type_int(values: pd.Series, col: C.Column, from_csv: bool):
    null = _blank(values, from_csv)
    if pd.api.types.is_integer_dtype(values.dtype) and not pd.api.types.is_bool_dtype(
        values.dtype
    ):
        nums = values.astype("float64") if values.hasnans else values
        num = pd.Series(nums, index=values.index)
        badnum = np.zeros(len(values), dtype=bool)
    else:
        raw = values.astype(object).where(~null, None)
        if from_csv or raw.map(lambda v: isinstance(v, str)).any():
            raw = raw.map(lambda v: v.strip() if isinstance(v, str) else v)
        num = pd.to_numeric(raw, errors="coerce")
        badnum = num.isna().to_numpy() & ~null
    f = num.to_numpy(dtype="float64", na_value=np.nan)
    finite = np.isfinite(f)
    with np.errstate(invalid="ignore"):
        nonint = finite & (np.floor(f) != f)
        too_big = finite & (np.abs(f) > 2**62)
    badnum = badnum | (~finite & ~null) | nonint | too_big
    return f, null, badnum


def _type_list(values: pd.Series, col: C.Column, from_csv: bool):
    def conv(v):
        if v is None or (isinstance(v, float) and math.isnan(v)):
            return None
        if isinstance(v, str):
            return [s.strip() for s in v.split("|") if s.strip()] if from_csv else [v]
        if isinstance(v, list | tuple | np.ndarray):
            return [str(s) for s in v if s is not None and str(s) != ""]
        return [str(v)]

    out = values.astype(object).map(conv)
    return out, out.isna().to_numpy(), np.zeros(len(values), dtype=bool)


def _validate_frame(
    table: C.Table,
    raw: pd.DataFrame,
    from_csv: np.ndarray,
    known_posts: set | None,
    check_key: bool = True,
) -> tuple[pd.DataFrame, pd.Series]:
    """Type ``raw`` by the contract. Returns the typed frame and a reason per row
    (empty string where the row is good). ``check_key=False`` skips the duplicate-key
    rule (a streaming caller that sees one chunk at a time applies it across chunks)."""
    n = len(raw)
    reasons = np.full(n, "", dtype=object)
    typed = pd.DataFrame(index=raw.index)
    csv_mask = from_csv

    def note(mask: np.ndarray, reason: str):
        sel = mask & (reasons == "")
        reasons[sel] = reason

    for col in table.columns:
        if col.name not in raw.columns:
            typed[col.name] = _empty_column(col, n, raw.index)
            continue
        values = raw[col.name]
        # CSV and Parquet rows may be mixed when several exports are read: type each part.
        parts = []
        for is_csv in (False, True):
            sel = csv_mask == is_csv
            if not sel.any():
                continue
            v = values[sel]
            if col.kind == C.STRING:
                out, null, bad = _type_string(v, col, is_csv)
                reason_bad = f"{C.REASON_EMPTY}:{col.name}"
            elif col.kind == C.TIMESTAMP:
                out, null, bad = _type_timestamp(v, col, is_csv)
                reason_bad = f"{C.REASON_BAD_TIMESTAMP}:{col.name}"
            elif col.kind == C.BOOL:
                out, null, bad = _type_bool(v, col, is_csv)
                reason_bad = f"{C.REASON_BAD_BOOL}:{col.name}"
            elif col.kind in (C.COUNT, C.LABEL):
                out, null, bad = _type_int(v, col, is_csv)
                reason_bad = f"{C.REASON_BAD_INT}:{col.name}"
            elif col.kind == C.STRING_LIST:
                out, null, bad = _type_list(v, col, is_csv)
                reason_bad = ""
            else:  # pragma: no cover - the contract only uses the kinds above
                raise AssertionError(col.kind)
            idx = np.flatnonzero(sel)
            m_null = np.zeros(n, dtype=bool)
            m_null[idx] = null
            m_bad = np.zeros(n, dtype=bool)
            m_bad[idx] = bad
            if col.required:
                note(m_null, f"{C.REASON_MISSING}:{col.name}")
            note(m_bad, reason_bad)
            if col.kind in (C.COUNT, C.LABEL):
                f = np.full(n, np.nan)
                f[idx] = out
                with np.errstate(invalid="ignore"):
                    if col.kind == C.COUNT:
                        note((f < 0) & ~m_bad, f"{C.REASON_NEGATIVE}:{col.name}")
                    else:
                        note(~np.isin(f, [0, 1]) & ~m_null & ~m_bad,
                             f"{C.REASON_BAD_LABEL}:{col.name}")
                f[m_bad] = np.nan
                parts.append(pd.Series(f[idx], index=raw.index[idx]))
            else:
                s = out.copy()
                s.index = raw.index[idx]
                parts.append(s)
        if not parts:  # an empty table
            typed[col.name] = _empty_column(col, n, raw.index)
            continue
        merged = pd.concat(parts).reindex(raw.index) if len(parts) > 1 else parts[0]
        typed[col.name] = merged

    # columns the contract does not name: kept untouched
    for extra in raw.columns:
        if extra not in typed.columns and not extra.startswith("__"):
            typed[extra] = raw[extra].to_numpy()

    ok = reasons == ""
    if table.one_of and ok.any():
        counts = [c for c in table.one_of if c in raw.columns]
        no_counts = typed[counts].isna().all(axis=1).to_numpy()
        note(no_counts, f"{C.REASON_NO_COUNTS}:{'|'.join(counts)}")
    if table.refers_to_posts and known_posts is not None:
        unknown = ~typed["post_id"].isin(known_posts).to_numpy()
        note(unknown & (reasons == ""), f"{C.REASON_UNKNOWN_POST}:post_id")
    if table.key and check_key:
        ok = reasons == ""
        dup = np.zeros(n, dtype=bool)
        key = typed.loc[ok, list(table.key)]
        if table.key_scope == "export" and "__source" in raw.columns:
            key = key.assign(__source=raw.loc[ok, "__source"].to_numpy())
        dup[ok] = key.duplicated(keep="first").to_numpy()
        note(dup, f"{C.REASON_DUPLICATE}:{','.join(table.key)}")
    return typed, pd.Series(reasons, index=raw.index)


def validate_chunk(
    table: C.Table | str,
    raw: pd.DataFrame,
    from_csv: bool | np.ndarray = False,
    known_posts: set | None = None,
    check_key: bool = True,
) -> tuple[pd.DataFrame, pd.Series]:
    """The reader's row rules applied to one chunk of raw rows (for streaming readers).

    ``raw`` holds the table's columns as they are in the files (CSV: strings). Returns
    the typed frame (contract columns typed, counts as float64 with NaN, other columns
    kept) and a reason per row, ``""`` where the row is good. Rules that need the whole
    table -- ``unknown_post`` (pass ``known_posts``) and duplicate keys (``check_key``)
    -- only see this chunk; a streaming caller applies them across chunks itself.
    """
    if isinstance(table, str):
        table = C.TABLES[table]
    raw = raw.reset_index(drop=True)
    if isinstance(from_csv, bool | np.bool_):
        from_csv = np.full(len(raw), bool(from_csv))
    return _validate_frame(table, raw, np.asarray(from_csv, dtype=bool), known_posts, check_key)


def row_json(row: pd.Series) -> str:
    """A row as the quarantine's ``raw`` JSON (columns starting with ``__`` left out)."""
    return _raw_json(row)


def finalise_dtypes(table: C.Table | str, df: pd.DataFrame) -> pd.DataFrame:
    """Counts become int64 when complete, nullable Int64 otherwise (as the reader returns)."""
    if isinstance(table, str):
        table = C.TABLES[table]
    return _finalise_dtypes(table, df)


def _empty_column(col: C.Column, n: int, index) -> pd.Series:
    if col.kind == C.TIMESTAMP:
        return pd.Series(pd.NaT, index=index, dtype="datetime64[ns, UTC]")
    if col.kind == C.BOOL:
        return pd.Series(pd.NA, index=index, dtype="boolean")
    if col.kind in (C.COUNT, C.LABEL):
        return pd.Series(np.nan, index=index, dtype="float64")
    return pd.Series([None] * n, index=index, dtype=object)


def _finalise_dtypes(table: C.Table, df: pd.DataFrame) -> pd.DataFrame:
    """Counts become int64 when complete, nullable Int64 otherwise."""
    for col in table.columns:
        if col.kind in (C.COUNT, C.LABEL) and col.name in df.columns:
            s = df[col.name]
            if s.notna().all():
                df[col.name] = s.astype("int64")
            else:
                df[col.name] = s.astype("Int64")
    return df


def _raw_json(row: pd.Series) -> str:
    d = {}
    for k, v in row.items():
        if str(k).startswith("__"):
            continue
        if isinstance(v, np.ndarray):
            v = v.tolist()
        try:
            if v is None or (not isinstance(v, list) and pd.isna(v)):
                v = None
        except (TypeError, ValueError):
            pass
        d[str(k)] = v
    return json.dumps(d, ensure_ascii=False, default=str)


# --------------------------------------------------------------------------- public API


def read_exports(
    paths: Iterable[str | Path],
    tables: Sequence[str] | None = None,
) -> Export:
    """Read and validate one or more exports (or folders of ``export_date=`` exports).

    Tables are read in contract order; rows of ``exposure``, ``reports`` and
    ``labels`` that refer to a post that is not among the *used* posts are set
    aside as ``unknown_post``. ``tables`` restricts which tables are read
    (``posts`` is always read).
    """
    sources = discover_exports(paths)
    wanted = list(C.TABLES) if tables is None else ["posts", *[t for t in tables if t != "posts"]]
    out_tables: dict[str, pd.DataFrame] = {}
    stats: dict[str, TableStats] = {}
    files: dict[str, list[Path]] = {}
    origins: dict[str, np.ndarray] = {}
    quarantine_parts: list[pd.DataFrame] = []
    known_posts: set | None = None

    for name in wanted:
        table = C.TABLES[name]
        raws, csv_flags, bad_rows, srcs = [], [], [], []
        present = False
        for src in sources:
            got = read_raw_table(src, name)
            if got is None:
                if table.required:
                    raise ContractError(f"export {src}: required table '{name}' is missing")
                continue
            present = True
            df, bad, fs = got
            files.setdefault(name, []).extend(fs)
            missing = [c for c in table.required_columns if c not in df.columns]
            if missing:
                raise ContractError(
                    f"table {name} ({fs[0] if fs else src}): required column '{missing[0]}' is missing"
                )
            if table.one_of and not any(c in df.columns for c in table.one_of):
                raise ContractError(
                    f"table {name} ({src}): needs at least one of the columns "
                    + ", ".join(table.one_of)
                )
            df["__source"] = str(src)
            raws.append(df)
            csv_flags.append(np.full(len(df), fs[0].suffix == ".csv" if fs else False))
            for row_number, reason, raw in bad:
                bad_rows.append((name, str(src), row_number, "", reason, raw))
            srcs.append(src)
        if not present:
            continue
        raw = pd.concat(raws, ignore_index=True) if len(raws) > 1 else raws[0]
        raw.index = pd.RangeIndex(len(raw))
        from_csv = np.concatenate(csv_flags) if csv_flags else np.zeros(0, dtype=bool)
        typed, reasons = _validate_frame(table, raw, from_csv, known_posts)
        bad_mask = (reasons != "").to_numpy()
        st = TableStats(read=len(raw) + len(bad_rows))
        if bad_mask.any() or bad_rows:
            key_cols = list(table.key) or ["post_id"]
            bad_raw = raw.loc[bad_mask]
            keys = typed.loc[bad_mask, key_cols].astype(str).agg("|".join, axis=1) \
                if bad_mask.any() else pd.Series([], dtype=object)
            q = pd.DataFrame(
                {
                    "table": name,
                    "source": bad_raw["__source"].to_numpy(),
                    "row_number": bad_raw["__row"].to_numpy().astype("int64"),
                    "key": keys.to_numpy(),
                    "reason": reasons[bad_mask].to_numpy(),
                    "raw": [_raw_json(r) for _, r in bad_raw.iterrows()],
                }
            )
            if bad_rows:
                q = pd.concat([q, pd.DataFrame(bad_rows, columns=QUARANTINE_COLUMNS)],
                              ignore_index=True)
            quarantine_parts.append(q)
            st.reasons.update(q["reason"].tolist())
        good = typed.loc[~bad_mask].reset_index(drop=True)
        origins[name] = raw.loc[~bad_mask, "__source"].to_numpy()
        good = _finalise_dtypes(table, good)
        st.used = len(good)
        st.set_aside = int(bad_mask.sum()) + len(bad_rows)
        if st.read != st.used + st.set_aside:  # the invariant, checked on every read
            raise AssertionError(f"table {name}: read {st.read} != used + set aside")
        out_tables[name] = good
        stats[name] = st
        if name == "posts":
            known_posts = set(good["post_id"])

    quarantine = (
        pd.concat(quarantine_parts, ignore_index=True)
        if quarantine_parts
        else pd.DataFrame({c: pd.Series(dtype=object) for c in QUARANTINE_COLUMNS})
    )
    quarantine["row_number"] = quarantine["row_number"].astype("int64")
    return Export(out_tables, quarantine, stats, sources, files, origins)


def read_export(path: str | Path, tables: Sequence[str] | None = None) -> Export:
    """Read one export directory (see :func:`read_exports`)."""
    return read_exports([path], tables=tables)
