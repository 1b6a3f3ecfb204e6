"""``fakeugc run``: the main job on the embedded default, end to end.

generate a synthetic platform → validate it → train and register a model on
every night but the last → score the last night with the champion → write
the analysts' report. Each step is the same library call its own command makes.
"""

from __future__ import annotations

import argparse
import logging
import sys
from pathlib import Path

from fakeugc.settings import get_settings

log = logging.getLogger("fakeugc.run")


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "run",
        help="the main job: generate → validate → train → register → score → report",
        description=(
            "Runs the whole pipeline on the embedded default: writes a synthetic platform "
            "to data/raw (one export per day), validates it, trains and registers a model "
            "in the project's MLflow store (or MLFLOW_TRACKING_URI) on every night but the "
            "last, scores the last night with models:/NAME@champion into data/scored/, and "
            "writes data/reports/report-DATE.html."
        ),
    )
    p.add_argument("--days", type=int, default=21)
    p.add_argument("--accounts", type=int, default=4000)
    p.add_argument("--seed", type=int, default=7)
    p.add_argument("--out", type=Path, default=None, help="raw exports folder (default data/raw)")
    p.add_argument("--model-name", default="fakeugc")
    p.set_defaults(run=run)


def _say(msg: str) -> None:
    sys.stdout.write(msg + "\n")
    sys.stdout.flush()


def run(args) -> int:
    from fakeugc.io import discover_exports, read_exports
    from fakeugc.synthetic import generate
    from fakeugc.synthetic._config import load_config as load_generator_config

    settings = get_settings()
    raw = args.out or settings.raw
    _say(f"[1/5] generate {args.days} days × {args.accounts} accounts (seed {args.seed}) → {raw}")
    gen_yaml = settings.pipelines / "generate.yaml"
    gen_cfg = load_generator_config(gen_yaml if gen_yaml.exists() else None, days=args.days,
                                    accounts=args.accounts, seed=args.seed)
    generate(gen_cfg, raw)
    exports = discover_exports([raw])
    exports = [e for e in exports if e.name.startswith("export_date=")]
    exports = sorted(exports)[-args.days:]
    export = read_exports(exports)
    total = {n: (s.read, s.used, s.set_aside) for n, s in export.stats.items()}
    _say("[2/5] validate: " + ", ".join(f"{n} {r}/{u}/{a}" for n, (r, u, a) in total.items())
         + "  (read/used/set aside)")
    del export

    from fakeugc.modeling.config import load_config
    from fakeugc.modeling.train import train

    cfg_path = settings.pipelines / "train.yaml"
    cfg = load_config(cfg_path if cfg_path.exists() else None, {"model_name": args.model_name})
    history, tonight = exports[:-1], exports[-1]
    _say(f"[3/5] train on {len(history)} nights → MLflow {settings.tracking_uri}")
    result = train([str(e) for e in history], cfg)
    _say(result.summary())

    from fakeugc.scoring import load_score_config, score_export

    date = tonight.name.split("=", 1)[-1]
    scored = settings.data / "scored" / f"export_date={date}"
    uri = f"models:/{cfg.model_name}@champion"
    _say(f"[4/5] score {tonight} with {uri} → {scored}")
    score_yaml = settings.pipelines / "score_nightly.yaml"
    score_cfg = load_score_config(score_yaml if score_yaml.exists() else None, {"model": uri})
    manifest = score_export(tonight, score_cfg, scored)
    posts = manifest.get("tables", {}).get("posts", {})
    _say(f"      scored {posts.get('scored')} posts, flagged {manifest.get('posts_flagged')}, "
         f"set aside {posts.get('set_aside')}")

    from fakeugc.reports import render_report

    report = settings.data / "reports" / f"report-{date}.html"
    _say(f"[5/5] report → {report}")
    render_report(scored, report)
    _say(f"done. open {report}")
    return 0
