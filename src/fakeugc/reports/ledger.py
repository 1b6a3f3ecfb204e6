"""The brand violation ledger: confirmed verdicts → violations → points → action.

Violations come only from analysts' *confirmed* verdicts (``fakeugc review``),
never straight from the model. A confirmed post costs each brand it is tagged
with one violation, once: ``violations`` has ``UNIQUE (brand_id, post_id)``, so
recording it again, syncing again, or rescoring the same night never deducts
twice. A post carrying the platform's partnership label
(``disclosed_partnership`` true) is a declared, authorised promotion: its
violation is recorded as ``exempt``, with that reason, and costs nothing. A
verdict later changed to *clear* revokes the post's violations (kept, marked
``revoked``); confirming it again reinstates them. Every change is written to
the audit log with who, when, which post and which model version.

Points and actions are not stored: :func:`brand_statuses` computes them from
the active violations with the rules in ``pipelines/brand_points.yaml``
(:class:`BrandPointsRules`), so a rule change re-rates every brand without
touching the record.
"""

from __future__ import annotations

import sqlite3
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from pathlib import Path

import pandas as pd
import yaml
from pydantic import BaseModel, ConfigDict, Field, model_validator

from fakeugc.reports import store as S
from fakeugc.settings import get_settings

RULES_FILE = "brand_points.yaml"


class Tier(BaseModel):
    """An action the platform takes once a brand's points fall to ``at_or_below``."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    name: str = Field(min_length=1)
    at_or_below: int
    action: str = Field(min_length=1)
    #: how long the action lasts from the violation that triggered it (0: a one-off notice)
    days: int = Field(ge=0)


def _default_tiers() -> list[Tier]:
    return [
        Tier(name="warning", at_or_below=8, action="notice to the brand", days=0),
        Tier(
            name="throttle_brand_notes",
            at_or_below=6,
            action="7-day throttling of the brand's notes",
            days=7,
        ),
        Tier(
            name="throttle_search",
            at_or_below=4,
            action="7-day throttling in non-brand search",
            days=7,
        ),
        Tier(name="suspension", at_or_below=2, action="28-day suspension", days=28),
        Tier(name="ban", at_or_below=0, action="ban until a remediation review", days=28),
    ]


class BrandPointsRules(BaseModel):
    """``pipelines/brand_points.yaml``: start points, cost per violation, window, tiers."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    start_points: int = Field(default=10, gt=0)
    points_per_violation: int = Field(default=2, gt=0)
    #: a violation counts for this many days after it was recorded; None: forever
    window_days: int | None = Field(default=365, gt=0)
    tiers: list[Tier] = Field(default_factory=_default_tiers, min_length=1)

    @model_validator(mode="after")
    def _check_tiers(self) -> BrandPointsRules:
        names = [t.name for t in self.tiers]
        if len(set(names)) != len(names):
            raise ValueError(f"tier names must be unique: {names}")
        levels = [t.at_or_below for t in self.tiers]
        if len(set(levels)) != len(levels) or levels != sorted(levels, reverse=True):
            raise ValueError(
                f"tiers must be listed from mildest to most severe with strictly decreasing "
                f"at_or_below, got {levels}"
            )
        if levels[0] >= self.start_points:
            raise ValueError(
                f"the mildest tier (at_or_below={levels[0]}) must be below start_points "
                f"({self.start_points}), or every brand would start sanctioned"
            )
        return self

    def points_after(self, n_violations: int) -> int:
        return max(self.start_points - self.points_per_violation * n_violations, 0)

    def tier_for(self, points: int) -> Tier | None:
        """The most severe tier reached by ``points`` (None: no action)."""
        reached = [t for t in self.tiers if points <= t.at_or_below]
        return reached[-1] if reached else None


def default_rules_path() -> Path:
    return get_settings().pipelines / RULES_FILE


def load_rules(path: str | Path | None = None) -> BrandPointsRules:
    """Read and validate the rules. With no ``path``, ``pipelines/brand_points.yaml``
    of the project, or the built-in defaults (the same figures) when it is absent."""
    if path is None:
        path = default_rules_path()
        if not path.is_file():
            return BrandPointsRules()
    path = Path(path)
    with open(path, encoding="utf-8") as f:
        data = yaml.safe_load(f) or {}
    if not isinstance(data, dict):
        raise ValueError(f"{path}: expected a mapping of rules")
    return BrandPointsRules.model_validate(data)


# --------------------------------------------------------------------------- recording

EXEMPT_REASON = (
    "declared partnership (disclosed_partnership = true): an authorised, labelled "
    "promotion is legitimate; recorded for the audit, costs no points"
)


def _active_reason(v: dict) -> str:
    return (
        f"confirmed by {v['reviewer']} at {v['at']}: unauthorised commercial promotion "
        f"(no partnership label)"
    )


def reconcile_post(
    conn: sqlite3.Connection, post_id: str, *, actor: str, at: datetime | str | None = None
) -> list[dict]:
    """Bring the post's violations in line with its current verdict.

    Returns the changes made (empty when the ledger already agrees: rerunning
    is a no-op). Runs in one transaction.
    """
    at_s = S.iso(at or S.utcnow())
    changes: list[dict] = []
    with S.transaction(conn):
        v = S.get_verdict(conn, post_id)
        if v is None:
            return changes
        existing = {
            r["brand_id"]: dict(r)
            for r in conn.execute("SELECT * FROM violations WHERE post_id = ?", (post_id,))
        }
        brands = list(dict.fromkeys(b for b in v["brand_ids"] if b))
        meta = {"model_version": v.get("model_version"), "export_date": v.get("export_date")}

        def change(action: str, brand: str, status: str, reason: str, previous: str | None):
            changes.append(
                {
                    "action": action,
                    "brand_id": brand,
                    "post_id": post_id,
                    "status": status,
                    "previous_status": previous,
                }
            )
            S.audit(
                conn,
                actor=actor,
                action=action,
                at=at_s,
                post_id=post_id,
                brand_id=brand,
                details={
                    "status": status,
                    "previous_status": previous,
                    "reason": reason,
                    "verdict": v["verdict"],
                    "reviewer": v["reviewer"],
                    "verdict_at": v["at"],
                    "account_id": v.get("account_id"),
                    "model_name": v.get("model_name"),
                },
                **meta,
            )

        if v["verdict"] == "confirm":
            exempt = bool(v.get("disclosed_partnership"))
            status = "exempt" if exempt else "active"
            reason = EXEMPT_REASON if exempt else _active_reason(v)
            for b in brands:
                old = existing.get(b)
                if old is None:
                    conn.execute(
                        "INSERT INTO violations (brand_id, post_id, status, reason, recorded_at, "
                        "recorded_by, updated_at, updated_by, model_name, model_version, "
                        "account_id, export_date) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?, ?) "
                        "ON CONFLICT (brand_id, post_id) DO NOTHING",
                        (
                            b,
                            post_id,
                            status,
                            reason,
                            at_s,
                            actor,
                            at_s,
                            actor,
                            v.get("model_name"),
                            v.get("model_version"),
                            v.get("account_id"),
                            v.get("export_date"),
                        ),
                    )
                    change(
                        "violation_exempt" if exempt else "violation_recorded",
                        b,
                        status,
                        reason,
                        None,
                    )
                elif old["status"] != status:
                    conn.execute(
                        "UPDATE violations SET status = ?, reason = ?, updated_at = ?, "
                        "updated_by = ? WHERE id = ?",
                        (status, reason, at_s, actor, old["id"]),
                    )
                    change(
                        "violation_exempt" if exempt else "violation_reinstated",
                        b,
                        status,
                        reason,
                        old["status"],
                    )
            stale = [b for b in existing if b not in brands]
        else:
            stale = list(existing)
        for b in stale:
            old = existing[b]
            if old["status"] == "revoked":
                continue
            reason = (
                f"verdict cleared by {v['reviewer']} at {v['at']}"
                if v["verdict"] == "clear"
                else "brand no longer on the confirmed post"
            )
            conn.execute(
                "UPDATE violations SET status = 'revoked', reason = ?, updated_at = ?, "
                "updated_by = ? WHERE id = ?",
                (reason, at_s, actor, old["id"]),
            )
            change("violation_revoked", b, "revoked", reason, old["status"])
    return changes


def sync(
    store_path: str | Path | None = None,
    *,
    actor: str = "fakeugc-ledger-sync",
    at: datetime | str | None = None,
) -> dict:
    """Turn every confirmed verdict into violations (and cleared ones into revocations).

    Idempotent: a second run changes nothing. Returns counts of what changed.
    """
    conn = S.connect(store_path)
    try:
        counts = {
            "verdicts": 0,
            "violation_recorded": 0,
            "violation_exempt": 0,
            "violation_reinstated": 0,
            "violation_revoked": 0,
        }
        post_ids = [r[0] for r in conn.execute("SELECT post_id FROM verdicts ORDER BY at, post_id")]
        for pid in post_ids:
            counts["verdicts"] += 1
            for c in reconcile_post(conn, pid, actor=actor, at=at):
                counts[c["action"]] += 1
        return counts
    finally:
        conn.close()


# --------------------------------------------------------------------------- reading


@dataclass
class BrandStatus:
    brand_id: str
    points: int
    start_points: int
    violations: int  # active violations inside the window (the ones that cost points)
    active_total: int  # all active violations, also those older than the window
    exempt: int  # declared partnerships confirmed by analysts (no points)
    revoked: int
    tier: str | None  # None: no action
    action: str
    since: str | None  # when the tier was reached
    until: str | None  # since + tier days
    in_force: bool
    last_violation_at: str | None
    last_post_id: str | None
    last_model_version: str | None

    def as_dict(self) -> dict:
        return asdict(self)


def _ts(s: str) -> pd.Timestamp:
    t = pd.Timestamp(s)
    return t.tz_convert("UTC") if t.tzinfo else t.tz_localize("UTC")


def brand_statuses(
    conn: sqlite3.Connection,
    rules: BrandPointsRules,
    as_of: datetime | str | None = None,
    brand_id: str | None = None,
) -> list[BrandStatus]:
    """Points and action of every brand in the ledger (or one), as of ``as_of`` (now).

    Sorted by points (lowest first), then brand.
    """
    now = _ts(S.iso(as_of or S.utcnow()))
    q = "SELECT * FROM violations"
    params: tuple = ()
    if brand_id is not None:
        q += " WHERE brand_id = ?"
        params = (brand_id,)
    q += " ORDER BY brand_id, recorded_at, id"
    by_brand: dict[str, list[dict]] = {}
    for r in conn.execute(q, params):
        by_brand.setdefault(r["brand_id"], []).append(dict(r))
    window = timedelta(days=rules.window_days) if rules.window_days else None
    out = []
    for brand, rows in by_brand.items():
        active = [r for r in rows if r["status"] == "active" and _ts(r["recorded_at"]) <= now]
        counted = [r for r in active if window is None or _ts(r["recorded_at"]) > now - window]
        points = rules.points_after(len(counted))
        tier = rules.tier_for(points)
        since = until = None
        in_force = False
        if tier is not None:
            for i, r in enumerate(counted, start=1):
                if rules.points_after(i) <= tier.at_or_below:
                    since = r["recorded_at"]
                    break
            if since is not None:
                end = _ts(since) + timedelta(days=tier.days)
                until = S.iso(end)
                in_force = tier.days == 0 or now < end
        last = counted[-1] if counted else None
        out.append(
            BrandStatus(
                brand_id=brand,
                points=points,
                start_points=rules.start_points,
                violations=len(counted),
                active_total=len(active),
                exempt=sum(r["status"] == "exempt" for r in rows),
                revoked=sum(r["status"] == "revoked" for r in rows),
                tier=tier.name if tier else None,
                action=tier.action if tier else "none",
                since=since,
                until=until,
                in_force=in_force,
                last_violation_at=last["recorded_at"] if last else None,
                last_post_id=last["post_id"] if last else None,
                last_model_version=last["model_version"] if last else None,
            )
        )
    out.sort(key=lambda s: (s.points, s.brand_id))
    return out


def read_ledger(
    store_path: str | Path | None = None,
    rules: BrandPointsRules | None = None,
    as_of: datetime | str | None = None,
) -> dict[str, BrandStatus] | None:
    """Every brand's status, read-only; ``None`` when there is no store yet (the report
    then says so instead of creating one)."""
    conn = S.connect_readonly(store_path)
    if conn is None:
        return None
    try:
        rules = rules or load_rules()
        return {s.brand_id: s for s in brand_statuses(conn, rules, as_of)}
    finally:
        conn.close()


def violations(conn: sqlite3.Connection, brand_id: str | None = None) -> list[dict]:
    q = "SELECT * FROM violations"
    params: tuple = ()
    if brand_id is not None:
        q += " WHERE brand_id = ?"
        params = (brand_id,)
    return [dict(r) for r in conn.execute(q + " ORDER BY recorded_at, id", params)]


def history(conn: sqlite3.Connection, brand_id: str) -> list[dict]:
    """The brand's audit trail: its violations' changes and the verdicts behind them."""
    return S.audit_entries(conn, brand_id=brand_id)
