"""The report and the review page in headless Chromium (Playwright driving Debian's chromium)."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest
from report_fixtures import IMG, SCRIPT, build_nights, tonight_scores

from fakeugc.reports import ledger as L
from fakeugc.reports import store as S
from fakeugc.reports.html import render_report
from fakeugc.reports.review_app import create_app
from fakeugc.reports.store import verdicts_as_labels

sync_api = pytest.importorskip("playwright.sync_api")
expect, sync_playwright = sync_api.expect, sync_api.sync_playwright

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]

pytestmark = [
    pytest.mark.browser,
    pytest.mark.skipif(not Path(CHROMIUM).exists(), reason=f"{CHROMIUM} missing (make browser)"),
]


@pytest.fixture(scope="module")
def browser():
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
        yield b
        b.close()


@pytest.fixture
def page(browser):
    ctx = browser.new_context(viewport={"width": 1280, "height": 900})
    pg = ctx.new_page()
    pg.dialogs = []
    pg.errors = []
    pg.on("dialog", lambda d: (pg.dialogs.append(d.message), d.dismiss()))
    pg.on("pageerror", lambda e: pg.errors.append(str(e)))
    yield pg
    ctx.close()


def _visible(page) -> int:
    return int(page.get_by_test_id("visible-count").inner_text())


def _rows_in_order(page) -> list[str]:
    return page.eval_on_selector_all(
        "[data-testid=flagged-row]:not([hidden])", "els => els.map(e => e.dataset.postId)"
    )


def test_report_counts_sort_filter_and_hostile_text(page, tmp_path):
    night = build_nights(tmp_path / "scored", n=300, flagged_share=0.15)
    out = tmp_path / "report.html"
    counts = render_report(night, out, top=30)
    scores = tonight_scores(300, 0.15)
    flagged = scores[scores["flagged"]].sort_values("probability", ascending=False).head(30)

    page.goto(out.as_uri())
    page.wait_for_selector("html[data-ready='1']")
    # counts
    assert page.get_by_test_id("summary-scored").inner_text() == f"{len(scores):,}"
    assert page.get_by_test_id("summary-flagged").inner_text() == str(int(scores["flagged"].sum()))
    assert page.get_by_test_id("summary-set-aside").inner_text() == "4"
    assert page.get_by_test_id("flagged-row").count() == 30 == _visible(page)
    assert page.get_by_test_id("left-out-count").inner_text() == str(counts["flagged"] - 30)
    assert page.get_by_test_id("drift-alarm").is_visible()

    # hostile post: rendered as text, nothing ran, nothing injected
    row = page.locator("[data-post-id='hostile-1']")
    assert row.get_by_test_id("post-title").inner_text() == SCRIPT
    assert IMG in row.get_by_test_id("post-body").inner_text()
    assert page.evaluate("document.querySelector('img[src=x]')") is None
    assert page.evaluate("document.querySelectorAll('img').length") == 0
    assert page.evaluate("document.scripts.length") == 2
    assert page.dialogs == [] and page.errors == []

    # sort
    page.get_by_test_id("sort-by").select_option("prob-asc")
    assert (
        _rows_in_order(page) == flagged.sort_values(["probability"], kind="stable").post_id.tolist()
    )
    page.get_by_test_id("sort-by").select_option("time-desc")
    order = _rows_in_order(page)
    times = flagged.set_index("post_id").loc[order, "published_at"].tolist()
    assert times == sorted(times, reverse=True)
    page.get_by_test_id("sort-by").select_option("brand")
    firsts = [
        b[0] if len(b) else "\uffff"
        for b in flagged.set_index("post_id").loc[_rows_in_order(page), "brand_ids"]
    ]
    assert firsts == sorted(firsts, key=str.lower)
    page.get_by_test_id("sort-by").select_option("prob-desc")
    assert _rows_in_order(page) == flagged.post_id.tolist()

    # filter: text, brand, min probability, cluster chip, reset
    page.get_by_test_id("filter-text").fill("神仙面霜")
    expect(page.get_by_test_id("visible-count")).to_have_text("1")
    assert _rows_in_order(page) == ["confirm-me"]
    page.get_by_test_id("filter-text").fill("")
    expect(page.get_by_test_id("visible-count")).to_have_text("30")
    page.get_by_test_id("filter-text").fill("<script>alert(1)")
    expect(page.get_by_test_id("visible-count")).to_have_text("1")
    assert _rows_in_order(page) == ["hostile-1"]
    page.get_by_test_id("filter-reset").click()
    assert _visible(page) == 30
    page.get_by_test_id("filter-brand").select_option("brand-a")
    assert _rows_in_order(page) == [
        p for p, b in zip(flagged.post_id, flagged.brand_ids, strict=True) if "brand-a" in list(b)
    ]
    page.get_by_test_id("filter-reset").click()
    page.get_by_test_id("filter-min-probability").fill("0.9")
    assert _visible(page) == int((flagged.probability >= 0.9).sum())
    page.get_by_test_id("filter-reset").click()
    chip = page.locator("[data-post-id='hostile-1'] button.cluster")
    chip.click()
    assert page.get_by_test_id("filter-cluster").input_value() == "c-<b>x</b>"
    assert _visible(page) == int((flagged.cluster_id == "c-<b>x</b>").sum()) == 1
    page.get_by_test_id("filter-reset").click()
    assert _visible(page) == 30

    page.screenshot(path=str(tmp_path / "report.png"), full_page=False)
    assert (tmp_path / "report.png").stat().st_size > 10_000
    assert page.dialogs == [] and page.errors == []


def test_review_page_confirm_and_clear(page, tmp_path):
    from werkzeug.serving import make_server

    night = build_nights(tmp_path / "scored", previous=())
    store = S.resolve_store_path()
    app = create_app(night, store, reviewer="alice")
    srv = make_server("127.0.0.1", 0, app, threaded=True)
    thread = threading.Thread(target=srv.serve_forever, daemon=True)
    thread.start()
    try:
        base = f"http://127.0.0.1:{srv.server_port}/"
        page.goto(base)
        assert page.evaluate("document.querySelector('img[src=x]')") is None
        assert page.locator("[data-post-id='hostile-1'] h3").inner_text() == SCRIPT

        row = page.locator("article[data-post-id='confirm-me']")
        row.get_by_test_id("note").fill("同一模板 <b>copy</b>")
        with page.expect_navigation():
            row.get_by_test_id("confirm").click()
        assert "Confirmed post confirm-me" in page.get_by_test_id("done").inner_text()
        assert (
            page.locator("[data-testid=ledger-brand][data-brand='brand-a']").get_attribute(
                "data-points"
            )
            == "8"
        )
        # why genuine: a labelled select between Confirm and Clear, reached with Tab
        partner = page.locator("article[data-post-id='partner-post']")
        assert partner.get_by_test_id("genuine-group").input_value() == "disclosed_partnership"
        row = page.locator("article[data-post-id='clear-me']")
        why = row.get_by_label("why is this post genuine")
        assert why.input_value() == ""
        row.get_by_test_id("confirm").focus()
        page.keyboard.press("Tab")
        assert why.evaluate("el => el === document.activeElement")
        why.select_option("viral_genuine")
        page.keyboard.press("Tab")
        assert row.get_by_test_id("clear").evaluate("el => el === document.activeElement")
        with page.expect_navigation():
            page.keyboard.press("Enter")
        assert "Cleared post clear-me (went viral)" in page.get_by_test_id("done").inner_text()
        row = page.locator("article[data-post-id='clear-me']")
        assert row.get_by_test_id("genuine-group").input_value() == "viral_genuine"
        assert (
            page.locator("article[data-post-id='clear-me'] [data-testid=verdict-state]")
            .inner_text()
            .startswith("clear")
        )
        assert (
            page.locator("article[data-post-id='confirm-me'] [data-testid=verdict-state]")
            .inner_text()
            .startswith("confirm")
        )
        page.screenshot(path=str(tmp_path / "review.png"))
        assert page.dialogs == [] and page.errors == []
    finally:
        srv.shutdown()
        thread.join(5)

    conn = S.connect(store)
    v1, v2 = S.get_verdict(conn, "confirm-me"), S.get_verdict(conn, "clear-me")
    assert (v1["verdict"], v1["note"], v1["reviewer"]) == (
        "confirm",
        "同一模板 <b>copy</b>",
        "alice",
    )
    assert (v2["verdict"], v2["reviewer"], v2["model_version"]) == ("clear", "alice", "3")
    assert v2["genuine_group"] == "viral_genuine" and v1["genuine_group"] is None
    st = {s.brand_id: s for s in L.brand_statuses(conn, L.load_rules())}
    assert st["brand-a"].points == 8 and st["brand-a"].tier == "warning"
    assert st["brand-b"].points == 8 and "brand-c" not in st
    conn.close()
    labels = verdicts_as_labels(store)
    assert labels.set_index("post_id")["label"].to_dict() == {"clear-me": 0, "confirm-me": 1}
    assert set(labels["fraud_type"]) == {"", "analyst_confirmed"}
    assert labels.set_index("post_id")["hard_case"].to_dict() == {
        "clear-me": "viral_genuine",
        "confirm-me": "",
    }
    # the ledger agrees after a sync, and a second sync changes nothing
    assert L.sync(store)["violation_recorded"] == 0
