"""Deceptive Opinion Spam Corpus v1.4 (Ott et al.) -> the export contract.

Release layout (``op_spam_v1.4/``)::

    positive_polarity/deceptive_from_MTurk/fold1/d_hilton_1.txt
    positive_polarity/truthful_from_TripAdvisor/fold1/t_hilton_1.txt
    negative_polarity/deceptive_from_MTurk/fold1/d_hilton_1.txt
    negative_polarity/truthful_from_Web/fold1/t_hilton_1.txt
    ...  (fold1..fold5, the corpus's own hotel-grouped cross-validation folds)

Files are named ``<c>_<hotel>_<i>.txt`` with ``c`` = ``d``\\ eceptive or
``t``\\ ruthful. **The same file name occurs under both polarities** (there is a
``d_hilton_1.txt`` among the positive and among the negative reviews), so the
file name alone is not a key: the post id is ``ott-<stem>-<polarity>``, e.g.
``ott-d_hilton_1-positive``.

Mapping: one post per review (``body`` = the file's text, ``title`` empty),
one pseudo-account per post (``account_id`` = ``post_id``: the corpus has no
authors), a placeholder ``published_at``; ``labels`` with ``label`` = 1 for
deceptive (paid Mechanical Turk writers), ``split`` = the fold folder,
``polarity`` and ``hotel``. The class given by the folder and by the file-name
prefix must agree, else the file is skipped and counted.
"""

from __future__ import annotations

import re
from pathlib import Path

import pandas as pd

from fakeugc.datasets._common import PLACEHOLDER_TIME, Conversion, utc

_NAME = re.compile(r"^([dt])_([a-z]+)_(\d+)$")
POLARITIES = ("negative", "positive")


def post_id(stem: str, polarity: str) -> str:
    """The unique post id of review file ``stem`` of ``polarity``."""
    return f"ott-{stem}-{polarity}"


def find_root(source: Path) -> Path:
    """The folder holding ``positive_polarity/`` and/or ``negative_polarity/``."""
    for c in (source, source / "op_spam_v1.4", *source.glob("*/op_spam_v1.4")):
        if any((c / f"{p}_polarity").is_dir() for p in POLARITIES):
            return c
    raise FileNotFoundError(
        f"{source}: no positive_polarity/ or negative_polarity/ folder "
        "(expected the op_spam_v1.4/ folder of the Deceptive Opinion Spam corpus)"
    )


def _read_text(path: Path) -> str:
    data = path.read_bytes()
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        text = data.decode("latin-1")
    return text.strip()


def convert_ott(source: Path) -> Conversion:
    root = find_root(Path(source))
    skipped: dict[str, int] = {}
    posts, labels = [], []
    for polarity in POLARITIES:
        pol_dir = root / f"{polarity}_polarity"
        if not pol_dir.is_dir():
            continue
        for cls_dir in sorted(d for d in pol_dir.iterdir() if d.is_dir()):
            kind = cls_dir.name.split("_", 1)[0]
            if kind not in ("deceptive", "truthful"):
                skipped["unknown_class_folder"] = skipped.get("unknown_class_folder", 0) + 1
                continue
            for fold_dir in sorted(d for d in cls_dir.iterdir() if d.is_dir()):
                for f in sorted(fold_dir.glob("*.txt")):
                    m = _NAME.match(f.stem)
                    if not m:
                        skipped["unexpected_file_name"] = \
                            skipped.get("unexpected_file_name", 0) + 1
                        continue
                    if (m.group(1) == "d") != (kind == "deceptive"):
                        skipped["class_prefix_disagrees_with_folder"] = \
                            skipped.get("class_prefix_disagrees_with_folder", 0) + 1
                        continue
                    pid = post_id(f.stem, polarity)
                    posts.append({"post_id": pid, "account_id": pid, "title": "",
                                  "body": _read_text(f)})
                    labels.append({"post_id": pid, "label": int(kind == "deceptive"),
                                   "split": fold_dir.name, "polarity": polarity,
                                   "hotel": m.group(2)})
    if not posts:
        raise FileNotFoundError(f"{root}: no review files (*/fold*/*.txt)")
    posts_df = pd.DataFrame(posts)
    posts_df.insert(2, "published_at", utc([PLACEHOLDER_TIME] * len(posts_df)))
    lab_df = pd.DataFrame(labels).astype({"label": "int64"})
    return Conversion("ott", root, {"posts": posts_df, "labels": lab_df}, skipped,
                      ["post_id = ott-<file stem>-<polarity>: file names repeat across "
                       "polarities"])
