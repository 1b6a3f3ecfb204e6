"""The analysts' store: verdicts, the append-only audit log, verdicts as labels."""

from __future__ import annotations

import sqlite3

import pandas as pd
import pytest

from fakeugc.io import read_export
from fakeugc.reports import store as S
from fakeugc.reports.store import PostContext, verdicts_as_labels
from fakeugc.settings import get_settings


def _ctx(pid="p1", **kw):
    base = dict(
        account_id="a1",
        brand_ids=("b1",),
        disclosed_partnership=False,
        model_name="m",
        model_version="3",
        model_run_id="r",
        probability=0.9,
        export_date="2026-11-24",
        published_at="2026-11-24T08:00:00+00:00",
    )
    base.update(kw)
    return PostContext(post_id=pid, **base)


def test_store_path_comes_from_settings(tmp_path):
    # tests/conftest.py points FAKEUGC_STORE at this test's folder
    assert S.resolve_store_path() == get_settings().store_path.absolute()
    assert S.resolve_store_path().parent == tmp_path
    assert S.resolve_store_path(tmp_path / "x.sqlite") == tmp_path / "x.sqlite"


def test_no_store_means_empty_labels_and_no_file_created(tmp_path):
    labels = verdicts_as_labels()
    assert list(labels.columns) == ["post_id", "label", "labelled_at", "fraud_type", "split"]
    assert len(labels) == 0
    assert str(labels["labelled_at"].dtype) == "datetime64[ns, UTC]"
    assert not S.resolve_store_path().exists()
    assert S.connect_readonly() is None


def test_verdicts_and_audit(tmp_path):
    conn = S.connect()
    assert S.record_verdict(conn, _ctx(), "confirm", reviewer="alice", note="template text")
    # the same verdict again: nothing changes, no audit entry
    assert not S.record_verdict(conn, _ctx(), "confirm", reviewer="alice", note="template text")
    assert S.record_verdict(conn, _ctx("p2"), "clear", reviewer="bob")
    assert S.record_verdict(conn, _ctx(), "clear", reviewer="carol", note="own purchase")
    v = S.get_verdict(conn, "p1")
    assert v["verdict"] == "clear" and v["reviewer"] == "carol" and v["brand_ids"] == ["b1"]
    assert v["model_version"] == "3" and v["export_date"] == "2026-11-24"
    log = S.audit_entries(conn, post_id="p1")
    assert [e["action"] for e in log] == ["verdict", "verdict_changed"]
    assert log[1]["details"]["previous"]["verdict"] == "confirm"
    assert log[1]["actor"] == "carol" and log[1]["model_version"] == "3"
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("UPDATE audit_log SET actor = 'mallory'")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        conn.execute("DELETE FROM audit_log")
    with pytest.raises(S.StoreError):
        S.record_verdict(conn, _ctx(), "maybe", reviewer="x")
    conn.close()


def test_verdicts_as_labels_shape(tmp_path):
    conn = S.connect()
    S.record_verdict(conn, _ctx("p2"), "confirm", reviewer="a", at="2026-11-25T09:00:00Z")
    S.record_verdict(conn, _ctx("p1"), "clear", reviewer="a", at="2026-11-25T10:00:00Z")
    conn.close()
    labels = verdicts_as_labels(S.resolve_store_path())
    assert labels["post_id"].tolist() == ["p1", "p2"]
    assert labels["label"].tolist() == [0, 1] and labels["label"].dtype == "int64"
    assert labels["fraud_type"].tolist() == ["", "analyst_confirmed"]
    assert labels["split"].tolist() == ["", ""]
    assert labels["labelled_at"].iloc[1] == pd.Timestamp("2026-11-25T09:00:00Z")


def test_labels_pass_the_export_reader(tmp_path):
    """What training reads: the labels file is a valid contract ``labels`` table."""
    conn = S.connect()
    S.record_verdict(conn, _ctx("p1"), "confirm", reviewer="a")
    S.record_verdict(conn, _ctx("p2"), "clear", reviewer="a")
    conn.close()
    export = tmp_path / "export"
    export.mkdir()
    pd.DataFrame(
        {
            "post_id": ["p1", "p2"],
            "account_id": ["a", "b"],
            "published_at": pd.to_datetime(["2026-11-24T08:00Z"] * 2, utc=True),
            "title": ["", ""],
            "body": ["x", "y"],
        }
    ).to_parquet(export / "posts.parquet")
    verdicts_as_labels().to_parquet(export / "labels.parquet")
    e = read_export(export)
    assert e.stats["labels"].set_aside == 0
    assert sorted(e.tables["labels"]["label"].tolist()) == [0, 1]


def test_newer_schema_is_refused(tmp_path):
    path = tmp_path / "future.sqlite"
    c = sqlite3.connect(path)
    c.execute("PRAGMA user_version = 99")
    c.close()
    with pytest.raises(S.StoreError, match="newer"):
        S.connect(path)
