"""Arrow schemas of the scorer's intermediate files and of ``scores.parquet``, and the
conversions between typed pandas tables (as :func:`fakeugc.io.read_exports` returns
them) and Arrow.

Every engine moves typed rows through Arrow with these schemas and turns them back
into pandas with :func:`to_typed_pandas`, so the feature code sees the same dtypes
whether the rows came from a local bucket file or a Spark batch. Timestamps are kept
to the microsecond (Spark's precision), in UTC.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.compute as pc

from fakeugc import contract as C
from fakeugc.io.reader import QUARANTINE_COLUMNS, finalise_dtypes

TS = pa.timestamp("us", tz="UTC")
ROW = "__row"  # row number in the table's files (the reader's numbering)
TEXT_COLUMNS = ("text_raw", "text_norm", "tokens")

_KIND_TYPES = {
    C.STRING: pa.string(),
    C.TIMESTAMP: TS,
    C.BOOL: pa.bool_(),
    C.COUNT: pa.float64(),
    C.LABEL: pa.float64(),
    C.STRING_LIST: pa.list_(pa.string()),
}


def table_schema(name: str, tokens: bool = False) -> pa.Schema:
    """Typed rows of one contract table (contract columns only) plus ``__row``;
    ``tokens=True`` adds the tokenizer's columns to ``posts``."""
    fields = [pa.field(c.name, _KIND_TYPES[c.kind]) for c in C.TABLES[name].columns]
    if tokens:
        fields += [pa.field("text_raw", pa.string()), pa.field("text_norm", pa.string()),
                   pa.field("tokens", pa.list_(pa.string()))]
    fields.append(pa.field(ROW, pa.int64()))
    return pa.schema(fields)


QUARANTINE_SCHEMA = pa.schema([
    pa.field("table", pa.string()),
    pa.field("source", pa.string()),
    pa.field("row_number", pa.int64()),
    pa.field("key", pa.string()),
    pa.field("reason", pa.string()),
    pa.field("raw", pa.string()),
])
assert QUARANTINE_SCHEMA.names == QUARANTINE_COLUMNS

#: ``scores.parquet``
SCORES_SCHEMA = pa.schema([
    pa.field("post_id", pa.string()),
    pa.field("account_id", pa.string()),
    pa.field("published_at", TS),
    pa.field("title", pa.string()),
    pa.field("body", pa.string()),
    pa.field("brand_ids", pa.list_(pa.string())),
    pa.field("disclosed_partnership", pa.bool_()),
    pa.field("probability", pa.float64()),
    pa.field("score_raw", pa.float64()),
    pa.field("threshold", pa.float64()),
    pa.field("flagged", pa.bool_()),
    pa.field("reasons", pa.list_(pa.string())),
    pa.field("reason_features", pa.list_(pa.string())),
    pa.field("family_contrib", pa.string()),
    pa.field("cluster_id", pa.string()),
    pa.field("curve", pa.list_(pa.float64())),
    pa.field("account_usual_curve", pa.list_(pa.float64())),
    pa.field("model_name", pa.string()),
    pa.field("model_version", pa.string()),
    pa.field("model_run_id", pa.string()),
    pa.field("scored_at", TS),
    pa.field("export_date", pa.string()),
])


# ----------------------------------------------------------------------------- pandas -> arrow


def _strings(values) -> pa.Array:
    return pa.array([v if isinstance(v, str) else (None if _missing(v) else str(v))
                     for v in values], type=pa.string())


def _missing(v) -> bool:
    if v is None:
        return True
    try:
        return bool(pd.isna(v)) if not isinstance(v, list | tuple | np.ndarray) else False
    except (TypeError, ValueError):
        return False


def _string_lists(values) -> pa.Array:
    out = []
    for v in values:
        if v is None or (not isinstance(v, list | tuple | np.ndarray) and _missing(v)):
            out.append(None)
        else:
            out.append([s if isinstance(s, str) else str(s) for s in v])
    return pa.array(out, type=pa.list_(pa.string()))


def _float_lists(values) -> pa.Array:
    out = []
    for v in values:
        if v is None or (not isinstance(v, list | tuple | np.ndarray) and _missing(v)):
            out.append(None)
        else:
            out.append(np.asarray(v, dtype="float64"))
    return pa.array(out, type=pa.list_(pa.float64()))


def column_to_arrow(values: pd.Series, typ: pa.DataType) -> pa.Array:
    """One pandas column as an Arrow array of ``typ`` (nulls for None/NaN/NaT)."""
    if pa.types.is_timestamp(typ):
        ts = pd.to_datetime(values, utc=True)
        arr = pa.array(ts.dt.tz_convert("UTC"), from_pandas=True)
        return arr.cast(typ, safe=False)
    if pa.types.is_string(typ):
        if values.dtype == object or pd.api.types.is_string_dtype(values.dtype):
            try:
                return pa.array(values.to_numpy(dtype=object), type=typ, from_pandas=True)
            except (pa.ArrowInvalid, pa.ArrowTypeError):
                return _strings(values)
        return _strings(values)
    if pa.types.is_boolean(typ):
        v = values.astype("boolean")
        return pa.array(v, type=typ, from_pandas=True)
    if pa.types.is_floating(typ):
        return pa.array(pd.to_numeric(values, errors="coerce").to_numpy(
            dtype="float64", na_value=np.nan), type=typ, from_pandas=True)
    if pa.types.is_integer(typ):
        return pa.array(values.to_numpy(), type=typ, from_pandas=True)
    if pa.types.is_list(typ):
        try:  # lists / arrays / None: Arrow converts them natively
            # (NaN inside a float list stays NaN; only a missing list is null)
            return pa.array(values.to_numpy(dtype=object), type=typ,
                            from_pandas=pa.types.is_string(typ.value_type))
        except (pa.ArrowInvalid, pa.ArrowTypeError, TypeError, ValueError):
            pass
        if pa.types.is_string(typ.value_type):
            return _string_lists(values)
        return _float_lists(values)
    raise TypeError(f"no conversion to {typ}")  # pragma: no cover


def to_arrow(df: pd.DataFrame, schema: pa.Schema) -> pa.Table:
    """The frame's columns named in ``schema`` as an Arrow table of exactly that schema
    (columns the frame lacks are all null)."""
    arrays = []
    n = len(df)
    for f in schema:
        if f.name in df.columns:
            arrays.append(column_to_arrow(df[f.name], f.type))
        else:
            arrays.append(pa.nulls(n, type=f.type))
    return pa.Table.from_arrays(arrays, schema=schema)


# ----------------------------------------------------------------------------- arrow -> pandas


def _string_lists(arr: pa.ListArray) -> list:
    """A list<string> array as Python lists (None for null lists and items), each
    distinct string made once and shared by every list holding it (a night's tokens
    repeat a small vocabulary): the same values as ``to_pylist``, ~3x faster."""
    values = arr.values  # the whole child array; ``offsets`` index into it
    enc = pc.dictionary_encode(values)
    words = np.empty(len(enc.dictionary) + 1, dtype=object)
    words[:-1] = enc.dictionary.to_pylist()
    words[-1] = None
    objs = words[enc.indices.fill_null(len(words) - 1).to_numpy(zero_copy_only=False)]
    offs = arr.offsets.to_numpy()
    valid = arr.is_valid().to_numpy(zero_copy_only=False)
    return [objs[offs[i]:offs[i + 1]].tolist() if valid[i] else None for i in range(len(arr))]


def _list_column(arr: pa.ChunkedArray) -> list:
    t = arr.type
    if not (pa.types.is_list(t) and pa.types.is_string(t.value_type)):
        return arr.to_pylist()
    out: list = []
    for chunk in arr.chunks:
        out.extend(_string_lists(chunk))
    return out


def to_typed_pandas(table: pa.Table, name: str | None) -> pd.DataFrame:
    """Arrow rows back to the dtypes the reader returns: strings as objects (None),
    timestamps as ``datetime64[ns, UTC]``, booleans as ``boolean``, lists as Python
    lists (None), and counts as int64 when complete or Int64 otherwise.
    ``name=None`` converts the columns but leaves counts as float64."""
    cols = {}
    for f, col in zip(table.schema, table.columns, strict=True):
        t = f.type
        if pa.types.is_timestamp(t):
            s = col.cast(TS).to_pandas(coerce_temporal_nanoseconds=True)
            if getattr(s.dt, "tz", None) is None:
                s = s.dt.tz_localize("UTC")
            cols[f.name] = s.astype("datetime64[ns, UTC]")
        elif pa.types.is_boolean(t):
            cols[f.name] = pd.Series(col.to_pandas(), dtype="object").astype("boolean")
        elif pa.types.is_list(t):
            cols[f.name] = pd.Series(_list_column(col), dtype=object)
        elif pa.types.is_string(t) or pa.types.is_large_string(t):
            s = col.to_pandas()
            cols[f.name] = s.astype(object).where(s.notna(), None)
        else:
            cols[f.name] = col.to_pandas()
    df = pd.DataFrame(cols, index=pd.RangeIndex(table.num_rows))
    if name is not None and name in C.TABLES:
        df = finalise_dtypes(name, df)
    return df


def empty_quarantine() -> pd.DataFrame:
    return pd.DataFrame({
        "table": pd.Series([], dtype=object), "source": pd.Series([], dtype=object),
        "row_number": pd.Series([], dtype="int64"), "key": pd.Series([], dtype=object),
        "reason": pd.Series([], dtype=object), "raw": pd.Series([], dtype=object),
    })
