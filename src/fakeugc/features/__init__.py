"""Feature builders: scikit-learn transformers, one module per signal family.

Every builder takes the post frame (:func:`build_post_frame`) and returns one
float column per feature, NaN where its table or column is missing. Importing
this package declares every feature in the catalogue.
"""

from fakeugc.features._account import AccountFeatures
from fakeugc.features._catalogue import FAMILIES, FeatureDoc, catalogue, describe
from fakeugc.features._content import ContentFeatures
from fakeugc.features._coordination import CoordinationFeatures
from fakeugc.features._exposure import ExposureFeatures
from fakeugc.features._feedback import FeedbackFeatures
from fakeugc.features._frame import CURVE_HOURS, build_post_frame, curve_matrix
from fakeugc.features._pipeline import (
    add_context,
    build_feature_pipeline,
    context_from_keys,
    context_keys,
)
from fakeugc.features._text import Segmenter, TokenizeText, normalise_text
from fakeugc.features._text_model import TextModelScore

__all__ = [
    "CURVE_HOURS",
    "FAMILIES",
    "AccountFeatures",
    "ContentFeatures",
    "CoordinationFeatures",
    "ExposureFeatures",
    "FeatureDoc",
    "FeedbackFeatures",
    "Segmenter",
    "TextModelScore",
    "TokenizeText",
    "add_context",
    "build_feature_pipeline",
    "build_post_frame",
    "catalogue",
    "context_from_keys",
    "context_keys",
    "curve_matrix",
    "describe",
    "normalise_text",
]
