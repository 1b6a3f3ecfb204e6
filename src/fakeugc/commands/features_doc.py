"""``fakeugc features-doc``: regenerate docs/features.md (catalogue + ablation)."""

from __future__ import annotations

import argparse
import shlex
import sys
from pathlib import Path

from fakeugc.settings import get_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "features-doc",
        help="write docs/features.md: the feature catalogue and the per-family ablation",
        description=(
            "Writes the feature catalogue (every feature's name, family, meaning and the "
            "sentence analysts see) generated from the code. With EXPORT dirs, also trains "
            "(logged to MLflow, not registered) with the per-family ablation and writes the "
            "ablation table."
        ),
    )
    p.add_argument("exports", nargs="*", metavar="EXPORT")
    p.add_argument("--out", type=Path, default=None, help="default docs/features.md")
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("--before", default="",
                   help="command that produced the exports, printed above ours in the doc")
    p.set_defaults(run=run)


def run(args) -> int:
    from fakeugc.features._docs import catalogue_markdown
    from fakeugc.io.writer import write_text_atomic

    out = args.out or get_settings().root / "docs" / "features.md"
    ablation = None
    hard_case = None
    notes = ""
    if args.exports:
        from fakeugc.modeling.config import load_config
        from fakeugc.modeling.train import train

        config = args.config or get_settings().pipelines / "train.yaml"
        cfg = load_config(config if Path(config).exists() else None, {"ablation": True})
        result = train(args.exports, cfg, register=False)
        ablation = result.ablation
        hard_case = result.evaluation.get("hard_case")
        s = result.split_counts
        notes = ("Split: " + ", ".join(f"{w} {v['posts']} posts ({v['positives']} fake)"
                                       for w, v in s.items())
                 + f". MLflow run `{result.run_id}`. Labelled hard genuine cases weigh "
                 f"{cfg.hard_negative_weight:g} in the booster's and the text model's training "
                 "(`hard_negative_weight` in pipelines/train.yaml).")
    command = "fakeugc features-doc " + " ".join(shlex.quote(str(e)) for e in args.exports)
    if args.before:
        command = args.before + "\n" + command
    write_text_atomic(catalogue_markdown(ablation, command if args.exports else "", notes,
                                          hard_case), out)
    sys.stdout.write(f"wrote {out}\n")
    return 0
