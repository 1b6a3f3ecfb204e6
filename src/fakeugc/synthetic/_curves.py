"""Hourly exposure curves, simulated for all of a day's posts at once.

The loop runs over the hours (72 by default) and is vectorised over posts. Each
post's organic traffic is the sum of

* its followers' feeds (a power-law kernel over the hours),
* the recommendation traffic pools: a post gets ~100 impressions, is evaluated
  on its engagement rate, and is promoted to ~500, ~3,000, ... or stopped
  (a staircase by design), then decays as a power law,
* search / long-tail traffic,
* for viral posts, a recommendation-driven second peak,

all modulated by the daily cycle of the app in Beijing time. Likes, collects,
comments and shares are drawn per hour from impressions with per-post rates.

Manipulations add to this: bought impression plateaus (flat, no daily cycle),
like/collect bursts without impressions, too-regular drips, engagement bought
just before a tier is evaluated, farm likes in the first hours, and the
legitimate paid boost of disclosed partnerships (smooth extra traffic).
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from fakeugc.synthetic._config import ExposureConfig

#: app activity by Beijing hour (mean 1)
_ACT = np.array(
    [
        0.75,
        0.45,
        0.25,
        0.15,
        0.12,
        0.15,
        0.30,
        0.60,
        0.90,
        1.00,
        1.00,
        1.05,
        1.25,
        1.20,
        1.00,
        0.95,
        0.95,
        1.00,
        1.15,
        1.40,
        1.60,
        1.75,
        1.70,
        1.20,
    ]
)
DIURNAL = _ACT / _ACT.mean()

COUNTS = ("impressions", "likes", "collects", "comments", "shares")


@dataclass
class CurveInputs:
    """Per-post parameters (all arrays of length n)."""

    followers: np.ndarray
    local_hour0: np.ndarray  # Beijing hour of publication, 0..23
    quality: np.ndarray  # multiplies the engagement rates
    p_like: np.ndarray
    p_collect: np.ndarray
    p_comment: np.ndarray
    p_share: np.ndarray
    reach: np.ndarray  # share of followers who see the post
    pool_hours: np.ndarray  # hours a tier takes to deliver
    search: np.ndarray  # long-tail impressions in hour 0
    # viral second peak
    viral: np.ndarray
    viral_hour: np.ndarray
    viral_amp: np.ndarray
    viral_width: np.ndarray
    # legitimate paid boost (disclosed partnerships)
    boost: np.ndarray
    boost_start: np.ndarray
    boost_len: np.ndarray
    boost_rate: np.ndarray
    # bought exposure
    plateau: np.ndarray
    plateau_start: np.ndarray
    plateau_len: np.ndarray
    plateau_level: np.ndarray
    burst: np.ndarray
    burst_hour: np.ndarray
    burst_likes: np.ndarray
    burst_collects: np.ndarray
    drip: np.ndarray
    drip_start: np.ndarray
    drip_len: np.ndarray
    drip_imp: np.ndarray
    drip_like: np.ndarray
    pretier: np.ndarray
    pretier_mult: np.ndarray
    pretier_max_tier: np.ndarray
    # fake-account farm likes in the first hours (no matching impressions)
    farm_likes: np.ndarray
    extra: dict = field(default_factory=dict)


def empty_inputs(n: int) -> CurveInputs:
    """Inputs with every manipulation off and neutral organic parameters."""
    z = np.zeros(n)
    zb = np.zeros(n, dtype=bool)
    zi = np.zeros(n, dtype=np.int64)
    return CurveInputs(
        followers=z.copy(),
        local_hour0=zi.copy(),
        quality=np.ones(n),
        p_like=np.full(n, 0.045),
        p_collect=np.full(n, 0.02),
        p_comment=np.full(n, 0.006),
        p_share=np.full(n, 0.003),
        reach=np.full(n, 0.15),
        pool_hours=np.full(n, 3.0),
        search=np.full(n, 0.5),
        viral=zb.copy(),
        viral_hour=zi.copy(),
        viral_amp=z.copy(),
        viral_width=np.ones(n),
        boost=zb.copy(),
        boost_start=zi.copy(),
        boost_len=zi.copy(),
        boost_rate=z.copy(),
        plateau=zb.copy(),
        plateau_start=zi.copy(),
        plateau_len=zi.copy(),
        plateau_level=z.copy(),
        burst=zb.copy(),
        burst_hour=zi.copy(),
        burst_likes=zi.copy(),
        burst_collects=zi.copy(),
        drip=zb.copy(),
        drip_start=zi.copy(),
        drip_len=zi.copy(),
        drip_imp=z.copy(),
        drip_like=z.copy(),
        pretier=zb.copy(),
        pretier_mult=z.copy(),
        pretier_max_tier=zi.copy(),
        farm_likes=zi.copy(),
    )


def simulate(
    rng: np.random.Generator, x: CurveInputs, cfg: ExposureConfig
) -> dict[str, np.ndarray]:
    """Simulate the hourly increments; returns ``{count: (n, hours) int32 array}``."""
    n = len(x.followers)
    H = cfg.hours
    out = {c: np.zeros((n, H), dtype=np.int32) for c in COUNTS}
    if n == 0:
        return out
    tiers = np.asarray(cfg.tiers, dtype=float)
    thr = np.log(np.asarray(cfg.tier_thresholds, dtype=float))
    K = len(tiers)

    tier = np.zeros(n, dtype=np.int64)
    rem = np.full(n, tiers[0])
    speed = tiers[0] / x.pool_hours
    active = np.ones(n, dtype=bool)
    wait = np.zeros(n, dtype=np.int64)
    tier_imp = np.zeros(n)
    tier_eng = np.zeros(n)
    boosted_tier = np.full(n, -1, dtype=np.int64)
    tail_base = np.zeros(n)
    stop_h = np.zeros(n)

    hh = np.arange(H, dtype=float)
    fol_kernel = (hh + 1.0) ** -1.15
    fol_kernel /= fol_kernel.sum()
    fol_total = x.followers * x.reach
    q = x.quality
    pl, pc, pm, ps = x.p_like * q, x.p_collect * q, x.p_comment * q, x.p_share * q
    pl, pc, pm, ps = (np.clip(a, 0, 0.6) for a in (pl, pc, pm, ps))

    for h in range(H):
        d = DIURNAL[(x.local_hour0 + h) % 24]
        noise = rng.lognormal(0.0, 0.25, n)
        can = active & (wait == 0)
        deliver = np.where(can, np.minimum(rem, speed * d * noise), 0.0)
        rem = rem - deliver
        exhausted = can & (rem <= 1e-6)
        resid = np.where(active & (wait > 0), speed * 0.25 * d, 0.0)
        since = np.maximum(h - stop_h + 1.0, 1.0)
        tail = np.where(~active, tail_base * since**-1.3 * d, 0.0)
        lam = (
            deliver
            + resid
            + tail
            + fol_total * fol_kernel[h] * d
            + x.search * (h + 1.0) ** -0.7 * d
        )
        if x.viral.any():
            lam = lam + np.where(
                x.viral,
                x.viral_amp * np.exp(-0.5 * ((h - x.viral_hour) / x.viral_width) ** 2) * d,
                0.0,
            )
        if x.boost.any():
            on = x.boost & (h >= x.boost_start) & (h < x.boost_start + x.boost_len)
            lam = lam + np.where(on, x.boost_rate * d, 0.0)
        imp_org = rng.poisson(lam)
        # bot impressions: flat, no daily cycle
        bot = np.zeros(n)
        if x.plateau.any():
            on = x.plateau & (h >= x.plateau_start) & (h < x.plateau_start + x.plateau_len)
            bot = bot + np.where(on, x.plateau_level * rng.normal(1.0, 0.03, n), 0.0)
        if x.drip.any():
            on_d = x.drip & (h >= x.drip_start) & (h < x.drip_start + x.drip_len)
            bot = bot + np.where(on_d, x.drip_imp, 0.0)
        else:
            on_d = np.zeros(n, dtype=bool)
        bot_imp = np.rint(np.maximum(bot, 0.0)).astype(np.int64)

        # the wider the pool, the colder the audience: engagement falls with each tier
        f = cfg.tier_decay**tier
        likes = rng.binomial(imp_org, pl * f) + rng.binomial(bot_imp, pl * 0.05)
        collects = rng.binomial(imp_org, pc * f) + rng.binomial(bot_imp, pc * 0.05)
        comments = rng.binomial(imp_org, pm * f)
        shares = rng.binomial(imp_org, ps * f)

        # bought engagement
        if x.burst.any():
            at = x.burst & (x.burst_hour == h)
            likes = likes + np.where(at, x.burst_likes, 0)
            collects = collects + np.where(at, x.burst_collects, 0)
        if x.drip.any():
            jitter = (rng.random(n) < 0.15).astype(np.int64)
            likes = likes + np.where(on_d, np.rint(x.drip_like).astype(np.int64) + jitter, 0)
        if h < 3 and x.farm_likes.any():
            share = (0.5, 0.3, 0.2)[h]
            likes = likes + np.rint(x.farm_likes * share).astype(np.int64)
        if x.pretier.any():
            size = tiers[tier]
            cond = (
                x.pretier
                & active
                & (wait == 0)
                & (rem < 0.45 * size)
                & (boosted_tier != tier)
                & (tier <= x.pretier_max_tier)
            )
            if cond.any():
                add_l = np.rint(size * x.pretier_mult * rng.uniform(0.7, 1.3, n)).astype(np.int64)
                add_c = np.rint(add_l * rng.uniform(0.3, 0.6, n)).astype(np.int64)
                likes = likes + np.where(cond, add_l, 0)
                collects = collects + np.where(cond, add_c, 0)
                comments = comments + np.where(cond, rng.poisson(add_l * 0.05), 0)
                boosted_tier = np.where(cond, tier, boosted_tier)

        imp = imp_org + bot_imp
        out["impressions"][:, h] = imp
        out["likes"][:, h] = likes
        out["collects"][:, h] = collects
        out["comments"][:, h] = comments
        out["shares"][:, h] = shares

        tier_imp += imp
        tier_eng += likes + collects + comments + shares

        # pool evaluation: a tier that ran out waits 1-3 hours, then promote or stop
        counting = (wait > 0) & ~exhausted
        wait = np.where(counting, wait - 1, wait)
        decide = counting & (wait == 0)
        wait = np.where(exhausted, rng.integers(1, 4, n), wait)
        if decide.any():
            er = tier_eng / np.maximum(tier_imp, 1.0)
            logit = (np.log(er + 1e-4) - thr[np.minimum(tier, K - 1)]) / cfg.promotion_spread
            promote = decide & (rng.random(n) < 1.0 / (1.0 + np.exp(-logit))) & (tier < K - 1)
            stop = decide & ~promote
            tier = np.where(promote, tier + 1, tier)
            new_size = tiers[np.minimum(tier, K - 1)]
            rem = np.where(promote, new_size, rem)
            speed = np.where(promote, new_size / (x.pool_hours * (1.0 + 0.35 * tier)), speed)
            tier_imp = np.where(promote, 0.0, tier_imp)
            tier_eng = np.where(promote, 0.0, tier_eng)
            tail_base = np.where(stop, speed * 0.3, tail_base)
            stop_h = np.where(stop, h, stop_h)
            active = active & ~stop
    out["_tier"] = tier
    return out
