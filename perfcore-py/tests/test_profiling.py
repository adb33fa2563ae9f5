"""What ``@profile``, ``scope`` and ``profile_function`` record, checked against exact counts."""

from __future__ import annotations

import asyncio
import functools
import gc
import inspect
import os
import re
import signal
import subprocess
import sys
import threading
import time
import traceback
from collections.abc import AsyncIterator, Iterator
from pathlib import Path

import pytest

import perfcore
from perfcore import PerformanceProfiler


@pytest.fixture
def p() -> PerformanceProfiler:
    return PerformanceProfiler()


def test_eight_threads_count_exactly(p: PerformanceProfiler) -> None:
    @p.profile
    def work(x: int) -> int:
        return x + 1

    start = threading.Barrier(8)

    def run() -> None:
        start.wait()
        for i in range(10_000):
            work(i)

    threads = [threading.Thread(target=run) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    f = p.snapshot()[work.__qualname__]
    assert (f.count, f.errors) == (80_000, 0)
    assert f.min_ns <= f.p50_ns <= f.p99_ns <= f.max_ns


def test_thousand_asyncio_tasks_exact_with_busy_within_wall(p: PerformanceProfiler) -> None:
    @p.profile(name="task")
    async def task(i: int) -> int:
        await asyncio.sleep(0.001 * (i % 3))
        await asyncio.sleep(0)
        return i

    async def main() -> list[int]:
        return await asyncio.gather(*(task(i) for i in range(1000)))

    assert asyncio.run(main()) == list(range(1000))
    f = p.snapshot()["task"]
    assert (f.count, f.errors, f.cancelled) == (1000, 0, 0)
    assert 0 < f.busy_ns <= f.total_ns
    # Two thirds of the tasks slept at least 1 ms of wall time.
    assert f.total_ns >= 666 * 1_000_000


def test_cancelled_task_counts_as_cancelled(p: PerformanceProfiler) -> None:
    @p.profile(name="slow")
    async def slow() -> None:
        await asyncio.sleep(10)

    async def main() -> None:
        t = asyncio.ensure_future(slow())
        await asyncio.sleep(0.01)
        t.cancel()
        with pytest.raises(asyncio.CancelledError):
            await t

    asyncio.run(main())
    f = p.snapshot()["slow"]
    assert (f.count, f.cancelled, f.errors) == (1, 1, 0)
    assert f.total_ns >= 5_000_000 > f.busy_ns


def test_coroutine_errors_and_results(p: PerformanceProfiler) -> None:
    @p.profile(name="co")
    async def co(fail: bool) -> str:
        await asyncio.sleep(0)
        if fail:
            raise LookupError("missing")
        return "ok"

    assert asyncio.run(co(False)) == "ok"
    with pytest.raises(LookupError, match="missing"):
        asyncio.run(co(True))
    f = p.snapshot()["co"]
    assert (f.count, f.errors) == (2, 1)


def test_generator_exhausted_and_abandoned(p: PerformanceProfiler) -> None:
    @p.profile(name="gen")
    def gen(n: int):  # type: ignore[no-untyped-def]
        for i in range(n):
            yield i
        return "done"

    assert list(gen(5)) == [0, 1, 2, 3, 4]
    half = gen(10)
    assert [next(half), next(half)] == [0, 1]
    del half
    gc.collect()
    g = gen(1)
    next(g)
    with pytest.raises(StopIteration) as stop:
        next(g)
    assert stop.value.value == "done"
    f = p.snapshot()["gen"]
    assert (f.count, f.cancelled, f.errors) == (3, 1, 0)


def test_generator_send_and_yield_from(p: PerformanceProfiler) -> None:
    @p.profile(name="acc")
    def acc():  # type: ignore[no-untyped-def]
        total = 0
        while True:
            x = yield total
            if x is None:
                return total
            total += x

    def outer():  # type: ignore[no-untyped-def]
        result = yield from acc()
        return result

    g = outer()
    next(g)
    assert g.send(2) == 2
    assert g.send(3) == 5
    with pytest.raises(StopIteration) as stop:
        g.send(None)
    assert stop.value.value == 5
    assert p.snapshot()["acc"].count == 1


def test_recursion_500_deep(p: PerformanceProfiler) -> None:
    @p.profile(name="rec")
    def rec(n: int) -> int:
        return 0 if n == 0 else 1 + rec(n - 1)

    assert rec(499) == 499
    snap = p.snapshot()
    f = snap["rec"]
    # Every call counts, however deep (cProfile's ncalls); beyond the default depth of 64
    # only the call tree folds.
    assert f.count == 500
    assert f.folded_calls == 500 - 64
    assert sum(n.count for n in snap.call_tree) == 500
    assert len(snap.call_tree) == 64 + 1
    # The total is the outermost call's time, not the sum over 500 levels (cProfile's cumtime).
    root = next(n for n in snap.call_tree if n.parent is None)
    assert f.total_ns == root.total_ns
    deep = PerformanceProfiler(max_depth=1024)
    rec2 = deep.profile(name="rec")(rec.__wrapped__)
    assert deep.snapshot().function("rec") is None
    rec2(499)
    assert deep.snapshot()["rec"].count >= 1


def test_exception_passes_through_unchanged_and_counts(p: PerformanceProfiler) -> None:
    err = ValueError("bad")

    @p.profile(name="boom")
    def boom() -> None:
        raise err

    with pytest.raises(ValueError) as caught:
        boom()
    assert caught.value is err
    frames = [f.name for f in traceback.extract_tb(caught.value.__traceback__)]
    assert frames[-1] == "boom"
    f = p.snapshot()["boom"]
    assert (f.count, f.errors, f.cancelled) == (1, 1, 0)


@pytest.mark.parametrize("exc", [KeyboardInterrupt(), SystemExit(3)])
def test_interrupts_pass_through_as_cancelled(p: PerformanceProfiler, exc: BaseException) -> None:
    @p.profile(name="interrupted")
    def interrupted() -> None:
        raise exc

    with pytest.raises(type(exc)) as caught:
        interrupted()
    assert caught.value is exc
    with pytest.raises(type(exc)):
        with p.scope("block"):
            raise exc
    snap = p.snapshot()
    for name in ("interrupted", "block"):
        assert (snap[name].count, snap[name].cancelled, snap[name].errors) == (1, 1, 0)


def test_errors_option(p: PerformanceProfiler) -> None:
    @p.profile(name="never", errors=False)
    def never() -> None:
        raise ValueError

    @p.profile(name="only", errors=(KeyError,))
    def only(e: Exception) -> None:
        raise e

    for f, e in [(never, None), (only, KeyError()), (only, ValueError())]:
        with pytest.raises(Exception):
            f(e) if e is not None else f()
    snap = p.snapshot()
    assert (snap["never"].count, snap["never"].errors) == (1, 0)
    assert (snap["only"].count, snap["only"].errors) == (2, 1)


def test_metadata_and_signature_kept(p: PerformanceProfiler) -> None:
    def original(a: int, b: str = "x", *rest: int, key: float = 1.0) -> str:
        """Docstring."""
        return b * a

    wrapped = p.profile(original)
    assert wrapped.__name__ == "original"
    assert wrapped.__qualname__ == original.__qualname__
    assert wrapped.__doc__ == "Docstring."
    assert wrapped.__module__ == original.__module__
    assert wrapped.__wrapped__ is original
    assert inspect.signature(wrapped) == inspect.signature(original)
    assert wrapped(2, "ab") == "abab"
    assert wrapped.__profile_name__ == original.__qualname__


def test_inspect_tells_the_kind_of_function(p: PerformanceProfiler) -> None:
    # Frameworks ask `inspect` whether to await, iterate or call (FastAPI, Starlette, pytest).
    async def co() -> int:
        return 1

    def gen() -> Iterator[int]:
        yield 1

    async def agen() -> AsyncIterator[int]:
        yield 1

    def plain(a: int = 1, *, b: int = 2) -> int:
        return a + b

    class C:
        @p.profile
        async def method(self) -> int:
            return 2

        @p.profile
        @classmethod
        async def cm(cls) -> int:
            return 3

    kinds = (
        inspect.iscoroutinefunction,
        inspect.isgeneratorfunction,
        inspect.isasyncgenfunction,
    )
    for f in (co, gen, agen, plain, C.method, C().method, C.cm):
        wrapped = f if isinstance(f, (type(C.cm), perfcore.ProfiledFunction)) else p.profile(f)
        original = getattr(f, "__func__", f)
        original = getattr(original, "__wrapped__", original)
        assert [k(wrapped) for k in kinds] == [k(original) for k in kinds], f
    assert asyncio.iscoroutinefunction(p.profile(co))
    assert [k(p.profile(len)) for k in kinds] == [False, False, False]
    wrapped_plain = p.profile(plain)
    assert wrapped_plain() == 3 and wrapped_plain(5, b=1) == 6
    assert inspect.signature(wrapped_plain) == inspect.signature(plain)
    assert asyncio.run(C().method()) == 2 and asyncio.run(C.cm()) == 3


def test_methods_classmethods_staticmethods(p: PerformanceProfiler) -> None:
    class C:
        def __init__(self) -> None:
            self.n = 1

        @p.profile
        def method(self, k: int) -> int:
            return self.n + k

        @p.profile
        @classmethod
        def cm(cls) -> type:
            return cls

        @p.profile
        @staticmethod
        def sm(x: int) -> int:
            return -x

    c = C()
    assert (c.method(2), C.cm(), c.cm(), C.sm(4), c.sm(5)) == (3, C, C, -4, -5)
    assert C.method(c, 1) == 2
    snap = p.snapshot()
    assert snap[C.method.__qualname__].count == 2
    assert snap[f"{C.__qualname__}.cm"].count == 2
    assert snap[f"{C.__qualname__}.sm"].count == 2


def test_scope_nesting_self_time_and_reuse(p: PerformanceProfiler) -> None:
    assert p.scope("outer") is p.scope("outer")
    for _ in range(3):
        with p.scope("outer"):
            with p.scope("inner"):
                sum(range(1000))
    with pytest.raises(RuntimeError):
        with p.scope("outer"):
            raise RuntimeError("x")
    snap = p.snapshot()
    outer, inner = snap["outer"], snap["inner"]
    assert (outer.count, outer.errors, inner.count) == (4, 1, 3)
    assert outer.self_ns <= outer.total_ns - inner.total_ns + 1


@pytest.mark.skipif(sys.version_info >= (3, 12), reason="None is immortal from 3.12")
def test_hot_paths_release_references_at_once(p: PerformanceProfiler) -> None:
    # The wrapper's and the scope's slots run outside PyO3's trampolines: a reference they
    # dropped as a PyO3 `Py` would be queued until PyO3's next entry, not released (it
    # once was, for `None`, at every `with` block). Nothing here enters PyO3.
    s = p.scope("block")
    f = p.profile(name="f")(lambda x: x)
    with s:
        f(None)
    # No collection meanwhile: freeing unrelated garbage would change None's count too.
    gc.collect()
    gc.disable()
    try:
        before = (sys.getrefcount(None), sys.getrefcount(s), sys.getrefcount(f))
        for _ in range(1000):
            with s:
                f(None)
            try:
                with s:
                    raise KeyError
            except KeyError:
                pass
        after = (sys.getrefcount(None), sys.getrefcount(s), sys.getrefcount(f))
    finally:
        gc.enable()
    assert after == before


def test_scope_methods_are_bound_once(p: PerformanceProfiler) -> None:
    s = p.scope("once")
    assert s.__enter__ is s.__enter__ and s.__exit__ is s.__exit__
    assert s.__exit__(None, None, None) is False, "closing an unopened block is a no-op"
    with s:
        pass
    assert p.snapshot()["once"].count == 1

    def scopes() -> int:
        gc.collect()
        return sum(1 for o in gc.get_objects() if type(o) is type(s))

    before = scopes()
    q = PerformanceProfiler()
    t = q.scope("cycle")
    assert t.__exit__ is not None  # binds: a cycle between the scope and its method
    assert scopes() == before + 1
    del q, t
    assert scopes() == before, "the collector frees a scope and its bound methods"


def test_snapshot_call_tree(p: PerformanceProfiler) -> None:
    @p.profile(name="leaf")
    def leaf(fail: bool) -> None:
        if fail:
            raise ValueError("leaf")

    @p.profile(name="parent")
    def parent() -> None:
        leaf(False)
        with p.scope("block"):
            leaf(False)
            with pytest.raises(ValueError):
                leaf(True)

    parent()
    parent()
    leaf(False)
    snap = p.snapshot()
    names = [f.name for f in snap.functions]

    def path(i: int) -> tuple[str, ...]:
        node = snap.call_tree[i]
        up = () if node.parent is None else path(node.parent)
        return (*up, names[node.function])

    tree = {path(i): n for i, n in enumerate(snap.call_tree)}
    assert {k: (n.count, n.errors) for k, n in tree.items()} == {
        ("parent",): (2, 0),
        ("parent", "leaf"): (2, 0),
        ("parent", "block"): (2, 0),
        ("parent", "block", "leaf"): (4, 2),
        ("leaf",): (1, 0),
    }
    assert all(n.parent is None or n.parent < i for i, n in enumerate(snap.call_tree))
    block = tree[("parent", "block")]
    assert block.self_ns <= block.total_ns
    assert block["count"] == block.to_dict()["count"] == 2
    assert len(snap.to_dict()["call_tree"]) == len(snap.call_tree) == 5
    assert 0 < snap.started_unix_ns <= snap.ended_unix_ns
    back = perfcore.Snapshot.from_json(snap.to_json())
    assert [n.to_dict() for n in back.call_tree] == [n.to_dict() for n in snap.call_tree]


def test_profile_function_result(p: PerformanceProfiler) -> None:
    def add(a: int, b: int = 0) -> int:
        return a + b

    r = p.profile_function(add, 200, 1, b=2)
    assert (r.iterations, r.warmup_iterations) == (200, 20)
    assert r.execution_time_ms > 0
    assert r.min_ns <= r.p50_ns <= r.p99_ns <= r.max_ns
    assert isinstance(r.memory_used_mb, float)
    assert isinstance(r["memory_used_mb"], float)  # f"{r['memory_used_mb']} MB" prints a number
    assert r["iterations"] == 200 == r.to_dict()["iterations"]
    # Only the timed runs are recorded, not the memory pass.
    assert p.snapshot()[add.__qualname__].count == 200
    assert p.profile_function(add, 10, 1, memory=False).memory_used_mb is None

    def grow() -> list[int]:
        return list(range(10_000))

    m = p.profile_function(grow, 5)
    assert m.memory_used_bytes is not None and m.memory_used_bytes >= 10_000 * 8


def test_profile_function_times_without_tracemalloc(p: PerformanceProfiler) -> None:
    import tracemalloc

    def small(x: int) -> list[object]:
        return [str(x), (x, x), {"k": x}]

    assert not tracemalloc.is_tracing()
    with_memory = p.profile_function(small, 3000, 1)
    without = p.profile_function(small, 3000, 1, memory=False)
    assert not tracemalloc.is_tracing()
    assert with_memory.memory_used_bytes is not None and without.memory_used_bytes is None
    # Under tracemalloc each allocation is traced: a call this small takes about five times as
    # long (measured here), so the timed runs must not have run under it.
    assert with_memory.min_ns < 3 * max(without.min_ns, 1), (with_memory.min_ns, without.min_ns)


def test_profile_function_memory_pass_of_a_decorated_function_is_not_recorded(
    p: PerformanceProfiler,
) -> None:
    @p.profile
    def decorated() -> list[int]:
        return [1, 2, 3]

    r = p.profile_function(decorated, 50)
    assert r.memory_used_bytes is not None
    assert p.snapshot()[decorated.__qualname__].count == 50


def test_profile_function_memory_pass_error_is_raised_and_tracing_stopped(
    p: PerformanceProfiler,
) -> None:
    import tracemalloc

    def fails_when_traced() -> None:
        if tracemalloc.is_tracing():
            raise RuntimeError("traced")

    with pytest.raises(RuntimeError, match="traced"):
        p.profile_function(fails_when_traced, 5)
    assert not tracemalloc.is_tracing()
    assert p.profile_function(fails_when_traced, 5, memory=False).memory_used_bytes is None


def test_profile_function_leaves_tracemalloc_running_if_it_was(p: PerformanceProfiler) -> None:
    import tracemalloc

    tracemalloc.start()
    try:
        r = p.profile_function(lambda: bytearray(100_000), 3)
        assert tracemalloc.is_tracing()
        assert r.memory_used_bytes is not None and r.memory_used_bytes >= 100_000
    finally:
        tracemalloc.stop()


def test_profile_function_stops_at_the_first_exception(p: PerformanceProfiler) -> None:
    calls = []

    def flaky() -> None:
        calls.append(1)
        if len(calls) == 4:
            raise OSError("disk")

    with pytest.raises(OSError, match="disk"):
        p.profile_function(flaky, 10, warmup=0.0)
    assert len(calls) == 4


@pytest.mark.parametrize(
    ("call", "error", "message"),
    [
        (lambda p: p.profile_function(print, 0), ValueError, "iterations must be a positive"),
        (lambda p: p.profile_function(print, -5), ValueError, "got -5"),
        (lambda p: p.profile_function(42), TypeError, "needs a callable"),
        (lambda p: p.profile_function(print, 10, warmup=2.0), ValueError, "warmup"),
        (lambda p: p.profile(42), TypeError, "needs a callable, got int"),
        (lambda p: p.profile(errors="yes"), TypeError, "errors="),
        (lambda p: p.profile(name=""), ValueError, "must not be empty"),
        (lambda p: p.scope(""), ValueError, "must not be empty"),
        (lambda p: p.scope(5), TypeError, "name must be a str, got int"),
        (lambda p: p.scope(["x"]), TypeError, "got list"),
        (lambda p: p.scope(), TypeError, "exactly one argument"),
        (lambda p: PerformanceProfiler.scope(object(), "x"), TypeError, "doesn't apply"),
        (lambda p: PerformanceProfiler(max_depth=0), ValueError, "max_depth"),
    ],
)
def test_bad_arguments_raise_clear_errors(
    p: PerformanceProfiler, call: object, error: type[Exception], message: str
) -> None:
    with pytest.raises(error, match=message):
        call(p)  # type: ignore[operator]


def test_disabled_records_nothing_and_still_calls(p: PerformanceProfiler) -> None:
    @p.profile(name="f")
    def f() -> int:
        return 7

    p.set_enabled(False)
    assert not p.enabled
    assert f() == 7
    with p.scope("s"):
        pass
    p.set_enabled(True)
    f()
    snap = p.snapshot()
    assert snap["f"].count == 1
    assert snap.function("s") is None or snap["s"].count == 0


def test_reset_forgets(p: PerformanceProfiler) -> None:
    f = p.profile(name="f")(lambda: None)
    f()
    p.reset()
    f()
    assert p.snapshot()["f"].count == 1


def test_snapshot_json_round_trip_and_merge(p: PerformanceProfiler, tmp_path: Path) -> None:
    f = p.profile(name="f")(lambda x: x)
    for i in range(100):
        f(i)
    snap = p.snapshot()
    path = tmp_path / "snap.json"
    snap.write_json(path)
    back = perfcore.Snapshot.read_json(path)
    assert back.to_dict() == snap.to_dict()
    assert perfcore.Snapshot.from_json(snap.to_json()).to_dict() == snap.to_dict()
    both = snap.merged(back)
    assert both["f"].count == 200
    assert both["f"].p99_ns == snap["f"].p99_ns
    assert snap.schema_version == perfcore.SCHEMA_VERSION


def test_snapshot_written_by_rust_loads() -> None:
    # The Rust quickstart example writes this when the test command runs it (before pytest).
    root = Path(__file__).resolve().parents[2]
    path = root / "target" / "example-quickstart.json"
    if not path.exists():
        pytest.skip(f"{path} not written: run the Rust examples first")
    snap = perfcore.Snapshot.read_json(path)
    assert snap.total_calls > 0
    assert perfcore.Snapshot.from_json(snap.to_json()).to_dict() == snap.to_dict()
    # The quickstart installs Rust's tracking allocator: its functions carry allocations.
    allocs = [f.allocations for f in snap.functions if f.allocations is not None]
    assert allocs and all(a["calls"] > 0 and a["allocated_bytes"] >= 0 for a in allocs)


def test_allocations_from_rust_json(p: PerformanceProfiler) -> None:
    import json

    with p.scope("work"):
        pass
    snap = p.snapshot()
    assert snap["work"].allocations is None and snap["work"]["allocations"] is None
    data = json.loads(snap.to_json())
    (work,) = [f for f in data["functions"] if f["name"] == "work"]
    work["allocations"] = {
        "calls": 1,
        "allocated_bytes": 4096,
        "self_allocated_bytes": 1024,
        "freed_bytes": 512,
        "allocations": 3,
        "self_allocations": 2,
    }
    back = perfcore.Snapshot.from_json(json.dumps(data))
    assert back["work"].allocations == work["allocations"]
    assert back["work"].to_dict()["allocations"] == work["allocations"]


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("{", "snapshot"),
        ('{"schema_version": 99, "started_unix_ns": 0, "ended_unix_ns": 0, "functions": [], '
         '"call_tree": []}', "99"),
    ],
)
def test_bad_snapshot_json_is_a_value_error(text: str, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        perfcore.Snapshot.from_json(text)


def test_read_missing_file_is_an_os_error(tmp_path: Path) -> None:
    with pytest.raises(OSError, match="missing.json"):
        perfcore.Snapshot.read_json(tmp_path / "missing.json")


def test_stats_objects_index_like_dicts(p: PerformanceProfiler) -> None:
    f = p.profile(name="f")(lambda: None)
    f()
    stats = p.snapshot()["f"]
    d = stats.to_dict()
    assert stats["count"] == stats.count == d["count"] == 1
    assert stats["function"] == "f"
    with pytest.raises(KeyError):
        stats["nope"]
    assert "f" in p.snapshot()
    assert len(p.snapshot()) >= 1


def test_module_level_default_profiler() -> None:
    @perfcore.profile(name="module_level_fn")
    def g() -> int:
        return 1

    before = perfcore.snapshot().function("module_level_fn")
    g()
    after = perfcore.snapshot()["module_level_fn"]
    assert after.count == (before.count if before else 0) + 1
    assert perfcore.default_profiler().snapshot()["module_level_fn"].count == after.count
    assert perfcore.clock_source() in ("tsc", "monotonic")


def test_closures_made_in_a_loop_share_one_entry(p: PerformanceProfiler) -> None:
    def make(k: int):  # type: ignore[no-untyped-def]
        @p.profile
        def inner() -> int:
            return k

        return inner

    for k in range(50):
        make(k)()
    names = [f.name for f in p.snapshot().functions]
    assert names.count("test_closures_made_in_a_loop_share_one_entry.<locals>.make.<locals>.inner") == 1
    assert sys.getrefcount(make) > 0  # keep `make` alive in the test's frame


def test_wraps_callable_objects(p: PerformanceProfiler) -> None:
    class Adder:
        def __call__(self, x: int) -> int:
            return x + 1

    f = p.profile(name="adder")(Adder())
    assert f(1) == 2
    part = p.profile(name="part")(functools.partial(pow, 2))
    assert part(10) == 1024
    snap = p.snapshot()
    assert snap["adder"].count == snap["part"].count == 1


def test_calls_builtins_classes_and_bound_methods(p: PerformanceProfiler) -> None:
    # The wrapper calls the vectorcall entry of functions, builtins and bound methods
    # directly, and everything else (a class, whose entry may be null) through CPython.
    class Point:
        def __init__(self, x: int, y: int = 0) -> None:
            self.x, self.y = x, y

        def norm1(self, scale: int = 1) -> int:
            return (abs(self.x) + abs(self.y)) * scale

    made = p.profile(name="Point")(Point)
    pt = made(3, y=-4)
    assert (pt.x, pt.y) == (3, -4)
    norm = p.profile(name="norm1")(pt.norm1)
    assert norm() == 7 and norm(scale=2) == 14
    assert p.profile(name="len")(len)([1, 2]) == 2
    assert p.profile(name="int")(int)("ff", base=16) == 255
    assert p.profile(name="sorted")(sorted)([3, 1, 2], reverse=True) == [3, 2, 1]
    nested = p.profile(name="outer")(p.profile(name="inner")(lambda a, *, b: a - b))
    assert nested(5, b=2) == 3
    with pytest.raises(TypeError):
        p.profile(name="len")(len)(1, 2)
    snap = p.snapshot()
    counts = {n: snap[n].count for n in ("Point", "norm1", "len", "int", "sorted", "outer")}
    assert counts == {"Point": 1, "norm1": 2, "len": 2, "int": 1, "sorted": 1, "outer": 1}
    assert snap["len"].errors == 1


def test_readme_python_example_runs(
    capsys: pytest.CaptureFixture[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    root = Path(__file__).resolve().parents[2]
    readme = (root / "README.md").read_text()
    # The examples name the repository's files (the FOCUS sample) from its root.
    monkeypatch.chdir(root)
    blocks = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert blocks, "README.md has no Python example"
    for code in blocks:
        exec(compile(code, "README.md", "exec"), {"__name__": "readme"})
    out = capsys.readouterr().out
    assert "parse" in out and "ms per call" in out


def _wait_child(pid: int, timeout_s: float) -> int:
    """The child's exit code; a child still running after `timeout_s` is killed (a hang)."""
    deadline = time.monotonic() + timeout_s
    while time.monotonic() < deadline:
        done, status = os.waitpid(pid, os.WNOHANG)
        if done:
            return os.waitstatus_to_exitcode(status)
        time.sleep(0.01)
    os.kill(pid, signal.SIGKILL)
    os.waitpid(pid, 0)
    raise AssertionError(f"forked child {pid} hung for {timeout_s} s")


def _worker(n: int) -> str:
    p = perfcore.default_profiler()
    f = p.profile(name="mp_work")(abs)
    for i in range(n):
        f(-i)
    return p.snapshot().to_json()


@perfcore.profile(name="pickled_task")
def _pickled_task(n: int) -> perfcore.Snapshot:
    for i in range(n):
        _pickled_leaf(i)
    return perfcore.snapshot()


@perfcore.profile
def _pickled_leaf(i: int) -> int:
    return i * 2


def test_decorated_functions_and_stats_pickle() -> None:
    import copy
    import pickle

    # Functions pickle by reference, as plain functions do; stats objects by value.
    assert pickle.loads(pickle.dumps(_pickled_leaf)) is _pickled_leaf
    assert copy.deepcopy(_pickled_leaf) is _pickled_leaf
    p = PerformanceProfiler()
    with p.scope("outer"):
        p.profile(name="inner")(len)([1])
    r = p.profile_function(sum, 10, [1, 2], memory=True)
    snap = p.snapshot()
    for obj in (snap, snap["inner"], snap.call_tree[1], r):
        back = pickle.loads(pickle.dumps(obj))
        assert type(back) is type(obj) and back.to_dict() == obj.to_dict()
    with pytest.raises(ValueError, match="FunctionStats"):
        perfcore.FunctionStats._from_json("{}")  # type: ignore[attr-defined]
    local = perfcore.profile(lambda: None)
    with pytest.raises((pickle.PicklingError, AttributeError)):
        pickle.dumps(local)  # like a plain lambda: not importable by name


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")  # 3.12+: threads and fork
def test_pool_runs_decorated_functions_and_returns_snapshots() -> None:
    import multiprocessing

    perfcore.reset()
    with multiprocessing.get_context("fork").Pool(2, maxtasksperchild=1) as pool:
        snaps = pool.map(_pickled_task, [10, 20, 30], chunksize=1)
    merged = snaps[0].merged(snaps[1]).merged(snaps[2])
    assert merged[_pickled_leaf.__profile_name__].count == 60
    # Each task snapshots from inside its own call, which is still running then.
    assert merged["pickled_task"].count == 0


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")  # 3.12+: threads and fork
def test_worker_process_snapshots_merge_exactly() -> None:
    import multiprocessing

    # Calls the parent made before forking must not reappear in the workers' snapshots.
    _worker(7)
    ctx = multiprocessing.get_context("fork")
    # One task per worker process, so each snapshot holds exactly one task's calls.
    with ctx.Pool(3, maxtasksperchild=1) as pool:
        jsons = pool.map(_worker, [100, 200, 300], chunksize=1)
    merged = perfcore.Snapshot.from_json(jsons[0])
    for j in jsons[1:]:
        merged = merged.merged(perfcore.Snapshot.from_json(j))
    assert merged["mp_work"].count == 600


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs os.fork")
@pytest.mark.filterwarnings("ignore:.*fork.*:DeprecationWarning")  # 3.12+: threads and fork
def test_fork_while_another_thread_snapshots(p: PerformanceProfiler) -> None:
    f = p.profile(name="forked")(lambda: None)
    for _ in range(1000):
        f()
    stop = threading.Event()

    def snapshot_forever() -> None:
        while not stop.is_set():
            p.snapshot()

    t = threading.Thread(target=snapshot_forever)
    t.start()
    try:
        for _ in range(50):
            pid = os.fork()
            if pid == 0:  # the child: clean, working state, no lock held
                code = 1
                signal.alarm(10)  # a deadlock kills the child instead of hanging the test
                try:
                    snap = p.snapshot()
                    f()
                    if snap.total_calls == 0 and p.snapshot()["forked"].count == 1:
                        code = 0
                finally:
                    os._exit(code)
            assert _wait_child(pid, timeout_s=20) == 0
    finally:
        stop.set()
        t.join()
    assert p.snapshot()["forked"].count == 1000


def test_scopes_follow_their_task_across_awaits(p: PerformanceProfiler) -> None:
    # Two tasks interleave on one thread inside the same scope: each block is one call, timed
    # from its own enter to its own exit, though the other task ran in between.
    order: list[str] = []

    async def job(name: str, delay: float) -> None:
        with p.scope("io"):
            order.append(f"{name} in")
            await asyncio.sleep(delay)
            order.append(f"{name} out")

    @p.profile(name="handler")
    async def handler() -> None:
        with p.scope("inner"):
            await asyncio.sleep(0.002)

    async def main() -> None:
        await asyncio.gather(job("a", 0.02), job("b", 0.005), handler())

    asyncio.run(main())
    assert order == ["a in", "b in", "b out", "a out"]
    snap = p.snapshot()
    io = snap["io"]
    assert (io.count, io.errors) == (2, 0)
    assert io.min_ns >= 4_000_000 and io.max_ns >= 19_000_000
    assert snap["inner"].count == 1 and snap["inner"].total_ns >= 1_500_000
    inner_node = [n for n in p.snapshot().functions if n.name == "inner"]
    assert len(inner_node) == 1


def test_scope_errors_inside_event_loop(p: PerformanceProfiler) -> None:
    async def main() -> None:
        with pytest.raises(KeyError):
            with p.scope("failing"):
                await asyncio.sleep(0)
                raise KeyError("k")
        with p.scope("sync_inside_loop"):
            pass

    asyncio.run(main())
    snap = p.snapshot()
    assert (snap["failing"].count, snap["failing"].errors) == (1, 1)
    assert snap["sync_inside_loop"].count == 1


def test_scope_entered_outside_the_loop_closes_inside_it(p: PerformanceProfiler) -> None:
    with p.scope("outer"):
        async def main() -> None:
            with p.scope("outer"):
                await asyncio.sleep(0)

        asyncio.run(main())
    assert p.snapshot()["outer"].count == 2


def test_return_values_survive_the_wrappers(p: PerformanceProfiler) -> None:
    # A coroutine or generator returning a tuple (or None) hands back exactly that value.
    @p.profile(name="co_tuple")
    async def co_tuple() -> tuple[int, int]:
        await asyncio.sleep(0)
        return (1, 2)

    @p.profile(name="gen_tuple")
    def gen_tuple():  # type: ignore[no-untyped-def]
        yield 0
        return (3, 4)

    def outer():  # type: ignore[no-untyped-def]
        return (yield from gen_tuple())

    assert asyncio.run(co_tuple()) == (1, 2)
    g = outer()
    next(g)
    with pytest.raises(StopIteration) as stop:
        next(g)
    assert stop.value.value == (3, 4)


def test_async_generators_exhausted_abandoned_and_failing(p: PerformanceProfiler) -> None:
    @p.profile(name="agen")
    async def agen(n: int, fail: bool = False):  # type: ignore[no-untyped-def]
        for i in range(n):
            await asyncio.sleep(0.001)
            yield i
        if fail:
            raise ValueError("late")

    async def main() -> None:
        assert [x async for x in agen(3)] == [0, 1, 2]
        g = agen(10)
        assert await g.__anext__() == 0
        await g.aclose()
        with pytest.raises(ValueError, match="late"):
            async for _ in agen(1, fail=True):
                pass
        s = agen(2)
        assert await s.asend(None) == 0

    asyncio.run(main())
    gc.collect()
    f = p.snapshot()["agen"]
    assert (f.count, f.errors, f.cancelled) == (4, 1, 2)
    assert 0 < f.busy_ns <= f.total_ns
    assert f.total_ns >= 5 * 1_000_000


def test_profile_function_on_a_decorated_function_counts_each_run_once(
    p: PerformanceProfiler,
) -> None:
    @p.profile(name="decorated")
    def decorated(x: int) -> int:
        return x * 2

    decorated(1)
    r = p.profile_function(decorated, 50, 3, warmup=0.0)
    assert r.name == "decorated"
    snap = p.snapshot()
    assert [f.name for f in snap.functions].count("decorated") == 1
    assert snap["decorated"].count == 51


def test_profile_function_rejects_async_functions(p: PerformanceProfiler) -> None:
    async def co() -> None:
        pass

    def gen():  # type: ignore[no-untyped-def]
        yield 1

    for fn in (co, gen, p.profile(co)):
        with pytest.raises(TypeError, match="synchronous"):
            p.profile_function(fn, 10)


def test_scopes_do_not_import_asyncio() -> None:
    code = """
import sys
import perfcore
with perfcore.scope("block"):
    pass
assert "asyncio" not in sys.modules, "perfcore imported asyncio"
print(perfcore.snapshot()["block"].count)
"""
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=False)
    assert out.returncode == 0, out.stderr
    assert out.stdout.strip() == "1"
