"""Benchmark settings: ``pipelines/benchmarks.yaml`` parsed into strict pydantic models.

One section per data set holds what differs between them: which signal
families the pipeline uses, the parameters of its feature steps (``params``,
passed to :func:`fakeugc.features.build_feature_pipeline`), the optional
character n-gram text model (:class:`CharModelScore`), LightGBM overrides, and
the plain baselines' settings. Unknown keys are errors, as in the training
config.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field

from fakeugc.modeling.config import LightGBMConfig, TrainConfig
from fakeugc.settings import read_yaml_mapping


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class CharModelConfig(_Strict):
    """The extra character n-gram text model (None/absent: not used)."""

    ngram_range: tuple[int, int] = (1, 3)
    C: float = 16.0
    n_features: int = 2**21
    n_splits: int = 5


class QuickConfig(_Strict):
    """``--quick``: a small subsample and a cheaper protocol (a smoke test, not a figure)."""

    sample: int = 600
    folds: int = 3
    n_estimators: int = 200


class SetConfig(_Strict):
    families: list[str] = Field(default_factory=lambda: ["content"])
    #: constructor arguments per feature step (``text_model``, ``content``, ...)
    params: dict[str, dict] = Field(default_factory=dict)
    char_model: CharModelConfig | None = None
    lightgbm: dict = Field(default_factory=dict)
    imbalance: Literal["none", "scale_pos_weight", "sqrt"] = "none"
    calibration: Literal["auto", "isotonic", "sigmoid"] = "sigmoid"
    #: share of the training groups held out for early stopping and calibration
    #: (cross-validated sets; Weibo21 uses its official val split)
    valid_share: float = Field(0.2, gt=0, lt=1)
    #: > 1: that many boosters over folds of the training groups, each early-stopped
    #: and calibrated on its own held-out fold, probabilities averaged
    booster_folds: int = Field(1, ge=1)
    baselines: dict[str, dict] = Field(default_factory=dict)
    quick: QuickConfig = Field(default_factory=QuickConfig)
    #: candidate settings for ``--select`` (see selection.py): a list of overrides of
    #: this section, or {dotted.key: [values]} for their product
    grid: list[dict] | dict[str, list] | None = None


class CedConfig(SetConfig):
    folds: int = 5
    curve_cuts: list[int] = Field(default_factory=lambda: [1, 6, 24])
    #: extra pipeline runs with fewer families, e.g. {"text only": [content]}
    ablations: dict[str, list[str]] = Field(default_factory=dict)


class OttConfig(SetConfig):
    per_polarity: bool = True


class Weibo21Config(SetConfig):
    pass


class BenchConfig(_Strict):
    experiment: str = "benchmarks"
    seed: int = 42
    lightgbm: LightGBMConfig = Field(default_factory=LightGBMConfig)
    ced: CedConfig = Field(default_factory=CedConfig)
    ott: OttConfig = Field(default_factory=OttConfig)
    weibo21: Weibo21Config = Field(default_factory=Weibo21Config)

    def set_config(self, name: str) -> SetConfig:
        return getattr(self, name)

    def train_config(self, name: str, quick: bool = False) -> TrainConfig:
        """The :class:`TrainConfig` that ``fit_booster`` and the calibrator read for
        data set ``name``: the shared LightGBM settings with the set's overrides."""
        s = self.set_config(name)
        lgbm = self.lightgbm.model_dump() | dict(s.lightgbm)
        if quick:
            lgbm["n_estimators"] = min(lgbm["n_estimators"], s.quick.n_estimators)
        return TrainConfig(
            experiment=self.experiment, seed=self.seed, families=list(s.families),
            lightgbm=LightGBMConfig.model_validate(lgbm), imbalance=s.imbalance,
            calibration=s.calibration, ablation=False,
        )


def default_config_path() -> Path:
    from fakeugc.settings import get_settings

    return get_settings().pipelines / "benchmarks.yaml"


def load_bench_config(path: str | Path | None = None) -> BenchConfig:
    """The config at ``path`` (default ``pipelines/benchmarks.yaml``; built-in
    defaults when that file does not exist)."""
    p = Path(path) if path is not None else default_config_path()
    if path is None and not p.exists():
        return BenchConfig()
    return BenchConfig.model_validate(read_yaml_mapping(p))
