"""Reference cycles through perfcore's objects are collected, and generators' ``finally`` runs."""

from __future__ import annotations

import gc
import weakref
from collections.abc import Generator, Iterator
from typing import Any

import pytest

from perfcore import PerformanceProfiler


@pytest.fixture
def p() -> PerformanceProfiler:
    return PerformanceProfiler()


@pytest.fixture(autouse=True)
def _collector_off() -> Iterator[None]:
    # Only the explicit gc.collect() below may collect, so each test sees its own cycle go.
    gc.collect()
    gc.disable()
    try:
        yield
    finally:
        gc.enable()


class Yield:
    """An awaitable that suspends once."""

    def __await__(self) -> Generator[None, None, None]:
        yield


def _gone_after_collect(ref: weakref.ref[Any]) -> bool:
    gc.collect()
    return ref() is None


def test_cycle_through_profiled_generator(p: PerformanceProfiler) -> None:
    finished: list[str] = []

    class R:
        it: Any = None

        def __init__(self) -> None:
            self.it = self.gen()
            next(self.it)

        @p.profile
        def gen(self) -> Iterator[int]:
            try:
                yield 1
                yield 2
            finally:
                finished.append("gen")

    ref = weakref.ref(R())
    assert ref() is not None, "the cycle keeps it alive until the collector runs"
    assert _gone_after_collect(ref)
    assert finished == ["gen"]
    stats = p.snapshot()[R.gen.__qualname__]
    assert (stats.count, stats.cancelled) == (1, 1)


def test_cycle_through_profiled_coroutine(p: PerformanceProfiler) -> None:
    finished: list[str] = []

    class C:
        def __init__(self) -> None:
            self.co = self.run()
            self.co.send(None)

        @p.profile
        async def run(self) -> None:
            try:
                await Yield()
            finally:
                finished.append("coroutine")

    ref = weakref.ref(C())
    assert _gone_after_collect(ref)
    assert finished == ["coroutine"]


def test_cycle_through_profiled_async_generator_and_its_step(p: PerformanceProfiler) -> None:
    finished: list[str] = []

    class A:
        def __init__(self) -> None:
            self.agen = self.items()
            # A step suspended inside the generator: the step, the generator and this object
            # all reference one another.
            self.step = self.agen.__anext__()
            self.step.send(None)

        @p.profile
        async def items(self) -> Any:
            try:
                await Yield()
                yield 1
            finally:
                finished.append("async generator")

    ref = weakref.ref(A())
    assert _gone_after_collect(ref)
    assert finished == ["async generator"]


def test_cycle_through_profiled_function(p: PerformanceProfiler) -> None:
    def make() -> weakref.ref[Any]:
        @p.profile
        def f() -> Any:
            return f  # the closure cell holds the wrapper: wrapper -> function -> cell -> wrapper

        return weakref.ref(f)

    ref = make()
    assert ref() is not None
    assert _gone_after_collect(ref)


def test_cycle_through_decorator_and_errors_class(p: PerformanceProfiler) -> None:
    class Failure(Exception):
        decorator: Any = None

    Failure.decorator = p.profile(errors=Failure)
    ref = weakref.ref(Failure)
    del Failure
    assert ref() is not None
    assert _gone_after_collect(ref)


def test_cycle_through_errors_class_of_a_generator_run(p: PerformanceProfiler) -> None:
    class Failure(Exception):
        pending: Any = None

    @p.profile(errors=Failure)
    def gen() -> Iterator[int]:
        yield 1

    it = gen()
    next(it)
    Failure.pending = it  # the running call holds the class, the class holds the call
    ref = weakref.ref(Failure)
    del Failure, it, gen
    assert _gone_after_collect(ref)
