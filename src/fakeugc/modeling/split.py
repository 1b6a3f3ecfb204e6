"""Honest splits for clustered, time-ordered fraud labels.

A random split flatters every model here: one campaign writes many
near-identical posts and one account writes many posts. Days are cut in time
order into train → valid (early stopping) → calibration → test windows, and
account groups (accounts joined through shared near-duplicate clusters) are
hashed into a training share and an evaluation share: the model trains only on
training groups, and is validated, calibrated and tested only on evaluation
groups. So no account and no cluster is on both sides, and every later window
is later in time.
"""

from __future__ import annotations

import hashlib

import numpy as np
import pandas as pd

from fakeugc.modeling.config import SplitConfig

WINDOWS = ("train", "valid", "calibration", "test")


class _UnionFind:
    def __init__(self):
        self.parent: dict = {}

    def find(self, x):
        parent = self.parent
        parent.setdefault(x, x)
        root = x
        while parent[root] != root:
            root = parent[root]
        while parent[x] != root:
            parent[x], x = root, parent[x]
        return root

    def union(self, a, b):
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            if ra < rb:
                self.parent[rb] = ra
            else:
                self.parent[ra] = rb


def account_groups(frame: pd.DataFrame, cluster_column: str = "ctx_coordination_cluster_id"):
    """A group id per post: accounts linked through shared clusters form one group."""
    uf = _UnionFind()
    accounts = frame["account_id"].astype(str).to_numpy()
    for a in accounts:
        uf.find("a:" + a)
    if cluster_column in frame.columns:
        clusters = frame[cluster_column].to_numpy()
        for a, c in zip(accounts, clusters, strict=True):
            if isinstance(c, str) and c:
                uf.union("a:" + a, "c:" + c)
    return np.array([uf.find("a:" + a) for a in accounts], dtype=object)


def _unit_hash(key: str, seed: int) -> float:
    h = hashlib.blake2b(f"{seed}:{key}".encode(), digest_size=8).digest()
    return int.from_bytes(h, "big") / 2**64


def time_windows(days: pd.Series, cfg: SplitConfig) -> np.ndarray:
    """Window name per row from its day, cutting the sorted distinct days by share."""
    uniq = np.array(sorted(days.unique()))
    n = len(uniq)
    shares = np.cumsum([cfg.train, cfg.valid, cfg.calibration, cfg.test])
    cuts = np.round(shares * n).astype(int)
    # every window gets at least one day when there are enough days
    if n >= 4:
        for i in range(4):
            lo = cuts[i - 1] if i else 0
            cuts[i] = max(cuts[i], lo + 1) if i < 3 else n
            cuts[i] = min(cuts[i], n - (3 - i))
    day_window = {}
    for i, d in enumerate(uniq):
        w = int(np.searchsorted(cuts, i, side="right"))
        day_window[d] = WINDOWS[min(w, 3)]
    return days.map(day_window).to_numpy()


def assign_split(frame: pd.DataFrame, cfg: SplitConfig, seed: int) -> pd.Series:
    """``train``/``valid``/``calibration``/``test`` or ``unused`` for every row."""
    day = frame["published_at"].dt.tz_convert("Asia/Shanghai").dt.normalize()
    window = time_windows(day, cfg)
    groups = account_groups(frame)
    eval_group = np.array([_unit_hash(g, seed) < cfg.eval_group_share for g in groups])
    split = np.where(window == "train", np.where(eval_group, "unused", "train"),
                     np.where(eval_group, window, "unused"))
    return pd.Series(split, index=frame.index, name="split_window")
