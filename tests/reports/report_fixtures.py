"""Small scores folders for the report, ledger and review tests (imported by the test modules)."""

from __future__ import annotations

from pathlib import Path

import pandas as pd

from fakeugc.reports.sample import make_quarantine, make_scores, write_scores_dir

SCRIPT = "<script>alert(1)</script>"
IMG = "<img src=x onerror=alert(1)>"
TONIGHT = "2026-11-24"
DRIFT = {
    "psi": {
        "content": 0.03,
        "exposure": 0.31,
        "account": 0.12,
        "coordination": 0.02,
        "score": 0.05,
    },
    "reference_window": "2026-10-01..2026-10-31",
    "threshold_warn": 0.1,
    "threshold_alarm": 0.25,
}
#: rows of tonight's fixture with hand-set content
HOSTILE = {
    0: {
        "post_id": "hostile-1",
        "title": SCRIPT,
        "account_id": "acct-evil",
        "body": f"{IMG} and </script><script>alert(2)</script> & \"quotes\" 'single'",
        "brand_ids": ["brand-evil"],
        "cluster_id": "c-<b>x</b>",
        "probability": 0.995,
        "reasons": [f"reason with {SCRIPT}"],
        "disclosed_partnership": False,
    },
    1: {
        "post_id": "confirm-me",
        "title": "姐妹们冲！神仙面霜 😍",
        "body": "用了7天皮肤变好 #好物分享#",
        "brand_ids": ["brand-a", "brand-b"],
        "probability": 0.97,
        "account_id": "acct-1",
        "disclosed_partnership": False,
    },
    2: {
        "post_id": "clear-me",
        "title": "真实测评",
        "body": "自己买的，不是广告",
        "brand_ids": ["brand-c"],
        "probability": 0.75,
        "account_id": "acct-2",
        "disclosed_partnership": False,
    },
    3: {
        "post_id": "partner-post",
        "title": "品牌合作",
        "body": "合作笔记 #ad",
        "brand_ids": ["brand-p"],
        "probability": 0.9,
        "account_id": "acct-3",
        "disclosed_partnership": True,
    },
}


def tonight_scores(n: int = 120, flagged_share: float = 0.15, seed: int = 1) -> pd.DataFrame:
    return make_scores(
        n, flagged_share=flagged_share, seed=seed, export_date=TONIGHT, hostile=HOSTILE
    )


def build_nights(
    root: Path,
    *,
    n: int = 120,
    flagged_share: float = 0.15,
    previous: tuple[str, ...] = ("2026-11-21", "2026-11-22", "2026-11-23"),
    drift: dict | None = DRIFT,
    quarantine_rows: int = 4,
) -> Path:
    """``root/export_date=…`` for the previous nights and tonight; returns tonight's folder."""
    for i, d in enumerate(previous):
        write_scores_dir(
            root / f"export_date={d}", make_scores(n, flagged_share=0.1, seed=10 + i, export_date=d)
        )
    scores = tonight_scores(n, flagged_share)
    return write_scores_dir(
        root / f"export_date={TONIGHT}",
        scores,
        quarantine=make_quarantine(quarantine_rows),
        drift=drift,
    )
