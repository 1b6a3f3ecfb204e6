"""The synthetic platform: plan the whole horizon, then build one export per day.

Planning (cheap, numbers only) decides every post's author, time and kind over
the export window plus a few spill-over days, so an account's ``posts_total``
at any export time counts exactly the posts it has published by then. Building a
day then writes the text, simulates the curves, draws the reports and the
review queue, and snapshots the authors.

Randomness: each phase and each day has its own stream derived from the seed
(see :mod:`._rand`), so the same arguments give the same bytes.
"""

from __future__ import annotations

import datetime as dt
import itertools
import re
from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa

from fakeugc.synthetic import _pools as P
from fakeugc.synthetic._accounts import (
    BRAND,
    CREATOR,
    DAY,
    FAKE,
    ORDINARY,
    Population,
    build_population,
    interest_cum,
)
from fakeugc.synthetic._brands import BRAND_MENTION_RATE, BRANDS, BY_CATEGORY, CATEGORIES
from fakeugc.synthetic._config import GeneratorConfig
from fakeugc.synthetic._curves import COUNTS, empty_inputs, simulate
from fakeugc.synthetic._rand import (
    STREAM_CURVES,
    STREAM_FEEDBACK,
    STREAM_PLAN,
    STREAM_TEXT,
    Picker,
    rng_for,
)
from fakeugc.synthetic._text import Brief, Composer

# post kinds
GENUINE, DISCLOSED, OFFICIAL, LAUNCH, COVER, FAKE_POST, PAID, BOUGHT = range(8)
KIND_NAMES = (
    "genuine",
    "disclosed",
    "brand_official",
    "launch",
    "fake_cover",
    "fake_account",
    "paid_intermediary",
    "bought_exposure",
)
FRAUD_TYPES = {FAKE_POST: "fake_account", PAID: "paid_intermediary", BOUGHT: "bought_exposure"}
HARD_CASES = ("disclosed_partnership", "launch_burst", "viral_genuine", "reported_genuine")
REASONS = ("fake_review", "undisclosed_ad", "spam", "other")

#: posting hour weights by Beijing hour (genuine users: lunch and evening peaks)
_POST_HOURS = np.array(
    [
        0.5,
        0.25,
        0.12,
        0.06,
        0.05,
        0.08,
        0.2,
        0.5,
        0.8,
        0.9,
        0.9,
        1.0,
        1.3,
        1.2,
        0.9,
        0.8,
        0.8,
        0.9,
        1.1,
        1.4,
        1.7,
        1.9,
        1.8,
        1.1,
    ]
)
POST_HOURS = _POST_HOURS / _POST_HOURS.sum()
SPILL_DAYS = 5

_US = 1_000_000
_TS = pa.timestamp("us", tz="UTC")

SCHEMAS: dict[str, pa.Schema] = {
    "posts": pa.schema(
        [
            ("post_id", pa.string()),
            ("account_id", pa.string()),
            ("published_at", _TS),
            ("title", pa.string()),
            ("body", pa.string()),
            ("brand_tags", pa.list_(pa.string())),
            ("disclosed_partnership", pa.bool_()),
            ("image_count", pa.int32()),
        ]
    ),
    "accounts": pa.schema(
        [
            ("account_id", pa.string()),
            ("created_at", _TS),
            ("followers", pa.int64()),
            ("following", pa.int64()),
            ("posts_total", pa.int64()),
            ("verified", pa.bool_()),
            ("is_brand", pa.bool_()),
            ("device_cluster", pa.string()),
            ("bio", pa.string()),
        ]
    ),
    "exposure": pa.schema(
        [("post_id", pa.string()), ("hour", pa.int32())] + [(c, pa.int32()) for c in COUNTS]
    ),
    "reports": pa.schema([("post_id", pa.string()), ("reported_at", _TS), ("reason", pa.string())]),
    "brands": pa.schema(
        [("brand_id", pa.string()), ("name", pa.string()), ("aliases", pa.list_(pa.string()))]
    ),
    "labels": pa.schema(
        [
            ("post_id", pa.string()),
            ("label", pa.int8()),
            ("labelled_at", _TS),
            ("fraud_type", pa.string()),
            ("hard_case", pa.string()),
        ]
    ),
    "_truth": pa.schema(
        [
            ("post_id", pa.string()),
            ("account_id", pa.string()),
            ("label", pa.int8()),
            ("fraud_type", pa.string()),
            ("hard_case", pa.string()),
            ("kind", pa.string()),
            ("category", pa.string()),
            ("brand_id", pa.string()),
            ("campaign_id", pa.string()),
            ("intermediary_id", pa.string()),
            ("launch_id", pa.string()),
            ("farm_id", pa.string()),
            ("heavy_paraphrase", pa.bool_()),
            ("bought_modes", pa.string()),
            ("author_is_fake", pa.bool_()),
            ("reviewed", pa.bool_()),
            ("label_flipped", pa.bool_()),
            ("report_count", pa.int32()),
            ("hours_seen", pa.int32()),
            ("impressions_72h", pa.int64()),
        ]
    ),
}

_CUE_RE = re.compile(
    "|".join(
        re.escape(w)
        for w in sorted(
            set(
                P.HYPE
                + P.ABSOLUTE
                + ["私信", "链接在", "主页", "加薇", "V❤", "vx", "+V", "冲", "限时", "赠品"]
            ),
            key=len,
            reverse=True,
        )
    )
)


@dataclass
class Campaign:
    campaign_id: str
    intermediary: int
    brand: int
    start_day: int
    days: int
    brief: Brief


@dataclass
class Launch:
    launch_id: str
    brand: int
    product: str
    start_day: int
    days: int


@dataclass
class Plan:
    t: np.ndarray  # publication, seconds from t0, sorted
    acc: np.ndarray
    kind: np.ndarray
    event: np.ndarray  # campaign / launch / farm index, -1 otherwise
    day_start: np.ndarray  # index into t where each day starts (len days_total + 1)
    post_keys: np.ndarray  # sorted acc * 1e8 + t, for posts_total
    export_lag: np.ndarray  # hours after each day's end when its export is taken
    campaigns: list[Campaign] = field(default_factory=list)
    launches: list[Launch] = field(default_factory=list)
    post_seq: np.ndarray | None = None  # global index of each slot (for ids)


def _hours_to_seconds(rng: np.random.Generator, local_hours: np.ndarray) -> np.ndarray:
    utc = (local_hours - 8) % 24
    return utc * 3600 + rng.integers(0, 3600, len(local_hours))


def _round_stochastic(rng: np.random.Generator, x: float) -> int:
    """``x`` rounded down or up at random (mean ``x``, variance below 1/4)."""
    base = int(np.floor(x))
    return base + int(rng.random() < x - base)


class World:
    """The population, the plan and the day builder for one configuration."""

    def __init__(self, cfg: GeneratorConfig):
        self.cfg = cfg
        self.t0 = int(dt.datetime.combine(cfg.start_date, dt.time(), dt.UTC).timestamp())
        self.pop: Population = build_population(cfg)
        self.plan: Plan = self._plan()

    # ------------------------------------------------------------------ planning

    def _plan(self) -> Plan:
        cfg, pop = self.cfg, self.pop
        rng = rng_for(cfg.seed, STREAM_PLAN)
        comp = Composer(Picker(rng_for(cfg.seed, STREAM_PLAN, 1)))
        N = cfg.days
        D = N + SPILL_DAYS
        wd = np.array(
            [
                cfg.weekday_factors[(cfg.start_date + dt.timedelta(days=d)).weekday()]
                for d in range(D)
            ]
        )
        ts, accs, kinds, events = [], [], [], []

        def add(day, acc, kind, event, local_hours):
            day = np.asarray(day, dtype=np.int64)
            ts.append(day * DAY + _hours_to_seconds(rng, np.asarray(local_hours)))
            accs.append(np.asarray(acc, dtype=np.int64))
            kinds.append(
                np.full(len(day), kind, dtype=np.int8)
                if np.ndim(kind) == 0
                else np.asarray(kind, dtype=np.int8)
            )
            events.append(
                np.full(len(day), event, dtype=np.int64)
                if np.ndim(event) == 0
                else np.asarray(event, dtype=np.int64)
            )

        # genuine activity of ordinary, creator and brand accounts
        gen = np.flatnonzero(pop.kind != FAKE)
        lam = pop.rate[gen][:, None] * wd[None, :]
        counts = rng.poisson(lam)
        a_i, d_i = np.nonzero(counts)
        reps = counts[a_i, d_i]
        g_acc = np.repeat(gen[a_i], reps)
        g_day = np.repeat(d_i, reps)
        # accounts created during the window do not post before they exist
        g_kind = np.full(len(g_acc), GENUINE, dtype=np.int8)
        k_acc = pop.kind[g_acc]
        u = rng.random(len(g_acc))
        hc = cfg.hard_cases
        g_kind[(k_acc == CREATOR) & (u < hc.creator_disclosed_share)] = DISCLOSED
        g_kind[(k_acc == ORDINARY) & (u < hc.ordinary_disclosed_share)] = DISCLOSED
        g_kind[k_acc == BRAND] = OFFICIAL
        add(g_day, g_acc, g_kind, -1, rng.choice(24, size=len(g_day), p=POST_HOURS))
        expected_gen = lam.sum(axis=0)

        # product launches: a burst of varied organic posts about one brand
        launches: list[Launch] = []
        n_launch = max(1, int(rng.poisson(N * hc.launches_per_30_days / 30.0)))
        brand_pop = np.array([b.popularity for b in BRANDS])
        ordinary_like = np.flatnonzero((pop.kind == ORDINARY) | (pop.kind == CREATOR))
        launch_ids = [f"L{cfg.seed % 1000:03d}{i:04d}" for i in range(n_launch)]
        launch_per_day = np.zeros(D)
        for i in range(n_launch):
            b = int(rng.choice(len(BRANDS), p=brand_pop / brand_pop.sum()))
            start = int(rng.integers(0, N))
            days = int(rng.integers(hc.launch_days.min, hc.launch_days.max + 1))
            size = max(
                6,
                int(round(rng.integers(hc.launch_posts.min, hc.launch_posts.max + 1) * cfg.scale)),
            )
            cat = CATEGORIES.index(BRANDS[b].category)
            fans = ordinary_like[(pop.interests[ordinary_like] == cat).any(axis=1)]
            pool = fans if len(fans) >= size * 2 else ordinary_like
            authors = rng.choice(pool, size=min(size, len(pool)), replace=False)
            offs = np.minimum(
                rng.exponential(max(days / 2.0, 0.5), len(authors)).astype(int), days - 1
            )
            prefix = ["二代", "新款", "限定版", "升级版", "新版"][int(rng.integers(0, 5))]
            product = prefix + BRANDS[b].products[int(rng.integers(0, len(BRANDS[b].products)))]
            launches.append(Launch(launch_ids[i], b, product, start, days))
            add(start + offs, authors, LAUNCH, i, rng.choice(24, size=len(authors), p=POST_HOURS))
            np.add.at(launch_per_day, np.minimum(start + offs, D - 1), 1)

        # fraud budgets: fake = s * total, with cover posts counted as genuine
        s = cfg.fake_share
        mix = cfg.fraud_mix.normalised()
        c = cfg.population.cover_post_share if pop.farms else 0.0
        ratio = s / (1 - s) if s < 1 else 0.0
        base = expected_gen + launch_per_day
        denom = 1 - ratio * mix["fake_account"] * c / (1 - c) if c < 1 else 1.0
        fraud_per_day = ratio * base / max(denom, 1e-6)

        # fake-account posts (and their lifestyle cover posts) from the farms
        if pop.farms:
            farm_act = np.array([f.activity for f in pop.farms])
            farm_created = np.array([f.created_day for f in pop.farms])
            for d in range(D):
                n_fa = _round_stochastic(rng, fraud_per_day[d] * mix["fake_account"])
                n_cov = _round_stochastic(rng, fraud_per_day[d] * mix["fake_account"] * c / (1 - c))
                eligible = np.flatnonzero(farm_created + 2 < d)
                if len(eligible) == 0:
                    eligible = np.array([int(np.argmin(farm_created))])
                w = farm_act[eligible]
                for kind, n_posts in ((FAKE_POST, n_fa), (COVER, n_cov)):
                    if n_posts == 0:
                        continue
                    f_sel = rng.choice(eligible, size=n_posts, p=w / w.sum())
                    for f_i in np.unique(f_sel):
                        farm = pop.farms[f_i]
                        k = int((f_sel == f_i).sum())
                        members = farm.members[pop.created_at[farm.members] < d * DAY]
                        if len(members) == 0:
                            members = farm.members
                        who = rng.choice(members, size=k, replace=k > len(members))
                        if farm.night and kind == FAKE_POST:
                            hours = rng.integers(1, 6, k)
                        elif kind == FAKE_POST and rng.random() < 0.7:
                            hours = (farm.window_start + rng.integers(0, 2, k)) % 24
                        else:
                            hours = rng.choice(24, size=k, p=POST_HOURS)
                        add(np.full(k, d), who, kind, f_i, hours)

        # bought exposure: posts by repeat customers and a few one-off buyers
        buyers = pop.buyers
        for d in range(D):
            k = _round_stochastic(rng, fraud_per_day[d] * mix["bought_exposure"])
            if k == 0:
                continue
            from_buyers = rng.random(k) < 0.75
            who = np.where(
                from_buyers, rng.choice(buyers, size=k), rng.choice(ordinary_like, size=k)
            )
            add(np.full(k, d), who, BOUGHT, -1, rng.choice(24, size=k, p=POST_HOURS))

        # paid-intermediary campaigns, until the window's budget is met
        campaigns: list[Campaign] = []
        cc = cfg.campaigns
        budget = float(fraud_per_day[:N].sum() * mix["paid_intermediary"])
        in_window = 0
        roster_w = np.array([len(im.roster) for im in pop.intermediaries], dtype=float)
        recruits = np.flatnonzero(pop.kind == ORDINARY)
        ci = 0
        while in_window < budget and mix["paid_intermediary"] > 0:
            im_i = int(rng.choice(len(pop.intermediaries), p=roster_w / roster_w.sum()))
            im = pop.intermediaries[im_i]
            b = int(im.brands[int(rng.integers(0, len(im.brands)))])
            size = int(rng.integers(cc.posts.min, cc.posts.max + 1))
            remaining = int(np.ceil(budget - in_window))
            if remaining < size:
                size = max(cc.posts.min, remaining)
            n_roster = min(int(round(size * cc.roster_share)), len(im.roster))
            who = list(rng.choice(im.roster, size=n_roster, replace=False))
            others = recruits[~np.isin(recruits, who)]
            who += list(rng.choice(others, size=min(size - n_roster, len(others)), replace=False))
            who = np.array(who, dtype=np.int64)
            start = int(rng.integers(0, N))
            days = int(rng.integers(cc.days.min, cc.days.max + 1))
            offs = rng.integers(0, days, len(who))
            brief = comp.brief(BRANDS[b].category, b, im.tags)
            campaigns.append(
                Campaign(f"C{cfg.seed % 1000:03d}{ci:05d}", im_i, b, start, days, brief)
            )
            add(start + offs, who, PAID, ci, rng.choice(24, size=len(who), p=POST_HOURS))
            in_window += int((start + offs < N).sum())
            ci += 1

        t = np.concatenate(ts)
        acc = np.concatenate(accs)
        kind = np.concatenate(kinds)
        event = np.concatenate(events)
        # an account does not post before it was registered
        created = pop.created_at[acc]
        late = t < created + 3600
        t = np.where(late, created + 3600 + rng.integers(0, 6 * 3600, len(t)), t).astype(np.int64)
        keep = t < D * DAY
        t, acc, kind, event = t[keep], acc[keep], kind[keep], event[keep]
        order = np.lexsort((acc, t))
        t, acc, kind, event = t[order], acc[order], kind[order], event[order]
        day_start = np.searchsorted(t, np.arange(D + 1) * DAY)
        keys = np.sort(acc * 100_000_000 + t)
        lag = rng.integers(
            cfg.exposure.export_lag_hours.min, cfg.exposure.export_lag_hours.max + 1, D
        )
        return Plan(
            t,
            acc,
            kind,
            event,
            day_start,
            keys,
            lag,
            campaigns,
            launches,
            post_seq=np.arange(len(t), dtype=np.int64),
        )

    # ------------------------------------------------------------------ helpers

    def post_ids(self, seq: np.ndarray) -> list[str]:
        mix = (self.cfg.seed * 0x632BE59BD9B4E019 + 0x1F123BB5) & 0xFFFFFFFFFFFFFFFF
        out = []
        for i in seq.tolist():
            v = ((i + 1) * 0x9E3779B97F4A7C15) & 0xFFFFFFFFFFFFFFFF
            out.append(f"{v ^ mix:016x}")
        return out

    def export_time(self, d: int) -> int:
        """Seconds from t0 when day ``d``'s export was taken."""
        return (d + 1) * DAY + int(self.plan.export_lag[d]) * 3600

    def posts_total(self, acc: np.ndarray, t_rel: int) -> np.ndarray:
        keys = self.plan.post_keys
        lo = np.searchsorted(keys, acc * 100_000_000, side="left")
        hi = np.searchsorted(keys, acc * 100_000_000 + t_rel, side="right")
        return self.pop.prior_posts[acc] + (hi - lo)

    # ------------------------------------------------------------------ one day

    def build_day(self, d: int) -> DayExport:
        cfg, pop, plan = self.cfg, self.pop, self.plan
        lo, hi = int(plan.day_start[d]), int(plan.day_start[d + 1])
        t = plan.t[lo:hi]
        acc = plan.acc[lo:hi]
        kind = plan.kind[lo:hi].copy()
        event = plan.event[lo:hi]
        n = len(t)
        pk = Picker(rng_for(cfg.seed, STREAM_TEXT, d))
        comp = Composer(pk)
        t_exp = self.export_time(d)
        post_id = self.post_ids(plan.post_seq[lo:hi])

        # ---- content
        titles, bodies, tags = [], [], []
        cat_of = np.zeros(n, dtype=np.int64)
        brand_of = np.full(n, -1, dtype=np.int64)
        heavy = np.zeros(n, dtype=bool)
        disclosed = np.isin(kind, (DISCLOSED, OFFICIAL))
        images = np.zeros(n, dtype=np.int32)
        viral = np.zeros(n, dtype=bool)
        polarity_neg = np.zeros(n, dtype=bool)
        hc = cfg.hard_cases
        pops = {c: [BRANDS[i].popularity for i in BY_CATEGORY[c]] for c in CATEGORIES}
        pop_cum = {c: list(itertools.accumulate(w)) for c, w in pops.items()}
        all_cum = list(itertools.accumulate(b.popularity for b in BRANDS))
        img_gen = list(
            itertools.accumulate([0.08, 0.14, 0.12, 0.13, 0.12, 0.1, 0.1, 0.07, 0.06, 0.08])
        )

        def pick_brand(cat: str) -> int:
            return pk.weighted(BY_CATEGORY[cat], pop_cum[cat])

        for j in range(n):
            a = int(acc[j])
            k = int(kind[j])
            tagged: list[str] = []
            if k in (GENUINE, DISCLOSED, BOUGHT):
                cats, cum = interest_cum(pop, a)
                cat = CATEGORIES[pk.weighted(cats, cum)] if cats else pk.choice(CATEGORIES)
            if k == GENUINE:
                b = pick_brand(cat) if pk.chance(BRAND_MENTION_RATE[cat]) else None
                pol = pk.weighted(("pos", "mixed", "neg"), (0.45, 0.8, 1.0))
                if b is not None and pol == "pos" and pk.chance(0.1):
                    title, body = comp.promo(cat, b)  # fans and shop owners write like ads
                else:
                    title, body = comp.genuine(cat, b, pol)
                polarity_neg[j] = pol == "neg"
                if b is not None and pk.chance(0.3):
                    tagged = [BRANDS[b].brand_id]
                images[j] = pk.weighted(range(10), img_gen)
                viral[j] = pk.chance(hc.viral_share)
            elif k == DISCLOSED:
                b = pick_brand(cat)
                title, body = comp.disclosed(cat, b, official=False)
                if pk.chance(0.9):
                    tagged = [BRANDS[b].brand_id]
                images[j] = pk.randint(3, 9)
            elif k == OFFICIAL:
                b = int(pop.brand_of[a])
                cat = BRANDS[b].category
                title, body = comp.disclosed(cat, b, official=True)
                tagged = [BRANDS[b].brand_id]
                images[j] = pk.randint(1, 9)
            elif k == LAUNCH:
                ln = plan.launches[int(event[j])]
                b = ln.brand
                cat = BRANDS[b].category
                pol = pk.weighted(("pos", "mixed", "neg"), (0.45, 0.8, 1.0))
                title, body = comp.genuine(cat, b, pol, product=ln.product, launch=True)
                if pk.chance(0.45):
                    tagged = [BRANDS[b].brand_id]
                images[j] = pk.weighted(range(10), img_gen)
            elif k == COVER:
                b = None
                cat = CATEGORIES[int(pop.interests[a, 0])]
                title, body = comp.cover()
                images[j] = pk.randint(1, 6)
            elif k == FAKE_POST:
                farm = pop.farms[int(event[j])]
                b = farm.brands[pk.randint(0, len(farm.brands) - 1)]
                cat = BRANDS[b].category
                title, body = comp.fake(cat, b)
                if pk.chance(0.85):
                    tagged = [BRANDS[b].brand_id]
                images[j] = pk.randint(2, 9)
            elif k == PAID:
                cp = plan.campaigns[int(event[j])]
                b = cp.brand
                cat = BRANDS[b].category
                heavy[j] = pk.chance(cfg.campaigns.heavy_paraphrase_share)
                title, body = comp.campaign(cp.brief, heavy[j])
                if pk.chance(cfg.campaigns.tag_share):
                    tagged = [BRANDS[b].brand_id]
                images[j] = pk.randint(5, 9) if pk.chance(0.85) else pk.randint(1, 4)
            else:  # BOUGHT
                if pk.chance(0.6):
                    b = pick_brand(cat)
                else:
                    b = pk.weighted(range(len(BRANDS)), all_cum)
                    cat = BRANDS[b].category
                title, body = comp.promo(cat, b)
                if pk.chance(0.6):
                    tagged = [BRANDS[b].brand_id]
                images[j] = pk.weighted(range(10), img_gen)
            if tagged and pk.chance(0.04):  # a second, related brand tag
                other = pk.choice(BY_CATEGORY[cat])
                if BRANDS[other].brand_id not in tagged:
                    tagged.append(BRANDS[other].brand_id)
            titles.append(title)
            bodies.append(body)
            tags.append(tagged)
            cat_of[j] = CATEGORIES.index(cat)
            brand_of[j] = -1 if b is None else int(b)

        # ---- curves
        crng = rng_for(cfg.seed, STREAM_CURVES, d)
        x = empty_inputs(n)
        x.followers = pop.followers_at(acc, t).astype(float)
        x.local_hour0 = ((t // 3600) + 8) % 24
        base_q = crng.lognormal(0.0, 0.45, n)
        q_mult = np.select(
            [kind == FAKE_POST, kind == COVER, kind == PAID, kind == BOUGHT, kind == OFFICIAL],
            [0.65, 0.8, 0.9, 0.7, 0.85],
            1.0,
        )
        q_mult = np.where(polarity_neg, 0.9, q_mult)
        x.quality = base_q * q_mult
        cat_like = np.array([0.045, 0.05, 0.04, 0.04, 0.035, 0.03, 0.05, 0.035, 0.03, 0.06])
        cat_coll = np.array([0.030, 0.028, 0.02, 0.03, 0.022, 0.015, 0.02, 0.03, 0.025, 0.015])
        cat_comm = np.array([0.006, 0.006, 0.009, 0.006, 0.005, 0.007, 0.004, 0.005, 0.008, 0.009])
        cat_shr = np.array([0.002, 0.002, 0.004, 0.005, 0.002, 0.003, 0.002, 0.003, 0.003, 0.004])
        jit = crng.lognormal(0.0, 0.25, (4, n))
        x.p_like = cat_like[cat_of] * jit[0]
        x.p_collect = cat_coll[cat_of] * jit[1]
        x.p_comment = cat_comm[cat_of] * jit[2]
        x.p_share = cat_shr[cat_of] * jit[3]
        x.reach = np.clip(crng.lognormal(np.log(0.12), 0.5, n), 0.01, 0.6)
        x.pool_hours = np.clip(crng.lognormal(np.log(3.0), 0.4, n), 1.0, 12.0)
        x.search = crng.lognormal(np.log(0.6), 0.8, n)
        # viral genuine posts: strong engagement and a recommendation-driven second peak
        viral = viral & (kind == GENUINE)
        x.viral = viral
        x.quality = np.where(
            viral, np.maximum(x.quality, 1.0) * crng.uniform(1.6, 2.4, n), x.quality
        )
        x.viral_hour = crng.integers(20, 62, n)
        x.viral_amp = crng.lognormal(np.log(1500), 0.8, n)
        x.viral_width = crng.uniform(3, 10, n)
        # organic double peak for some posts (followers first, then the public feed)
        dbl = (kind != BOUGHT) & ~viral & (crng.random(n) < 0.06)
        x.viral = x.viral | dbl
        x.viral_amp = np.where(dbl, crng.lognormal(np.log(60), 0.7, n), x.viral_amp)
        x.viral_hour = np.where(dbl, crng.integers(10, 40, n), x.viral_hour)
        # legitimate paid boost of disclosed partnerships
        x.boost = disclosed & (crng.random(n) < hc.disclosed_boost_share)
        x.boost_start = crng.integers(0, 12, n)
        x.boost_len = crng.integers(6, 30, n)
        x.boost_rate = crng.lognormal(np.log(150), 0.7, n)
        # farm likes on fake-account posts
        fa = kind == FAKE_POST
        x.farm_likes = np.where(fa & (crng.random(n) < 0.6), crng.integers(3, 25, n), 0)
        # bought exposure: one or two manipulation modes, some subtle
        bt = kind == BOUGHT
        modes = np.full(n, "", dtype=object)
        if bt.any():
            subtle = crng.random(n) < cfg.exposure.subtle_bought_share
            amp = np.where(subtle, crng.uniform(0.15, 0.4, n), 1.0)
            primary = crng.choice(4, size=n, p=[0.28, 0.25, 0.2, 0.27])
            second = np.where(crng.random(n) < 0.3, crng.choice(4, size=n), -1)

            def has(m):
                return bt & ((primary == m) | (second == m))

            x.plateau = has(0)
            x.plateau_start = crng.integers(1, 30, n)
            x.plateau_len = crng.integers(6, 25, n)
            x.plateau_level = crng.lognormal(np.log(250), 0.8, n) * amp
            x.burst = has(1)
            x.burst_hour = crng.integers(0, 40, n)
            x.burst_likes = np.rint(crng.lognormal(np.log(150), 0.8, n) * amp).astype(np.int64) + 5
            x.burst_collects = np.rint(x.burst_likes * crng.uniform(0.2, 0.7, n)).astype(np.int64)
            x.drip = has(2)
            x.drip_start = crng.integers(0, 10, n)
            x.drip_len = crng.integers(24, 64, n)
            x.drip_like = np.maximum(np.rint(crng.uniform(2, 9, n) * amp), 1)
            x.drip_imp = np.where(crng.random(n) < 0.6, np.rint(crng.uniform(20, 120, n) * amp), 0)
            x.pretier = has(3)
            x.pretier_mult = crng.uniform(0.05, 0.15, n) * np.where(subtle, 0.5, 1.0)
            x.pretier_max_tier = crng.integers(1, 4, n)
            for m, name in enumerate(("plateau", "like_burst", "drip", "pre_tier")):
                sel = has(m)
                modes[sel] = [f"{v}|{name}" if v else name for v in modes[sel]]
            modes[bt & subtle] = [f"{v}|subtle" for v in modes[bt & subtle]]
        curves = simulate(crng, x, cfg.exposure)
        H = cfg.exposure.hours
        imp_total = curves["impressions"].sum(axis=1)

        # ---- what the export saw: cut curves
        frng = rng_for(cfg.seed, STREAM_FEEDBACK, d)
        hours_seen = np.clip((t_exp - t) // 3600, 0, H)
        cut = frng.random(n) < cfg.exposure.random_cut_share
        hours_seen = np.where(cut, np.minimum(hours_seen, frng.integers(4, H, n)), hours_seen)

        # ---- reports
        rc = cfg.reports
        lam = (
            np.select(
                [kind == FAKE_POST, kind == PAID, kind == BOUGHT, disclosed, kind == LAUNCH],
                [
                    rc.fake_account,
                    rc.paid_intermediary,
                    rc.bought_exposure,
                    rc.disclosed,
                    rc.launch,
                ],
                rc.genuine,
            )
            + rc.per_1k_impressions * imp_total / 1000.0
        )
        n_rep = frng.poisson(lam)
        brigade = (kind == GENUINE) & (frng.random(n) < hc.report_brigade_share)
        n_brig = np.where(brigade, frng.integers(5, 16, n), 0)
        rep_post = np.repeat(np.arange(n), n_rep)
        # a report comes from a viewer: its hour follows the impression curve
        cum = np.cumsum(curves["impressions"], axis=1).astype(float)
        tot = cum[:, -1]
        u = frng.random(len(rep_post))
        hr = np.empty(len(rep_post), dtype=np.int64)
        for i_rep, (pi, uu) in enumerate(zip(rep_post.tolist(), u.tolist(), strict=True)):
            if tot[pi] > 0:
                hr[i_rep] = int(np.searchsorted(cum[pi], uu * tot[pi], side="right"))
            else:
                hr[i_rep] = int(uu * 24)
        hr = np.minimum(hr, H - 1)
        rep_t = t[rep_post] + hr * 3600 + frng.integers(60, 3600, len(rep_post))
        rep_reason = self._reasons(frng, kind[rep_post], disclosed[rep_post])
        b_post = np.repeat(np.arange(n), n_brig)
        b_start = t + frng.integers(2, 30, n) * 3600
        b_t = b_start[b_post] + frng.integers(0, 5400, len(b_post))
        b_reason = np.where(frng.random(len(b_post)) < 0.75, "fake_review", "spam").astype(object)
        all_post = np.concatenate([rep_post, b_post])
        all_t = np.concatenate([rep_t, b_t])
        all_reason = np.concatenate([rep_reason, b_reason])
        seen = all_t < t_exp
        all_post, all_t, all_reason = all_post[seen], all_t[seen], all_reason[seen]
        order = np.lexsort((all_post, all_t))
        all_post, all_t, all_reason = all_post[order], all_t[order], all_reason[order]
        report_count = np.bincount(all_post, minlength=n)
        first_report = np.full(n, np.iinfo(np.int64).max)
        np.minimum.at(first_report, all_post, all_t)

        # ---- truth
        label = np.isin(kind, (FAKE_POST, PAID, BOUGHT)).astype(np.int8)
        fraud = np.array([FRAUD_TYPES.get(int(k), "") for k in kind], dtype=object)
        hard = np.full(n, "", dtype=object)
        hard[(label == 0) & (report_count > 0) & (kind != COVER)] = "reported_genuine"
        hard[viral] = "viral_genuine"
        hard[kind == LAUNCH] = "launch_burst"
        hard[disclosed] = "disclosed_partnership"

        # ---- the review queue (labels): biased to reported and flagged-looking posts
        rv = cfg.review
        cues = np.array(
            [
                min(len(_CUE_RE.findall(tt + " " + bb)), 3)
                for tt, bb in zip(titles, bodies, strict=True)
            ]
        ) + np.array([len(x) > 0 for x in tags])
        cues = np.minimum(cues, 3)
        anomaly = self._curve_anomaly(curves)
        p_rev = rv.base + rv.per_flag * cues + rv.curve_flag * anomaly
        p_rev = np.where(report_count > 0, np.maximum(p_rev, rv.reported), p_rev)
        p_rev = np.clip(p_rev, 0, 0.98)
        delay = np.clip(frng.lognormal(np.log(12), 0.9, n), rv.delay_hours.min, rv.delay_hours.max)
        start_rev = np.where(report_count > 0, np.maximum(first_report, t), t)
        labelled_at = start_rev + (delay * 3600).astype(np.int64)
        reviewed = (frng.random(n) < p_rev) & (labelled_at < t_exp)
        flip = reviewed & (frng.random(n) < rv.label_noise)
        seen_label = np.where(flip, 1 - label, label).astype(np.int8)
        mix = cfg.fraud_mix.normalised()
        wrong_type = frng.choice(list(mix), size=n, p=list(mix.values()))
        seen_fraud = np.where(seen_label == 1, np.where(flip, wrong_type, fraud), "").astype(object)

        # ---- accounts snapshot at export time
        authors = np.unique(acc)
        snap_followers = pop.followers_at(authors, t_exp)
        snap_following = pop.following_at(authors, t_exp)
        snap_posts = self.posts_total(authors, t_exp)

        # ---- tables
        base_us = self.t0 * _US
        pid = np.array(post_id, dtype=object)
        tables: dict[str, pa.Table] = {}
        tables["posts"] = pa.table(
            {
                "post_id": pa.array(post_id, pa.string()),
                "account_id": pa.array(pop.account_id[acc].tolist(), pa.string()),
                "published_at": pa.array(base_us + t * _US, _TS),
                "title": pa.array(titles, pa.string()),
                "body": pa.array(bodies, pa.string()),
                "brand_tags": pa.array(tags, pa.list_(pa.string())),
                "disclosed_partnership": pa.array(disclosed, pa.bool_()),
                "image_count": pa.array(images, pa.int32()),
            },
            schema=SCHEMAS["posts"],
        )
        a_order = np.argsort(pop.account_id[authors].astype(str), kind="stable")
        authors, snap_followers, snap_following, snap_posts = (
            authors[a_order],
            snap_followers[a_order],
            snap_following[a_order],
            snap_posts[a_order],
        )
        tables["accounts"] = pa.table(
            {
                "account_id": pa.array(pop.account_id[authors].tolist(), pa.string()),
                "created_at": pa.array(
                    base_us + np.rint(pop.created_at[authors]).astype(np.int64) * _US, _TS
                ),
                "followers": pa.array(snap_followers, pa.int64()),
                "following": pa.array(snap_following, pa.int64()),
                "posts_total": pa.array(snap_posts, pa.int64()),
                "verified": pa.array(pop.verified[authors], pa.bool_()),
                "is_brand": pa.array(pop.kind[authors] == BRAND, pa.bool_()),
                "device_cluster": pa.array(pop.device[authors].tolist(), pa.string()),
                "bio": pa.array([pop.bio[i] for i in authors.tolist()], pa.string()),
            },
            schema=SCHEMAS["accounts"],
        )
        mask = np.arange(H)[None, :] < hours_seen[:, None]
        rows_post, rows_hour = np.nonzero(mask)
        exp_cols = {
            "post_id": pa.DictionaryArray.from_arrays(
                pa.array(rows_post.astype(np.int32)), pa.array(post_id, pa.string())
            ).cast(pa.string()),
            "hour": pa.array(rows_hour.astype(np.int32), pa.int32()),
        }
        for c_name in COUNTS:
            exp_cols[c_name] = pa.array(curves[c_name][mask], pa.int32())
        tables["exposure"] = pa.table(exp_cols, schema=SCHEMAS["exposure"])
        tables["reports"] = pa.table(
            {
                "post_id": pa.array(pid[all_post].tolist(), pa.string()),
                "reported_at": pa.array(base_us + all_t * _US, _TS),
                "reason": pa.array(all_reason.tolist(), pa.string()),
            },
            schema=SCHEMAS["reports"],
        )
        tables["brands"] = brands_table()
        rv_idx = np.flatnonzero(reviewed)
        tables["labels"] = pa.table(
            {
                "post_id": pa.array(pid[rv_idx].tolist(), pa.string()),
                "label": pa.array(seen_label[rv_idx], pa.int8()),
                "labelled_at": pa.array(base_us + labelled_at[rv_idx] * _US, _TS),
                "fraud_type": pa.array(seen_fraud[rv_idx].tolist(), pa.string()),
                "hard_case": pa.array(hard[rv_idx].tolist(), pa.string()),
            },
            schema=SCHEMAS["labels"],
        )

        def ev_id(kind_value, items, attr):
            return [
                getattr(items[int(e)], attr) if k == kind_value else ""
                for k, e in zip(kind.tolist(), event.tolist(), strict=True)
            ]

        camp_ids = ev_id(PAID, plan.campaigns, "campaign_id")
        inter_ids = [
            pop.intermediaries[plan.campaigns[int(e)].intermediary].intermediary_id
            if k == PAID
            else ""
            for k, e in zip(kind.tolist(), event.tolist(), strict=True)
        ]
        farm_ids = [
            pop.farms[int(e)].farm_id if k in (FAKE_POST, COVER) else ""
            for k, e in zip(kind.tolist(), event.tolist(), strict=True)
        ]
        truth = pa.table(
            {
                "post_id": pa.array(post_id, pa.string()),
                "account_id": pa.array(pop.account_id[acc].tolist(), pa.string()),
                "label": pa.array(label, pa.int8()),
                "fraud_type": pa.array(fraud.tolist(), pa.string()),
                "hard_case": pa.array(hard.tolist(), pa.string()),
                "kind": pa.array([KIND_NAMES[k] for k in kind.tolist()], pa.string()),
                "category": pa.array([CATEGORIES[c] for c in cat_of.tolist()], pa.string()),
                "brand_id": pa.array(
                    [BRANDS[b].brand_id if b >= 0 else "" for b in brand_of.tolist()], pa.string()
                ),
                "campaign_id": pa.array(camp_ids, pa.string()),
                "intermediary_id": pa.array(inter_ids, pa.string()),
                "launch_id": pa.array(ev_id(LAUNCH, plan.launches, "launch_id"), pa.string()),
                "farm_id": pa.array(farm_ids, pa.string()),
                "heavy_paraphrase": pa.array(heavy, pa.bool_()),
                "bought_modes": pa.array(modes.tolist(), pa.string()),
                "author_is_fake": pa.array(pop.kind[acc] == FAKE, pa.bool_()),
                "reviewed": pa.array(reviewed, pa.bool_()),
                "label_flipped": pa.array(flip, pa.bool_()),
                "report_count": pa.array(report_count.astype(np.int32), pa.int32()),
                "hours_seen": pa.array(hours_seen.astype(np.int32), pa.int32()),
                "impressions_72h": pa.array(imp_total.astype(np.int64), pa.int64()),
            },
            schema=SCHEMAS["_truth"],
        )
        date = self.cfg.start_date + dt.timedelta(days=d)
        exported_at = dt.datetime.fromtimestamp(self.t0 + t_exp, dt.UTC)
        return DayExport(date=date, exported_at=exported_at, tables=tables, truth=truth, hours=H)

    @staticmethod
    def _reasons(rng, kinds: np.ndarray, disclosed: np.ndarray) -> np.ndarray:
        m = len(kinds)
        probs = np.empty((m, 4))
        probs[:] = (0.25, 0.15, 0.20, 0.40)  # genuine
        probs[disclosed] = (0.20, 0.40, 0.15, 0.25)
        probs[kinds == FAKE_POST] = (0.45, 0.25, 0.20, 0.10)
        probs[kinds == PAID] = (0.35, 0.45, 0.10, 0.10)
        probs[kinds == BOUGHT] = (0.40, 0.25, 0.20, 0.15)
        cum = probs.cumsum(axis=1)
        u = rng.random(m)[:, None]
        idx = np.minimum((u > cum).sum(axis=1), 3)
        return np.array(REASONS, dtype=object)[idx]

    @staticmethod
    def _curve_anomaly(curves: dict[str, np.ndarray]) -> np.ndarray:
        """What a reviewer's dashboard would flag: likes with no views, flat traffic."""
        imp = curves["impressions"].astype(float)
        lik = curves["likes"].astype(float)
        burst = ((lik >= 20) & (lik > 0.5 * (imp + 1))).any(axis=1)
        win = imp[:, 6:30]
        mean = win.mean(axis=1)
        flat = (mean > 40) & (win.std(axis=1) < 0.12 * mean)
        return (burst | flat).astype(float)


def brands_table() -> pa.Table:
    return pa.table(
        {
            "brand_id": pa.array([b.brand_id for b in BRANDS], pa.string()),
            "name": pa.array([b.name for b in BRANDS], pa.string()),
            "aliases": pa.array([list(b.aliases) for b in BRANDS], pa.list_(pa.string())),
        },
        schema=SCHEMAS["brands"],
    )


@dataclass
class DayExport:
    """One day's export, in memory."""

    date: dt.date
    exported_at: dt.datetime
    tables: dict[str, pa.Table]
    truth: pa.Table
    hours: int = 72

    def frames(self) -> dict:
        """The tables (and ``_truth``) as pandas DataFrames."""
        out = {name: t.to_pandas() for name, t in self.tables.items()}
        out["_truth"] = self.truth.to_pandas()
        return out

    def summary(self) -> dict:
        posts = self.tables["posts"].num_rows
        label = np.asarray(self.truth.column("label"))
        hours = np.asarray(self.truth.column("hours_seen"))
        return {
            "date": self.date.isoformat(),
            "posts": posts,
            "fake": int(label.sum()),
            "fake_share": round(float(label.mean()) if posts else 0.0, 4),
            "accounts": self.tables["accounts"].num_rows,
            "exposure_rows": self.tables["exposure"].num_rows,
            "cut_short": int((hours < self.hours).sum()),
            "reports": self.tables["reports"].num_rows,
            "labels": self.tables["labels"].num_rows,
        }
