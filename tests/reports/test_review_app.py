"""The review page through Flask's test client, and export-labels."""

from __future__ import annotations

import re

import pandas as pd
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from report_fixtures import IMG, SCRIPT, build_nights

from fakeugc.cli import main
from fakeugc.reports import ledger as L
from fakeugc.reports import store as S
from fakeugc.reports.review_app import GROUP_LABELS, _post_html, create_app
from fakeugc.reports.scores import ScoresDirError
from fakeugc.reports.store import verdicts_as_labels
from fakeugc.reports.svg import esc


@pytest.fixture
def app(tmp_path):
    night = build_nights(tmp_path / "scored", previous=())
    return create_app(night, S.resolve_store_path(), reviewer="alice")


def _token(html: str) -> str:
    return re.search(r'name="token" value="([^"]+)"', html).group(1)


def test_index_lists_flagged_posts_escaped(app):
    c = app.test_client()
    r = c.get("/")
    assert r.status_code == 200
    html = r.get_data(as_text=True)
    assert (
        html.count('data-testid="review-row"') == app.test_client().get("/healthz").json["flagged"]
    )
    assert SCRIPT not in html and IMG not in html and "&lt;script&gt;alert(1)" in html
    assert "script-src" not in r.headers["Content-Security-Policy"]  # no script at all
    assert r.headers["X-Frame-Options"] == "DENY"


def test_confirm_and_clear_go_to_store_and_ledger(app):
    c = app.test_client()
    token = _token(c.get("/").get_data(as_text=True))
    r = c.post(
        "/verdict",
        data={"post_id": "confirm-me", "verdict": "confirm", "note": "模板文案", "token": token},
    )
    assert r.status_code == 303
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert 'data-testid="done"' in page and 'data-brand="brand-a" data-points="8"' in page
    c.post("/verdict", data={"post_id": "clear-me", "verdict": "clear", "token": token})
    c.post("/verdict", data={"post_id": "partner-post", "verdict": "confirm", "token": token})
    # twice: idempotent
    c.post(
        "/verdict",
        data={"post_id": "confirm-me", "verdict": "confirm", "note": "模板文案", "token": token},
    )
    conn = S.connect()
    v = S.get_verdict(conn, "confirm-me")
    assert (
        v["verdict"],
        v["note"],
        v["reviewer"],
        v["model_version"],
        v["account_id"],
        v["export_date"],
    ) == ("confirm", "模板文案", "alice", "3", "acct-1", "2026-11-24")
    assert v["brand_ids"] == ["brand-a", "brand-b"]
    st = {s.brand_id: s for s in L.brand_statuses(conn, L.load_rules())}
    assert st["brand-a"].points == 8 and st["brand-b"].points == 8
    assert "brand-c" not in st
    assert st["brand-p"].points == 10 and st["brand-p"].exempt == 1
    conn.close()
    labels = verdicts_as_labels().set_index("post_id")["label"].to_dict()
    assert labels == {"confirm-me": 1, "clear-me": 0, "partner-post": 1}


def test_forms_need_the_token_and_a_local_host(app):
    c = app.test_client()
    assert (
        c.post("/verdict", data={"post_id": "confirm-me", "verdict": "confirm"}).status_code == 400
    )
    token = _token(c.get("/").get_data(as_text=True))
    assert (
        c.post(
            "/verdict", data={"post_id": "nope", "verdict": "confirm", "token": token}
        ).status_code
        == 404
    )
    assert (
        c.post(
            "/verdict", data={"post_id": "confirm-me", "verdict": "maybe", "token": token}
        ).status_code
        == 400
    )
    assert c.get("/", headers={"Host": "evil.example:8765"}).status_code == 403
    assert c.get("/", base_url="http://127.0.0.1:8765").status_code == 200
    assert not S.resolve_store_path().exists()  # nothing was recorded


def test_reviewer_name_from_the_page(app):
    c = app.test_client()
    token = _token(c.get("/").get_data(as_text=True))
    c.post("/reviewer", data={"reviewer": "bob<script>", "token": token})
    c.post("/verdict", data={"post_id": "clear-me", "verdict": "clear", "token": token})
    conn = S.connect()
    assert S.get_verdict(conn, "clear-me")["reviewer"] == "bob<script>"
    conn.close()
    assert "bob&lt;script&gt;" in c.get("/").get_data(as_text=True)


def test_create_app_refuses_incomplete_folder(tmp_path):
    (tmp_path / "export_date=2026-11-24").mkdir()
    with pytest.raises(ScoresDirError):
        create_app(tmp_path / "export_date=2026-11-24")


def test_export_labels_cli(tmp_path, capsys):
    conn = S.connect()
    S.record_verdict(conn, S.PostContext(post_id="p1"), "confirm", reviewer="a")
    S.record_verdict(conn, S.PostContext(post_id="p2"), "clear", reviewer="a")
    conn.close()
    out = tmp_path / "labels" / "labels.parquet"
    assert main(["review", "export-labels", "--out", str(out)]) == 0
    assert "2 labels" in capsys.readouterr().out
    df = pd.read_parquet(out)
    assert list(df.columns) == ["post_id", "label", "labelled_at", "fraud_type", "split", "hard_case"]
    assert df.set_index("post_id")["label"].to_dict() == {"p1": 1, "p2": 0}
    assert df["hard_case"].tolist() == ["", ""]
    assert main(["review", "export-labels"]) == 2


# --------------------------------------------------------------------------- why genuine


def _select(html: str, post_id: str) -> str:
    art = re.search(rf'<article id="post-{re.escape(post_id)}".*?</article>', html, re.S).group(0)
    return re.search(r'<label><span class="sr">([^<]+)</span><select name="genuine_group".*?</select>',
                     art, re.S).group(0)


def test_group_labels_cover_the_store_groups():
    assert list(GROUP_LABELS)[0] == "" and set(GROUP_LABELS) - {""} == set(S.GENUINE_GROUPS)


def test_clear_with_a_group_round_trip(app):
    c = app.test_client()
    html = c.get("/").get_data(as_text=True)
    token = _token(html)
    # a labelled select next to Clear; a declared partnership comes preselected
    sel = _select(html, "clear-me")
    assert "why is this post genuine" in sel and "selected" not in sel
    assert html.count('name="genuine_group"') == html.count('data-testid="review-row"')
    assert 'value="disclosed_partnership" selected' in _select(html, "partner-post")
    assert html.index('data-testid="genuine-group"') < html.index('data-testid="clear"')

    r = c.post(
        "/verdict",
        data={"post_id": "clear-me", "verdict": "clear", "genuine_group": "launch_burst", "token": token},
    )
    assert r.status_code == 303
    page = c.get(r.headers["Location"]).get_data(as_text=True)
    assert "Cleared post clear-me (product-launch burst)." in page
    assert 'value="launch_burst" selected' in _select(page, "clear-me")
    assert '<span data-testid="verdict-group">product-launch burst</span>' in page
    # the form sends the (preselected) group with Confirm too: a confirm never keeps one
    c.post(
        "/verdict",
        data={"post_id": "partner-post", "verdict": "confirm", "genuine_group": "disclosed_partnership",
              "token": token},
    )
    api = {v["post_id"]: v for v in c.get("/api/verdicts").json}
    assert api["clear-me"]["genuine_group"] == "launch_burst"
    assert api["partner-post"]["verdict"] == "confirm" and api["partner-post"]["genuine_group"] is None
    # only the group changes: a change, audited with the previous group; the same again is not
    for _ in range(2):
        c.post(
            "/verdict",
            data={"post_id": "clear-me", "verdict": "clear", "genuine_group": "other_genuine",
                  "token": token},
        )
    conn = S.connect()
    log = S.audit_entries(conn, post_id="clear-me")
    conn.close()
    assert [e["action"] for e in log] == ["verdict", "verdict_changed"]
    assert log[1]["details"]["previous"]["genuine_group"] == "launch_burst"
    c.post(
        "/verdict",
        data={"post_id": "partner-post", "verdict": "clear", "genuine_group": "disclosed_partnership",
              "token": token},
    )
    labels = verdicts_as_labels().set_index("post_id")
    assert labels["hard_case"].to_dict() == {"clear-me": "", "partner-post": "disclosed_partnership"}
    assert labels["label"].to_dict() == {"clear-me": 0, "partner-post": 0}


def test_unknown_group_or_no_token_is_refused(app):
    c = app.test_client()
    token = _token(c.get("/").get_data(as_text=True))
    for group in ("bought_it", SCRIPT, "ordinary_genuine"):
        r = c.post(
            "/verdict",
            data={"post_id": "clear-me", "verdict": "clear", "genuine_group": group, "token": token},
        )
        assert r.status_code == 400
    r = c.post("/verdict", data={"post_id": "clear-me", "verdict": "clear", "genuine_group": "launch_burst"})
    assert r.status_code == 400
    r = c.post(
        "/verdict",
        data={"post_id": "clear-me", "verdict": "clear", "genuine_group": "launch_burst", "token": token},
        headers={"Host": "evil.example"},
    )
    assert r.status_code == 403
    assert not S.resolve_store_path().exists()  # nothing was recorded
    assert c.get("/api/verdicts").json == []


@given(st.text(max_size=40))
@settings(max_examples=60, deadline=None)
def test_group_is_escaped_whatever_it_holds(group):
    """The shown group is escaped even if a store held something unexpected."""
    row = pd.Series(
        {
            "post_id": "p<1>",
            "probability": 0.9,
            "title": "t",
            "account_id": "a",
            "brand_ids": [],
            "cluster_id": None,
            "disclosed_partnership": True,
            "reasons": [],
            "body": "b",
            "curve": None,
            "account_usual_curve": None,
        }
    )
    verdict = {"verdict": "clear", "reviewer": "r", "note": "", "genuine_group": group}
    html = _post_html(row, verdict, "tok")
    shown = re.search(r'<span data-testid="verdict-group">(.*?)</span>', html, re.S)
    if group:
        assert shown.group(1) == esc(GROUP_LABELS.get(group, group))
        assert "<" not in shown.group(1) and ">" not in shown.group(1)
    else:
        assert shown is None
    # the select always offers the known groups only; a stored unknown value selects nothing
    opts = re.findall(r'<option value="([^"]*)"( selected)?>', html)
    assert [v for v, _ in opts] == list(GROUP_LABELS)
    assert [v for v, s in opts if s] == ([group] if group and group in GROUP_LABELS else [])
