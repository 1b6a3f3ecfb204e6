"""``fakeugc validate``: read an export by the contract and say what was set aside."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fakeugc.io import read_exports
from fakeugc.io.writer import write_table_atomic


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "validate",
        help="read exports by the contract; count rows read / used / set aside",
        description=(
            "Reads every table of each EXPORT_DIR (Parquet file, CSV file or folder of "
            "Parquet parts; a folder of export_date=... exports counts as all of them), "
            "types every column and sets aside each row that breaks the contract with a "
            "reason. Prints rows read / used / set aside per table. Writes nothing unless "
            "--quarantine is given. Exit 0 when the export is readable, 2 when a required "
            "table or column is missing."
        ),
    )
    p.add_argument("exports", nargs="+", metavar="EXPORT_DIR")
    p.add_argument("--json", action="store_true", help="print one JSON object")
    p.add_argument("--quarantine", type=Path, metavar="FILE",
                   help="write the set-aside rows (table, row number, key, reason) as Parquet")
    p.set_defaults(run=run)


def run(args) -> int:
    export = read_exports(args.exports)
    summary = export.summary()
    summary["exports"] = [str(s) for s in export.sources]
    if args.quarantine:
        write_table_atomic(export.quarantine, args.quarantine)
        summary["quarantine"] = str(args.quarantine)
    if args.json:
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
        return 0
    out = [f"{len(export.sources)} export(s): " + ", ".join(str(s) for s in export.sources)]
    out.append(f"{'table':<10} {'read':>10} {'used':>10} {'set aside':>10}  reasons")
    for name, st in export.stats.items():
        reasons = ", ".join(f"{k} ×{v}" for k, v in sorted(st.reasons.items())) or "-"
        out.append(f"{name:<10} {st.read:>10} {st.used:>10} {st.set_aside:>10}  {reasons}")
    sys.stdout.write("\n".join(out) + "\n")
    return 0
