"""Assemble the signal families into one feature pipeline, and the night-wide context.

The pipeline is ``TokenizeText`` (one jieba pass shared by every text signal)
followed by a ``FeatureUnion`` of the families asked for. Cross-post families
(account history, coordination, feedback on earlier posts) expose
``<family>_keys(frame)`` and ``<family>_context(keys)``; :func:`add_context`
computes them over a whole night before any batching, so a post's score never
depends on how the night was cut into chunks.
"""

from __future__ import annotations

import importlib
import inspect

import pandas as pd
from sklearn.pipeline import FeatureUnion, Pipeline

from fakeugc.features._catalogue import FAMILIES
from fakeugc.features._text import TokenizeText

#: family -> [(step name, module, class name)]
FAMILY_STEPS: dict[str, list[tuple[str, str, str]]] = {
    "content": [
        ("content", "fakeugc.features._content", "ContentFeatures"),
        ("text_model", "fakeugc.features._text_model", "TextModelScore"),
    ],
    "exposure": [("exposure", "fakeugc.features._exposure", "ExposureFeatures")],
    "account": [("account", "fakeugc.features._account", "AccountFeatures")],
    "coordination": [
        ("coordination", "fakeugc.features._coordination", "CoordinationFeatures")
    ],
    "feedback": [("feedback", "fakeugc.features._feedback", "FeedbackFeatures")],
}

#: family -> module holding ``<family>_keys`` / ``<family>_context``
CONTEXT_MODULES = {
    "exposure": "fakeugc.features._exposure",
    "account": "fakeugc.features._account",
    "coordination": "fakeugc.features._coordination",
    "feedback": "fakeugc.features._feedback",
}


def _class(module: str, name: str):
    return getattr(importlib.import_module(module), name)


def build_feature_pipeline(
    families: list[str] | tuple[str, ...] = FAMILIES,
    user_words: tuple[str, ...] = (),
    brand_terms: tuple[tuple[str, str], ...] = (),
    params: dict | None = None,
    random_state: int = 0,
) -> Pipeline:
    """An unfitted pipeline: post frame in, one float column per feature out.

    ``params`` maps a step name to constructor keyword arguments.
    """
    params = params or {}
    steps = []
    for family in FAMILIES:
        if family not in families:
            continue
        for step, module, cls_name in FAMILY_STEPS[family]:
            cls = _class(module, cls_name)
            kwargs = dict(params.get(step, {}))
            accepted = cls().get_params()
            if "brand_terms" in accepted:
                kwargs.setdefault("brand_terms", tuple(brand_terms))
            if "random_state" in accepted:
                kwargs.setdefault("random_state", random_state)
            steps.append((step, cls(**kwargs)))
    union = FeatureUnion(steps, verbose_feature_names_out=False)
    pipe = Pipeline([("tokenize", TokenizeText(user_words=tuple(user_words))), ("features", union)])
    pipe.set_output(transform="pandas")
    return pipe


def context_families(families=FAMILIES) -> list[str]:
    out = []
    for family in families:
        module = CONTEXT_MODULES.get(family)
        if module is None:
            continue
        m = importlib.import_module(module)
        if hasattr(m, f"{family}_keys") and hasattr(m, f"{family}_context"):
            out.append(family)
    return out


def _step_params(pipeline, family: str) -> dict:
    """Constructor parameters of the family's step in a (fitted) pipeline."""
    if pipeline is None:
        return {}
    union = pipeline.named_steps.get("features") if hasattr(pipeline, "named_steps") else None
    for name, step in getattr(union, "transformer_list", []):
        if name == family:
            return step.get_params(deep=False)
    return {}


def _call_with_params(fn, first, params: dict):
    """Call ``fn(first, **matching params)``: keys and context functions take the
    same parameter names as their transformer, so one setting drives both."""
    accepted = list(inspect.signature(fn).parameters)[1:]
    return fn(first, **{k: v for k, v in params.items() if k in accepted})


def context_keys(frame: pd.DataFrame, families=FAMILIES, pipeline=None) -> dict[str, pd.DataFrame]:
    """Compact per-post keys of every cross-post family (cheap to keep for a night).

    ``pipeline`` (the fitted feature pipeline) supplies the families' parameters,
    e.g. the brand terms and MinHash settings of the coordination step."""
    keys = {}
    for family in context_families(families):
        m = importlib.import_module(CONTEXT_MODULES[family])
        keys[family] = _call_with_params(getattr(m, f"{family}_keys"), frame,
                                         _step_params(pipeline, family))
    return keys


def context_from_keys(keys: dict[str, pd.DataFrame], pipeline=None) -> pd.DataFrame:
    """Night-wide context columns (``ctx_*``) indexed by post_id."""
    return join_contexts([family_context(family, k, _step_params(pipeline, family))
                          for family, k in keys.items()])


def family_context(family: str, keys: pd.DataFrame, params: dict | None = None) -> pd.DataFrame:
    """``<family>_context(keys, **params)``: one family's night context columns."""
    m = importlib.import_module(CONTEXT_MODULES[family])
    return _call_with_params(getattr(m, f"{family}_context"), keys, dict(params or {}))


def join_contexts(parts: list[pd.DataFrame]) -> pd.DataFrame:
    """Families' context frames (each indexed by post_id) joined into one (outer: a post
    missing from one family's keys keeps the others' columns)."""
    if not parts:
        return pd.DataFrame()
    out = parts[0]
    for p in parts[1:]:
        out = out.join(p, how="outer")
    return out


def add_context(frame: pd.DataFrame, families=FAMILIES, context: pd.DataFrame | None = None,
                pipeline=None):
    """The frame with night-wide ``ctx_`` columns joined on post_id.

    ``context`` is the precomputed night context (from :func:`context_from_keys`
    over the whole night); without it the frame itself is treated as the night.
    """
    if context is None:
        # run TokenizeText first so coordination reuses the pipeline's segmentation
        context = context_from_keys(context_keys(frame, families, pipeline), pipeline)
    if context.empty:
        return frame
    out = frame.drop(columns=[c for c in context.columns if c in frame.columns])
    joined = context.reindex(out["post_id"].to_numpy())
    joined.index = out.index
    return pd.concat([out, joined], axis=1)


def reason_words(pipeline, ready: pd.DataFrame, reason_features: list[list[str]],
                 limit: int = 3) -> list[dict[str, list[str]]]:
    """The words of each post behind its reasons, for the sentences analysts read:
    the lexicon matches of content features, and the n-grams that pushed the text
    model's score most when ``text_model_score`` is a reason. ``ready`` is the
    tokenized frame (row i has ``reason_features[i]``); at most ``limit`` words each."""
    out: list[dict[str, list[str]]] = [{} for _ in range(len(ready))]
    # a pipeline whose feature step is not a union of the families (a stand-in, a
    # benchmark's own model) has no words to quote
    steps = dict(getattr(pipeline.named_steps.get("features"), "transformer_list", ()))
    content = steps.get("content")
    if content is not None and hasattr(content, "reason_words"):
        for got, words in zip(out, content.reason_words(ready, reason_features, limit),
                              strict=True):
            got.update(words)
    text = steps.get("text_model")
    need = [i for i, f in enumerate(reason_features) if "text_model_score" in f]
    if text is not None and need and getattr(text, "model_", None) is not None:
        # punctuation and emoji n-grams ("! !") carry weight but tell an analyst nothing
        for i, terms in zip(need, text.top_terms(ready.iloc[need], n=4 * limit), strict=True):
            words = [g for g, _ in terms if all(_has_word(t) for t in g.split(" "))]
            if words:
                out[i]["text_model_score"] = words[:limit]
    return out


def _has_word(token: str) -> bool:
    return any(ch.isalnum() for ch in token)
