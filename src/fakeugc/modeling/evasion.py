"""Evasion tests: does a flag survive the edits a seeding writer makes to dodge it?

Labels are an attack surface and so is text: once a platform filters keywords,
writers of paid posts switch to full-width letters, zero-width spaces, emoji or
spaces wedged inside words, traditional characters, and reorder their sentences
(调整语序) so that copies of one brief stop looking alike. Each *evasion* here
rewrites the title and body of every labelled fake post of the nights given (the
genuine posts are left as they are), and the nights are then built exactly as the
nightly scorer builds them (read, normalise, segment, night context, features,
booster, calibration): the flags that survive are the ones the defences (the text
normaliser, the coordination clusters) hold.

The figures per evasion: the fake posts' recall at the model's threshold before and
after, the share of previously flagged fake posts that lose their flag, and the mean
change of the booster's log-odds. A defended evasion loses (almost) nothing; a large
loss names a gap to close. Every rewrite is seeded, so a rerun gives the same figures.
"""

from __future__ import annotations

import random
import re
from collections.abc import Callable
from functools import lru_cache, partial

import numpy as np
import pandas as pd

from fakeugc.modeling.data import as_matrix, night_name, prepare_nights, select_nights

_CJK_PAIR = re.compile("(?<=[\u3400-\u9fff])(?=[\u3400-\u9fff])")
_SENTENCE = re.compile(r"(?<=[。！？!?\n~～])")
_EMOJI = ("😊", "✨", "💕", "🔥", "👍", "🌸")


def _fullwidth(text: str, rng: random.Random) -> str:
    """ASCII letters, digits and punctuation to their full-width forms (ＹＹＤＳ)."""
    return "".join(chr(ord(c) + 0xFEE0) if "!" <= c <= "~" else "\u3000" if c == " " else c
                   for c in text)


def _wedge(fill: Callable[[random.Random], str], share: float) -> Callable:
    """Insert ``fill()`` between two Chinese characters at ``share`` of the places."""
    def edit(text: str, rng: random.Random) -> str:
        return _CJK_PAIR.sub(lambda _m: fill(rng) if rng.random() < share else "", text)
    return edit


@lru_cache(maxsize=1)
def _to_traditional():
    from opencc import OpenCC

    return OpenCC("s2t")


def _traditional(text: str, rng: random.Random) -> str:
    return _to_traditional().convert(text)


def _sentence_order(text: str, rng: random.Random) -> str:
    """The sentences of the text in another order (调整语序)."""
    parts = [p for p in _SENTENCE.split(text) if p]
    if len(parts) < 2:
        return text
    rng.shuffle(parts)
    return "".join(parts)


def _combined(text: str, rng: random.Random) -> str:
    for kind in ("sentence_order", "traditional", "fullwidth", "zero_width",
                 "emoji_inside_words"):
        text = EVASIONS[kind](text, rng)
    return text


#: name -> rewrite(text, rng). The first five are what the text normaliser claims to
#: undo; ``sentence_order`` tests the paraphrase clusters; ``combined`` stacks them.
EVASIONS: dict[str, Callable[[str, random.Random], str]] = {
    "fullwidth": _fullwidth,
    "zero_width": _wedge(lambda rng: "\u200b", 0.5),
    "emoji_inside_words": _wedge(lambda rng: rng.choice(_EMOJI), 0.25),
    "spaces_inside_words": _wedge(lambda rng: rng.choice((" ", "\u3000")), 0.25),
    "traditional": _traditional,
    "sentence_order": _sentence_order,
}
EVASIONS["combined"] = _combined


def evade_text(text, kind: str, seed: int, key: str = "") -> str:
    """``text`` rewritten by evasion ``kind``; the same (seed, key) gives the same text."""
    if not isinstance(text, str) or not text:
        return text
    return EVASIONS[kind](text, random.Random(f"{seed}:{kind}:{key}"))


def evade_fake_posts(posts: pd.DataFrame, labels: pd.DataFrame | None, kind: str,
                     seed: int = 0) -> pd.DataFrame:
    """The night's posts table with the title and body of its labelled fake posts
    rewritten by ``kind`` (every other column and every other post as it was)."""
    if labels is None or labels.empty:
        return posts
    lab = labels.drop_duplicates("post_id", keep="last")
    fake = set(lab.loc[pd.to_numeric(lab["label"], errors="coerce") == 1, "post_id"])
    mask = posts["post_id"].isin(fake).to_numpy()
    if not mask.any():
        return posts
    out = posts.copy()
    ids = out["post_id"].to_numpy()
    for col in ("title", "body"):
        if col in out:
            values = out[col].to_numpy(dtype=object).copy()
            values[mask] = [evade_text(v, kind, seed, f"{i}:{col}")
                            for v, i in zip(values[mask], ids[mask], strict=True)]
            out[col] = values
    return out


def _score_nights(bundle, sources, edit=None) -> tuple[pd.DataFrame, np.ndarray]:
    """Labelled posts of ``sources`` and the booster's log-odds, each night built as the
    scorer builds it, with ``edit`` applied to its posts table first (never cached)."""
    nf, _, _ = prepare_nights(sources, bundle.pipeline.named_steps["tokenize"],
                              bundle.families, bundle.pipeline, labelled_only=True,
                              edit_posts=edit)
    lab = nf.labelled
    if lab.empty:
        return pd.DataFrame(columns=["post_id", "label"]), np.zeros(0)
    X = as_matrix(bundle.pipeline.named_steps["features"].transform(lab)[bundle.feature_names])
    return lab, bundle.margin(X)


def evasion_report(bundle, exports, kinds=None, seed: int = 0, nights=None) -> dict:
    """Recall of the labelled fake posts before and after each evasion (see the module
    docstring). ``nights`` limits the export folders read (each evasion rebuilds them:
    one text pass per evasion)."""
    kinds = list(kinds or EVASIONS)
    unknown = set(kinds) - set(EVASIONS)
    if unknown:
        raise ValueError(f"unknown evasions {sorted(unknown)}; known: {list(EVASIONS)}")
    sources = select_nights(exports, nights)
    base, margin = _score_nights(bundle, sources)
    fake = base["label"].to_numpy() == 1
    if not fake.any():
        raise ValueError("no labelled fake posts in these nights to evade with")
    thr = bundle.threshold
    flagged = bundle.calibrator.predict(margin) >= thr
    out = {"threshold": float(thr), "seed": seed, "nights": [night_name(str(s)) for s in sources],
           "fake_posts": int(fake.sum()), "recall_before": float(flagged[fake].mean()),
           "evasions": {}}
    for kind in kinds:
        lab, m = _score_nights(bundle, sources, partial(evade_fake_posts, kind=kind, seed=seed))
        if lab["post_id"].tolist() != base["post_id"].tolist():  # pragma: no cover
            raise RuntimeError("an evasion changed which posts are labelled")
        now = bundle.calibrator.predict(m) >= thr
        out["evasions"][kind] = {
            "recall": float(now[fake].mean()),
            "flags_lost": float((flagged & ~now)[fake].sum() / max(int(flagged[fake].sum()), 1)),
            "mean_logodds_change": float(np.mean(m[fake] - margin[fake])),
            "genuine_flags_changed": int((now != flagged)[~fake].sum()),
        }
    return out


def format_evasion(report: dict) -> str:
    """Plain-text table of :func:`evasion_report`."""
    lines = [f"evasion tests: {report['fake_posts']} fake posts, recall before "
             f"{report['recall_before']:.3f} at threshold {report['threshold']:.3f}",
             f"{'evasion':<22}{'recall':>9}{'flags lost':>12}{'Δ log-odds':>12}"]
    for kind, row in report["evasions"].items():
        lines.append(f"{kind:<22}{row['recall']:>9.3f}{row['flags_lost']:>12.1%}"
                     f"{row['mean_logodds_change']:>12.2f}")
    return "\n".join(lines)
