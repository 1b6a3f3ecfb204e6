"""The export reader: every form, every kind of bad row, and the counting invariant."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from fakeugc.cli import main
from fakeugc.io import ContractError, read_export
from shared_paths import benchmark_path


def _invariant(export):
    for name, s in export.stats.items():
        assert s.read == s.used + s.set_aside, name
        assert s.used == len(export.tables[name]), name
        assert s.set_aside == int((export.quarantine["table"] == name).sum()), name
        assert sum(s.reasons.values()) == s.set_aside


def _small_export(tmp_path: Path) -> Path:
    d = tmp_path / "export"
    d.mkdir()
    posts = pd.DataFrame(
        {
            "post_id": ["p1", "p2", "p3"],
            "account_id": ["a1", "a1", "a2"],
            "published_at": pd.to_datetime(
                ["2026-11-24T08:30:00Z", "2026-11-24T09:00:00Z", "2026-11-24T10:00:00Z"], utc=True
            ),
            "title": ["标题", "", "t"],
            "body": ["第一次用雅诗兰黛 #护肤# @小红薯", "绝了😊", ""],
            "brand_tags": [["b1"], [], ["b1", "b2"]],
            "disclosed_partnership": [False, True, False],
            "image_count": [3, 0, 1],
        }
    )
    posts.to_parquet(d / "posts.parquet")
    pd.DataFrame(
        {
            "account_id": ["a1", "a2"],
            "created_at": pd.to_datetime(["2020-01-01", "2026-11-01"], utc=True),
            "followers": [1200, 3],
            "following": [100, 400],
            "posts_total": [80, 2],
            "verified": [False, False],
            "device_cluster": ["d1", "d2"],
        }
    ).to_parquet(d / "accounts.parquet")
    pd.DataFrame(
        {"post_id": ["p1", "p1", "p2"], "hour": [0, 1, 0], "impressions": [10, 5, 7],
         "likes": [1, 0, 2]}
    ).to_parquet(d / "exposure.parquet")
    pd.DataFrame(
        {"brand_id": ["b1", "b2"], "name": ["雅诗兰黛", "兰蔻"],
         "aliases": [["Estee Lauder", "EL"], ["Lancome"]]}
    ).to_parquet(d / "brands.parquet")
    return d


def _to_csv(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for f in src.glob("*.parquet"):
        df = pd.read_parquet(f)
        for c in df.columns:
            if df[c].map(lambda v: isinstance(v, list | np.ndarray)).any():
                df[c] = df[c].map(lambda v: "|".join(v))
            elif pd.api.types.is_datetime64_any_dtype(df[c]):
                df[c] = df[c].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
            elif pd.api.types.is_bool_dtype(df[c]):
                df[c] = df[c].map({True: "true", False: "false"})
        df.to_csv(dst / f"{f.stem}.csv", index=False)
    return dst


def _to_parts(src: Path, dst: Path) -> Path:
    dst.mkdir(parents=True)
    for f in src.glob("*.parquet"):
        t = pq.read_table(f)
        (dst / f.stem).mkdir()
        half = max(1, t.num_rows // 2)
        pq.write_table(t.slice(0, half), dst / f.stem / "part-0000.parquet")
        pq.write_table(t.slice(half), dst / f.stem / "part-0001.parquet")
    return dst


def _comparable(df: pd.DataFrame) -> pd.DataFrame:
    out = df.copy()
    for c in out.columns:
        out[c] = out[c].map(lambda v: tuple(v) if isinstance(v, list) else v)
    return out.astype(object).where(out.notna(), None)


def test_three_forms_read_the_same(tmp_path):
    src = _small_export(tmp_path)
    forms = [src, _to_csv(src, tmp_path / "csv"), _to_parts(src, tmp_path / "parts")]
    exports = [read_export(f) for f in forms]
    for e in exports:
        _invariant(e)
        assert all(s.set_aside == 0 for s in e.stats.values())
        assert set(e.tables) == {"posts", "accounts", "exposure", "brands"}
    for name in exports[0].tables:
        a = _comparable(exports[0].tables[name])
        for other in exports[1:]:
            b = _comparable(other.tables[name])
            pd.testing.assert_frame_equal(a, b, check_dtype=False)
    posts = exports[1].posts
    assert str(posts["published_at"].dtype) == "datetime64[ns, UTC]"
    assert posts["brand_tags"].iloc[2] == ["b1", "b2"]
    assert posts["brand_tags"].iloc[1] == []
    assert posts["disclosed_partnership"].tolist() == [False, True, False]


def test_absent_optional_columns_are_missing_not_invented(tmp_path):
    d = tmp_path / "e"
    d.mkdir()
    pd.DataFrame({"post_id": ["x"], "account_id": ["a"], "published_at": ["2026-01-01T00:00:00Z"],
                  "title": [""], "body": ["hi"]}).to_csv(d / "posts.csv", index=False)
    e = read_export(d)
    assert e.posts["disclosed_partnership"].isna().all()
    assert e.posts["image_count"].isna().all()
    assert e.get("accounts") is None


@pytest.mark.parametrize("table,column", [("posts", "body"), ("accounts", "followers"),
                                          ("exposure", "hour"), ("labels", "label")])
def test_missing_required_column_names_it(tmp_path, table, column, capsys):
    src = _small_export(tmp_path)
    pd.DataFrame({"post_id": ["p1"], "label": [1]}).to_parquet(src / "labels.parquet")
    df = pd.read_parquet(src / f"{table}.parquet").drop(columns=[column])
    df.to_parquet(src / f"{table}.parquet")
    with pytest.raises(ContractError, match=rf"table {table}.*'{column}'"):
        read_export(src)
    assert main(["validate", str(src)]) == 2
    err = capsys.readouterr().err
    assert table in err and column in err and "Traceback" not in err


def test_missing_posts_table(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    with pytest.raises(ContractError, match="posts"):
        read_export(tmp_path / "empty")
    assert main(["validate", str(tmp_path / "empty")]) == 2


def test_exposure_needs_a_count_column(tmp_path):
    src = _small_export(tmp_path)
    pd.DataFrame({"post_id": ["p1"], "hour": [0]}).to_parquet(src / "exposure.parquet")
    with pytest.raises(ContractError, match="exposure"):
        read_export(src)


def test_every_kind_of_bad_row_is_set_aside_with_its_reason(tmp_path):
    """A copy of a real export corrupted in every way the contract lists."""
    ced = benchmark_path("ced-weibo-rumour")
    bad = tmp_path / "bad"
    bad.mkdir()
    posts = pd.read_parquet(ced / "posts.parquet")
    accounts = pd.read_parquet(ced / "accounts.parquet")
    exposure = pd.read_parquet(ced / "exposure.parquet")
    labels = pd.read_parquet(ced / "labels.parquet")
    # posts as CSV so timestamps can be unparseable
    p = posts.copy()
    p["published_at"] = p["published_at"].dt.strftime("%Y-%m-%dT%H:%M:%SZ")
    p.loc[0, "post_id"] = ""  # missing required value
    p.loc[1, "published_at"] = "not a time"  # unparseable timestamp
    p.loc[2, "image_count"] = -3  # negative count
    p = pd.concat([p, p.iloc[[5]]], ignore_index=True)  # duplicate post_id
    p.to_csv(bad / "posts.csv", index=False)
    with open(bad / "posts.csv", "a", encoding="utf-8") as f:
        f.write('"only","three","fields"\n')  # malformed row
    a = accounts.copy()
    a.loc[0, "followers"] = -1
    a.to_parquet(bad / "accounts.parquet")
    e = exposure.copy()
    e.loc[0, "post_id"] = "no-such-post"  # exposure row for an unknown post
    e.loc[1, "shares"] = -5
    e.to_parquet(bad / "exposure.parquet")
    labels.loc[0, "label"] = 7
    labels.to_parquet(bad / "labels.parquet")

    export = read_export(bad)
    _invariant(export)
    r = export.stats["posts"].reasons
    assert r["empty_required:post_id"] == 1
    assert r["bad_timestamp:published_at"] == 1
    assert r["negative_count:image_count"] == 1
    assert r["duplicate_key:post_id"] == 1
    assert r["malformed_row"] == 1
    assert export.stats["posts"].read == len(posts) + 2
    assert export.stats["posts"].used == len(posts) - 3
    assert export.stats["accounts"].reasons == {"negative_count:followers": 1}
    er = export.stats["exposure"].reasons
    assert er["unknown_post:post_id"] >= 1 and er["negative_count:shares"] == 1
    # rows of posts that were set aside make their exposure rows unknown too: nothing vanishes
    assert export.stats["exposure"].read == len(exposure)
    assert export.stats["labels"].reasons["bad_label:label"] == 1
    q = export.quarantine
    assert {"table", "source", "row_number", "key", "reason", "raw"} <= set(q.columns)
    row = q[q["reason"] == "bad_timestamp:published_at"].iloc[0]
    assert row["row_number"] == 1 and json.loads(row["raw"])["published_at"] == "not a time"


@pytest.mark.parametrize("name", ["ced-weibo-rumour", "weibo21"])
def test_benchmark_sets_read_clean(name):
    export = read_export(benchmark_path(name))
    _invariant(export)
    assert all(s.set_aside == 0 for s in export.stats.values())


def test_validate_json_and_folder_of_exports(tmp_path, capsys):
    src = _small_export(tmp_path)
    root = tmp_path / "raw"
    shutil.copytree(src, root / "export_date=2026-11-23")
    shutil.copytree(src, root / "export_date=2026-11-24")
    assert main(["validate", "--json", str(root), "--quarantine", str(tmp_path / "q.parquet")]) == 0
    out = json.loads(capsys.readouterr().out)
    # the same posts twice: the second day's copies are duplicates, set aside, not lost
    assert out["tables"]["posts"] == {"read": 6, "used": 3, "set_aside": 3,
                                      "reasons": {"duplicate_key:post_id": 3}}
    assert len(out["exports"]) == 2
    assert len(pd.read_parquet(tmp_path / "q.parquet")) == sum(
        t["set_aside"] for t in out["tables"].values())


def test_unreadable_parquet_is_a_clear_error(tmp_path):
    src = _small_export(tmp_path)
    (src / "accounts.parquet").write_bytes(b"PAR1 this is not parquet")
    with pytest.raises(ContractError, match="accounts"):
        read_export(src)


# ----------------------------------------------------------------------------- property-based

cell = st.one_of(
    st.text(max_size=12),
    st.sampled_from(["", " ", "-1", "1.5", "1e400", "NaN", "true", "2026-13-45", "0", "3",
                     "2026-11-24T08:30:00Z", "2026-11-24 08:30", "null", "\u200b", "|", "a|b"]),
)
COLUMNS = ["post_id", "account_id", "published_at", "title", "body", "brand_tags",
           "disclosed_partnership", "image_count"]


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(rows=st.lists(st.lists(cell, min_size=6, max_size=9), max_size=25),
       exposure=st.lists(st.tuples(cell, cell, cell), max_size=15))
def test_malformed_csv_rows_never_crash_and_are_counted(tmp_path_factory, rows, exposure):
    d = tmp_path_factory.mktemp("h")
    import csv

    with open(d / "posts.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(COLUMNS)
        for r in rows:
            w.writerow(r)
    with open(d / "exposure.csv", "w", newline="", encoding="utf-8") as f:
        w = csv.writer(f)
        w.writerow(["post_id", "hour", "likes"])
        for r in exposure:
            w.writerow(r)
    export = read_export(d)
    _invariant(export)
    n_rows = sum(1 for r in rows if any(c.strip() for c in r))
    assert export.stats["posts"].read == n_rows
    posts = export.posts
    assert posts["post_id"].is_unique
    assert posts["published_at"].notna().all()
    assert (posts["image_count"].dropna() >= 0).all()


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(data=st.data())
def test_typed_parquet_with_wrong_types_never_crashes(tmp_path_factory, data):
    n = data.draw(st.integers(0, 12))
    col = lambda strat: data.draw(st.lists(strat, min_size=n, max_size=n))  # noqa: E731
    table = pa.table({
        "post_id": col(st.one_of(st.none(), st.text(max_size=4))),
        "account_id": col(st.one_of(st.none(), st.integers(-5, 5))),
        "published_at": col(st.one_of(st.none(), st.datetimes(timezones=st.none()))),
        "title": col(st.one_of(st.none(), st.text(max_size=5))),
        "body": col(st.text(max_size=20)),
        "image_count": col(st.one_of(st.none(), st.floats(allow_nan=True))),
        "disclosed_partnership": col(st.one_of(st.none(), st.booleans())),
    })
    d = tmp_path_factory.mktemp("p")
    pq.write_table(table, d / "posts.parquet")
    export = read_export(d)
    _invariant(export)
    assert export.stats["posts"].read == n


@settings(max_examples=30, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture])
@given(blob=st.binary(max_size=200))
def test_garbage_files_give_a_contract_error_or_a_count(tmp_path_factory, blob):
    d = tmp_path_factory.mktemp("g")
    (d / "posts.csv").write_bytes(blob)
    try:
        export = read_export(d)
    except ContractError as e:
        assert "posts" in str(e)
    else:
        _invariant(export)
