"""``docs/features.md``, generated from the feature declarations (and an ablation)."""

from __future__ import annotations

import pandas as pd

from fakeugc.features._catalogue import FAMILIES, catalogue


def _md_table(df: pd.DataFrame) -> str:
    cols = list(df.columns)
    lines = ["| " + " | ".join(cols) + " |", "|" + "---|" * len(cols)]
    for _, row in df.iterrows():
        cells = []
        for c in cols:
            v = row[c]
            cells.append(f"{v:.3f}" if isinstance(v, float) else str(v).replace("|", "\\|"))
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines)


def hard_groups_markdown(hard_case: dict) -> str:
    """The full model's false-positive rate per genuine group, with its interval."""
    rows = []
    for g, r in hard_case.items():
        rows.append({"genuine group": g, "posts": r["n"], "flagged": r.get("flagged", ""),
                     "FPR": r["fpr"],
                     "95% interval": f"{r.get('ci_low', float('nan')):.3f} – "
                                     f"{r.get('ci_high', float('nan')):.3f}",
                     "× ordinary": r.get("vs_ordinary", float("nan"))})
    return _md_table(pd.DataFrame(rows))


def catalogue_markdown(ablation: pd.DataFrame | None = None, command: str = "",
                       notes: str = "", hard_case: dict | None = None) -> str:
    import fakeugc.features  # noqa: F401  (imports every family, declaring its features)

    docs = catalogue()
    out = [
        "# Feature catalogue",
        "",
        "Generated from the code by `fakeugc features-doc` — do not edit by hand. Every "
        "feature is declared next to the code that computes it, with the sentence an "
        "analyst reads when it drives a flag (`{value}` is the post's value).",
        "",
    ]
    if ablation is not None and not ablation.empty:
        out += ["## Ablation: what each family adds", "",
                "Cumulative families, each a full booster + calibration + threshold, scored "
                "on the latest (test) window of the synthetic platform: PR-AUC, recall per "
                "fraud type and false-positive rate per genuine group at the operating "
                "threshold. The test window holds the latest days' posts of the "
                "evaluation account groups (accounts joined only through near-duplicate "
                "clusters that cross a time window, so a paid intermediary's roster is "
                "not one all-or-nothing group); `pr_auc_<type>` is that type against "
                "genuine posts, threshold-free.", ""]
        if command:
            out += ["Reproduce with:", "", "```bash", command, "```", ""]
        out += [_md_table(ablation), ""]
        if hard_case:
            out += ["### Hard genuine groups at the operating threshold (all families)", "",
                    "Genuine posts that look unusual for innocent reasons: declared brand "
                    "partnerships, organic launch bursts, viral posts, and posts users "
                    "reported. The issue asks that none is flagged more often than an "
                    "ordinary genuine post (× ordinary ≤ 1); the 95% Wilson interval says "
                    "how much of a difference the test window's sample can show. Three "
                    "choices serve this: declared partnerships are outside the text "
                    "model (ad copy is expected in a declared ad); a brand's raw burst "
                    "is not a feature, only the part of it that repeats one brief "
                    "(`coord_burst_homogeneity`), since launches and viral moments burst "
                    "with varied text; and genuine posts the labels mark as hard cases "
                    "weigh more in training (cost-sensitive: a false flag there costs "
                    "more).", "",
                    hard_groups_markdown(hard_case), ""]
        if notes:
            out += [notes, ""]
    for family in FAMILIES:
        rows = [d for d in docs.values() if d.family == family]
        if not rows:
            continue
        out += [f"## {family} ({len(rows)} features)", "",
                "| feature | meaning | sentence shown to analysts |", "|---|---|---|"]
        for d in sorted(rows, key=lambda d: d.name):
            out.append(f"| `{d.name}` | {d.meaning} | {d.reason} |".replace("\n", " "))
        out.append("")
    return "\n".join(out)
