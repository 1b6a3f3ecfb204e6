"""The synthetic platform (``fakeugc generate``): shape, determinism and what it models.

Small configurations only (a few days, a few hundred accounts): the whole file
runs in a few seconds.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from pydantic import ValidationError

from fakeugc import cli
from fakeugc.io import read_exports
from fakeugc.settings import get_settings
from fakeugc.synthetic import (
    HARD_CASES,
    TRUTH_FILE,
    GeneratorConfig,
    generate,
    iter_days,
    load_config,
)
from fakeugc.synthetic._platform import World

TABLES = ("posts", "accounts", "exposure", "reports", "brands", "labels")
FRAUD_TYPES = {"fake_account", "paid_intermediary", "bought_exposure"}
SMALL = dict(days=3, accounts=500, seed=11)


def small_config(**overrides) -> GeneratorConfig:
    return load_config(**(SMALL | overrides))


@pytest.fixture(scope="module")
def out_dir(tmp_path_factory) -> Path:
    out = tmp_path_factory.mktemp("synthetic")
    generate(small_config(), out)
    return out


@pytest.fixture(scope="module")
def frames(out_dir) -> dict[str, pd.DataFrame]:
    """All days' tables concatenated, with ``export_date`` added."""
    parts: dict[str, list[pd.DataFrame]] = {}
    for day_dir in sorted(out_dir.glob("export_date=*")):
        date = day_dir.name.split("=", 1)[1]
        for name in (*TABLES, "_truth"):
            df = pd.read_parquet(day_dir / f"{name}.parquet")
            df["export_date"] = date
            parts.setdefault(name, []).append(df)
    return {k: pd.concat(v, ignore_index=True) for k, v in parts.items()}


# --------------------------------------------------------------------------- config


def test_yaml_holds_the_defaults():
    path = get_settings().pipelines / "generate.yaml"
    assert load_config(path) == GeneratorConfig()


@pytest.mark.parametrize(
    "text",
    [
        "days: 3\nbogus: 1\n",
        "population:\n  fake_acount_share: 0.1\n",
        "campaigns:\n  posts: {min: 10, max: 60, mean: 30}\n",
    ],
)
def test_unknown_key_is_an_error(tmp_path, text):
    path = tmp_path / "g.yaml"
    path.write_text(text, encoding="utf-8")
    with pytest.raises(ValidationError):
        load_config(path)


def test_overrides_win_and_are_validated():
    cfg = load_config(get_settings().pipelines / "generate.yaml", days=2, seed=5)
    assert (cfg.days, cfg.seed, cfg.accounts) == (2, 5, 20000)
    with pytest.raises(ValidationError):
        load_config(days=0)
    with pytest.raises(ValidationError):
        load_config(campaigns={"posts": {"min": 10, "max": 5}})


# --------------------------------------------------------------------------- determinism


def test_same_seed_same_frames_different_seed_different():
    a = [d.frames() for d in iter_days(small_config())]
    b = [d.frames() for d in iter_days(small_config())]
    for da, db in zip(a, b, strict=True):
        for name in da:
            pd.testing.assert_frame_equal(da[name], db[name])
    c = next(iter_days(small_config(seed=12))).frames()
    assert not c["posts"]["body"].equals(a[0]["posts"]["body"])


def test_same_seed_same_bytes(tmp_path, out_dir):
    generate(small_config(), tmp_path)
    for day_dir in sorted(out_dir.glob("export_date=*")):
        for f in sorted(day_dir.iterdir()):
            assert f.read_bytes() == (tmp_path / day_dir.name / f.name).read_bytes(), f.name


# --------------------------------------------------------------------------- contract


def test_every_export_reads_with_nothing_set_aside(out_dir):
    days = sorted(out_dir.glob("export_date=*"))
    assert [d.name for d in days] == [
        "export_date=2026-09-01",
        "export_date=2026-09-02",
        "export_date=2026-09-03",
    ]
    for day_dir in days:
        export = read_exports([day_dir])
        assert set(export.tables) == set(TABLES)
        for name, st in export.stats.items():
            assert st.read > 0, name
            assert st.set_aside == 0, (day_dir.name, name, dict(st.reasons))
        assert (day_dir / "_SUCCESS").is_file()
        assert (day_dir / TRUTH_FILE).is_file()
        assert not list(out_dir.glob(".export_date=*"))  # no temporaries left


def test_parquet_types(out_dir):
    day_dir = sorted(out_dir.glob("export_date=*"))[0]
    posts = pq.read_schema(day_dir / "posts.parquet")
    assert posts.field("brand_tags").type == pa.list_(pa.string())
    assert posts.field("published_at").type == pa.timestamp("us", tz="UTC")
    assert posts.field("disclosed_partnership").type == pa.bool_()
    brands = pq.read_schema(day_dir / "brands.parquet")
    assert brands.field("aliases").type == pa.list_(pa.string())
    labels = pq.read_schema(day_dir / "labels.parquet")
    assert labels.names == ["post_id", "label", "labelled_at", "fraud_type", "hard_case"]
    accounts = pq.read_schema(day_dir / "accounts.parquet")
    assert accounts.field("created_at").type == pa.timestamp("us", tz="UTC")


def test_posts_belong_to_their_day_and_authors_exist(frames):
    posts, accounts = frames["posts"], frames["accounts"]
    day = posts["published_at"].dt.strftime("%Y-%m-%d")
    assert (day == posts["export_date"]).all()
    assert posts["post_id"].is_unique
    merged = posts.merge(accounts, on=["account_id", "export_date"], how="left")
    assert merged["created_at"].notna().all()
    assert (merged["created_at"] <= merged["published_at"]).all()
    # accounts = exactly the authors of the day's posts
    per_day = posts.groupby("export_date")["account_id"].nunique()
    assert per_day.to_dict() == accounts.groupby("export_date").size().to_dict()


def test_posts_total_consistent_with_history(frames):
    posts, accounts = frames["posts"], frames["accounts"]
    seen = posts.groupby(["account_id", "export_date"]).size().groupby(level=0).cumsum()
    acc = accounts.set_index(["account_id", "export_date"])
    assert (acc.loc[seen.index, "posts_total"] >= seen).all()
    # non-decreasing from one export to the next
    acc = accounts.sort_values("export_date")
    diffs = acc.groupby("account_id")["posts_total"].diff().dropna()
    assert (diffs >= 0).all()


def test_brands_table(frames):
    brands = frames["brands"].drop_duplicates("brand_id")
    assert 30 <= len(brands) <= 60
    assert all(len(a) >= 1 for a in brands["aliases"])
    assert any(any(ch.isascii() and ch.isalpha() for ch in " ".join(a)) for a in brands["aliases"])
    tags = {t for ts in frames["posts"]["brand_tags"] for t in ts}
    assert tags and tags <= set(brands["brand_id"])


# --------------------------------------------------------------------------- what it models


def test_fraud_types_and_hard_cases_present(frames):
    truth = frames["_truth"]
    assert set(truth["fraud_type"]) - {""} == FRAUD_TYPES
    assert set(truth["hard_case"]) - {""} == set(HARD_CASES)
    assert (truth.loc[truth["hard_case"] != "", "label"] == 0).all()
    assert ((truth["fraud_type"] != "") == (truth["label"] == 1)).all()


def test_fake_share_within_configured_range(frames):
    cfg = small_config()
    share = frames["_truth"]["label"].mean()
    assert abs(share - cfg.fake_share) < 0.04, share
    higher = load_config(**(SMALL | {"fake_share": 0.2}))
    truth = pd.concat([d.frames()["_truth"] for d in iter_days(higher)])
    assert abs(truth["label"].mean() - 0.2) < 0.05


def test_exposure_rows_and_cut_curves(frames):
    exp, posts = frames["exposure"], frames["posts"]
    counts = exp.groupby("post_id")["hour"].agg(["count", "min", "max"])
    assert set(counts.index) == set(posts["post_id"])
    assert (counts["min"] == 0).all()
    assert (counts["max"] == counts["count"] - 1).all()  # every hour written, zeros included
    assert (counts["count"] <= 72).all()
    cut = (counts["count"] < 72).mean()
    assert 0.03 < cut < 0.25, cut
    assert (
        (exp[["impressions", "likes", "collects", "comments", "shares"]] == 0).all(axis=1)
    ).any()
    assert (exp[["impressions", "likes", "collects", "comments", "shares"]] >= 0).all().all()


def test_bought_exposure_curves_are_manipulated(frames):
    exp = frames["exposure"].merge(frames["_truth"][["post_id", "bought_modes"]], on="post_id")
    burst = exp[
        exp["bought_modes"].str.contains("like_burst") & ~exp["bought_modes"].str.contains("subtle")
    ]
    if len(burst):  # likes with no matching impressions in some hour
        assert ((burst["likes"] >= 20) & (burst["likes"] > burst["impressions"])).any()
    genuine = exp[exp["bought_modes"] == ""]
    assert (genuine["likes"] <= genuine["impressions"] + 30).mean() > 0.99


def test_labels_are_a_biased_subset(frames):
    labels, truth, reports = frames["labels"], frames["_truth"], frames["reports"]
    share = len(labels) / len(truth)
    assert 0.25 < share < 0.6, share
    assert set(labels["post_id"]) <= set(truth["post_id"])
    assert set(labels["fraud_type"]) - {""} <= FRAUD_TYPES
    assert set(labels["hard_case"]) - {""} <= set(HARD_CASES)
    assert ((labels["fraud_type"] != "") == (labels["label"] == 1)).all()
    reviewed = truth["post_id"].isin(labels["post_id"])
    reported = truth["post_id"].isin(reports["post_id"])
    assert reviewed[reported].mean() > reviewed[~reported].mean()
    assert reviewed[truth["label"] == 1].mean() > reviewed[truth["label"] == 0].mean()
    # noise: a few verdicts disagree with the truth
    m = labels.merge(truth[["post_id", "label"]], on="post_id", suffixes=("", "_true"))
    assert (m["label"] != m["label_true"]).mean() < 0.1
    p = labels.merge(frames["posts"][["post_id", "published_at"]], on="post_id")
    assert (p["labelled_at"] > p["published_at"]).all()


def test_reports(frames):
    reports = frames["reports"].merge(frames["posts"][["post_id", "published_at"]], on="post_id")
    assert (reports["reported_at"] > reports["published_at"]).all()
    assert set(reports["reason"]) <= {"fake_review", "undisclosed_ad", "spam", "other"}
    truth = frames["_truth"]
    reported = truth["post_id"].isin(reports["post_id"])
    assert reported[truth["label"] == 1].mean() > 2 * reported[truth["label"] == 0].mean()
    assert reported[truth["label"] == 1].mean() < 0.5  # most fakes are never reported


def test_campaigns_share_a_brand_within_days(frames):
    truth, posts = frames["_truth"], frames["posts"]
    camp = truth[truth["campaign_id"] != ""].merge(posts, on=["post_id", "account_id"])
    assert len(camp)
    per = camp.groupby("campaign_id").agg(
        brands=("brand_id", "nunique"),
        accounts=("account_id", "nunique"),
        posts=("post_id", "size"),
        span=("published_at", lambda s: s.max() - s.min()),
    )
    assert (per["brands"] == 1).all()
    assert (per["accounts"] == per["posts"]).all()  # one post per account per campaign
    assert (per["span"] < pd.Timedelta(days=5)).all()
    assert per["accounts"].max() >= 5
    assert not camp["disclosed_partnership"].any()


def test_intermediary_rosters_recur_across_campaigns():
    world = World(load_config(days=30, accounts=3000, seed=2))
    plan = world.plan
    paid = plan.kind == 6
    by_acc = pd.DataFrame({"acc": plan.acc[paid], "campaign": plan.event[paid]})
    inter = by_acc["campaign"].map(lambda c: plan.campaigns[c].intermediary)
    by_acc["inter"] = inter
    repeat = by_acc.groupby("acc")["campaign"].nunique()
    assert (repeat >= 2).any()
    brands = {(c.intermediary, c.brand) for c in plan.campaigns}
    served = pd.Series([i for i, _ in brands]).value_counts()
    assert (served >= 2).any()  # an intermediary serves several brands
    assert min(len(c.brief.points) for c in plan.campaigns) >= 3


def test_fake_farms_share_devices_and_are_young(frames):
    truth, accounts = frames["_truth"], frames["accounts"].drop_duplicates("account_id")
    fake_accounts = set(truth.loc[truth["author_is_fake"], "account_id"])
    fa = accounts[accounts["account_id"].isin(fake_accounts)]
    ga = accounts[~accounts["account_id"].isin(fake_accounts)]
    assert fa["device_cluster"].duplicated().any()
    assert fa["followers"].median() < ga["followers"].median()
    assert fa["created_at"].median() > ga["created_at"].median()
    assert ga["device_cluster"].is_unique or ga["device_cluster"].duplicated().mean() < 0.05
    assert accounts["is_brand"].any() and accounts["verified"].any()


def test_text_is_varied_and_platform_like(frames):
    posts = frames["posts"].merge(frames["_truth"][["post_id", "label", "kind"]], on="post_id")
    genuine = posts[posts["label"] == 0]
    assert genuine["body"].duplicated().mean() < 0.05
    assert genuine["title"].duplicated().mean() < 0.3
    body = posts["body"]
    assert body.str.contains(r"#[^#\s]+#").mean() > 0.5
    assert body.str.contains("@").any()
    assert body.str.contains("[话题]", regex=False).any()
    assert body.str.contains(r"[A-Za-z]{3,}").any()  # Latin aliases
    # signals overlap: some genuine posts use hype words, some fakes carry no hype at all
    hype = r"绝了|yyds|宝藏|真香"
    assert genuine["body"].str.contains(hype).any()
    fakes = posts[posts["kind"] == "fake_account"]
    assert fakes["body"].str.contains("绝了|yyds|闭眼入|天花板|无限回购|冲").mean() < 1.0
    # genuine posts have downsides
    assert (
        genuine["body"].str.contains("缺点|踩雷|一般般|不推荐|有点贵|搓泥|假滑|闷痘|不足").mean()
        > 0.3
    )


def test_posting_hours_peak_in_the_evening_beijing_time(frames):
    truth = frames["_truth"]
    posts = frames["posts"].merge(truth[["post_id", "label"]], on="post_id")
    local = (posts["published_at"].dt.hour + 8) % 24
    genuine = local[posts["label"] == 0]
    assert genuine.between(19, 23).mean() > genuine.between(2, 6).mean() * 4


# --------------------------------------------------------------------------- CLI


def test_cli_generate_then_validate(tmp_path, capsys):
    out = tmp_path / "raw"
    rc = cli.main(
        [
            "generate",
            "--days",
            "2",
            "--accounts",
            "300",
            "--seed",
            "4",
            "--start-date",
            "2026-11-20",
            "--out",
            str(out),
        ]
    )
    assert rc == 0
    printed = capsys.readouterr().out
    assert "2026-11-20" in printed and "2026-11-21" in printed
    days = sorted(out.glob("export_date=*"))
    assert [d.name for d in days] == ["export_date=2026-11-20", "export_date=2026-11-21"]
    for day_dir in days:
        assert cli.main(["validate", "--json", str(day_dir)]) == 0
        summary = json.loads(capsys.readouterr().out)
        assert all(t["set_aside"] == 0 for t in summary["tables"].values()), summary
        assert set(summary["tables"]) == set(TABLES)


def test_cli_rejects_a_bad_config(tmp_path, capsys):
    bad = tmp_path / "bad.yaml"
    bad.write_text("days: 2\nnot_a_knob: 3\n", encoding="utf-8")
    rc = cli.main(["generate", "--config", str(bad), "--out", str(tmp_path / "o")])
    assert rc == 2
    assert "not_a_knob" in capsys.readouterr().err
    assert not (tmp_path / "o").exists()


def test_cli_json_summary(tmp_path, capsys):
    rc = cli.main(
        [
            "generate",
            "--days",
            "1",
            "--accounts",
            "200",
            "--seed",
            "1",
            "--json",
            "--no-truth",
            "--out",
            str(tmp_path),
        ]
    )
    assert rc == 0
    summary = json.loads(capsys.readouterr().out)
    assert summary["days"] == 1 and summary["posts"] > 0
    assert 0 <= summary["fake_share"] < 0.5
    assert not list(tmp_path.glob(f"*/{TRUTH_FILE}"))


def test_scale_posts_per_day():
    """Posts per day scale with accounts (~3,000-8,000 at 20,000 accounts)."""
    world = World(load_config(days=2, accounts=4000, seed=0))
    per_day = np.diff(world.plan.day_start)[:2]
    assert ((per_day * 5 > 3000) & (per_day * 5 < 8000)).all(), per_day
