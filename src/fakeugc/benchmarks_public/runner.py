"""Run the public benchmarks end to end: read, train and evaluate, report, log."""

from __future__ import annotations

import hashlib
import logging
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path

import pandas as pd

from fakeugc.benchmarks_public.config import BenchConfig, load_bench_config
from fakeugc.benchmarks_public.data import load_set
from fakeugc.benchmarks_public.protocols import PROTOCOLS, SetResult
from fakeugc.benchmarks_public.report import (
    format_table,
    log_mlflow,
    markdown_table,
    update_doc,
    write_json,
)

log = logging.getLogger(__name__)

SETS = ("ott", "weibo21", "ced")


@dataclass
class BenchmarkRun:
    results: dict[str, SetResult]
    json_path: Path | None
    written: dict = field(default_factory=dict)
    run_ids: dict[str, str] = field(default_factory=dict)
    doc_updated: bool = False

    def table(self) -> str:
        return format_table(self.results)


def command_for(name: str, quick: bool, data_root: Path | None = None) -> str:
    cmd = f"fakeugc benchmark {name}"
    if data_root is not None and Path(data_root).resolve() != default_data_root().resolve():
        cmd += f" --data {data_root}"
    return cmd + (" --quick" if quick else "")


def default_data_root() -> Path:
    from fakeugc.settings import get_settings

    return get_settings().root.parent / "shared" / "benchmarks"


def _digest(paths) -> str:
    h = hashlib.sha256()
    for p in sorted(str(p) for p in paths):
        h.update(p.encode())
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()[:16]


def run_benchmarks(
    sets=SETS,
    data_root: str | Path | None = None,
    quick: bool = False,
    config: BenchConfig | str | Path | None = None,
    json_path: str | Path | None = None,
    doc_path: str | Path | None = None,
    mlflow_log: bool = True,
) -> BenchmarkRun:
    """Run the protocols of ``sets`` on the exports under ``data_root``.

    Writes the headline figures into ``json_path`` (merged with the sets already
    there) and, when ``doc_path`` has the result markers, the results table into it.
    """
    from fakeugc import __version__
    from fakeugc.modeling.train import code_version

    bc = config if isinstance(config, BenchConfig) else load_bench_config(config)
    root = Path(data_root) if data_root is not None else default_data_root()
    results: dict[str, SetResult] = {}
    run_ids: dict[str, str] = {}
    version = code_version()
    with tempfile.TemporaryDirectory(prefix="fakeugc-bench-") as work:
        for name in sets:
            sc = bc.set_config(name)
            families = sorted({f for fams in [sc.families,
                                              *getattr(sc, "ablations", {}).values()]
                               for f in fams})
            t = time.perf_counter()
            log.info("%s: reading %s", name, root)
            data = load_set(name, root, families, workdir=Path(work))
            load_s = time.perf_counter() - t
            log.info("%s: %d labelled posts read in %.1fs", name, len(data.frame), load_s)
            res = PROTOCOLS[name](data, bc, quick=quick)
            res.seconds["load"] = round(load_s, 1)
            res.seconds["total"] = round(res.seconds.get("total", 0.0) + load_s, 1)
            results[name] = res
            if mlflow_log:
                files = [p for ps in data.export.files.values() for p in ps]
                tags = {"code_version": version, "fakeugc_version": __version__,
                        "benchmark": name, "quick": str(quick), "data_root": str(root),
                        "data_hash": _digest(files),
                        "command": command_for(name, quick, root)}
                params = {"seed": bc.seed, "lightgbm": bc.lightgbm.model_dump(),
                          name: sc.model_dump()}
                run_ids[name] = log_mlflow(res, params, tags, bc.experiment)
    run = BenchmarkRun(results, Path(json_path) if json_path else None, run_ids=run_ids)
    if json_path:
        meta = {"code_version": version, "quick": quick,
                "run_at": pd.Timestamp.now("UTC").isoformat(timespec="seconds")}
        run.written = write_json(results, Path(json_path), meta)
    if doc_path and not quick and set(results) == set(SETS):
        commands = {n: command_for(n, False, root) for n in results}
        run.doc_updated = update_doc(Path(doc_path), markdown_table(results, commands))
    return run


def run_selection(
    name: str,
    data_root: str | Path | None = None,
    config: BenchConfig | str | Path | None = None,
    json_path: str | Path | None = None,
    mlflow_log: bool = True,
) -> dict:
    """Evaluate the set's ``grid`` without its test rows (see :mod:`.selection`); the
    summary goes into the set's object of ``json_path`` (other keys kept)."""
    import json

    import mlflow

    from fakeugc.benchmarks_public import selection
    from fakeugc.modeling.train import _setup_mlflow, code_version

    bc = config if isinstance(config, BenchConfig) else load_bench_config(config)
    if bc.set_config(name).grid is None:
        raise ValueError(f"{name}: no grid of candidate settings in the config")
    root = Path(data_root) if data_root is not None else default_data_root()
    t = time.perf_counter()
    with tempfile.TemporaryDirectory(prefix="fakeugc-bench-") as work:
        data = load_set(name, root, bc.set_config(name).families, workdir=Path(work))
        if name == "weibo21":
            table = selection.select_weibo21(data, bc)
            summary = {"selection": "best val ROC-AUC (test split not used)",
                       "selection_best": table.iloc[0]["candidate"],
                       "selection_best_val_roc_auc": float(table.iloc[0]["val_roc_auc"])}
            tables = {"selection": table}
        elif name == "ott":
            out = selection.nested_ott(data, bc)
            summary = {"nested_accuracy": out["nested_accuracy"],
                       "nested_roc_auc": out["nested_roc_auc"],
                       "nested_choices": out["choices"]}
            tables = {"candidates": out["candidates"], "inner": out["inner"]}
        else:
            raise ValueError(f"{name}: no selection protocol (its settings are not tuned)")
    summary["selection_seconds"] = round(time.perf_counter() - t, 1)
    if json_path:
        path = Path(json_path)
        data_json = json.loads(path.read_text(encoding="utf-8")) if path.is_file() else {}
        data_json.setdefault(name, {}).update(
            {k: (round(v, 4) if isinstance(v, float) else v) for k, v in summary.items()})
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(json.dumps(data_json, ensure_ascii=False, indent=2) + "\n",
                        encoding="utf-8")
    if mlflow_log:
        _setup_mlflow(bc.experiment)
        with mlflow.start_run(run_name=f"benchmark-{name}-selection"), \
                tempfile.TemporaryDirectory() as tmp:
            mlflow.set_tags({"benchmark": name, "selection": "true",
                             "code_version": code_version()})
            mlflow.log_metrics({k: v for k, v in summary.items() if isinstance(v, float)})
            for tname, df in tables.items():
                df.to_csv(Path(tmp) / f"{tname}.csv", index=False)
            mlflow.log_artifacts(tmp)
    return {"summary": summary, "tables": tables}
