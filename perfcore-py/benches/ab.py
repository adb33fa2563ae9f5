"""A/B of two builds of the extension in one process: `@profile` and `with scope` costs.

Run-to-run noise on a shared VM is larger than most changes worth measuring, so both builds
are loaded side by side (as ``pcA._perfcore`` and ``pcB._perfcore``) and timed in turn,
round after round; each figure is ns added over the plain call (or the empty block), as the
minimum and the median over the rounds.

Build each side with ``cargo build --release -p perfcore-py`` (with
``PYO3_BUILD_EXTENSION_MODULE=1``) at the two commits, copy ``target/release/lib_perfcore.so``
aside, then::

    python perfcore-py/benches/ab.py old.so new.so --rounds 40
"""

from __future__ import annotations

import argparse
import asyncio  # noqa: F401  (imported, as in most services: scopes then ask asyncio for a loop)
import importlib.util
import statistics
import timeit
from types import ModuleType
from typing import Any


def load(tag: str, path: str) -> ModuleType:
    spec = importlib.util.spec_from_file_location(f"pc{tag}._perfcore", path)
    if spec is None or spec.loader is None:
        raise SystemExit(f"{path}: not a loadable extension module")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def f(x: int) -> int:
    return x + 1


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("a", help="the first build's extension module (.so)")
    ap.add_argument("b", help="the second build's extension module (.so)")
    ap.add_argument("--rounds", type=int, default=40)
    ap.add_argument("--number", type=int, default=100_000, help="calls per timing")
    args = ap.parse_args()

    g: dict[str, Any] = {"f": f}
    stmts = {"plain": "f(1)", "empty": "pass"}
    for tag, path in (("A", args.a), ("B", args.b)):
        m = load(tag, path)
        own = m.PerformanceProfiler()
        g[f"d{tag}"] = m.default_profiler().profile(f)
        g[f"o{tag}"] = own.profile(f)
        g[f"s{tag}"] = own.scope("block")
        stmts[f"@profile, default profiler {tag}"] = f"d{tag}(1)"
        stmts[f"@profile, own profiler {tag}"] = f"o{tag}(1)"
        stmts[f"with scope (kept object) {tag}"] = f"with s{tag}: pass"

    times: dict[str, list[float]] = {k: [] for k in stmts}
    for _ in range(args.rounds):
        for k, stmt in stmts.items():
            times[k].append(timeit.timeit(stmt, globals=g, number=args.number) / args.number * 1e9)

    print(f"{args.rounds} rounds x {args.number} calls; ns added (min / median)")
    print("| what | A | B |")
    print("|---|---:|---:|")
    whats = ("@profile, default profiler", "@profile, own profiler", "with scope (kept object)")
    for what in whats:
        base = "empty" if what.startswith("with") else "plain"
        cells = []
        for tag in "AB":
            t, b = times[f"{what} {tag}"], times[base]
            low, mid = min(t) - min(b), statistics.median(t) - statistics.median(b)
            cells.append(f"{low:.1f} / {mid:.1f}")
        print(f"| {what} | {cells[0]} | {cells[1]} |")


if __name__ == "__main__":
    main()
