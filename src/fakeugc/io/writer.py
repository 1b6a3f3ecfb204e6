"""Atomic writers: a reader never sees half a file or half a folder.

Files are written beside their target and renamed over it; folders are
written to a temporary sibling, the old folder moved aside, the new one renamed
in, and a ``_SUCCESS`` marker written last.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
import uuid
from collections.abc import Callable
from pathlib import Path

import pandas as pd

SUCCESS = "_SUCCESS"


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def _publish_mode(path: str | Path) -> None:
    """mkstemp creates 0600 files; give the result the permissions a plain open() would."""
    os.chmod(path, 0o666 & ~_umask())


def _fsync_dir(path: Path) -> None:
    try:
        fd = os.open(path, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def write_bytes_atomic(data: bytes, target: str | Path) -> Path:
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    try:
        with os.fdopen(fd, "wb") as f:
            f.write(data)
            f.flush()
            os.fsync(f.fileno())
        _publish_mode(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    _fsync_dir(target.parent)
    return target


def write_text_atomic(text: str, target: str | Path) -> Path:
    return write_bytes_atomic(text.encode("utf-8"), target)


def write_json_atomic(obj, target: str | Path) -> Path:
    return write_text_atomic(
        json.dumps(obj, ensure_ascii=False, indent=2, sort_keys=True, default=str) + "\n", target
    )


def write_table_atomic(df: pd.DataFrame, target: str | Path) -> Path:
    """Write a DataFrame as Parquet (or CSV when the name ends in .csv), atomically."""
    target = Path(target)
    target.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
    os.close(fd)
    try:
        if target.suffix == ".csv":
            df.to_csv(tmp, index=False)
        else:
            df.to_parquet(tmp, index=False)
        _publish_mode(tmp)
        os.replace(tmp, target)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return target


def commit_directory(
    target: str | Path, fill: Callable[[Path], dict | None]
) -> Path:
    """Build a folder atomically.

    ``fill(tmp_dir)`` writes everything into a temporary sibling of ``target``
    and may return a manifest dict, written as ``_SUCCESS`` last. The old
    ``target`` (if any) is moved aside and removed only after the new one is in
    place, so at every instant ``target`` is either the old complete folder, absent,
    or the new complete one.
    """
    target = Path(target).absolute()
    target.parent.mkdir(parents=True, exist_ok=True)
    tmp = target.parent / f".{target.name}.tmp-{uuid.uuid4().hex[:8]}"
    tmp.mkdir()
    try:
        manifest = fill(tmp) or {}
        write_json_atomic(manifest, tmp / SUCCESS)
        _fsync_dir(tmp)
        old = None
        if target.exists():
            old = target.parent / f".{target.name}.old-{uuid.uuid4().hex[:8]}"
            os.replace(target, old)
        os.replace(tmp, target)
        _fsync_dir(target.parent)
        if old is not None:
            shutil.rmtree(old, ignore_errors=True)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return target


def is_complete(folder: str | Path) -> bool:
    """A folder written by :func:`commit_directory` is complete iff its marker exists."""
    return (Path(folder) / SUCCESS).is_file()


def clean_stale(parent: str | Path, name: str) -> None:
    """Remove temporaries left by a killed run that was writing ``parent/name``."""
    parent = Path(parent)
    if not parent.is_dir():
        return
    for p in parent.glob(f".{name}.tmp-*"):
        shutil.rmtree(p, ignore_errors=True)
    for p in parent.glob(f".{name}.old-*"):
        shutil.rmtree(p, ignore_errors=True)
