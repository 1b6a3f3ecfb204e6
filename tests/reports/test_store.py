"""The analysts' store: verdicts, the append-only audit log, verdicts as labels."""

from __future__ import annotations

import sqlite3
import tempfile
from pathlib import Path

import pandas as pd
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

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
    assert list(labels.columns) == [
        "post_id",
        "label",
        "labelled_at",
        "fraud_type",
        "split",
        "hard_case",
    ]
    assert list(labels.columns) == S.LABEL_COLUMNS
    assert len(labels) == 0
    assert str(labels["labelled_at"].dtype) == "datetime64[ns, UTC]"
    assert str(labels["label"].dtype) == "int64"
    assert all(labels[c].dtype == object for c in ("post_id", "fraud_type", "split", "hard_case"))
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
    assert labels["hard_case"].tolist() == ["", ""]
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


# --------------------------------------------------------------------------- why a post is genuine

#: the version-1 verdicts table exactly as the first release created it (the other
#: tables did not change)
V1_VERDICTS = """
CREATE TABLE verdicts (
    post_id               TEXT PRIMARY KEY NOT NULL CHECK (post_id <> ''),
    verdict               TEXT NOT NULL CHECK (verdict IN ('confirm', 'clear')),
    note                  TEXT NOT NULL DEFAULT '',
    reviewer              TEXT NOT NULL,
    at                    TEXT NOT NULL,
    model_name            TEXT,
    model_version         TEXT,
    model_run_id          TEXT,
    probability           REAL,
    brand_ids             TEXT NOT NULL DEFAULT '[]',
    account_id            TEXT,
    export_date           TEXT,
    published_at          TEXT,
    disclosed_partnership INTEGER CHECK (disclosed_partnership IN (0, 1))
);
CREATE TABLE violations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    brand_id      TEXT NOT NULL CHECK (brand_id <> ''),
    post_id       TEXT NOT NULL CHECK (post_id <> ''),
    status        TEXT NOT NULL CHECK (status IN ('active', 'exempt', 'revoked')),
    reason        TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    recorded_by   TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    model_name    TEXT,
    model_version TEXT,
    account_id    TEXT,
    export_date   TEXT,
    UNIQUE (brand_id, post_id)
);
CREATE INDEX violations_brand ON violations (brand_id, status, recorded_at);
CREATE TABLE audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    post_id       TEXT,
    brand_id      TEXT,
    model_version TEXT,
    export_date   TEXT,
    details       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX audit_brand ON audit_log (brand_id, id);
CREATE INDEX audit_post ON audit_log (post_id, id);
CREATE TRIGGER audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
PRAGMA user_version = 1;
"""


def _v1_store(path):
    """A real version-1 store file with two verdicts and their audit entries."""
    c = sqlite3.connect(path)
    c.executescript(V1_VERDICTS)
    c.executemany(
        "INSERT INTO verdicts (post_id, verdict, note, reviewer, at, brand_ids) "
        "VALUES (?, ?, ?, ?, ?, ?)",
        [
            ("old-fake", "confirm", "template", "alice", "2026-11-20T08:00:00.000000+00:00", '["b"]'),
            ("old-ok", "clear", "own photo", "bob", "2026-11-20T09:00:00.000000+00:00", "[]"),
        ],
    )
    c.execute(
        "INSERT INTO audit_log (at, actor, action, post_id) VALUES (?, 'alice', 'verdict', 'old-fake')",
        ("2026-11-20T08:00:00.000000+00:00",),
    )
    c.commit()
    c.close()
    return path


def test_version_1_store_is_read_as_is_then_migrated_in_place(tmp_path):
    path = _v1_store(tmp_path / "v1.sqlite")
    # read-only readers (the report, training) read an old store without touching it
    labels = verdicts_as_labels(path)
    assert labels.set_index("post_id")["hard_case"].to_dict() == {"old-fake": "", "old-ok": ""}
    ro = S.connect_readonly(path)
    assert S.get_verdict(ro, "old-ok")["genuine_group"] is None
    ro.close()
    c = sqlite3.connect(path)
    assert c.execute("PRAGMA user_version").fetchone()[0] == 1
    c.close()

    conn = S.connect(path)
    assert conn.execute("PRAGMA user_version").fetchone()[0] == S.SCHEMA_VERSION == 2
    # the verdicts and the audit log are kept
    assert [v["post_id"] for v in S.iter_verdicts(conn)] == ["old-fake", "old-ok"]
    old = S.get_verdict(conn, "old-ok")
    assert (old["verdict"], old["note"], old["reviewer"], old["genuine_group"]) == (
        "clear",
        "own photo",
        "bob",
        None,
    )
    assert len(S.audit_entries(conn, post_id="old-fake")) == 1
    # the migrated table has the new column with its CHECK, like a new store's
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("UPDATE verdicts SET genuine_group = 'bought_it' WHERE post_id = 'old-ok'")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("UPDATE verdicts SET genuine_group = 'launch_burst' WHERE post_id = 'old-fake'")
    assert S.record_verdict(
        conn, _ctx("old-ok"), "clear", reviewer="bob", note="own photo", genuine_group="viral_genuine"
    )
    conn.close()
    fresh = S.connect(tmp_path / "new.sqlite")
    cols = [r[1] for r in fresh.execute("PRAGMA table_info(verdicts)")]
    fresh.close()
    conn = S.connect(path)  # a second open is a no-op
    assert [r[1] for r in conn.execute("PRAGMA table_info(verdicts)")] == cols
    assert S.get_verdict(conn, "old-ok")["genuine_group"] == "viral_genuine"
    conn.close()
    assert verdicts_as_labels(path).set_index("post_id")["hard_case"].to_dict() == {
        "old-fake": "",
        "old-ok": "viral_genuine",
    }


def test_newer_schema_is_refused_read_only_too(tmp_path):
    path = tmp_path / "future.sqlite"
    c = sqlite3.connect(path)
    c.execute("CREATE TABLE verdicts (post_id TEXT)")
    c.execute("PRAGMA user_version = 3")
    c.close()
    with pytest.raises(S.StoreError, match="newer"):
        S.connect(path)
    with pytest.raises(S.StoreError, match="newer"):
        S.connect_readonly(path)
    with pytest.raises(S.StoreError, match="newer"):
        verdicts_as_labels(path)


def test_genuine_group_is_checked(tmp_path):
    conn = S.connect()
    with pytest.raises(S.StoreError, match="genuine_group"):
        S.record_verdict(conn, _ctx(), "clear", reviewer="a", genuine_group="bought_it")
    with pytest.raises(S.StoreError, match="cleared"):
        S.record_verdict(conn, _ctx(), "confirm", reviewer="a", genuine_group="launch_burst")
    assert S.get_verdict(conn, "p1") is None
    # the database refuses it even when the code is bypassed
    S.record_verdict(conn, _ctx(), "clear", reviewer="a", genuine_group="launch_burst")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("UPDATE verdicts SET genuine_group = '<script>' WHERE post_id = 'p1'")
    with pytest.raises(sqlite3.IntegrityError, match="CHECK"):
        conn.execute("UPDATE verdicts SET verdict = 'confirm' WHERE post_id = 'p1'")
    # a confirm replaces the group with none
    S.record_verdict(conn, _ctx(), "confirm", reviewer="a")
    assert S.get_verdict(conn, "p1")["genuine_group"] is None
    conn.close()


def test_changing_only_the_group_is_audited(tmp_path):
    conn = S.connect()
    assert S.record_verdict(conn, _ctx(), "clear", reviewer="a", note="n")
    assert S.record_verdict(conn, _ctx(), "clear", reviewer="a", note="n", genuine_group="launch_burst")
    assert not S.record_verdict(
        conn, _ctx(), "clear", reviewer="b", note="n", genuine_group="launch_burst"
    )
    assert S.record_verdict(conn, _ctx(), "clear", reviewer="b", note="n", genuine_group="")
    log = S.audit_entries(conn, post_id="p1")
    assert [e["action"] for e in log] == ["verdict", "verdict_changed", "verdict_changed"]
    assert log[0]["details"]["genuine_group"] is None
    assert log[1]["details"]["genuine_group"] == "launch_burst"
    assert log[1]["details"]["previous"]["genuine_group"] is None
    assert log[2]["details"]["previous"]["genuine_group"] == "launch_burst"
    assert log[2]["details"]["genuine_group"] is None and log[2]["actor"] == "b"
    conn.close()


def test_labels_carry_hard_case(tmp_path):
    conn = S.connect()
    for pid, verdict, group in [
        ("p1", "clear", "disclosed_partnership"),
        ("p2", "clear", "launch_burst"),
        ("p3", "clear", "viral_genuine"),
        ("p4", "clear", "reported_genuine"),
        ("p5", "clear", "other_genuine"),
        ("p6", "clear", None),
        ("p7", "confirm", None),
    ]:
        S.record_verdict(conn, _ctx(pid), verdict, reviewer="a", genuine_group=group)
    conn.close()
    labels = verdicts_as_labels()
    assert labels["hard_case"].tolist() == [
        "disclosed_partnership",
        "launch_burst",
        "viral_genuine",
        "reported_genuine",
        "",
        "",
        "",
    ]
    assert labels["hard_case"].dtype == object and labels["label"].tolist() == [0] * 6 + [1]
    assert set(labels["hard_case"]) - {""} == set(S.HARD_CASE_GROUPS)
    assert set(S.GENUINE_GROUPS) == {*S.HARD_CASE_GROUPS, "other_genuine"}


ACTIONS = st.lists(
    st.tuples(
        st.sampled_from(["p1", "p2"]),
        st.sampled_from(S.VERDICTS),
        st.sampled_from(["", "note", "<b>x</b>"]),
        st.sampled_from([None, *S.GENUINE_GROUPS]),
    ),
    min_size=1,
    max_size=8,
)


@given(ACTIONS)
@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
def test_verdict_sequences_property(actions):
    """Any sequence of verdicts: the row is the last one, every change (and only a
    change) is audited with the previous value, labels follow the last verdict."""
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "store.sqlite"
        conn = S.connect(path)
        state: dict[str, tuple] = {}
        audits: dict[str, int] = {}
        for pid, verdict, note, group in actions:
            if verdict == "confirm":
                group = None
            changed = S.record_verdict(
                conn, _ctx(pid), verdict, reviewer="a", note=note, genuine_group=group
            )
            assert changed == (state.get(pid) != (verdict, note, group))
            if changed:
                audits[pid] = audits.get(pid, 0) + 1
                log = S.audit_entries(conn, post_id=pid)
                if pid in state:
                    prev = log[-1]["details"]["previous"]
                    assert (prev["verdict"], prev["note"], prev["genuine_group"]) == state[pid]
            state[pid] = (verdict, note, group)
        for pid, (verdict, note, group) in state.items():
            v = S.get_verdict(conn, pid)
            assert (v["verdict"], v["note"], v["genuine_group"]) == (verdict, note, group)
            assert len(S.audit_entries(conn, post_id=pid)) == audits[pid]
        conn.close()
        labels = verdicts_as_labels(path).set_index("post_id")
        for pid, (verdict, _, group) in state.items():
            expect = group if verdict == "clear" and group in S.HARD_CASE_GROUPS else ""
            assert labels.loc[pid, "hard_case"] == expect
            assert labels.loc[pid, "label"] == int(verdict == "confirm")


def test_a_failed_migration_changes_nothing(tmp_path):
    path = tmp_path / "odd.sqlite"
    c = sqlite3.connect(path)
    c.executescript(V1_VERDICTS)
    # an odd version-1 file: no audit log, and a view squatting on one of its index names;
    # the migration creates audit_log, then fails on the index and must undo everything
    c.executescript(
        "DROP TRIGGER audit_log_no_update; DROP TRIGGER audit_log_no_delete; "
        "DROP TABLE audit_log; CREATE VIEW audit_brand AS SELECT 1 AS x;"
    )
    c.close()
    with pytest.raises(sqlite3.OperationalError, match="audit_brand"):
        S.connect(path)
    c = sqlite3.connect(path)
    assert c.execute("PRAGMA user_version").fetchone()[0] == 1
    assert c.execute("SELECT count(*) FROM sqlite_master WHERE name = 'audit_log'").fetchone()[0] == 0
    assert "genuine_group" not in {r[1] for r in c.execute("PRAGMA table_info(verdicts)")}
    c.close()


def test_training_join_reads_hard_case_from_verdicts(tmp_path):
    """What ``fakeugc train`` does with the verdicts: appended to an export's labels
    (with or without its own ``hard_case``) and joined on post_id; the analyst's row wins."""
    from fakeugc.modeling.data import attach_labels
    from fakeugc.modeling.metrics import per_group_table

    conn = S.connect()
    S.record_verdict(conn, _ctx("p1"), "clear", reviewer="a", genuine_group="launch_burst")
    S.record_verdict(conn, _ctx("p2"), "confirm", reviewer="a")
    conn.close()
    extra = verdicts_as_labels()
    export = pd.DataFrame(
        {"post_id": ["p3", "p1"], "label": [0, 1], "fraud_type": ["", "x"], "split": ["", ""]}
    )
    for own in (None, ["viral_genuine", ""]):
        exp = export if own is None else export.assign(hard_case=own)
        frame = attach_labels(
            pd.DataFrame({"post_id": ["p1", "p2", "p3"]}), pd.concat([exp, extra], ignore_index=True)
        )
        assert frame["label"].tolist() == [0, 1, 0]
        hc = frame["hard_case"].fillna("").tolist()
        assert hc == ["launch_burst", "", "" if own is None else "viral_genuine"]
        groups = per_group_table(frame, [0.9, 0.9, 0.1], 0.5)["hard_case"]
        assert groups["launch_burst"]["n"] == 1 and groups["launch_burst"]["flagged"] == 1
