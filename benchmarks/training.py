"""Training cost at scale: the whole ``train`` call against LightGBM alone.

Generates a synthetic platform whose every post is labelled (``review.base``
raised to 1), runs :func:`fakeugc.modeling.train.train` on it (features, split,
LightGBM, calibration, evaluation, MLflow logging; ablation off), then trains
LightGBM alone on the same final feature matrix with the same parameters, in the
same run, and prints both times, their ratio and the peak RSS of the process.

    .venv/bin/python benchmarks/training.py [--labelled 200000]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labelled", type=int, default=200_000, help="labelled posts to train on")
    ap.add_argument("--accounts", type=int, default=20_000)
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="fakeugc-train-bench-"))
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlflow.db'}")

    import lightgbm as lgb

    from fakeugc.modeling.config import TrainConfig
    from fakeugc.modeling.train import train
    from fakeugc.synthetic import GeneratorConfig, generate

    per_day = args.accounts * 0.29  # posts a day on the default population
    days = max(8, round(args.labelled / per_day))
    cfg_gen = GeneratorConfig(days=days, accounts=args.accounts, seed=3)
    cfg_gen = cfg_gen.model_copy(update={"review": cfg_gen.review.model_copy(
        update={"base": 1.0, "reported": 1.0})})  # every post reviewed, so every post labelled
    t = time.perf_counter()
    generate(cfg_gen, tmp / "raw")
    t_gen = time.perf_counter() - t

    cfg = TrainConfig(model_name="bench", experiment="bench", ablation=False)
    t = time.perf_counter()
    result = train([tmp / "raw"], cfg, register=False)
    t_train = time.perf_counter() - t

    # LightGBM alone on the final feature matrix: the booster fit inside the same run
    # (same rows, features, parameters and early stopping), timed on its own
    bundle = result.bundle
    counts = result.split_counts
    timings = result.timings
    t_lgb = timings.get("lightgbm", float("nan"))
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    out = {
        "labelled_posts": int(sum(v["posts"] for v in counts.values())),
        "train_rows": counts["train"]["posts"],
        "features": len(bundle.feature_names),
        "generate_s": t_gen,
        "train_total_s": t_train,
        "lightgbm_in_train_s": t_lgb,
        "ratio_train_to_lightgbm": t_train / t_lgb if t_lgb else None,
        "timings": timings,
        "peak_rss_gib": peak_gib,
        "lightgbm_version": lgb.__version__,
    }
    print(json.dumps(out, indent=2))
    if args.out:
        args.out.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
