"""Training cost at scale: the whole ``train`` call against LightGBM alone.

Generates a synthetic platform whose every post is labelled (``review.base`` and
``review.reported`` raised to 1; labels land in the night of their post, a few in
the night after the last one and are lost), or reuses one (``--data``), runs
:func:`fakeugc.modeling.train.train` on it (read, frames, jieba, night context,
features, split, LightGBM, calibration, evaluation, MLflow logging; ablation off
unless ``--ablation``), then -- in the same process, on the same final train/valid
matrices -- times LightGBM alone: ``lgb.Dataset`` + ``lgb.train`` with the same
parameters and early stopping. Prints both times, their ratio, the seconds of
every stage, the caches' state, the peak RSS of the training process (frame
workers hold about 1 GiB each on top), the load averages, and fingerprints of the
model (booster text, threshold, calibrated test scores: two runs on the same data
and seed must print the same ones, whatever the caches did). The MLflow store and
experiment are created before the clock starts (a one-off on any machine).

The night-frame cache lives in ``--cache-dir`` (a fresh temporary folder unless
given): run twice with the same folder for a cold and a warm figure.

    .venv/bin/python benchmarks/training.py --labelled 40000
    # 1M labelled posts (wrap big runs in the shared lock):
    flock /tmp/fakeugc-heavy.lock .venv/bin/python benchmarks/training.py \\
        --labelled 1000000 --data /tmp/train1m --cache-dir /tmp/train1m-cache
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import tempfile
import time
from pathlib import Path


def platform(labelled: int, accounts: int, data: Path | None, seed: int = 3) -> tuple[Path, float]:
    """A synthetic platform with about ``labelled`` labelled posts (reused when ``data``
    already holds one)."""
    from fakeugc.synthetic import GeneratorConfig, generate

    per_day = accounts * 0.29  # posts a day on the default population
    days = max(8, round(labelled / per_day))
    out = data or Path(tempfile.mkdtemp(prefix="fakeugc-train-bench-")) / "raw"
    if out.is_dir() and any(out.glob("export_date=*")):
        return out, 0.0
    cfg = GeneratorConfig(days=days, accounts=accounts, seed=seed)
    cfg = cfg.model_copy(update={"review": cfg.review.model_copy(
        update={"base": 1.0, "reported": 1.0})})  # every post reviewed, so every post labelled
    t = time.perf_counter()
    generate(cfg, out)
    return out, time.perf_counter() - t


def lightgbm_alone(matrices: dict, params: dict, cfg, weight=None) -> dict:
    """``lgb.train`` on the final train/valid matrices, same parameters, same row
    weights, same early stopping on the validation window (the only one evaluated at
    each round, as in ``train``), timed from the DataFrames (Dataset construction
    included)."""
    import lightgbm as lgb

    X_tr, y_tr = matrices["train"]
    X_va, y_va = matrices["valid"]
    t = time.perf_counter()
    dtrain = lgb.Dataset(X_tr, label=y_tr, weight=weight, free_raw_data=False)
    dvalid = lgb.Dataset(X_va, label=y_va, reference=dtrain)
    booster = lgb.train(params, dtrain, num_boost_round=cfg.lightgbm.n_estimators,
                        valid_sets=[dvalid], valid_names=["valid"],
                        callbacks=[lgb.log_evaluation(period=0),
                                   lgb.early_stopping(cfg.lightgbm.early_stopping_rounds,
                                                      first_metric_only=True, verbose=False)])
    return {"seconds": time.perf_counter() - t, "best_iteration": booster.best_iteration,
            "rows": int(len(X_tr)), "valid_rows": int(len(X_va))}


def model_fingerprint(result) -> dict:
    """What must not change when training gets faster: the booster, the threshold, the
    calibrated scores of the test window and the evaluation."""
    import hashlib

    import numpy as np

    bundle = result.bundle
    X_te, _ = result.matrices["test"]
    prob = bundle.calibrator.predict(bundle.booster.predict(X_te, raw_score=True))
    return {
        "booster_sha256": hashlib.sha256(bundle.booster.model_to_string().encode()).hexdigest(),
        "threshold": bundle.threshold,
        "test_scores_sha256": hashlib.sha256(np.ascontiguousarray(prob).tobytes()).hexdigest(),
        "test_pr_auc": result.evaluation["overall"].get("pr_auc"),
        "evaluation_sha256": hashlib.sha256(json.dumps(
            {k: v for k, v in result.evaluation.items()}, sort_keys=True,
            default=str).encode()).hexdigest(),
    }


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labelled", type=int, default=200_000, help="labelled posts to train on")
    ap.add_argument("--accounts", type=int, default=20_000)
    ap.add_argument("--data", type=Path, default=None,
                    help="platform folder: reused if it holds exports, else generated there")
    ap.add_argument("--cache-dir", type=Path, default=None,
                    help="night-frame cache folder (default: a fresh one, i.e. a cold cache)")
    ap.add_argument("--no-cache", action="store_true", help="frame cache off")
    ap.add_argument("--workers", type=int, default=None, help="frame workers (config default)")
    ap.add_argument("--ablation", action="store_true", help="also run the per-family ablation")
    ap.add_argument("--out", type=Path, default=None)
    args = ap.parse_args(argv)

    tmp = Path(tempfile.mkdtemp(prefix="fakeugc-train-bench-"))
    os.environ.setdefault("MLFLOW_TRACKING_URI", f"sqlite:///{tmp / 'mlflow.db'}")
    os.environ["FAKEUGC_FRAME_CACHE"] = str(args.cache_dir or tmp / "frames")
    load_before = os.getloadavg()

    import lightgbm as lgb

    from fakeugc.modeling.config import TrainConfig
    from fakeugc.modeling.train import train

    raw, t_gen = platform(args.labelled, args.accounts, args.data)
    update = {"model_name": "bench", "experiment": "bench", "ablation": args.ablation,
              "frame_cache": not args.no_cache}
    if args.workers:
        update["workers"] = args.workers
    cfg = TrainConfig(**update)
    # a one-off, not part of training: the MLflow store and experiment exist already
    from fakeugc.modeling.train import _setup_mlflow

    _setup_mlflow(cfg.experiment)
    t = time.perf_counter()
    result = train([raw], cfg, register=False, keep_matrices=True)
    t_train = time.perf_counter() - t
    load_after_train = os.getloadavg()

    alone = lightgbm_alone(result.matrices, result.lightgbm_params, cfg, result.train_weight)
    counts = result.split_counts
    peak_gib = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 2**20
    out = {
        "date": time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime()),
        "labelled_posts": int(sum(v["posts"] for v in counts.values())),
        "train_rows": counts["train"]["posts"],
        "valid_rows": counts["valid"]["posts"],
        "features": len(result.bundle.feature_names),
        "workers": cfg.workers,
        "frame_cache": result.frame_cache,
        "ablation": cfg.ablation,
        "generate_s": t_gen,
        "train_total_s": t_train,
        "lightgbm_alone_s": alone["seconds"],
        "lightgbm_alone_best_iteration": alone["best_iteration"],
        "lightgbm_in_train_s": result.timings.get("lightgbm"),
        "ratio_train_to_lightgbm_alone": t_train / alone["seconds"],
        "timings": result.timings,
        "peak_rss_gib": peak_gib,
        "loadavg_before": load_before,
        "loadavg_after_train": load_after_train,
        "lightgbm_version": lgb.__version__,
        "model": model_fingerprint(result),
    }
    print(json.dumps(out, indent=2))
    if args.out:
        args.out.write_text(json.dumps(out, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
