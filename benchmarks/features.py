"""Feature throughput per signal family, against jieba segmentation alone.

Builds ~100,000 synthetic posts (``fakeugc generate``), then times, in one run on
the same texts: jieba segmentation alone (``jieba.lcut`` on title + body: the floor),
the shared text pass (normalise + segment once), and for every family its night
context (keys + context) and transform. Prints posts/second and the ratio to
segmentation alone; the target is a whole feature pass at least half as fast as
segmentation (ratio >= 0.5).

    .venv/bin/python benchmarks/features.py [--posts 100000] [--out docs/benchmarks-features.json]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import pandas as pd


def build_frame(n_posts: int, seed: int) -> pd.DataFrame:
    from fakeugc.features import build_post_frame
    from fakeugc.io import read_exports
    from fakeugc.synthetic import GeneratorConfig, generate

    out = Path(tempfile.mkdtemp(prefix="fakeugc-bench-")) / "raw"
    accounts = 20000
    days = max(1, round(n_posts / 5800))  # ~5,800 posts a day at 20,000 accounts
    generate(GeneratorConfig(days=days, accounts=accounts, seed=seed), out)
    export = read_exports([out])
    tables = dict(export.tables)
    # one frame as if it were one night (accounts: keep one snapshot per account)
    tables["accounts"] = tables["accounts"].drop_duplicates("account_id", keep="last")
    frame = build_post_frame(tables).head(n_posts).reset_index(drop=True)
    return frame


def timed(fn):
    t = time.perf_counter()
    out = fn()
    return out, time.perf_counter() - t


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--posts", type=int, default=100_000)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--out", type=Path, default=None, help="write the figures as JSON")
    args = ap.parse_args(argv)

    import jieba

    from fakeugc.features import FAMILIES, TokenizeText, build_feature_pipeline
    from fakeugc.features._pipeline import context_from_keys, context_keys
    from fakeugc.features._text import post_text

    frame = build_frame(args.posts, args.seed)
    n = len(frame)
    texts = post_text(frame).tolist()
    y = frame.get("label")

    jieba.setLogLevel(60)
    jieba.initialize()
    # the baseline is timed before and after everything else and the faster run kept,
    # so a busy moment on a shared machine does not flatter the ratio
    _, t_jieba_before = timed(lambda: [jieba.lcut(t, HMM=False) for t in texts])

    tok = TokenizeText().fit(frame)
    tokens, t_tok = timed(lambda: tok.transform(frame))

    pipe = build_feature_pipeline(FAMILIES)
    union = pipe.named_steps["features"]
    rows = []
    ctx_total = 0.0
    ready = tokens
    for family in FAMILIES:
        keys, t_keys = timed(lambda f=family: context_keys(tokens, [f], pipe))
        ctx, t_ctx = timed(lambda k=keys: context_from_keys(k, pipe))
        ctx_total += t_keys + t_ctx
        if not ctx.empty:
            joined = ctx.reindex(ready["post_id"].to_numpy())
            joined.index = ready.index
            ready = pd.concat([ready.drop(columns=[c for c in ctx.columns if c in ready]),
                               joined], axis=1)
        rows.append({"family": family, "context_s": t_keys + t_ctx})
    labels = (pd.Series(range(n)) % 9 == 0).astype(int).to_numpy() if y is None else \
        y.fillna(0).astype(int).to_numpy()
    transform_total = 0.0
    for row in rows:
        steps = [(name, est) for name, est in union.transformer_list
                 if row["family"] in (name, "content" if name == "text_model" else name)]
        t_fit = t_tr = 0.0
        for _, est in steps:
            _, a = timed(lambda e=est: e.fit(ready, labels))
            _, b = timed(lambda e=est: e.transform(ready))
            t_fit += a
            t_tr += b
        row.update(fit_s=t_fit, transform_s=t_tr)
        transform_total += t_tr
        per_post = row["context_s"] + t_tr
        row["posts_per_s"] = n / per_post if per_post else float("inf")

    _, t_jieba_after = timed(lambda: [jieba.lcut(t, HMM=False) for t in texts])
    t_jieba = min(t_jieba_before, t_jieba_after)
    for row in rows:
        row["ratio_to_jieba"] = row["posts_per_s"] / (n / t_jieba)
    whole = t_tok + ctx_total + transform_total
    summary = {
        "posts": n,
        "jieba_alone_s": t_jieba,
        "jieba_alone_runs_s": [t_jieba_before, t_jieba_after],
        "jieba_posts_per_s": n / t_jieba,
        "text_pass_s": t_tok,
        "families": rows,
        "whole_feature_pass_s": whole,
        "whole_posts_per_s": n / whole,
        "whole_ratio_to_jieba": (n / whole) / (n / t_jieba),
    }
    print(f"{n:,} posts; jieba segmentation alone {t_jieba:.1f} s ({n / t_jieba:,.0f} posts/s)")
    print(f"text pass (normalise + segment once): {t_tok:.1f} s "
          f"(ratio {t_jieba / t_tok:.2f})")
    print(f"{'family':<14}{'context s':>10}{'fit s':>9}{'transform s':>13}{'posts/s':>10}"
          f"{'× jieba':>9}")
    for r in rows:
        print(f"{r['family']:<14}{r['context_s']:>10.2f}{r['fit_s']:>9.2f}"
              f"{r['transform_s']:>13.2f}{r['posts_per_s']:>10,.0f}{r['ratio_to_jieba']:>9.2f}")
    print(f"whole feature pass (text pass + context + transforms): {whole:.1f} s, "
          f"{n / whole:,.0f} posts/s, ratio to jieba alone {summary['whole_ratio_to_jieba']:.2f}"
          " (target >= 0.5)")
    if args.out:
        args.out.write_text(json.dumps(summary, indent=2))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
