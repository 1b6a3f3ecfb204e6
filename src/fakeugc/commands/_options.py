"""Options several commands share, declared once so their help and defaults agree."""

from __future__ import annotations

import argparse
from pathlib import Path


def add_store_options(p: argparse.ArgumentParser) -> None:
    """``--store`` (the analysts' SQLite store) and ``--rules`` (brand points rules)."""
    p.add_argument("--store", type=Path, default=None,
                   help="analysts' store (default: $FAKEUGC_STORE or data/fakeugc.sqlite)")
    p.add_argument("--rules", type=Path, default=None,
                   help="brand points rules (default: pipelines/brand_points.yaml)")
