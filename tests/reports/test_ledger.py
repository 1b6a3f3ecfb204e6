"""Brand violation ledger: points, actions, windows, idempotency, partnerships, audit."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
import yaml
from pydantic import ValidationError

from fakeugc.cli import main
from fakeugc.reports import ledger as L
from fakeugc.reports import store as S
from fakeugc.reports.store import PostContext

RULES_FILE = Path(__file__).resolve().parents[2] / "pipelines" / "brand_points.yaml"


def _confirm(
    conn,
    pid,
    brands=("b1",),
    *,
    verdict="confirm",
    dp=False,
    at="2026-11-24T10:00:00Z",
    version="3",
    reviewer="alice",
):
    ctx = PostContext(
        post_id=pid,
        account_id="a1",
        brand_ids=tuple(brands),
        disclosed_partnership=dp,
        model_version=version,
        export_date="2026-11-24",
    )
    S.record_verdict(conn, ctx, verdict, reviewer=reviewer, at=at)
    return L.reconcile_post(conn, pid, actor=reviewer, at=at)


def _status(conn, brand, rules=None, as_of="2026-11-25T00:00:00Z"):
    st = L.brand_statuses(conn, rules or L.BrandPointsRules(), as_of, brand_id=brand)
    return st[0] if st else None


def test_the_project_rules_file_validates():
    rules = L.load_rules(RULES_FILE)
    assert rules.start_points == 10 and rules.points_per_violation == 2
    assert [t.at_or_below for t in rules.tiers] == [8, 6, 4, 2, 0]
    assert [t.days for t in rules.tiers] == [0, 7, 7, 28, 28]
    assert rules.tiers[-1].name == "ban"
    assert L.load_rules() == rules  # the default path is the project's file


@pytest.mark.parametrize(
    "patch,msg",
    [
        ({"unknown_key": 1}, "Extra inputs"),
        ({"points_per_violation": 0}, "greater than 0"),
        (
            {
                "tiers": [
                    {"name": "a", "at_or_below": 2, "action": "x", "days": 1},
                    {"name": "b", "at_or_below": 6, "action": "y", "days": 1},
                ]
            },
            "mildest",
        ),
        ({"tiers": [{"name": "a", "at_or_below": 10, "action": "x", "days": 1}]}, "start_points"),
        (
            {"tiers": [{"name": "a", "at_or_below": 4, "action": "x", "days": 1, "colour": "red"}]},
            "Extra inputs",
        ),
    ],
)
def test_bad_rules_are_refused(tmp_path, patch, msg):
    data = yaml.safe_load(RULES_FILE.read_text(encoding="utf-8"))
    data.update(patch)
    p = tmp_path / "rules.yaml"
    p.write_text(yaml.safe_dump(data, allow_unicode=True), encoding="utf-8")
    with pytest.raises(ValidationError, match=msg):
        L.load_rules(p)


@pytest.mark.parametrize(
    "n,points,tier",
    [
        (0, 10, None),
        (1, 8, "warning"),
        (2, 6, "throttle_brand_notes"),
        (3, 4, "throttle_search"),
        (4, 2, "suspension"),
        (5, 0, "ban"),
        (7, 0, "ban"),
    ],
)
def test_points_and_actions(n, points, tier):
    rules = L.BrandPointsRules()
    assert rules.points_after(n) == points
    t = rules.tier_for(points)
    assert (t.name if t else None) == tier


def test_violations_accumulate_per_brand_with_since_and_until():
    conn = S.connect()
    for i in range(3):
        _confirm(conn, f"p{i}", ("b1", "b2") if i == 0 else ("b1",), at=f"2026-11-2{i}T10:00:00Z")
    s1 = _status(conn, "b1")
    assert (s1.points, s1.violations, s1.tier) == (4, 3, "throttle_search")
    assert s1.since.startswith("2026-11-22") and s1.until.startswith("2026-11-29")
    assert s1.in_force and s1.last_post_id == "p2" and s1.last_model_version == "3"
    s2 = _status(conn, "b2")
    assert (s2.points, s2.tier) == (8, "warning")
    # after the 7 days the throttling has ended, the points have not
    later = _status(conn, "b1", as_of="2026-12-05T00:00:00Z")
    assert later.points == 4 and not later.in_force


def test_point_window():
    conn = S.connect()
    _confirm(conn, "old", at="2025-01-10T00:00:00Z")
    _confirm(conn, "new", at="2026-11-20T00:00:00Z")
    assert _status(conn, "b1", L.BrandPointsRules(window_days=365)).points == 8
    assert _status(conn, "b1", L.BrandPointsRules(window_days=None)).points == 6
    # as of a date before the second violation, only the first counts
    early = _status(conn, "b1", L.BrandPointsRules(window_days=None), as_of="2025-02-01T00:00:00Z")
    assert early.points == 8


def test_recording_twice_and_syncing_twice_never_deducts_twice():
    conn = S.connect()
    first = _confirm(conn, "p1", ("b1", "b2"))
    assert [c["action"] for c in first] == ["violation_recorded", "violation_recorded"]
    assert _confirm(conn, "p1", ("b1", "b2")) == []  # same verdict again
    assert L.reconcile_post(conn, "p1", actor="x") == []  # reconcile again
    before = {s.brand_id: s.points for s in L.brand_statuses(conn, L.BrandPointsRules())}
    n_audit = len(S.audit_entries(conn))
    conn.close()
    counts = L.sync()
    assert counts["verdicts"] == 1 and counts["violation_recorded"] == 0
    assert L.sync() == counts
    conn = S.connect()
    after = {s.brand_id: s.points for s in L.brand_statuses(conn, L.BrandPointsRules())}
    assert before == after == {"b1": 8, "b2": 8}
    assert len(S.audit_entries(conn)) == n_audit
    assert conn.execute("SELECT COUNT(*) FROM violations").fetchone()[0] == 2


def test_rerunning_the_night_with_a_new_model_version_keeps_points():
    """Rescoring the same night (new run, new model version) and re-giving the same
    verdicts leaves every brand's points unchanged."""
    conn = S.connect()
    _confirm(conn, "p1", ("b1",), version="3")
    _confirm(conn, "p2", ("b1",), version="3")
    before = _status(conn, "b1").points
    _confirm(conn, "p1", ("b1",), version="4", at="2026-11-24T23:00:00Z")
    conn.close()
    L.sync(actor="nightly")
    conn = S.connect()
    assert _status(conn, "b1").points == before == 6


def test_declared_partnership_is_never_a_violation():
    conn = S.connect()
    changes = _confirm(conn, "ad", ("bp",), dp=True)
    assert [c["status"] for c in changes] == ["exempt"]
    row = L.violations(conn, "bp")[0]
    assert row["status"] == "exempt" and "declared partnership" in row["reason"]
    st = _status(conn, "bp")
    assert st.points == 10 and st.tier is None and st.exempt == 1
    assert S.audit_entries(conn, brand_id="bp")[-1]["action"] == "violation_exempt"


def test_clear_revokes_and_confirm_reinstates():
    conn = S.connect()
    _confirm(conn, "p1")
    assert _status(conn, "b1").points == 8
    ch = _confirm(conn, "p1", verdict="clear", reviewer="bob")
    assert [c["action"] for c in ch] == ["violation_revoked"]
    st = _status(conn, "b1")
    assert st.points == 10 and st.revoked == 1
    ch = _confirm(conn, "p1", reviewer="carol")
    assert [c["action"] for c in ch] == ["violation_reinstated"]
    assert _status(conn, "b1").points == 8
    hist = L.history(conn, "b1")
    actions = [e["action"] for e in hist]
    assert actions == [
        "verdict",
        "violation_recorded",
        "verdict_changed",
        "violation_revoked",
        "verdict_changed",
        "violation_reinstated",
    ]
    for e in hist:  # who, when, which post, which model version
        assert e["actor"] and e["at"] and e["post_id"] == "p1" and e["model_version"] == "3"


def test_a_confirmed_post_without_brands_records_nothing():
    conn = S.connect()
    assert _confirm(conn, "nobrand", ()) == []
    assert L.brand_statuses(conn, L.BrandPointsRules()) == []


def test_ledger_cli(capsys):
    conn = S.connect()
    _confirm(conn, "p1", ("b1",))
    _confirm(conn, "p2", ("b1",))
    conn.close()
    assert main(["ledger", "sync", "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["verdicts"] == 2 and counts["violation_recorded"] == 0
    assert main(["ledger", "show", "--json"]) == 0
    shown = json.loads(capsys.readouterr().out)
    assert shown[0]["brand_id"] == "b1" and shown[0]["points"] == 6
    assert main(["ledger", "show"]) == 0
    assert "throttle_brand_notes" in capsys.readouterr().out
    assert main(["ledger", "history", "--brand", "b1", "--json"]) == 0
    hist = json.loads(capsys.readouterr().out)
    assert len(hist["violations"]) == 2 and hist["audit"]
    assert main(["ledger", "history", "--brand", "b1"]) == 0
    assert "violation_recorded" in capsys.readouterr().out


def test_ledger_cli_without_store(capsys):
    assert main(["ledger", "show"]) == 0
    assert "no ledger yet" in capsys.readouterr().out
    assert not S.resolve_store_path().exists()
