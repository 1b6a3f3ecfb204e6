"""The numbered notebooks run top to bottom on a small export (they import the package)."""

from __future__ import annotations

import os
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

NOTEBOOKS = sorted((Path(__file__).resolve().parents[1] / "notebooks").glob("*.ipynb"))


@pytest.fixture(scope="module")
def small_export(tmp_path_factory):
    from fakeugc.synthetic import GeneratorConfig, generate

    out = tmp_path_factory.mktemp("nb") / "raw"
    generate(GeneratorConfig(days=10, accounts=1200, seed=5), out)
    return out


@pytest.mark.slow
@pytest.mark.parametrize("path", NOTEBOOKS, ids=[p.name for p in NOTEBOOKS])
def test_notebook_executes(path, small_export, tmp_path, monkeypatch):
    monkeypatch.setenv("FAKEUGC_NOTEBOOK_EXPORT", str(small_export))
    monkeypatch.setenv("MPLBACKEND", "Agg")
    nb = nbformat.read(path, as_version=4)
    client = NotebookClient(nb, timeout=600, kernel_name="python3",
                            resources={"metadata": {"path": str(tmp_path)}})
    client.execute(env=dict(os.environ))
    errors = [o for c in nb.cells if c.cell_type == "code" for o in c.get("outputs", [])
              if o.get("output_type") == "error"]
    assert not errors
    assert len(NOTEBOOKS) >= 2
