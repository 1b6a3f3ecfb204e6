"""The HTML report without a browser: counts, escaping, truncation, refusals, ledger."""

from __future__ import annotations

import json
import re
from html.parser import HTMLParser
from pathlib import Path

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from report_fixtures import IMG, SCRIPT, TONIGHT, build_nights, tonight_scores

from fakeugc.cli import main
from fakeugc.reports import ledger as L
from fakeugc.reports import store as S
from fakeugc.reports.html import build_report, json_for_script, render_report
from fakeugc.reports.sample import make_scores, write_scores_dir
from fakeugc.reports.scores import Night, ScoresDirError, load_night, normalise_scores
from fakeugc.reports.svg import clean_text


class _Tags(HTMLParser):
    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.tags: list[str] = []
        self.attrs: list[tuple[str, str, str | None]] = []
        self.scripts: list[str] = []
        self._in_script = False

    def handle_starttag(self, tag, attrs):
        self.tags.append(tag)
        self.attrs.extend((tag, k, v) for k, v in attrs)
        self._in_script = tag == "script"

    def handle_endtag(self, tag):
        self._in_script = False

    def handle_data(self, data):
        if self._in_script:
            self.scripts.append(data)


def _parse(page: str) -> _Tags:
    p = _Tags()
    p.feed(page)
    p.close()
    return p


@pytest.fixture
def night_dir(tmp_path) -> Path:
    return build_nights(tmp_path / "scored")


def _value(page: str, testid: str) -> int:
    m = re.search(rf'data-testid="{testid}" data-value="(\d+)"', page)
    assert m, testid
    return int(m.group(1))


def test_summary_counts_match_the_fixture(night_dir, tmp_path):
    out = tmp_path / "report.html"
    counts = render_report(night_dir, out)
    page = out.read_text(encoding="utf-8")
    scores = tonight_scores()
    assert _value(page, "summary-scored") == len(scores) == counts["scored"]
    assert _value(page, "summary-flagged") == int(scores["flagged"].sum()) == counts["flagged"]
    assert _value(page, "summary-set-aside") == 4 == counts["set_aside"]
    assert page.count('data-testid="flagged-row"') == counts["flagged"]
    assert counts["previous_nights"] == ["2026-11-21", "2026-11-22", "2026-11-23"]
    assert "fakeugc-lgbm" in page and "v3" in page
    assert 'data-testid="score-histogram"' in page and page.count('class="prev"') == 3
    # drift: exposure is in alarm, account in warn
    assert 'data-family="exposure" data-level="alarm"' in page
    assert 'data-family="account" data-level="warn"' in page
    assert 'data-testid="drift-alarm"' in page and "Distrust the model" in page
    # campaigns, accounts and brands panels exist
    assert 'data-testid="campaign-row"' in page and 'data-testid="brand-row"' in page


def test_the_page_is_self_contained(night_dir, tmp_path):
    out = tmp_path / "r.html"
    render_report(night_dir, out)
    page = out.read_text(encoding="utf-8")
    p = _parse(page)
    assert "link" not in p.tags and "img" not in p.tags and "iframe" not in p.tags
    assert not [
        a for a in p.attrs if a[1] in ("src", "href") and a[2] and re.match(r"^(https?:)?//", a[2])
    ]
    assert "@import" not in page and "url(" not in page
    assert "Content-Security-Policy" in page


def test_hostile_text_appears_only_escaped(night_dir, tmp_path):
    out = tmp_path / "r.html"
    render_report(night_dir, out)
    page = out.read_text(encoding="utf-8")
    assert SCRIPT not in page and IMG not in page
    assert not re.search(r"<script>\s*alert", page, re.I)
    assert not re.search(r"<img[^>]*onerror", page, re.I)
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert "&lt;img src=x onerror=alert(1)&gt;" in page
    p = _parse(page)
    # exactly our two script elements: the JSON data and the page's script
    assert p.tags.count("script") == 2 and "img" not in p.tags and "b" in p.tags  # <b> is ours
    assert not [a for a in p.attrs if a[1].startswith("on")]
    data = json.loads(p.scripts[0])
    assert any("<script>alert(1)</script>" in q for q in data["q"])  # searchable, as text
    assert "</script" not in p.scripts[0].lower()


def test_json_for_script_cannot_close_the_script():
    s = json_for_script({"x": "</script><!-- & \u2028"})
    assert "<" not in s and ">" not in s and "&" not in s and "\u2028" not in s
    assert json.loads(s) == {"x": "</script><!-- & \u2028"}


def test_top_limits_rendered_rows_and_says_what_was_left_out(night_dir, tmp_path):
    out = tmp_path / "r.html"
    counts = render_report(night_dir, out, top=5)
    page = out.read_text(encoding="utf-8")
    assert page.count('data-testid="flagged-row"') == 5
    assert counts["left_out"] == counts["flagged"] - 5
    assert _value(page, "left-out-count") == counts["flagged"] - 5
    # highest probability first
    probs = [float(x) for x in re.findall(r'data-testid="post-probability"[^>]*>([\d.]+)%', page)]
    assert probs == sorted(probs, reverse=True) and probs[0] == 99.5


def test_incomplete_folder_is_refused(tmp_path, capsys):
    d = write_scores_dir(tmp_path / "export_date=2026-11-24", make_scores(20), success=False)
    with pytest.raises(ScoresDirError, match="_SUCCESS"):
        load_night(d)
    assert main(["report", str(d), "--out", str(tmp_path / "r.html")]) == 2
    assert "incomplete scores folder" in capsys.readouterr().err
    assert not (tmp_path / "r.html").exists()
    assert main(["report", str(tmp_path / "nope"), "--out", str(tmp_path / "r.html")]) == 2


def test_previous_nights_are_complete_earlier_siblings(tmp_path):
    root = tmp_path / "scored"
    tonight = build_nights(root, previous=("2026-11-22", "2026-11-23"))
    write_scores_dir(root / "export_date=2026-11-20", make_scores(30), success=False)  # no marker
    write_scores_dir(root / "export_date=2026-11-25", make_scores(30, export_date="2026-11-25"))
    night = load_night(tonight)
    assert [p.export_date for p in night.previous] == ["2026-11-22", "2026-11-23"]
    assert [p.export_date for p in load_night(tonight, previous_nights=1).previous] == [
        "2026-11-23"
    ]


def test_cli_report(night_dir, tmp_path, capsys):
    out = tmp_path / "out" / "report.html"
    assert main(["report", str(night_dir), "--out", str(out), "--top", "3", "--json"]) == 0
    counts = json.loads(capsys.readouterr().out)
    assert counts["rendered"] == 3 and out.is_file()


def test_a_minimal_scores_file_still_reports(tmp_path):
    """A scorer that writes only post_id, probability and flagged still gets a page."""
    import pandas as pd

    from fakeugc.io.writer import commit_directory

    def fill(d):
        pd.DataFrame(
            {"post_id": ["a", "b"], "probability": [0.9, 0.1], "flagged": [True, False]}
        ).to_parquet(d / "scores.parquet")
        return {}

    d = commit_directory(tmp_path / "export_date=2026-11-24", fill)
    counts = render_report(d, tmp_path / "r.html")
    assert (counts["scored"], counts["flagged"], counts["set_aside"]) == (2, 1, 0)
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert "No drift figures" in page and "no curve" in page


def test_brands_show_ledger_points_from_the_store(night_dir, tmp_path):
    conn = S.connect()
    for pid in ("confirm-me", "x1"):
        S.record_verdict(
            conn,
            S.PostContext(post_id=pid, brand_ids=("brand-a",), model_version="3"),
            "confirm",
            reviewer="alice",
        )
        L.reconcile_post(conn, pid, actor="alice")
    conn.close()
    out = tmp_path / "r.html"
    render_report(night_dir, out)
    page = out.read_text(encoding="utf-8")
    m = re.search(r'data-testid="brand-row" data-brand="brand-a" data-points="(\d+)"', page)
    assert m and int(m.group(1)) == 6
    assert "throttle_brand_notes" in page


def test_report_does_not_create_a_store(night_dir, tmp_path):
    render_report(night_dir, tmp_path / "r.html")
    assert not S.resolve_store_path().exists()


# ----------------------------------------------------------------------------- property

_BASE = None


def _base_night() -> Night:
    global _BASE
    if _BASE is None:
        df = make_scores(12, flagged_share=0.5, seed=3, export_date=TONIGHT)
        _BASE = normalise_scores(df)
    return _BASE


def _render_with(title: str, body: str, brand: str) -> str:
    s = _base_night().copy()
    i = int(np.flatnonzero(s["flagged"].to_numpy())[0])
    s.at[i, "title"] = title
    s.at[i, "body"] = body
    s.at[i, "account_id"] = brand
    s.at[i, "brand_ids"] = [brand]
    s.at[i, "cluster_id"] = brand
    s.at[i, "reasons"] = [body]
    s.at[i, "probability"] = 0.999  # rendered first
    night = Night(
        path=Path("/nonexistent/export_date=2026-11-24"),
        export_date=TONIGHT,
        scores=s,
        quarantine=s.iloc[0:0],
        manifest={},
        drift=None,
    )
    page, _ = build_report(night, top=100)
    return page


_text = st.text(
    alphabet=st.characters(blacklist_categories=("Cs",)), max_size=60
) | st.sampled_from(
    [
        SCRIPT,
        IMG,
        "</script><script>alert(1)//",
        "<!--",
        "]]>",
        "\"'><svg onload=x>",
        "&lt;script&gt;",
        "\u2028\u2029",
        "<style>*{display:none}</style>",
    ]
)


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(title=_text, body=_text, brand=st.text(min_size=1, max_size=20))
def test_arbitrary_user_text_never_changes_the_page_structure(title, body, brand):
    reference = _parse(_render_with("x", "y", "z"))
    page = _render_with(title, body, brand)
    p = _parse(page)
    # user text adds no element and no attribute: the tag sequence is the same as with plain text
    assert p.tags == reference.tags
    assert [(t, k) for t, k, _ in p.attrs] == [(t, k) for t, k, _ in reference.attrs]
    # the data block still parses and carries the text verbatim (lower-cased for search)
    data = json.loads(p.scripts[0])
    assert any(clean_text(title).lower() in q for q in data["q"])
    # the title and body come back from the page as the same text: nothing was interpreted
    assert _text_of(page, "post-title", 0) == (clean_text(title) or "(no title)")
    assert _text_of(page, "post-body", 0) == clean_text(body)


class _TextOf(HTMLParser):
    """Text content of the n-th element with a data-testid (nested elements included)."""

    def __init__(self, testid: str, nth: int):
        super().__init__(convert_charrefs=True)
        self.testid, self.nth, self.seen, self.depth, self.text = testid, nth, -1, 0, []

    def handle_starttag(self, tag, attrs):
        if self.depth:
            self.depth += 1
        elif dict(attrs).get("data-testid") == self.testid:
            self.seen += 1
            if self.seen == self.nth:
                self.depth = 1

    def handle_endtag(self, tag):
        if self.depth:
            self.depth -= 1

    def handle_data(self, data):
        if self.depth:
            self.text.append(data)


def _text_of(page: str, testid: str, nth: int) -> str:
    p = _TextOf(testid, nth)
    p.feed(page)
    return "".join(p.text)


@pytest.mark.parametrize("score_psi, words", [(0.02, "can be trusted"), (0.4, "is a guess"),
                                             (None, "assumes the calibration holds")])
def test_the_drift_panel_shows_the_label_free_estimate(tmp_path, score_psi, words):
    from report_fixtures import DRIFT

    drift = json.loads(json.dumps(DRIFT))
    if score_psi is None:
        drift["psi"].pop("score")
    else:
        drift["psi"]["score"] = score_psi
    drift["estimate"] = {"posts": 12000, "flagged": 180, "expected_fake_flagged": 163.8,
                         "expected_precision": 0.91}
    night = build_nights(tmp_path / "scores", drift=drift)
    render_report(night, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text(encoding="utf-8")
    assert re.search(r'data-testid="estimate-precision">91%<', page)
    assert re.search(r'data-testid="estimate-flagged">180<', page)
    assert "of 12,000 scored" in page and words in page
    # a drift.json without an estimate (an older scorer) shows no such paragraph
    del drift["estimate"]
    old = build_nights(tmp_path / "old", drift=drift)
    render_report(old, tmp_path / "o.html")
    assert 'data-testid="estimate"' not in (tmp_path / "o.html").read_text(encoding="utf-8")
