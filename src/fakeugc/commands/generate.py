"""``fakeugc generate``: write the synthetic platform's daily exports."""

from __future__ import annotations

import argparse
import datetime as dt
import json
import sys
from pathlib import Path

from fakeugc.settings import get_settings


def _date(text: str) -> dt.date:
    try:
        return dt.date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not a date (YYYY-MM-DD): {text!r}") from None


def _positive(text: str) -> int:
    try:
        v = int(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"not an integer: {text!r}") from None
    if v < 1:
        raise argparse.ArgumentTypeError(f"must be >= 1: {v}")
    return v


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "generate",
        help="write synthetic daily exports (posts, accounts, exposure, reports, brands, labels)",
        description=(
            "Simulates a Xiaohongshu-like platform with genuine users, fake-account farms, "
            "paid-intermediary campaigns, bought exposure and hard genuine cases, and writes "
            "one export per day to OUT/export_date=YYYY-MM-DD/ as Parquet tables following "
            "the export contract, plus _truth.parquet (every post's true label; the reader "
            "ignores it). Each folder is written atomically. Reads only the config file "
            "(--config, default pipelines/generate.yaml when it exists); command-line "
            "values override it. The same arguments give the same tables."
        ),
    )
    p.add_argument("--days", type=_positive, help="days of exports (config: days)")
    p.add_argument("--accounts", type=_positive, help="accounts on the platform (config: accounts)")
    p.add_argument("--seed", type=int, help="random seed (config: seed)")
    p.add_argument(
        "--start-date",
        type=_date,
        metavar="YYYY-MM-DD",
        help="first export date (config: start_date)",
    )
    p.add_argument(
        "--out", type=Path, metavar="DIR", help="output folder (default: the project's data/raw)"
    )
    p.add_argument(
        "--config",
        type=Path,
        metavar="YAML",
        help="generator config (default: pipelines/generate.yaml if present)",
    )
    p.add_argument("--no-truth", action="store_true", help="do not write _truth.parquet")
    p.add_argument("--json", action="store_true", help="print one JSON summary at the end")
    p.add_argument("--quiet", action="store_true", help="no per-day lines")
    p.set_defaults(run=run)


def run(args) -> int:
    from fakeugc.synthetic import generate, load_config

    settings = get_settings()
    config_path = args.config
    if config_path is None:
        default = settings.pipelines / "generate.yaml"
        config_path = default if default.is_file() else None
    elif not config_path.is_file():
        sys.stderr.write(f"fakeugc generate: config {config_path} not found\n")
        return 2
    try:
        cfg = load_config(
            config_path,
            days=args.days,
            accounts=args.accounts,
            seed=args.seed,
            start_date=args.start_date,
            write_truth=False if args.no_truth else None,
        )
    except (ValueError, OSError) as e:  # pydantic.ValidationError is a ValueError
        sys.stderr.write(f"fakeugc generate: invalid config {config_path or '(defaults)'}:\n{e}\n")
        return 2
    out = args.out if args.out is not None else settings.raw

    def on_day(s: dict) -> None:
        if args.quiet or args.json:
            return
        sys.stdout.write(
            f"{s['date']}  posts {s['posts']:>6}  fake {s['fake']:>5} ({s['fake_share']:.1%})  "
            f"accounts {s['accounts']:>6}  exposure rows {s['exposure_rows']:>8}  "
            f"cut short {s['cut_short']:>5}  reports {s['reports']:>5}  labels {s['labels']:>6}\n"
        )
        sys.stdout.flush()

    result = generate(cfg, out, on_day=on_day)
    summary = {
        "out": str(Path(out).absolute()),
        "days": len(result.days),
        "posts": result.posts,
        "fake": result.fake,
        "fake_share": round(result.fake / result.posts, 4) if result.posts else 0.0,
        "seconds": round(result.seconds, 1),
        "config": str(config_path) if config_path else None,
        "seed": cfg.seed,
        "accounts": cfg.accounts,
    }
    if args.json:
        summary["per_day"] = result.days
        sys.stdout.write(json.dumps(summary, ensure_ascii=False) + "\n")
    else:
        sys.stdout.write(
            f"wrote {summary['days']} export(s), {summary['posts']} posts "
            f"({summary['fake_share']:.1%} fake) to {summary['out']} in {summary['seconds']} s\n"
        )
    return 0
