"""From exports to model-ready post frames, night by night.

Night-wide context is computed per export (one night), exactly as the nightly
scorer computes it, so a feature means the same thing in training and scoring
and uses only data that exists when the night is scored.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import logging
import os
import pickle
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pandas as pd

from fakeugc.features._frame import build_post_frame
from fakeugc.io.reader import Export

log = logging.getLogger(__name__)

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


def select_nights(exports, nights=None) -> list[Path]:
    """The export folders (nights) of ``exports``; only those named in ``nights`` (night
    names, e.g. ``2026-10-15``) when given."""
    from fakeugc.io.reader import discover_exports

    sources = [Path(s) for s in discover_exports(exports)]
    if nights is None:
        return sources
    wanted = {str(n) for n in nights}
    return [s for s in sources if night_name(str(s)) in wanted]


def brand_vocabulary(export) -> tuple[tuple[str, ...], tuple[tuple[str, str], ...]]:
    """Brand names and aliases: jieba user words and (brand_id, term) pairs.

    ``export`` is an :class:`Export` or its ``brands`` table (or None)."""
    brands = export.get("brands") if isinstance(export, Export) else export
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


def as_matrix(X: pd.DataFrame) -> pd.DataFrame:
    """``X`` as float64 in one row-major block. LightGBM turns a frame into one array at
    every ``Dataset`` and ``predict`` call: a frame of many blocks (one per feature
    family) is copied each time (1.2 s per training at a million posts), one block is
    read in place."""
    values = np.ascontiguousarray(X.to_numpy(dtype="float64"))
    return pd.DataFrame(values, index=X.index, columns=X.columns, copy=False)


@dataclass
class NightFrames:
    """Every night of the exports as a tokenized post frame with context and labels."""

    frame: pd.DataFrame  # all posts, with `night`, ctx_ columns and label columns

    @property
    def labelled(self) -> pd.DataFrame:
        if "label" not in self.frame:  # no night had posts
            return self.frame
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


# ----------------------------------------------------------------------------- training path
#
# Training reads each night on its own (as the nightly scorer does), so a million
# posts and their ~70 million exposure rows are never one table in memory, and the
# nights are independent work: a small process pool builds them in parallel, and a
# content-addressed cache in ``data/interim`` lets a retrain on the same exports skip
# the text pass altogether.

#: bump when the cached frame's layout changes
CACHE_LAYOUT = 1


@dataclass
class ExportLineage:
    """What :func:`prepare_nights` read: enough for MLflow lineage."""

    sources: list[Path]
    files: dict[str, list[Path]]
    stats: dict
    digests: dict[str, str]
    duplicate_posts_dropped: int = 0


def export_files(src: Path) -> dict[str, list[Path]]:
    """The files of every contract table present in one export folder."""
    from fakeugc import contract as C
    from fakeugc.io.reader import table_location

    out = {}
    for name in C.TABLES:
        loc = table_location(Path(src), name)
        if loc is not None:
            out[name] = list(loc[1])
    return out


def read_brands(sources, inventory: ExportInventory | None = None) -> pd.DataFrame | None:
    """The ``brands`` rows of every export, typed and checked by the reader's rules
    (a brand snapshot is repeated in every night, so its key is per export).

    With the exports' ``inventory``, a night whose brands files have the very bytes of
    a night already read is skipped: the table is the same brand snapshot 176 times
    over at a million posts (half a second of reading), and every consumer (the brand
    vocabulary) keeps each brand once anyway."""
    from fakeugc.io.reader import finalise_dtypes, read_raw_table, validate_chunk

    parts = []
    seen: set[tuple[str, ...]] = set()
    for src in sources:
        if inventory is not None:
            content = tuple(inventory.digests[str(p)]
                            for p in inventory.files[str(src)].get("brands", []))
            if content and content in seen:
                continue
            seen.add(content)
        got = read_raw_table(Path(src), "brands")
        if got is None:
            continue
        raw, _bad, files = got
        typed, reasons = validate_chunk("brands", raw, from_csv=bool(files) and
                                        files[0].suffix == ".csv")
        parts.append(typed.loc[(reasons == "").to_numpy()])
    if not parts:
        return None
    return finalise_dtypes("brands", pd.concat(parts, ignore_index=True))


def first_night_posts(sources) -> pd.DataFrame:
    """The first post of the first export, typed as the reader types it (what the
    tokenizer step is fitted on: it only records the posts' columns)."""
    from fakeugc.io.reader import read_raw_table, validate_chunk

    raw, _bad, files = read_raw_table(Path(sources[0]), "posts")
    typed, _ = validate_chunk("posts", raw.head(1), from_csv=bool(files) and
                              files[0].suffix == ".csv")
    return typed


def frame_cache_dir() -> Path:
    """``data/interim/frames`` of the project (``FAKEUGC_FRAME_CACHE`` overrides it)."""
    env = os.environ.get("FAKEUGC_FRAME_CACHE")
    if env:
        return Path(env)
    from fakeugc.settings import get_settings

    return get_settings().data / "interim" / "frames"


def _hash_files(paths) -> str:
    h = hashlib.sha256()
    for p in paths:
        h.update(str(Path(p).name).encode())
        with open(p, "rb") as f:
            for chunk in iter(lambda: f.read(1 << 20), b""):
                h.update(chunk)
    return h.hexdigest()


class DigestCache:
    """The sha256 of export files, remembered by file identity (path, size, modification
    time in ns, inode), as git's index and DVC's state do: a retrain on the same
    exports re-reads ~300 MB per million posts only to find the same hashes, and that
    read is most of what a fully cached training spends outside LightGBM.

    A file changed in place gets a new modification time (or size, or inode), hence a
    new hash. A file modified within two seconds of being hashed is not remembered
    (git's "racy" case: a second write in the same clock tick would keep the time).
    One JSON file, replaced atomically; entries of files that no longer exist are
    dropped on save."""

    RACY_SECONDS = 2.0

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._entries: dict[str, list] = {}
        self._dirty = False
        try:
            loaded = json.loads(self.path.read_text())
            if isinstance(loaded, dict):
                self._entries = loaded
        except (OSError, ValueError):
            pass

    @staticmethod
    def _identity(st: os.stat_result) -> list:
        return [st.st_size, st.st_mtime_ns, st.st_ino]

    def digest(self, path: str | Path) -> str:
        """The same value as ``_hash_files([path])``."""
        key = str(Path(path).resolve())
        st = os.stat(key)
        ident = self._identity(st)
        got = self._entries.get(key)
        if isinstance(got, list) and len(got) == 4 and got[:3] == ident:
            return got[3]
        value = _hash_files([path])
        if time.time() - st.st_mtime_ns / 1e9 > self.RACY_SECONDS:
            self._entries[key] = [*ident, value]
            self._dirty = True
        return value

    def save(self) -> None:
        if not self._dirty:
            return
        from fakeugc.io.writer import write_json_atomic

        write_json_atomic({k: v for k, v in self._entries.items() if os.path.exists(k)},
                          self.path)
        self._dirty = False


@dataclass
class ExportInventory:
    """Every export folder (a night), its files per contract table, and their sha256."""

    sources: list[Path]
    files: dict[str, dict[str, list[Path]]]
    digests: dict[str, str]


def export_inventory(paths, digest_cache: DigestCache | None = None) -> ExportInventory:
    """Find the nights and hash their files (through ``digest_cache`` when given)."""
    from fakeugc.io.reader import discover_exports

    sources = discover_exports(paths)
    files = {str(s): export_files(s) for s in sources}
    digest = digest_cache.digest if digest_cache is not None else (lambda p: _hash_files([p]))
    digests = {str(p): digest(p) for s in sources
               for ps in files[str(s)].values() for p in ps}
    if digest_cache is not None:
        digest_cache.save()
    return ExportInventory(list(sources), files, digests)


def feature_code_fingerprint() -> str:
    """A hash of everything that decides a night's tokenized frame besides the data:
    the reader, the contract, the feature code, :func:`night_frame` (the rest of this
    module, e.g. the caches themselves, does not change a frame, so editing it does not
    throw away a million posts' worth of frames), the lexicons shipped with the package
    or in ``data/external/lexicons``, jieba's dictionary, and the versions of the
    libraries that do the work."""
    import importlib.metadata as md
    import inspect

    import fakeugc
    from fakeugc.features._lexicon import default_lexicon_dir, package_lexicon_dir

    root = Path(fakeugc.__file__).parent
    files = sorted([*root.joinpath("features").glob("*.py"), *root.joinpath("io").glob("*.py"),
                    root / "contract.py"])
    lex = default_lexicon_dir()
    lex_files = sorted(Path(lex).glob("*.txt")) if lex is not None else []
    pkg_lex = package_lexicon_dir()
    h = hashlib.sha256()
    h.update(f"layout={CACHE_LAYOUT}".encode())
    h.update(inspect.getsource(night_frame).encode())
    for f in files + lex_files:
        h.update(f.name.encode())
        h.update(f.read_bytes())
    try:
        for f in sorted(pkg_lex.iterdir(), key=lambda t: t.name):
            if f.name.endswith(".txt"):
                h.update(f.name.encode())
                h.update(f.read_bytes())
    except (FileNotFoundError, NotADirectoryError):  # pragma: no cover
        pass
    try:
        import jieba

        h.update(_hash_files([Path(jieba.__file__).parent / "dict.txt"]).encode())
    except (ImportError, OSError):  # pragma: no cover
        pass
    for dist in ("jieba", "opencc-python-reimplemented", "opencc", "pandas", "numpy", "pyarrow",
                 "datasketch", "scikit-learn"):
        try:
            h.update(f"{dist}={md.version(dist)}".encode())
        except md.PackageNotFoundError:
            pass
    return h.hexdigest()


def _context_settings(families, pipeline) -> str:
    """The parameters of the context families (e.g. MinHash settings, brand terms)."""
    from fakeugc.features._pipeline import _step_params, context_families

    params = {f: _step_params(pipeline, f) for f in context_families(families)}
    return json.dumps(params, sort_keys=True, default=repr, ensure_ascii=False)


class FrameCache:
    """Content-addressed cache of each night's tokenized frame with its context.

    The key hashes the night's export files (their bytes), the tokenizer (jieba user
    words, HMM setting), the families and their context parameters, and
    :func:`feature_code_fingerprint`; any change there is a miss. Entries are pickles
    written atomically (a pickle round trip gives back the very same values, so a hit
    yields byte-identical features). The folder is the project's own ``data/interim``,
    not a place for untrusted files: pickles execute code when loaded.
    """

    def __init__(self, folder: str | Path, prefix: str = "night"):
        self.folder = Path(folder)
        self.prefix = prefix

    def path(self, key: str) -> Path:
        return self.folder / f"{self.prefix}-{key}.pkl"

    def load(self, key: str):
        p = self.path(key)
        if not p.is_file():
            return None
        try:
            with open(p, "rb") as f:
                value = pickle.load(f)
        except (OSError, pickle.UnpicklingError, EOFError, AttributeError, ImportError):
            log.warning("frame cache entry %s unreadable; rebuilding", p)
            return None
        with contextlib.suppress(OSError):
            os.utime(p)  # its time is its last use: what :func:`prune_cache` goes by
        return value

    def save(self, key: str, value) -> None:
        self.folder.mkdir(parents=True, exist_ok=True)
        p = self.path(key)
        fd, tmp = tempfile.mkstemp(prefix=p.name + ".", suffix=".tmp", dir=self.folder)
        try:
            with os.fdopen(fd, "wb") as f:
                pickle.dump(value, f, protocol=pickle.HIGHEST_PROTOCOL)
            os.replace(tmp, p)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


def prune_cache(folder: str | Path, max_bytes: int, keep=()) -> dict:
    """Trim the cache folder to ``max_bytes``, least recently used entries first.

    Every change to the feature code gives every night a new key, so without a bound
    the folder keeps one full copy of the tokenized platform per code version (~4 GB
    per million posts). An entry's modification time is its last write or hit
    (:meth:`FrameCache.load` touches it); entries in ``keep`` (the paths the current
    run used) are never removed, nor is ``digests.json``. Temporary files of writers
    that died (``*.tmp`` untouched for a day) go whatever the size."""
    folder = Path(folder)
    if not folder.is_dir():
        return {"removed": 0, "freed_bytes": 0, "bytes": 0}
    keep = {Path(k).resolve() for k in keep}
    now = time.time()
    entries, removed, freed = [], 0, 0
    for p in folder.iterdir():
        try:
            st = p.stat()
        except OSError:
            continue
        if p.suffix == ".tmp" and now - st.st_mtime > 86400:
            with contextlib.suppress(OSError):
                p.unlink()
                removed, freed = removed + 1, freed + st.st_size
        elif p.suffix == ".pkl" and p.is_file():
            entries.append((st.st_mtime, p, st.st_size))
    total = sum(size for _, _, size in entries)
    for _, p, size in sorted(entries, key=lambda e: (e[0], e[1].name)):
        if max_bytes <= 0 or total <= max_bytes:
            break
        if p.resolve() in keep:
            continue
        with contextlib.suppress(OSError):
            p.unlink()
            total -= size
            removed, freed = removed + 1, freed + size
    return {"removed": removed, "freed_bytes": freed, "bytes": total}


@dataclass
class _NightJob:
    src: str
    key: str | None


_WORKER: dict = {}


def _init_worker(tokenizer, families, pipeline, cache_folder, edit_posts=None) -> None:
    os.environ.setdefault("OMP_NUM_THREADS", "1")
    _WORKER.update(tokenizer=tokenizer, families=list(families), pipeline=pipeline,
                   cache=FrameCache(cache_folder) if cache_folder else None,
                   edit_posts=edit_posts)


def night_frame(src, tokenizer, families, pipeline=None, edit_posts=None) -> dict:
    """One night read on its own and turned into its tokenized post frame with the
    night-wide context (labels apart), as the scorer sees that night.

    ``edit_posts(posts, labels) -> posts`` rewrites the night's posts table before
    anything is built from it (the evasion tests: what a seeding writer would change);
    such frames are never cached."""
    from fakeugc.features._pipeline import add_context
    from fakeugc.io.reader import read_exports

    export = read_exports([src])
    tables = export.tables
    stats = {n: s.as_dict() for n, s in export.stats.items()}
    if edit_posts is not None and not tables["posts"].empty:
        tables = {**tables, "posts": edit_posts(tables["posts"], tables.get("labels"))}
    if tables["posts"].empty:
        frame = None
    else:
        frame = build_post_frame(tables)
        frame = tokenizer.transform(frame)
        frame = add_context(frame, families, pipeline=pipeline)
    labels = tables.get("labels")
    return {"frame": frame, "labels": labels, "stats": stats}


def _night_task(job: _NightJob) -> dict:
    out = night_frame(job.src, _WORKER["tokenizer"], _WORKER["families"], _WORKER["pipeline"],
                      edit_posts=_WORKER["edit_posts"])
    cache = _WORKER["cache"]
    if cache is not None and job.key is not None:
        cache.save(job.key, out)
    return out


def _sum_stats(per_night: list[dict]) -> dict:
    total: dict = {}
    for stats in per_night:
        for name, s in stats.items():
            t = total.setdefault(name, {"read": 0, "used": 0, "set_aside": 0, "reasons": {}})
            for k in ("read", "used", "set_aside"):
                t[k] += s[k]
            for r, c in s["reasons"].items():
                t["reasons"][r] = t["reasons"].get(r, 0) + c
    return total


@dataclass
class NightPlan:
    """The nights to build: their folders, files, file digests and cache keys."""

    sources: list[Path]
    files: dict[str, dict[str, list[Path]]]
    digests: dict[str, str]
    jobs: list[_NightJob]

    @property
    def key(self) -> str:
        """One hash of every night's key: the frames' content address."""
        return hashlib.sha256("|".join(j.key for j in self.jobs).encode()).hexdigest()


def plan_nights(paths, tokenizer, families, pipeline=None,
                inventory: ExportInventory | None = None) -> NightPlan:
    """Find the nights, hash their files (or take them from ``inventory``), and key
    each night for the cache: the key covers the night's file bytes, the tokenizer
    (jieba user words, HMM), the families and their context parameters, and
    :func:`feature_code_fingerprint`."""
    inventory = inventory or export_inventory(paths)
    sources, files, digests = inventory.sources, inventory.files, inventory.digests
    setting = hashlib.sha256("|".join([
        feature_code_fingerprint(), repr(tuple(tokenizer.user_words)), repr(tokenizer.hmm),
        repr(list(families)), _context_settings(families, pipeline)]).encode()).hexdigest()
    jobs = []
    for s in sources:
        fh = hashlib.sha256("|".join(
            f"{n}:{digests[str(p)]}" for n, ps in sorted(files[str(s)].items())
            for p in ps).encode()).hexdigest()
        jobs.append(_NightJob(str(s), hashlib.sha256(f"{fh}|{setting}".encode()).hexdigest()[:32]))
    return NightPlan(list(sources), files, digests, jobs)


def prepare_nights(paths, tokenizer, families, pipeline=None, extra_labels=None,
                   workers: int = 1, cache: FrameCache | None = None,
                   plan: NightPlan | None = None, labelled_only: bool = False,
                   post_ids=None, edit_posts=None) -> tuple[NightFrames, ExportLineage, dict]:
    """Every night of the exports as a tokenized post frame with context and labels.

    Nights are read one by one (each exactly as the nightly scorer would read it),
    built by ``workers`` processes (in night order, whatever finishes first), and
    cached in ``cache`` when given. A post_id already seen in an earlier night is
    dropped from the later one (counted in the lineage), so no post is trained on
    twice. ``labelled_only`` keeps only labelled posts and ``post_ids`` only those
    posts, night by night, so the unlabelled bulk of a platform (its text, tokens and
    curves) is never held for all nights at once. ``edit_posts`` rewrites each night's
    posts table first (see :func:`night_frame`; such frames are never cached, so it
    takes no ``cache``). Returns the frames, the lineage and what the cache did
    (``{"hits": n, "misses": n}``).
    """
    if edit_posts is not None and cache is not None:
        raise ValueError("edited nights are not cached: pass no cache with edit_posts")
    plan = plan or plan_nights(paths, tokenizer, families, pipeline)
    sources, files, digests, jobs = plan.sources, plan.files, plan.digests, plan.jobs
    results: list[dict | None] = [None] * len(jobs)
    hits = 0
    if cache is not None:
        for i, job in enumerate(jobs):
            got = cache.load(job.key)
            if got is not None:
                results[i] = got
                hits += 1
    todo = [i for i, r in enumerate(results) if r is None]
    cache_folder = str(cache.folder) if cache is not None else None
    if todo and workers > 1 and len(todo) > 1:
        from concurrent.futures import ProcessPoolExecutor
        from multiprocessing import get_context

        with ProcessPoolExecutor(max_workers=min(workers, len(todo)),
                                 mp_context=get_context("spawn"), initializer=_init_worker,
                                 initargs=(tokenizer, families, pipeline, cache_folder,
                                           edit_posts)) as ex:
            for i, out in zip(todo, ex.map(_night_task, [jobs[i] for i in todo]), strict=True):
                results[i] = out
    elif todo:
        _init_worker(tokenizer, families, pipeline, cache_folder, edit_posts)
        try:
            for i in todo:
                results[i] = _night_task(jobs[i])
        finally:
            _WORKER.clear()

    parts = []
    seen: set = set()
    dropped = 0
    night_stats = []
    for job, res in zip(jobs, results, strict=True):
        night_stats.append(res["stats"])
        frame = res["frame"]
        if frame is None:
            continue
        dup = frame["post_id"].isin(seen).to_numpy()
        if dup.any():
            dropped += int(dup.sum())
            frame = frame.loc[~dup].reset_index(drop=True)
        seen.update(frame["post_id"].tolist())
        labels = res["labels"]
        if extra_labels is not None and not extra_labels.empty:
            extra = extra_labels[extra_labels["post_id"].isin(set(frame["post_id"]))]
            labels = extra if labels is None else pd.concat([labels, extra], ignore_index=True)
        frame = attach_labels(frame, labels)
        keep = frame["label"].notna().to_numpy() if labelled_only else None
        if post_ids is not None:
            wanted = frame["post_id"].isin(post_ids).to_numpy()
            keep = wanted if keep is None else keep & wanted
        if keep is not None and not keep.all():
            frame = frame.loc[keep].reset_index(drop=True)
        frame["night"] = night_name(job.src)
        parts.append(frame)
        res.clear()  # let each night's pieces go as soon as they are in `parts`
    if dropped:
        log.warning("%d posts appear in more than one night; later copies dropped", dropped)
    frame = pd.concat(parts, ignore_index=True) if parts else pd.DataFrame()
    del parts
    lineage = ExportLineage(
        sources=list(sources),
        files={n: [p for s in sources for p in files[str(s)].get(n, [])]
               for n in {n for s in sources for n in files[str(s)]}},
        stats=_sum_stats(night_stats),
        digests={p: d[:16] for p, d in digests.items()},
        duplicate_posts_dropped=dropped,
    )
    return NightFrames(frame), lineage, {"hits": hits, "misses": len(todo)}
