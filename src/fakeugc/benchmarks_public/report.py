"""Benchmark output: the headline JSON, the printed table, the doc block, MLflow.

``docs/benchmarks.json`` has exactly one object per set --
``{"ott": {"accuracy": …}, "weibo21": {"macro_f1": …, "roc_auc": …}, "ced":
{"roc_auc": …, "roc_auc_1h": …, "roc_auc_6h": …, "roc_auc_24h": …}}`` -- with
further keys inside each (fold spread, baselines, timing, code version). A run
of some of the sets updates their objects and keeps the others.
"""

from __future__ import annotations

import json
import math
import tempfile
from pathlib import Path

import numpy as np
import pandas as pd

from fakeugc.benchmarks_public.protocols import SetResult

#: Reference figures and targets (issue 7, ../shared/benchmarks/README.md).
TARGETS = {("ott", "accuracy"): 0.90, ("weibo21", "macro_f1"): 0.91, ("ced", "roc_auc"): 0.975}
REFERENCE = {
    "ott": "Ott et al. 2011: 0.898 (positive only); README floor, TF-IDF + SVM: 0.890",
    "weibo21": "README floor, jieba TF-IDF + LR: macro-F1 0.896, ROC-AUC 0.955",
    "ced": "README floors: text LR 0.956, account + curve LightGBM 0.92, their mean 0.97",
}
DOC_START = "<!-- benchmark-results:start -->"
DOC_END = "<!-- benchmark-results:end -->"


def _clean(obj):
    """JSON-safe: numpy scalars to Python, NaN to None, floats rounded to 4 places."""
    if isinstance(obj, dict):
        return {str(k): _clean(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_clean(v) for v in obj]
    if isinstance(obj, np.integer):
        return int(obj)
    if isinstance(obj, float | np.floating):
        f = float(obj)
        return None if math.isnan(f) or math.isinf(f) else round(f, 4)
    return obj


def headline(result: SetResult, meta: dict) -> dict:
    out = dict(result.headline)
    out["seconds"] = result.seconds.get("total")
    out.update(meta)
    return _clean(out)


def write_json(results: dict[str, SetResult], path: Path, meta: dict) -> dict:
    """Write (merge into) the headline JSON at ``path``; returns what was written."""
    path = Path(path)
    data: dict = {}
    if path.is_file():
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
        except json.JSONDecodeError:
            data = {}
    for name, res in results.items():
        # figures of `--select` (nested_*, selection*) come from another command: kept
        kept = {k: v for k, v in data.get(name, {}).items()
                if k.startswith(("nested_", "selection"))}
        data[name] = kept | headline(res, meta | {"seconds_load": res.seconds.get("load")})
    order = [k for k in ("ott", "weibo21", "ced") if k in data]
    data = {k: data[k] for k in order + [k for k in data if k not in order]}
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.")[1])
    tmp.write_text(json.dumps(data, ensure_ascii=False, indent=2) + "\n", encoding="utf-8")
    tmp.replace(path)
    return data


def rows_frame(results: dict[str, SetResult]) -> pd.DataFrame:
    rows = [r for res in results.values() for r in res.rows]
    df = pd.DataFrame(rows)
    if df.empty:
        return df
    df["target"] = [TARGETS.get((s, m)) if mo.startswith("fakeugc pipeline") and
                    (s != "ced" or mo.endswith("all signals")) and
                    (s != "ott" or mo.endswith("pooled")) else None
                    for s, m, mo in zip(df["set"], df["metric"], df["model"], strict=True)]
    return df


def format_table(results: dict[str, SetResult]) -> str:
    """The printed table: one line per (set, model, metric)."""
    df = rows_frame(results)
    if df.empty:
        return "(no results)"
    lines = [f"{'set':<8} {'model':<62} {'metric':<9} {'value':>7} {'± sd':>7} "
             f"{'target':>7} {'secs':>7}"]
    for r in df.to_dict("records"):
        sd = r.get("fold_sd")
        target = r.get("target")
        secs = r.get("seconds")
        ok = "" if target is None or pd.isna(target) else \
            (" ✓" if r["value"] >= target else " ✗")
        lines.append(
            f"{r['set']:<8} {r['model'][:62]:<62} {r['metric']:<9} {r['value']:>7.4f} "
            f"{'' if sd is None or pd.isna(sd) else f'{sd:.4f}':>7} "
            f"{'' if target is None or pd.isna(target) else f'{target:.3f}':>7} "
            f"{'' if secs is None or pd.isna(secs) else f'{secs:.0f}':>7}{ok}")
    for name, res in results.items():
        lines.append(f"{name}: {res.seconds.get('total', float('nan')):.0f} s in all "
                     f"(reading and tokenizing {res.seconds.get('load', float('nan')):.0f} s)")
    return "\n".join(lines)


def markdown_table(results: dict[str, SetResult], commands: dict[str, str]) -> str:
    """The results table of docs/benchmarks.md (between the doc markers)."""
    df = rows_frame(results)
    out = ["| set | protocol | model | metric | value | fold sd | target | reproduce |",
           "|---|---|---|---|---|---|---|---|"]
    for r in df.to_dict("records"):
        sd = r.get("fold_sd")
        target = r.get("target")
        mark = ""
        if target is not None and not pd.isna(target):
            mark = f"{target:.3f} {'✓' if r['value'] >= target else '✗'}"
        out.append(
            f"| {r['set']} | {r['protocol']} | {r['model']} | {r['metric']} | "
            f"{r['value']:.4f} | {'' if sd is None or pd.isna(sd) else f'{sd:.4f}'} | "
            f"{mark} | `{commands[r['set']]}` |")
    return "\n".join(out)


def update_doc(doc: Path, block: str) -> bool:
    """Replace the text between the result markers of ``doc``; False if it has none."""
    if not doc.is_file():
        return False
    text = doc.read_text(encoding="utf-8")
    if DOC_START not in text or DOC_END not in text:
        return False
    head, rest = text.split(DOC_START, 1)
    _, tail = rest.split(DOC_END, 1)
    doc.write_text(f"{head}{DOC_START}\n{block}\n{DOC_END}{tail}", encoding="utf-8")
    return True


def _flat_metrics(d: dict, prefix: str = "") -> dict[str, float]:
    out = {}
    for k, v in d.items():
        key = f"{prefix}{k}".replace(" ", "_").replace("<", "lt").replace("+", "plus") \
            .replace(",", "").replace("(", "").replace(")", "")
        if isinstance(v, dict):
            out.update(_flat_metrics(v, key + "."))
        elif isinstance(v, int | float | np.integer | np.floating) and not isinstance(v, bool):
            f = float(v)
            if math.isfinite(f):
                out[key[:250]] = f
    return out


def log_mlflow(result: SetResult, params: dict, tags: dict, experiment: str) -> str:
    """One MLflow run per set: parameters, every numeric figure, the result tables
    and the out-of-fold predictions as artifacts. Returns the run id."""
    import mlflow

    from fakeugc.modeling.train import _flatten, _setup_mlflow

    _setup_mlflow(experiment)
    with mlflow.start_run(run_name=f"benchmark-{result.name}") as run, \
            tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        flat = {k: str(v)[:500] for k, v in _flatten(params).items()}
        mlflow.log_params(flat)
        mlflow.set_tags(tags)
        mlflow.log_metrics(_flat_metrics(result.details) |
                           _flat_metrics(result.seconds, "seconds."))
        (tmp / "result.json").write_text(json.dumps(
            _clean({"headline": result.headline, "details": result.details,
                    "seconds": result.seconds, "notes": result.notes}),
            ensure_ascii=False, indent=2), encoding="utf-8")
        pd.DataFrame(result.rows).to_csv(tmp / "table.csv", index=False)
        if result.predictions:
            pd.concat(result.predictions, ignore_index=True).to_parquet(
                tmp / "predictions.parquet", index=False)
        for i, imp in enumerate(result.importance):
            if not imp.empty:
                imp.to_csv(tmp / f"feature_importance{'' if i == 0 else i}.csv", index=False)
        mlflow.log_artifacts(str(tmp))
        return run.info.run_id
