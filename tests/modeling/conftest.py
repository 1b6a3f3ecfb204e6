"""Training tests keep their night-frame cache out of the project's data/interim."""

from __future__ import annotations

import os

import pytest


@pytest.fixture(autouse=True, scope="session")
def _frame_cache_dir(tmp_path_factory):
    old = os.environ.get("FAKEUGC_FRAME_CACHE")
    os.environ["FAKEUGC_FRAME_CACHE"] = str(tmp_path_factory.mktemp("frame-cache"))
    yield
    if old is None:
        os.environ.pop("FAKEUGC_FRAME_CACHE", None)
    else:
        os.environ["FAKEUGC_FRAME_CACHE"] = old
