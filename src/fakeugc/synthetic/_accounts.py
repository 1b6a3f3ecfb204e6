"""The account population: ordinary users, creators, brand accounts and fake farms,
plus the intermediaries' rosters of real accounts and the exposure buyers.

Account types are assigned in blocks and then hidden behind a random
permutation of the public ids, so nothing in an id, a device id or the row order
tells a fake from a genuine account.
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

from fakeugc.synthetic import _pools as P
from fakeugc.synthetic._brands import BRANDS, BY_CATEGORY, CATEGORIES, CATEGORY_WEIGHTS
from fakeugc.synthetic._config import GeneratorConfig
from fakeugc.synthetic._rand import STREAM_ACCOUNTS, Picker, rng_for
from fakeugc.synthetic._text import Composer

ORDINARY, CREATOR, BRAND, FAKE = 0, 1, 2, 3
DAY = 86400


@dataclass
class Farm:
    farm_id: str
    members: np.ndarray  # account indices
    brands: list[int]
    night: bool
    window_start: int  # Beijing hour where a day-shift farm starts posting
    created_day: int  # relative to the start date
    activity: float


@dataclass
class Intermediary:
    intermediary_id: str
    roster: np.ndarray
    brands: list[int]
    tags: list[str]


@dataclass
class Population:
    n: int
    kind: np.ndarray  # ORDINARY / CREATOR / BRAND / FAKE
    account_id: np.ndarray  # object array of str
    created_at: np.ndarray  # seconds relative to t0 (start of the first day)
    followers0: np.ndarray
    following0: np.ndarray
    growth: np.ndarray  # follower growth per day (log)
    prior_posts: np.ndarray
    rate: np.ndarray  # genuine posts per day
    interests: np.ndarray  # (n, 3) category indices, -1 where none
    device: np.ndarray  # object array of str
    bio: list[str]
    verified: np.ndarray
    brand_of: np.ndarray  # brand index of brand accounts, -1 otherwise
    farm_of: np.ndarray  # farm index of fake accounts, -1 otherwise
    aged: np.ndarray  # bought aged fake accounts
    buyers: np.ndarray  # indices of exposure buyers
    farms: list[Farm]
    intermediaries: list[Intermediary]

    def followers_at(self, idx: np.ndarray, t_rel: np.ndarray | float) -> np.ndarray:
        days = (
            np.maximum(np.asarray(t_rel, dtype=float) - np.maximum(self.created_at[idx], 0), 0)
            / DAY
        )
        return np.rint(self.followers0[idx] * np.exp(self.growth[idx] * days)).astype(np.int64)

    def following_at(self, idx: np.ndarray, t_rel: np.ndarray | float) -> np.ndarray:
        days = np.maximum(np.asarray(t_rel, dtype=float), 0) / DAY
        g = np.where(self.kind[idx] == FAKE, 0.004, 0.0008)
        return np.rint(self.following0[idx] * np.exp(g * days)).astype(np.int64)


def _hex_ids(rng: np.random.Generator, n: int, prefix: str, width: int = 12) -> np.ndarray:
    """``n`` distinct random-looking ids (a random permutation of a sparse range)."""
    space = 16**width
    vals = rng.choice(space, size=n, replace=False) if n < 5_000_000 else np.arange(n)
    return np.array([f"{prefix}{v:0{width}x}" for v in vals.tolist()], dtype=object)


def build_population(cfg: GeneratorConfig) -> Population:
    rng = rng_for(cfg.seed, STREAM_ACCOUNTS)
    comp = Composer(Picker(rng_for(cfg.seed, STREAM_ACCOUNTS, 1)))
    pc = cfg.population
    n = cfg.accounts
    n_fake = int(round(n * pc.fake_account_share))
    n_brand = min(
        pc.brand_accounts,
        len(BRANDS),
        max(int(round(pc.brand_accounts * cfg.scale)), min(2, pc.brand_accounts)),
    )
    n_rest = n - n_fake - n_brand
    n_creator = int(round(n_rest * pc.creator_share))
    n_ord = n_rest - n_creator
    kind = np.concatenate(
        [
            np.full(n_ord, ORDINARY),
            np.full(n_creator, CREATOR),
            np.full(n_brand, BRAND),
            np.full(n_fake, FAKE),
        ]
    ).astype(np.int8)
    ordn = slice(0, n_ord)
    crea = slice(n_ord, n_ord + n_creator)
    bran = slice(n_ord + n_creator, n_ord + n_creator + n_brand)

    # public ids: a random permutation, so the id says nothing about the type
    perm = rng.permutation(n)
    width = max(7, len(str(n * 10)))
    account_id = np.array([f"u{v * 7 + 1000003:0{width}d}" for v in perm.tolist()], dtype=object)

    created = np.zeros(n)
    followers = np.zeros(n)
    following = np.zeros(n)
    growth = np.zeros(n)
    rate = np.zeros(n)
    verified = np.zeros(n, dtype=bool)

    age = 30 + 2600 * rng.beta(1.2, 2.2, n_ord)
    created[ordn] = -age * DAY
    followers[ordn] = np.minimum(rng.lognormal(np.log(pc.followers_median), 1.35, n_ord), 3e5)
    following[ordn] = rng.lognormal(np.log(130), 0.9, n_ord)
    growth[ordn] = rng.normal(0.0008, 0.0008, n_ord)
    sig = pc.activity_sigma
    mu = np.log(pc.posts_per_account_day) - sig**2 / 2
    rate[ordn] = rng.lognormal(mu, sig, n_ord)
    verified[ordn] = rng.random(n_ord) < 0.003

    created[crea] = -rng.uniform(365, 3000, n_creator) * DAY
    followers[crea] = np.minimum(8000 * (1 + rng.pareto(1.15, n_creator)), 4e6)
    following[crea] = rng.lognormal(np.log(300), 0.8, n_creator)
    growth[crea] = rng.normal(0.003, 0.002, n_creator)
    rate[crea] = rng.lognormal(np.log(pc.posts_per_account_day * 2.2) - 0.18, 0.6, n_creator)
    verified[crea] = rng.random(n_creator) < 0.45

    created[bran] = -rng.uniform(200, 2000, n_brand) * DAY
    followers[bran] = rng.lognormal(np.log(40000), 1.0, n_brand)
    following[bran] = rng.integers(5, 120, n_brand)
    growth[bran] = rng.normal(0.002, 0.001, n_brand)
    rate[bran] = rng.uniform(0.3, 0.8, n_brand)
    verified[bran] = True

    # fake farms: accounts registered in batches, sharing one or two device clusters
    farms: list[Farm] = []
    farm_of = np.full(n, -1, dtype=np.int64)
    aged = np.zeros(n, dtype=bool)
    fake_idx = np.arange(n - n_fake, n)
    pos = 0
    dev_fake = np.empty(n_fake, dtype=object)
    farm_ids = _hex_ids(rng, max(n_fake, 1), "farm", 6)
    brand_pop = np.array([b.popularity for b in BRANDS])
    while pos < n_fake:
        size = int(rng.integers(pc.farm_size.min, pc.farm_size.max + 1))
        size = min(size, n_fake - pos)
        members = fake_idx[pos : pos + size]
        f_i = len(farms)
        created_day = (
            int(rng.integers(-120, -3))
            if rng.random() < 0.7
            else int(rng.integers(0, max(1, int(cfg.days * 0.6))))
        )
        cats = rng.choice(len(CATEGORIES), size=int(rng.integers(1, 3)), replace=False)
        pool = np.concatenate([np.array(BY_CATEGORY[CATEGORIES[c]]) for c in cats])
        pw = brand_pop[pool] / brand_pop[pool].sum()
        fbrands = sorted(
            rng.choice(
                pool, size=min(len(pool), int(rng.integers(1, 4))), replace=False, p=pw
            ).tolist()
        )
        farms.append(
            Farm(
                farm_id=str(farm_ids[f_i]),
                members=members,
                brands=fbrands,
                night=bool(rng.random() < pc.night_farm_share),
                window_start=int(rng.integers(9, 18)),
                created_day=created_day,
                activity=float(rng.lognormal(0, 0.6)),
            )
        )
        farm_of[members] = f_i
        is_aged = rng.random(size) < pc.aged_fake_share
        aged[members] = is_aged
        created[members] = np.where(
            is_aged,
            -rng.uniform(700, 2500, size) * DAY,
            (created_day + rng.uniform(0, 2, size)) * DAY,
        )
        n_dev = 1 if size < 6 or rng.random() < 0.5 else 2
        dev_names = _hex_ids(rng, n_dev, "dc", 12)
        dev_fake[pos : pos + size] = dev_names[rng.integers(0, n_dev, size)]
        pos += size
    if n_fake:
        fk = fake_idx
        followers[fk] = np.where(
            aged[fk],
            rng.lognormal(np.log(160), 0.8, n_fake),
            rng.lognormal(np.log(14), 0.9, n_fake),
        )
        following[fk] = rng.lognormal(np.log(380), 0.7, n_fake)
        growth[fk] = np.where(aged[fk], 0.003, rng.uniform(0.004, 0.02, n_fake))
        verified[fk] = aged[fk] & (rng.random(n_fake) < 0.03)

    # history before the window
    age_days = np.maximum(-created, 0) / DAY
    prior = rng.poisson(
        np.where(kind == FAKE, np.where(aged, 0.004, 0.05), rate * rng.uniform(0.2, 0.9, n))
        * age_days
    )
    prior = np.minimum(prior, 20000)

    # interests: 1-3 categories per account
    cw = np.array([CATEGORY_WEIGHTS[c] for c in CATEGORIES])
    cw = cw / cw.sum()
    interests = np.full((n, 3), -1, dtype=np.int64)
    k = rng.choice([1, 2, 3], size=n, p=[0.35, 0.45, 0.20])
    for j in range(3):
        draw = rng.choice(len(CATEGORIES), size=n, p=cw)
        interests[:, j] = np.where(k > j, draw, -1)
    # brand accounts: one per brand, most popular first
    brand_of = np.full(n, -1, dtype=np.int64)
    if n_brand:
        order = np.argsort(-brand_pop, kind="stable")[:n_brand]
        brand_of[bran] = order
        interests[bran, 0] = [CATEGORIES.index(BRANDS[b].category) for b in order]
        interests[bran, 1:] = -1
    if n_fake:
        for f in farms:
            interests[f.members, 0] = CATEGORIES.index(BRANDS[f.brands[0]].category)

    # devices: unique for genuine accounts, a few families share
    device = np.empty(n, dtype=object)
    device[: n - n_fake] = _hex_ids(rng, n - n_fake, "dc", 12)
    gen_idx = np.arange(n - n_fake)
    n_pairs = int(len(gen_idx) * pc.shared_device_share / 2)
    if n_pairs:
        pairs = rng.choice(gen_idx, size=2 * n_pairs, replace=False).reshape(-1, 2)
        device[pairs[:, 1]] = device[pairs[:, 0]]
    if n_fake:
        device[n - n_fake :] = dev_fake

    # bios
    bio = []
    for i in range(n):
        cat = CATEGORIES[interests[i, 0]]
        kd = kind[i]
        if kd == BRAND:
            bio.append(comp.bio("brand", cat, int(brand_of[i])))
        elif kd == FAKE:
            bio.append(comp.bio("fake", cat))
        elif kd == CREATOR:
            bio.append(comp.bio("creator", cat))
        else:
            bio.append(comp.bio("genuine", cat))

    # exposure buyers: ordinary accounts, more often mid-sized
    ord_idx = np.arange(n_ord)
    n_buy = max(1, int(round(n_ord * pc.exposure_buyer_share)))
    w = np.sqrt(followers[ord_idx] + 10)
    buyers = np.sort(rng.choice(ord_idx, size=min(n_buy, n_ord), replace=False, p=w / w.sum()))

    # intermediaries: rosters of established real accounts
    est = np.flatnonzero(
        ((kind == ORDINARY) | (kind == CREATOR))
        & (created < -180 * DAY)
        & (followers >= 150)
        & (followers <= 60000)
    )
    if len(est) < 20:
        est = np.flatnonzero((kind == ORDINARY) | (kind == CREATOR))
    inter: list[Intermediary] = []
    cc = cfg.campaigns
    inter_ids = _hex_ids(rng, cc.intermediaries, "im", 6)
    for i in range(cc.intermediaries):
        size = int(rng.integers(cc.roster_size.min, cc.roster_size.max + 1))
        size = max(min(size, len(est) // max(1, cc.intermediaries // 2)), min(len(est), 12))
        roster = np.sort(rng.choice(est, size=size, replace=False))
        nb = int(rng.integers(cc.brands_per_intermediary.min, cc.brands_per_intermediary.max + 1))
        brands = sorted(
            rng.choice(
                len(BRANDS), size=min(nb, len(BRANDS)), replace=False, p=brand_pop / brand_pop.sum()
            ).tolist()
        )
        tags = [
            P.INTERMEDIARY_TAGS[j] for j in rng.choice(len(P.INTERMEDIARY_TAGS), 2, replace=False)
        ]
        inter.append(Intermediary(str(inter_ids[i]), roster, brands, tags))

    return Population(
        n=n,
        kind=kind,
        account_id=account_id,
        created_at=created,
        followers0=followers,
        following0=following,
        growth=growth,
        prior_posts=prior.astype(np.int64),
        rate=rate,
        interests=interests,
        device=device,
        bio=bio,
        verified=verified,
        brand_of=brand_of,
        farm_of=farm_of,
        aged=aged,
        buyers=buyers,
        farms=farms,
        intermediaries=inter,
    )


def interest_cum(pop: Population, i: int) -> tuple[list[int], list[float]]:
    cats = [int(c) for c in pop.interests[i] if c >= 0]
    w = [0.6, 0.3, 0.1][: len(cats)]
    return cats, list(itertools.accumulate(w))
