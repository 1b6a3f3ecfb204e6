"""Where things live: the project root, data folders and the MLflow store.

One object owns the paths so that a nightly job started from any working
directory finds the same MLflow database (a relative ``sqlite:///`` URI would
silently create a fresh, empty one).
"""

from __future__ import annotations

import os
from dataclasses import dataclass
from pathlib import Path


def project_root() -> Path:
    """``$FAKEUGC_HOME``, else the source checkout this package is installed from,
    else the current directory."""
    env = os.environ.get("FAKEUGC_HOME")
    if env:
        return Path(env).absolute()
    here = Path(__file__).resolve()
    for parent in here.parents:
        if (parent / "pyproject.toml").is_file() and (parent / "src" / "fakeugc").is_dir():
            return parent
    return Path.cwd().absolute()


@dataclass(frozen=True)
class Settings:
    root: Path

    @property
    def data(self) -> Path:
        return self.root / "data"

    @property
    def raw(self) -> Path:
        return self.data / "raw"

    @property
    def external(self) -> Path:
        return self.data / "external"

    @property
    def pipelines(self) -> Path:
        return self.root / "pipelines"

    @property
    def tracking_uri(self) -> str:
        """``$MLFLOW_TRACKING_URI``, else an absolute SQLite store under the project."""
        uri = os.environ.get("MLFLOW_TRACKING_URI")
        if uri:
            return uri
        return f"sqlite:///{(self.root / 'mlflow.db').absolute()}"

    @property
    def artifact_location(self) -> str:
        return (self.root / "mlartifacts").absolute().as_uri()

    @property
    def store_path(self) -> Path:
        """SQLite file of the analysts' store (verdicts, brand ledger)."""
        return Path(os.environ.get("FAKEUGC_STORE", self.root / "data" / "fakeugc.sqlite")).absolute()


def get_settings() -> Settings:
    return Settings(project_root())


def read_yaml_mapping(path: str | Path) -> dict:
    """A YAML config file's top-level mapping (an empty file gives ``{}``); anything
    else at the top level is an error naming the file. Every ``pipelines/*.yaml``
    loader starts here, then validates with its pydantic model."""
    import yaml

    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f)
    if data is None:
        return {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping at the top level")
    return data
