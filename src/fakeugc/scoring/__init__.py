"""Nightly batch scoring: stream an export through the model in memory set by the chunk
size, and commit the scores, the quarantine, drift figures and a manifest atomically.

``fakeugc score EXPORT_DIR --model models:/NAME@champion --out DIR`` runs
:func:`score_export` with the local engine (worker processes over hash buckets) or
``--engine spark`` (the same bucket code through ``mapInPandas``). See
``docs/scoring.md``.
"""

from fakeugc.scoring.config import ScoreConfig, load_score_config
from fakeugc.scoring.run import ScoringError, score_export

__all__ = ["ScoreConfig", "ScoringError", "load_score_config", "score_export"]
