#!/usr/bin/env python3
"""Compare perfcore's self-time ranking with callgrind's instruction counts.

usage: callgrind_ranking.py SNAPSHOT.json CALLGRIND.OUT [--markdown]

perfcore's self time of a profiled function F is its wall time minus the time of the
profiled scopes it calls: unprofiled callees (library code, closures) count as F's own. The
matching callgrind figure is F's inclusive instruction count minus what it spends in
profiled functions. Calls that reach a profiled function through unprofiled code (an
iterator closure, say) are followed: an unprofiled callee's share of profiled work is
attributed to each caller in proportion to the cost of its calls (exact when, as here, each
such helper has one caller).

Instructions are not nanoseconds (a cache miss or a system call costs more time than its
instruction count says), so the shares differ; the ranking is what should agree.
"""

import json
import sys
from collections import defaultdict


def parse_callgrind(path):
    """Self cost per function and inclusive cost per (caller, callee) edge, event 0 (Ir)."""
    names = {}  # compressed id -> name, per kind
    self_cost = defaultdict(int)
    calls = defaultdict(int)  # (caller, callee) -> inclusive cost of those calls
    current = None
    callee = None
    pending_call = False

    def name_of(kind, spec):
        spec = spec.strip()
        if spec.startswith("("):
            close = spec.index(")")
            key = (kind, spec[1:close])
            rest = spec[close + 1 :].strip()
            if rest:
                names[key] = rest
            return names.get(key, spec)
        return spec

    with open(path, encoding="utf-8", errors="replace") as f:
        for line in f:
            line = line.rstrip("\n")
            if not line or line.startswith("#"):
                continue
            if line.startswith("fn="):
                current = name_of("fn", line[3:])
                continue
            if line.startswith(("cfn=", "cfni=")):
                callee = name_of("fn", line.split("=", 1)[1])
                continue
            if line.startswith("calls="):
                pending_call = True
                continue
            head = line[0]
            if head.isdigit() or head in "+-*":
                parts = line.split()
                if len(parts) < 2 or current is None:
                    pending_call = False
                    continue
                cost = int(parts[1])
                if pending_call:
                    calls[(current, callee)] += cost
                    pending_call = False
                else:
                    self_cost[current] += cost
                continue
            # fl=, fi=, fe=, ob=, cob=, cfl=, jump=, headers: not needed here.
            if "=" in line:
                key, _, value = line.partition("=")
                if key in ("fl", "fi", "fe", "cfl", "cfi", "ob", "cob"):
                    name_of("ob" if key in ("ob", "cob") else "fl", value)
    return self_cost, calls


def perfcore_self_equivalent(profiled, self_cost, calls):
    out_edges = defaultdict(list)
    for (a, b), c in calls.items():
        if a != b:
            out_edges[a].append((b, c))
    inclusive = {}

    def incl(fn):
        if fn not in inclusive:
            inclusive[fn] = self_cost.get(fn, 0) + sum(c for _, c in out_edges.get(fn, []))
        return inclusive[fn]

    memo = {}

    def profiled_part(fn, depth=0):
        """Of fn's inclusive cost, the part spent in profiled functions below it."""
        if fn in memo:
            return memo[fn]
        if depth > 50:
            return 0.0
        total = 0.0
        for callee, c in out_edges.get(fn, []):
            if callee in profiled:
                total += c
            else:
                inc = incl(callee)
                if inc:
                    total += c * profiled_part(callee, depth + 1) / inc
        memo[fn] = min(total, incl(fn))
        return memo[fn]

    return {fn: incl(fn) - profiled_part(fn) for fn in profiled if fn in self_cost or fn in out_edges}


def spearman(xs, ys):
    def ranks(v):
        order = sorted(range(len(v)), key=lambda i: -v[i])
        r = [0.0] * len(v)
        for rank, i in enumerate(order):
            r[i] = rank + 1
        return r

    n = len(xs)
    if n < 2:
        return float("nan")
    rx, ry = ranks(xs), ranks(ys)
    d2 = sum((a - b) ** 2 for a, b in zip(rx, ry))
    return 1 - 6 * d2 / (n * (n * n - 1))


def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    if len(args) != 2:
        sys.exit(__doc__)
    snap = json.load(open(args[0], encoding="utf-8"))
    self_ns = defaultdict(int)
    for f in snap["functions"]:
        self_ns[f["name"]] += f["self_ns"]
    self_cost, calls = parse_callgrind(args[1])
    cg = perfcore_self_equivalent(set(self_ns), self_cost, calls)
    missing = sorted(set(self_ns) - set(cg))
    names = sorted(cg, key=lambda n: -self_ns[n])
    total_ns = sum(self_ns[n] for n in names) or 1
    total_ir = sum(cg[n] for n in names) or 1
    by_ir = sorted(names, key=lambda n: -cg[n])
    print("| function | perfcore self | share | rank | callgrind Ir (self + unprofiled callees) | share | rank |")
    print("|---|---:|---:|---:|---:|---:|---:|")
    for i, n in enumerate(names):
        print(
            f"| `{n}` | {self_ns[n] / 1e6:.2f} ms | {100 * self_ns[n] / total_ns:.1f}% | {i + 1} "
            f"| {round(cg[n]):,} | {100 * cg[n] / total_ir:.1f}% | {by_ir.index(n) + 1} |"
        )
    rho = spearman([self_ns[n] for n in names], [cg[n] for n in names])
    top = min(3, len(names))
    same_top = names[:top] == by_ir[:top]
    print(f"\nSpearman rank correlation {rho:.3f} over {len(names)} functions; "
          f"top {top} {'in the same order' if same_top else 'differ: ' + ', '.join(by_ir[:top])}")
    if missing:
        print(f"not found in the callgrind profile (inlined?): {', '.join(missing)}")


if __name__ == "__main__":
    main()
