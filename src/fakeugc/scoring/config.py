"""Nightly scoring configuration: ``pipelines/score_nightly.yaml`` parsed into a
pydantic model. Unknown keys are errors; command-line arguments override the file."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fakeugc.settings import read_yaml_mapping


class ScoreConfig(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    #: registered model (``models:/NAME@alias`` resolved once per run, or
    #: ``models:/NAME/VERSION``, or a local MLflow model folder)
    model: str = "models:/fakeugc@champion"
    #: output folder; ``{date}`` is the export date. Relative paths are relative to the
    #: project root.
    out: str = "data/scored/export_date={date}"
    engine: Literal["local", "spark"] = "local"
    #: posts per chunk: streaming batches, and about how many posts a bucket holds.
    #: Peak memory is set by this, not by the size of the export.
    chunk_size: int = Field(5000, ge=1)
    #: worker processes of the local engine (0: score in the main process; None: one
    #: per CPU when the export has more than one bucket)
    workers: int | None = Field(None, ge=0)
    #: Spark master (local mode by default; ``spark://host:7077``, ``yarn``, ...)
    master: str = "local[2]"
    #: Spark shuffle partitions (None: from the number of buckets)
    spark_partitions: int | None = Field(None, ge=1)
    #: PSI reference label written to drift.json (None: the model's training window)
    reference_window: str | None = None


def load_score_config(path: str | Path | None, overrides: dict | None = None) -> ScoreConfig:
    """Load and validate the YAML config; non-None ``overrides`` win."""
    data: dict = {}
    if path is not None:
        data = read_yaml_mapping(path)
    for key, value in (overrides or {}).items():
        if value is not None:
            data[key] = value
    return ScoreConfig.model_validate(data)
