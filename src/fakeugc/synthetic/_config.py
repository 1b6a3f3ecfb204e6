"""The knobs of the synthetic platform, as one pydantic model.

Every rate, size and count the generator uses lives here with its default;
``pipelines/generate.yaml`` holds the same defaults. Unknown keys are errors at
every level (``extra="forbid"``), so a typo in the YAML file fails loudly
instead of being ignored.
"""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

from pydantic import BaseModel, ConfigDict, Field, model_validator

from fakeugc.settings import read_yaml_mapping


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class IntRange(_Strict):
    """An inclusive integer range ``[min, max]``."""

    min: int = Field(ge=0)
    max: int = Field(ge=0)

    @model_validator(mode="after")
    def _ordered(self) -> IntRange:
        if self.max < self.min:
            raise ValueError(f"max ({self.max}) < min ({self.min})")
        return self


class FraudMix(_Strict):
    """Relative shares of the three fraud types among fake posts (normalised)."""

    fake_account: float = Field(0.40, ge=0)
    paid_intermediary: float = Field(0.35, ge=0)
    bought_exposure: float = Field(0.25, ge=0)

    @model_validator(mode="after")
    def _positive(self) -> FraudMix:
        if self.fake_account + self.paid_intermediary + self.bought_exposure <= 0:
            raise ValueError("fraud_mix: at least one share must be > 0")
        return self

    def normalised(self) -> dict[str, float]:
        total = self.fake_account + self.paid_intermediary + self.bought_exposure
        return {
            "fake_account": self.fake_account / total,
            "paid_intermediary": self.paid_intermediary / total,
            "bought_exposure": self.bought_exposure / total,
        }


class PopulationConfig(_Strict):
    """The account population."""

    #: mean posts per genuine account per day (heavy-tailed across accounts)
    posts_per_account_day: float = Field(0.26, gt=0)
    #: log-sd of the per-account posting rate
    activity_sigma: float = Field(1.0, ge=0)
    #: share of accounts that are fake (farm) accounts
    fake_account_share: float = Field(0.04, ge=0, le=0.5)
    #: accounts per farm (a farm shares one or two device clusters)
    farm_size: IntRange = IntRange(min=3, max=12)
    #: share of fake accounts that were bought aged (old created_at, dormant history)
    aged_fake_share: float = Field(0.20, ge=0, le=1)
    #: share of farms posting at night (01:00-05:00 Beijing time)
    night_farm_share: float = Field(0.35, ge=0, le=1)
    #: share of fake-account posts that are lifestyle "cover" posts (no brand; label 0)
    cover_post_share: float = Field(0.15, ge=0, le=0.9)
    #: official brand accounts (is_brand, verified); at most one per brand
    brand_accounts: int = Field(16, ge=0)
    #: share of genuine accounts that are creators (verified more often, high followers)
    creator_share: float = Field(0.02, ge=0, le=0.5)
    #: share of genuine accounts that share a device cluster with one other (family)
    shared_device_share: float = Field(0.03, ge=0, le=0.5)
    #: median followers of ordinary genuine accounts
    followers_median: float = Field(180.0, gt=0)
    #: share of ordinary accounts that buy exposure (repeat customers of click farms)
    exposure_buyer_share: float = Field(0.03, ge=0, le=0.5)


class CampaignConfig(_Strict):
    """Paid-intermediary campaigns (代写代发 through a roster of real accounts)."""

    #: intermediaries (agencies); each has a roster and serves several brands
    intermediaries: int = Field(6, ge=1)
    #: real, established accounts in each intermediary's roster
    roster_size: IntRange = IntRange(min=40, max=160)
    #: posts (= distinct accounts) per campaign
    posts: IntRange = IntRange(min=10, max=60)
    #: campaign window in days
    days: IntRange = IntRange(min=1, max=5)
    #: share of a campaign's accounts drawn from the roster (the rest are one-off recruits)
    roster_share: float = Field(0.7, ge=0, le=1)
    #: share of posts paraphrased heavily enough to defeat near-duplicate matching
    heavy_paraphrase_share: float = Field(0.30, ge=0, le=1)
    #: brands each intermediary serves
    brands_per_intermediary: IntRange = IntRange(min=3, max=8)
    #: share of campaign posts that tag the brand (the rest mention it in text only)
    tag_share: float = Field(0.75, ge=0, le=1)


class HardCaseConfig(_Strict):
    """Genuine posts that look like fakes."""

    #: share of creator posts carrying the platform's partnership label
    creator_disclosed_share: float = Field(0.30, ge=0, le=1)
    #: share of ordinary genuine posts carrying it (small creators with a deal)
    ordinary_disclosed_share: float = Field(0.006, ge=0, le=1)
    #: share of disclosed posts that also get legitimate paid boosting (smooth extra traffic)
    disclosed_boost_share: float = Field(0.30, ge=0, le=1)
    #: product launches per 30 days (each a burst of organic posts about one brand)
    launches_per_30_days: float = Field(6.0, ge=0)
    #: organic posts per launch at 20,000 accounts (scaled with the population)
    launch_posts: IntRange = IntRange(min=25, max=90)
    #: launch burst window in days
    launch_days: IntRange = IntRange(min=1, max=4)
    #: share of genuine posts that go viral (recommendation-driven second peak)
    viral_share: float = Field(0.012, ge=0, le=0.5)
    #: share of genuine posts that receive a bulk (brigading) report attack
    report_brigade_share: float = Field(0.003, ge=0, le=0.5)


class ExposureConfig(_Strict):
    """Hourly exposure curves."""

    #: hours of curve per post
    hours: int = Field(72, ge=1, le=240)
    #: the day's export is taken this many hours after the day's end; a post
    #: published later than (export time - hours) has a curve cut short
    export_lag_hours: IntRange = IntRange(min=65, max=72)
    #: share of posts whose curve is cut short for other reasons (late partitions)
    random_cut_share: float = Field(0.06, ge=0, le=1)
    #: cumulative-impression size of each traffic pool tier
    tiers: tuple[int, ...] = (100, 400, 2500, 12000, 50000, 200000)
    #: engagement rate needed (median) to be promoted out of each tier
    tier_thresholds: tuple[float, ...] = (0.058, 0.085, 0.115, 0.135, 0.160, 0.180)
    #: engagement multiplier per tier reached (wider pools are colder audiences)
    tier_decay: float = Field(0.85, gt=0, le=1)
    #: spread (log units) of the promotion decision around the threshold
    promotion_spread: float = Field(0.3, gt=0)
    #: share of bought-exposure posts whose manipulation is subtle (small amplitude)
    subtle_bought_share: float = Field(0.30, ge=0, le=1)

    @model_validator(mode="after")
    def _tiers(self) -> ExposureConfig:
        if len(self.tiers) != len(self.tier_thresholds) or not self.tiers:
            raise ValueError("tiers and tier_thresholds must have the same, non-zero length")
        if any(t <= 0 for t in self.tiers):
            raise ValueError("tiers must be positive")
        if self.export_lag_hours.min < self.hours - 24:
            raise ValueError(
                f"export_lag_hours.min ({self.export_lag_hours.min}) < hours - 24 "
                f"({self.hours - 24}): most curves would be cut short"
            )
        return self


class ReportConfig(_Strict):
    """User reports: expected reports per post by group (Poisson means)."""

    genuine: float = Field(0.025, ge=0)
    disclosed: float = Field(0.10, ge=0)
    launch: float = Field(0.05, ge=0)
    fake_account: float = Field(0.32, ge=0)
    paid_intermediary: float = Field(0.16, ge=0)
    bought_exposure: float = Field(0.22, ge=0)
    #: extra reports per 1,000 impressions (more views, more reporters)
    per_1k_impressions: float = Field(0.0005, ge=0)


class ReviewConfig(_Strict):
    """The human-review queue that produces ``labels``."""

    #: review probability of an unreported post with no flag
    base: float = Field(0.31, ge=0, le=1)
    #: review probability of a reported post
    reported: float = Field(0.92, ge=0, le=1)
    #: added per hype / redirection / brand cue (capped at 3 cues)
    per_flag: float = Field(0.09, ge=0, le=1)
    #: added when the curve has an obvious anomaly (like burst, plateau)
    curve_flag: float = Field(0.15, ge=0, le=1)
    #: share of reviewed labels that are wrong (flipped)
    label_noise: float = Field(0.025, ge=0, le=0.5)
    #: review delay after publication (or the first report), hours
    delay_hours: IntRange = IntRange(min=1, max=60)


class GeneratorConfig(_Strict):
    """Everything ``fakeugc generate`` needs. CLI arguments override these."""

    days: int = Field(60, ge=1, le=3650)
    accounts: int = Field(20000, ge=50)
    seed: int = Field(0, ge=0)
    start_date: dt.date = dt.date(2026, 9, 1)
    #: share of all posts that are fake (label 1)
    fake_share: float = Field(0.11, ge=0, le=0.6)
    fraud_mix: FraudMix = FraudMix()
    #: weekday factors Monday..Sunday on posting volume
    weekday_factors: tuple[float, ...] = (0.95, 0.95, 0.97, 0.98, 1.02, 1.08, 1.05)
    population: PopulationConfig = PopulationConfig()
    campaigns: CampaignConfig = CampaignConfig()
    hard_cases: HardCaseConfig = HardCaseConfig()
    exposure: ExposureConfig = ExposureConfig()
    reports: ReportConfig = ReportConfig()
    review: ReviewConfig = ReviewConfig()
    #: write ``_truth.parquet`` (every post's true label, fraud type, hard case,
    #: campaign) next to the tables; the reader ignores it
    write_truth: bool = True

    @model_validator(mode="after")
    def _weekdays(self) -> GeneratorConfig:
        if len(self.weekday_factors) != 7 or any(f <= 0 for f in self.weekday_factors):
            raise ValueError("weekday_factors needs 7 positive numbers (Monday..Sunday)")
        return self

    @property
    def scale(self) -> float:
        """Population relative to the reference 20,000 accounts."""
        return self.accounts / 20000.0



def load_config(path: str | Path | None = None, **overrides: Any) -> GeneratorConfig:
    """Read a YAML config (or the defaults when ``path`` is None) and apply overrides."""
    data: dict[str, Any] = {}
    if path is not None:
        data = read_yaml_mapping(path)
    data.update({k: v for k, v in overrides.items() if v is not None})
    return GeneratorConfig.model_validate(data)
