"""No campaign straddles the training cut: a night's context clusters its own night
only, so the split also clusters the posts on both sides of the cut together."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

from fakeugc.features._coordination import C_CLUSTER_ID
from fakeugc.features._lexicon import lexicon_words
from fakeugc.features._pipeline import build_feature_pipeline, context_from_keys, context_keys
from fakeugc.io.reader import discover_exports
from fakeugc.modeling.config import SplitConfig
from fakeugc.modeling.data import (
    brand_vocabulary,
    first_night_posts,
    prepare_nights,
    read_brands,
)
from fakeugc.modeling.split import assign_split, near_the_cut, time_windows
from fakeugc.modeling.train import BoundaryClusters


@pytest.fixture(scope="module")
def labelled(tmp_path_factory):
    from fakeugc.synthetic import GeneratorConfig, generate

    out = tmp_path_factory.mktemp("boundary") / "raw"
    generate(GeneratorConfig(days=12, accounts=1500, seed=11), out)
    sources = discover_exports([out])
    words, terms = brand_vocabulary(read_brands(sources))
    pipe = build_feature_pipeline(["content", "coordination"],
                                  tuple(dict.fromkeys(words + tuple(lexicon_words()))), terms,
                                  random_state=0)
    tok = pipe.named_steps["tokenize"].fit(first_night_posts(sources))
    nf, _, _ = prepare_nights(sources, tok, ["content", "coordination"], pipe,
                              labelled_only=True)
    return nf.labelled, pipe


def _straddling(lab, split, pipe) -> int:
    """Near-duplicate clusters of all the labelled posts together (one context, the
    whole period) that have posts in training and in a later, evaluated window."""
    ctx = context_from_keys(context_keys(lab, ["coordination"], pipe), pipe)
    cl = ctx[C_CLUSTER_ID].reindex(lab["post_id"].to_numpy()).to_numpy(dtype=object)
    side = np.where(split == "train", "train", np.where(split == "unused", "", "eval"))
    sides = pd.DataFrame({"c": cl, "s": side})
    sides = sides[sides["c"].map(lambda c: isinstance(c, str)) & (sides["s"] != "")]
    return int((sides.groupby("c")["s"].nunique() > 1).sum())


def test_no_cluster_is_trained_on_and_evaluated_on(labelled):
    lab, pipe = labelled
    cfg = SplitConfig()
    boundary = BoundaryClusters.of(pipe, ["content", "coordination"])
    assert boundary.days == 7.0
    per_night = assign_split(lab, cfg, seed=42).to_numpy()
    both = assign_split(lab, cfg, seed=42, boundary_clusters=boundary).to_numpy()
    # with per-night clusters only, campaigns straddle the cut on this platform; with
    # the boundary clusters none does
    assert _straddling(lab, per_night, pipe) > 0
    assert _straddling(lab, both, pipe) == 0
    # and no account is on both sides either
    side = pd.Series(np.where(both == "train", "t", np.where(both == "unused", "", "e")))
    acc = pd.DataFrame({"a": lab["account_id"].to_numpy(), "s": side})
    assert (acc[acc["s"] != ""].groupby("a")["s"].nunique() <= 1).all()


def test_near_the_cut():
    day = pd.Series(pd.date_range("2026-10-01", periods=20, freq="D", tz="Asia/Shanghai"))
    window = time_windows(day, SplitConfig())
    near = near_the_cut(day, window, 3)
    cut = np.flatnonzero(window != "train")[0]
    assert np.flatnonzero(near).tolist() == list(range(cut - 3, cut + 4))
    assert not near_the_cut(day, np.array(["train"] * 20), 3).any()
