"""Benchmark of nightly scoring: throughput, peak memory, and the ratio to jieba alone.

For each size (default 100k and 1M posts with 72-hour exposure curves) it builds a
synthetic export, then in the same run measures

* jieba alone: ``jieba.Tokenizer().lcut(title + "\\n" + body, HMM=False)`` over the
  export's texts in one process (dictionary load excluded), posts/second;
* scoring: ``fakeugc score`` in a fresh subprocess, end to end, posts/second (model
  load excluded, and wall clock including it), peak RSS of the process tree (sum
  over the scorer and its worker processes, sampled every 0.2 s with psutil) and
  the largest single process (``getrusage(RUSAGE_CHILDREN).ru_maxrss``).

Exports are built from ``fakeugc generate`` (the project's platform simulator) in
slices of about 100k posts with distinct seeds, ids prefixed per slice and written
as a folder of Parquet parts per table; if the generator is unavailable, a fast
built-in generator writes the same contract shape. The model is
``--model`` (default ``models:/fakeugc@champion`` in ``$MLFLOW_TRACKING_URI``);
with ``--train-if-missing`` (default) a small model is generated and trained into
the benchmark's own MLflow store when that cannot be resolved.

    python benchmarks/scoring.py                      # 100k and 1M
    python benchmarks/scoring.py --sizes 100000       # quick
    python benchmarks/scoring.py --work /tmp/bench    # reuse built exports

Results go to ``WORK/results.json`` and are printed as a Markdown table (the
figures in docs/scoring.md come from here).
"""

from __future__ import annotations

import argparse
import json
import math
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pyarrow as pa
import pyarrow.parquet as pq

DATE = "2026-09-01"
POSTS_PER_ACCOUNT = 0.2765  # posts per simulated account and day in fakeugc generate
SLICE = 100_000


def log(msg: str) -> None:
    sys.stderr.write(f"[bench {time.strftime('%H:%M:%S')}] {msg}\n")
    sys.stderr.flush()


# ----------------------------------------------------------------------------- exports


def _prefix(col: pa.ChunkedArray, tag: str) -> pa.ChunkedArray:
    import pyarrow.compute as pc

    return pc.binary_join_element_wise(pa.scalar(tag), col, "")


def _write_part(table: pa.Table, folder: Path, k: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    pq.write_table(table, folder / f"part-{k:04d}.parquet", row_group_size=250_000)


def build_export_from_generator(n: int, folder: Path, seed: int = 11) -> dict:
    """``n`` posts from ``fakeugc generate`` slices, as Parquet part folders."""
    import pyarrow.compute as pc

    export = folder / f"export_date={DATE}"
    tmp = Path(tempfile.mkdtemp(prefix="gen-", dir=folder))
    total, k = 0, 0
    counts = {"exposure": 0}
    while total < n:
        want = min(SLICE, n - total)
        accounts = int(math.ceil(want / POSTS_PER_ACCOUNT * 1.08))
        out = tmp / f"s{k}"
        subprocess.run([sys.executable, "-m", "fakeugc.cli", "generate", "--days", "1",
                        "--accounts", str(accounts), "--seed", str(seed + k), "--start-date",
                        DATE, "--out", str(out), "--quiet", "--no-truth"], check=True)
        src = out / f"export_date={DATE}"
        tag = f"s{k}-"
        posts = pq.read_table(src / "posts.parquet").slice(0, want)
        keep = posts["post_id"]
        posts = posts.set_column(posts.schema.get_field_index("post_id"), "post_id",
                                 _prefix(posts["post_id"], tag))
        posts = posts.set_column(posts.schema.get_field_index("account_id"), "account_id",
                                 _prefix(posts["account_id"], tag))
        _write_part(posts, export / "posts", k)
        for name, key in (("exposure", "post_id"), ("reports", "post_id"),
                          ("labels", "post_id"), ("accounts", "account_id")):
            f = src / f"{name}.parquet"
            if not f.exists():
                continue
            t = pq.read_table(f)
            if key == "post_id":
                t = t.filter(pc.is_in(t["post_id"], keep))
            t = t.set_column(t.schema.get_field_index(key), key, _prefix(t[key], tag))
            _write_part(t, export / name, k)
            counts[name] = counts.get(name, 0) + t.num_rows
        if k == 0 and (src / "brands.parquet").exists():
            shutil.copy(src / "brands.parquet", export / "brands.parquet")
        total += posts.num_rows
        shutil.rmtree(out, ignore_errors=True)
        log(f"  slice {k}: {posts.num_rows:,} posts (total {total:,})")
        k += 1
    shutil.rmtree(tmp, ignore_errors=True)
    return {"posts": total, **counts, "source": "fakeugc generate"}


_WORDS = ("姐妹们 这款 精华液 真的 绝了 用了 七天 皮肤 变好 回购 推荐 大家 闭眼入 平价 好物 分享 "
          "#护肤# @小红薯 😍 yyds 性价比 质地 清爽 不油腻 敏感肌 包装 今天 安利 宝藏 单品 熬夜 "
          "暗沉 提亮 保湿 补水 学生党 必入 不踩雷 被问爆了 口红 粉底液 防晒 面霜 眼霜 香水 持妆 "
          "一整天 不卡粉 上脸 效果 惊艳 通勤 约会 氛围感 显白 黄皮 亲测 有效 早八 打工人").split()


def build_export_builtin(n: int, folder: Path, seed: int = 11, hours: int = 72) -> dict:
    """A fast contract-shaped export (used when ``fakeugc generate`` is unavailable)."""
    rng = np.random.default_rng(seed)
    export = folder / f"export_date={DATE}"
    n_acc = max(10, int(n * 0.75))
    words = np.array(_WORDS, dtype=object)
    day = pd.Timestamp(DATE, tz="UTC")
    counts = {"exposure": 0}
    for k, start in enumerate(range(0, n, SLICE)):
        m = min(SLICE, n - start)
        ids = np.array([f"p{start + i:08d}" for i in range(m)], dtype=object)
        acc = rng.integers(0, n_acc, m)
        lens = rng.integers(15, 45, m)
        body = ["".join(rng.choice(words, size=int(L))) for L in lens]
        posts = pd.DataFrame({
            "post_id": ids, "account_id": [f"u{a:07d}" for a in acc],
            "published_at": day + pd.to_timedelta(rng.integers(0, 86400, m), unit="s"),
            "title": ["".join(rng.choice(words, size=4)) for _ in range(m)], "body": body,
            "brand_tags": [[f"b{int(b)}"] if b >= 0 else [] for b in rng.integers(-3, 40, m)],
            "disclosed_partnership": rng.random(m) < 0.05,
            "image_count": rng.integers(0, 9, m),
        })
        _write_part(pa.Table.from_pandas(posts, preserve_index=False), export / "posts", k)
        seen = rng.integers(hours // 2, hours + 1, m)
        rep = np.repeat(np.arange(m), seen)
        hour = np.concatenate([np.arange(s) for s in seen])
        base = rng.lognormal(3, 1, m)[rep]
        imp = rng.poisson(base * np.exp(-hour / 12.0))
        exp = pa.table({"post_id": pa.array(ids[rep]), "hour": hour.astype("int64"),
                        "impressions": imp, "likes": rng.binomial(imp, 0.05),
                        "collects": rng.binomial(imp, 0.02), "comments": rng.binomial(imp, 0.01),
                        "shares": rng.binomial(imp, 0.005)})
        _write_part(exp, export / "exposure", k)
        counts["exposure"] += exp.num_rows
        ua = np.unique(acc)
        accounts = pd.DataFrame({
            "account_id": [f"u{a:07d}" for a in ua],
            "created_at": day - pd.to_timedelta(rng.integers(1, 2000, len(ua)), unit="D"),
            "followers": rng.integers(0, 100000, len(ua)),
            "following": rng.integers(0, 2000, len(ua)),
            "posts_total": rng.integers(1, 500, len(ua)),
            "device_cluster": [f"d{int(x)}" for x in rng.integers(0, n_acc // 3, len(ua))],
        })
        _write_part(pa.Table.from_pandas(accounts, preserve_index=False), export / "accounts", k)
    return {"posts": n, **counts, "source": "builtin"}


def build_export(n: int, root: Path) -> tuple[Path, dict]:
    folder = root / f"n{n}"
    export = folder / f"export_date={DATE}"
    meta = folder / "meta.json"
    if meta.exists() and export.exists():
        return export, json.loads(meta.read_text())
    shutil.rmtree(folder, ignore_errors=True)
    folder.mkdir(parents=True)
    t = time.perf_counter()
    try:
        info = build_export_from_generator(n, folder)
    except (subprocess.CalledProcessError, OSError) as e:
        log(f"fakeugc generate unavailable ({e}); using the built-in generator")
        shutil.rmtree(export, ignore_errors=True)
        info = build_export_builtin(n, folder)
    info["build_s"] = round(time.perf_counter() - t, 1)
    meta.write_text(json.dumps(info))
    return export, info


# ----------------------------------------------------------------------------- model


def ensure_model(uri: str, root: Path, train_if_missing: bool) -> str:
    """The model URI to score with (trains a small one into ROOT's store if needed)."""
    code = ("import sys; from fakeugc.modeling.scoring_eval import resolve_model; "
            "print(resolve_model(sys.argv[1])['version'])")
    r = subprocess.run([sys.executable, "-c", code, uri], capture_output=True, text=True)
    if r.returncode == 0:
        log(f"model {uri} -> version {r.stdout.strip()}")
        return uri
    if not train_if_missing:
        raise SystemExit(f"cannot resolve {uri}: {r.stderr.strip().splitlines()[-1:]}")
    store = root / "mlflow"
    store.mkdir(parents=True, exist_ok=True)
    os.environ["MLFLOW_TRACKING_URI"] = f"sqlite:///{store / 'mlflow.db'}"
    log(f"no model at {uri}: generating 14 days and training one into {store}")
    raw = store / "raw"
    if not raw.exists():
        subprocess.run([sys.executable, "-m", "fakeugc.cli", "generate", "--days", "14",
                        "--accounts", "1500", "--seed", "3", "--out", str(raw), "--quiet"],
                       check=True)
    subprocess.run([sys.executable, "-m", "fakeugc.cli", "train", str(raw), "--no-ablation",
                    "--no-verdicts"], check=True)
    return "models:/fakeugc@champion"


# ----------------------------------------------------------------------------- measures

_JIEBA = r"""
import sys, time, json
import pyarrow.parquet as pq, pathlib, jieba
export, limit = pathlib.Path(sys.argv[1]), int(sys.argv[2])
files = sorted((export / "posts").glob("*.parquet")) or [export / "posts.parquet"]
texts = []
for f in files:
    for b in pq.ParquetFile(f).iter_batches(batch_size=50000, columns=["title", "body"]):
        d = b.to_pydict()
        texts += [((t or "") + "\n" + (x or "")).strip() for t, x in zip(d["title"], d["body"])]
        if len(texts) >= limit:
            break
    if len(texts) >= limit:
        break
texts = texts[:limit]
jieba.setLogLevel(60)
tok = jieba.Tokenizer(); tok.initialize()
t = time.perf_counter(); cpu = time.process_time()
n_tok = sum(len(tok.lcut(s, HMM=False)) for s in texts)
dt = time.perf_counter() - t
print(json.dumps({"posts": len(texts), "seconds": dt, "cpu_seconds": time.process_time() - cpu,
                  "tokens": n_tok, "chars": sum(map(len, texts))}))
"""


def jieba_alone(export: Path, limit: int) -> dict:
    r = subprocess.run([sys.executable, "-c", _JIEBA, str(export), str(limit)],
                       capture_output=True, text=True, check=True)
    out = json.loads(r.stdout.strip().splitlines()[-1])
    out["posts_per_s"] = out["posts"] / out["seconds"]
    return out


_WRAP = r"""
import resource, subprocess, sys, json
rc = subprocess.run(sys.argv[1:]).returncode
u = resource.getrusage(resource.RUSAGE_CHILDREN)
print(json.dumps({"rc": rc, "maxrss_kb": u.ru_maxrss, "cpu_s": u.ru_utime + u.ru_stime}))
"""


def _sample_tree(pid: int, stop: threading.Event, out: dict) -> None:
    import psutil

    try:
        root = psutil.Process(pid)
    except psutil.NoSuchProcess:
        return
    peak, peak_n = 0, 0
    while not stop.is_set():
        try:
            procs = root.children(recursive=True)
        except psutil.NoSuchProcess:
            break
        total = 0
        for p in procs:
            try:
                total += p.memory_info().rss
            except psutil.NoSuchProcess:
                pass
        if total > peak:
            peak, peak_n = total, len(procs)
        stop.wait(0.2)
    out["tree_peak_rss_bytes"] = peak
    out["tree_processes_at_peak"] = peak_n


def score(export: Path, out: Path, model: str, chunk: int, workers: int | None) -> dict:
    cmd = [sys.executable, "-m", "fakeugc.cli", "score", str(export), "--model", model,
           "--out", str(out), "--chunk-size", str(chunk), "--json"]
    if workers is not None:
        cmd += ["--workers", str(workers)]
    t = time.perf_counter()
    load0 = os.getloadavg()[0]
    proc = subprocess.Popen([sys.executable, "-c", _WRAP, *cmd], stdout=subprocess.PIPE,
                            text=True)
    stop, sampled = threading.Event(), {}
    th = threading.Thread(target=_sample_tree, args=(proc.pid, stop, sampled), daemon=True)
    th.start()
    stdout, _ = proc.communicate()
    stop.set()
    th.join()
    wall = time.perf_counter() - t
    lines = [json.loads(x) for x in stdout.strip().splitlines() if x.startswith("{")]
    wrap = lines[-1]
    if wrap["rc"] != 0:
        raise SystemExit(f"scoring failed ({wrap['rc']})")
    manifest = lines[-2]
    posts = manifest["tables"]["posts"]["scored"]
    tim = manifest["timings"]
    scoring_s = tim["total_s"] - tim.get("load_model_s", 0.0)
    return {
        "posts": posts, "wall_s": round(wall, 1), "scoring_s": round(scoring_s, 1),
        "posts_per_s": posts / scoring_s, "posts_per_s_wall": posts / wall,
        "tree_peak_rss_mib": sampled.get("tree_peak_rss_bytes", 0) / 2**20,
        "max_process_rss_mib": wrap["maxrss_kb"] / 1024,
        "cpu_s": round(wrap["cpu_s"], 1), "cpu_us_per_post": 1e6 * wrap["cpu_s"] / posts,
        "workers": manifest["workers"], "buckets": manifest["buckets"],
        "flagged": manifest["posts_flagged"], "timings": tim,
        "loadavg_before": round(load0, 2), "loadavg_after": round(os.getloadavg()[0], 2),
    }


# ----------------------------------------------------------------------------- main


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--sizes", type=int, nargs="+", default=[100_000, 1_000_000])
    ap.add_argument("--work", type=Path, default=Path(tempfile.gettempdir()) / "fakeugc-bench")
    ap.add_argument("--model", default="models:/fakeugc@champion")
    ap.add_argument("--no-train", action="store_true", help="fail when --model is missing")
    ap.add_argument("--chunk-size", type=int, default=5000)
    ap.add_argument("--workers", type=int, default=None)
    ap.add_argument("--tag", default="", help="results go to WORK/results[-TAG].json")
    ap.add_argument("--jieba-limit", type=int, default=200_000,
                    help="posts jieba segments per size (a sample of larger exports)")
    args = ap.parse_args(argv)
    args.work.mkdir(parents=True, exist_ok=True)
    results_path = args.work / (f"results-{args.tag}.json" if args.tag else "results.json")
    model = ensure_model(args.model, args.work, not args.no_train)
    results = {"model": model, "chunk_size": args.chunk_size, "cpus": os.cpu_count(),
               "sizes": {}}
    for n in args.sizes:
        log(f"export of {n:,} posts")
        export, info = build_export(n, args.work / "exports")
        log(f"  built: {info}")
        log("  jieba alone")
        jb = jieba_alone(export, min(n, args.jieba_limit))
        log(f"  jieba: {jb['posts_per_s']:.0f} posts/s")
        log("  scoring")
        sc = score(export, args.work / "scored" / f"n{n}{'-' + args.tag if args.tag else ''}",
                   model, args.chunk_size, args.workers)
        # the machine may be shared: measure jieba again after scoring and use the mean
        jb2 = jieba_alone(export, min(n, args.jieba_limit))
        jb["posts_per_s_before"], jb["posts_per_s_after"] = jb["posts_per_s"], jb2["posts_per_s"]
        jb["posts_per_s"] = (jb["posts_per_s_before"] + jb["posts_per_s_after"]) / 2
        jb["cpu_seconds"] = (jb["cpu_seconds"] + jb2["cpu_seconds"]) / 2
        log(f"  jieba after: {jb2['posts_per_s']:.0f} posts/s")
        sc["ratio_to_jieba"] = sc["posts_per_s"] / jb["posts_per_s"]
        # what the ratio would be with every core of the machine to itself: CPU time per
        # post of jieba alone against the scorer's (all its processes) over the cores
        jb["cpu_us_per_post"] = 1e6 * jb["cpu_seconds"] / jb["posts"]
        sc["ratio_cpu_normalised"] = (os.cpu_count() or 1) * jb["cpu_us_per_post"] / \
            sc["cpu_us_per_post"]
        log(f"  scoring: {sc['posts_per_s']:.0f} posts/s, ratio {sc['ratio_to_jieba']:.2f}, "
            f"tree peak {sc['tree_peak_rss_mib']:.0f} MiB, largest process "
            f"{sc['max_process_rss_mib']:.0f} MiB")
        results["sizes"][str(n)] = {"export": info, "jieba": jb, "score": sc}
        results_path.write_text(json.dumps(results, indent=2))
    sizes = [str(n) for n in args.sizes]
    rows = ["| posts | exposure rows | scoring posts/s | jieba posts/s | ratio | ratio (CPU, "
            "all cores) | tree peak RSS | largest process | wall | load avg |",
            "|---|---|---|---|---|---|---|---|---|---|"]
    for s in sizes:
        r = results["sizes"][s]
        sc, jb = r["score"], r["jieba"]
        rows.append(f"| {sc['posts']:,} | {r['export'].get('exposure', 0):,} | "
                    f"{sc['posts_per_s']:.0f} | {jb['posts_per_s']:.0f} | "
                    f"{sc['ratio_to_jieba']:.2f} | {sc['ratio_cpu_normalised']:.2f} | "
                    f"{sc['tree_peak_rss_mib']:.0f} MiB | {sc['max_process_rss_mib']:.0f} MiB | "
                    f"{sc['wall_s']:.0f} s | {sc['loadavg_before']}-{sc['loadavg_after']} |")
    if len(sizes) >= 2:
        a, b = results["sizes"][sizes[0]]["score"], results["sizes"][sizes[-1]]["score"]
        results["rss_growth_tree"] = b["tree_peak_rss_mib"] / a["tree_peak_rss_mib"]
        results["rss_growth_largest"] = b["max_process_rss_mib"] / a["max_process_rss_mib"]
        rows.append(f"\npeak RSS growth {sizes[0]} -> {sizes[-1]}: tree "
                    f"{results['rss_growth_tree']:.2f}x, largest process "
                    f"{results['rss_growth_largest']:.2f}x")
    results_path.write_text(json.dumps(results, indent=2))
    sys.stdout.write("\n".join(rows) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
