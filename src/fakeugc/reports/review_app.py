"""The review page: analysts confirm or clear flagged posts (``fakeugc review``).

A small Flask app bound to 127.0.0.1. It lists a night's flagged posts
(escaped: post text is hostile) with Confirm / Clear buttons and a note. A
verdict is stored in the analysts' store with the model version, brands,
author and export date of the scored post; a confirm on a post with brands
records violations through the ledger at once (idempotent), a clear revokes
them. Next to Clear a select says *why* the post is genuine (a hard genuine
group, :data:`fakeugc.reports.store.GENUINE_GROUPS`; preselected to
``disclosed_partnership`` for a post the scores mark as a declared partnership);
it is stored with a clear and ignored with a confirm. Verdicts become training
labels (with ``hard_case``) through :func:`fakeugc.reports.store.verdicts_as_labels`.

The page has no JavaScript. Forms carry a per-process token (another site open
in the analyst's browser cannot post verdicts), requests for any host but
localhost are refused (DNS rebinding), and the page may not be framed.
"""

from __future__ import annotations

import getpass
import hmac
import math
import secrets
from pathlib import Path
from urllib.parse import quote, urlencode, urlsplit

import pandas as pd
from flask import Flask, Response, abort, jsonify, redirect, request

from fakeugc.reports import ledger as L
from fakeugc.reports import store as S
from fakeugc.reports.scores import Night, load_night
from fakeugc.reports.svg import clean_text, esc, sparkline

PAGE_SIZE = 200
_LOCAL_HOSTS = {"127.0.0.1", "localhost", "::1"}
#: the "why genuine" choices next to Clear, in the order shown
GROUP_LABELS = {
    "": "why genuine: not said",
    "disclosed_partnership": "declared partnership",
    "launch_burst": "product-launch burst",
    "viral_genuine": "went viral",
    "reported_genuine": "reported by users",
    "other_genuine": "other reason",
}

CSS = """
body{margin:0;font:14px/1.45 system-ui,"Noto Sans CJK SC","WenQuanYi Zen Hei",sans-serif,
"Noto Color Emoji";color:#1d2330;background:#f7f7f8}
header{background:#1d2330;color:#fff;padding:12px 22px}header h1{margin:0;font-size:18px}
header .sub{color:#c7cbd3;font-size:13px}main{padding:8px 22px 40px;max-width:1200px}
.bar{display:flex;gap:14px;align-items:center;flex-wrap:wrap;margin:10px 0}
.msg{background:#e4f4ea;border-left:3px solid #2f8f4e;padding:8px 12px;margin:10px 0}
.err{background:#fde8e8;border-left:3px solid #d4343b;padding:8px 12px;margin:10px 0}
article{background:#fff;border:1px solid #e5e7eb;border-radius:8px;padding:10px 14px;margin:10px 0}
article.confirm{border-left:5px solid #d4343b}article.clear{border-left:5px solid #2f8f4e}
.ph{display:flex;gap:10px;align-items:baseline}
.ph h3{margin:0;font-size:15px;overflow-wrap:anywhere}
.prob{font-weight:700;background:#d4343b;color:#fff;border-radius:4px;padding:1px 6px}
.meta{font-size:12px;color:#6b7280}.body{white-space:pre-wrap;overflow-wrap:anywhere;margin:4px 0}
.row{display:flex;gap:16px;justify-content:space-between}.txt{flex:1;min-width:0}
.badge{border-radius:10px;padding:0 8px;font-size:12px;background:#eef0f3}
.badge.confirm{background:#fde1e1;color:#8a1c1c}.badge.clear{background:#e4f4ea;color:#1f6b3a}
.badge.partner{background:#e4f4ea;color:#1f6b3a}
form.verdict{display:flex;gap:8px;align-items:center;margin-top:6px}
form.verdict input[name=note]{flex:1;font:inherit;padding:3px 6px}
form.verdict select{font:inherit;padding:2px 4px}
.sr{position:absolute;width:1px;height:1px;overflow:hidden;clip:rect(0 0 0 0);white-space:nowrap}
button{font:inherit;padding:3px 12px;border-radius:4px;border:1px solid #9ca3af;cursor:pointer}
button.confirm{background:#d4343b;color:#fff;border-color:#b02a30}
button.clear{background:#2f8f4e;color:#fff;border-color:#23703c}
.spark .curve{fill:none;stroke:#d4343b;stroke-width:1.5}
.spark .usual{fill:none;stroke:#9ca3af;stroke-width:1.2;stroke-dasharray:3 2}
svg text{font-size:10px;fill:#4b5563}
"""


def _flagged(night: Night) -> pd.DataFrame:
    s = night.scores
    fl = s[s["flagged"]].copy()
    fl = fl.sort_values(["probability", "post_id"], ascending=[False, True], kind="stable")
    return fl.reset_index(drop=True)


def _context(row, night: Night) -> S.PostContext:
    dp = row["disclosed_partnership"]
    dp = None if dp is None or pd.isna(dp) else bool(dp)
    prob = row["probability"]
    m = night.model
    return S.PostContext(
        post_id=str(row["post_id"]),
        account_id=str(row["account_id"]) if row["account_id"] else None,
        brand_ids=tuple(str(b) for b in row["brand_ids"] if b),
        disclosed_partnership=dp,
        model_name=_str(row.get("model_name")) or _str(m.get("name")),
        model_version=_str(row.get("model_version")) or _str(m.get("version")),
        model_run_id=_str(row.get("model_run_id")) or _str(m.get("run_id")),
        probability=None if prob is None or not math.isfinite(prob) else float(prob),
        export_date=_str(row.get("export_date")) or night.export_date or None,
        published_at=S.iso(row["published_at"]) if not pd.isna(row["published_at"]) else None,
    )


def _str(v) -> str | None:
    if v is None:
        return None
    try:
        if pd.isna(v):
            return None
    except (TypeError, ValueError):
        pass
    s = str(v)
    return s or None


def create_app(
    scores_dir: str | Path,
    store_path: str | Path | None = None,
    *,
    reviewer: str | None = None,
    rules_path: str | Path | None = None,
) -> Flask:
    """The review app for one scores folder; nothing is served until you run it.

    ``store_path`` defaults to ``get_settings().store_path``; it is created on
    the first verdict.
    """
    night = load_night(scores_dir, previous_nights=0)
    flagged = _flagged(night)
    scored_index = {pid: i for i, pid in enumerate(night.scores["post_id"])}
    store = S.resolve_store_path(store_path)
    rules = L.load_rules(rules_path)
    app = Flask("fakeugc.review")
    app.config.update(
        STORE_PATH=str(store),
        SCORES_DIR=str(night.path),
        DEFAULT_REVIEWER=(reviewer or _os_user()),
        CSRF_TOKEN=secrets.token_urlsafe(24),
        MAX_CONTENT_LENGTH=64 * 1024,
    )

    def current_reviewer() -> str:
        name = (request.cookies.get("fakeugc_reviewer") or "").strip()
        return clean_text(name)[:80] or app.config["DEFAULT_REVIEWER"]

    @app.before_request
    def _local_only():
        try:
            host = urlsplit("//" + (request.host or "")).hostname
        except ValueError:
            host = None
        if host not in _LOCAL_HOSTS:
            abort(403)

    @app.after_request
    def _headers(resp: Response) -> Response:
        resp.headers["Content-Security-Policy"] = (
            "default-src 'none'; style-src 'unsafe-inline'; img-src data:; form-action 'self'; "
            "frame-ancestors 'none'; base-uri 'none'"
        )
        resp.headers["X-Frame-Options"] = "DENY"
        resp.headers["X-Content-Type-Options"] = "nosniff"
        resp.headers["Referrer-Policy"] = "no-referrer"
        resp.headers["Cache-Control"] = "no-store"
        return resp

    def _verdicts() -> dict[str, dict]:
        conn = S.connect_readonly(store)
        if conn is None:
            return {}
        try:
            return {v["post_id"]: v for v in S.iter_verdicts(conn)}
        finally:
            conn.close()

    def _check_token():
        token = request.form.get("token", "")
        if not hmac.compare_digest(token, app.config["CSRF_TOKEN"]):
            abort(400, "stale or missing form token: reload the page")

    @app.get("/")
    def index():
        verdicts = _verdicts()
        show = request.args.get("show", "all")
        q = clean_text(request.args.get("q", "")).strip().lower()
        try:
            offset = max(int(request.args.get("offset", 0)), 0)
        except ValueError:
            offset = 0
        rows = flagged
        if show == "pending":
            rows = rows[~rows["post_id"].isin(list(verdicts))]
        elif show == "reviewed":
            rows = rows[rows["post_id"].isin(list(verdicts))]
        if q:
            hay = (
                rows["title"].astype(str)
                + " "
                + rows["body"].astype(str)
                + " "
                + rows["account_id"].astype(str)
                + " "
                + rows["post_id"]
            ).str.lower()
            rows = rows[hay.str.contains(q, regex=False)]
        page = rows.iloc[offset : offset + PAGE_SIZE]
        token = app.config["CSRF_TOKEN"]
        n_conf = sum(v["verdict"] == "confirm" for v in verdicts.values())
        h = [
            f'<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">'
            f"<title>fakeugc review · {esc(night.export_date)}</title><style>{CSS}</style></head>"
            f"<body><header><h1>Review flagged posts · {esc(night.export_date)}</h1>"
            f'<div class="sub">{len(flagged):,} flagged · {len(verdicts):,} verdicts in the store '
            f"({n_conf:,} confirmed) · store {esc(store)}</div></header><main>"
        ]
        done = request.args.get("done")
        if done:
            h.append(_done_message(done, request.args.get("v", ""), store, rules))
        err = request.args.get("error")
        if err:
            h.append(f'<div class="err" data-testid="error">{esc(err)}</div>')
        h.append(
            f'<div class="bar"><form method="post" action="/reviewer" class="who">reviewer '
            f'<input name="reviewer" data-testid="reviewer" '
            f'value="{esc(current_reviewer())}" size="14">'
            f'<input type="hidden" name="token" value="{esc(token)}"><button>set</button></form>'
            f'<form method="get" action="/">search <input name="q" value="{esc(q)}" size="24"> '
            f'<select name="show">'
            + "".join(
                f'<option value="{v}"{" selected" if v == show else ""}>{lab}</option>'
                for v, lab in (
                    ("all", "all flagged"),
                    ("pending", "not reviewed yet"),
                    ("reviewed", "reviewed"),
                )
            )
            + f'</select> <button>show</button></form><span data-testid="review-count">'
            f"{len(rows):,} posts</span></div>"
        )
        for _, r in page.iterrows():
            h.append(_post_html(r, verdicts.get(r["post_id"]), token))
        if len(rows) > offset + PAGE_SIZE or offset:
            links = []

            def link(off: int, label: str) -> str:
                url = "/?" + urlencode({"show": show, "q": q, "offset": off})
                return f'<a href="{esc(url)}">{label}</a>'

            if offset:
                links.append(link(max(offset - PAGE_SIZE, 0), "previous"))
            if len(rows) > offset + PAGE_SIZE:
                links.append(link(offset + PAGE_SIZE, "next"))
            h.append(
                f"<p>posts {offset + 1:,}–{min(offset + PAGE_SIZE, len(rows)):,} of "
                f"{len(rows):,} · " + " · ".join(links) + "</p>"
            )
        h.append("</main></body></html>")
        return Response("".join(h), mimetype="text/html")

    @app.post("/reviewer")
    def set_reviewer():
        _check_token()
        name = clean_text(request.form.get("reviewer", "")).strip()[:80]
        resp = redirect("/", code=303)
        if name:
            resp.set_cookie("fakeugc_reviewer", name, httponly=True, samesite="Strict")
        return resp

    @app.post("/verdict")
    def verdict():
        _check_token()
        post_id = request.form.get("post_id", "")
        v = request.form.get("verdict", "")
        note = clean_text(request.form.get("note", ""))[:2000]
        group = request.form.get("genuine_group", "")
        if v not in S.VERDICTS:
            abort(400, "verdict must be confirm or clear")
        if group and group not in S.GENUINE_GROUPS:
            abort(400, "unknown genuine group")
        if v != "clear":
            group = ""  # the select sits in the same form: a confirm has no group
        i = scored_index.get(post_id)
        if i is None:
            abort(404, "post not in this night's scores")
        ctx = _context(night.scores.iloc[i], night)
        who = current_reviewer()
        conn = S.connect(store)
        try:
            with S.transaction(conn):
                S.record_verdict(conn, ctx, v, reviewer=who, note=note, genuine_group=group or None)
                L.reconcile_post(conn, post_id, actor=who)
        finally:
            conn.close()
        return redirect(f"/?{urlencode({'done': post_id, 'v': v})}#post-{quote(post_id)}", code=303)

    @app.get("/api/verdicts")
    def api_verdicts():
        conn = S.connect_readonly(store)
        if conn is None:
            return jsonify([])
        try:
            return jsonify(list(S.iter_verdicts(conn)))
        finally:
            conn.close()

    @app.get("/healthz")
    def healthz():
        return jsonify({"ok": True, "flagged": int(len(flagged))})

    return app


def _done_message(post_id: str, v: str, store: Path, rules: L.BrandPointsRules) -> str:
    conn = S.connect_readonly(store)
    if conn is None:
        return ""
    try:
        verdict = S.get_verdict(conn, post_id)
        if verdict is None:
            return ""
        group = verdict.get("genuine_group")
        parts = [
            f"{'Confirmed' if verdict['verdict'] == 'confirm' else 'Cleared'} post {esc(post_id)}"
            + (f" ({esc(GROUP_LABELS.get(group, group))})" if group else "")
            + "."
        ]
        for b in verdict["brand_ids"]:
            st = L.brand_statuses(conn, rules, brand_id=b)
            if st:
                s = st[0]
                parts.append(
                    f'<span data-testid="ledger-brand" data-brand="{esc(b)}" '
                    f'data-points="{s.points}">{esc(b)}: {s.points} points left'
                    f"{' (' + esc(s.tier) + ')' if s.tier else ''}</span>"
                )
        if verdict["verdict"] == "confirm" and verdict.get("disclosed_partnership"):
            parts.append("Declared partnership: no brand points deducted.")
        return f'<div class="msg" data-testid="done">{" ".join(parts)}</div>'
    finally:
        conn.close()


def _post_html(r, verdict: dict | None, token: str) -> str:
    pid = str(r["post_id"])
    state = verdict["verdict"] if verdict else "pending"
    group = (verdict or {}).get("genuine_group") or ""
    badge = (
        f'<span class="badge {esc(state)}" data-testid="verdict-state">{esc(state)}'
        + (f" by {esc(verdict['reviewer'])}" if verdict else "")
        + (
            f' · <span data-testid="verdict-group">{esc(GROUP_LABELS.get(group, group))}</span>'
            if group
            else ""
        )
        + "</span>"
    )
    dp = r["disclosed_partnership"]
    declared = dp is not None and not pd.isna(dp) and bool(dp)
    partner = '<span class="badge partner">declared partnership</span>' if declared else ""
    # the select shows the stored group of a cleared post, else a guess from the scores
    chosen = group if state == "clear" else ("disclosed_partnership" if declared else "")
    reasons = "".join(f"<li>{esc(x)}</li>" for x in list(r["reasons"])[:5])
    body = clean_text(r["body"])[:3000]
    cluster = (
        r["cluster_id"] if r["cluster_id"] is not None and not pd.isna(r["cluster_id"]) else ""
    )
    note = verdict["note"] if verdict else ""
    curve = r["curve"] if r["curve"] is not None and not isinstance(r["curve"], float) else None
    usual = (
        r["account_usual_curve"]
        if r["account_usual_curve"] is not None and not isinstance(r["account_usual_curve"], float)
        else None
    )
    return (
        f'<article id="post-{esc(pid)}" class="{esc(state)}" data-testid="review-row" '
        f'data-post-id="{esc(pid)}"><div class="row"><div class="txt">'
        f'<div class="ph"><span class="prob">{float(r["probability"]) * 100:.1f}%</span>'
        f"<h3>{esc(r['title'])}</h3> {badge}</div>"
        f'<div class="meta">@{esc(r["account_id"])} · {esc(pid)} · brands: '
        f"{esc(', '.join(r['brand_ids']) or 'none')}"
        + (f" · cluster {esc(cluster)}" if cluster else "")
        + f" {partner}</div>"
        f'<p class="body">{esc(body)}</p><ul>{reasons}</ul></div>'
        f"<div>{sparkline(curve, usual)}</div></div>"
        f'<form class="verdict" method="post" action="/verdict">'
        f'<input type="hidden" name="post_id" value="{esc(pid)}">'
        f'<input type="hidden" name="token" value="{esc(token)}">'
        f'<input name="note" data-testid="note" placeholder="note (why)" value="{esc(note)}" '
        f'maxlength="2000">'
        f'<button class="confirm" name="verdict" value="confirm" data-testid="confirm">Confirm fake'
        f"</button>{_group_select(chosen)}"
        f'<button class="clear" name="verdict" value="clear" data-testid="clear">Clear'
        f"</button></form></article>"
    )


def _group_select(chosen: str) -> str:
    """The "why genuine" select sent with Clear (a native select: keyboard usable)."""
    opts = "".join(
        f'<option value="{esc(g)}"{" selected" if g and g == chosen else ""}>{esc(lab)}</option>'
        for g, lab in GROUP_LABELS.items()
    )
    return (
        '<label><span class="sr">why is this post genuine (sent with Clear)</span>'
        f'<select name="genuine_group" data-testid="genuine-group" title="why genuine (sent with Clear)">'
        f"{opts}</select></label>"
    )


def _os_user() -> str:
    try:
        return getpass.getuser()
    except Exception:  # no user name in a container: still attribute the verdict
        return "analyst"


def serve(app: Flask, port: int = 8765, host: str = "127.0.0.1"):
    """Serve on 127.0.0.1 until interrupted (threaded werkzeug server)."""
    from werkzeug.serving import make_server

    if host not in ("127.0.0.1", "localhost", "::1"):
        raise ValueError("the review page is only served on the local machine")
    srv = make_server(host, port, app, threaded=True)
    try:
        srv.serve_forever()
    finally:
        srv.server_close()
