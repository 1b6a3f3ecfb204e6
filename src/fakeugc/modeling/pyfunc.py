"""The deployable model: one ``mlflow.pyfunc`` model around the scoring bundle.

Input: a post frame (the ``posts`` table, optionally joined with accounts,
exposure curves and reports by :func:`fakeugc.features.build_post_frame`; any
table it lacks makes its signals missing). Output: calibrated probability, flag
at the stored threshold, top reasons in words, and the campaign cluster id.
The bundle (feature pipeline with jieba dictionary and lexicons, booster,
calibrator, threshold) is one pickled artifact; loading needs only the
``fakeugc`` package installed.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import mlflow
import numpy as np
import pandas as pd

from fakeugc.modeling.bundle import ScoringBundle

BUNDLE_FILE = "bundle.pkl"

class FakeUGCModel(mlflow.pyfunc.PythonModel):
    def load_context(self, context):
        with open(context.artifacts["bundle"], "rb") as f:
            self.bundle: ScoringBundle = pickle.load(f)

    def predict(self, context, model_input: pd.DataFrame, params: dict | None = None):
        params = params or {}
        frame = _from_signature_types(model_input)
        out = self.bundle.score(
            frame,
            reasons=params.get("reasons", "flagged"),
            threshold=params.get("threshold"),
        )
        out["reasons"] = out["reasons"].map(lambda r: json.dumps(list(r), ensure_ascii=False))
        out["reason_features"] = out["reason_features"].map(lambda r: json.dumps(list(r)))
        out["cluster_id"] = out["cluster_id"].map(lambda c: c if isinstance(c, str) else "")
        out["family_contrib"] = out["family_contrib"].map(
            lambda c: c if isinstance(c, str) else "")
        return out.reset_index(drop=True)


def _from_signature_types(df: pd.DataFrame) -> pd.DataFrame:
    """Undo what the JSON-friendly signature did: lists back to arrays."""
    out = df.copy()
    for c in out.columns:
        if c.startswith("curve_") and c != "curve_hours":
            out[c] = out[c].map(lambda v: None if v is None or (
                isinstance(v, float) and np.isnan(v)) or len(v) == 0 else np.asarray(v, float))
    for c in ("published_at", "account_created_at"):
        if c in out.columns:
            out[c] = pd.to_datetime(out[c], utc=True)
    for c in ("report_times",):
        if c in out.columns:
            out[c] = out[c].map(lambda v: [] if v is None or (isinstance(v, float)) else
                                [pd.Timestamp(t, tz="UTC") if pd.Timestamp(t).tzinfo is None
                                 else pd.Timestamp(t) for t in v])
    return out


def to_model_input(frame: pd.DataFrame) -> pd.DataFrame:
    """A post frame in the types the model signature declares (lists, strings)."""
    from fakeugc.features._frame import ACCOUNT_COLUMNS, POST_COLUMNS

    cols = [c for c in POST_COLUMNS if c in frame.columns]
    cols += [f"account_{c}" for c in ACCOUNT_COLUMNS if f"account_{c}" in frame.columns]
    cols += [c for c in frame.columns if c.startswith("curve_") or c.startswith("report_")]
    cols += ["account_known"] if "account_known" in frame.columns else []
    out = frame[cols].copy()
    for c in out.columns:
        if c.startswith("curve_") and c != "curve_hours":
            out[c] = out[c].map(lambda v: [] if v is None else [float(x) for x in v])
        elif c == "report_times":
            out[c] = out[c].map(lambda v: [] if not isinstance(v, list) else [str(x) for x in v])
        elif c in ("report_reasons", "brand_tags"):
            out[c] = out[c].map(lambda v: [] if v is None or not len(v) else [str(x) for x in v])
        elif out[c].dtype == "boolean":
            out[c] = out[c].astype(object).where(out[c].notna(), None)
        elif isinstance(out[c].dtype, pd.DatetimeTZDtype):
            out[c] = out[c].dt.tz_convert("UTC").dt.tz_localize(None)  # signature: naive UTC
    return out


REQUIRED_INPUTS = {"post_id", "account_id", "published_at", "title", "body"}


def model_signature(sample_in: pd.DataFrame, sample_out: pd.DataFrame, threshold: float):
    """Signature with only the contract's required posts columns required: any other
    table or column may be absent, and its signals are then missing."""
    from mlflow.models import infer_signature
    from mlflow.types.schema import ColSpec, Schema

    sig = infer_signature(sample_in, sample_out,
                          params={"reasons": "flagged", "threshold": float(threshold)})
    cols = [ColSpec(c.type, c.name, required=c.name in REQUIRED_INPUTS) for c in sig.inputs.inputs]
    sig.inputs = Schema(cols)
    return sig


def save_bundle(bundle: ScoringBundle, folder: Path) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / BUNDLE_FILE
    with open(path, "wb") as f:
        pickle.dump(bundle, f, protocol=pickle.HIGHEST_PROTOCOL)
    return path


def pip_requirements() -> list[str]:
    from importlib.metadata import version

    pkgs = ["pandas", "numpy", "pyarrow", "scikit-learn", "scipy", "lightgbm", "jieba",
            "mlflow", "datasketch", "opencc-python-reimplemented"]
    return [f"{p}=={version(p)}" for p in pkgs]


def load_bundle(model_uri: str) -> ScoringBundle:
    """Load the registered model and return its bundle (for scoring and notebooks)."""
    model = mlflow.pyfunc.load_model(model_uri)
    return model.unwrap_python_model().bundle
