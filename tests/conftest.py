"""Shared fixtures. Every test gets its own MLflow store and jieba cache location."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

SHARED = Path(__file__).resolve().parents[2] / "shared"
BENCHMARKS = SHARED / "benchmarks"


def benchmark_path(name: str) -> Path:
    path = BENCHMARKS / name
    if not path.is_dir():
        pytest.skip(f"{path} not present")
    return path


@pytest.fixture(autouse=True)
def _isolated_env(tmp_path, monkeypatch):
    """Point MLflow and the analysts' store at this test's temporary folder."""
    monkeypatch.setenv("MLFLOW_TRACKING_URI", f"sqlite:///{tmp_path / 'mlflow.db'}")
    monkeypatch.setenv("FAKEUGC_STORE", str(tmp_path / "store.sqlite"))
    os.environ.setdefault("FAKEUGC_JIEBA_CACHE", str(Path("/tmp") / "fakeugc-jieba-tests"))
    yield
