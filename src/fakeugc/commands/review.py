"""``fakeugc review``: the local review page, and verdicts exported as labels."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fakeugc.commands._options import add_store_options
from fakeugc.io.writer import write_table_atomic
from fakeugc.reports.scores import ScoresDirError
from fakeugc.reports.store import StoreError, resolve_store_path, verdicts_as_labels

EXPORT = "export-labels"


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "review",
        help="serve the review page for a night (127.0.0.1), or export verdicts as labels",
        description=(
            "fakeugc review SCORES_DIR [--port 8765]: serves a local page (127.0.0.1 only) "
            "listing the night's flagged posts with Confirm / Clear buttons and a note. "
            "Verdicts go to the analysts' store; a confirm records brand violations in the "
            "ledger at once. "
            f"fakeugc review {EXPORT} --out DIR/labels.parquet: writes every verdict in the "
            "export contract's labels shape (label 1 = confirmed, 0 = cleared), for training. "
            f"(A scores folder literally named {EXPORT} can be given as ./{EXPORT}.)"
        ),
    )
    p.add_argument("target", metavar=f"SCORES_DIR|{EXPORT}")
    p.add_argument("--port", type=int, default=8765)
    p.add_argument(
        "--reviewer",
        default=None,
        help="name recorded with verdicts (default: the OS user; the page can change it)",
    )
    p.add_argument(
        "--out", type=Path, default=None, help=f"with {EXPORT}: labels file (.parquet, or .csv)"
    )
    add_store_options(p)
    p.set_defaults(run=run)


def run(args) -> int:
    if args.target == EXPORT:
        if args.out is None:
            sys.stderr.write(f"fakeugc review {EXPORT}: --out DIR/labels.parquet is required\n")
            return 2
        try:
            labels = verdicts_as_labels(args.store)
        except StoreError as e:
            sys.stderr.write(f"fakeugc review: {e}\n")
            return 2
        write_table_atomic(labels, args.out)
        n1 = int((labels["label"] == 1).sum())
        sys.stdout.write(
            f"{args.out}: {len(labels):,} labels ({n1:,} confirmed, "
            f"{len(labels) - n1:,} cleared) from {resolve_store_path(args.store)}\n"
        )
        return 0
    from fakeugc.reports.review_app import create_app, serve

    try:
        app = create_app(args.target, args.store, reviewer=args.reviewer, rules_path=args.rules)
    except (ScoresDirError, StoreError) as e:
        sys.stderr.write(f"fakeugc review: {e}\n")
        return 2
    sys.stderr.write(
        f"review page: http://127.0.0.1:{args.port}/  (store "
        f"{app.config['STORE_PATH']}; Ctrl-C to stop)\n"
    )
    serve(app, args.port)
    return 0
