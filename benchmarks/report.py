"""Benchmark: does the report for a 100,000-post night open in Chromium in under 3 s?

Builds a synthetic scores folder (default 100,000 posts, 3% flagged) plus a few
previous nights, renders the report with ``fakeugc report``'s defaults
(``--top 2000``), opens it in headless Chromium through Playwright several
times, and prints, per run: wall time of ``page.goto(..., wait_until="load")``,
the Navigation Timing figures (DOMContentLoaded, load event) and first
contentful paint; then the time a sort and a text filter take in the page.

    .venv/bin/python benchmarks/report.py [--posts 100000] [--runs 5]
        [--screenshot docs/report-screenshot.png]

Needs Debian's chromium (``make browser``). Target: load < 3 s.
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import tempfile
import time
from pathlib import Path

from fakeugc.reports.html import DEFAULT_TOP, render_report
from fakeugc.reports.sample import make_quarantine, make_scores, write_scores_dir

CHROMIUM = "/usr/bin/chromium"
ARGS = [
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]
TARGET_S = 3.0

NAV_JS = """() => {
  const n = performance.getEntriesByType('navigation')[0];
  const fcp = performance.getEntriesByName('first-contentful-paint')[0];
  return {dcl_ms: n.domContentLoadedEventEnd, load_ms: n.loadEventEnd,
          fcp_ms: fcp ? fcp.startTime : null, rows: document.querySelectorAll('.post').length};
}"""

SORT_JS = """() => {
  const s = document.getElementById('f-sort'); s.value = 'time-desc';
  const t = performance.now(); s.dispatchEvent(new Event('change'));
  document.body.offsetHeight; return performance.now() - t;
}"""

FILTER_JS = """() => {
  const s = document.getElementById('f-brand'); s.value = s.options[1].value;
  const t = performance.now(); s.dispatchEvent(new Event('change'));
  document.body.offsetHeight; return performance.now() - t;
}"""


def build(root: Path, posts: int, share: float, previous: int) -> Path:
    t = time.perf_counter()
    days = [f"2026-11-{24 - i:02d}" for i in range(previous, 0, -1)]
    for i, d in enumerate(days):
        write_scores_dir(
            root / f"export_date={d}",
            make_scores(
                posts,
                flagged_share=share * (0.8 + 0.1 * i),
                seed=100 + i,
                export_date=d,
                n_accounts=posts // 3,
            ),
        )
    scores = make_scores(
        posts, flagged_share=share, seed=7, export_date="2026-11-24", n_accounts=posts // 3
    )
    drift = {
        "psi": {
            "content": 0.04,
            "exposure": 0.17,
            "account": 0.06,
            "coordination": 0.03,
            "reports": 0.02,
            "score": 0.08,
        },
        "reference_window": "2026-10-01..2026-10-31",
        "threshold_warn": 0.1,
        "threshold_alarm": 0.25,
    }
    night = write_scores_dir(
        root / "export_date=2026-11-24", scores, quarantine=make_quarantine(57), drift=drift
    )
    sys.stderr.write(
        f"built {previous + 1} nights of {posts:,} posts in {time.perf_counter() - t:.1f} s\n"
    )
    return night


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--flagged-share", type=float, default=0.03)
    ap.add_argument("--previous", type=int, default=3, help="previous nights to build")
    ap.add_argument("--top", type=int, default=DEFAULT_TOP)
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--workdir", type=Path, default=None)
    ap.add_argument(
        "--screenshot",
        type=Path,
        default=None,
        help="also save a screenshot of the page's top (for docs/)",
    )
    args = ap.parse_args(argv)
    if not Path(CHROMIUM).exists():
        sys.stderr.write(f"{CHROMIUM} missing: run `make browser`\n")
        return 2
    from playwright.sync_api import sync_playwright

    with tempfile.TemporaryDirectory(prefix="fakeugc-bench-") as tmp:
        root = args.workdir or Path(tmp)
        night = build(root / "scored", args.posts, args.flagged_share, args.previous)
        out = root / "report.html"
        t = time.perf_counter()
        counts = render_report(night, out, top=args.top, store_path=root / "store.sqlite")
        render_s = time.perf_counter() - t
        sys.stderr.write(
            f"rendered {counts['rendered']:,} of {counts['flagged']:,} flagged posts "
            f"({counts['bytes'] / 1e6:.1f} MB) in {render_s:.1f} s\n"
        )
        runs = []
        with sync_playwright() as p:
            browser = p.chromium.launch(executable_path=CHROMIUM, args=ARGS)
            for i in range(args.runs):
                ctx = browser.new_context(viewport={"width": 1300, "height": 1600})
                page = ctx.new_page()
                t = time.perf_counter()
                page.goto(out.as_uri(), wait_until="load", timeout=60_000)
                wall = time.perf_counter() - t
                nav = page.evaluate(NAV_JS)
                nav["goto_load_s"] = round(wall, 3)
                nav["sort_ms"] = round(page.evaluate(SORT_JS), 1)
                nav["filter_ms"] = round(page.evaluate(FILTER_JS), 1)
                runs.append(nav)
                sys.stderr.write(f"run {i + 1}: {json.dumps(nav)}\n")
                if i == 0 and args.screenshot:
                    page.evaluate(
                        "() => { const s = document.getElementById('f-sort'); "
                        "s.value = 'prob-desc'; s.dispatchEvent(new Event('change')); "
                        "const b = document.getElementById('f-brand'); b.value = ''; "
                        "b.dispatchEvent(new Event('change')); }"
                    )
                    page.screenshot(path=str(args.screenshot))
                ctx.close()
            browser.close()
    med = {
        k: statistics.median(r[k] for r in runs)
        for k in ("goto_load_s", "dcl_ms", "load_ms", "fcp_ms", "sort_ms", "filter_ms")
        if all(r.get(k) is not None for r in runs)
    }
    result = {
        "posts": args.posts,
        "flagged": counts["flagged"],
        "rendered": counts["rendered"],
        "html_mb": round(counts["bytes"] / 1e6, 2),
        "render_s": round(render_s, 2),
        "runs": args.runs,
        "median": med,
        "target_s": TARGET_S,
        "ok": med["goto_load_s"] < TARGET_S,
    }
    sys.stdout.write(json.dumps(result) + "\n")
    sys.stdout.write(
        f"report for {args.posts:,} posts ({counts['flagged']:,} flagged, {counts['rendered']:,} "
        f"rendered, {result['html_mb']} MB): load {med['goto_load_s']:.2f} s (median of "
        f"{args.runs}; DOMContentLoaded {med['dcl_ms']:.0f} ms, "
        f"load event {med['load_ms']:.0f} ms, "
        f"first contentful paint {med.get('fcp_ms', float('nan')):.0f} ms), sort "
        f"{med['sort_ms']:.0f} ms, filter {med['filter_ms']:.0f} ms; target < {TARGET_S:.0f} s: "
        f"{'OK' if result['ok'] else 'MISSED'}\n"
    )
    return 0 if result["ok"] else 1


if __name__ == "__main__":
    sys.exit(main())
