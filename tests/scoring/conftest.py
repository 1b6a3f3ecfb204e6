"""Fixtures for the scoring tests: stand-in models (real ScoringBundles around a tiny
LightGBM booster), saved once per session, and exports written per test."""

from __future__ import annotations

import os
import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

import scoring_helpers as H  # noqa: E402


@pytest.fixture(autouse=True)
def _helpers_importable(monkeypatch):
    """Worker processes, subprocesses and Spark tasks unpickle the stand-in bundle,
    whose feature step lives in scoring_helpers."""
    path = os.environ.get("PYTHONPATH", "")
    if str(HERE) not in path.split(os.pathsep):
        monkeypatch.setenv("PYTHONPATH", os.pathsep.join(p for p in (str(HERE), path) if p))


@pytest.fixture(scope="session")
def bundle():
    """No night-wide context (families=[])."""
    return H.make_bundle(families=())


@pytest.fixture(scope="session")
def ctx_bundle():
    """With the real night-wide context of the exposure, account and feedback families."""
    return H.make_bundle(families=("exposure", "account", "feedback"))


@pytest.fixture(scope="session")
def model_dir(tmp_path_factory, bundle):
    """The stand-in as a local MLflow model folder, for the CLI in a subprocess."""
    return H.save_model_dir(bundle, tmp_path_factory.mktemp("model") / "stand-in")
