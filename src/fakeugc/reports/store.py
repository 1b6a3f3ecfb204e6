"""The analysts' store: verdicts, brand violations and an append-only audit log.

One SQLite file (``get_settings().store_path``; ``$FAKEUGC_STORE`` overrides it)
shared by ``fakeugc review`` (verdicts), ``fakeugc ledger`` (violations) and
``fakeugc train`` (verdicts read back as labels with :func:`verdicts_as_labels`).

Tables
------
``verdicts``   one row per post: its current verdict (``confirm`` / ``clear``),
               who gave it, when, the note, and what the model said (name,
               version, run, probability) with the post's brands, author and
               export date. Changing a verdict updates the row; the previous
               value stays in the audit log.
``violations`` one row per (brand, post), ``UNIQUE``: recording it again never
               deducts twice. ``status`` is ``active`` (costs points),
               ``exempt`` (a declared partnership: legitimate, no points) or
               ``revoked`` (the verdict was later cleared).
``audit_log``  every change: when, who, what, which post and brand, which model
               version, with details as JSON. Triggers refuse UPDATE and DELETE.

Every write happens in one ``BEGIN IMMEDIATE`` transaction, so two reviewers
(or the review page and ``fakeugc ledger sync``) never interleave half-changes.
"""

from __future__ import annotations

import contextlib
import json
import sqlite3
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

import pandas as pd

from fakeugc.settings import get_settings

SCHEMA_VERSION = 1
VERDICTS = ("confirm", "clear")
LABEL_COLUMNS = ["post_id", "label", "labelled_at", "fraud_type", "split"]
#: ``fraud_type`` of a confirmed verdict in the labels shape
CONFIRMED_FRAUD_TYPE = "analyst_confirmed"

_SCHEMA = """
CREATE TABLE IF NOT EXISTS verdicts (
    post_id               TEXT PRIMARY KEY NOT NULL CHECK (post_id <> ''),
    verdict               TEXT NOT NULL CHECK (verdict IN ('confirm', 'clear')),
    note                  TEXT NOT NULL DEFAULT '',
    reviewer              TEXT NOT NULL,
    at                    TEXT NOT NULL,
    model_name            TEXT,
    model_version         TEXT,
    model_run_id          TEXT,
    probability           REAL,
    brand_ids             TEXT NOT NULL DEFAULT '[]',
    account_id            TEXT,
    export_date           TEXT,
    published_at          TEXT,
    disclosed_partnership INTEGER CHECK (disclosed_partnership IN (0, 1))
);
CREATE TABLE IF NOT EXISTS violations (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    brand_id      TEXT NOT NULL CHECK (brand_id <> ''),
    post_id       TEXT NOT NULL CHECK (post_id <> ''),
    status        TEXT NOT NULL CHECK (status IN ('active', 'exempt', 'revoked')),
    reason        TEXT NOT NULL,
    recorded_at   TEXT NOT NULL,
    recorded_by   TEXT NOT NULL,
    updated_at    TEXT NOT NULL,
    updated_by    TEXT NOT NULL,
    model_name    TEXT,
    model_version TEXT,
    account_id    TEXT,
    export_date   TEXT,
    UNIQUE (brand_id, post_id)
);
CREATE INDEX IF NOT EXISTS violations_brand ON violations (brand_id, status, recorded_at);
CREATE TABLE IF NOT EXISTS audit_log (
    id            INTEGER PRIMARY KEY AUTOINCREMENT,
    at            TEXT NOT NULL,
    actor         TEXT NOT NULL,
    action        TEXT NOT NULL,
    post_id       TEXT,
    brand_id      TEXT,
    model_version TEXT,
    export_date   TEXT,
    details       TEXT NOT NULL DEFAULT '{}'
);
CREATE INDEX IF NOT EXISTS audit_brand ON audit_log (brand_id, id);
CREATE INDEX IF NOT EXISTS audit_post ON audit_log (post_id, id);
CREATE TRIGGER IF NOT EXISTS audit_log_no_update BEFORE UPDATE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
CREATE TRIGGER IF NOT EXISTS audit_log_no_delete BEFORE DELETE ON audit_log
BEGIN SELECT RAISE(ABORT, 'audit_log is append-only'); END;
"""


class StoreError(Exception):
    """The store cannot be used (newer schema, bad verdict, unknown post)."""


def resolve_store_path(store_path: str | Path | None = None) -> Path:
    """``store_path`` if given, else ``get_settings().store_path``; always absolute."""
    p = Path(store_path) if store_path is not None else get_settings().store_path
    return p.expanduser().absolute()


def utcnow() -> datetime:
    return datetime.now(UTC)


def iso(ts: datetime | pd.Timestamp | str | None) -> str | None:
    """An ISO-8601 UTC string (``2026-11-24T08:30:00.000000+00:00``)."""
    if ts is None:
        return None
    t = pd.Timestamp(ts)
    if pd.isna(t):
        return None
    t = t.tz_localize("UTC") if t.tzinfo is None else t.tz_convert("UTC")
    return t.isoformat(timespec="microseconds")


def connect(store_path: str | Path | None = None) -> sqlite3.Connection:
    """Open (creating if needed) the store and bring its schema up to date."""
    path = resolve_store_path(store_path)
    path.parent.mkdir(parents=True, exist_ok=True)
    conn = sqlite3.connect(path, timeout=30.0, isolation_level=None, check_same_thread=False)
    conn.row_factory = sqlite3.Row
    conn.execute("PRAGMA busy_timeout = 30000")
    conn.execute("PRAGMA journal_mode = WAL")
    conn.execute("PRAGMA synchronous = FULL")
    version = conn.execute("PRAGMA user_version").fetchone()[0]
    if version > SCHEMA_VERSION:
        conn.close()
        raise StoreError(
            f"{path}: store schema version {version} is newer than this fakeugc "
            f"understands ({SCHEMA_VERSION}); upgrade fakeugc"
        )
    if version < SCHEMA_VERSION:
        try:
            conn.executescript(
                "BEGIN IMMEDIATE;" + _SCHEMA + f"PRAGMA user_version = {SCHEMA_VERSION}; COMMIT;"
            )
        except BaseException:
            if conn.in_transaction:
                conn.execute("ROLLBACK")
            conn.close()
            raise
    return conn


def connect_readonly(store_path: str | Path | None = None) -> sqlite3.Connection | None:
    """Open an existing store read-only; ``None`` when there is no store (nothing recorded yet).

    Never creates the file: a report on a machine without a store shows "no ledger".
    """
    path = resolve_store_path(store_path)
    if not path.is_file():
        return None
    conn = sqlite3.connect(
        f"{path.as_uri()}?mode=ro", uri=True, timeout=30.0, check_same_thread=False
    )
    conn.row_factory = sqlite3.Row
    try:
        version = conn.execute("PRAGMA user_version").fetchone()[0]
    except sqlite3.DatabaseError as e:
        conn.close()
        raise StoreError(f"{path}: not a fakeugc store ({e})") from e
    if version != SCHEMA_VERSION:
        conn.close()
        if version == 0:
            return None
        raise StoreError(f"{path}: store schema version {version}, expected {SCHEMA_VERSION}")
    return conn


@contextlib.contextmanager
def transaction(conn: sqlite3.Connection) -> Iterator[sqlite3.Connection]:
    """``BEGIN IMMEDIATE`` ... ``COMMIT`` (``ROLLBACK`` on error); re-entrant."""
    if conn.in_transaction:
        yield conn
        return
    conn.execute("BEGIN IMMEDIATE")
    try:
        yield conn
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    conn.execute("COMMIT")


def audit(
    conn: sqlite3.Connection,
    *,
    actor: str,
    action: str,
    at: str,
    post_id: str | None = None,
    brand_id: str | None = None,
    model_version: str | None = None,
    export_date: str | None = None,
    details: dict | None = None,
) -> None:
    conn.execute(
        "INSERT INTO audit_log (at, actor, action, post_id, brand_id, model_version, "
        "export_date, details) VALUES (?, ?, ?, ?, ?, ?, ?, ?)",
        (
            at,
            actor,
            action,
            post_id,
            brand_id,
            model_version,
            export_date,
            json.dumps(details or {}, ensure_ascii=False, sort_keys=True, default=str),
        ),
    )


# --------------------------------------------------------------------------- verdicts


@dataclass(frozen=True)
class PostContext:
    """What the scores said about a post when the analyst gave a verdict."""

    post_id: str
    account_id: str | None = None
    brand_ids: tuple[str, ...] = ()
    disclosed_partnership: bool | None = None
    model_name: str | None = None
    model_version: str | None = None
    model_run_id: str | None = None
    probability: float | None = None
    export_date: str | None = None
    published_at: str | None = None


_VERDICT_FIELDS = (
    "verdict",
    "note",
    "reviewer",
    "model_name",
    "model_version",
    "model_run_id",
    "probability",
    "brand_ids",
    "account_id",
    "export_date",
    "published_at",
    "disclosed_partnership",
)


def record_verdict(
    conn: sqlite3.Connection,
    ctx: PostContext,
    verdict: str,
    *,
    reviewer: str,
    note: str = "",
    at: datetime | str | None = None,
) -> bool:
    """Set a post's verdict. Returns ``True`` when something changed.

    Giving the same verdict with the same note again changes nothing (no new
    audit entry); a different verdict or note updates the row and the audit log
    keeps the previous one.
    """
    if verdict not in VERDICTS:
        raise StoreError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    if not ctx.post_id:
        raise StoreError("verdict without a post_id")
    reviewer = (reviewer or "").strip() or "unknown"
    note = note or ""
    at_s = iso(at or utcnow())
    dp = None if ctx.disclosed_partnership is None else int(bool(ctx.disclosed_partnership))
    row = {
        "post_id": ctx.post_id,
        "verdict": verdict,
        "note": note,
        "reviewer": reviewer,
        "at": at_s,
        "model_name": ctx.model_name,
        "model_version": ctx.model_version,
        "model_run_id": ctx.model_run_id,
        "probability": None if ctx.probability is None else float(ctx.probability),
        "brand_ids": json.dumps(list(ctx.brand_ids), ensure_ascii=False),
        "account_id": ctx.account_id,
        "export_date": ctx.export_date,
        "published_at": ctx.published_at,
        "disclosed_partnership": dp,
    }
    with transaction(conn):
        old = conn.execute("SELECT * FROM verdicts WHERE post_id = ?", (ctx.post_id,)).fetchone()
        if old is not None and old["verdict"] == verdict and old["note"] == note:
            return False
        cols = ", ".join(row)
        marks = ", ".join("?" for _ in row)
        updates = ", ".join(f"{c} = excluded.{c}" for c in row if c != "post_id")
        conn.execute(
            f"INSERT INTO verdicts ({cols}) VALUES ({marks}) "
            f"ON CONFLICT (post_id) DO UPDATE SET {updates}",
            tuple(row.values()),
        )
        details = {
            "verdict": verdict,
            "note": note,
            "probability": row["probability"],
            "brand_ids": list(ctx.brand_ids),
            "account_id": ctx.account_id,
            "model_name": ctx.model_name,
            "model_run_id": ctx.model_run_id,
        }
        if old is not None:
            details["previous"] = {
                "verdict": old["verdict"],
                "note": old["note"],
                "reviewer": old["reviewer"],
                "at": old["at"],
            }
        audit(
            conn,
            actor=reviewer,
            action="verdict_changed" if old is not None else "verdict",
            at=at_s,
            post_id=ctx.post_id,
            model_version=ctx.model_version,
            export_date=ctx.export_date,
            details=details,
        )
    return True


def _verdict_dict(r: sqlite3.Row) -> dict:
    d = dict(r)
    d["brand_ids"] = json.loads(d.get("brand_ids") or "[]")
    if d.get("disclosed_partnership") is not None:
        d["disclosed_partnership"] = bool(d["disclosed_partnership"])
    return d


def get_verdict(conn: sqlite3.Connection, post_id: str) -> dict | None:
    r = conn.execute("SELECT * FROM verdicts WHERE post_id = ?", (post_id,)).fetchone()
    return None if r is None else _verdict_dict(r)


def iter_verdicts(conn: sqlite3.Connection) -> Iterable[dict]:
    for r in conn.execute("SELECT * FROM verdicts ORDER BY at, post_id"):
        yield _verdict_dict(r)


def verdicts_frame(store_path: str | Path | None = None) -> pd.DataFrame:
    """All current verdicts as a DataFrame (empty when there is no store)."""
    cols = ["post_id", *_VERDICT_FIELDS[:3], "at", *_VERDICT_FIELDS[3:]]
    conn = connect_readonly(store_path)
    if conn is None:
        return pd.DataFrame(columns=cols)
    try:
        rows = list(iter_verdicts(conn))
    finally:
        conn.close()
    return pd.DataFrame(rows, columns=cols)


def verdicts_as_labels(store_path: str | Path | None = None) -> pd.DataFrame:
    """The analysts' verdicts in the export contract's ``labels`` shape.

    ``post_id`` (str), ``label`` (int64: 1 = confirmed fake, 0 = cleared),
    ``labelled_at`` (datetime64[ns, UTC]: when the verdict was given),
    ``fraud_type`` (``"analyst_confirmed"`` for 1, ``""`` for 0) and ``split``
    (``""``). One row per post (its current verdict), sorted by ``post_id``.
    With no store (or no verdicts) the frame is empty with the same columns
    and dtypes. ``store_path`` defaults to ``get_settings().store_path``.
    """
    v = verdicts_frame(store_path)
    out = pd.DataFrame(
        {
            "post_id": v["post_id"].astype(str).to_numpy(),
            "label": (v["verdict"] == "confirm").astype("int64").to_numpy(),
            "labelled_at": pd.to_datetime(v["at"], utc=True, format="ISO8601")
            if len(v)
            else pd.Series([], dtype="datetime64[ns, UTC]"),
            "fraud_type": v["verdict"]
            .map({"confirm": CONFIRMED_FRAUD_TYPE, "clear": ""})
            .astype(object)
            .to_numpy(),
            "split": [""] * len(v),
        },
        columns=LABEL_COLUMNS,
    )
    out["labelled_at"] = out["labelled_at"].astype("datetime64[ns, UTC]")
    out["post_id"] = out["post_id"].astype(object)
    out["fraud_type"] = out["fraud_type"].astype(object)
    out["split"] = out["split"].astype(object)
    return out.sort_values("post_id", kind="stable").reset_index(drop=True)


def audit_entries(
    conn: sqlite3.Connection,
    *,
    brand_id: str | None = None,
    post_id: str | None = None,
    limit: int | None = None,
) -> list[dict]:
    q = "SELECT * FROM audit_log"
    where, params = [], []
    if brand_id is not None:
        # a brand's history includes the verdicts on the posts behind its violations
        where.append(
            "(brand_id = ? OR (brand_id IS NULL AND post_id IN "
            "(SELECT post_id FROM violations WHERE brand_id = ?)))"
        )
        params += [brand_id, brand_id]
    if post_id is not None:
        where.append("post_id = ?")
        params.append(post_id)
    if where:
        q += " WHERE " + " AND ".join(where)
    q += " ORDER BY id"
    if limit:
        q += f" LIMIT {int(limit)}"
    out = []
    for r in conn.execute(q, params):
        d = dict(r)
        d["details"] = json.loads(d["details"] or "{}")
        out.append(d)
    return out
