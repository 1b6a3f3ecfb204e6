"""Honest splits for clustered, time-ordered fraud labels.

A random split flatters every model here: one campaign writes many
near-identical posts and one account writes many posts. Days are cut in time
order into train → valid (early stopping) → calibration → test windows, and
account groups are hashed into a training share and an evaluation share: the
model trains only on training groups, and is validated, calibrated and tested
only on evaluation groups. So no account and no cluster is on both sides, and
every later window is later in time.

A group is one account, joined with others only through a near-duplicate
cluster that reaches more than one time window (a cluster inside one window
cannot put the same text on both sides of a time cut). A night's context finds
the clusters of that night only, so a campaign posting on both sides of the cut
between the training window and the later ones would still straddle it:
``boundary_clusters`` clusters the posts on both sides of that cut together, and
its clusters join accounts too. Joining accounts through
*every* cluster, as the first version did, chains a paid intermediary's whole
roster, and every campaign it ever ran, into one group: all of its posts then
land on one side, and a test window drawn from the other side holds only the
campaign posts that no cluster links, the very ones coordination cannot see.
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


def account_groups(frame: pd.DataFrame, cluster_column: str = "ctx_coordination_cluster_id",
                   window: np.ndarray | None = None, extra_clusters=None):
    """A group id per post: its account, joined with the accounts of every cluster it
    shares. With ``window`` (each row's time window), only clusters whose posts fall
    in more than one window join accounts (see the module docstring).
    ``extra_clusters`` (one cluster id or None per row) are a second set of clusters,
    treated the same way."""
    uf = _UnionFind()
    accounts = frame["account_id"].astype(str).to_numpy()
    for a in accounts:
        uf.find("a:" + a)
    sets = []
    if cluster_column in frame.columns:
        sets.append(("c:", frame[cluster_column].to_numpy()))
    if extra_clusters is not None:
        sets.append(("x:", np.asarray(extra_clusters, dtype=object)))
    for prefix, clusters in sets:
        joining = np.array([isinstance(c, str) and bool(c) for c in clusters], dtype=bool)
        if window is not None and joining.any():
            spans = (pd.DataFrame({"c": clusters[joining], "w": np.asarray(window)[joining]})
                     .groupby("c")["w"].nunique())
            joining[joining] = spans.reindex(clusters[joining]).to_numpy() > 1
        for a, c in zip(accounts[joining], clusters[joining], strict=True):
            uf.union("a:" + a, prefix + c)
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


def near_the_cut(day: pd.Series, window: np.ndarray, days: float) -> np.ndarray:
    """Rows within ``days`` days of the cut between the training window and the later
    ones (the first day that is not training)."""
    later = window != "train"
    if not later.any() or later.all():
        return np.zeros(len(day), dtype=bool)
    cut = day[later].min()
    gap = (day - cut).abs() / pd.Timedelta(days=1)
    return (gap <= days).to_numpy()


def assign_split(frame: pd.DataFrame, cfg: SplitConfig, seed: int,
                 boundary_clusters=None) -> pd.Series:
    """``train``/``valid``/``calibration``/``test`` or ``unused`` for every row.

    ``boundary_clusters(rows) -> cluster id or None per row`` clusters the rows near
    the training cut together (across nights); see the module docstring."""
    day = frame["published_at"].dt.tz_convert("Asia/Shanghai").dt.normalize()
    window = time_windows(day, cfg)
    extra = None
    if boundary_clusters is not None:
        near = near_the_cut(day, window, boundary_clusters.days)
        extra = np.full(len(frame), None, dtype=object)
        if near.sum() > 1:
            extra[near] = np.asarray(boundary_clusters(frame.loc[near]), dtype=object)
    groups = account_groups(frame, window=window, extra_clusters=extra)
    eval_group = np.array([_unit_hash(g, seed) < cfg.eval_group_share for g in groups])
    split = np.where(window == "train", np.where(eval_group, "unused", "train"),
                     np.where(eval_group, window, "unused"))
    return pd.Series(split, index=frame.index, name="split_window")
