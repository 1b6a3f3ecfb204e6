"""``fakeugc train``: train, evaluate, log to MLflow and register a new model version."""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

from fakeugc.settings import get_settings


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "train",
        help="train a model on labelled exports, log it to MLflow and register it",
        description=(
            "Reads labelled EXPORT dirs (and analysts' verdicts from the review store as "
            "extra labels), builds features night by night, splits by time and account "
            "group, trains LightGBM, calibrates, chooses the threshold, evaluates on the "
            "latest window and logs config, lineage, metrics, plots and the pyfunc model "
            "to MLflow (MLFLOW_TRACKING_URI, default: the project's SQLite store). The new "
            "version becomes 'challenger' (and 'champion' if it is the first)."
        ),
    )
    p.add_argument("exports", nargs="+", metavar="EXPORT")
    p.add_argument("--model-name", help="registered model name (config: model_name)")
    p.add_argument("--config", type=Path, default=None,
                   help="training config (default: pipelines/train.yaml)")
    p.add_argument("--seed", type=int)
    p.add_argument("--families", help="comma-separated signal families to use")
    p.add_argument("--no-ablation", action="store_true", help="skip the per-family ablation")
    p.add_argument("--no-verdicts", action="store_true",
                   help="ignore analysts' verdicts in the review store")
    p.add_argument("--no-register", action="store_true", help="log the run but do not register")
    p.set_defaults(run=run)


def run(args) -> int:
    from fakeugc.modeling.config import load_config
    from fakeugc.modeling.train import train

    config = args.config or get_settings().pipelines / "train.yaml"
    overrides = {
        "model_name": args.model_name,
        "seed": args.seed,
        "families": args.families.split(",") if args.families else None,
        "ablation": False if args.no_ablation else None,
    }
    cfg = load_config(config if Path(config).exists() else None, overrides)
    extra = None
    if not args.no_verdicts:
        extra = _verdict_labels()
    result = train(args.exports, cfg, extra_labels=extra, register=not args.no_register)
    sys.stdout.write(result.summary() + "\n")
    return 0


def _verdict_labels():
    """Analysts' verdicts in the contract's labels shape, if a review store exists."""
    store = get_settings().store_path
    if not store.exists():
        return None
    try:
        from fakeugc.reports.store import verdicts_as_labels
    except ImportError:
        return None
    labels = verdicts_as_labels(store)
    return labels if len(labels) else None
