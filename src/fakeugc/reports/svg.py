"""Small inline SVG charts, drawn in Python: the report needs no network and no JS to show them.

Every label that could come from data goes through :func:`esc`. Coordinates are
rounded to keep the page small (a night renders a couple of thousand sparklines).
"""

from __future__ import annotations

import html
import math
import re
from collections.abc import Sequence

# lone surrogates (cannot be encoded) and control characters (HTML parse errors)
_BAD_CHARS = re.compile("[\x00-\x08\x0b\x0c\x0e-\x1f\x7f\ud800-\udfff]")


def clean_text(value) -> str:
    """``str(value)`` with characters HTML and UTF-8 cannot carry replaced by U+FFFD."""
    if value is None:
        return ""
    return _BAD_CHARS.sub("\ufffd", str(value))


def esc(value) -> str:
    """Escape for HTML text *and* attribute values (``& < > " '``)."""
    return html.escape(clean_text(value), quote=True)


def _f(x: float) -> str:
    """Compact coordinate."""
    r = round(x, 1)
    return str(int(r)) if r == int(r) else f"{r:.1f}"


def _finite(values) -> list[float]:
    out = []
    for v in values if values is not None else []:
        try:
            x = float(v)
        except (TypeError, ValueError):
            x = 0.0
        out.append(x if math.isfinite(x) and x >= 0 else 0.0)
    return out


def sparkline(curve, usual=None, width: int = 196, height: int = 44) -> str:
    """The post's hourly exposure (red) over its first hours against the account's usual
    curve (grey, dashed), on one scale. A post bought into exposure shows a spike
    where its author's posts normally stay flat."""
    c = _finite(curve)
    u = _finite(usual)
    if not c and not u:
        return (
            f'<svg class="spark" width="{width}" height="{height}" role="img" '
            f'aria-label="no exposure curve" data-testid="sparkline">'
            f'<text x="4" y="{height // 2 + 4}" class="muted">no curve</text></svg>'
        )
    n = max(len(c), len(u), 2)
    top = max(c + u + [1e-9])
    pad = 2.0

    def pts(vals):
        sx = (width - 2 * pad) / (n - 1)
        sy = (height - 2 * pad) / top
        return " ".join(
            f"{_f(pad + i * sx)},{_f(height - pad - v * sy)}" for i, v in enumerate(vals)
        )

    peak = max(c) if c else 0.0
    peak_h = c.index(peak) if c else 0
    upeak = max(u) if u else 0.0
    label = (
        f"exposure, first {len(c)} h: peak {peak:,.0f}/h at hour {peak_h}; "
        f"author's usual peak {upeak:,.0f}/h"
        if u
        else f"exposure, first {len(c)} h: peak {peak:,.0f}/h at hour {peak_h}; no usual curve"
    )
    parts = [
        f'<svg class="spark" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{esc(label)}" data-testid="sparkline"><title>{esc(label)}</title>'
    ]
    if len(u) >= 2:
        parts.append(f'<polyline class="usual" points="{pts(u)}"/>')
    if len(c) >= 2:
        parts.append(f'<polyline class="curve" points="{pts(c)}"/>')
    parts.append("</svg>")
    return "".join(parts)


def logit(p: float) -> float:
    p = min(max(p, 1e-6), 1 - 1e-6)
    return math.log(p / (1 - p))


PROB_TICKS = (0.001, 0.01, 0.1, 0.5, 0.9, 0.99, 0.999)


def score_histogram(
    edges: Sequence[float],
    tonight: Sequence[float],
    previous: Sequence[tuple[str, Sequence[float]]],
    *,
    tonight_label: str,
    threshold: float | None = None,
    width: int = 640,
    height: int = 200,
) -> str:
    """Tonight's score distribution (bars) against previous nights (grey lines).

    ``edges`` are bin edges on the log-odds axis, ``tonight`` and each previous
    night's values the share of posts per bin. Ticks are labelled in probability.
    """
    ml, mr, mt, mb = 36, 10, 14, 34
    pw, ph = width - ml - mr, height - mt - mb
    lo, hi = edges[0], edges[-1]
    ymax = max([*tonight, *(v for _, fr in previous for v in fr), 1e-9])
    ymax = _nice_max(ymax)

    def x(v):
        return ml + (min(max(v, lo), hi) - lo) / (hi - lo) * pw

    def y(v):
        return mt + ph - v / ymax * ph

    out = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" data-testid="score-histogram" aria-label="score distribution">'
        f"<title>share of scored posts per probability bin: tonight (bars) and the "
        f"previous nights (lines)</title>"
    ]
    # grid and y labels
    for k in range(0, 5):
        v = ymax * k / 4
        out.append(
            f'<line class="grid" x1="{ml}" x2="{ml + pw}" y1="{_f(y(v))}" y2="{_f(y(v))}"/>'
            f'<text class="axis" x="{ml - 4}" y="{_f(y(v) + 3)}" text-anchor="end">'
            f"{v * 100:.3g}%</text>"
        )
    for i, v in enumerate(tonight):
        x0, x1 = x(edges[i]), x(edges[i + 1])
        out.append(
            f'<rect class="bar" x="{_f(x0 + 0.5)}" y="{_f(y(v))}" '
            f'width="{_f(max(x1 - x0 - 1, 0.5))}" '
            f'height="{_f(mt + ph - y(v))}"><title>{v * 100:.2f}% of posts</title></rect>'
        )
    mids = [(edges[i] + edges[i + 1]) / 2 for i in range(len(edges) - 1)]
    for label, fr in previous:
        pts = " ".join(f"{_f(x(m))},{_f(y(v))}" for m, v in zip(mids, fr, strict=False))
        out.append(f'<polyline class="prev" points="{pts}"><title>{esc(label)}</title></polyline>')
    for p in PROB_TICKS:
        xv = x(logit(p))
        out.append(
            f'<line class="tick" x1="{_f(xv)}" x2="{_f(xv)}" y1="{mt + ph}" y2="{mt + ph + 4}"/>'
            f'<text class="axis" x="{_f(xv)}" y="{mt + ph + 15}" text-anchor="middle">'
            f"{p:g}</text>"
        )
    if threshold is not None and 0 < threshold < 1:
        xv = x(logit(threshold))
        out.append(
            f'<line class="thr" x1="{_f(xv)}" x2="{_f(xv)}" y1="{mt}" y2="{mt + ph}"/>'
            f'<text class="axis thr-label" x="{_f(xv + 3)}" y="{mt + 8}">threshold '
            f"{threshold:.2f}</text>"
        )
    out.append(
        f'<text class="axis" x="{ml + pw / 2}" y="{height - 3}" text-anchor="middle">'
        f"probability (log-odds axis) · bars: {esc(tonight_label)} · grey lines: previous "
        f"nights ({len(previous)})</text>"
    )
    out.append("</svg>")
    return "".join(out)


def _nice_max(v: float) -> float:
    if v <= 0:
        return 1.0
    e = 10 ** math.floor(math.log10(v))
    for m in (1, 2, 2.5, 5, 10):
        if v <= m * e:
            return m * e
    return 10 * e


def night_bars(
    items: Sequence[tuple[str, float, int, bool]], width: int = 300, height: int = 120
) -> str:
    """Share of posts flagged per night: (label, share, flagged, is_tonight)."""
    if not items:
        return ""
    ml, mb, mt = 6, 28, 16
    ph = height - mb - mt
    bw = (width - 2 * ml) / len(items)
    top = _nice_max(max(s for _, s, _, _ in items) or 1e-9)
    out = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" data-testid="flag-rate-chart" aria-label="share flagged per night">'
        f"<title>share of scored posts flagged, per night</title>"
    ]
    for i, (label, share, flagged, tonight) in enumerate(items):
        h = share / top * ph
        x0 = ml + i * bw
        out.append(
            f'<rect class="{"bar" if tonight else "bar prevbar"}" x="{_f(x0 + 2)}" '
            f'y="{_f(mt + ph - h)}" width="{_f(max(bw - 4, 1))}" height="{_f(h)}">'
            f"<title>{esc(label)}: {flagged:,} flagged ({share * 100:.2f}%)</title></rect>"
            f'<text class="axis" x="{_f(x0 + bw / 2)}" y="{_f(mt + ph - h - 3)}" '
            f'text-anchor="middle">{share * 100:.1f}%</text>'
            f'<text class="axis" x="{_f(x0 + bw / 2)}" y="{height - 14}" '
            f'text-anchor="middle">{esc(label[5:] if len(label) == 10 else label)}</text>'
        )
    out.append(
        f'<text class="axis" x="{width / 2}" y="{height - 2}" text-anchor="middle">'
        f"share flagged per night</text></svg>"
    )
    return "".join(out)


def psi_bars(
    items: Sequence[tuple[str, float, str]], warn: float, alarm: float, width: int = 520
) -> str:
    """One horizontal bar per family: (name, psi, level in ok/warn/alarm/unknown)."""
    if not items:
        return ""
    row, ml, mr = 22, 110, 60
    height = row * len(items) + 26
    pw = width - ml - mr
    top = max(max((v for _, v, _ in items if math.isfinite(v)), default=0), alarm * 1.6)

    def x(v):
        return ml + min(max(v, 0), top) / top * pw

    out = [
        f'<svg class="chart" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="population stability index per family">'
        f"<title>PSI per signal family against the training window</title>"
    ]
    for i, (name, v, level) in enumerate(items):
        y0 = 4 + i * row
        val = f"{v:.3f}" if math.isfinite(v) else "n/a"
        out.append(
            f'<text class="axis lbl" x="{ml - 6}" y="{y0 + 13}" text-anchor="end">'
            f"{esc(name)}</text>"
            f'<rect class="psi {esc(level)}" x="{ml}" y="{y0 + 2}" '
            f'width="{_f(max(x(v if math.isfinite(v) else 0) - ml, 1))}" height="{row - 7}">'
            f"<title>{esc(name)}: PSI {val} ({esc(level)})</title></rect>"
            f'<text class="axis" x="{_f(x(v if math.isfinite(v) else 0) + 4)}" '
            f'y="{y0 + 13}">{val}</text>'
        )
    yb = 4 + len(items) * row
    for v, cls, lab in ((warn, "warnline", "warn"), (alarm, "alarmline", "alarm")):
        out.append(
            f'<line class="{cls}" x1="{_f(x(v))}" x2="{_f(x(v))}" y1="2" y2="{yb}"/>'
            f'<text class="axis" x="{_f(x(v))}" y="{yb + 14}" text-anchor="middle">'
            f"{lab} {v:g}</text>"
        )
    out.append("</svg>")
    return "".join(out)


def family_bars(contrib: dict[str, float] | None, width: int = 196, row: int = 11) -> str:
    """The model's log-odds push per signal family for one post (right: towards fake)."""
    if not contrib:
        return ""
    items = sorted(
        (
            (k, float(v))
            for k, v in contrib.items()
            if isinstance(v, int | float) and math.isfinite(float(v))
        ),
        key=lambda kv: -abs(kv[1]),
    )[:6]
    if not items:
        return ""
    ml = 70
    height = row * len(items) + 2
    half = (width - ml) / 2
    top = max(abs(v) for _, v in items) or 1.0
    mid = ml + half
    out = [
        f'<svg class="fam" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="signal families"><title>log-odds per signal family '
        f"(right: towards fake)</title>"
    ]
    for i, (k, v) in enumerate(items):
        w = abs(v) / top * (half - 2)
        x0 = mid if v >= 0 else mid - w
        out.append(
            f'<text class="axis small" x="{ml - 3}" y="{i * row + 8}" text-anchor="end">'
            f'{esc(k[:14])}</text><rect class="{"pos" if v >= 0 else "neg"}" x="{_f(x0)}" '
            f'y="{i * row + 1}" width="{_f(max(w, 0.5))}" height="{row - 3}">'
            f"<title>{esc(k)}: {v:+.2f}</title></rect>"
        )
    out.append(f'<line class="zero" x1="{_f(mid)}" x2="{_f(mid)}" y1="0" y2="{height}"/></svg>')
    return "".join(out)


def timeline_strip(
    times: Sequence[float],
    flagged: Sequence[bool],
    t0: float,
    t1: float,
    width: int = 200,
    height: int = 22,
) -> str:
    """A campaign's posts on its time span: one tick per post (red: flagged)."""
    span = max(t1 - t0, 1.0)
    out = [
        f'<svg class="strip" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="posts over the time span"><title>posts over the campaign\'s '
        f'time span (red: flagged)</title><line class="zero" x1="0" x2="{width}" '
        f'y1="{height - 2}" y2="{height - 2}"/>'
    ]
    for t, f in zip(times, flagged, strict=False):
        xv = 2 + (t - t0) / span * (width - 4)
        out.append(
            f'<line class="{"tf" if f else "tn"}" x1="{_f(xv)}" x2="{_f(xv)}" y1="3" '
            f'y2="{height - 3}"/>'
        )
    out.append("</svg>")
    return "".join(out)


def points_gauge(points: int, start: int, level: str, width: int = 110, height: int = 14) -> str:
    """The brand's remaining points as a row of cells (filled: remaining)."""
    start = max(int(start), 1)
    cw = width / start
    out = [
        f'<svg class="gauge" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="{int(points)} of {start} points"><title>{int(points)} of '
        f"{start} points left</title>"
    ]
    for i in range(start):
        cls = f"cell on {esc(level)}" if i < points else "cell"
        out.append(
            f'<rect class="{cls}" x="{_f(i * cw + 0.5)}" y="1" width="{_f(cw - 1.5)}" '
            f'height="{height - 2}"/>'
        )
    out.append("</svg>")
    return "".join(out)


def mini_bars(
    values: Sequence[int], labels: Sequence[str], width: int = 90, height: int = 18
) -> str:
    """Tiny bars, e.g. an account's flags per night (last one: tonight)."""
    if not values:
        return ""
    top = max(max(values), 1)
    bw = width / len(values)
    out = [
        f'<svg class="mini" width="{width}" height="{height}" viewBox="0 0 {width} {height}" '
        f'role="img" aria-label="flags per night">'
    ]
    for i, (v, lab) in enumerate(zip(values, labels, strict=False)):
        h = v / top * (height - 2)
        cls = "bar" if i == len(values) - 1 else "bar prevbar"
        out.append(
            f'<rect class="{cls}" x="{_f(i * bw + 0.5)}" y="{_f(height - h)}" '
            f'width="{_f(max(bw - 1, 0.5))}" height="{_f(max(h, 0.5 if v else 0))}">'
            f"<title>{esc(lab)}: {v}</title></rect>"
        )
    out.append("</svg>")
    return "".join(out)
