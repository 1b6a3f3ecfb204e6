"""``fakeugc benchmark``: the real pipeline on the public labelled sets."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fakeugc.settings import get_settings

CHOICES = ("ott", "weibo21", "ced", "all")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "benchmark",
        help="train and evaluate the pipeline on the public benchmark sets (CED, Ott, Weibo21)",
        description=(
            "Reads each public set (converted into the export contract, default "
            "../shared/benchmarks) through the export reader and runs its own protocol with "
            "the pipeline's feature builders, LightGBM and calibration: CED 5-fold CV grouped "
            "by account, all signals and with the curve cut at 1, 6 and 24 h; Ott on its five "
            "hotel-grouped folds, pooled and per polarity; Weibo21 on its official split, "
            "overall and per domain. Plain baselines run on the same folds. Prints a table, "
            "writes the headline figures to docs/benchmarks.json (merged with sets already "
            "there), the results table into docs/benchmarks.md when all sets ran, and logs "
            "one MLflow run per set (experiment 'benchmarks'). Settings: "
            "pipelines/benchmarks.yaml."
        ),
    )
    p.add_argument("sets", nargs="*", default=[], metavar="SET",
                   help="ott, weibo21, ced or all (default: all)")
    p.add_argument("--data", type=Path, default=None, metavar="DIR",
                   help="folder of the converted sets (default: ../shared/benchmarks)")
    p.add_argument("--quick", action="store_true",
                   help="a small subsample and fewer folds/rounds: a smoke test, not a figure "
                        "(writes data/benchmarks/quick.json unless --json is given)")
    p.add_argument("--config", type=Path, default=None,
                   help="benchmark settings (default: pipelines/benchmarks.yaml)")
    p.add_argument("--json", type=Path, default=None, metavar="FILE",
                   help="headline figures (default: docs/benchmarks.json)")
    p.add_argument("--no-doc", action="store_true",
                   help="do not rewrite the results table in docs/benchmarks.md")
    p.add_argument("--no-mlflow", action="store_true", help="do not log to MLflow")
    p.add_argument("--select", action="store_true",
                   help="instead of the benchmark, evaluate the set's grid of candidate "
                        "settings without its test rows (weibo21: on val; ott: nested CV)")
    p.set_defaults(run=run)


def run(args) -> int:
    from fakeugc.benchmarks_public import SETS, run_benchmarks

    unknown = [s for s in args.sets if s not in CHOICES]
    if unknown:
        sys.stderr.write(f"fakeugc benchmark: unknown set {unknown[0]!r}; "
                         f"choose from {', '.join(CHOICES)}\n")
        return 2
    wanted = list(SETS) if "all" in args.sets or not args.sets else \
        [s for s in SETS if s in args.sets]
    root = get_settings().root
    json_path = args.json or (root / "data" / "benchmarks" / "quick.json" if args.quick
                              else root / "docs" / "benchmarks.json")
    doc = None if (args.no_doc or args.quick) else root / "docs" / "benchmarks.md"
    if args.select:
        return _select(wanted, args, json_path)
    try:
        result = run_benchmarks(wanted, data_root=args.data, quick=args.quick,
                                config=args.config, json_path=json_path, doc_path=doc,
                                mlflow_log=not args.no_mlflow)
    except FileNotFoundError as e:
        sys.stderr.write(f"fakeugc benchmark: {e}\n")
        return 2
    lines = [result.table(), f"headline figures: {json_path}"]
    for name, run_id in result.run_ids.items():
        lines.append(f"mlflow run {name}: {run_id}")
    if result.doc_updated:
        lines.append(f"results table written into {doc}")
    sys.stdout.write("\n".join(lines) + "\n")
    return 0


def _select(wanted, args, json_path) -> int:
    import pandas as pd

    from fakeugc.benchmarks_public.runner import run_selection

    for name in wanted:
        if name == "ced":
            continue
        out = run_selection(name, data_root=args.data, config=args.config,
                            json_path=json_path, mlflow_log=not args.no_mlflow)
        with pd.option_context("display.width", 200, "display.max_colwidth", 120):
            for tname, df in out["tables"].items():
                sys.stdout.write(f"{name} {tname}:\n{df.to_string(index=False)}\n")
        sys.stdout.write(f"{name}: {out['summary']}\n")
    return 0
