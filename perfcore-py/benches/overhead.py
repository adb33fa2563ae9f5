"""Added cost per call of @profile and `with scope`, beside the Python peers, in one run; and
the cost of applying @profile beside a `functools.wraps` decorator.

Run: ``python perfcore-py/benches/overhead.py`` with perfcore installed (``pip install
./perfcore-py``; ``pip install pyinstrument yappi`` adds those peers). Every figure is the ns
a call costs over the plain call, from rotated best-of-N timeit runs: each round times every
variant once, in turn, and the best round counts, so a noisy neighbour hurts all alike.
Prints a Markdown table for BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import asyncio
import cProfile
import functools
import platform
import sys
import time
import timeit
from collections.abc import Callable
from typing import Any

import perfcore


def f(x: int) -> int:
    return x + 1


def timing_decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
    """What people write by hand: perf_counter_ns twice and a dict update."""
    totals: dict[str, int] = {}

    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        t0 = time.perf_counter_ns()
        try:
            return fn(*args, **kwargs)
        finally:
            totals[fn.__name__] = totals.get(fn.__name__, 0) + time.perf_counter_ns() - t0

    return wrapper


def do_nothing_decorator(fn: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(fn)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        return fn(*args, **kwargs)

    return wrapper


class TimingScope:
    """A pure-Python context manager timing its block."""

    totals: dict[str, int] = {}

    def __init__(self, name: str) -> None:
        self.name = name

    def __enter__(self) -> None:
        self.t0 = time.perf_counter_ns()

    def __exit__(self, *exc: object) -> None:
        self.totals[self.name] = self.totals.get(self.name, 0) + time.perf_counter_ns() - self.t0


class Yield:
    """An awaitable that suspends once: one resume of the awaiting coroutine."""

    def __await__(self):  # type: ignore[no-untyped-def]
        yield


def drive(coro: Any) -> None:
    try:
        while True:
            coro.send(None)
    except StopIteration:
        pass


def main() -> None:
    ap = argparse.ArgumentParser()
    ap.add_argument("--number", type=int, default=50_000, help="calls per timing")
    ap.add_argument("--rounds", type=int, default=100, help="rotated rounds (best counts)")
    args = ap.parse_args()

    profiler = perfcore.PerformanceProfiler()
    scope = profiler.scope("block")
    g: dict[str, Any] = {
        "f": f,
        "profiled": perfcore.profile(f),
        "profiled_own": profiler.profile(f),
        "hand": timing_decorator(f),
        "nothing": do_nothing_decorator(f),
        "scope": scope,
        "profiler": profiler,
        "TimingScope": TimingScope,
        "py_scope": TimingScope("block"),
    }
    variants: dict[str, tuple[str, Callable[[], Any] | None]] = {
        "plain call": ("f(1)", None),
        "@perfcore.profile": ("profiled(1)", None),
        "@profiler.profile (a PerformanceProfiler of its own)": ("profiled_own(1)", None),
        "pure-Python timing decorator": ("hand(1)", None),
        "do-nothing Python wrapper": ("nothing(1)", None),
        "cProfile (whole program)": ("f(1)", "cprofile"),  # type: ignore[dict-item]
        "empty block": ("pass", None),
        "with scope (cached object)": ("with scope: pass", None),
        'with profiler.scope("block")': ('with profiler.scope("block"): pass', None),
        "with pure-Python timing context manager": ("with py_scope: pass", None),
    }
    peers: dict[str, Any] = {}
    try:
        import pyinstrument

        peers["pyinstrument (1 ms sampling, whole program)"] = pyinstrument.Profiler(interval=0.001)
    except ImportError:
        print("pyinstrument not installed: skipped", file=sys.stderr)
    try:
        import yappi

        peers["yappi (wall, whole program)"] = yappi
    except ImportError:
        print("yappi not installed: skipped", file=sys.stderr)

    def run(label: str, stmt: str, mode: Any) -> float:
        if mode == "cprofile":
            prof = cProfile.Profile()
            prof.enable()
            try:
                return timeit.timeit(stmt, globals=g, number=args.number)
            finally:
                prof.disable()
        return timeit.timeit(stmt, globals=g, number=args.number)

    def run_peer(label: str) -> float:
        peer = peers[label]
        if label.startswith("yappi"):
            peer.set_clock_type("wall")
            peer.start()
            try:
                return timeit.timeit("f(1)", globals=g, number=args.number)
            finally:
                peer.stop()
                peer.clear_stats()
        peer.start()
        try:
            return timeit.timeit("f(1)", globals=g, number=args.number)
        finally:
            peer.stop()

    best: dict[str, float] = {}
    for _ in range(args.rounds):
        for label, (stmt, mode) in variants.items():
            t = run(label, stmt, mode)
            best[label] = min(best.get(label, float("inf")), t)
        for label in peers:
            t = run_peer(label)
            best[label] = min(best.get(label, float("inf")), t)
    ns = {k: v / args.number * 1e9 for k, v in best.items()}

    # Async: the cost per resume of a profiled coroutine, over the same coroutine unprofiled.
    resumes = 1000

    async def coro() -> None:
        for _ in range(resumes):
            await Yield()

    profiled_coro = profiler.profile(coro)
    best_async = {"plain": float("inf"), "profiled": float("inf")}
    for _ in range(args.rounds):
        for label, fn in (("plain", coro), ("profiled", profiled_coro)):
            t0 = time.perf_counter_ns()
            for _ in range(20):
                drive(fn())
            best_async[label] = min(best_async[label], (time.perf_counter_ns() - t0) / 20)
    async_per_resume = (best_async["profiled"] - best_async["plain"]) / (resumes + 1)

    # The same inside a real event loop: each `await asyncio.sleep(0)` suspends the task and
    # the loop resumes it (asyncio's C Task, through PyIter_Send).
    async def sleeper(n: int) -> None:
        for _ in range(n):
            await asyncio.sleep(0)

    profiled_sleeper = profiler.profile(sleeper)
    loop_resumes = 2000
    best_loop = {"plain": float("inf"), "profiled": float("inf")}
    for _ in range(args.rounds):
        for label, fn in (("plain", sleeper), ("profiled", profiled_sleeper)):
            t0 = time.perf_counter_ns()
            asyncio.run(fn(loop_resumes))
            best_loop[label] = min(best_loop[label], (time.perf_counter_ns() - t0) / loop_resumes)

    # Applying the decorator (what a decorator applied inside a function costs at each call),
    # beside the functools.wraps decorators above, in the same rotated rounds.
    applying = {
        "perfcore.profile(f)": "perfcore.profile(f)",
        "profiler.profile(f)": "profiler.profile(f)",
        'profiler.profile(name="x")(f)': 'profiler.profile(name="x")(f)',
        "functools.wraps do-nothing decorator": "nothing_decorator(f)",
        "functools.wraps timing decorator": "timing_decorator(f)",
    }
    g.update(perfcore=perfcore, nothing_decorator=do_nothing_decorator,
             timing_decorator=timing_decorator)
    apply_number = max(1, args.number // 10)
    best_apply: dict[str, float] = {}
    for _ in range(args.rounds):
        for label, stmt in applying.items():
            t = timeit.timeit(stmt, globals=g, number=apply_number) / apply_number * 1e9
            best_apply[label] = min(best_apply.get(label, float("inf")), t)

    plain = ns["plain call"]
    empty = ns["empty block"]
    hand = ns["pure-Python timing decorator"] - plain
    cprof = ns["cProfile (whole program)"] - plain
    print(f"Python {platform.python_version()}, perfcore {perfcore.__version__}, "
          f"clock {perfcore.clock_source()}, {args.rounds} rounds x {args.number} calls\n")
    print("| what | ns per call | added ns | added / pure-Python decorator | added / cProfile |")
    print("|---|---:|---:|---:|---:|")
    calls = [k for k in ns if k not in ("empty block",) and not k.startswith("with")]
    for k in calls:
        added = ns[k] - plain
        print(f"| {k} | {ns[k]:.1f} | {added:.1f} | {added / hand:.2f} | {added / cprof:.2f} |")
    print()
    print("| block | ns per block | added ns |")
    print("|---|---:|---:|")
    for k in ns:
        if k == "empty block" or k.startswith("with"):
            print(f"| {k} | {ns[k]:.1f} | {ns[k] - empty:.1f} |")
    print()
    print(f"@profile on an async def: {async_per_resume:.1f} ns added per resume "
          f"({resumes} awaits per call)")
    print(f"in asyncio.run, awaiting asyncio.sleep(0): {best_loop['plain']:.0f} ns per resume "
          f"unprofiled, {best_loop['profiled'] - best_loop['plain']:.1f} ns added")
    print()
    wraps = best_apply["functools.wraps do-nothing decorator"]
    print("| applying a decorator to an existing function | ns | / functools.wraps do-nothing |")
    print("|---|---:|---:|")
    for k, t in best_apply.items():
        print(f"| {k} | {t:.0f} | {t / wraps:.2f} |")


if __name__ == "__main__":
    main()
