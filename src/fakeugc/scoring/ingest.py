"""Streaming the export: each table chunk by chunk, typed and checked by the reader's
row rules, with the rows that break them set aside.

The rows come out in file order with the reader's row numbers (``__row``: the row's
position in the table, counted across part files; in CSV, the record's position after
the header), so whatever is decided later about a row (a duplicate key, an unknown
post) can be decided exactly as :func:`fakeugc.io.read_exports` decides it: the first
row in that order wins. Only one chunk is in memory at a time.
"""

from __future__ import annotations

import csv
import json
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from fakeugc import contract as C
from fakeugc.io.reader import ContractError, row_json, table_location, validate_chunk
from fakeugc.scoring.schema import ROW, TEXT_COLUMNS, empty_quarantine

#: hash keys (16 bytes) for the two independent 64-bit hashes of an id
_KEY_A = "fakeugc-score-a1"
_KEY_B = "fakeugc-score-b2"
_KEY_BUCKET = "fakeugc-bucket01"


@dataclass
class TableSource:
    """Where a table lives and what its files look like, found before streaming."""

    name: str
    form: str  # "parquet" | "csv"
    files: list[Path]
    columns: list[str]  # union of the files' columns, in order of first appearance
    rows_hint: int  # exact for Parquet (from footers), an upper bound for CSV


@dataclass
class Chunk:
    """One chunk of a table: typed good rows (with ``__row``) and set-aside rows."""

    good: pd.DataFrame
    quarantine: pd.DataFrame
    read: int


def locate(export_dir: Path, name: str) -> TableSource | None:
    """The table's files and columns; ``ContractError`` when a required table or column
    is missing (the reader's messages)."""
    loc = table_location(export_dir, name)
    table = C.TABLES[name]
    if loc is None:
        if table.required:
            raise ContractError(f"export {export_dir}: required table '{name}' is missing")
        return None
    form, files = loc
    columns: list[str] = []
    rows = 0
    if form == "parquet":
        for f in files:
            try:
                md = pq.ParquetFile(f).metadata
                schema = pq.read_schema(f)
            except (pa.ArrowException, OSError, ValueError) as e:
                raise ContractError(f"table {name}: cannot read {f} ({e})") from None
            rows += md.num_rows
            for c in schema.names:
                if c not in columns:
                    columns.append(str(c))
    else:
        columns = _csv_header(files[0], name)
        rows = _count_lines(files[0])
    missing = [c for c in table.required_columns if c not in columns]
    if missing:
        raise ContractError(
            f"table {name} ({files[0] if files else export_dir}): required column "
            f"'{missing[0]}' is missing")
    if table.one_of and not any(c in columns for c in table.one_of):
        raise ContractError(f"table {name} ({export_dir}): needs at least one of the columns "
                            + ", ".join(table.one_of))
    return TableSource(name, form, list(files), columns, rows)


def _csv_header(path: Path, table: str) -> list[str]:
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            header = next(csv.reader(f), None)
    except UnicodeDecodeError as e:
        raise ContractError(f"table {table}: {path} is not UTF-8 ({e.reason} at byte {e.start})") from None
    except csv.Error as e:
        raise ContractError(f"table {table}: {path} is not valid CSV ({e})") from None
    if header is None:
        raise ContractError(f"table {table}: {path} has no header row")
    return [h.strip() for h in header]


def _count_lines(path: Path) -> int:
    n = 0
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            n += block.count(b"\n")
    return n


# ----------------------------------------------------------------------------- raw chunks


def iter_raw(src: TableSource, rows: int) -> Iterator[tuple[pd.DataFrame, list, bool]]:
    """Raw chunks: (frame of the file's columns plus ``__row``, malformed CSV rows as
    (row_number, reason, raw) tuples, from_csv)."""
    if src.form == "parquet":
        yield from _iter_parquet(src, rows)
    else:
        yield from _iter_csv(src, rows)


def _iter_parquet(src: TableSource, rows: int, arrow_first: bool = False):
    """Raw chunks of a Parquet table; with ``arrow_first``, a batch the Arrow checks
    (:func:`arrow_clean`) pass is yielded as ``(typed Arrow table, None, False)``."""
    offset = 0
    for path in src.files:
        try:
            pf = pq.ParquetFile(path)
            for batch in pf.iter_batches(batch_size=rows):
                t = pa.Table.from_batches([batch])
                if arrow_first:
                    typed = arrow_clean(src.name, t, offset)
                    if typed is not None:
                        offset += t.num_rows
                        yield typed, None, False
                        continue
                df = t.to_pandas(types_mapper=None, timestamp_as_object=False,
                                 ignore_metadata=True)
                df.columns = [str(c) for c in df.columns]
                # part files may disagree on columns: the table has their union
                for c in src.columns:
                    if c not in df.columns:
                        df[c] = None
                df = df[src.columns]
                df[ROW] = np.arange(offset, offset + len(df), dtype="int64")
                offset += len(df)
                yield df, [], False
        except (pa.ArrowException, OSError) as e:
            raise ContractError(f"table {src.name}: cannot read {path} ({e})") from None


def _iter_csv(src: TableSource, rows: int):
    path = src.files[0]
    header = src.columns
    good, numbers, bad = [], [], []
    try:
        with open(path, encoding="utf-8-sig", newline="") as f:
            reader = csv.reader(f)
            next(reader, None)
            for i, row in enumerate(reader):
                if len(row) == len(header):
                    good.append(row)
                    numbers.append(i)
                elif not any(cell.strip() for cell in row):
                    continue  # blank line: not a row
                else:
                    bad.append((i, "malformed_row", json.dumps(row, ensure_ascii=False)))
                if len(good) + len(bad) >= rows:
                    yield _csv_frame(good, numbers, header), bad, True
                    good, numbers, bad = [], [], []
    except UnicodeDecodeError as e:
        raise ContractError(f"table {src.name}: {path} is not UTF-8 ({e.reason} at byte {e.start})") from None
    except csv.Error as e:
        raise ContractError(f"table {src.name}: {path} is not valid CSV ({e})") from None
    if good or bad:
        yield _csv_frame(good, numbers, header), bad, True


def _csv_frame(good, numbers, header) -> pd.DataFrame:
    df = pd.DataFrame(good, columns=header, dtype=object)
    df.index = pd.RangeIndex(len(df))
    df[ROW] = np.asarray(numbers, dtype="int64")
    return df


# ----------------------------------------------------------------------------- validation


def quarantine_rows(table: str, source: str, frame: pd.DataFrame, reasons, raw=None,
                    typed: pd.DataFrame | None = None) -> pd.DataFrame:
    """Set-aside rows in the quarantine's columns. ``frame`` carries ``__row``;
    ``typed`` (default ``frame``) gives the key; ``raw`` (default ``frame``) the raw JSON."""
    if len(frame) == 0:
        return empty_quarantine()
    typed = frame if typed is None else typed
    raw = frame if raw is None else raw
    key_cols = list(C.TABLES[table].key) or ["post_id"]
    keys = typed[key_cols].astype(str).agg("|".join, axis=1).to_numpy() if len(typed) else []
    drop = [c for c in TEXT_COLUMNS if c in raw.columns]
    raw = raw.drop(columns=drop) if drop else raw
    return pd.DataFrame({
        "table": table,
        "source": source,
        "row_number": frame[ROW].to_numpy().astype("int64"),
        "key": np.asarray(keys, dtype=object),
        "reason": np.asarray(reasons, dtype=object),
        "raw": [row_json(r) for _, r in raw.iterrows()],
    })


def validate(src: TableSource, raw: pd.DataFrame, bad: list, from_csv: bool,
             source: str) -> Chunk:
    """Type a raw chunk by the contract; rows breaking a row rule are set aside. The
    duplicate-key and unknown-post rules need the whole table and are left to the caller."""
    typed, reasons = validate_chunk(src.name, raw.drop(columns=[ROW]), from_csv,
                                    known_posts=None, check_key=False)
    reasons = reasons.to_numpy()
    bad_mask = reasons != ""
    names = [c.name for c in C.TABLES[src.name].columns]
    typed = typed[names]
    typed[ROW] = raw[ROW].to_numpy()
    parts = []
    if bad_mask.any():
        parts.append(quarantine_rows(src.name, source, raw.loc[bad_mask], reasons[bad_mask],
                                     typed=typed.loc[bad_mask]))
    if bad:
        parts.append(pd.DataFrame({
            "table": src.name, "source": source,
            "row_number": np.array([b[0] for b in bad], dtype="int64"),
            "key": "", "reason": [b[1] for b in bad], "raw": [b[2] for b in bad],
        }))
    q = pd.concat(parts, ignore_index=True) if parts else empty_quarantine()
    good = typed.loc[~bad_mask].reset_index(drop=True)
    return Chunk(good, q, len(raw) + len(bad))


def iter_validated(src: TableSource, rows: int, source: str,
                   arrow: bool = False) -> Iterator[Chunk]:
    """Typed chunks of a table. With ``arrow``, a Parquet chunk whose every row passes
    the row rules (checked in Arrow, :func:`arrow_clean`) comes as ``Chunk.good`` =
    the typed rows as an Arrow table of :func:`~fakeugc.scoring.schema.table_schema`,
    with no pandas round trip; any other chunk goes through :func:`validate`."""
    if arrow and src.form == "parquet" and src.name in ARROW_TABLES:
        for raw, bad, from_csv in _iter_parquet(src, rows, arrow_first=True):
            if bad is None:
                yield Chunk(raw, empty_quarantine(), raw.num_rows)
            else:
                yield validate(src, raw, bad, from_csv, source)
        return
    for raw, bad, from_csv in iter_raw(src, rows):
        yield validate(src, raw, bad, from_csv, source)


# ----------------------------------------------------------------------------- Arrow fast path

#: tables whose Parquet chunks may skip pandas (string and count columns only)
ARROW_TABLES = tuple(
    name for name, table in C.TABLES.items()
    if table.refers_to_posts and all(
        (c.kind == C.STRING) or (c.kind == C.COUNT) for c in table.columns)
)
_ID_CHAR = r"[0-9A-Za-z_]"  # a value containing one of these is not blank after strip()
_MAX_EXACT = 2**53  # integers float64 holds exactly (the typed counts are float64)


def arrow_clean(name: str, table: pa.Table, offset: int) -> pa.Table | None:
    """The chunk typed as :func:`validate` would type it, when *every* row passes the
    reader's row rules by checks that are sufficient (never more lenient than the
    reader): strings present and containing a letter, digit or underscore; counts of an
    integer type, non-negative, at most 2**53, present where required, and at least
    one of ``one_of`` per row. None otherwise: the chunk then takes the pandas path,
    which decides and explains each bad row."""
    t = C.TABLES[name]
    from fakeugc.scoring.schema import table_schema

    schema = table_schema(name)
    cols = []
    n = table.num_rows
    present_counts = []
    for col in t.columns:
        if col.name not in table.column_names:
            if col.required:
                return None
            cols.append(pa.nulls(n, schema.field(col.name).type))
            continue
        v = table[col.name]
        if col.kind == C.STRING:
            if not (pa.types.is_string(v.type) or pa.types.is_large_string(v.type)):
                return None
            if v.null_count:
                return None
            if col.non_empty and n and not pc.all(
                    pc.match_substring_regex(v, _ID_CHAR)).as_py():
                return None
            cols.append(v.cast(pa.string()))
        else:  # COUNT
            if not pa.types.is_integer(v.type):
                return None
            if col.required and v.null_count:
                return None
            if v.null_count < n:
                mm = pc.min_max(v)
                if mm["min"].as_py() < 0 or mm["max"].as_py() > _MAX_EXACT:
                    return None
            cols.append(v.cast(pa.float64()))
            if col.name in t.one_of:
                present_counts.append(v)
    if t.one_of and n:
        if not present_counts:
            return None
        if any(v.null_count for v in present_counts):
            some = pc.is_valid(present_counts[0])
            for v in present_counts[1:]:
                some = pc.or_(some, pc.is_valid(v))
            if not pc.all(some).as_py():
                return None
    cols.append(pa.array(np.arange(offset, offset + n, dtype="int64")))
    return pa.Table.from_arrays(cols, schema=schema)


# ----------------------------------------------------------------------------- hashing


def _hash(values, key: str) -> np.ndarray:
    arr = np.asarray(values, dtype=object)
    return pd.util.hash_array(arr, encoding="utf8", hash_key=key, categorize=False)


def id_hashes(values) -> tuple[np.ndarray, np.ndarray]:
    """Two independent 64-bit hashes of each id (a 128-bit fingerprint). ``values`` may
    be an Arrow string array: its distinct values are hashed once each."""
    if isinstance(values, pa.ChunkedArray | pa.Array):
        enc = (values.combine_chunks() if isinstance(values, pa.ChunkedArray) else values) \
            .dictionary_encode()
        uniq = np.asarray(enc.dictionary.to_pylist(), dtype=object)
        idx = enc.indices.to_numpy(zero_copy_only=False)
        return _hash(uniq, _KEY_A)[idx], _hash(uniq, _KEY_B)[idx]
    return _hash(values, _KEY_A), _hash(values, _KEY_B)


def bucket_of(account_ids, buckets: int) -> np.ndarray:
    """The bucket of each account id: every post of an account, and the account's row,
    land in the same bucket, whatever the engine."""
    if buckets <= 1:
        return np.zeros(len(account_ids), dtype="int32")
    return (_hash(account_ids, _KEY_BUCKET) % np.uint64(buckets)).astype("int32")
