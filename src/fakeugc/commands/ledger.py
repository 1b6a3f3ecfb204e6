"""``fakeugc ledger``: the brand violation ledger (points and actions per brand)."""

from __future__ import annotations

import argparse
import json
import sys

from pydantic import ValidationError

from fakeugc.commands._options import add_store_options
from fakeugc.reports import ledger as L
from fakeugc.reports import store as S


def register(sub: argparse._SubParsersAction) -> None:
    p = sub.add_parser(
        "ledger",
        help="brand violation ledger: show points and actions, sync confirmed verdicts, history",
        description=(
            "Violations come only from analysts' confirmed verdicts (fakeugc review): each "
            "confirmed post costs each of its brands one violation, once (UNIQUE brand, post). "
            "Declared partnerships are recorded as exempt and cost nothing. Points and actions "
            "follow pipelines/brand_points.yaml. Every change is in the audit log."
        ),
    )
    add_store_options(p)
    lsub = p.add_subparsers(dest="ledger_command", metavar="SUBCOMMAND", required=True)
    show = lsub.add_parser("show", help="points, action and violations per brand")
    show.add_argument("--brand", default=None)
    show.add_argument("--as-of", default=None, help="ISO date or time (default: now)")
    show.add_argument("--json", action="store_true")
    sync = lsub.add_parser("sync", help="turn confirmed verdicts into violations (idempotent)")
    sync.add_argument("--actor", default="fakeugc-ledger-sync", help="name in the audit log")
    sync.add_argument("--json", action="store_true")
    hist = lsub.add_parser("history", help="a brand's audit trail")
    hist.add_argument("--brand", required=True)
    hist.add_argument("--json", action="store_true")
    p.set_defaults(run=run)


def run(args) -> int:
    try:
        rules = L.load_rules(args.rules)
    except (OSError, ValueError, ValidationError) as e:
        sys.stderr.write(f"fakeugc ledger: bad rules: {e}\n")
        return 2
    try:
        if args.ledger_command == "sync":
            counts = L.sync(args.store, actor=args.actor)
            if args.json:
                sys.stdout.write(json.dumps(counts) + "\n")
            else:
                sys.stdout.write(" ".join(f"{k}={v}" for k, v in counts.items()) + "\n")
            return 0
        conn = S.connect_readonly(args.store)
        if conn is None:
            empty = [] if args.json else "no ledger yet: no verdict has been recorded\n"
            sys.stdout.write(json.dumps(empty) + "\n" if args.json else empty)
            return 0
        try:
            if args.ledger_command == "show":
                statuses = L.brand_statuses(conn, rules, args.as_of, brand_id=args.brand)
                if args.json:
                    sys.stdout.write(
                        json.dumps([s.as_dict() for s in statuses], ensure_ascii=False) + "\n"
                    )
                    return 0
                out = [f"{'brand':<24} {'points':>6} {'viol.':>5} {'exempt':>6}  action"]
                for s in statuses:
                    when = f" since {s.since[:10]}" if s.since else ""
                    until = f" until {s.until[:10]}" if s.until and s.until != s.since else ""
                    out.append(
                        f"{s.brand_id:<24} {s.points:>6} {s.violations:>5} {s.exempt:>6}  "
                        f"{s.tier or 'none'}: {s.action}{when}{until}"
                        + ("" if s.in_force or not s.tier else " (ended)")
                    )
                if not statuses:
                    out.append("(no brand in the ledger)")
                sys.stdout.write("\n".join(out) + "\n")
                return 0
            # history
            entries = L.history(conn, args.brand)
            if args.json:
                sys.stdout.write(
                    json.dumps(
                        {
                            "brand_id": args.brand,
                            "violations": L.violations(conn, args.brand),
                            "audit": entries,
                        },
                        ensure_ascii=False,
                    )
                    + "\n"
                )
                return 0
            out = []
            for e in entries:
                d = e["details"]
                what = d.get("status") or d.get("verdict") or ""
                out.append(
                    f"{e['at'][:19]}  {e['actor']:<16} {e['action']:<20} post {e['post_id']} "
                    f"{what} (model {e['model_version'] or '?'})"
                )
            sys.stdout.write("\n".join(out or [f"no history for brand {args.brand}"]) + "\n")
            return 0
        finally:
            conn.close()
    except S.StoreError as e:
        sys.stderr.write(f"fakeugc ledger: {e}\n")
        return 2
