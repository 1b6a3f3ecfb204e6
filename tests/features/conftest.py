"""Fixtures for the feature-builder tests: small hand-made post frames.

``make_frame`` builds the tables an export reader would return (same dtypes) and
joins them with :func:`fakeugc.features._frame.build_post_frame`, so a test can
state a case in a few lines: posts as dicts, accounts as dicts, exposure curves as
``{post_id: {metric: [hourly increments]}}`` and reports as
``(post_id, reported_at, reason)`` tuples. Passing ``None`` for a table leaves it
out of the export.
"""

from __future__ import annotations

from pathlib import Path

import pandas as pd
import pytest

from fakeugc.features._frame import build_post_frame

CED = Path(__file__).resolve().parents[3] / "shared" / "benchmarks" / "ced-weibo-rumour"

T0 = pd.Timestamp("2026-11-24T00:00:00Z")
EXPOSURE_METRICS = ("impressions", "likes", "collects", "comments", "shares")


def _ts(v):
    return pd.Timestamp(v) if v is not None else None


def posts_table(posts: list[dict]) -> pd.DataFrame:
    rows = []
    for i, p in enumerate(posts):
        rows.append(
            {
                "post_id": p.get("post_id", f"p{i}"),
                "account_id": p.get("account_id", f"a{i}"),
                "published_at": p.get("published_at", T0),
                "title": p.get("title", ""),
                "body": p.get("body", ""),
                "brand_tags": p.get("brand_tags"),
                "disclosed_partnership": p.get("disclosed_partnership"),
                "image_count": p.get("image_count", 1),
            }
        )
    df = pd.DataFrame(rows, columns=["post_id", "account_id", "published_at", "title", "body",
                                     "brand_tags", "disclosed_partnership", "image_count"])
    df["post_id"] = df["post_id"].astype(object)
    df["account_id"] = df["account_id"].astype(object)
    df["published_at"] = pd.to_datetime(df["published_at"], utc=True).astype(
        "datetime64[ns, UTC]")
    df["brand_tags"] = df["brand_tags"].astype(object)
    df["disclosed_partnership"] = df["disclosed_partnership"].astype("boolean")
    df["image_count"] = df["image_count"].astype("int64")
    return df


def accounts_table(accounts: list[dict]) -> pd.DataFrame:
    rows = []
    for a in accounts:
        rows.append(
            {
                "account_id": a["account_id"],
                "created_at": a.get("created_at", T0 - pd.Timedelta(days=365)),
                "followers": a.get("followers", 1000),
                "following": a.get("following", 100),
                "posts_total": a.get("posts_total", 50),
                "verified": a.get("verified"),
                "is_brand": a.get("is_brand"),
                "device_cluster": a.get("device_cluster"),
                "bio": a.get("bio"),
            }
        )
    df = pd.DataFrame(rows, columns=["account_id", "created_at", "followers", "following",
                                     "posts_total", "verified", "is_brand", "device_cluster",
                                     "bio"])
    df["account_id"] = df["account_id"].astype(object)
    df["created_at"] = pd.to_datetime(df["created_at"], utc=True).astype("datetime64[ns, UTC]")
    for c in ("followers", "following", "posts_total"):
        df[c] = df[c].astype("int64")
    for c in ("verified", "is_brand"):
        df[c] = df[c].astype("boolean")
    for c in ("device_cluster", "bio"):
        df[c] = df[c].astype(object)
    return df


def exposure_table(curves: dict[str, dict[str, list]]) -> pd.DataFrame:
    """Hourly increments per post and metric; hours with every metric 0 are still rows
    up to the curve's length (an explicit zero), as a platform export may write them."""
    metrics = sorted({m for c in curves.values() for m in c}, key=EXPOSURE_METRICS.index)
    rows = []
    for pid, c in curves.items():
        length = max((len(v) for v in c.values()), default=0)
        for h in range(length):
            row = {"post_id": pid, "hour": h}
            for m in metrics:
                v = c.get(m)
                row[m] = v[h] if v is not None and h < len(v) else 0
            rows.append(row)
    df = pd.DataFrame(rows, columns=["post_id", "hour", *metrics])
    df["post_id"] = df["post_id"].astype(object)
    df["hour"] = df["hour"].astype("int64")
    for m in metrics:
        df[m] = df[m].astype("int64")
    return df


def reports_table(reports: list[tuple]) -> pd.DataFrame:
    df = pd.DataFrame(
        [(r[0], r[1], r[2] if len(r) > 2 else None) for r in reports],
        columns=["post_id", "reported_at", "reason"],
    )
    df["post_id"] = df["post_id"].astype(object)
    df["reported_at"] = pd.to_datetime(df["reported_at"], utc=True).astype(
        "datetime64[ns, UTC]")
    df["reason"] = df["reason"].astype(object)
    return df


def frame_from(posts, accounts=None, curves=None, reports=None) -> pd.DataFrame:
    tables = {"posts": posts_table(posts)}
    if accounts is not None:
        tables["accounts"] = accounts_table(accounts)
    if curves is not None:
        tables["exposure"] = exposure_table(curves)
    if reports is not None:
        tables["reports"] = reports_table(reports)
    return build_post_frame(tables)


@pytest.fixture(scope="session")
def make_frame():
    """``make_frame(posts, accounts=None, curves=None, reports=None)`` → post frame."""
    return frame_from


@pytest.fixture(scope="session")
def t0():
    return T0


def decay_curve(peak: float = 1000.0, peak_hour: int = 2, hours: int = 48,
                exponent: float = 1.5) -> list[int]:
    """Organic-looking rise then power-law decay."""
    out = []
    for h in range(hours):
        if h < peak_hour:
            out.append(int(peak * (h + 1) / (peak_hour + 1)))
        else:
            out.append(int(peak * (h - peak_hour + 1) ** -exponent))
    return out


@pytest.fixture(scope="session")
def organic_curve():
    return decay_curve


def chunk_invariance(transformer, frame: pd.DataFrame, keys_fn, context_fn,
                     cut: int | None = None) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Features of ``frame`` computed whole, and in two chunks whose ``ctx_`` columns come
    from keys computed chunk by chunk, concatenated, and turned into context once."""
    whole = transformer.transform(frame)
    cut = len(frame) // 2 if cut is None else cut
    parts = [frame.iloc[:cut], frame.iloc[cut:]]
    keys = pd.concat([keys_fn(p) for p in parts], ignore_index=True)
    ctx = context_fn(keys)
    chunks = []
    for p in parts:
        joined = p.join(ctx, on="post_id")
        chunks.append(transformer.transform(joined))
    return whole, pd.concat(chunks)


@pytest.fixture(scope="session")
def chunked():
    """``chunked(transformer, frame, keys_fn, context_fn)`` → (whole, chunked) features."""
    return chunk_invariance



@pytest.fixture(scope="session")
def ced():
    """(export, post frame) of the CED Weibo benchmark (real accounts, hourly shares)."""
    if not CED.is_dir():
        pytest.skip(f"{CED} not present")
    from fakeugc.io import read_export

    export = read_export(CED)
    return export, build_post_frame(export)
