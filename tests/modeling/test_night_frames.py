"""Training's night frames: read night by night, built by a process pool, cached.

The pool must give the very frames the serial path gives (same tokens, same order),
the serial path the frames of the whole-export reader, and a cache hit the very
bytes of a miss; a changed dictionary or export must miss.
"""

from __future__ import annotations

import numpy as np
import pandas as pd
import pyarrow.parquet as pq
import pytest

from fakeugc.features._catalogue import FAMILIES
from fakeugc.features._lexicon import lexicon_words
from fakeugc.features._pipeline import build_feature_pipeline
from fakeugc.io import read_exports
from fakeugc.io.reader import discover_exports
from fakeugc.modeling.data import (
    FrameCache,
    brand_vocabulary,
    build_night_frames,
    first_night_posts,
    prepare_nights,
    read_brands,
)


@pytest.fixture(scope="module")
def platform(tmp_path_factory):
    from fakeugc.synthetic import GeneratorConfig, generate

    out = tmp_path_factory.mktemp("nights") / "raw"
    generate(GeneratorConfig(days=4, accounts=400, seed=5), out)
    return out


def _pipeline(brands, extra_words=()):
    words, terms = brand_vocabulary(brands)
    user_words = tuple(dict.fromkeys(words + tuple(lexicon_words()) + tuple(extra_words)))
    pipe = build_feature_pipeline(FAMILIES, user_words, terms, random_state=0)
    return pipe


@pytest.fixture(scope="module")
def pipeline(platform):
    sources = discover_exports([platform])
    pipe = _pipeline(read_brands(sources))
    pipe.named_steps["tokenize"].fit(first_night_posts(sources))
    return pipe


def _prepare(platform, pipeline, **kw):
    return prepare_nights([platform], pipeline.named_steps["tokenize"], FAMILIES, pipeline, **kw)


def test_brands_and_first_posts_match_the_whole_export_reader(platform):
    export = read_exports([platform])
    sources = discover_exports([platform])
    assert brand_vocabulary(read_brands(sources)) == brand_vocabulary(export)
    assert list(first_night_posts(sources).columns) == list(export.posts.columns)


def test_serial_nights_equal_whole_export_frames(platform, pipeline):
    export = read_exports([platform])
    old = build_night_frames(export, pipeline.named_steps["tokenize"], FAMILIES,
                             pipeline=pipeline).frame
    nf, lineage, info = _prepare(platform, pipeline, workers=1)
    pd.testing.assert_frame_equal(nf.frame, old)
    assert info == {"hits": 0, "misses": 4}
    assert lineage.stats["posts"]["used"] == len(export.posts)
    assert lineage.stats["exposure"] == export.stats["exposure"].as_dict()
    assert set(lineage.digests) == {str(p) for ps in export.files.values() for p in ps}


def test_pool_tokenizes_exactly_as_serial(platform, pipeline):
    serial, _, _ = _prepare(platform, pipeline, workers=1)
    pooled, _, _ = _prepare(platform, pipeline, workers=2)
    pd.testing.assert_frame_equal(pooled.frame, serial.frame)
    assert pooled.frame["tokens"].map(tuple).tolist() == serial.frame["tokens"].map(tuple).tolist()


def _features(pipeline, frame):
    lab = frame[frame["label"].notna()].reset_index(drop=True)
    feats = pipeline.named_steps["features"]
    return feats.transform(lab).astype("float64")


def test_cache_hit_gives_identical_features_and_changes_miss(platform, pipeline, tmp_path):
    cache = FrameCache(tmp_path / "cache")
    cold, _, info = _prepare(platform, pipeline, workers=2, cache=cache)
    assert info == {"hits": 0, "misses": 4}
    assert len(list((tmp_path / "cache").glob("night-*.pkl"))) == 4
    warm, _, info = _prepare(platform, pipeline, workers=2, cache=cache)
    assert info == {"hits": 4, "misses": 0}
    pd.testing.assert_frame_equal(warm.frame, cold.frame)

    lab = cold.frame[cold.frame["label"].notna()].reset_index(drop=True)
    feats = pipeline.named_steps["features"]
    import copy

    fitted = copy.deepcopy(feats).fit(lab, lab["label"].to_numpy(dtype=int))
    X_cold = fitted.transform(lab).astype("float64")
    X_warm = fitted.transform(
        warm.frame[warm.frame["label"].notna()].reset_index(drop=True)).astype("float64")
    assert list(X_cold.columns) == list(X_warm.columns)
    assert X_cold.to_numpy().tobytes() == X_warm.to_numpy().tobytes()

    # another dictionary word: every night misses
    sources = discover_exports([platform])
    other = _pipeline(read_brands(sources), extra_words=("一个全新的词",))
    other.named_steps["tokenize"].fit(first_night_posts(sources))
    _, _, info = _prepare(platform, other, workers=1, cache=cache)
    assert info == {"hits": 0, "misses": 4}


def test_changed_export_misses_only_its_night(platform, pipeline, tmp_path):
    import shutil

    copy_dir = tmp_path / "raw"
    shutil.copytree(platform, copy_dir)
    cache = FrameCache(tmp_path / "cache")
    _, _, info = prepare_nights([copy_dir], pipeline.named_steps["tokenize"], FAMILIES, pipeline,
                                workers=1, cache=cache)
    assert info["misses"] == 4
    night = sorted(copy_dir.glob("export_date=*"))[2]
    posts = pq.read_table(night / "posts.parquet").to_pandas()
    posts.loc[0, "body"] = str(posts.loc[0, "body"]) + " 改过"
    posts.to_parquet(night / "posts.parquet", index=False)
    nf, _, info = prepare_nights([copy_dir], pipeline.named_steps["tokenize"], FAMILIES,
                                 pipeline, workers=1, cache=cache)
    assert info == {"hits": 3, "misses": 1}
    row = nf.frame[nf.frame["post_id"] == posts.loc[0, "post_id"]].iloc[0]
    assert row["text_norm"].endswith("改过")


def test_tokens_share_equal_strings(platform, pipeline):
    nf, _, _ = _prepare(platform, pipeline, workers=1)
    first = nf.frame[nf.frame["night"] == nf.frame["night"].iloc[0]]
    seen: dict = {}
    for toks in first["tokens"]:
        for t in toks:
            assert seen.setdefault(t, t) is t
    assert np.mean([len(t) for t in first["tokens"]]) > 1
