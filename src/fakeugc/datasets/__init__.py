"""Adapters: public data sets in their original release layout -> the export contract.

Each adapter reads one public release exactly as its authors distribute it and
writes an export directory (``posts.parquet``, ``labels.parquet`` and, where
the release has them, ``accounts.parquet`` and ``exposure.parquet``) that the
reader accepts with nothing set aside:

``ced``
    thunlp/Chinese_Rumor_Dataset, folder ``CED_Dataset/`` (Song et al. 2018).
``ott``
    Deceptive Opinion Spam Corpus v1.4, folder ``op_spam_v1.4/`` (Ott et al.).
``weibo21``
    The MDFEND release of Weibo21, ``train.pkl`` / ``val.pkl`` / ``test.pkl``
    (or the same tables as JSON) (Nan et al. 2021).

Usage: ``fakeugc datasets convert {ced,ott,weibo21} SOURCE --out DIR`` or
:func:`convert`. The data stays where the user put it; nothing is downloaded.
"""

from __future__ import annotations

from pathlib import Path

from fakeugc.datasets._common import Conversion, write_export

ADAPTERS = ("ced", "ott", "weibo21")


def convert(name: str, source: str | Path, out: str | Path) -> Conversion:
    """Convert the release of data set ``name`` found at ``source`` into ``out``."""
    source = Path(source)
    if not source.exists():
        raise FileNotFoundError(f"{source}: no such file or directory")
    if name == "ced":
        from fakeugc.datasets.ced import convert_ced as fn
    elif name == "ott":
        from fakeugc.datasets.ott import convert_ott as fn
    elif name == "weibo21":
        from fakeugc.datasets.weibo21 import convert_weibo21 as fn
    else:
        raise ValueError(f"unknown data set {name!r}; known: {', '.join(ADAPTERS)}")
    conversion = fn(source)
    write_export(conversion, out)
    return conversion


__all__ = ["ADAPTERS", "Conversion", "convert", "write_export"]
