"""The wrappers behave as what they wrap: binding, implicit classmethods, generator protocol."""

from __future__ import annotations

import inspect
from collections.abc import Generator, Iterator
from typing import Any

import pytest

import perfcore
from perfcore import PerformanceProfiler


@pytest.fixture
def p() -> PerformanceProfiler:
    return PerformanceProfiler()


class Yield:
    """An awaitable that suspends once."""

    def __await__(self) -> Generator[None, None, None]:
        yield


def test_wrapped_builtin_does_not_bind(p: PerformanceProfiler) -> None:
    class A:
        pn = perfcore.profile(len)
        own = p.profile(name="len")(len)

    assert A().pn([1]) == 1
    assert A.pn([1, 2]) == 2
    assert A().own("abc") == 3
    assert getattr(A(), "pn")([]) == 0
    assert p.snapshot()["len"].count == 1


def test_wrapped_callable_object_without_get_does_not_bind(p: PerformanceProfiler) -> None:
    class Adder:
        def __call__(self, *args: Any) -> tuple[Any, ...]:
            return args

    class A:
        add = p.profile(name="add")(Adder())

    assert A().add(1, 2) == (1, 2)


def test_wrapped_bound_method_and_nested_wrappers_bind_as_what_they_wrap(
    p: PerformanceProfiler,
) -> None:
    class Owner:
        def me(self) -> Owner:
            return self

    owner = Owner()

    class A:
        bound = p.profile(name="bound")(owner.me)
        nested_builtin = p.profile(name="outer")(p.profile(name="inner")(len))
        nested_function = p.profile(name="outer2")(p.profile(name="inner2")(Owner.me))

    a = A()
    assert a.bound() is owner
    assert a.nested_builtin("ab") == 2
    assert a.nested_function() is a


def test_wrapped_function_still_binds(p: PerformanceProfiler) -> None:
    class A:
        @p.profile
        def me(self) -> A:
            return self

    a = A()
    assert a.me() is a
    assert A.me(a) is a
    assert inspect.ismethod(a.me)


def test_decorated_init_subclass_is_an_implicit_classmethod(p: PerformanceProfiler) -> None:
    seen: list[tuple[str, dict[str, Any]]] = []

    class Base:
        @p.profile
        def __init_subclass__(cls, **kwargs: Any) -> None:
            super().__init_subclass__()
            seen.append((cls.__name__, kwargs))

    class Sub(Base, tag=1):
        pass

    class SubSub(Sub):
        pass

    assert seen == [("Sub", {"tag": 1}), ("SubSub", {})]
    assert p.snapshot()[Base.__init_subclass__.__qualname__].count == 2


def test_decorated_class_getitem_is_an_implicit_classmethod(p: PerformanceProfiler) -> None:
    class G:
        @p.profile
        def __class_getitem__(cls, item: Any) -> tuple[type, Any]:
            return (cls, item)

    class H(G):
        pass

    assert G[int] == (G, int)
    assert H[str] == (H, str)
    assert G().__class_getitem__(bytes) == (G, bytes)


def test_decorated_new_is_an_implicit_staticmethod(p: PerformanceProfiler) -> None:
    class N:
        @p.profile
        def __new__(cls, value: int) -> N:
            obj = super().__new__(cls)
            obj.value = value  # type: ignore[attr-defined]
            return obj

    n = N(3)
    assert (type(n), n.value) == (N, 3)  # type: ignore[attr-defined]
    assert type(n.__new__(N, 4)) is N


def test_generator_resuming_itself_raises_value_error(p: PerformanceProfiler) -> None:
    @p.profile
    def gen() -> Iterator[int]:
        yield next(me)

    me = gen()
    with pytest.raises(ValueError, match="generator already executing"):
        next(me)
    with pytest.raises(StopIteration):
        next(me)
    stats = p.snapshot()[gen.__qualname__]
    assert (stats.count, stats.errors) == (1, 1)


def test_coroutine_resuming_itself_raises_value_error(p: PerformanceProfiler) -> None:
    @p.profile
    async def co() -> None:
        me.send(None)

    me = co()
    with pytest.raises(ValueError, match="coroutine already executing"):
        me.send(None)


def test_generator_state_and_attributes(p: PerformanceProfiler) -> None:
    states: list[str] = []

    @p.profile
    def gen() -> Iterator[int]:
        states.append(inspect.getgeneratorstate(g))
        assert g.gi_running
        yield 1
        yield from iter([2])

    g = gen()
    plain = gen.__wrapped__()
    assert inspect.getgeneratorstate(g) == inspect.GEN_CREATED
    assert g.gi_code is plain.gi_code
    assert g.gi_frame is not None and not g.gi_running
    assert (g.__name__, g.__qualname__) == (plain.__name__, plain.__qualname__)
    assert next(g) == 1
    assert states == [inspect.GEN_RUNNING]
    assert inspect.getgeneratorstate(g) == inspect.GEN_SUSPENDED
    assert g.gi_suspended
    assert next(g) == 2
    assert g.gi_yieldfrom is not None
    assert list(g) == []
    assert inspect.getgeneratorstate(g) == inspect.GEN_CLOSED
    assert g.gi_frame is None and g.gi_yieldfrom is None


def test_coroutine_state_and_attributes(p: PerformanceProfiler) -> None:
    @p.profile
    async def co() -> int:
        await Yield()
        return 1

    c = co()
    assert inspect.getcoroutinestate(c) == inspect.CORO_CREATED
    assert c.cr_code.co_name == "co"
    assert c.cr_origin is None and c.cr_await is None and not c.cr_running
    c.send(None)
    assert inspect.getcoroutinestate(c) == inspect.CORO_SUSPENDED
    assert c.cr_await is not None and c.cr_suspended
    with pytest.raises(StopIteration):
        c.send(None)
    assert inspect.getcoroutinestate(c) == inspect.CORO_CLOSED
    assert c.cr_frame is None


def test_async_generator_attributes(p: PerformanceProfiler) -> None:
    @p.profile
    async def agen() -> Any:
        await Yield()
        yield 1

    a = agen()
    assert a.ag_code.co_name == "agen"
    assert a.ag_frame is not None and not a.ag_running and a.ag_await is None
    assert a.__name__ == "agen"
    step = a.__anext__()
    step.send(None)
    assert a.ag_await is not None
    if hasattr(inspect, "getasyncgenstate"):  # Python 3.12+
        assert inspect.getasyncgenstate(a) == inspect.AGEN_SUSPENDED
    with pytest.raises(StopIteration):
        step.send(None)
    step.close()
    a.aclose().close()
