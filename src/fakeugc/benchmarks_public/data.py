"""The benchmark sets as the pipeline sees them: read through the export reader.

Every set is read with :func:`fakeugc.io.read_export` -- the only way data is
read -- and turned into one tokenized post frame with night-wide context and
the labels table's columns (``label``, ``split``, ``polarity``, ``hotel``,
``domain``) joined on.

The shared Ott export repeats 800 post ids: the corpus's file names (e.g.
``t_hilton_1``) occur once under each polarity, so the reader (correctly)
sets the second copy aside as ``duplicate_key``. Its labels table has the same
duplication but carries ``polarity``, and both tables list the rows in the
same order. :func:`corrected_ott_export` rebuilds a corrected export in a
temporary folder -- post ids suffixed with the polarity, as the Ott adapter
writes them -- after checking that the two tables really line up, and the
benchmark reads *that* through the reader.
"""

from __future__ import annotations

import re
import tempfile
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow.parquet as pq

from fakeugc.datasets.ott import post_id as ott_post_id
from fakeugc.features._frame import build_post_frame
from fakeugc.features._lexicon import lexicon_words
from fakeugc.features._pipeline import add_context
from fakeugc.features._text import TokenizeText
from fakeugc.io import read_export
from fakeugc.io.reader import Export

FOLDERS = {"ced": "ced-weibo-rumour", "ott": "ott-op-spam", "weibo21": "weibo21"}
LABEL_EXTRAS = ("split", "polarity", "hotel", "domain")


@dataclass
class BenchData:
    """One benchmark set: the tables as read, and the labelled, tokenized post frame."""

    name: str
    export: Export
    frame: pd.DataFrame
    source: Path
    notes: list[str] = field(default_factory=list)

    @property
    def read_summary(self) -> dict:
        return self.export.summary()["tables"]


# ----------------------------------------------------------------------------- Ott fix

_OTT_ID = re.compile(r"^ott-([dt])_([a-z]+)_(\d+)$")
_POSITIVE_WORDS = frozenset(
    "great wonderful excellent amazing loved love perfect beautiful friendly comfortable "
    "fantastic best recommend enjoyed helpful lovely nice clean spacious".split())
_NEGATIVE_WORDS = frozenset(
    "dirty rude worst terrible horrible disappointed disappointing never awful poor bad "
    "unhelpful complain complained smell broken noisy refund manager stained filthy".split())


class AlignmentError(ValueError):
    """The shared Ott posts and labels tables do not line up row by row."""


def _sentiment(text: str) -> int:
    words = re.findall(r"[a-z]+", (text or "").lower())
    return sum(w in _POSITIVE_WORDS for w in words) - sum(w in _NEGATIVE_WORDS for w in words)


def check_ott_alignment(posts: pd.DataFrame, labels: pd.DataFrame) -> dict:
    """Check that posts row i and labels row i are the same review; raise otherwise.

    * both tables have the same number of rows and the same post ids in the same order;
    * each id's class prefix (``d``/``t``) agrees with ``label`` and its hotel with
      ``hotel``;
    * every (id, polarity) pair is unique, so suffixing the polarity gives unique ids;
    * the polarity, which the ids cannot confirm (each id occurs under both), agrees
      with the text: a small sentiment lexicon must side with ``polarity`` for most
      reviews (it does for about 80%; swapped halves would give about 20%).
    """
    if len(posts) != len(labels):
        raise AlignmentError(f"posts has {len(posts)} rows, labels {len(labels)}")
    if not np.array_equal(posts["post_id"].to_numpy(), labels["post_id"].to_numpy()):
        first = int(np.flatnonzero(posts["post_id"].to_numpy()
                                   != labels["post_id"].to_numpy())[0])
        raise AlignmentError(f"posts and labels are not in the same order of ids "
                             f"(first difference at row {first})")
    parts = posts["post_id"].str.extract(_OTT_ID)
    if parts.isna().any().any():
        raise AlignmentError("unexpected post ids (expected ott-<d|t>_<hotel>_<n>)")
    if not ((parts[0] == "d").astype(int).to_numpy() == labels["label"].to_numpy()).all():
        raise AlignmentError("an id's class prefix disagrees with its label")
    if "hotel" in labels and not (parts[1].to_numpy() == labels["hotel"].to_numpy()).all():
        raise AlignmentError("an id's hotel disagrees with labels.hotel")
    pairs = pd.DataFrame({"id": posts["post_id"], "polarity": labels["polarity"]})
    if pairs.duplicated().any():
        raise AlignmentError("an (id, polarity) pair occurs twice: suffixing is not enough")
    sentiment = np.array([_sentiment(t) for t in posts["body"].fillna("")])
    agree = float(((sentiment > 0) == (labels["polarity"].to_numpy() == "positive")).mean())
    if agree < 0.65:
        raise AlignmentError(f"review texts do not match labels.polarity (a sentiment "
                             f"lexicon agrees with it for only {agree:.0%} of reviews)")
    return {"rows": len(posts), "duplicated_ids": int(posts["post_id"].duplicated().sum()),
            "polarity_text_agreement": round(agree, 3)}


def corrected_ott_export(source: Path, out: Path) -> dict:
    """Write a corrected copy of the shared Ott export into ``out``: unique post ids
    ``ott-<stem>-<polarity>`` (also the account ids: one pseudo-account per post).
    Reads the Parquet files directly (it is a repair of the files, not a read of the
    data); returns the alignment check."""
    posts = pq.read_table(source / "posts.parquet").to_pandas()
    labels = pq.read_table(source / "labels.parquet").to_pandas()
    check = check_ott_alignment(posts, labels)
    new_ids = [ott_post_id(pid.removeprefix("ott-"), pol)
               for pid, pol in zip(posts["post_id"], labels["polarity"], strict=True)]
    posts = posts.assign(post_id=new_ids, account_id=new_ids)
    labels = labels.assign(post_id=new_ids)
    out.mkdir(parents=True, exist_ok=True)
    posts.to_parquet(out / "posts.parquet", index=False)
    labels.to_parquet(out / "labels.parquet", index=False)
    return check


# ----------------------------------------------------------------------------- frames


def cut_exposure(export: Export, hours: int | None) -> Export:
    """The export with the exposure table cut to ``hour < hours`` (early detection:
    what is known ``hours`` after publication). ``None`` keeps it whole."""
    exposure = export.get("exposure")
    if hours is None or exposure is None:
        return export
    tables = dict(export.tables)
    tables["exposure"] = exposure[exposure["hour"] < hours].reset_index(drop=True)
    return Export(tables, export.quarantine, export.stats, export.sources, export.files,
                  export.origins)


def tokenizer() -> TokenizeText:
    """The pipeline's tokenizer with its default dictionary (the benchmark sets have no
    brands table, so no brand words)."""
    return TokenizeText(user_words=tuple(lexicon_words())).fit(pd.DataFrame({"x": [0]}))


def labelled_frame(export: Export, families, tokens: pd.DataFrame | None = None) -> pd.DataFrame:
    """Post frame (tokenized, with night-wide context over the whole set -- context uses
    posts, accounts and exposure, never labels) of the labelled posts, with the labels
    table's columns. ``tokens`` (``text_raw``, ``text_norm``, ``tokens`` by post_id)
    reuses an earlier segmentation."""
    frame = build_post_frame(export)
    if tokens is not None:
        tok = tokens.reindex(frame["post_id"].to_numpy())
        for c in tok.columns:
            frame[c] = tok[c].to_numpy()
    else:
        frame = tokenizer().transform(frame)
    frame = add_context(frame, families)
    labels = export.get("labels")
    if labels is None or labels.empty:
        raise ValueError("the benchmark set has no labels table")
    lab = labels.drop_duplicates("post_id").set_index("post_id")
    frame["label"] = lab["label"].reindex(frame["post_id"]).to_numpy(dtype=float)
    for c in LABEL_EXTRAS:
        if c in lab.columns:
            frame[c] = lab[c].reindex(frame["post_id"]).to_numpy()
    frame = frame[frame["label"].notna()].reset_index(drop=True)
    frame["label"] = frame["label"].astype(int)
    return frame


def token_columns(frame: pd.DataFrame) -> pd.DataFrame:
    return frame.set_index("post_id")[["text_raw", "text_norm", "tokens"]]


def _has_duplicate_ids(source: Path) -> bool:
    """The shared Ott export repeats ids; one converted by ``fakeugc datasets convert
    ott`` does not (and is read as it is)."""
    path = source / "posts.parquet"
    if not path.is_file():
        return False
    ids = pq.read_table(path, columns=["post_id"]).column("post_id").to_pandas()
    return bool(ids.duplicated().any())


def load_set(name: str, root: Path, families, workdir: Path | None = None) -> BenchData:
    """Read benchmark set ``name`` under ``root`` (``../shared/benchmarks``)."""
    source = Path(root) / FOLDERS[name]
    if not source.is_dir():
        raise FileNotFoundError(f"{source}: benchmark set not found")
    notes = []
    if name == "ott" and _has_duplicate_ids(source):
        tmp = Path(workdir or tempfile.mkdtemp(prefix="fakeugc-ott-")) / "ott-corrected"
        check = corrected_ott_export(source, tmp)
        original = read_export(source)
        dup = original.stats["posts"].reasons
        notes.append(f"shared Ott export: {original.stats['posts'].set_aside} posts set aside "
                     f"by the reader ({dict(dup)}); read instead a corrected copy with "
                     f"polarity-suffixed ids (alignment check: {check})")
        export = read_export(tmp)
    else:
        export = read_export(source)
    for tname, st in export.stats.items():
        if st.set_aside:
            notes.append(f"{tname}: {st.set_aside} rows set aside by the reader "
                         f"({dict(st.reasons)})")
    frame = labelled_frame(export, families)
    return BenchData(name, export, frame, source, notes)


def subsample(frame: pd.DataFrame, n: int, seed: int, group: str = "account_id",
              stratify: str | None = None) -> pd.DataFrame:
    """About ``n`` rows of whole groups (``--quick``); with ``stratify``, the same share
    of every value of that column (e.g. each official split)."""
    if len(frame) <= n:
        return frame
    rng = np.random.default_rng(seed)
    parts = [frame] if stratify is None else [g for _, g in frame.groupby(stratify, sort=True)]
    keep = []
    for part in parts:
        target = max(2, round(n * len(part) / len(frame)))
        groups = part[group].unique()
        rng.shuffle(groups)
        sizes = part.groupby(group).size().reindex(groups).to_numpy()
        take = groups[: int(np.searchsorted(np.cumsum(sizes), target)) + 1]
        keep.append(part[part[group].isin(set(take))])
    return pd.concat(keep).sort_index().reset_index(drop=True)
