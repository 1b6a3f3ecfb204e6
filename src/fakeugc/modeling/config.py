"""Training configuration: ``pipelines/train.yaml`` parsed into pydantic models.

An unknown key is an error (a typo in a config must not silently train a
different model); command-line arguments override the file.
"""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fakeugc.features._catalogue import FAMILIES
from fakeugc.settings import read_yaml_mapping


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class SplitConfig(_Strict):
    """Time windows (shares of the days, in order) and the share of account groups
    held out for evaluation. Train uses the other groups only, so no account and no
    near-duplicate cluster is on both sides."""

    train: float = 0.5
    valid: float = 0.15
    calibration: float = 0.15
    test: float = 0.2
    eval_group_share: float = Field(0.4, gt=0, lt=1)

    @model_validator(mode="after")
    def _sums_to_one(self):
        total = self.train + self.valid + self.calibration + self.test
        if abs(total - 1) > 1e-6:
            raise ValueError(f"split shares must sum to 1, got {total}")
        return self


class LightGBMConfig(_Strict):
    num_leaves: int = 31
    learning_rate: float = 0.05
    n_estimators: int = 600
    min_child_samples: int = 20
    feature_fraction: float = 0.8
    bagging_fraction: float = 0.8
    bagging_freq: int = 1
    lambda_l2: float = 1.0
    max_bin: int = 255
    early_stopping_rounds: int = 50
    num_threads: int = 2
    #: feature -> +1 (may only raise the score) / -1 (may only lower it). Encodes policy:
    #: a declared partnership is legitimate, so declaring one must never raise a score.
    monotone: dict[str, int] = Field(default_factory=dict)


class ThresholdConfig(_Strict):
    """``precision``: the lowest threshold reaching ``target_precision`` on the
    calibration window. ``capacity``: flag about ``daily_capacity`` posts a day."""

    policy: Literal["precision", "capacity"] = "precision"
    target_precision: float = Field(0.9, gt=0, le=1)
    daily_capacity: int = Field(200, gt=0)


class PromotionConfig(_Strict):
    metric: Literal["pr_auc", "roc_auc", "recall_at_precision_90", "precision_at_k"] = "pr_auc"
    margin: float = 0.0


class TrainConfig(_Strict):
    model_name: str = "fakeugc"
    experiment: str = "fakeugc"
    seed: int = 42
    families: list[str] = Field(default_factory=lambda: list(FAMILIES))
    split: SplitConfig = Field(default_factory=SplitConfig)
    lightgbm: LightGBMConfig = Field(default_factory=LightGBMConfig)
    imbalance: Literal["none", "scale_pos_weight", "sqrt"] = "sqrt"
    calibration: Literal["auto", "isotonic", "sigmoid"] = "auto"
    threshold: ThresholdConfig = Field(default_factory=ThresholdConfig)
    promotion: PromotionConfig = Field(default_factory=PromotionConfig)
    reasons_top_k: int = 3
    precision_at_k: int = 100
    text_model_splits: int = 5
    #: Cost-sensitive learning: the booster's weight of a labelled *genuine* post that
    #: the labels mark as a hard case (``labels.hard_case``: a declared partnership, a
    #: launch-burst, viral or reported genuine post; analysts set it when they clear a
    #: flag). A false flag there docks a brand that followed the rules or a user at
    #: their most visible, so it costs more than one on an ordinary post; 1 = off.
    hard_negative_weight: float = Field(3.0, ge=1.0, le=100.0)
    ablation: bool = True
    #: processes that build the nights' post frames (read, jieba, night context) in
    #: parallel; 1 builds them in this process
    workers: int = Field(2, ge=1, le=64)
    #: cache each night's tokenized frame with its context in data/interim/frames,
    #: keyed by the export files' bytes, the tokenizer and the feature code
    frame_cache: bool = True
    #: cache the fitted feature step and the final matrices (same frames, split, seed and
    #: feature parameters): retraining with other LightGBM, calibration or threshold
    #: settings then skips reading and feature building
    feature_cache: bool = True
    #: after each training run the cache folder (data/interim/frames) is trimmed to this
    #: many GiB, least recently used entries first, never the run's own; 0 = no limit.
    #: A million posts' frames take ~4.3 GiB, their feature matrices ~1 GiB.
    cache_max_gib: float = Field(20.0, ge=0)

    @model_validator(mode="after")
    def _known_families(self):
        unknown = set(self.families) - set(FAMILIES)
        if unknown:
            raise ValueError(f"unknown families {sorted(unknown)}; known: {list(FAMILIES)}")
        if "content" not in self.families:
            raise ValueError("the content family is required (posts always have text)")
        return self


def load_config(path: str | Path | None, overrides: dict | None = None) -> TrainConfig:
    """Load and validate the YAML config; ``overrides`` (dotted keys allowed) win."""
    data: dict = {}
    if path is not None:
        data = read_yaml_mapping(path)
    for key, value in (overrides or {}).items():
        if value is None:
            continue
        node = data
        *parents, last = key.split(".")
        for p in parents:
            node = node.setdefault(p, {})
        node[last] = value
    return TrainConfig.model_validate(data)
