"""Weibo21 (Nan et al. 2021, MDFEND release) -> the export contract.

Release layout: ``train.pkl``, ``val.pkl`` and ``test.pkl`` (pickled pandas
DataFrames, as in the authors' MDFEND repository), each with at least
``content`` (the post text), ``label`` (1 = fake news) and ``category`` (the
domain, e.g. 科技, 政治, 无法确定). The same tables as ``<split>.json`` (a list
of records, or one record per line) or ``<split>.jsonl`` are accepted too.

Mapping: one post per row (``body`` = ``content``), numbered
``weibo21-<n>`` in the order train, val, test; one pseudo-account per post; a
placeholder ``published_at``; ``labels`` with ``label``, ``split`` (the
file's name: train/val/test) and ``domain`` (= ``category``). Rows with the
domain 无法确定 ("cannot tell") are kept (the MDFEND code drops them at load
time; the release holds them). Rows without text or with a label that is not
0/1 are skipped and counted.

A pickle can run code when it is loaded: convert only files you obtained from
the authors.
"""

from __future__ import annotations

import json
import pickle
from pathlib import Path

import pandas as pd

from fakeugc.datasets._common import PLACEHOLDER_TIME, Conversion, utc

SPLITS = ("train", "val", "test")


def _find(root: Path, split: str) -> Path | None:
    for ext in (".pkl", ".json", ".jsonl"):
        for folder in (root, root / "data"):
            p = folder / f"{split}{ext}"
            if p.is_file():
                return p
    return None


def _load(path: Path) -> pd.DataFrame:
    if path.suffix == ".pkl":
        with open(path, "rb") as f:
            obj = pickle.load(f)  # noqa: S301 - the authors' release format
        return obj if isinstance(obj, pd.DataFrame) else pd.DataFrame(obj)
    text = path.read_text(encoding="utf-8-sig").strip()
    if not text:
        return pd.DataFrame()
    try:  # one JSON document: a list of records (or one record)
        obj = json.loads(text)
    except json.JSONDecodeError:  # JSON lines: one record per line
        return pd.DataFrame([json.loads(line) for line in text.splitlines() if line.strip()])
    return pd.DataFrame(obj if isinstance(obj, list) else [obj])


def _label(v) -> int | None:
    if isinstance(v, str):
        v = v.strip()
        if v in ("0", "1"):
            return int(v)
        return {"fake": 1, "real": 0, "true": 0, "false": 1}.get(v.lower())
    try:
        f = float(v)
    except (TypeError, ValueError):
        return None
    return int(f) if f in (0.0, 1.0) else None


def convert_weibo21(source: Path) -> Conversion:
    source = Path(source)
    root = source.parent if source.is_file() else source
    files = {s: _find(root, s) for s in SPLITS}
    if not any(files.values()):
        raise FileNotFoundError(f"{root}: none of train/val/test .pkl/.json/.jsonl found")
    skipped: dict[str, int] = {}
    posts, labels = [], []
    n = 0
    for split in SPLITS:
        path = files[split]
        if path is None:
            continue
        df = _load(path)
        if "content" not in df.columns or "label" not in df.columns:
            raise ValueError(f"{path}: needs the columns 'content' and 'label' "
                             f"(has {', '.join(map(str, df.columns))})")
        cats = df["category"] if "category" in df.columns else pd.Series([None] * len(df))
        for content, raw_label, cat in zip(df["content"].tolist(), df["label"].tolist(),
                                           cats.tolist(), strict=True):
            label = _label(raw_label)
            if not isinstance(content, str) or not content.strip():
                skipped["row_without_content"] = skipped.get("row_without_content", 0) + 1
                continue
            if label is None:
                skipped["row_with_bad_label"] = skipped.get("row_with_bad_label", 0) + 1
                continue
            pid = f"weibo21-{n}"
            n += 1
            posts.append({"post_id": pid, "account_id": pid, "title": "", "body": content})
            labels.append({"post_id": pid, "label": label, "split": split,
                           "domain": cat if isinstance(cat, str) and cat else None})
    posts_df = pd.DataFrame(posts, columns=["post_id", "account_id", "title", "body"])
    posts_df.insert(2, "published_at", utc([PLACEHOLDER_TIME] * len(posts_df)))
    lab_df = pd.DataFrame(labels, columns=["post_id", "label", "split", "domain"]).astype(
        {"label": "int64"})
    notes = [f"{s}: {files[s].name}" for s in SPLITS if files[s] is not None]
    return Conversion("weibo21", root, {"posts": posts_df, "labels": lab_df}, skipped, notes)
