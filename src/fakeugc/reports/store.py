"""The analysts' store: verdicts, brand violations and an append-only audit log.

One SQLite file (``get_settings().store_path``; ``$FAKEUGC_STORE`` overrides it)
shared by ``fakeugc review`` (verdicts), ``fakeugc ledger`` (violations) and
``fakeugc train`` (verdicts read back as labels with :func:`verdicts_as_labels`).

Tables
------
``verdicts``   one row per post: its current verdict (``confirm`` / ``clear``),
               who gave it, when, the note, and what the model said (name,
               version, run, probability) with the post's brands, author and
               export date, and for a cleared post optionally *why* it is
               genuine (``genuine_group``, one of :data:`GENUINE_GROUPS`).
               Changing a verdict updates the row; the previous value stays in
               the audit log.
``violations`` one row per (brand, post), ``UNIQUE``: recording it again never
               deducts twice. ``status`` is ``active`` (costs points),
               ``exempt`` (a declared partnership: legitimate, no points) or
               ``revoked`` (the verdict was later cleared).
``audit_log``  every change: when, who, what, which post and brand, which model
               version, with details as JSON. Triggers refuse UPDATE and DELETE.

Every write happens in one ``BEGIN IMMEDIATE`` transaction, so two reviewers
(or the review page and ``fakeugc ledger sync``) never interleave half-changes.

Schema versions (``PRAGMA user_version``): 1 the first release; 2 adds
``verdicts.genuine_group``. :func:`connect` migrates an older store in place
(its verdicts are kept); :func:`connect_readonly` reads an older store as it is
(no group). A store newer than this code is refused.
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

SCHEMA_VERSION = 2
VERDICTS = ("confirm", "clear")
#: the hard genuine groups training watches (and up-weights): a cleared post in one
#: of them is a ``hard_case`` in the labels
HARD_CASE_GROUPS = ("disclosed_partnership", "launch_burst", "viral_genuine", "reported_genuine")
#: why a cleared post is genuine; ``other_genuine`` is not a hard case
GENUINE_GROUPS = (*HARD_CASE_GROUPS, "other_genuine")
LABEL_COLUMNS = ["post_id", "label", "labelled_at", "fraud_type", "split", "hard_case"]
#: ``fraud_type`` of a confirmed verdict in the labels shape
CONFIRMED_FRAUD_TYPE = "analyst_confirmed"

_GROUP_LIST = ", ".join(f"'{g}'" for g in GENUINE_GROUPS)
#: the column as created by a new store and added by the version 1 → 2 migration
_GENUINE_GROUP_COLUMN = (
    "genuine_group TEXT CHECK (genuine_group IS NULL OR "
    f"(verdict = 'clear' AND genuine_group IN ({_GROUP_LIST})))"
)

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
    disclosed_partnership INTEGER CHECK (disclosed_partnership IN (0, 1)),
    {genuine_group_column}
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
""".replace("{genuine_group_column}", _GENUINE_GROUP_COLUMN)


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
    try:
        version = _user_version(conn)
        _check_not_newer(path, version)
        if version < SCHEMA_VERSION:
            with transaction(conn):
                # read again under the write lock: another process may have migrated
                version = _user_version(conn)
                _check_not_newer(path, version)
                if version < SCHEMA_VERSION:
                    _migrate(conn)
    except BaseException:
        conn.close()
        raise
    return conn


def _user_version(conn: sqlite3.Connection) -> int:
    return int(conn.execute("PRAGMA user_version").fetchone()[0])


def _check_not_newer(path: Path, version: int) -> None:
    if version > SCHEMA_VERSION:
        raise StoreError(
            f"{path}: store schema version {version} is newer than this fakeugc "
            f"understands ({SCHEMA_VERSION}); upgrade fakeugc"
        )


def _statements(script: str) -> Iterator[str]:
    """The SQL statements of ``script`` (triggers kept whole), to run inside a transaction."""
    buf = ""
    for part in script.split(";"):
        buf += part + ";"
        if sqlite3.complete_statement(buf):
            if buf.strip(" \n;"):
                yield buf.strip()
            buf = ""


def _columns(conn: sqlite3.Connection, table: str) -> set[str]:
    return {r[1] for r in conn.execute(f"PRAGMA table_info({table})")}


def _migrate(conn: sqlite3.Connection) -> None:
    """Bring an older store up to :data:`SCHEMA_VERSION` (inside a transaction).

    0 (a new file): the whole schema. 1 → 2: ``verdicts.genuine_group`` is added
    (existing verdicts get none). ``CREATE … IF NOT EXISTS`` makes the script safe
    to run on an older store too (it only adds what is missing).
    """
    for stmt in _statements(_SCHEMA):
        conn.execute(stmt)
    if "genuine_group" not in _columns(conn, "verdicts"):  # 1 → 2
        conn.execute(f"ALTER TABLE verdicts ADD COLUMN {_GENUINE_GROUP_COLUMN}")
    conn.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")


def connect_readonly(store_path: str | Path | None = None) -> sqlite3.Connection | None:
    """Open an existing store read-only; ``None`` when there is no store (nothing recorded yet).

    Never creates the file: a report on a machine without a store shows "no ledger".
    An older store (version 1) is read as it is, never migrated: its verdicts have no
    ``genuine_group`` (readers here see ``None``); a newer one is refused.
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
    if version == 0:
        conn.close()
        return None
    if version > SCHEMA_VERSION:
        conn.close()
        raise StoreError(
            f"{path}: store schema version {version} is newer than this fakeugc "
            f"understands ({SCHEMA_VERSION}); upgrade fakeugc"
        )
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
    "genuine_group",
)


def record_verdict(
    conn: sqlite3.Connection,
    ctx: PostContext,
    verdict: str,
    *,
    reviewer: str,
    note: str = "",
    genuine_group: str | None = None,
    at: datetime | str | None = None,
) -> bool:
    """Set a post's verdict. Returns ``True`` when something changed.

    ``genuine_group`` says why a *cleared* post is genuine (one of
    :data:`GENUINE_GROUPS`, or ``None`` / ``""`` for no reason given); a confirm
    never has one. Giving the same verdict with the same note and group again
    changes nothing (no new audit entry); a different verdict, note or group
    updates the row and the audit log keeps the previous one.
    """
    if verdict not in VERDICTS:
        raise StoreError(f"verdict must be one of {VERDICTS}, got {verdict!r}")
    genuine_group = genuine_group or None
    if genuine_group is not None:
        if genuine_group not in GENUINE_GROUPS:
            raise StoreError(
                f"genuine_group must be one of {GENUINE_GROUPS}, got {genuine_group!r}"
            )
        if verdict != "clear":
            raise StoreError("only a cleared post has a genuine_group")
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
        "genuine_group": genuine_group,
    }
    with transaction(conn):
        old = conn.execute("SELECT * FROM verdicts WHERE post_id = ?", (ctx.post_id,)).fetchone()
        if (
            old is not None
            and old["verdict"] == verdict
            and old["note"] == note
            and old["genuine_group"] == genuine_group
        ):
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
            "genuine_group": genuine_group,
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
                "genuine_group": old["genuine_group"],
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
    d.setdefault("genuine_group", None)  # a version-1 store read as it is
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
    ``fraud_type`` (``"analyst_confirmed"`` for 1, ``""`` for 0), ``split``
    (``""``) and ``hard_case`` (str: for a cleared post the analyst's group when it
    is one of :data:`HARD_CASE_GROUPS`, else ``""``; ``other_genuine``, no group
    and confirmed posts are ``""``), the optional column the synthetic
    generator also writes and training reads. All strings are ``object`` dtype.
    One row per post (its current verdict), sorted by ``post_id``. With no store
    (or no verdicts) the frame is empty with the same columns and dtypes.
    ``store_path`` defaults to ``get_settings().store_path``.
    """
    v = verdicts_frame(store_path)
    cleared = (v["verdict"] == "clear").to_numpy(dtype=bool)
    group = v["genuine_group"].to_numpy(dtype=object)
    hard = [g if c and g in HARD_CASE_GROUPS else "" for c, g in zip(cleared, group, strict=True)]
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
            "hard_case": hard,
        },
        columns=LABEL_COLUMNS,
    )
    out["labelled_at"] = out["labelled_at"].astype("datetime64[ns, UTC]")
    for c in ("post_id", "fraud_type", "split", "hard_case"):
        out[c] = out[c].astype(object)
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
