"""Adapters on fixture trees in each release's original layout: the converted export
passes ``fakeugc validate`` with nothing set aside, and the mapping is right."""

from __future__ import annotations

import json

import pandas as pd
import pytest
from bench_trees import WEIBO21_ROWS, write_weibo21_tree

from fakeugc.cli import main
from fakeugc.io import read_export


def _convert_and_validate(capsys, name, source, out) -> dict:
    assert main(["datasets", "convert", name, str(source), "--out", str(out), "--json"]) == 0
    conv = json.loads(capsys.readouterr().out)
    assert main(["validate", str(out), "--json"]) == 0
    summary = json.loads(capsys.readouterr().out)
    for table, st in summary["tables"].items():
        assert st["set_aside"] == 0, (table, st)
        assert st["read"] == st["used"] == conv["rows"][table]
    return conv


def test_ced_adapter(ced_tree, tmp_path, capsys):
    out = tmp_path / "ced"
    conv = _convert_and_validate(capsys, "ced", ced_tree, out)
    assert conv["skipped"] == {"post_without_account_metadata": 1,
                               "repost_after_72h": 1, "repost_before_post": 1}
    ex = read_export(out)
    posts = ex.posts.set_index("post_id")
    assert len(posts) == 4
    assert posts.loc["0_yBmepBtUB_2279086572", "account_id"] == "2279086572"
    assert posts.loc["0_yBmepBtUB_2279086572", "published_at"] == \
        pd.Timestamp("2012-09-11 03:34:22", tz="UTC")
    assert posts.loc["0_yBmepBtUB_2279086572", "image_count"] == 1
    acc = ex.get("accounts").set_index("account_id")
    assert sorted(acc.index) == ["2279086572", "2464670392"]  # 3186420187 has no metadata
    assert acc.loc["2464670392", "posts_total"] == 80  # the latest post's snapshot
    assert acc.loc["2279086572", "following"] == 907
    assert acc.loc["2279086572", "created_at"] == pd.Timestamp(1312112304, unit="s", tz="UTC")
    assert bool(acc.loc["2464670392", "verified"]) is True
    exp = ex.get("exposure")
    curve = {(r.post_id, r.hour): r.shares for r in exp.itertuples()}
    # Beijing-time repost dates: 11:40, 12:10, 12:20 in hour 0; 14:00 in hour 2
    assert curve == {("0_yBmepBtUB_2279086572", 0): 3, ("0_yBmepBtUB_2279086572", 2): 1,
                     ("1002_zne7v6NMq_2464670392", 0): 2,
                     ("1004_zvUcLCeTm_3186420187", 0): 1}
    labels = ex.get("labels").set_index("post_id")["label"].to_dict()
    assert labels == {"0_yBmepBtUB_2279086572": 1, "1002_zne7v6NMq_2464670392": 0,
                      "1003_AcDAZonRf_2464670392": 0, "1004_zvUcLCeTm_3186420187": 1}


def test_ott_adapter_keeps_both_polarities(ott_tree, tmp_path, capsys):
    out = tmp_path / "ott"
    conv = _convert_and_validate(capsys, "ott", ott_tree.parent, out)  # finds op_spam_v1.4/
    assert conv["skipped"] == {}
    ex = read_export(out)
    assert len(ex.posts) == 16 and ex.posts["post_id"].is_unique
    lab = ex.get("labels").set_index("post_id")
    assert lab.loc["ott-d_hilton_1-positive", "label"] == 1
    assert lab.loc["ott-t_hilton_1-negative", "label"] == 0
    assert lab.loc["ott-d_affinia_2-negative", "split"] == "fold2"
    assert lab.loc["ott-d_affinia_2-negative", "hotel"] == "affinia"
    assert lab.groupby(["polarity", "label"]).size().tolist() == [4, 4, 4, 4]
    body = ex.posts.set_index("post_id").loc["ott-d_hilton_1-negative", "body"]
    assert body.startswith("Awful stay") and not body.endswith("\n")


def test_ott_adapter_counts_mislabelled_files(ott_tree, tmp_path, capsys):
    wrong = ott_tree / "positive_polarity" / "truthful_from_TripAdvisor" / "fold1"
    (wrong / "d_hilton_9.txt").write_text("in the wrong folder")
    conv = _convert_and_validate(capsys, "ott", ott_tree, tmp_path / "ott")
    assert conv["skipped"] == {"class_prefix_disagrees_with_folder": 1}


@pytest.mark.parametrize("fmt", ["pkl", "json", "jsonl"])
def test_weibo21_adapter(fmt, tmp_path, capsys):
    src = write_weibo21_tree(tmp_path / "src", fmt)
    conv = _convert_and_validate(capsys, "weibo21", src.parent, tmp_path / "w21")
    assert conv["skipped"] == {}
    ex = read_export(tmp_path / "w21")
    lab = ex.get("labels")
    assert lab["post_id"].tolist() == [f"weibo21-{i}" for i in range(7)]
    assert lab["split"].tolist() == ["train"] * 3 + ["val"] * 2 + ["test"] * 2
    expected = [r for s in ("train", "val", "test") for r in WEIBO21_ROWS[s]]
    assert lab["label"].tolist() == [r[1] for r in expected]
    assert lab["domain"].tolist() == [r[2] for r in expected]
    assert ex.posts["body"].tolist() == [r[0] for r in expected]


def test_convert_reports_a_wrong_folder(tmp_path, capsys):
    (tmp_path / "empty").mkdir()
    assert main(["datasets", "convert", "ced", str(tmp_path / "empty"),
                 "--out", str(tmp_path / "o")]) == 2
    assert "original-microblog" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()
