"""``fakeugc score``: score one night's export with the registered model."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "score",
        help="score one export (one night) with the registered model; write the scores "
             "folder atomically",
        description=(
            "Resolves the model alias once, streams EXPORT_DIR table by table in chunks "
            "(memory is set by --chunk-size, not by the export), sets aside rows that break "
            "the contract, computes the night-wide signals from compact keys, scores every "
            "post and writes OUT/scores.parquet, OUT/quarantine.parquet, OUT/drift.json and "
            "the OUT/_SUCCESS manifest (written last, after an atomic rename). A rerun "
            "replaces OUT. Defaults come from pipelines/score_nightly.yaml; arguments "
            "override them. Exit 0 on success, 2 when the export cannot be read, 1 when the "
            "row counts do not add up (nothing is written)."
        ),
    )
    p.add_argument("export", metavar="EXPORT_DIR", help="one export folder (export_date=...)")
    p.add_argument("--model", help="models:/NAME@alias, models:/NAME/VERSION or a local MLflow "
                                   "model folder (config: model)")
    p.add_argument("--out", type=Path, help="output folder (config: out, with {date})")
    p.add_argument("--engine", choices=["local", "spark"])
    p.add_argument("--master", help="Spark master, e.g. local[2] or spark://host:7077")
    p.add_argument("--chunk-size", type=int, help="posts per chunk / bucket")
    p.add_argument("--workers", type=int, help="local engine worker processes (0: in-process)")
    p.add_argument("--config", type=Path, default=None,
                   help="scoring config (default: pipelines/score_nightly.yaml)")
    p.add_argument("--json", action="store_true", help="print the manifest as JSON")
    p.set_defaults(run=run)


def run(args) -> int:
    from fakeugc.scoring import ScoringError, load_score_config, score_export
    from fakeugc.settings import get_settings

    config = args.config
    if config is None:
        default = get_settings().pipelines / "score_nightly.yaml"
        config = default if default.exists() else None
    cfg = load_score_config(config, {
        "model": args.model, "engine": args.engine, "master": args.master,
        "chunk_size": args.chunk_size, "workers": args.workers,
    })
    try:
        manifest = score_export(args.export, cfg, out=args.out)
    except ScoringError as e:
        sys.stderr.write(f"fakeugc score: {e}\n")
        return 1
    if args.json:
        sys.stdout.write(json.dumps(manifest, ensure_ascii=False) + "\n")
    else:
        t = manifest["tables"]
        lines = [f"scored {t['posts']['scored']:,} posts ({manifest['posts_flagged']:,} flagged) "
                 f"-> {manifest['output']}",
                 f"model {manifest['model']['name']} v{manifest['model']['version']} "
                 f"(threshold {manifest['model']['threshold']:.4g})",
                 f"{'table':<10} {'read':>10} {'used':>10} {'set aside':>10}"]
        for name, s in t.items():
            lines.append(f"{name:<10} {s['read']:>10,} {s['used']:>10,} {s['set_aside']:>10,}")
        sys.stdout.write("\n".join(lines) + "\n")
    return 0
