"""From exports to model-ready post frames, night by night.

Night-wide context is computed per export (one night), exactly as the nightly
scorer computes it, so a feature means the same thing in training and scoring
and uses only data that exists when the night is scored.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fakeugc.features._frame import build_post_frame
from fakeugc.io.reader import Export

LABEL_COLUMNS = ["label", "fraud_type", "labelled_at", "split", "hard_case"]


def nights(export: Export) -> list[tuple[str, dict[str, pd.DataFrame]]]:
    """Split an :class:`Export` read from several export folders into one table
    dict per folder (a night). Brands are shared by all nights."""
    srcs = [str(s) for s in export.sources]
    out = []
    for src in srcs:
        tables = {}
        for name, df in export.tables.items():
            origin = export.origins.get(name)
            if name == "brands" or origin is None:
                tables[name] = df
            else:
                tables[name] = df.loc[origin == src].reset_index(drop=True)
        out.append((src, tables))
    return out


def night_name(src: str) -> str:
    name = Path(src).name
    return name.split("=", 1)[1] if name.startswith("export_date=") else name


def brand_vocabulary(export: Export) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Brand names and aliases: jieba user words and (brand_id, term) pairs."""
    brands = export.get("brands")
    if brands is None or brands.empty:
        return (), ()
    words, terms = [], []
    for row in brands.itertuples(index=False):
        names = [row.name] + list(getattr(row, "aliases", None) or [])
        for n in names:
            if isinstance(n, str) and n.strip():
                words.append(n.strip())
                terms.append((str(row.brand_id), n.strip()))
    return tuple(dict.fromkeys(words)), tuple(dict.fromkeys(terms))


def attach_labels(frame: pd.DataFrame, labels: pd.DataFrame | None) -> pd.DataFrame:
    """Left-join the human-review labels on post_id (unlabelled posts get NaN)."""
    out = frame.copy()
    if labels is None or labels.empty:
        for c in LABEL_COLUMNS:
            out[c] = np.nan if c == "label" else None
        return out
    lab = labels.drop_duplicates("post_id", keep="last").set_index("post_id")
    for c in LABEL_COLUMNS:
        out[c] = lab[c].reindex(out["post_id"]).to_numpy() if c in lab.columns else None
    out["label"] = pd.to_numeric(out["label"], errors="coerce")
    return out


@dataclass
class NightFrames:
    """Every night of the exports as a tokenized post frame with context and labels."""

    frame: pd.DataFrame  # all posts, with `night`, ctx_ columns and label columns

    @property
    def labelled(self) -> pd.DataFrame:
        return self.frame[self.frame["label"].notna()].reset_index(drop=True)


def build_night_frames(export: Export, tokenizer, families, extra_labels=None,
                       pipeline=None) -> NightFrames:
    """Post frames for every night, tokenized once, with night-wide context."""
    from fakeugc.features._pipeline import add_context

    parts = []
    for src, tables in nights(export):
        if tables["posts"].empty:
            continue
        frame = build_post_frame(tables)
        frame = tokenizer.transform(frame)
        frame = add_context(frame, families, pipeline=pipeline)
        labels = tables.get("labels")
        if extra_labels is not None and not extra_labels.empty:
            known = set(frame["post_id"])
            extra = extra_labels[extra_labels["post_id"].isin(known)]
            labels = extra if labels is None else pd.concat([labels, extra], ignore_index=True)
        frame = attach_labels(frame, labels)
        frame["night"] = night_name(src)
        parts.append(frame)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    return NightFrames(frame)
