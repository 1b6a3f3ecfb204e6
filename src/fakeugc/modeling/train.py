"""Training: features, an honest split, LightGBM, calibration, threshold, MLflow.

One call of :func:`train` reads labelled exports, builds the post frames night
by night, splits by time and by account group, fits the feature pipeline and a
LightGBM booster with early stopping, calibrates on a later window, picks the
threshold by the configured policy, evaluates on the latest window (with the
per-family ablation), and logs everything to MLflow: config, parameters, data
lineage, code version, metrics, plots, feature importance, a sample of
explanations, and one pyfunc model registered as a new version.
"""

from __future__ import annotations

import hashlib
import json
import logging
import subprocess
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path

import lightgbm as lgb
import mlflow
import numpy as np
import pandas as pd
import yaml
from mlflow import MlflowClient
from mlflow.entities import Metric

from fakeugc import __version__
from fakeugc.features._catalogue import FAMILIES
from fakeugc.features._pipeline import build_feature_pipeline
from fakeugc.modeling.bundle import ScoringBundle
from fakeugc.modeling.calibration import MarginCalibrator
from fakeugc.modeling.config import TrainConfig
from fakeugc.modeling.data import (
    LABEL_COLUMNS,
    DigestCache,
    FrameCache,
    as_matrix,
    brand_vocabulary,
    export_inventory,
    first_night_posts,
    frame_cache_dir,
    plan_nights,
    prepare_nights,
    prune_cache,
    read_brands,
)
from fakeugc.modeling.evaluate import evaluation_report, format_tables, save_plots, write_report
from fakeugc.modeling.explain import explain_rows, family_of
from fakeugc.modeling.metrics import binary_metrics, choose_threshold, per_group_table
from fakeugc.modeling.registry import register_version
from fakeugc.modeling.split import assign_split
from fakeugc.settings import get_settings

log = logging.getLogger(__name__)


@dataclass
class TrainResult:
    run_id: str
    model_uri: str
    version: str | None
    evaluation: dict
    ablation: pd.DataFrame
    bundle: ScoringBundle
    split_counts: dict = field(default_factory=dict)
    timings: dict = field(default_factory=dict)
    #: what the night-frame cache did: hits, misses, state (hit | miss | partial | off)
    frame_cache: dict = field(default_factory=dict)
    matrices: dict = field(default_factory=dict)
    lightgbm_params: dict = field(default_factory=dict)
    train_weight: np.ndarray | None = None

    def summary(self) -> str:
        lines = [f"run {self.run_id}  model version {self.version}  ({self.model_uri})",
                 format_tables(self.evaluation)]
        if not self.ablation.empty:
            lines += ["", "ablation (test window):", self.ablation.to_string(index=False)]
        return "\n".join(lines)


# ----------------------------------------------------------------------------- helpers


def code_version() -> str:
    """The git commit of the code (``-dirty`` with uncommitted changes), else the
    package version."""
    root = get_settings().root
    try:
        sha = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True,
                             text=True, timeout=5, check=True).stdout.strip()
        # uncommitted or untracked code or config changes what "this commit" means
        dirty = subprocess.run(["git", "status", "--porcelain", "--", "src", "pipelines"],
                               cwd=root, capture_output=True, text=True, timeout=5).stdout
        return sha + ("-dirty" if dirty.strip() else "")
    except (OSError, subprocess.SubprocessError):
        return f"fakeugc-{__version__}"


def file_digest(paths) -> dict[str, str]:
    out = {}
    for p in paths:
        h = hashlib.sha256()
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
        out[str(p)] = h.hexdigest()[:16]
    return out


def lightgbm_params(cfg: TrainConfig, pos: int, neg: int) -> dict:
    g = cfg.lightgbm
    params = {
        "objective": "binary",
        "metric": ["average_precision", "binary_logloss"],
        "learning_rate": g.learning_rate,
        "num_leaves": g.num_leaves,
        "min_child_samples": g.min_child_samples,
        "feature_fraction": g.feature_fraction,
        "bagging_fraction": g.bagging_fraction,
        "bagging_freq": g.bagging_freq,
        "lambda_l2": g.lambda_l2,
        "max_bin": g.max_bin,
        "num_threads": g.num_threads,
        "seed": cfg.seed,
        "deterministic": True,
        "force_col_wise": True,
        "verbosity": -1,
    }
    ratio = neg / max(pos, 1)
    if cfg.imbalance == "scale_pos_weight":
        params["scale_pos_weight"] = ratio
    elif cfg.imbalance == "sqrt":
        params["scale_pos_weight"] = float(np.sqrt(ratio))
    return params


def training_weights(frame: pd.DataFrame, y, cfg: TrainConfig) -> np.ndarray | None:
    """Per-row booster weights: ``cfg.hard_negative_weight`` for genuine posts marked as
    a hard case, 1 elsewhere; ``None`` when nothing is up-weighted."""
    if cfg.hard_negative_weight == 1.0 or "hard_case" not in frame.columns:
        return None
    hard = frame["hard_case"].fillna("").astype(str).str.strip().to_numpy() != ""
    hard &= np.asarray(y) == 0
    if not hard.any():
        return None
    return np.where(hard, float(cfg.hard_negative_weight), 1.0)


def fit_booster(X_tr, y_tr, X_va, y_va, cfg: TrainConfig, weight=None):
    params = lightgbm_params(cfg, int(y_tr.sum()), int(len(y_tr) - y_tr.sum()))
    if cfg.lightgbm.monotone:
        params["monotone_constraints"] = [int(cfg.lightgbm.monotone.get(c, 0))
                                          for c in X_tr.columns]
        params["monotone_constraints_method"] = "advanced"
    evals: dict = {}
    dtrain = lgb.Dataset(X_tr, label=y_tr, weight=weight, free_raw_data=False)
    callbacks = [lgb.record_evaluation(evals), lgb.log_evaluation(period=0)]
    # only the validation window is evaluated at each round: early stopping ignores the
    # training set, and its metrics (a sort of every training row per round) cost a
    # fifth of the booster's time at a million posts
    valid_sets: list = []
    names: list[str] = []
    if len(X_va) and len(np.unique(y_va)) == 2:
        dvalid = lgb.Dataset(X_va, label=y_va, reference=dtrain)
        valid_sets.append(dvalid)
        names.append("valid")
        callbacks.append(lgb.early_stopping(cfg.lightgbm.early_stopping_rounds,
                                            first_metric_only=True, verbose=False))
    booster = lgb.train(params, dtrain, num_boost_round=cfg.lightgbm.n_estimators,
                        valid_sets=valid_sets, valid_names=names, callbacks=callbacks)
    if booster.best_iteration and booster.best_iteration > 0:
        booster = lgb.Booster(model_str=booster.model_to_string(
            num_iteration=booster.best_iteration))
    return booster, params, evals


def calibrate_and_threshold(booster, X_ca, frame_ca, cfg: TrainConfig):
    y_ca = frame_ca["label"].to_numpy(dtype=int)
    raw = booster.predict(X_ca, raw_score=True) if len(X_ca) else np.zeros(0)
    calibrator = MarginCalibrator(cfg.calibration).fit(raw, y_ca)
    prob = calibrator.predict(raw)
    thr = choose_threshold(
        y_ca, prob, cfg.threshold.policy, cfg.threshold.target_precision,
        cfg.threshold.daily_capacity,
        days=frame_ca["night"].to_numpy() if "night" in frame_ca else None,
    )
    return calibrator, thr


def family_columns(feature_names: list[str]) -> dict[str, list[str]]:
    out: dict[str, list[str]] = {}
    for n in feature_names:
        out.setdefault(family_of(n), []).append(n)
    return out


def run_ablation(parts: dict, cfg: TrainConfig, feature_names: list[str],
                 full: tuple | None = None) -> pd.DataFrame:
    """What each family adds: content only, then +exposure, +account, +coordination,
    +feedback (cumulative), each a full booster + calibration + threshold, scored on
    the test window. ``full`` (booster, calibrator, threshold) is the model trained on
    every feature: the last row is that model rather than a second fit of it."""
    by_family = family_columns(feature_names)
    rows = []
    used: list[str] = []
    for family in FAMILIES:
        if family not in cfg.families or family not in by_family:
            continue
        used = used + [family]
        cols = [c for f in used for c in by_family.get(f, [])]
        label = "content only" if used == ["content"] else "+" + family
        if full is not None and set(cols) == set(feature_names):
            booster, calibrator, thr = full
            cols = list(feature_names)
        else:
            booster, _, _ = fit_booster(parts["train"][0][cols], parts["train"][1],
                                        parts["valid"][0][cols], parts["valid"][1], cfg,
                                        training_weights(parts["train"][2], parts["train"][1],
                                                         cfg))
            calibrator, thr = calibrate_and_threshold(booster, parts["calibration"][0][cols],
                                                      parts["calibration"][2], cfg)
        X_te, y_te, f_te = parts["test"]
        prob = calibrator.predict(booster.predict(X_te[cols], raw_score=True))
        m = binary_metrics(y_te, prob, thr, cfg.precision_at_k)
        groups = per_group_table(f_te, prob, thr)
        row = {"families": label, "features": len(cols), "pr_auc": m["pr_auc"],
               "roc_auc": m["roc_auc"], "precision": m["precision"], "recall": m["recall"]}
        for t, v in groups["fraud_type"].items():
            row[f"recall_{t}"] = v["recall"]
        # threshold-free per type: PR-AUC of this type's posts against the genuine ones
        # (recall at a calibration-chosen threshold swings with the threshold)
        ft = f_te["fraud_type"].fillna("").astype(str).to_numpy() if "fraud_type" in f_te \
            else np.full(len(y_te), "")
        for t in groups["fraud_type"]:
            sel = (y_te == 0) | (ft == t)
            row[f"pr_auc_{t}"] = binary_metrics(y_te[sel], prob[sel], thr,
                                                cfg.precision_at_k)["pr_auc"]
        for g, v in groups["hard_case"].items():
            row[f"fpr_{g}"] = v["fpr"]
        rows.append(row)
    return pd.DataFrame(rows).round(4)


#: post-frame columns read once the feature matrices exist (ids, windows, labels,
#: groups); the rest (text, tokens, curves, context, account fields) is let go
KEEP_COLUMNS = ("post_id", "account_id", "published_at", "night", "split_window",
                *LABEL_COLUMNS)


def slim_frame(frame: pd.DataFrame) -> pd.DataFrame:
    """The frame with only :data:`KEEP_COLUMNS` (what evaluation, calibration and the
    MLflow lineage read): less memory, and a small feature-cache entry."""
    return frame[[c for c in frame.columns if c in KEEP_COLUMNS]]


def pack_frame(frame: pd.DataFrame) -> dict:
    """``frame`` for the feature cache: each object column with repeated values (night,
    window, account, fraud type, ...) as integer codes into its distinct values, which
    unpickles in a fraction of the time of a million Python strings. Missing values
    must all be ``None`` or all NaN for a column to be coded; other columns are kept as
    they are. :func:`unpack_frame` gives back an equal frame (same values, dtypes,
    index)."""
    columns: dict = {}
    for c in frame.columns:
        s = frame[c]
        if s.dtype == object and len(s):
            values = s.to_numpy()
            codes, uniques = pd.factorize(values, use_na_sentinel=True)
            missing = values[codes == -1]
            if len(uniques) <= len(values) // 4 and (
                    all(v is None for v in missing) or
                    all(isinstance(v, float) and v != v for v in missing)):
                table = np.empty(len(uniques) + 1, dtype=object)
                table[:-1] = uniques
                table[-1] = missing[0] if len(missing) else None
                columns[c] = ("codes", codes.astype(np.int32 if len(table) < 2**31 else np.int64),
                              table)
                continue
        columns[c] = ("column", s, None)
    return {"columns": columns, "index": frame.index}


def unpack_frame(packed: dict) -> pd.DataFrame:
    """The frame :func:`pack_frame` packed."""
    if isinstance(packed, pd.DataFrame):  # stored unpacked
        return packed
    data = {}
    for c, (kind, a, b) in packed["columns"].items():
        if kind == "codes":
            data[c] = pd.Series(b.take(a), index=packed["index"], dtype=object, name=c)
        else:
            data[c] = a
    # one block per column: merging them into one object block would copy every value
    return pd.DataFrame(data, index=packed["index"], copy=False)


WINDOWS = ("train", "valid", "calibration", "test", "unused")


def window_masks(lab: pd.DataFrame) -> dict[str, np.ndarray]:
    """Row masks of each split window (one pass over ``split_window``, not one string
    comparison per window and use)."""
    codes, uniques = pd.factorize(lab["split_window"].to_numpy())
    where = {w: i for i, w in enumerate(uniques)}
    return {w: codes == where[w] if w in where else np.zeros(len(lab), bool) for w in WINDOWS}


def pandas_digest(df: pd.DataFrame) -> str:
    """MLflow's digest of a pandas dataset (``compute_pandas_digest``: the first 10,000
    rows of the string and number columns, the row count, the column names) without
    its type check of every value (a quarter of a second at a million rows): a column
    of Python strings is a string column when pandas infers ``string`` for it with
    missing values counted (the same columns as MLflow's check for ours)."""
    from mlflow.data.digest_utils import MAX_ROWS, get_normalized_md5_digest
    from pandas.api.types import infer_dtype

    trimmed = df.head(MAX_ROWS)
    strings = trimmed.columns[[infer_dtype(df[c], skipna=False) == "string"
                               for c in df.columns]]
    numbers = trimmed.select_dtypes(include=[np.number]).columns
    trimmed = trimmed[strings.union(numbers)]
    return get_normalized_md5_digest(
        [pd.util.hash_pandas_object(trimmed).values, np.int64(len(df))]
        + [str(x).encode() for x in df.columns])


def features_cache_key(plan, cfg: TrainConfig, pipeline, extra_labels) -> str:
    """What decides the final feature matrices: the nights' keys (data, tokenizer,
    feature code), the split and seed, the families and every feature step's
    parameters, the extra labels, and the code that splits and fits."""
    h = hashlib.sha256(plan.key.encode())
    h.update(json.dumps({"split": cfg.split.model_dump(), "seed": cfg.seed,
                         "families": list(cfg.families),
                         "text_model_splits": cfg.text_model_splits}, sort_keys=True).encode())
    union = pipeline.named_steps["features"]
    steps = {name: step.get_params(deep=False) for name, step in union.transformer_list}
    h.update(json.dumps(steps, sort_keys=True, default=repr, ensure_ascii=False).encode())
    if extra_labels is not None and not extra_labels.empty:
        h.update(pd.util.hash_pandas_object(extra_labels.reset_index(drop=True).astype(str),
                                            index=True).to_numpy().tobytes())
    for mod in (__file__, Path(__file__).with_name("split.py")):
        h.update(Path(mod).read_bytes())
    return h.hexdigest()[:32]


class BoundaryClusters:
    """Near-duplicate clusters of the posts on both sides of the training cut, found
    together (a night's context only sees its own night): what
    :func:`~fakeugc.modeling.split.assign_split` joins accounts through, so that no
    campaign's paraphrases are trained on and evaluated on. Uses the pipeline's own
    coordination settings; ``days`` is their window."""

    def __init__(self, pipeline, days: float):
        self.pipeline = pipeline
        self.days = float(days)

    @classmethod
    def of(cls, pipeline, families) -> BoundaryClusters | None:
        if "coordination" not in families:
            return None
        from fakeugc.features._pipeline import _step_params

        return cls(pipeline, _step_params(pipeline, "coordination").get("window_days", 7.0))

    def __call__(self, rows: pd.DataFrame) -> np.ndarray:
        from fakeugc.features._coordination import C_CLUSTER_ID
        from fakeugc.features._pipeline import context_from_keys, context_keys

        ctx = context_from_keys(context_keys(rows, ["coordination"], self.pipeline),
                                self.pipeline)
        if C_CLUSTER_ID not in ctx:
            return np.full(len(rows), None, dtype=object)
        return ctx[C_CLUSTER_ID].reindex(rows["post_id"].to_numpy()).to_numpy(dtype=object)


def feature_reference_histograms(X: pd.DataFrame) -> dict:
    """Each feature's training-window histogram (what drift is measured against). It
    depends on the training matrix only, so the feature cache keeps it."""
    from fakeugc.reports.drift import reference_histogram

    return {c: reference_histogram(X[c].to_numpy(dtype=float)) for c in X.columns}


def _reference_histograms(X: pd.DataFrame, prob: np.ndarray, features: dict | None) -> dict:
    from fakeugc.reports.drift import reference_histogram

    return {
        "features": features if features is not None else feature_reference_histograms(X),
        "score": reference_histogram(prob),
        "families": {c: family_of(c) for c in X.columns},
    }


def _window_label(frame: pd.DataFrame) -> str:
    """The training window as ``first night .. last night`` (what drift is measured against)."""
    nights = sorted(frame["night"].astype(str).unique()) if "night" in frame else []
    return f"{nights[0]} .. {nights[-1]}" if nights else ""


def _flatten(d: dict, prefix: str = "") -> dict:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}"
        if isinstance(v, dict):
            out.update(_flatten(v, key + "."))
        else:
            out[key] = v if not isinstance(v, list) else ",".join(map(str, v))
    return out


def _prefetch(tokenizer) -> None:
    """One-off work of this process that the MLflow logging needs at the end, done early
    in a second thread: jieba's dictionary (for the input example); MLflow's check of
    the model's pinned requirements against the installed packages (its map of installed
    distributions takes about half a second to build, once per process); and the run's
    context tags (git commit of the entry point, the notebook probe), which MLflow
    caches for the process."""
    tokenizer.segmenter_.tokenizer  # noqa: B018  (built on first use)
    try:
        from mlflow.tracking.context.registry import resolve_tags
        from mlflow.utils.requirements_utils import warn_dependency_requirement_mismatches

        from fakeugc.modeling.pyfunc import pip_requirements

        warn_dependency_requirement_mismatches(pip_requirements())
        resolve_tags()
    except Exception:  # noqa: BLE001  (only a head start: MLflow does it again when needed)
        log.debug("MLflow prefetch failed", exc_info=True)


def _setup_mlflow(experiment: str) -> None:
    settings = get_settings()
    mlflow.set_tracking_uri(settings.tracking_uri)
    client = MlflowClient()
    if client.get_experiment_by_name(experiment) is None:
        kwargs = {}
        if settings.tracking_uri.startswith("sqlite:"):
            kwargs["artifact_location"] = settings.artifact_location
        client.create_experiment(experiment, **kwargs)
    mlflow.set_experiment(experiment)


# ----------------------------------------------------------------------------- train


def train(
    exports: list[str | Path],
    cfg: TrainConfig,
    extra_labels: pd.DataFrame | None = None,
    register: bool = True,
    keep_matrices: bool = False,
) -> TrainResult:
    """Train, calibrate, evaluate and log one model (see the module docstring).

    ``keep_matrices`` keeps the final feature matrices on the result (``matrices``:
    window -> (X, y), and ``lightgbm_params``) for benchmarks that time LightGBM alone.
    """
    timings: dict[str, float] = {}
    t0 = time.perf_counter()
    caching = cfg.frame_cache or cfg.feature_cache
    inventory = export_inventory(exports, DigestCache(frame_cache_dir() / "digests.json")
                                 if caching else None)
    sources = inventory.sources
    timings["hash_exports"] = time.perf_counter() - t0
    t = time.perf_counter()
    brands = read_brands(sources, inventory)
    first_posts = first_night_posts(sources)
    timings["read_brands"] = time.perf_counter() - t

    from fakeugc.features._lexicon import lexicon_words

    brand_words, brand_terms = brand_vocabulary(brands)
    user_words = tuple(dict.fromkeys(brand_words + tuple(lexicon_words())))
    pipeline = build_feature_pipeline(cfg.families, user_words, brand_terms,
                                      params={"text_model": {
                                          "n_splits": cfg.text_model_splits,
                                          "hard_case_weight": cfg.hard_negative_weight}},
                                      random_state=cfg.seed)
    tokenizer = pipeline.named_steps["tokenize"].fit(first_posts)
    # this process only tokenizes the model's input example at the end (the nights are
    # tokenized by workers or come from the cache): build jieba's dictionary meanwhile,
    # while this thread hashes the exports and reads caches (which let go of the GIL)
    prefetch = threading.Thread(target=_prefetch, args=(tokenizer,), daemon=True)
    prefetch.start()

    t = time.perf_counter()
    plan = plan_nights(sources, tokenizer, cfg.families, pipeline, inventory)
    timings["plan_nights"] = time.perf_counter() - t
    fcache = FrameCache(frame_cache_dir(), prefix="features") if cfg.feature_cache else None
    fkey = features_cache_key(plan, cfg, pipeline, extra_labels) if fcache else None
    t = time.perf_counter()
    hit = fcache.load(fkey) if fcache else None
    if hit is not None:
        # the same frames, split and fitted feature step as a run before: its matrices
        pipeline.steps[-1] = ("features", hit["features"])
        lab, sample, export, feature_names = unpack_frame(hit["lab"]), hit["sample"], \
            hit["lineage"], hit["feature_names"]
        reference_features = hit.get("reference_features")
        masks = window_masks(lab)
        parts = {w: (X, y, lab[masks[w]]) for w, (X, y) in hit["parts"].items()}
        cache_info = {"hits": 0, "misses": 0, "state": "not needed"}
        timings["feature_cache_load"] = time.perf_counter() - t
    else:
        cache = FrameCache(frame_cache_dir()) if cfg.frame_cache else None
        nf, export, cache_info = prepare_nights(sources, tokenizer, cfg.families, pipeline,
                                                extra_labels, workers=cfg.workers, cache=cache,
                                                plan=plan, labelled_only=True)
        timings["read_frames_and_context"] = time.perf_counter() - t
        cache_info["state"] = ("off" if cache is None else "hit" if not cache_info["misses"]
                               else "miss" if not cache_info["hits"] else "partial")
        lab = nf.labelled
        del nf  # the labelled posts are all training needs from here on
        if lab.empty or lab["label"].nunique() < 2:
            raise ValueError("training needs labelled posts of both classes")
        t = time.perf_counter()
        lab["split_window"] = assign_split(lab, cfg.split, cfg.seed,
                                           BoundaryClusters.of(pipeline, cfg.families)
                                           ).to_numpy()
        timings["split"] = time.perf_counter() - t
    cache_info["features"] = "off" if fcache is None else "hit" if hit is not None else "miss"
    if hit is None:
        masks = window_masks(lab)
    label = lab["label"].to_numpy()
    split_counts = {w: {"posts": int(m.sum()), "positives": int(label[m].sum())}
                    for w, m in masks.items()}
    log.info("split: %s", split_counts)
    for w in ("train", "calibration", "test"):
        if split_counts[w]["positives"] == 0:
            raise ValueError(f"the {w} window has no positive labels; need more days or labels")

    if hit is None:
        features = pipeline.named_steps["features"]
        # the text model forks its fold fits: no other thread of this process may be
        # running then (long finished by now: the frames took far longer)
        prefetch.join()
        t = time.perf_counter()
        tr = lab[lab["split_window"] == "train"]
        y_tr = tr["label"].to_numpy(dtype=int)
        X_tr = as_matrix(features.fit_transform(tr, y_tr))
        feature_names = list(X_tr.columns)
        matrices = {"train": (X_tr, y_tr)}
        for w in ("valid", "calibration", "test"):
            fr = lab[lab["split_window"] == w]
            X = as_matrix(features.transform(fr)[feature_names]) if len(fr) else \
                pd.DataFrame(columns=feature_names, dtype="float64")
            matrices[w] = (X, fr["label"].to_numpy(dtype=int))
        timings["features"] = time.perf_counter() - t
        t = time.perf_counter()
        reference_features = feature_reference_histograms(X_tr)
        timings["reference_histograms"] = time.perf_counter() - t
        del tr, fr
        # from here on only labels, ids and windows are read from the posts: drop the
        # text, tokens and curves (the same on a feature-cache hit, and less memory)
        sample = lab.head(3).copy()
        lab = slim_frame(lab)
        parts = {w: (X, y, lab[masks[w]]) for w, (X, y) in matrices.items()}
        if fcache is not None:
            t = time.perf_counter()
            fcache.save(fkey, {"features": features, "feature_names": feature_names,
                               "parts": matrices, "lab": pack_frame(lab), "sample": sample,
                               "lineage": export, "reference_features": reference_features})
            timings["feature_cache_save"] = time.perf_counter() - t
        del matrices
    X_tr, y_tr, tr = parts["train"]
    weight = training_weights(tr, y_tr, cfg)

    # nothing else runs beside LightGBM's threads (a busy Python thread slows them down)
    t = time.perf_counter()
    prefetch.join()
    timings["prefetch_wait"] = time.perf_counter() - t
    t = time.perf_counter()
    booster, params, evals = fit_booster(X_tr, y_tr, parts["valid"][0], parts["valid"][1], cfg,
                                         weight)
    timings["lightgbm"] = time.perf_counter() - t
    calibrator, threshold = calibrate_and_threshold(booster, parts["calibration"][0],
                                                    parts["calibration"][2], cfg)
    X_te, y_te, f_te = parts["test"]
    prob_te = calibrator.predict(booster.predict(X_te, raw_score=True))
    evaluation = evaluation_report(f_te, prob_te, threshold, cfg.precision_at_k)
    evaluation["split"] = split_counts
    evaluation["calibration_method"] = calibrator.method_
    timings["calibrate_evaluate"] = time.perf_counter() - t - timings["lightgbm"]
    t = time.perf_counter()
    ablation = (run_ablation(parts, cfg, feature_names, full=(booster, calibrator, threshold))
                if cfg.ablation else pd.DataFrame())
    timings["ablation"] = time.perf_counter() - t

    prob_tr = calibrator.predict(booster.predict(X_tr, raw_score=True))
    bundle = ScoringBundle(
        pipeline=pipeline, booster=booster, calibrator=calibrator, threshold=float(threshold),
        families=list(cfg.families), feature_names=feature_names, top_k=cfg.reasons_top_k,
        metadata={"model_name": cfg.model_name, "trained_at": pd.Timestamp.now("UTC").isoformat(),
                  "code_version": code_version(), "fakeugc_version": __version__,
                  "seed": cfg.seed, "best_iteration": booster.current_iteration(),
                  "reference_window": _window_label(tr)},
        reference=_reference_histograms(X_tr, prob_tr, reference_features),
    )
    timings["bundle_reference"] = time.perf_counter() - t - timings["ablation"]

    t = time.perf_counter()
    result = _log_to_mlflow(cfg, export, exports, lab, masks, sample, parts, bundle, evaluation,
                            ablation, params, evals, prob_te, split_counts, timings, register,
                            cache_info)
    timings["mlflow"] = time.perf_counter() - t
    if caching:
        own = [FrameCache(frame_cache_dir()).path(j.key) for j in plan.jobs]
        if fkey is not None:
            own.append(fcache.path(fkey))
        cache_info["pruned"] = prune_cache(frame_cache_dir(), int(cfg.cache_max_gib * 2**30),
                                           keep=own)
        if cache_info["pruned"]["removed"]:
            log.info("cache trimmed to %.1f GiB: %d entries removed",
                     cache_info["pruned"]["bytes"] / 2**30, cache_info["pruned"]["removed"])
    result.timings = timings
    result.frame_cache = cache_info
    if keep_matrices:
        result.matrices = {w: (X, y) for w, (X, y, _) in parts.items()}
        result.lightgbm_params = params
        result.train_weight = weight
    return result


def _log_to_mlflow(cfg, export, exports, lab, masks, sample_rows, parts, bundle, evaluation,
                   ablation, params, evals, prob_te, split_counts, timings, register,
                   cache_info) -> TrainResult:
    from fakeugc.modeling.pyfunc import (
        FakeUGCModel,
        model_signature,
        pip_requirements,
        save_bundle,
        to_model_input,
    )

    _setup_mlflow(cfg.experiment)
    X_te, y_te, f_te = parts["test"]
    digests = export.digests
    data_hash = hashlib.sha256(json.dumps(digests, sort_keys=True).encode()).hexdigest()[:16]
    feature_hash = hashlib.sha256("|".join(bundle.feature_names).encode()).hexdigest()[:12]
    night = lab["night"].to_numpy()
    nights_by_window = {w: sorted(pd.unique(night[masks[w]]).tolist())
                        for w in ("train", "valid", "calibration", "test")}
    with mlflow.start_run(run_name=f"{cfg.model_name}-train") as run, \
            tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        mlflow.log_params({k: v for k, v in _flatten(cfg.model_dump()).items()})
        mlflow.log_params({f"lgb.{k}": v for k, v in params.items()
                           if k not in ("metric",) and f"lgb.{k}" not in ()})
        mlflow.set_tags({
            "code_version": bundle.metadata["code_version"],
            "fakeugc_version": __version__,
            "data_hash": data_hash,
            "feature_set_hash": feature_hash,
            "seed": str(cfg.seed),
            "exports": json.dumps([str(s) for s in export.sources]),
            "test_nights": json.dumps(nights_by_window["test"]),
            "threshold": f"{bundle.threshold:.6f}",
            "threshold_policy": cfg.threshold.policy,
            "frame_cache": cache_info["state"],
            "feature_cache": cache_info["features"],
        })
        t = time.perf_counter()
        # the columns as they are (no copy): MLflow reads a few rows and the row count
        ids = pd.DataFrame({c: lab[c].to_numpy() for c in ("post_id", "night", "label",
                                                           "split_window")}, copy=False)
        ds = mlflow.data.from_pandas(ids, source=str(export.sources[0]), name="labelled-posts",
                                     digest=pandas_digest(ids))
        # MLflow infers the schema by looking at every value (seconds at a million posts);
        # these columns have one type each, so the schema of a few rows is the same one
        ds.__dict__["schema"] = mlflow.models.infer_signature(ids.head(1000)).inputs
        mlflow.log_input(ds, context="training")
        timings["mlflow_dataset"] = time.perf_counter() - t
        o = evaluation["overall"]
        metrics = {f"test_{k}": v for k, v in o.items()
                   if isinstance(v, int | float) and np.isfinite(v)}
        for t, v in evaluation.get("fraud_type", {}).items():
            metrics[f"test_recall_{t}"] = v["recall"]
        for g, v in evaluation.get("hard_case", {}).items():
            if np.isfinite(v["fpr"]):
                metrics[f"test_fpr_{g}"] = v["fpr"]
        metrics["best_iteration"] = bundle.booster.current_iteration()
        for w, c in split_counts.items():
            metrics[f"rows_{w}"] = c["posts"]
        metrics["rows_labelled"] = len(lab)
        metrics.update({f"seconds_{k}": v for k, v in timings.items()})
        metrics["frame_cache_hits"] = cache_info["hits"]
        metrics["frame_cache_misses"] = cache_info["misses"]
        for _, row in ablation.iterrows():
            key = row["families"].replace("+", "plus_").replace(" ", "_")
            if pd.notna(row["pr_auc"]):
                metrics[f"ablation_pr_auc_{key}"] = row["pr_auc"]
        mlflow.log_metrics(metrics)
        curve = evals.get("valid", {}).get("average_precision", [])
        if curve:
            now = int(time.time() * 1000)
            MlflowClient().log_batch(run.info.run_id, metrics=[
                Metric("valid_average_precision", float(v), now, i) for i, v in enumerate(curve)])
        t = time.perf_counter()

        # artifacts: config, lineage, evaluation, plots, importance, explanations
        (tmp / "train.yaml").write_text(yaml.safe_dump(cfg.model_dump(), allow_unicode=True,
                                                       sort_keys=False))
        (tmp / "lineage.json").write_text(json.dumps(
            {"exports": [str(s) for s in export.sources], "files": digests,
             "rows": export.stats,
             "duplicate_posts_dropped": export.duplicate_posts_dropped,
             "frame_cache": cache_info,
             "nights": nights_by_window, "code_version": bundle.metadata["code_version"]},
            indent=2, ensure_ascii=False))
        write_report(evaluation, tmp)
        if not ablation.empty:
            ablation.to_csv(tmp / "ablation.csv", index=False)
        save_plots(f_te, prob_te, bundle.threshold, tmp / "plots")
        imp = pd.DataFrame({
            "feature": bundle.feature_names,
            "family": [family_of(n) for n in bundle.feature_names],
            "gain": bundle.booster.feature_importance("gain"),
            "splits": bundle.booster.feature_importance("split"),
        }).sort_values("gain", ascending=False)
        imp.to_csv(tmp / "feature_importance.csv", index=False)
        top = np.argsort(-prob_te)[:20]
        if len(top):
            ex = explain_rows(bundle.booster, X_te.iloc[top], bundle.top_k)
            sample = [{"post_id": f_te.iloc[i]["post_id"], "probability": float(prob_te[i]),
                       "label": int(y_te[i]), "reasons": ex["reasons"].iloc[j]}
                      for j, i in enumerate(top)]
            (tmp / "explanations_sample.json").write_text(
                json.dumps(sample, ensure_ascii=False, indent=2))
        pd.DataFrame({"post_id": f_te["post_id"].to_numpy(), "night": f_te["night"].to_numpy()}
                     ).to_parquet(tmp / "heldout_posts.parquet", index=False)
        mlflow.log_artifacts(str(tmp))
        timings["mlflow_artifacts"] = time.perf_counter() - t
        t = time.perf_counter()

        bundle_path = save_bundle(bundle, tmp / "bundle")
        sample_in = to_model_input(sample_rows)
        model = FakeUGCModel()
        model.bundle = bundle
        sample_out = model.predict(None, sample_in)
        # MLflow checks the input example by loading the saved model and scoring it: that
        # copy's segmenters find the jieba dictionary this process has just built
        # (``Segmenter`` reuses a built tokenizer with the same settings)
        signature = model_signature(sample_in, sample_out, bundle.threshold)
        info = mlflow.pyfunc.log_model(
            name="model",
            python_model=FakeUGCModel(),
            artifacts={"bundle": str(bundle_path)},
            signature=signature,
            input_example=sample_in,
            pip_requirements=pip_requirements(),
        )
        version = None
        if register:
            version = register_version(
                MlflowClient(), cfg.model_name, info.model_uri, run.info.run_id,
                tags={"threshold": f"{bundle.threshold:.6f}", "data_hash": data_hash,
                      "code_version": bundle.metadata["code_version"],
                      "test_pr_auc": f"{o['pr_auc']:.4f}", "feature_set_hash": feature_hash,
                      "test_nights": json.dumps(nights_by_window["test"])})
        bundle.metadata.update({"run_id": run.info.run_id, "model_version": version})
        timings["mlflow_model"] = time.perf_counter() - t
    return TrainResult(run.info.run_id, info.model_uri, version, evaluation, ablation, bundle,
                       split_counts)
