"""CED (thunlp/Chinese_Rumor_Dataset, ``CED_Dataset/``) -> the export contract.

Release layout (Song et al. 2018, *CED: Credible Early Detection of Social Media
Rumors*)::

    CED_Dataset/
      original-microblog/<n>_<mid>_<uid>.json   one source post per file
      rumor-repost/<same name>.json             reposts/comments of a rumour
      non-rumor-repost/<same name>.json         reposts/comments of a non-rumour

A source post is ``{"text", "time" (Unix seconds), "pics", "user": {"time"
(registration, Unix seconds), "followers", "friends", "messages", "verified",
...}, ...}``; a repost file is a JSON list of ``{"uid", "text", "mid", "date"}``
with ``date`` as ``YYYY-MM-DD HH:MM:SS`` in Beijing time (UTC+8). The release
does not tell reposts from comments.

Mapping:

* ``posts``: ``post_id`` = file stem, ``account_id`` = the stem's last part
  (the poster's uid), ``published_at`` = ``time``, ``body`` = ``text``,
  ``image_count`` = ``pics``;
* ``accounts``: one row per poster from the ``user`` object (``created_at`` =
  ``user.time``, ``following`` = ``friends``, ``posts_total`` = ``messages``);
  when a poster has several posts the snapshot of the latest one is kept. A
  post whose ``user`` lacks those fields gets no accounts row (its account
  signals are then missing, never invented);
* ``exposure``: reposts and comments counted per hour after publication, hours
  0..71, in ``shares`` (hours with none have no row);
* ``labels``: 1 if the post's repost file is in ``rumor-repost/``, 0 if in
  ``non-rumor-repost/``.

Reposts dated before the post or at/after hour 72, and posts found in neither
repost folder (no label) are counted in :attr:`Conversion.skipped`.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd

from fakeugc.datasets._common import Conversion, utc

HOURS = 72
#: Repost ``date`` strings are Beijing time.
REPOST_UTC_OFFSET_HOURS = 8
ORIGINAL = "original-microblog"
RUMOUR = "rumor-repost"
NON_RUMOUR = "non-rumor-repost"


def find_root(source: Path) -> Path:
    """The folder holding ``original-microblog/``: ``source`` itself, its
    ``CED_Dataset/`` child, or a ``CED_Dataset/`` one level further down."""
    candidates = [source, source / "CED_Dataset", *source.glob("*/CED_Dataset")]
    for c in candidates:
        if (c / ORIGINAL).is_dir():
            return c
    raise FileNotFoundError(
        f"{source}: no '{ORIGINAL}/' folder (expected the CED_Dataset/ folder of "
        "thunlp/Chinese_Rumor_Dataset)"
    )


def _load_json(path: Path):
    with open(path, encoding="utf-8-sig") as f:
        return json.load(f)


def _int(v) -> int | None:
    try:
        if v is None or isinstance(v, bool):
            return None
        f = float(v)
    except (TypeError, ValueError):
        return None
    if not np.isfinite(f) or f < 0 or f != int(f):
        return None
    return int(f)


def _account_row(uid: str, user, post_time: int) -> dict | None:
    if not isinstance(user, dict):
        return None
    created = _int(user.get("time"))
    followers = _int(user.get("followers"))
    following = _int(user.get("friends"))
    posts_total = _int(user.get("messages"))
    if None in (created, followers, following, posts_total):
        return None
    verified = user.get("verified")
    return {
        "account_id": uid,
        "created_at": created,
        "followers": followers,
        "following": following,
        "posts_total": posts_total,
        "verified": bool(verified) if isinstance(verified, bool | int) else None,
        "_post_time": post_time,
    }


def _hour_counts(reposts, published_s: int, skipped: dict) -> dict[int, int]:
    """Reposts/comments per hour after publication (Beijing-time dates)."""
    if not isinstance(reposts, list):
        return {}
    dates = [r.get("date") for r in reposts if isinstance(r, dict)]
    undated = len(reposts) - sum(isinstance(d, str) and d.strip() != "" for d in dates)
    if undated:
        skipped["repost_without_date"] = skipped.get("repost_without_date", 0) + undated
    dates = [d for d in dates if isinstance(d, str) and d.strip()]
    if not dates:
        return {}
    local = pd.to_datetime(pd.Series(dates), errors="coerce", format="%Y-%m-%d %H:%M:%S")
    bad = int(local.isna().sum())
    if bad:
        skipped["repost_bad_date"] = skipped.get("repost_bad_date", 0) + bad
    secs = (local.dropna().astype("int64") // 10**9).to_numpy() \
        - REPOST_UTC_OFFSET_HOURS * 3600
    hours = np.floor((secs - published_s) / 3600).astype(int)
    before = int((hours < 0).sum())
    late = int((hours >= HOURS).sum())
    if before:
        skipped["repost_before_post"] = skipped.get("repost_before_post", 0) + before
    if late:
        skipped[f"repost_after_{HOURS}h"] = skipped.get(f"repost_after_{HOURS}h", 0) + late
    hours = hours[(hours >= 0) & (hours < HOURS)]
    values, counts = np.unique(hours, return_counts=True)
    return dict(zip(values.tolist(), counts.tolist(), strict=True))


def convert_ced(source: Path) -> Conversion:
    root = find_root(Path(source))
    skipped: dict[str, int] = {}
    label_of: dict[str, int] = {}
    repost_file: dict[str, Path] = {}
    for folder, label in ((NON_RUMOUR, 0), (RUMOUR, 1)):
        d = root / folder
        if not d.is_dir():
            continue
        for p in sorted(d.glob("*.json")):
            if p.stem in label_of and label_of[p.stem] != label:
                raise ValueError(f"{p.stem} is in both {RUMOUR}/ and {NON_RUMOUR}/")
            label_of[p.stem] = label
            repost_file[p.stem] = p

    posts, accounts, exposure, labels = [], {}, [], []
    for p in sorted((root / ORIGINAL).glob("*.json")):
        post_id = p.stem
        try:
            src = _load_json(p)
        except (json.JSONDecodeError, UnicodeDecodeError):
            skipped["unreadable_post_file"] = skipped.get("unreadable_post_file", 0) + 1
            continue
        published = _int(src.get("time")) if isinstance(src, dict) else None
        if published is None:
            skipped["post_without_time"] = skipped.get("post_without_time", 0) + 1
            continue
        uid = post_id.rsplit("_", 1)[-1] if "_" in post_id else post_id
        text = src.get("text")
        posts.append({
            "post_id": post_id,
            "account_id": uid,
            "published_at": published,
            "title": "",
            "body": text if isinstance(text, str) else "",
            "image_count": _int(src.get("pics")),
        })
        acc = _account_row(uid, src.get("user"), published)
        if acc is None:
            skipped["post_without_account_metadata"] = \
                skipped.get("post_without_account_metadata", 0) + 1
        elif uid not in accounts or accounts[uid]["_post_time"] <= published:
            accounts[uid] = acc
        if post_id not in label_of:
            skipped["post_without_label"] = skipped.get("post_without_label", 0) + 1
            continue
        labels.append({"post_id": post_id, "label": label_of[post_id]})
        try:
            reposts = _load_json(repost_file[post_id])
        except (json.JSONDecodeError, UnicodeDecodeError):
            skipped["unreadable_repost_file"] = skipped.get("unreadable_repost_file", 0) + 1
            continue
        for hour, n in sorted(_hour_counts(reposts, published, skipped).items()):
            exposure.append({"post_id": post_id, "hour": hour, "shares": n})
    orphans = set(label_of) - {r["post_id"] for r in posts}
    if orphans:
        skipped["repost_file_without_post"] = len(orphans)
    if not posts:
        raise FileNotFoundError(f"{root / ORIGINAL}: no post files (*.json)")

    posts_df = pd.DataFrame(posts)
    posts_df["published_at"] = utc(pd.to_datetime(posts_df["published_at"], unit="s"))
    posts_df["image_count"] = posts_df["image_count"].astype("Int64")
    acc_df = pd.DataFrame(list(accounts.values()),
                          columns=["account_id", "created_at", "followers", "following",
                                   "posts_total", "verified", "_post_time"])
    acc_df = acc_df.drop(columns="_post_time").sort_values("account_id")
    acc_df["created_at"] = utc(pd.to_datetime(acc_df["created_at"], unit="s"))
    acc_df["verified"] = acc_df["verified"].astype("boolean")
    exp_df = pd.DataFrame(exposure, columns=["post_id", "hour", "shares"]).astype(
        {"hour": "int64", "shares": "int64"})
    lab_df = pd.DataFrame(labels, columns=["post_id", "label"]).astype({"label": "int64"})
    tables = {"posts": posts_df, "accounts": acc_df, "exposure": exp_df, "labels": lab_df}
    notes = [f"repost dates read as UTC+{REPOST_UTC_OFFSET_HOURS}; hours 0..{HOURS - 1} kept"]
    return Conversion("ced", root, tables, skipped, notes)
