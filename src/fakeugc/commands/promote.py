"""``fakeugc promote``: the gated move of the ``champion`` alias, and its history."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from fakeugc.settings import get_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "promote",
        help="make the challenger champion if it beats it on the held-out window",
        description=(
            "Scores the challenger's held-out window (recorded at training) with both the "
            "champion and the challenger and moves 'champion' only if the challenger's "
            "metric beats the champion's by the configured margin (pipelines/train.yaml: "
            "promotion), or with --force (recorded). Every alias move is logged in the "
            "registry; --history prints them and --live-on DATE says which version was "
            "champion on that date. Reads and writes the MLflow registry only."
        ),
    )
    p.add_argument("--model-name", default=None)
    p.add_argument("--config", type=Path, default=None)
    p.add_argument("--force", action="store_true", help="promote without the gate (recorded)")
    p.add_argument("--margin", type=float, default=None)
    p.add_argument("--exports", nargs="*", help="score these exports instead of the recorded ones")
    p.add_argument("--history", action="store_true", help="print the alias history and exit")
    p.add_argument("--live-on", metavar="DATE", help="which version was champion on DATE")
    p.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args) -> int:
    import mlflow
    from mlflow import MlflowClient

    from fakeugc.modeling.config import load_config
    from fakeugc.modeling.promote import promote
    from fakeugc.modeling.registry import alias_history, live_version_on

    config = args.config or get_settings().pipelines / "train.yaml"
    cfg = load_config(config if Path(config).exists() else None,
                      {"model_name": args.model_name, "promotion.margin": args.margin})
    name = cfg.model_name
    mlflow.set_tracking_uri(get_settings().tracking_uri)
    client = MlflowClient()
    if args.history:
        hist = alias_history(client, name)
        sys.stdout.write((hist.to_json(orient="records", date_format="iso") if args.json
                          else hist.drop(columns=["evidence"]).to_string(index=False)) + "\n")
        return 0
    if args.live_on:
        v = live_version_on(client, name, args.live_on)
        sys.stdout.write(json.dumps({"model": name, "date": args.live_on, "champion": v}) + "\n"
                         if args.json else f"{name}: champion on {args.live_on} was version {v}\n")
        return 0
    decision = promote(name, cfg.promotion, force=args.force, exports=args.exports)
    if args.json:
        sys.stdout.write(json.dumps(decision.as_dict(), default=str) + "\n")
    else:
        verb = "promoted" if decision.promoted else "kept champion"
        sys.stdout.write(
            f"{name}: {verb} (champion was v{decision.champion_before}, challenger "
            f"v{decision.challenger}; {decision.metric} {decision.champion_score} vs "
            f"{decision.challenger_score}): {decision.reason}\n")
    return 0 if decision.promoted or not args.force else 1
