"""The feature catalogue: every feature's name, family, meaning and the sentence an
analyst reads when it drives a flag.

Each feature module declares its features with :func:`feature`; the catalogue
in ``docs/features.md`` and the reasons in reports are generated from these
declarations, so a feature cannot exist without its explanation.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

FAMILIES = ("content", "exposure", "account", "coordination", "feedback")


@dataclass(frozen=True)
class FeatureDoc:
    name: str
    family: str
    meaning: str
    #: Sentence shown when the feature pushes a post towards "fake". Formatted with
    #: ``value`` (this feature) and ``row`` (every feature of the post, by name).
    reason: str
    #: Sentence shown when it pushes towards "genuine" (optional).
    reason_against: str = ""
    #: The "fake" sentence states that something is there ("4 other accounts posted
    #: paraphrases"): a value of 0 can still push towards fake (0 against missing), but
    #: its sentence would be false, so it is not shown as a reason (its log-odds still
    #: count in the family totals).
    presence: bool = False

    def explains(self, value, towards_fake: bool = True) -> bool:
        """Whether this feature's sentence can be a reason at ``value``."""
        if not (self.presence and towards_fake):
            return True
        try:
            return float(value) > 0
        except (TypeError, ValueError):
            return False

    def sentence(self, value, row: dict, towards_fake: bool = True) -> str:
        template = self.reason if towards_fake or not self.reason_against else self.reason_against
        try:
            if value is None or (isinstance(value, float) and math.isnan(value)):
                return f"{self.meaning}: not available"
            return template.format(value=value, row=_SafeRow(row))
        except (KeyError, ValueError, TypeError, IndexError):
            return f"{self.meaning}: {value}"


class _SafeRow(dict):
    """Row lookup for reason templates: missing names give NaN instead of KeyError."""

    def __missing__(self, key):
        return float("nan")


_REGISTRY: dict[str, FeatureDoc] = {}


def feature(name: str, family: str, meaning: str, reason: str, reason_against: str = "") -> str:
    """Declare a feature; returns its name so modules can write
    ``F_X = feature("x", ...)`` and use the constant."""
    if family not in FAMILIES:
        raise ValueError(f"unknown family {family!r}")
    doc = FeatureDoc(name, family, meaning, reason, reason_against)
    existing = _REGISTRY.get(name)
    if existing is not None and existing != doc:
        raise ValueError(f"feature {name!r} declared twice with different docs")
    _REGISTRY[name] = doc
    return name


def mark_presence(*names: str) -> None:
    """Mark declared features whose "fake" sentence states that something is there
    (see :attr:`FeatureDoc.presence`)."""
    import dataclasses

    for n in names:
        _REGISTRY[n] = dataclasses.replace(_REGISTRY[n], presence=True)


def catalogue() -> dict[str, FeatureDoc]:
    """Every declared feature, by name (import :mod:`fakeugc.features` first)."""
    return dict(_REGISTRY)


def describe(name: str) -> FeatureDoc | None:
    return _REGISTRY.get(name)


class StatelessFeaturesMixin:
    """For feature builders that learn nothing from training data: ``fit`` only
    records the output names, and transform works on an unfitted instance too.
    Subclasses set ``_features`` (their output names, in order)."""

    _features: tuple[str, ...] = ()

    def fit(self, X, y=None):
        self.feature_names_out_ = self.get_feature_names_out()
        return self

    def __sklearn_is_fitted__(self) -> bool:
        return True

    def get_feature_names_out(self, input_features=None):
        import numpy as np

        return np.asarray(self._features, dtype=object)
