"""The nightly analyst report: one self-contained HTML file.

No network is needed to open it: CSS and JS are inline, charts are inline SVG
drawn in Python, fonts are the reader's own. Post text is hostile: every
value from the data is escaped with :func:`html.escape` (via :func:`svg.esc`),
and the JSON the page's script reads is embedded with ``<``, ``>``, ``&``
escaped as ``\\u003c`` etc., so no text can close the ``<script>`` element. A
Content-Security-Policy allows only this page's own script (by hash) and no
loads at all, as a second line of defence.

Large nights stay fast: at most ``top`` flagged posts (highest probability
first) are rendered, as plain HTML; the page says how many were left out. The
script only filters and reorders those rows.
"""

from __future__ import annotations

import base64
import hashlib
import json
import math
from collections import Counter
from datetime import UTC, datetime
from pathlib import Path

import numpy as np
import pandas as pd

from fakeugc import __version__
from fakeugc.io.writer import write_text_atomic
from fakeugc.reports import drift as D
from fakeugc.reports import svg as G
from fakeugc.reports.scores import Night, load_night
from fakeugc.reports.svg import clean_text, esc

DEFAULT_TOP = 2000
BODY_SHOWN = 320  # characters of a body shown before "more"
BODY_MAX = 4000  # characters of a body put in the page at all
SEARCH_MAX = 1500  # characters of a post's text searchable by the filter box
MAX_CAMPAIGNS = 60
MAX_ACCOUNTS = 150
MAX_BRANDS = 200
HIST_EDGES = np.linspace(-7.0, 7.0, 29)  # log-odds bins: probability 0.09% .. 99.9%


def json_for_script(obj) -> str:
    """JSON safe inside ``<script type="application/json">``: ``<``, ``>``, ``&`` and the
    line separators become ``\\uXXXX`` escapes (only possible inside strings)."""
    s = json.dumps(obj, ensure_ascii=False, separators=(",", ":"), allow_nan=False)
    return (
        s.replace("&", "\\u0026")
        .replace("<", "\\u003c")
        .replace(">", "\\u003e")
        .replace("\u2028", "\\u2028")
        .replace("\u2029", "\\u2029")
    )


def _num(n) -> str:
    return f"{int(n):,}"


def _count(v) -> str:
    if isinstance(v, int | float) and not isinstance(v, bool) and math.isfinite(v):
        return f"{v:,.0f}"
    return esc("—" if v is None else v)


def _pct(x: float) -> str:
    return f"{x * 100:.1f}%"


def _fmt_time(ts) -> str:
    if ts is None or pd.isna(ts):
        return "—"
    return pd.Timestamp(ts).strftime("%Y-%m-%d %H:%M")


def _epoch(ts) -> float:
    if ts is None or pd.isna(ts):
        return 0.0
    return float(pd.Timestamp(ts).timestamp())


def _family(v) -> dict[str, float] | None:
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, dict):
        d = v
    else:
        try:
            d = json.loads(v)
        except (TypeError, ValueError):
            return None
    if not isinstance(d, dict):
        return None
    out = {}
    for k, x in d.items():
        try:
            f = float(x)
        except (TypeError, ValueError):
            continue
        if math.isfinite(f):
            out[str(k)] = f
    return out or None


def _curve(v):
    if v is None:
        return None
    if isinstance(v, float) and math.isnan(v):
        return None
    try:
        return list(v)
    except TypeError:
        return None


def _chips(items, cls: str, attr: str) -> str:
    return "".join(
        f'<button type="button" class="chip {cls}" data-{attr}="{esc(x)}" '
        f'title="filter by this">{esc(x)}</button>'
        for x in items
    )


# --------------------------------------------------------------------------- panels


def _summary(night: Night, top: int, rendered: int) -> tuple[str, dict]:
    s = night.scores
    scored = len(s)
    flagged = int(s["flagged"].sum())
    manifest_tables = (
        night.manifest.get("tables") if isinstance(night.manifest.get("tables"), dict) else {}
    )
    manifest_set_aside = 0
    for st in manifest_tables.values():
        if isinstance(st, dict):
            try:
                manifest_set_aside += int(st.get("set_aside") or 0)
            except (TypeError, ValueError):
                pass
    has_q = len(night.quarantine.columns) > 0 and (night.path / "quarantine.parquet").is_file()
    set_aside = len(night.quarantine) if has_q else manifest_set_aside
    notes = list(night.notes)
    if has_q and manifest_tables and manifest_set_aside != len(night.quarantine):
        notes.append(
            f"the manifest counts {manifest_set_aside:,} rows set aside, "
            f"quarantine.parquet holds {len(night.quarantine):,}"
        )
    m = night.model
    counts = {
        "scored": scored,
        "flagged": flagged,
        "set_aside": set_aside,
        "rendered": rendered,
        "left_out": flagged - rendered,
    }
    cards = [
        ("summary-scored", "posts scored", _num(scored), scored, ""),
        (
            "summary-flagged",
            "flagged",
            _num(flagged),
            flagged,
            f"{_pct(flagged / scored) if scored else '—'} of scored",
        ),
        (
            "summary-set-aside",
            "set aside",
            _num(set_aside),
            set_aside,
            "rows that broke the contract",
        ),
    ]
    h = ['<section id="summary" data-testid="summary"><h2>Night summary</h2><div class="cards">']
    for tid, label, shown, value, sub in cards:
        h.append(
            f'<div class="card"><div class="big" data-testid="{tid}" data-value="{value}">'
            f'{shown}</div><div class="lbl">{label}</div><div class="sub">{esc(sub)}</div></div>'
        )
    thr = m.get("threshold")
    thr_s = f"{float(thr):.3f}" if thr is not None and not pd.isna(thr) else "—"
    h.append(
        f'<div class="card model"><div class="big small" data-testid="summary-model">'
        f'{esc(m.get("name") or "—")} <span class="ver">v{esc(m.get("version") or "?")}</span>'
        f'</div><div class="lbl">model</div><div class="sub">run {esc(m.get("run_id") or "—")}'
        f" · threshold {thr_s}</div></div></div>"
    )
    # tables of the manifest and reasons rows were set aside
    if manifest_tables:
        h.append(
            '<table class="small-table" data-testid="manifest-tables"><thead><tr><th>table</th>'
            "<th>read</th><th>scored</th><th>set aside</th></tr></thead><tbody>"
        )
        for name, st in manifest_tables.items():
            st = st if isinstance(st, dict) else {}
            h.append(
                f"<tr><td>{esc(name)}</td>"
                + "".join(
                    f'<td class="n">{_count(st.get(k))}</td>'
                    for k in ("read", "scored", "set_aside")
                )
                + "</tr>"
            )
        h.append("</tbody></table>")
    if has_q and len(night.quarantine) and "reason" in night.quarantine.columns:
        rc = Counter(night.quarantine["reason"].astype(str)).most_common(6)
        h.append(
            '<p class="muted">set aside because: '
            + ", ".join(f"{esc(r)} ×{c:,}" for r, c in rc)
            + "</p>"
        )
    for n in notes:
        h.append(f'<p class="note">⚠ {esc(n)}</p>')
    # distribution charts
    h.append('<div class="charts-row">')
    h.append(_score_histogram(night, thr))
    h.append(_flag_rate(night))
    h.append("</div></section>")
    return "".join(h), counts


def _hist_fractions(prob: np.ndarray) -> list[float]:
    p = prob[np.isfinite(prob)]
    if p.size == 0:
        return [0.0] * (len(HIST_EDGES) - 1)
    x = np.log(np.clip(p, 1e-6, 1 - 1e-6) / (1 - np.clip(p, 1e-6, 1 - 1e-6)))
    x = np.clip(x, HIST_EDGES[0], HIST_EDGES[-1])
    counts, _ = np.histogram(x, bins=HIST_EDGES)
    return [float(c) / p.size for c in counts]


def _score_histogram(night: Night, thr) -> str:
    tonight = _hist_fractions(night.scores["probability"].to_numpy("float64"))
    prev = [
        (f"{p.export_date} ({p.n:,} posts)", _hist_fractions(p.probability)) for p in night.previous
    ]
    t = float(thr) if thr is not None and not pd.isna(thr) else None
    return (
        "<figure><figcaption>Score distribution: tonight against the previous nights</figcaption>"
        + G.score_histogram(
            HIST_EDGES.tolist(),
            tonight,
            prev,
            tonight_label=night.export_date or "tonight",
            threshold=t,
        )
        + "</figure>"
    )


def _flag_rate(night: Night) -> str:
    items = [
        (p.export_date, float(p.flagged.mean()) if p.n else 0.0, int(p.flagged.sum()), False)
        for p in night.previous
    ]
    s = night.scores
    items.append(
        (
            night.export_date or "tonight",
            float(s["flagged"].mean()) if len(s) else 0.0,
            int(s["flagged"].sum()),
            True,
        )
    )
    return (
        "<figure><figcaption>Flagged share per night</figcaption>"
        + G.night_bars(items, width=max(160, 44 * len(items)))
        + "</figure>"
    )


def _drift(night: Night) -> tuple[str, str]:
    """(panel, banner)."""
    d = night.drift
    h = [
        '<section id="drift" data-testid="drift-panel"><h2>Drift: is tonight like the '
        "training window?</h2>"
    ]
    if not d or not isinstance(d.get("psi"), dict) or not d["psi"]:
        h.append(
            '<p class="muted" data-testid="drift-missing">No drift figures for this night '
            "(no drift.json in the scores folder).</p>"
        )
        h.append(_estimate(d or {}, "n/a"))
        h.append("</section>")
        return "".join(h), ""
    warn = _float(d.get("threshold_warn"), D.WARN)
    alarm = _float(d.get("threshold_alarm"), D.ALARM)
    items = []
    for name, v in d["psi"].items():
        fv = _float(v, float("nan"))
        items.append((str(name), fv, D.classify(fv, warn, alarm)))
    items.sort(key=lambda it: (it[0] == "score", it[0]))
    alarms = [n for n, _, lv in items if lv == "alarm"]
    warns = [n for n, _, lv in items if lv == "warn"]
    if d.get("reference_window"):
        h.append(
            f'<p class="muted">Population stability index (PSI) of each signal family and '
            f"of the score, tonight against the training window "
            f"<b>{esc(d['reference_window'])}</b>. Below {warn:g}: stable; {warn:g}–{alarm:g}: "
            f"shifted, worth a look; {alarm:g} and above: the population has moved.</p>"
        )
    else:
        h.append(
            f'<p class="muted">Population stability index (PSI) against the training window. '
            f"Below {warn:g}: stable; {warn:g}–{alarm:g}: shifted; {alarm:g} and above: moved.</p>"
        )
    h.append('<div class="drift-grid"><div>' + G.psi_bars(items, warn, alarm) + "</div>")
    h.append(
        '<table class="small-table"><thead><tr><th>family</th><th>PSI</th><th>state</th>'
        "</tr></thead><tbody>"
    )
    for name, v, lv in items:
        val = f"{v:.3f}" if math.isfinite(v) else "n/a"
        h.append(
            f'<tr class="lvl-{esc(lv)}" data-testid="drift-row" data-family="{esc(name)}" '
            f'data-level="{esc(lv)}"><td>{esc(name)}</td><td class="n">{val}</td>'
            f'<td><span class="badge {esc(lv)}">{esc(lv)}</span></td></tr>'
        )
    h.append("</tbody></table></div>")
    banner = ""
    if alarms:
        msg = (
            f"Distrust the model tonight: {', '.join(alarms)} moved away from the training "
            f"window (PSI ≥ {alarm:g}). Treat tonight's flags as leads, review them by hand, "
            f"and have the model checked or retrained before acting on scores alone."
        )
        h.append(f'<p class="alarm-msg">{esc(msg)}</p>')
        banner = (
            f'<div class="banner alarm" data-testid="drift-alarm">{esc(msg)} '
            f'<a href="#drift">drift panel</a></div>'
        )
    elif warns:
        h.append(
            f'<p class="warn-msg">Shifted: {esc(", ".join(warns))} (PSI ≥ {warn:g}). '
            f"Flags are usable; watch the next nights.</p>"
        )
    else:
        h.append('<p class="ok-msg">Every family is stable against the training window.</p>')
    score_level = next((lv for n, _, lv in items if n == "score"), "n/a")
    h.append(_estimate(d, score_level))
    h.append("</section>")
    return "".join(h), banner


def _estimate(d: dict, score_level: str) -> str:
    """The label-free estimate of tonight's precision and recall (``drift.json``'s
    ``estimate``): what the calibrated probabilities expect the verdicts to be."""
    e = d.get("estimate")
    if not isinstance(e, dict):
        return ""

    def share(key: str) -> str:
        v = _float(e.get(key), float("nan"))
        return f"{v:.0%}" if math.isfinite(v) else "n/a"

    def count(key: str) -> str:
        v = _float(e.get(key), float("nan"))
        return f"{v:,.0f}" if math.isfinite(v) else "n/a"

    trust = {
        "ok": "The score is stable against the training window, so the estimate can be "
              "trusted about as far as the calibration was on the test window.",
        "warn": "The score has shifted: read the estimate as a rough guide.",
        "alarm": "The score has moved away from the training window: the estimate is a "
                 "guess until tonight's verdicts come in.",
    }.get(score_level, "No score drift figure: the estimate assumes the calibration holds.")
    return (
        '<div data-testid="estimate"><h3>Before any verdict: what the scores expect</h3>'
        f'<p>Of tonight\'s <b data-testid="estimate-flagged">{count("flagged")}</b> flagged '
        f'posts (of {count("posts")} scored), about '
        f'<b data-testid="estimate-precision">{share("expected_precision")}</b> should be '
        f"confirmed as fake by review: the mean of their calibrated probabilities, an "
        f"expectation, not a measurement. {esc(trust)}</p></div>"
    )


def _float(v, default: float) -> float:
    try:
        f = float(v)
    except (TypeError, ValueError):
        return default
    return f


def _post_rows(night: Night, top: int) -> tuple[str, dict, int, int]:
    s = night.scores
    fl = s[s["flagged"]]
    total = len(fl)
    order = np.lexsort((fl["post_id"].to_numpy(), -fl["probability"].fillna(-1).to_numpy()))
    fl = fl.iloc[order[:top]] if top >= 0 else fl.iloc[order]
    data = {"p": [], "t": [], "b": [], "c": [], "q": []}
    rows = []
    for i, r in enumerate(fl.itertuples(index=False)):
        title = clean_text(r.title)
        body = clean_text(r.body)[:BODY_MAX]
        brands = list(r.brand_ids)
        cluster = r.cluster_id if r.cluster_id is not None and not pd.isna(r.cluster_id) else ""
        prob = (
            float(r.probability)
            if r.probability is not None and math.isfinite(r.probability)
            else 0.0
        )
        reasons = list(r.reasons)
        dp = r.disclosed_partnership
        dp = None if dp is None or pd.isna(dp) else bool(dp)
        fam = _family(r.family_contrib)
        data["p"].append(round(prob, 5))
        data["t"].append(int(_epoch(r.published_at)))
        data["b"].append([clean_text(b) for b in brands])
        data["c"].append(clean_text(cluster))
        data["q"].append(
            clean_text(
                " ".join(
                    [
                        title,
                        body[:SEARCH_MAX],
                        str(r.account_id),
                        " ".join(brands),
                        str(cluster),
                        r.post_id,
                        " ".join(reasons),
                    ]
                )
            ).lower()
        )
        level = "hi" if prob >= 0.9 else ("mid" if prob >= 0.7 else "lo")
        shown, rest = body[:BODY_SHOWN], body[BODY_SHOWN:]
        body_html = esc(shown)
        if rest:
            body_html += f"<details><summary>more</summary>{esc(rest)}</details>"
        badges = ""
        if dp:
            badges += (
                '<span class="badge ok" title="the post carries the platform\'s partnership '
                'label: a declared promotion, never a brand violation">declared partnership</span>'
            )
        reasons_html = (
            "".join(f"<li>{esc(x)}</li>" for x in reasons[:5])
            or '<li class="muted">no reasons recorded</li>'
        )
        rows.append(
            f'<article class="post" data-testid="flagged-row" data-i="{i}" '
            f'data-post-id="{esc(r.post_id)}">'
            f'<div class="ph"><span class="prob {level}" data-testid="post-probability" '
            f'style="--p:{prob:.3f}">{prob * 100:.1f}%</span>'
            f'<h3 data-testid="post-title">{esc(title) or "(no title)"}</h3></div>'
            f'<div class="meta"><span class="acct" title="author">@{esc(r.account_id)}</span> · '
            f'<time>{_fmt_time(r.published_at)}</time> · <span class="pid">{esc(r.post_id)}</span> '
            f"{_chips(brands, 'brand', 'fb')}"
            f"{_chips([cluster] if cluster else [], 'cluster', 'fc')}{badges}</div>"
            f'<div class="pb"><div class="txt">'
            f'<p class="body" data-testid="post-body">{body_html}</p>'
            f'<ul class="reasons" data-testid="post-reasons">{reasons_html}</ul></div>'
            f'<div class="viz">{G.sparkline(_curve(r.curve), _curve(r.account_usual_curve))}'
            f'<div class="legend"><i class="lc"></i>this post <i class="lu"></i>'
            f"author's usual</div>"
            f"{G.family_bars(fam)}</div></div></article>"
        )
    return "".join(rows), data, total, len(rows)


def _flagged_section(night: Night, top: int) -> tuple[str, str, int]:
    rows, data, total, rendered = _post_rows(night, top)
    brand_counts = Counter(b for bs in data["b"] for b in bs)
    cluster_counts = Counter(c for c in data["c"] if c)
    left_out = total - rendered
    brand_opts = "".join(
        f'<option value="{esc(b)}">{esc(b)} ({n})</option>'
        for b, n in sorted(brand_counts.items(), key=lambda kv: (-kv[1], kv[0]))
    )
    cluster_opts = "".join(
        f'<option value="{esc(c)}">{esc(c)} ({n})</option>'
        for c, n in sorted(cluster_counts.items(), key=lambda kv: (-kv[1], kv[0]))[:500]
    )
    left = (
        f'<p class="note" data-testid="left-out">Showing the top <b data-testid="rendered-count">'
        f"{rendered:,}</b> of {total:,} flagged posts by probability; "
        f'<b data-testid="left-out-count" data-value="{left_out}">{left_out:,}</b> with lower '
        f"probability are not in this page (all of them are in scores.parquet; "
        f"<code>fakeugc report --top N</code> renders more).</p>"
        if left_out > 0
        else f'<p class="muted">All <b data-testid="rendered-count">{rendered:,}</b> flagged posts '
        f'are shown (<span data-testid="left-out-count" data-value="0">0</span> left out).</p>'
    )
    h = (
        f'<section id="flagged"><h2>Flagged posts</h2>{left}'
        f'<div class="controls" role="search">'
        f'<input type="search" id="f-text" data-testid="filter-text" placeholder="search text, '
        f'author, brand, cluster…" aria-label="search">'
        f'<select id="f-brand" data-testid="filter-brand" aria-label="brand">'
        f'<option value="">all brands'
        f"</option>{brand_opts}</select>"
        f'<select id="f-cluster" data-testid="filter-cluster" aria-label="cluster">'
        f'<option value="">'
        f"all clusters</option>{cluster_opts}</select>"
        f'<label>min probability <input type="number" id="f-minp" '
        f'data-testid="filter-min-probability" '
        f'min="0" max="1" step="0.01" value="0"></label>'
        f'<label>sort <select id="f-sort" data-testid="sort-by">'
        f'<option value="prob-desc">probability ↓</option>'
        f'<option value="prob-asc">probability ↑</option>'
        f'<option value="time-desc">newest first</option>'
        f'<option value="time-asc">oldest first</option>'
        f'<option value="brand">brand A–Z</option></select></label>'
        f'<button type="button" id="f-reset" data-testid="filter-reset">reset</button>'
        f'<span class="count"><b id="visible-count" data-testid="visible-count">{rendered}</b> of '
        f"{rendered:,} shown</span></div>"
        f'<div id="flagged-list" data-testid="flagged-list">{rows}</div>'
        f'<p class="muted" id="none-match" hidden>No post matches the filters.</p></section>'
    )
    return h, json_for_script(data), rendered


def _campaigns(night: Night) -> str:
    s = night.scores
    h = ['<section id="campaigns" data-testid="campaigns"><h2>Campaigns: coordinated clusters</h2>']
    c = s[s["cluster_id"].notna()]
    if c.empty:
        h.append(
            '<p class="muted">No coordinated clusters tonight (or the scorer wrote no '
            "cluster_id).</p></section>"
        )
        return "".join(h)
    g = c.groupby("cluster_id", sort=False)
    stats = pd.DataFrame(
        {
            "size": g.size(),
            "flagged": g["flagged"].sum(),
            "accounts": g["account_id"].nunique(),
            "pmax": g["probability"].max(),
        }
    )
    with_flags = stats[stats["flagged"] > 0].sort_values(
        ["flagged", "size", "pmax"], ascending=False
    )
    others = len(stats) - len(with_flags)
    shown = with_flags.head(MAX_CAMPAIGNS)
    h.append(
        f'<p class="muted">{len(with_flags):,} clusters hold flagged posts'
        + (f"; the {len(shown)} largest are shown" if len(with_flags) > len(shown) else "")
        + (f"; {others:,} more clusters have no flagged post" if others else "")
        + ". A cluster is a set of posts the scorer found coordinated (near-identical text, "
        "the same brands and a tight time window across different accounts).</p>"
    )
    if shown.empty:
        h.append("</section>")
        return "".join(h)
    idx = g.indices
    h.append(
        '<table class="tbl"><thead><tr><th>cluster</th><th>posts</th><th>flagged</th>'
        "<th>accounts</th><th>brands</th><th>time span</th><th>posts over time</th>"
        "<th>sample texts</th></tr></thead><tbody>"
    )
    for cid, st in shown.iterrows():
        sub = c.iloc[idx[cid]]
        times = [_epoch(t) for t in sub["published_at"]]
        valid = [t for t in times if t]
        t0, t1 = (min(valid), max(valid)) if valid else (0.0, 1.0)
        brands = Counter(b for bs in sub["brand_ids"] for b in bs).most_common(3)
        accounts = sub["account_id"].astype(str).value_counts().index[:6].tolist()
        span_h = (t1 - t0) / 3600 if valid else 0
        span = (
            f"{_fmt_time(pd.Timestamp(t0, unit='s', tz='UTC'))} → "
            f"{_fmt_time(pd.Timestamp(t1, unit='s', tz='UTC'))} ({span_h:.1f} h)"
            if valid
            else "—"
        )
        samples = sub.sort_values("probability", ascending=False).head(3)
        sample_html = "".join(
            f"<li>{esc((clean_text(t) + ' — ' + clean_text(b))[:140])}</li>"
            for t, b in zip(samples["title"], samples["body"], strict=False)
        )
        more_acc = int(st["accounts"]) - len(accounts)
        h.append(
            f'<tr data-testid="campaign-row" data-cluster="{esc(cid)}">'
            f'<td>{_chips([cid], "cluster", "fc")}</td><td class="n">{int(st["size"]):,}</td>'
            f'<td class="n">{int(st["flagged"]):,}</td>'
            f'<td>{int(st["accounts"]):,}<div class="small">'
            + ", ".join("@" + esc(a) for a in accounts)
            + (f" +{more_acc}" if more_acc > 0 else "")
            + "</div></td><td>"
            + (
                "".join(
                    f'{_chips([b], "brand", "fb")}<span class="small">×{n}</span> '
                    for b, n in brands
                )
                or '<span class="muted">none</span>'
            )
            + f'</td><td class="small">{span}</td>'
            f"<td>{G.timeline_strip(times, sub['flagged'].tolist(), t0, t1)}</td>"
            f'<td><ul class="samples">{sample_html}</ul></td></tr>'
        )
    h.append("</tbody></table></section>")
    return "".join(h)


def _accounts(night: Night) -> str:
    s = night.scores
    tonight = Counter(s.loc[s["flagged"], "account_id"].astype(str))
    per_night = []
    for p in night.previous:
        if p.account_id.size == p.flagged.size and p.account_id.size:
            per_night.append(Counter(p.account_id[p.flagged].tolist()))
        else:
            per_night.append(Counter())
    prev_total = Counter()
    for cnt in per_night:
        prev_total.update(cnt)
    rows = [
        (a, n, prev_total.get(a, 0)) for a, n in tonight.items() if n + prev_total.get(a, 0) >= 2
    ]
    rows.sort(key=lambda r: (-(r[1] + r[2]), -r[1], r[0]))
    h = ['<section id="accounts" data-testid="accounts"><h2>Accounts with repeated flags</h2>']
    nights = len(night.previous)
    h.append(
        f'<p class="muted">Authors flagged tonight with at least two flags tonight or over '
        f"the previous {nights} night(s) shown: {len(rows):,}"
        + (f"; the first {MAX_ACCOUNTS} are listed" if len(rows) > MAX_ACCOUNTS else "")
        + ".</p>"
    )
    if not rows:
        h.append("</section>")
        return "".join(h)
    fl = s[s["flagged"]]
    by_acc = fl.groupby(fl["account_id"].astype(str)).indices
    labels = [p.export_date for p in night.previous] + [night.export_date or "tonight"]
    h.append(
        '<table class="tbl"><thead><tr><th>account</th><th>tonight</th><th>previous nights</th>'
        "<th>flags per night</th><th>brands</th><th>clusters</th><th>max probability</th>"
        "</tr></thead><tbody>"
    )
    for a, n, prev in rows[:MAX_ACCOUNTS]:
        sub = fl.iloc[by_acc[a]]
        brands = Counter(b for bs in sub["brand_ids"] for b in bs).most_common(4)
        clusters = sorted({c for c in sub["cluster_id"] if c is not None and not pd.isna(c)})[:4]
        series = [cnt.get(a, 0) for cnt in per_night] + [n]
        h.append(
            f'<tr data-testid="account-row" data-account="{esc(a)}"><td class="acct">@{esc(a)}</td>'
            f'<td class="n">{n}</td><td class="n">{prev}</td>'
            f"<td>{G.mini_bars(series, labels)}</td>"
            f"<td>{_chips([b for b, _ in brands], 'brand', 'fb')}</td>"
            f"<td>{_chips(clusters, 'cluster', 'fc')}</td>"
            f'<td class="n">{sub["probability"].max() * 100:.1f}%</td></tr>'
        )
    h.append("</tbody></table></section>")
    return "".join(h)


_LEVEL_BY_TIER = {None: "ok", "warning": "warn"}


def _brands(night: Night, ledger: dict | None, ledger_note: str, start_points: int) -> str:
    s = night.scores
    fl = s[s["flagged"]]
    ex = fl[["post_id", "account_id", "brand_ids", "cluster_id", "probability"]].explode(
        "brand_ids"
    )
    ex = ex[ex["brand_ids"].notna() & (ex["brand_ids"] != "")]
    tonight = {}
    if not ex.empty:
        g = ex.groupby("brand_ids")
        agg = pd.DataFrame(
            {
                "posts": g["post_id"].nunique(),
                "accounts": g["account_id"].nunique(),
                "clusters": g["cluster_id"].nunique(),
                "pmean": g["probability"].mean(),
            }
        )
        tonight = {b: r for b, r in agg.iterrows()}
    brands = set(tonight) | set(ledger or {})
    h = [
        '<section id="brands" data-testid="brands"><h2>Brands and their violation ledger</h2>',
        f'<p class="muted">{esc(ledger_note)}</p>',
    ]
    if not brands:
        h.append('<p class="muted">No brand is tagged on tonight\'s flagged posts.</p></section>')
        return "".join(h)

    def key(b):
        st = (ledger or {}).get(b)
        return (st.points if st else start_points, -(tonight[b]["posts"] if b in tonight else 0), b)

    ordered = sorted(brands, key=key)
    h.append(
        '<table class="tbl"><thead><tr><th>brand</th><th>flagged tonight</th><th>accounts</th>'
        "<th>clusters</th><th>points left</th><th>action</th><th>violations</th></tr>"
        "</thead><tbody>"
    )
    for b in ordered[:MAX_BRANDS]:
        st = (ledger or {}).get(b)
        t = tonight.get(b)
        points = st.points if st else start_points
        tier = st.tier if st else None
        level = "ok" if tier is None else ("warn" if tier == "warning" else "alarm")
        action = "—" if st is None or tier is None else st.action
        when = ""
        if st is not None and st.since:
            when = (
                f'<div class="small">since {esc(st.since[:10])}'
                + (f" until {esc(st.until[:10])}" if st.until and st.until != st.since else "")
                + ("" if st.in_force else " (ended)")
                + "</div>"
            )
        viol = (
            (
                f"{st.violations} counted"
                + (f", {st.exempt} declared partnership" if st.exempt else "")
                + (f", {st.revoked} revoked" if st.revoked else "")
            )
            if st
            else "none recorded"
        )
        h.append(
            f'<tr data-testid="brand-row" data-brand="{esc(b)}" data-points="{points}">'
            f"<td>{_chips([b], 'brand', 'fb')}</td>"
            f'<td class="n">{int(t["posts"]) if t is not None else 0}</td>'
            f'<td class="n">{int(t["accounts"]) if t is not None else 0}</td>'
            f'<td class="n">{int(t["clusters"]) if t is not None else 0}</td>'
            f"<td>{G.points_gauge(points, start_points, level)} <b>{points}</b></td>"
            f'<td><span class="badge {level}">{esc(tier or "ok")}</span> {esc(action)}{when}</td>'
            f'<td class="small">{esc(viol)}</td></tr>'
        )
    h.append("</tbody></table>")
    if len(ordered) > MAX_BRANDS:
        h.append(f'<p class="muted">{len(ordered) - MAX_BRANDS:,} more brands not listed.</p>')
    h.append("</section>")
    return "".join(h)


# --------------------------------------------------------------------------- page

CSS = """
:root{--fg:#1d2330;--muted:#6b7280;--line:#e5e7eb;--bg:#f7f7f8;--card:#fff;--red:#d4343b;
--amber:#d98b06;--green:#2f8f4e;--blue:#2d5fb8}
*{box-sizing:border-box}
body{margin:0;font:14px/1.45 system-ui,-apple-system,"Segoe UI","Noto Sans CJK SC",
"WenQuanYi Zen Hei",
"PingFang SC","Microsoft YaHei",sans-serif,"Noto Color Emoji";color:var(--fg);background:var(--bg)}
header{background:#1d2330;color:#fff;padding:14px 24px}
header h1{margin:0;font-size:20px}header .sub{color:#c7cbd3;font-size:13px}
nav{position:sticky;top:0;z-index:5;background:#fff;border-bottom:1px solid var(--line);
padding:6px 24px}
nav a{margin-right:14px;color:var(--blue);text-decoration:none}
main{padding:0 24px 40px;max-width:1400px}
section{background:var(--card);border:1px solid var(--line);border-radius:8px;padding:14px 18px;
margin:16px 0}
h2{font-size:17px;margin:0 0 10px}
.cards{display:flex;flex-wrap:wrap;gap:12px;margin-bottom:10px}
.card{border:1px solid var(--line);border-radius:8px;padding:10px 14px;min-width:150px}
.card .big{font-size:26px;font-weight:650}.card .big.small{font-size:17px}.ver{color:var(--muted)}
.card .lbl{color:var(--muted)}.card .sub{font-size:12px;color:var(--muted)}
.charts-row{display:flex;flex-wrap:wrap;gap:24px}figure{margin:6px 0}
figcaption{font-weight:600;margin-bottom:4px}
.muted{color:var(--muted)}.small{font-size:12px;color:var(--muted)}
.note{background:#fff7e6;border-left:3px solid var(--amber);padding:6px 10px}
.banner{padding:10px 24px;font-weight:600}
.banner.alarm{background:#fde8e8;color:#8a1c1c;border-bottom:2px solid var(--red)}
.alarm-msg{color:#8a1c1c;font-weight:600}.warn-msg{color:#8a5a00}.ok-msg{color:var(--green)}
.drift-grid{display:flex;flex-wrap:wrap;gap:24px;align-items:flex-start}
table{border-collapse:collapse}
th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top}
th{font-weight:600;font-size:12px;color:var(--muted)}
td.n{text-align:right;font-variant-numeric:tabular-nums}
.tbl{width:100%}.small-table{margin:6px 0}
.badge{display:inline-block;border-radius:10px;padding:0 8px;font-size:12px;background:#eef0f3}
.badge.ok{background:#e4f4ea;color:#1f6b3a}.badge.warn{background:#fff1d6;color:#8a5a00}
.badge.alarm{background:#fde1e1;color:#8a1c1c}.badge.unknown{background:#eee}
.controls{display:flex;flex-wrap:wrap;gap:8px;align-items:center;position:sticky;top:33px;
z-index:4;
background:#fff;padding:8px 0;border-bottom:1px solid var(--line)}
.controls input[type=search]{min-width:260px}
.controls input,.controls select,.controls button{font:inherit;padding:3px 6px}
.controls input[type=number]{width:70px}.count{margin-left:auto}
.post{border-bottom:1px solid var(--line);padding:10px 0;content-visibility:auto;
contain-intrinsic-size:auto 150px}
.post[hidden]{display:none}
.ph{display:flex;gap:10px;align-items:baseline}
.ph h3{margin:0;font-size:15px;overflow-wrap:anywhere}
.prob{font-weight:700;font-variant-numeric:tabular-nums;min-width:56px;padding:1px 6px;
border-radius:4px;color:#fff}
.prob.hi{background:var(--red)}.prob.mid{background:#e0672f}.prob.lo{background:var(--amber)}
.meta{font-size:12px;color:var(--muted);margin:3px 0}.pid{font-family:ui-monospace,monospace}
.acct{color:var(--fg);font-weight:600}
.chip{border:1px solid var(--line);background:#f3f4f6;border-radius:10px;padding:0 7px;
margin:0 2px;
font-size:12px;cursor:pointer;color:var(--fg);white-space:nowrap}
.chip.brand{background:#eef3fc;border-color:#c9d8f3}
.chip.cluster{background:#f6eefc;border-color:#dcc9f3}
.pb{display:flex;gap:16px;justify-content:space-between}.txt{flex:1;min-width:0}
.body{margin:4px 0;white-space:pre-wrap;overflow-wrap:anywhere}
.reasons{margin:4px 0;padding-left:18px;color:#374151}
.viz{width:200px;flex:none}.legend{font-size:11px;color:var(--muted)}
.legend i{display:inline-block;width:12px;height:2px;vertical-align:middle;margin:0 3px}
.legend .lc{background:var(--red)}.legend .lu{border-top:2px dashed #9ca3af;height:0}
svg text{font-size:10px;fill:#4b5563}svg .axis{font-size:10px}svg .small{font-size:9px}
.spark .curve{fill:none;stroke:var(--red);stroke-width:1.5}
.spark .usual{fill:none;stroke:#9ca3af;stroke-width:1.2;stroke-dasharray:3 2}
.chart .bar,.mini .bar{fill:var(--blue)}.chart .prevbar,.mini .prevbar{fill:#b8c4da}
.chart .prev{fill:none;stroke:#9ca3af;stroke-width:1.2;opacity:.8}
.chart .grid{stroke:#eef0f3}.chart .tick{stroke:#9ca3af}
.chart .thr{stroke:var(--red);stroke-dasharray:4 3}
.psi.ok{fill:var(--green)}.psi.warn{fill:var(--amber)}.psi.alarm{fill:var(--red)}
.psi.unknown{fill:#9ca3af}
.warnline{stroke:var(--amber);stroke-dasharray:3 3}
.alarmline{stroke:var(--red);stroke-dasharray:3 3}
.fam .pos{fill:var(--red)}.fam .neg{fill:var(--green)}.zero{stroke:#9ca3af}
.strip .tf{stroke:var(--red);stroke-width:1.5}.strip .tn{stroke:#9ca3af}
.gauge .cell{fill:#eef0f3}.gauge .on.ok{fill:var(--green)}.gauge .on.warn{fill:var(--amber)}
.gauge .on.alarm{fill:var(--red)}
.samples{margin:0;padding-left:16px;font-size:12px;max-width:420px;overflow-wrap:anywhere}
details{display:inline}summary{cursor:pointer;color:var(--blue);display:inline}
footer{color:var(--muted);font-size:12px;padding:0 24px 24px}
"""

JS = """
(function(){
'use strict';
var D=JSON.parse(document.getElementById('rows-data').textContent);
var list=document.getElementById('flagged-list');
var rows=Array.prototype.slice.call(list.children);
var ft=document.getElementById('f-text'),fb=document.getElementById('f-brand'),
fc=document.getElementById('f-cluster'),fp=document.getElementById('f-minp'),
fs=document.getElementById('f-sort'),cnt=document.getElementById('visible-count'),
none=document.getElementById('none-match');
function apply(){
var t=ft.value.trim().toLowerCase(),b=fb.value,c=fc.value,p=parseFloat(fp.value)||0,n=0;
for(var i=0;i<rows.length;i++){
var ok=D.p[i]>=p&&(!b||D.b[i].indexOf(b)>=0)&&(!c||D.c[i]===c)&&(!t||D.q[i].indexOf(t)>=0);
if(rows[i].hidden===ok)rows[i].hidden=!ok;if(ok)n++;}
cnt.textContent=String(n);none.hidden=n>0;}
function bkey(i){return D.b[i].length?D.b[i][0].toLowerCase():'\\uffff';}
function sort(){
var k=fs.value,idx=rows.map(function(_,i){return i;});
idx.sort(function(a,b){
if(k==='prob-asc')return D.p[a]-D.p[b]||a-b;
if(k==='time-desc')return D.t[b]-D.t[a]||a-b;
if(k==='time-asc')return D.t[a]-D.t[b]||a-b;
if(k==='brand'){var x=bkey(a),y=bkey(b);return x<y?-1:x>y?1:a-b;}
return a-b;});
var f=document.createDocumentFragment();idx.forEach(function(i){f.appendChild(rows[i]);});
list.appendChild(f);}
var timer=null;
ft.addEventListener('input',function(){clearTimeout(timer);timer=setTimeout(apply,120);});
[fb,fc,fp].forEach(function(el){el.addEventListener('change',apply);el.addEventListener('input',apply);});
fs.addEventListener('change',sort);
document.getElementById('f-reset').addEventListener('click',function(){
ft.value='';fb.value='';fc.value='';fp.value='0';fs.value='prob-desc';sort();apply();});
function pick(sel,v){for(var i=0;i<sel.options.length;i++){
if(sel.options[i].value===v){sel.value=v;return true;}}return false;}
document.addEventListener('click',function(e){
var el=e.target.closest?e.target.closest('[data-fb],[data-fc]'):null;if(!el)return;
if(el.hasAttribute('data-fb')){if(!pick(fb,el.getAttribute('data-fb')))return;}
else{if(!pick(fc,el.getAttribute('data-fc')))return;}
apply();document.getElementById('flagged').scrollIntoView();});
document.documentElement.setAttribute('data-ready','1');
})();
"""


def _script_hash(js: str) -> str:
    return "sha256-" + base64.b64encode(hashlib.sha256(js.encode("utf-8")).digest()).decode()


def build_report(
    night: Night,
    *,
    top: int = DEFAULT_TOP,
    ledger: dict | None = None,
    ledger_note: str = "",
    start_points: int = 10,
    generated_at: datetime | None = None,
) -> tuple[str, dict]:
    """The report page for one night as a string, and its counts."""
    gen = (generated_at or datetime.now(UTC)).strftime("%Y-%m-%d %H:%M UTC")
    flagged_html, data_json, rendered = _flagged_section(night, top)
    summary_html, counts = _summary(night, top, rendered)
    drift_html, banner = _drift(night)
    m = night.model
    title = f"fakeugc · flagged content · {night.export_date or night.path.name}"
    csp = (
        f"default-src 'none'; script-src '{_script_hash(JS)}'; style-src 'unsafe-inline'; "
        f"img-src data:; base-uri 'none'; form-action 'none'"
    )
    page = [
        '<!doctype html><html lang="zh-Hans"><head><meta charset="utf-8">',
        f'<meta http-equiv="Content-Security-Policy" content="{csp}">',
        '<meta name="viewport" content="width=device-width, initial-scale=1">',
        f"<title>{esc(title)}</title><style>{CSS}</style></head><body>",
        f'<header><h1>{esc(title)}</h1><div class="sub">model {esc(m.get("name") or "—")} '
        f"v{esc(m.get('version') or '?')} · generated {esc(gen)} by fakeugc {esc(__version__)} · "
        f"{esc(str(night.path))}</div></header>",
        banner,
        '<nav><a href="#summary">summary</a><a href="#drift">drift</a>'
        '<a href="#flagged">flagged posts'
        '</a><a href="#campaigns">campaigns</a><a href="#accounts">accounts</a><a href="#brands">'
        "brands</a></nav><main>",
        summary_html,
        drift_html,
        flagged_html,
        _campaigns(night),
        _accounts(night),
        _brands(night, ledger, ledger_note, start_points),
        "</main><footer>Post text is shown as written by its author and never interpreted. "
        "Probabilities are calibrated: 90% means about 9 in 10 such posts are confirmed fake. "
        "Record verdicts with <code>fakeugc review SCORES_DIR</code>; confirmed verdicts feed the "
        "brand ledger (<code>fakeugc ledger show</code>) and the next training run.</footer>",
        f'<script type="application/json" id="rows-data">{data_json}</script>',
        f"<script>{JS}</script></body></html>\n",
    ]
    return "".join(page), counts


def render_report(
    scores_dir: str | Path,
    out: str | Path,
    *,
    top: int = DEFAULT_TOP,
    store_path: str | Path | None = None,
    rules_path: str | Path | None = None,
    previous_nights: int = 7,
) -> dict:
    """Read ``scores_dir`` (and the ledger), write the report to ``out`` atomically.

    Returns the counts shown in the summary plus the output path.
    """
    from fakeugc.reports import ledger as L
    from fakeugc.reports import store as S

    night = load_night(scores_dir, previous_nights=previous_nights)
    rules = L.load_rules(rules_path)
    path = S.resolve_store_path(store_path)
    ledger = L.read_ledger(path, rules)
    if ledger is None:
        note = (
            f"No ledger yet ({path} does not exist): no verdict has been recorded. Every "
            f"brand starts with {rules.start_points} points."
        )
    else:
        note = (
            f"Ledger {path}, as of {datetime.now(UTC):%Y-%m-%d %H:%M} UTC: start "
            f"{rules.start_points} points, −{rules.points_per_violation} per confirmed "
            f"violation"
            + (f" within {rules.window_days} days" if rules.window_days else "")
            + "; declared partnerships never count."
        )
    page, counts = build_report(
        night, top=top, ledger=ledger, ledger_note=note, start_points=rules.start_points
    )
    write_text_atomic(page, out)
    counts["out"] = str(Path(out).absolute())
    counts["export_date"] = night.export_date
    counts["previous_nights"] = [p.export_date for p in night.previous]
    counts["bytes"] = len(page.encode("utf-8"))
    return counts
