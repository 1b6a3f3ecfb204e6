"""The local engine: counts that add up, the reader's decisions on every bad row,
chunk invariance, reruns that replace, the output's shape and the CLI."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest
import scoring_helpers as H

from fakeugc.io import read_exports
from fakeugc.io.writer import is_complete
from fakeugc.scoring import ScoreConfig, ScoringError, load_score_config, score_export
from fakeugc.scoring.schema import SCORES_SCHEMA

KEY = ["table", "row_number", "key", "reason"]


def _score(export, out, bundle, **cfg):
    cfg.setdefault("workers", 0)
    return score_export(export, ScoreConfig(**cfg), out=out, bundle=bundle, model_info=H.MODEL)


def _same(a: pd.DataFrame, b: pd.DataFrame, tol: float = 0.0):
    assert list(a["post_id"]) == list(b["post_id"])
    assert (a["flagged"] == b["flagged"]).all()
    np.testing.assert_allclose(a["probability"], b["probability"], rtol=0, atol=tol)
    for col in ("reasons", "reason_features", "brand_ids"):
        assert [list(x) for x in a[col]] == [list(x) for x in b[col]], col
    for col in ("cluster_id", "family_contrib", "account_id", "title", "export_date",
                "model_version"):
        assert a[col].astype(str).tolist() == b[col].astype(str).tolist(), col
    for col in ("curve", "account_usual_curve"):
        for x, y in zip(a[col], b[col], strict=True):
            assert (x is None) == (y is None), col
            if x is not None:
                np.testing.assert_allclose(x, y, rtol=0, atol=tol)


def test_every_kind_of_bad_row_is_counted(tmp_path, ctx_bundle):
    export = H.bad_export(tmp_path / "export_date=2026-11-24")
    m = _score(export, tmp_path / "out", ctx_bundle, chunk_size=7)
    tables = m["tables"]
    for name, t in tables.items():
        assert t["read"] == t["used"] + t["set_aside"], name
        assert sum(t["reasons"].values()) == t["set_aside"], name
    assert tables["posts"]["scored"] == tables["posts"]["used"]
    reasons = {r.split(":")[0] for t in tables.values() for r in t["reasons"]}
    assert {"malformed_row", "duplicate_key", "empty_required", "bad_timestamp",
            "negative_count", "unknown_post", "no_counts"} <= reasons

    # the same decisions as the whole-export reader, row by row
    ref = read_exports([export])
    for name, st in ref.stats.items():
        assert (tables[name]["read"], tables[name]["used"], tables[name]["set_aside"]) == \
            (st.read, st.used, st.set_aside), name
    q = pd.read_parquet(tmp_path / "out" / "quarantine.parquet")
    assert q.groupby("table").size().to_dict() == \
        {k: v["set_aside"] for k, v in tables.items() if v["set_aside"]}
    mine = q[KEY].sort_values(KEY[:2]).reset_index(drop=True)
    theirs = ref.quarantine[KEY].sort_values(KEY[:2]).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs, check_dtype=False)
    scores = H.read_scores(tmp_path / "out")
    assert sorted(scores["post_id"]) == sorted(ref.posts["post_id"])
    # the first of two rows with one post_id is the one scored
    assert "dup same author" not in set(scores["title"])
    assert "dup other" not in set(scores["title"])


def test_output_columns_stamps_and_manifest(tmp_path, bundle):
    export = H.write_export(H.make_tables(150, seed=3), tmp_path / "export_date=2026-11-24")
    out = tmp_path / "scored"
    m = _score(export, out, bundle, chunk_size=40)
    assert is_complete(out)
    assert pq.read_schema(out / "scores.parquet").remove_metadata() == SCORES_SCHEMA
    s = pd.read_parquet(out / "scores.parquet")
    assert len(s) == 150 and s["post_id"].is_unique
    assert set(s["model_name"]) == {"stand-in"} and set(s["model_version"]) == {"7"}
    assert set(s["model_run_id"]) == {"run-stand-in"} and s["scored_at"].nunique() == 1
    assert set(s["export_date"]) == {"2026-11-24"}
    fl = s[s["flagged"]]
    assert 0 < len(fl) < len(s)
    assert (s["flagged"] == (s["probability"] >= s["threshold"])).all()
    assert fl["reasons"].map(len).gt(0).all()
    assert s.loc[~s["flagged"], "reasons"].map(len).eq(0).all()
    assert fl["curve"].notna().all() and s.loc[~s["flagged"], "curve"].isna().all()
    assert s.loc[~s["flagged"], "account_usual_curve"].isna().all()
    # the usual curve is the hour-by-hour median of the account's other posts
    exp = H.make_tables(150, seed=3)["exposure"]
    posts = s.set_index("post_id")
    row = fl[fl["account_usual_curve"].notna()].iloc[0]
    others = posts.index[(posts["account_id"] == row["account_id"])
                         & (posts.index != row["post_id"])]
    mat = np.full((len(others), 72), np.nan)
    for i, pid in enumerate(others):
        c = exp[exp["post_id"] == pid]
        mat[i, : c["hour"].max() + 1] = 0
        mat[i, c["hour"].to_numpy()] = c["impressions"].to_numpy()
    last = int(np.flatnonzero(~np.isnan(mat).all(axis=0)).max()) + 1
    np.testing.assert_allclose(row["account_usual_curve"], np.nanmedian(mat[:, :last], axis=0))
    own = exp[exp["post_id"] == row["post_id"]].sort_values("hour")
    np.testing.assert_allclose(row["curve"], own["impressions"].to_numpy())
    # brand ids: the tags (the stand-in has no brand terms)
    tags = H.make_tables(150, seed=3)["posts"].set_index("post_id")["brand_tags"]
    assert all(sorted(b) == sorted(set(tags[p])) for p, b in zip(s["post_id"], s["brand_ids"],
                                                                strict=True))
    # the manifest
    assert m == H.manifest(out)
    assert m["model"]["version"] == "7" and m["model"]["run_id"] == "run-stand-in"
    assert m["model"]["threshold"] == pytest.approx(bundle.threshold)
    assert m["code_version"] and m["chunk_size"] == 40 and m["buckets"] >= 4
    assert {i["table"] for i in m["inputs"]} == {"posts", "accounts", "exposure", "reports",
                                                  "brands", "labels"}
    assert all(len(i["sha256"]) == 64 for i in m["inputs"])
    assert m["posts_flagged"] == len(fl)
    assert {"total_s", "prepare_s", "score_s"} <= set(m["timings"])
    drift = json.loads((out / "drift.json").read_text())
    assert "score" in drift["psi"] and "content" in drift["psi"]
    assert set(drift["features"]) == set(bundle.feature_names)
    # the label-free estimate: what the calibrated probabilities expect of the flags
    est = drift["estimate"]
    assert est["posts"] == len(s) and est["flagged"] == len(fl)
    assert est["expected_precision"] == pytest.approx(fl["probability"].mean(), abs=1e-6)


def test_chunk_size_does_not_change_the_output(tmp_path, ctx_bundle):
    export = H.bad_export(tmp_path / "export_date=2026-11-24", n_posts=90)
    a = _score(export, tmp_path / "a", ctx_bundle, chunk_size=7)
    b = _score(export, tmp_path / "b", ctx_bundle, chunk_size=10_000)
    assert a["buckets"] > 5 and b["buckets"] == 1
    assert a["tables"] == b["tables"]
    _same(H.read_scores(tmp_path / "a"), H.read_scores(tmp_path / "b"))
    qa = pd.read_parquet(tmp_path / "a" / "quarantine.parquet").sort_values(KEY[:2])
    qb = pd.read_parquet(tmp_path / "b" / "quarantine.parquet").sort_values(KEY[:2])
    pd.testing.assert_frame_equal(qa.reset_index(drop=True), qb.reset_index(drop=True))
    da = json.loads((tmp_path / "a" / "drift.json").read_text())
    db = json.loads((tmp_path / "b" / "drift.json").read_text())
    assert da == db


@pytest.mark.slow
def test_worker_pool_gives_the_same_output(tmp_path, ctx_bundle):
    export = H.bad_export(tmp_path / "export_date=2026-11-24", n_posts=90)
    a = _score(export, tmp_path / "a", ctx_bundle, chunk_size=7, workers=0)
    b = _score(export, tmp_path / "b", ctx_bundle, chunk_size=7, workers=2)
    assert b["workers"] == 2 and a["tables"] == b["tables"]
    _same(H.read_scores(tmp_path / "a"), H.read_scores(tmp_path / "b"))


@pytest.mark.slow
def test_night_context_in_its_own_process_gives_the_same_output(tmp_path, monkeypatch):
    """The families' contexts are computed one family at a time from Arrow-backed keys:
    on small nights the heavy one (coordination) in one pool worker beside the others in
    the other, on big ones all in a process of their own; each bucket joins its rows of
    every family when it is scored. The output equals the single-process run's."""
    import fakeugc.scoring.local as local

    bundle = H.make_bundle(families=("exposure", "account", "coordination", "feedback"))
    export = H.bad_export(tmp_path / "export_date=2026-11-24", n_posts=90)
    a = _score(export, tmp_path / "a", bundle, chunk_size=7, workers=0)
    b = _score(export, tmp_path / "b", bundle, chunk_size=7, workers=2)
    monkeypatch.setattr(local, "ISOLATE_CONTEXT_POSTS", 1)
    c = _score(export, tmp_path / "c", bundle, chunk_size=7, workers=2)
    assert a["tables"] == b["tables"] == c["tables"]
    for other in ("b", "c"):
        _same(H.read_scores(tmp_path / "a"), H.read_scores(tmp_path / other))
        assert json.loads((tmp_path / "a" / "drift.json").read_text()) == \
            json.loads((tmp_path / other / "drift.json").read_text())


def test_family_contexts_cut_by_bucket_equal_the_joined_night_context(ctx_bundle):
    """Per family and bucket (the local engine) or joined night-wide first (Spark,
    :func:`night_context`): each bucket gets the same context rows, whatever the order
    of the posts in the file and in the buckets."""
    import pyarrow as pa

    from fakeugc.features._frame import build_post_frame
    from fakeugc.features._pipeline import context_keys, family_context, join_contexts
    from fakeugc.scoring.bucket import (
        context_by_bucket,
        context_params,
        frame_to_arrow,
        iter_family_context_by_bucket,
        keys_for_context,
        night_context,
        tokenize_posts,
    )

    tables = H.make_tables(n_posts=120, seed=3)
    tables["posts"] = tokenize_posts(ctx_bundle, tables["posts"])
    frame = build_post_frame(tables)
    # coordination too (its context is order-free, indexed by sorted post id; default
    # parameters here), beside the bundle's families
    families = ("exposure", "account", "coordination", "feedback")
    keys = context_keys(frame, families, pipeline=ctx_bundle.pipeline)
    assert set(keys) == set(families)
    rng = np.random.default_rng(0)
    bucket = rng.integers(0, 5, len(frame))
    row = rng.permutation(len(frame)).astype("int64")  # file order differs from frame order
    pos = pd.Index(frame["post_id"])
    parts, tables_by_family = {}, {}
    for family, k in keys.items():
        k = k.reset_index(drop=True)
        i = pos.get_indexer(k["post_id"])
        k = k.assign(__row=row[i], __bucket=np.int32(0) + bucket[i].astype("int32"))
        by_b = [k[k["__bucket"] == b] for b in range(5)]
        parts[family] = [x.reset_index(drop=True) for x in by_b]
        tables_by_family[family] = pa.concat_tables([frame_to_arrow(x) for x in by_b])
    context, where = night_context({f: list(v) for f, v in parts.items()}, ctx_bundle)
    expected = context_by_bucket(context, where)
    params = context_params(ctx_bundle, tuple(keys))
    got: dict[int, list] = {}
    for family, table in tables_by_family.items():
        k, buckets = keys_for_context(table, family)
        ctx = family_context(family, k, params[family])
        for b, sl in iter_family_context_by_bucket(ctx, k["post_id"].array, buckets):
            got.setdefault(b, []).append(sl.set_index("post_id"))
    assert set(got) == set(expected)
    for b, sl in expected.items():
        mine = join_contexts(got[b])
        theirs = sl.set_index("post_id")
        assert list(mine.columns) == list(theirs.columns)
        pd.testing.assert_frame_equal(mine.loc[theirs.index], theirs, check_names=False)


def test_rerun_replaces_instead_of_appending(tmp_path, bundle):
    export = H.write_export(H.make_tables(80, seed=5), tmp_path / "export_date=2026-11-24")
    out = tmp_path / "out"
    m1 = _score(export, out, bundle, chunk_size=16)
    first = H.read_scores(out)
    m2 = _score(export, out, bundle, chunk_size=16)
    second = H.read_scores(out)
    assert len(second) == 80 and m2["tables"]["posts"]["scored"] == 80
    assert m1["scored_at"] != m2["scored_at"]
    _same(first, second)
    assert sorted(p.name for p in tmp_path.iterdir()) == [".out.lock", "export_date=2026-11-24",
                                                           "out"]


def test_parts_csv_and_export_date_from_posts(tmp_path, bundle):
    t = H.make_tables(70, seed=8)
    folder = tmp_path / "night"  # no export_date= in the name: the posts' date is used
    H.write_export({k: v for k, v in t.items() if k not in ("exposure", "accounts")}, folder)
    parts = folder / "exposure"
    parts.mkdir()
    exp = t["exposure"]
    half = len(exp) // 2
    exp.iloc[:half].drop(columns=["shares"]).to_parquet(parts / "part-0000.parquet")
    exp.iloc[half:].to_parquet(parts / "part-0001.parquet")
    H.write_csv(t["accounts"], folder / "accounts.csv")
    m = score_export(folder, ScoreConfig(chunk_size=9, workers=0,
                                         out=str(tmp_path / "scored" / "export_date={date}")),
                     bundle=bundle, model_info=H.MODEL)
    assert m["export_date"] == "2026-11-24"
    assert m["output"].endswith("export_date=2026-11-24")
    ref = read_exports([folder])
    for name, st in ref.stats.items():
        assert (m["tables"][name]["read"], m["tables"][name]["used"]) == (st.read, st.used)
    assert len(H.read_scores(tmp_path / "scored" / "export_date=2026-11-24")) == 70


def test_counts_that_do_not_add_up_fail_the_run(tmp_path, bundle, monkeypatch):
    from fakeugc.scoring import local

    export = H.write_export(H.make_tables(30, seed=2), tmp_path / "export_date=2026-11-24")
    real = local.task_prepare

    def lose_an_exposure_row(*args):
        q, used = real(*args)
        return q, dict(used, exposure=used.get("exposure", 0) - 1)

    monkeypatch.setattr(local, "task_prepare", lose_an_exposure_row)
    with pytest.raises(ScoringError, match="exposure: read"):
        _score(export, tmp_path / "out", bundle, chunk_size=10)
    assert not (tmp_path / "out").exists()
    assert not list(tmp_path.glob(".out.tmp-*"))


def test_config_rejects_unknown_keys_and_args_override(tmp_path):
    from fakeugc.settings import get_settings

    cfg = load_score_config(get_settings().pipelines / "score_nightly.yaml",
                            {"chunk_size": 123, "engine": None})
    assert cfg.chunk_size == 123 and cfg.engine == "local"
    bad = tmp_path / "bad.yaml"
    bad.write_text("model: models:/x@champion\nchunk_sise: 10\n")
    with pytest.raises(ValueError, match="chunk_sise"):
        load_score_config(bad)


@pytest.mark.e2e
def test_cli_with_a_registered_model(tmp_path, bundle, capsys):
    """``fakeugc score`` resolves models:/NAME@champion once and stamps every row."""
    import mlflow

    from fakeugc.cli import main
    from fakeugc.modeling.pyfunc import FakeUGCModel, save_bundle
    from fakeugc.settings import get_settings

    mlflow.set_tracking_uri(get_settings().tracking_uri)
    pkl = save_bundle(bundle, tmp_path / "b")
    with mlflow.start_run() as run:
        info = mlflow.pyfunc.log_model(name="model", python_model=FakeUGCModel(),
                                       artifacts={"bundle": str(pkl)},
                                       pip_requirements=["fakeugc"],
                                       registered_model_name="fakeugc-test")
    client = mlflow.MlflowClient()
    client.set_registered_model_alias("fakeugc-test", "champion", info.registered_model_version)
    export = H.write_export(H.make_tables(40, seed=4), tmp_path / "export_date=2026-11-24")
    out = tmp_path / "scored"
    rc = main(["score", str(export), "--model", "models:/fakeugc-test@champion", "--out",
               str(out), "--chunk-size", "15", "--workers", "0", "--json"])
    assert rc == 0
    m = json.loads(capsys.readouterr().out.strip().splitlines()[-1])
    s = pd.read_parquet(out / "scores.parquet")
    assert set(s["model_version"]) == {str(info.registered_model_version)}
    assert set(s["model_run_id"]) == {run.info.run_id}
    assert set(s["model_name"]) == {"fakeugc-test"}
    assert m["model"]["resolved_uri"] == f"models:/fakeugc-test/{info.registered_model_version}"


def test_an_export_of_posts_only(tmp_path, bundle):
    """Only posts is required: the other tables' signals are missing, not invented."""
    t = H.make_tables(25, seed=9)
    export = tmp_path / "export_date=2026-11-24"
    export.mkdir()
    H.write_csv(t["posts"], export / "posts.csv")
    m = _score(export, tmp_path / "out", bundle, chunk_size=10)
    assert set(m["tables"]) == {"posts"}
    s = H.read_scores(tmp_path / "out")
    assert len(s) == 25
    assert s["curve"].isna().all() and s["account_usual_curve"].isna().all()


# ----------------------------------------------------------------------------- Arrow fast path

from hypothesis import given, settings  # noqa: E402
from hypothesis import strategies as hst  # noqa: E402


@settings(max_examples=150, deadline=None)
@given(
    ids=hst.lists(hst.sampled_from(["p1", "p2", "", " ", "\xa0", "\u3000x", "x y", None]),
                 min_size=0, max_size=12),
    counts=hst.lists(hst.one_of(hst.none(), hst.integers(-2, 5), hst.just(2**60)),
                    min_size=12 * 6, max_size=12 * 6),
    drop_col=hst.sampled_from([None, "likes", "hour"]),
    offset=hst.integers(0, 1000),
)
def test_arrow_fast_path_is_never_more_lenient_than_the_reader(ids, counts, drop_col, offset):
    """When the Arrow checks accept a Parquet chunk, the reader's row rules accept every
    row of it too and type it to the same values; otherwise the pandas path decides."""
    import pyarrow as pa

    from fakeugc.scoring.ingest import TableSource, arrow_clean, validate
    from fakeugc.scoring.schema import ROW, table_schema, to_arrow

    n = len(ids)
    cols = {"post_id": pa.array(ids, pa.string())}
    for k, c in enumerate(["hour", "impressions", "likes", "collects", "comments", "shares"]):
        cols[c] = pa.array(counts[k * 12:k * 12 + n], pa.int64())
    if drop_col:
        del cols[drop_col]
    table = pa.table(cols)
    got = arrow_clean("exposure", table, offset)
    src = TableSource("exposure", "parquet", [], list(table.column_names), n)
    raw = table.to_pandas()
    raw[ROW] = np.arange(offset, offset + n, dtype="int64")
    chunk = validate(src, raw, [], False, "x")
    if got is None:
        return
    assert len(chunk.quarantine) == 0
    want = to_arrow(chunk.good, table_schema("exposure"))
    assert got.equals(want)


def test_exposure_with_integer_counts_takes_the_arrow_path_with_the_same_decisions(
        tmp_path, ctx_bundle, monkeypatch):
    """Integer-typed exposure (the fast path) with unknown posts and bad rows: the same
    counts and quarantine as the reader, and the same scores as the pandas path."""
    import fakeugc.scoring.ingest as ingest

    t = H.make_tables(80, seed=5)
    exp = t["exposure"].copy()
    ghost = exp.iloc[:3].assign(post_id="p_ghost")
    neg = exp.iloc[[4]].assign(hour=70, impressions=-1)
    # unknown posts inside a clean chunk (Arrow path), a negative count in the last one
    exp = pd.concat([exp.iloc[:10], ghost, exp.iloc[10:], neg], ignore_index=True)
    for c in ["hour", "impressions", "likes", "collects", "comments", "shares"]:
        exp[c] = exp[c].astype("int64")
    folder = H.write_export(t, tmp_path / "export_date=2026-11-24")
    exp.to_parquet(folder / "exposure.parquet", index=False)
    calls = []
    real = ingest.arrow_clean
    monkeypatch.setattr(ingest, "arrow_clean",
                        lambda *a: calls.append(r := real(*a)) or r)
    m = _score(folder, tmp_path / "fast", ctx_bundle, chunk_size=7)
    assert any(c is not None for c in calls) and any(c is None for c in calls)
    ref = read_exports([folder])
    for name, st_ in ref.stats.items():
        tb = m["tables"][name]
        assert (tb["read"], tb["used"], tb["set_aside"]) == (st_.read, st_.used, st_.set_aside)
    q = pd.read_parquet(tmp_path / "fast" / "quarantine.parquet")
    mine = q[KEY].sort_values(KEY[:2]).reset_index(drop=True)
    theirs = ref.quarantine[KEY].sort_values(KEY[:2]).reset_index(drop=True)
    pd.testing.assert_frame_equal(mine, theirs, check_dtype=False)
    monkeypatch.setattr(ingest, "arrow_clean", lambda *a: None)
    _score(folder, tmp_path / "slow", ctx_bundle, chunk_size=7)
    _same(H.read_scores(tmp_path / "fast"), H.read_scores(tmp_path / "slow"))
    q2 = pd.read_parquet(tmp_path / "slow" / "quarantine.parquet")
    pd.testing.assert_frame_equal(q.sort_values(KEY[:2]).reset_index(drop=True),
                                  q2.sort_values(KEY[:2]).reset_index(drop=True))
