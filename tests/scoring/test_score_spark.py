"""The Spark engine gives the local engine's output on the same export (local[2])."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
import scoring_helpers as H

from fakeugc.io.writer import is_complete
from fakeugc.scoring import ScoreConfig, score_export

pytest.importorskip("pyspark")

KEY = ["table", "row_number"]


@pytest.mark.spark
def test_spark_and_local_outputs_are_equal(tmp_path, ctx_bundle):
    export = H.bad_export(tmp_path / "export_date=2026-11-24", n_posts=80)
    spark = score_export(export, ScoreConfig(chunk_size=7, engine="spark", master="local[2]",
                                             spark_partitions=2),
                         out=tmp_path / "spark", bundle=ctx_bundle, model_info=H.MODEL)
    local = score_export(export, ScoreConfig(chunk_size=7, workers=0), out=tmp_path / "local",
                         bundle=ctx_bundle, model_info=H.MODEL)
    assert is_complete(tmp_path / "spark")
    assert spark["engine"] == "spark" and spark["spark_master"] == "local[2]"
    assert spark["tables"] == local["tables"]
    for t in spark["tables"].values():
        assert t["read"] == t["used"] + t["set_aside"]
    a, b = H.read_scores(tmp_path / "spark"), H.read_scores(tmp_path / "local")
    assert list(a["post_id"]) == list(b["post_id"])
    assert (a["flagged"] == b["flagged"]).all() and a["flagged"].any()
    np.testing.assert_allclose(a["probability"], b["probability"], rtol=0, atol=1e-9)
    assert [list(x) for x in a["reasons"]] == [list(x) for x in b["reasons"]]
    assert a["cluster_id"].astype(str).tolist() == b["cluster_id"].astype(str).tolist()
    assert [list(x) for x in a["brand_ids"]] == [list(x) for x in b["brand_ids"]]
    for col in ("curve", "account_usual_curve"):
        for x, y in zip(a[col], b[col], strict=True):
            assert (x is None) == (y is None)
            if x is not None:
                np.testing.assert_allclose(x, y, rtol=0, atol=1e-9)
    assert (a["published_at"] == b["published_at"]).all()
    qa = pd.read_parquet(tmp_path / "spark" / "quarantine.parquet").sort_values(KEY)
    qb = pd.read_parquet(tmp_path / "local" / "quarantine.parquet").sort_values(KEY)
    pd.testing.assert_frame_equal(qa.reset_index(drop=True), qb.reset_index(drop=True))
    da = (tmp_path / "spark" / "drift.json").read_text()
    assert da == (tmp_path / "local" / "drift.json").read_text()
