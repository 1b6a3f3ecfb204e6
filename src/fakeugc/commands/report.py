"""``fakeugc report``: the nightly analyst report, one self-contained HTML file."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fakeugc.commands._options import add_store_options
from fakeugc.reports.html import DEFAULT_TOP, render_report
from fakeugc.reports.scores import ScoresDirError
from fakeugc.reports.store import StoreError
from fakeugc.settings import get_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "report",
        help="write the night's flagged-content report (one self-contained HTML file)",
        description=(
            "Reads a scores folder written by the nightly scorer (scores.parquet, "
            "quarantine.parquet, the _SUCCESS manifest, optional drift.json) and its complete "
            "sibling export_date=... folders (the previous nights), plus the brand ledger from "
            "the analysts' store (read-only), and writes one HTML file that opens without "
            "network: night summary, score distribution against previous nights, drift, "
            "flagged posts with reasons and exposure curves, campaigns, repeat accounts and "
            "brands with their ledger points. Refuses a folder without _SUCCESS (exit 2)."
        ),
    )
    p.add_argument("scores_dir", type=Path, metavar="SCORES_DIR")
    p.add_argument(
        "--out",
        type=Path,
        default=None,
        help="output HTML file (default: data/reports/<SCORES_DIR name>/report.html)",
    )
    p.add_argument(
        "--top",
        type=int,
        default=DEFAULT_TOP,
        help=f"render at most N flagged posts, highest probability first "
        f"(default {DEFAULT_TOP}; the page says how many were left out)",
    )
    p.add_argument(
        "--previous-nights",
        type=int,
        default=7,
        metavar="N",
        help="compare with up to N previous nights (default 7)",
    )
    add_store_options(p)
    p.add_argument("--json", action="store_true", help="print the counts as one JSON object")
    p.set_defaults(run=run)


def run(args) -> int:
    if args.top < 0:
        sys.stderr.write("fakeugc report: --top must be >= 0\n")
        return 2
    out = args.out or (get_settings().data / "reports" / Path(args.scores_dir).name / "report.html")
    try:
        counts = render_report(
            args.scores_dir,
            out,
            top=args.top,
            store_path=args.store,
            rules_path=args.rules,
            previous_nights=args.previous_nights,
        )
    except (ScoresDirError, StoreError) as e:
        sys.stderr.write(f"fakeugc report: {e}\n")
        return 2
    if args.json:
        sys.stdout.write(json.dumps(counts, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(
            f"{counts['out']}: {counts['scored']:,} scored, {counts['flagged']:,} flagged "
            f"({counts['rendered']:,} shown, {counts['left_out']:,} left out), "
            f"{counts['set_aside']:,} set aside; previous nights: "
            f"{', '.join(counts['previous_nights']) or 'none'}\n"
        )
    return 0
