"""The Ott correction: the shared export repeats 800 ids across the two polarities; the
benchmark rebuilds a corrected copy (ids suffixed with the polarity) after checking that
posts row i and labels row i are the same review, and reads that through the reader."""

from __future__ import annotations

import pandas as pd
import pytest

from fakeugc.benchmarks_public.data import (
    AlignmentError,
    check_ott_alignment,
    corrected_ott_export,
    load_set,
)
from fakeugc.datasets import convert
from fakeugc.io import read_export
from shared_paths import benchmark_path


def _shared_style(tmp_path, ott_tree):
    """The fixture corpus converted, then written back with the shared export's
    duplicated ids (``ott-<stem>``), as in ../shared/benchmarks/ott-op-spam."""
    convert("ott", ott_tree, tmp_path / "conv")
    posts = pd.read_parquet(tmp_path / "conv" / "posts.parquet")
    labels = pd.read_parquet(tmp_path / "conv" / "labels.parquet")
    old = posts["post_id"].str.replace(r"-(positive|negative)$", "", regex=True)
    # more sentiment words, so that the text check has something to read
    posts["body"] = [("Wonderful, great, lovely stay. " if p == "positive"
                      else "Dirty, rude, awful, never again. ") + b
                     for b, p in zip(posts["body"], labels["polarity"], strict=True)]
    posts = posts.assign(post_id=old, account_id=old)
    labels = labels.assign(post_id=old)
    return posts, labels


def test_fixture_correction_round_trip(tmp_path, ott_tree):
    posts, labels = _shared_style(tmp_path, ott_tree)
    src = tmp_path / "shared"
    src.mkdir()
    posts.to_parquet(src / "posts.parquet", index=False)
    labels.to_parquet(src / "labels.parquet", index=False)
    assert read_export(src).stats["posts"].set_aside == 8  # duplicate_key
    check = corrected_ott_export(src, tmp_path / "fixed")
    assert check["duplicated_ids"] == 8
    fixed = read_export(tmp_path / "fixed")
    assert all(st.set_aside == 0 for st in fixed.stats.values())
    converted = read_export(tmp_path / "conv")
    # the corrected copy has exactly the ids and labels the adapter writes from the source
    a = fixed.get("labels").set_index("post_id").sort_index()
    b = converted.get("labels").set_index("post_id").sort_index()
    pd.testing.assert_frame_equal(a[["label", "split", "polarity", "hotel"]],
                                  b[["label", "split", "polarity", "hotel"]])


def test_converted_export_is_read_as_it_is(tmp_path, ott_tree):
    convert("ott", ott_tree, tmp_path / "sets" / "ott-op-spam")
    data = load_set("ott", tmp_path / "sets", ["content"], workdir=tmp_path / "work")
    assert data.notes == [] and not (tmp_path / "work" / "ott-corrected").exists()
    assert len(data.frame) == 16 and data.frame["post_id"].is_unique
    assert data.frame["hotel"].notna().all()


def test_misaligned_tables_are_refused(tmp_path, ott_tree):
    posts, labels = _shared_style(tmp_path, ott_tree)
    check_ott_alignment(posts, labels)
    with pytest.raises(AlignmentError, match="same order"):
        check_ott_alignment(posts.iloc[::-1].reset_index(drop=True), labels)
    # swapping the polarity halves keeps the ids in order: only the text can tell
    neg = (labels["polarity"] == "negative").to_numpy()
    swapped = pd.concat([posts[~neg], posts[neg]], ignore_index=True)
    lab_swapped = pd.concat([labels[neg], labels[~neg]], ignore_index=True)
    assert (swapped["post_id"].to_numpy() == lab_swapped["post_id"].to_numpy()).all()
    with pytest.raises(AlignmentError, match="polarity"):
        check_ott_alignment(swapped, lab_swapped)
    wrong_label = labels.assign(label=1 - labels["label"])
    with pytest.raises(AlignmentError, match="class prefix"):
        check_ott_alignment(posts, wrong_label)


def test_shared_ott_corrected_keeps_1600_posts(tmp_path):
    source = benchmark_path("ott-op-spam")
    original = read_export(source)
    assert original.stats["posts"].set_aside == 800
    data = load_set("ott", source.parent, ["content"], workdir=tmp_path)
    frame = data.frame
    assert len(frame) == 1600 and frame["post_id"].is_unique
    assert all(st.set_aside == 0 for st in data.export.stats.values())
    # the right labels: the class prefix of every id, 400 per polarity and class
    assert (frame["post_id"].str.startswith("ott-d_").astype(int) == frame["label"]).all()
    assert frame.groupby(["polarity", "label"]).size().tolist() == [400, 400, 400, 400]
    assert frame.groupby("split").size().tolist() == [320] * 5
    # each corrected id carries the polarity of its labels row
    assert (frame["post_id"].str.rsplit("-", n=1).str[1] == frame["polarity"]).all()
    # and the reviews are those of the shared file, in its order
    raw = pd.read_parquet(source / "posts.parquet")
    assert frame["body"].tolist() == raw["body"].tolist()
    assert any("duplicate_key" in n for n in data.notes)
