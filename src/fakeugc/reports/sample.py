"""Synthetic scores folders, shaped like the nightly scorer's output.

For tests, the report benchmark and demos of the report without a trained
model. Not a model of the platform: only the shape (columns, types, the
``_SUCCESS`` manifest, ``quarantine.parquet``, ``drift.json``) is faithful.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

import numpy as np
import pandas as pd

from fakeugc.io.writer import commit_directory, write_json_atomic, write_table_atomic

MODEL = {"name": "fakeugc-lgbm", "version": "3", "run_id": "run-0000sample", "threshold": 0.6}
FAMILIES = ("content", "exposure", "account", "coordination", "reports")

_PRODUCTS = [
    "精华液",
    "面霜",
    "防晒",
    "粉底液",
    "口红",
    "洗面奶",
    "眼霜",
    "面膜",
    "香水",
    "蓝牙耳机",
]
_OPENERS = [
    "姐妹们冲！",
    "真的绝了",
    "回购第三次",
    "无限回购",
    "平价替代",
    "亲测有效",
    "后悔没早点买",
    "学生党必入",
    "不踩雷",
    "被问爆了",
]
_TAILS = [
    "#好物分享# #种草#",
    "#护肤# @小红薯",
    "😍😍😍",
    "链接在主页",
    "评论区见",
    "",
    "真心推荐 ✨",
    "用了7天皮肤变好",
    "#平价好物#",
    "emoji 🌸 test",
]
_REASONS = [
    (
        "template_similarity",
        "The text is nearly identical to other posts tagged with the same brand.",
    ),
    ("exposure_spike", "Exposure jumped far above this author's usual curve in the first hours."),
    ("new_account", "The account is new and posted several brand notes within a day."),
    ("cluster_size", "Part of a cluster of accounts posting the same brand within hours."),
    ("user_reports", "Users reported the post as an undisclosed ad."),
    ("bio_contact", "The author's bio hides contact details in mixed characters and digits."),
]


def make_scores(
    n: int = 200,
    *,
    flagged_share: float = 0.05,
    seed: int = 0,
    export_date: str = "2026-11-24",
    n_brands: int = 40,
    n_accounts: int | None = None,
    model: Mapping | None = None,
    curve_hours: int = 72,
    hostile: Mapping[int, Mapping] | None = None,
) -> pd.DataFrame:
    """A scores table of ``n`` posts with ``round(n * flagged_share)`` flagged.

    ``hostile`` maps a row number to overrides (e.g. ``{0: {"title": "<script>…"}}``);
    those rows are forced to be flagged with a high probability.
    """
    rng = np.random.default_rng(seed)
    model = dict(MODEL, **(model or {}))
    thr = float(model["threshold"])
    n_accounts = n_accounts or max(n // 4, 5)
    k = min(n, int(round(n * flagged_share)))
    flagged = np.zeros(n, dtype=bool)
    flagged[rng.choice(n, size=k, replace=False)] = True
    if hostile:
        for i in hostile:
            flagged[i] = True
    prob = np.where(
        flagged,
        thr + (1 - thr) * rng.beta(2, 1.2, n) * 0.999,
        np.minimum(rng.beta(0.6, 12, n), thr - 1e-3),
    )
    day = pd.Timestamp(export_date, tz="UTC")
    published = day + pd.to_timedelta(rng.integers(0, 86400, n), unit="s")
    brands = [f"brand-{i:03d}" for i in range(n_brands)]
    accounts = rng.integers(0, n_accounts, n)
    # coordinated clusters: a third of flagged posts, in groups of 3..12
    cluster = np.array([None] * n, dtype=object)
    fl_idx = np.flatnonzero(flagged)
    rng.shuffle(fl_idx)
    n_clustered = len(fl_idx) // 3
    c = 0
    i = 0
    while i < n_clustered:
        size = int(rng.integers(3, 13))
        members = fl_idx[i : i + size]
        cluster[members] = f"c-{c:04d}"
        # a few unflagged posts in the same cluster
        extra = rng.choice(n, size=min(2, n), replace=False)
        for e in extra:
            if cluster[e] is None and not flagged[e]:
                cluster[e] = f"c-{c:04d}"
        c += 1
        i += size
    nb = rng.choice([0, 1, 1, 1, 2], n)
    brand_ids = [list(rng.choice(brands, size=b, replace=False)) if b else [] for b in nb]
    titles, bodies = [], []
    prod = rng.integers(0, len(_PRODUCTS), n)
    op = rng.integers(0, len(_OPENERS), n)
    tail = rng.integers(0, len(_TAILS), n)
    for j in range(n):
        b = brand_ids[j][0] if brand_ids[j] else "无品牌"
        titles.append(f"{_OPENERS[op[j]]} {b} {_PRODUCTS[prod[j]]}")
        bodies.append(
            f"{_OPENERS[op[j]]}，{b}的{_PRODUCTS[prod[j]]}用了{1 + j % 30}天，"
            f"{_TAILS[tail[j]]} post {j}"
        )
    reasons, reason_features, fam, curves, usual = [], [], [], [], []
    hours = np.arange(curve_hours)
    for j in range(n):
        if flagged[j]:
            pick = rng.choice(len(_REASONS), size=3, replace=False)
            reasons.append([_REASONS[p][1] for p in pick])
            reason_features.append([_REASONS[p][0] for p in pick])
            contrib = {f: round(float(rng.normal(0.4, 0.8)), 3) for f in FAMILIES}
            fam.append(json.dumps(contrib))
            base = 40 * np.exp(-hours / 18)
            spike = np.where((hours >= 2) & (hours < 8), rng.uniform(200, 900), 0)
            curves.append((base + spike + rng.uniform(0, 10, curve_hours)).round(1).tolist())
            usual.append((base * rng.uniform(0.8, 1.2)).round(1).tolist())
        else:
            reasons.append([])
            reason_features.append([])
            fam.append(None)
            curves.append(None)
            usual.append(None)
    df = pd.DataFrame(
        {
            "post_id": [f"{export_date.replace('-', '')}-p{j:06d}" for j in range(n)],
            "account_id": [f"acct-{a:05d}" for a in accounts],
            "published_at": published,
            "title": titles,
            "body": bodies,
            "brand_ids": brand_ids,
            "disclosed_partnership": pd.array(rng.random(n) < 0.05, dtype="boolean"),
            "probability": prob.astype("float64"),
            "score_raw": np.log(prob / (1 - prob)),
            "threshold": thr,
            "flagged": flagged,
            "reasons": reasons,
            "reason_features": reason_features,
            "family_contrib": fam,
            "cluster_id": cluster,
            "curve": curves,
            "account_usual_curve": usual,
            "model_name": model["name"],
            "model_version": str(model["version"]),
            "model_run_id": model["run_id"],
            "scored_at": pd.Timestamp(export_date, tz="UTC") + pd.Timedelta(days=1, hours=2),
            "export_date": export_date,
        }
    )
    if hostile:
        for i, over in hostile.items():
            for col, v in over.items():
                df.at[i, col] = v
            if "probability" not in over:
                df.at[i, "probability"] = 0.99
        p = df["probability"].clip(1e-9, 1 - 1e-9)
        df["score_raw"] = np.log(p / (1 - p))
    return df


def write_scores_dir(
    target: str | Path,
    scores: pd.DataFrame,
    *,
    quarantine: pd.DataFrame | None = None,
    drift: Mapping | None = None,
    model: Mapping | None = None,
    success: bool = True,
) -> Path:
    """Write a scores folder the way the scorer does (``_SUCCESS`` last).

    With ``success=False`` the folder is written without its marker (an incomplete
    night, for tests that must refuse it).
    """
    target = Path(target)
    model = dict(MODEL, **(model or {}))
    if quarantine is None:
        quarantine = pd.DataFrame(
            {
                "table": pd.Series([], dtype=object),
                "source": pd.Series([], dtype=object),
                "row_number": pd.Series([], dtype="int64"),
                "key": pd.Series([], dtype=object),
                "reason": pd.Series([], dtype=object),
                "raw": pd.Series([], dtype=object),
            }
        )
    export_date = str(scores["export_date"].iloc[0]) if len(scores) else target.name.split("=")[-1]
    set_aside = _count_by_table(quarantine)

    def fill(tmp: Path) -> dict:
        write_table_atomic(scores, tmp / "scores.parquet")
        write_table_atomic(quarantine, tmp / "quarantine.parquet")
        if drift is not None:
            write_json_atomic(dict(drift), tmp / "drift.json")
        return {
            "export_date": export_date,
            "model": model,
            "tables": {
                "posts": {
                    "read": len(scores) + set_aside.get("posts", 0),
                    "scored": len(scores),
                    "set_aside": set_aside.get("posts", 0),
                },
                **{
                    t: {"read": c, "scored": 0, "set_aside": c}
                    for t, c in set_aside.items()
                    if t != "posts"
                },
            },
            "code_version": "sample",
            "timings": {"total_s": 0.0},
            "inputs": [f"data/raw/export_date={export_date}"],
        }

    if success:
        return commit_directory(target, fill)
    target.mkdir(parents=True, exist_ok=True)
    fill(target)
    return target


def _count_by_table(quarantine: pd.DataFrame) -> dict[str, int]:
    if quarantine is None or quarantine.empty or "table" not in quarantine.columns:
        return {}
    return {str(k): int(v) for k, v in quarantine["table"].value_counts().items()}


def make_quarantine(n: int, *, table: str = "posts") -> pd.DataFrame:
    return pd.DataFrame(
        {
            "table": [table] * n,
            "source": ["posts.parquet"] * n,
            "row_number": np.arange(n, dtype="int64"),
            "key": [f"bad-{i}" for i in range(n)],
            "reason": [
                "bad_timestamp:published_at" if i % 2 else "duplicate_key:post_id" for i in range(n)
            ],
            "raw": ["{}"] * n,
        }
    )
