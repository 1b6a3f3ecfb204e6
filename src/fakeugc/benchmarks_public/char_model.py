"""CharModelScore: a character n-gram text model, out-of-fold, as one more feature.

The pipeline's :class:`~fakeugc.features.TextModelScore` reads jieba *word*
n-grams. Chinese word segmentation of short news posts misses names, numbers
and new words that character n-grams catch, and on English reviews character
n-grams carry style (punctuation, suffixes) that words miss. This step is the
same model -- hashed TF-IDF, logistic regression, out-of-fold score on the
training rows, log-odds clipped to ±20 -- over the characters of the
normalised text (``text_norm``; whitespace becomes ``▁``) instead of the word
tokens. It inherits everything else from TextModelScore (folds grouped by
``group_column``, NaN for posts without text), and its output is a separate
feature, ``text_char_model_score``, next to ``text_model_score``.

It is used by the benchmarks only (``char_model`` in
``pipelines/benchmarks.yaml``); see docs/benchmarks.md for what it adds.
"""

from __future__ import annotations

import re

import numpy as np
import pandas as pd

from fakeugc.features._catalogue import feature
from fakeugc.features._text import normalise_text, post_text
from fakeugc.features._text_model import F_TEXT_SCORE, TextModelScore

F_CHAR_SCORE = feature(
    "text_char_model_score", "content",
    "Character n-gram text model score (log-odds that the text is from a fake post; "
    "out-of-fold on training data)",
    "the text's character n-grams resemble known fake posts (log-odds {value:+.1f})",
    "the text's character n-grams resemble genuine posts (log-odds {value:+.1f})",
)

_SPACE = re.compile(r"\s+")


class CharModelScore(TextModelScore):
    """Out-of-fold character n-gram model score (log-odds), ``text_char_model_score``.

    Parameters are those of :class:`TextModelScore`; ``ngram_range`` counts
    characters here (default 1..3) and the hashing space is larger (2**21).
    """

    def __init__(
        self,
        n_splits: int = 5,
        random_state: int = 0,
        C: float = 16.0,
        n_features: int = 2**21,
        ngram_range: tuple[int, int] = (1, 3),
        class_weight=None,
        group_column: str = "account_id",
    ):
        super().__init__(n_splits=n_splits, random_state=random_state, C=C,
                         n_features=n_features, ngram_range=ngram_range,
                         class_weight=class_weight, group_column=group_column)

    def _tokens(self, X: pd.DataFrame) -> list[list[str]]:
        if "text_norm" in X.columns:
            norm = ["" if not isinstance(t, str) else t for t in X["text_norm"].tolist()]
        else:
            frame = X.assign(**{c: "" for c in ("title", "body") if c not in X.columns})
            norm = [normalise_text(t) for t in post_text(frame).tolist()]
        return [list(_SPACE.sub("▁", t.strip())) for t in norm]

    def fit_transform(self, X: pd.DataFrame, y=None, **fit_params) -> pd.DataFrame:
        return super().fit_transform(X, y, **fit_params).rename(
            columns={F_TEXT_SCORE: F_CHAR_SCORE})

    def transform(self, X: pd.DataFrame) -> pd.DataFrame:
        return super().transform(X).rename(columns={F_TEXT_SCORE: F_CHAR_SCORE})

    def get_feature_names_out(self, input_features=None):
        return np.asarray((F_CHAR_SCORE,), dtype=object)
