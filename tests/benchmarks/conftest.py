"""Fixtures for the benchmark tests: fixture trees in each release's layout
(built by :mod:`bench_trees`)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

HERE = Path(__file__).resolve().parent
if str(HERE) not in sys.path:
    sys.path.insert(0, str(HERE))

from bench_trees import write_ced_tree, write_ott_tree  # noqa: E402


@pytest.fixture
def ced_tree(tmp_path) -> Path:
    return write_ced_tree(tmp_path / "src")


@pytest.fixture
def ott_tree(tmp_path) -> Path:
    return write_ott_tree(tmp_path / "src")
