"""One scoring run: resolve the model once, stream the export through an engine, and
commit the output folder atomically with its manifest.

The output folder (``scores.parquet``, ``quarantine.parquet``, ``drift.json`` and the
``_SUCCESS`` manifest) is built in a temporary sibling and renamed into place, the
manifest written last (:func:`fakeugc.io.writer.commit_directory`). A killed run
leaves only a temporary folder, removed by the next run; a rerun replaces the folder.
Every table's counts must satisfy ``read == used + set_aside`` (and, for posts,
``used == scored``); otherwise the run fails and nothing is committed.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import os
import pickle
import re
import shutil
import time
from contextlib import contextmanager
from pathlib import Path

import pandas as pd

from fakeugc import __version__
from fakeugc import contract as C
from fakeugc.io.reader import ContractError, is_export_dir
from fakeugc.io.writer import clean_stale, commit_directory, write_json_atomic
from fakeugc.scoring.config import ScoreConfig
from fakeugc.scoring.ingest import locate
from fakeugc.scoring.job import Job, Outcome, log, most_common_date, n_buckets

#: nights with fewer posts are scored in-process when ``workers`` is not set
AUTO_POOL_POSTS = 20_000
_DATE_DIR = re.compile(r"^export_date=(\d{4}-\d{2}-\d{2})$")


class ScoringError(Exception):
    """The run cannot be committed (e.g. the row counts do not add up)."""


def export_date_from_path(export_dir: Path) -> str | None:
    m = _DATE_DIR.match(Path(export_dir).name)
    return m.group(1) if m else None


def _export_date_from_posts(src) -> str:
    """The most common UTC date of the posts' ``published_at`` (a one-column scan)."""
    from collections import Counter

    import pyarrow.parquet as pq

    counts: Counter = Counter()
    if src.form == "parquet":
        for f in src.files:
            pf = pq.ParquetFile(f)
            for batch in pf.iter_batches(batch_size=65536, columns=["published_at"]):
                v = batch.column(0).to_pandas()
                if v.dtype == object:
                    v = v.map(lambda x: x.strip() if isinstance(x, str) else x)
                    s = pd.to_datetime(v, utc=True, errors="coerce", format="ISO8601")
                else:
                    s = pd.to_datetime(v, utc=True, errors="coerce")
                counts.update(s.dt.strftime("%Y-%m-%d").dropna().value_counts().to_dict())
    else:
        for chunk in pd.read_csv(src.files[0], usecols=["published_at"], dtype=str,
                                 chunksize=65536, on_bad_lines="skip", encoding="utf-8-sig"):
            s = pd.to_datetime(chunk["published_at"].str.strip(), utc=True, errors="coerce",
                               format="ISO8601")
            counts.update(s.dt.strftime("%Y-%m-%d").dropna().value_counts().to_dict())
    return most_common_date(counts)


def sha256_file(path: Path) -> str:
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 22), b""):
            h.update(block)
    return h.hexdigest()


@contextmanager
def _lock(target: Path):
    """One run per output folder at a time (a second run waits, then fails)."""
    target.parent.mkdir(parents=True, exist_ok=True)
    path = target.parent / f".{target.name}.lock"
    with open(path, "w") as f:
        try:
            fcntl.flock(f, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            raise ScoringError(f"another scoring run is writing {target}") from None
        try:
            yield
        finally:
            fcntl.flock(f, fcntl.LOCK_UN)


def resolve_out(cfg: ScoreConfig, out: str | Path | None, date: str) -> Path:
    from fakeugc.settings import get_settings

    pattern = str(out) if out is not None else cfg.out
    path = Path(pattern.replace("{date}", date))
    if not path.is_absolute():
        path = (get_settings().root if out is None else Path.cwd()) / path
    return path.absolute()


def load_model(uri: str) -> tuple[dict, object]:
    """Resolve the alias once, then load that exact version's bundle."""
    from fakeugc.modeling.pyfunc import load_bundle
    from fakeugc.modeling.scoring_eval import resolve_model

    if uri.startswith("models:/"):
        info = resolve_model(uri)
    else:
        info = {"uri": uri, "name": None, "version": None, "run_id": None,
                "resolved_uri": uri}
    bundle = load_bundle(info["resolved_uri"])
    if info.get("name") is None:
        meta = getattr(bundle, "metadata", {}) or {}
        info["name"] = meta.get("model_name")
        info["version"] = meta.get("version", "local")
        info["run_id"] = meta.get("run_id")
    return info, bundle


def score_export(export_dir: str | Path, cfg: ScoreConfig, out: str | Path | None = None,
                 bundle=None, model_info: dict | None = None) -> dict:
    """Score one export folder (one night) and commit the output folder; returns the
    manifest. ``bundle``/``model_info`` skip the model lookup (tests, notebooks)."""
    t_start = time.perf_counter()
    timings: dict[str, float] = {}
    export_dir = Path(export_dir).absolute()
    if not export_dir.exists():
        raise ContractError(f"export {export_dir}: no such directory")
    if not is_export_dir(export_dir):
        nested = [c for c in export_dir.iterdir() if is_export_dir(c)] \
            if export_dir.is_dir() else []
        if nested:
            raise ContractError(f"export {export_dir}: holds {len(nested)} exports; score one "
                                f"night (one export_date=... folder) per run")
        raise ContractError(f"export {export_dir}: required table 'posts' is missing")
    sources = {}
    for name in C.TABLES:
        src = locate(export_dir, name)
        if src is not None:
            sources[name] = src

    t = time.perf_counter()
    if bundle is None:
        model_info, bundle = load_model(cfg.model)
    model_info = dict(model_info or {})
    timings["load_model_s"] = time.perf_counter() - t
    log.info("model %s version %s (run %s)", model_info.get("name"),
             model_info.get("version"), model_info.get("run_id"))

    folder_date = export_date_from_path(export_dir)
    date = folder_date
    if date is None and "{date}" in (str(out) if out is not None else cfg.out):
        date = _export_date_from_posts(sources["posts"])
    target = resolve_out(cfg, out, date or "unknown")
    scored_at = pd.Timestamp.now(tz="UTC").floor("us")
    chunk = cfg.chunk_size
    K = n_buckets(sources["posts"].rows_hint, chunk)
    workers = cfg.workers
    if workers is None:  # a pool pays ~5 s of start-up: only for nights worth it
        workers = 0 if sources["posts"].rows_hint < AUTO_POOL_POSTS or K <= 1 \
            else min(os.cpu_count() or 1, 8)
    if cfg.engine == "spark":
        workers = 0

    with _lock(target):
        clean_stale(target.parent, target.name)

        def fill(tmp: Path) -> dict:
            work = tmp / "_work"
            work.mkdir()
            bundle_path = work / "bundle.pkl"
            with open(bundle_path, "wb") as f:
                pickle.dump(bundle, f, protocol=pickle.HIGHEST_PROTOCOL)
            t = time.perf_counter()
            inputs = []
            for name, src in sources.items():
                for p in src.files:
                    inputs.append({"table": name, "path": str(p), "bytes": p.stat().st_size,
                                   "sha256": sha256_file(p)})
            timings["hash_inputs_s"] = time.perf_counter() - t
            job = Job(export_dir=export_dir, source=str(export_dir), out_tmp=tmp, work=work,
                      bundle=bundle, bundle_path=bundle_path, model=model_info,
                      sources=sources, chunk_size=chunk, buckets=K, workers=workers,
                      export_date=folder_date or date, scored_at=scored_at,
                      master=cfg.master, spark_partitions=cfg.spark_partitions)
            log.info("scoring %s with the %s engine: ~%s posts in %d bucket(s), chunk %d, "
                     "%d worker(s)", export_dir, cfg.engine, f"{sources['posts'].rows_hint:,}",
                     K, chunk, workers)
            if cfg.engine == "spark":
                from fakeugc.scoring.spark import run_spark

                outcome = run_spark(job)
            else:
                from fakeugc.scoring.local import run_local

                outcome = run_local(job)
            timings.update(outcome.timings)
            tables = _check_counts(outcome)
            window = cfg.reference_window or _reference_window(bundle)
            write_json_atomic(outcome.drift.payload(window), tmp / "drift.json")
            shutil.rmtree(work, ignore_errors=True)
            timings["total_s"] = time.perf_counter() - t_start
            return _manifest(export_dir, target, outcome, tables, inputs, model_info, bundle,
                             cfg, chunk, K, workers, scored_at, timings)

        commit_directory(target, fill)
    manifest = _read_manifest(target)
    _summary(manifest)
    return manifest


def _reference_window(bundle) -> str:
    meta = getattr(bundle, "metadata", {}) or {}
    return str(meta.get("reference_window") or meta.get("trained_at") or "")


def _check_counts(o: Outcome) -> dict:
    tables = {}
    problems = []
    for name in o.read:
        read, used, aside = o.read[name], o.used.get(name, 0), o.set_aside.get(name, 0)
        entry = {"read": read, "used": used, "set_aside": aside,
                 "reasons": dict(sorted(o.reasons.get(name, {}).items()))}
        if name == "posts":
            entry["scored"] = o.scored
            if used != o.scored:
                problems.append(f"posts: used {used} != scored {o.scored}")
        if read != used + aside:
            problems.append(f"{name}: read {read} != used {used} + set aside {aside}")
        tables[name] = entry
    if problems:
        raise ScoringError("row counts do not add up, nothing written: " + "; ".join(problems))
    return tables


def _manifest(export_dir, target, o: Outcome, tables, inputs, model_info, bundle, cfg,
              chunk, K, workers, scored_at, timings) -> dict:
    from fakeugc.modeling.train import code_version

    return {
        "export_dir": str(export_dir),
        "export_date": o.export_date,
        "output": str(target),
        "engine": cfg.engine,
        "spark_master": cfg.master if cfg.engine == "spark" else None,
        "inputs": inputs,
        "tables": tables,
        "posts_flagged": o.flagged,
        "model": {
            "uri": model_info.get("uri", cfg.model),
            "resolved_uri": model_info.get("resolved_uri"),
            "name": model_info.get("name"),
            "version": model_info.get("version"),
            "run_id": model_info.get("run_id"),
            "threshold": float(bundle.threshold),
            "families": list(bundle.families),
            "n_features": len(bundle.feature_names),
        },
        "code_version": code_version(),
        "fakeugc_version": __version__,
        "scored_at": scored_at.isoformat(),
        "chunk_size": chunk,
        "buckets": K,
        "workers": workers,
        "timings": {k: round(v, 3) for k, v in timings.items()},
        "outputs": ["scores.parquet", "quarantine.parquet", "drift.json"],
        **o.extra,
    }


def _read_manifest(target: Path) -> dict:
    import json

    from fakeugc.io.writer import SUCCESS

    return json.loads((target / SUCCESS).read_text(encoding="utf-8"))


def _summary(m: dict) -> None:
    t = m["tables"]
    aside = sum(v["set_aside"] for v in t.values())
    total = m["timings"].get("total_s", 0.0)
    posts = t["posts"]["scored"]
    logging.getLogger("fakeugc.scoring").info(
        "scored %s posts of %s (export_date=%s) with %s v%s: %s flagged, %s rows set aside, "
        "%.1fs (%.0f posts/s) -> %s",
        f"{posts:,}", m["export_dir"], m["export_date"], m["model"]["name"],
        m["model"]["version"], f"{m['posts_flagged']:,}", f"{aside:,}", total,
        posts / max(total, 1e-9), m["output"])
