"""Shared fixtures. Every test gets its own MLflow store and jieba cache location."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

from shared_paths import BENCHMARKS, SHARED, benchmark_path  # noqa: F401


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Point MLflow and the analysts' store at this test's temporary folder."""
    uri = f"sqlite:///{tmp_path / 'mlflow.db'}"
    monkeypatch.setenv("MLFLOW_TRACKING_URI", uri)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_ID", raising=False)
    monkeypatch.delenv("MLFLOW_EXPERIMENT_NAME", raising=False)
    import mlflow
    import mlflow.tracking.fluent as fluent

    # MLflow keeps the active experiment and URI in module globals: reset them so no
    # test sees another test's store
    fluent._active_experiment_id = None
    mlflow.set_tracking_uri(uri)
    monkeypatch.setenv("FAKEUGC_STORE", str(tmp_path / "store.sqlite"))
    os.environ.setdefault("FAKEUGC_JIEBA_CACHE", str(Path("/tmp") / "fakeugc-jieba-tests"))
    yield
