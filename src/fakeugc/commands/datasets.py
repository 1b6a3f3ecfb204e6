"""``fakeugc datasets convert``: a public data set's original release -> an export."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "datasets",
        help="convert public labelled data sets into the export contract",
        description=(
            "Public data sets in their original release layout, converted into an export "
            "directory that every command reads (see docs/benchmarks.md)."
        ),
    )
    dsub = p.add_subparsers(dest="datasets_command", metavar="ACTION", required=True)
    c = dsub.add_parser(
        "convert",
        help="convert one release (ced, ott, weibo21) into an export directory",
        description=(
            "ced: the CED_Dataset/ folder of thunlp/Chinese_Rumor_Dataset "
            "(original-microblog/, rumor-repost/, non-rumor-repost/). "
            "ott: the op_spam_v1.4/ folder of the Deceptive Opinion Spam corpus "
            "(positive_polarity/..., negative_polarity/...). "
            "weibo21: the folder holding the MDFEND release train.pkl, val.pkl, test.pkl "
            "(or train/val/test .json/.jsonl). Writes posts, labels (and accounts, exposure "
            "for ced) as Parquet into --out, replacing it; prints what was written and what "
            "could not be converted, with the reason."
        ),
    )
    c.add_argument("dataset", choices=("ced", "ott", "weibo21"))
    c.add_argument("source", type=Path, metavar="SOURCE", help="the release folder")
    c.add_argument("--out", type=Path, required=True, metavar="DIR", help="export directory")
    c.add_argument("--json", action="store_true", help="print one JSON object")
    c.set_defaults(run=run)


def run(args) -> int:
    from fakeugc.datasets import convert

    try:
        conversion = convert(args.dataset, args.source, args.out)
    except (FileNotFoundError, ValueError) as e:
        sys.stderr.write(f"fakeugc datasets convert {args.dataset}: {e}\n")
        return 2
    summary = conversion.summary()
    summary["out"] = str(args.out)
    if args.json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
        return 0
    lines = [f"{args.dataset}: {summary['source']} -> {args.out}"]
    lines += [f"  {name:<9} {n:>8} rows" for name, n in summary["rows"].items()]
    for reason, n in summary["skipped"].items():
        lines.append(f"  not converted: {reason} ×{n}")
    lines += [f"  note: {n}" for n in summary["notes"]]
    lines.append(f"check it with: fakeugc validate {args.out}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0
