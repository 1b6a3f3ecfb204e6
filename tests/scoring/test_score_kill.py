"""Exactly-once output: a scoring run killed with SIGKILL leaves the output folder
absent (or the previous complete one), never a partial one; a rerun replaces it with
identical scores, flags and reasons."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import time

import pytest
import scoring_helpers as H

from fakeugc.io.writer import is_complete


def _cmd(export, out, model_dir, chunk=40):
    return [sys.executable, "-m", "fakeugc.cli", "score", str(export), "--model", str(model_dir),
            "--out", str(out), "--chunk-size", str(chunk), "--workers", "0"]


def _kill_after_first_chunk(cmd, parent, name, timeout=120.0) -> bool:
    """Start the run, wait until its first bucket file is written, SIGKILL it. True if
    it was killed mid-run (False if it finished first)."""
    proc = subprocess.Popen(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    t0 = time.monotonic()
    try:
        while time.monotonic() - t0 < timeout:
            if list(parent.glob(f".{name}.tmp-*/_work/posts/b*.arrow")):
                os.kill(proc.pid, signal.SIGKILL)
                proc.wait()
                return proc.returncode == -signal.SIGKILL
            if proc.poll() is not None:
                return False
            time.sleep(0.01)
        raise AssertionError("no bucket file appeared")
    finally:
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


def _same(a, b):
    assert list(a["post_id"]) == list(b["post_id"])
    assert (a["probability"] == b["probability"]).all()
    assert (a["flagged"] == b["flagged"]).all()
    assert [list(x) for x in a["reasons"]] == [list(x) for x in b["reasons"]]


@pytest.mark.slow
def test_sigkill_mid_run_then_rerun(tmp_path, model_dir):
    export = H.write_export(H.make_tables(1000, seed=11), tmp_path / "export_date=2026-11-24")
    out = tmp_path / "scored"

    # 1. killed on its first run: no output folder at all
    killed = _kill_after_first_chunk(_cmd(export, out, model_dir), tmp_path, "scored")
    if not killed:
        pytest.skip("the run finished before it could be killed")
    assert not out.exists() or is_complete(out)
    assert not out.exists()
    assert list(tmp_path.glob(".scored.tmp-*"))  # the killed run's temporary folder

    # 2. the rerun completes, cleans the leftovers
    subprocess.run(_cmd(export, out, model_dir), check=True, capture_output=True)
    assert is_complete(out)
    assert not list(tmp_path.glob(".scored.tmp-*"))
    first = H.read_scores(out)
    assert len(first) == 1000 and first["flagged"].any()

    # 3. killed while replacing a complete output: the old one stays, complete
    killed = _kill_after_first_chunk(_cmd(export, out, model_dir), tmp_path, "scored")
    assert is_complete(out)
    _same(H.read_scores(out), first)

    # 4. rerun: identical scores, flags and reasons
    subprocess.run(_cmd(export, out, model_dir, chunk=50), check=True, capture_output=True)
    assert is_complete(out)
    _same(H.read_scores(out), first)
    assert H.manifest(out)["tables"]["posts"]["scored"] == 1000
