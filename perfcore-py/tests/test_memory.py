"""What profiling holds in memory: per call path, for functions that are gone, after reset."""

from __future__ import annotations

import gc
import time

from perfcore import PerformanceProfiler


def _spread_calls(f, n: int = 40) -> None:  # type: ignore[no-untyped-def]
    """Calls `f` with arguments that make its calls last from ~1 µs to ~1 ms."""
    for i in range(n):
        f(10 ** (i % 4))


def _busy(n: int) -> int:
    end = time.perf_counter_ns() + n * 1000
    while time.perf_counter_ns() < end:
        pass
    return n


def test_functions_that_are_gone_give_their_memory_back_at_reset() -> None:
    p = PerformanceProfiler()
    # Code made with exec, as notebooks and plug-in loaders make it: 300 distinct functions.
    for i in range(300):
        ns: dict[str, object] = {"_busy": _busy}
        exec(f"def generated_{i}(n):\n    return _busy(n)\n", ns)
        _spread_calls(p.profile(ns[f"generated_{i}"]))
        del ns
    gc.collect()
    held = p.heap_bytes()
    # Each path keeps its statistics until a reset: under 16 KiB each over these durations.
    assert 300 * 1024 < held <= 300 * 16 * 1024, held
    assert len(p.snapshot().functions) == 300
    p.reset()
    with p.scope("after"):  # this thread catches up with the reset
        pass
    assert p.heap_bytes() < 16 * 1024, p.heap_bytes()


def test_decorating_again_and_again_reuses_one_entry() -> None:
    p = PerformanceProfiler()

    def make():  # type: ignore[no-untyped-def]
        @p.profile
        def handler(n: int) -> int:
            return n + 1

        return handler

    make()(1)
    for _ in range(5_000):  # a decorator applied inside a function, at every call
        make()(1)
    snap = p.snapshot()
    assert [f.count for f in snap.functions if f.name.endswith("handler")] == [5_001]
    # One call path, whatever the number of wrappers made: its histogram grows only with the
    # powers of two of durations seen.
    assert p.heap_bytes() <= 16 * 1024, p.heap_bytes()
