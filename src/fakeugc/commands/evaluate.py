"""``fakeugc evaluate``: evaluate a model on any labelled export."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "evaluate",
        help="evaluate a model on labelled exports (metrics, per fraud type, plots)",
        description=(
            "Scores the labelled posts of EXPORT dirs with MODEL (an MLflow model URI, e.g. "
            "models:/fakeugc@champion) and prints ROC-AUC, PR-AUC, precision/recall at the "
            "model's threshold, precision at K, recall at precision 0.9, Brier score, the "
            "same per fraud type, and the false-positive rate per hard genuine group. "
            "Writes evaluation.json and PNG plots to --out."
        ),
    )
    p.add_argument("exports", nargs="+", metavar="EXPORT")
    p.add_argument("--model", required=True, metavar="URI")
    p.add_argument("--out", type=Path, help="folder for evaluation.json and plots")
    p.add_argument("--json", action="store_true", help="print the figures as one JSON object")
    p.add_argument("--k", type=int, default=100, help="K for precision at K")
    p.add_argument("--evasion", type=int, nargs="?", const=3, default=None, metavar="NIGHTS",
                   help="also run the evasion tests (full-width, zero-width, emoji or spaces "
                        "inside words, traditional characters, sentence order, all combined) "
                        "on the fake posts of the last NIGHTS nights (default 3): recall "
                        "before and after each")
    p.set_defaults(run=run)


def run(args) -> int:
    from fakeugc.modeling.evaluate import format_tables, to_json
    from fakeugc.modeling.scoring_eval import evaluate_model

    report = evaluate_model(args.model, args.exports, out=args.out, k=args.k,
                            evasion_nights=args.evasion)
    if args.json:
        sys.stdout.write(to_json(report) + "\n")
    else:
        sys.stdout.write(f"model {report['model']['uri']} (version {report['model']['version']})\n")
        sys.stdout.write(format_tables(report) + "\n")
        if "evasion" in report:
            from fakeugc.modeling.evasion import format_evasion

            sys.stdout.write("\n" + format_evasion(report["evasion"]) + "\n")
    return 0
