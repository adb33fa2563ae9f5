"""perfcore's pytest plugin (registered through the ``pytest11`` entry point).

The ``perfcore_benchmark`` fixture times a function through ``profile_function`` and returns
its result::

    def test_parse(perfcore_benchmark):
        assert perfcore_benchmark(parse, "input") == expected

Each test's runs are recorded under its node id in one profiler for the session. Options:

- ``--perfcore-save=NAME``: save the session's runs as the baseline NAME (and append them to
  NAME's run history) in the store;
- ``--perfcore-compare=NAME``: compare the session's runs with the baseline NAME (using its
  history for the run-to-run noise) and show the verdicts in the terminal summary; with no
  such baseline yet, say so and carry on;
- ``--perfcore-fail-on-regression``: with ``--perfcore-compare``, exit non-zero when a
  benchmark regressed (or the baseline cannot be read);
- ``--perfcore-dir=DIR``: the store (default ``$PERFCORE_DIR``, else ``./.perfcore``);
- ``--perfcore-threshold=10%``: the change a verdict needs (``10%`` or ``0.1``);
- ``--perfcore-iterations=N``: timed runs per call of the fixture (default 100).

Runs per call are also set per test with ``@pytest.mark.perfcore(iterations=N, warmup=0.1)``
or ``perfcore_benchmark.iterations = N`` before calling it. The comparison and its statistics
are the Rust crate's (``perfcore.compare``); nothing here decides a verdict.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, TypeVar

import pytest

from ._perfcore import (
    Baseline,
    BaselineNotFoundError,
    BaselineStore,
    Comparison,
    PerfcoreError,
    PerformanceProfiler,
    ProfileResult,
    Snapshot,
    compare,
)

#: Timed runs per call of the fixture, unless a marker or an option says otherwise.
DEFAULT_ITERATIONS = 100
#: The share of ``iterations`` run first, untimed.
DEFAULT_WARMUP = 0.1

_T = TypeVar("_T")


@dataclass
class _Session:
    """What the plugin keeps for one pytest session."""

    store: BaselineStore
    save: str | None
    compare_with: str | None
    fail_on_regression: bool
    threshold: float | None
    iterations: int
    profiler: PerformanceProfiler = field(default_factory=PerformanceProfiler)
    benchmarks: list[str] = field(default_factory=list)
    comparison: Comparison | None = None
    notes: list[str] = field(default_factory=list)


_SESSION = pytest.StashKey[_Session]()


def parse_threshold(text: str) -> float:
    """``"10%"`` or ``"0.1"`` as the fraction 0.1; ValueError for anything else (the range is
    checked by perfcore's comparison settings)."""
    spelled = text.strip()
    value = float(spelled[:-1]) / 100 if spelled.endswith("%") else float(spelled)
    # The Rust crate checks the range (0 to 10, finite): compare two empty runs with it.
    empty = Snapshot.from_functions([])
    compare(empty, empty, threshold=value)
    return value


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("perfcore", "perfcore benchmarks and regression checks")
    group.addoption(
        "--perfcore-save",
        metavar="NAME",
        help="save the benchmarks of this session as the baseline NAME",
    )
    group.addoption(
        "--perfcore-compare",
        metavar="NAME",
        help="compare the benchmarks of this session with the baseline NAME",
    )
    group.addoption(
        "--perfcore-fail-on-regression",
        action="store_true",
        help="with --perfcore-compare: exit non-zero when a benchmark regressed",
    )
    group.addoption(
        "--perfcore-dir",
        metavar="DIR",
        help="the baseline store (default: $PERFCORE_DIR, else ./.perfcore)",
    )
    group.addoption(
        "--perfcore-threshold",
        metavar="PERCENT",
        help="the change a verdict needs, e.g. 10%% or 0.1 (default 10%%)",
    )
    group.addoption(
        "--perfcore-iterations",
        metavar="N",
        type=int,
        help=f"timed runs per perfcore_benchmark call (default {DEFAULT_ITERATIONS})",
    )


def pytest_configure(config: pytest.Config) -> None:
    config.addinivalue_line(
        "markers",
        "perfcore(iterations=None, warmup=None): runs of the perfcore_benchmark fixture in this test",
    )
    save = config.getoption("perfcore_save")
    compare_with = config.getoption("perfcore_compare")
    fail = bool(config.getoption("perfcore_fail_on_regression"))
    if fail and not compare_with:
        raise pytest.UsageError("--perfcore-fail-on-regression needs --perfcore-compare=NAME")
    threshold_text = config.getoption("perfcore_threshold")
    threshold = None
    if threshold_text is not None:
        try:
            threshold = parse_threshold(threshold_text)
        except ValueError as e:
            raise pytest.UsageError(f"--perfcore-threshold={threshold_text}: {e}") from None
    iterations = config.getoption("perfcore_iterations")
    iterations = DEFAULT_ITERATIONS if iterations is None else iterations
    if iterations < 1:
        raise pytest.UsageError(f"--perfcore-iterations must be at least 1, got {iterations}")
    store = BaselineStore(config.getoption("perfcore_dir"))
    for option, name in (("--perfcore-save", save), ("--perfcore-compare", compare_with)):
        if name is not None:
            try:
                store.baseline_path(name)
            except ValueError as e:
                raise pytest.UsageError(f"{option}={name}: {e}") from None
    config.stash[_SESSION] = _Session(
        store=store,
        save=save,
        compare_with=compare_with,
        fail_on_regression=fail,
        threshold=threshold,
        iterations=iterations,
    )


class PerfcoreBenchmark:
    """The ``perfcore_benchmark`` fixture: call it with a function and its arguments."""

    def __init__(self, profiler: PerformanceProfiler, name: str, iterations: int, warmup: float):
        self._profiler = profiler
        #: The name the runs are recorded under (the test's node id).
        self.name = name
        #: Timed runs per call.
        self.iterations = iterations
        #: The share of ``iterations`` run first, untimed.
        self.warmup = warmup
        #: What the last call measured.
        self.result: ProfileResult | None = None

    def __call__(self, func: Callable[..., _T], /, *args: Any, **kwargs: Any) -> _T:
        """Runs ``func(*args, **kwargs)`` ``iterations`` times (after the warm-up), records
        the runs under the test's name, and returns what the last run returned."""
        returned: list[_T] = []

        def run() -> None:
            returned[:] = [func(*args, **kwargs)]

        self.result = self._profiler.profile_function(
            run, self.iterations, name=self.name, warmup=self.warmup, memory=False
        )
        return returned[0]


@pytest.fixture
def perfcore_benchmark(request: pytest.FixtureRequest) -> PerfcoreBenchmark:
    """Times a function through perfcore: ``perfcore_benchmark(fn, *args, **kwargs)`` returns
    ``fn``'s result; the runs go to the session's baseline and comparison."""
    session = request.config.stash[_SESSION]
    marker = request.node.get_closest_marker("perfcore")
    options = dict(marker.kwargs) if marker else {}
    iterations = options.pop("iterations", None)
    warmup = options.pop("warmup", None)
    if options:
        pytest.fail(f"@pytest.mark.perfcore: unknown arguments {sorted(options)}", pytrace=False)
    name = request.node.nodeid
    if name not in session.benchmarks:
        session.benchmarks.append(name)
    return PerfcoreBenchmark(
        session.profiler,
        name,
        session.iterations if iterations is None else iterations,
        DEFAULT_WARMUP if warmup is None else warmup,
    )


def _compare(session: _Session, name: str, current: Snapshot) -> bool:
    """Compares `current` with the baseline `name`; whether it may pass."""
    store = session.store
    try:
        baseline = store.load(name)
        history = store.history(name)
    except BaselineNotFoundError:
        session.notes.append(
            f"no baseline named {name!r} in {store.dir} yet: nothing compared "
            f"(save one with --perfcore-save={name})"
        )
        return True
    except (PerfcoreError, OSError) as e:
        session.notes.append(f"cannot compare with baseline {name!r}: {e}")
        return False
    session.comparison = compare(baseline, current, history, threshold=session.threshold)
    regressed = [f.function for f in session.comparison.regressions()]
    if regressed:
        session.notes.append(f"{len(regressed)} regressed: {', '.join(regressed)}")
    return not regressed


def pytest_sessionfinish(session: pytest.Session, exitstatus: int) -> None:
    state = session.config.stash.get(_SESSION, None)
    if state is None or not (state.save or state.compare_with):
        return
    current = state.profiler.snapshot()
    passed = True
    if state.compare_with:
        passed = _compare(state, state.compare_with, current)
    if state.save:
        if len(current) == 0:
            state.notes.append(f"nothing was benchmarked: baseline {state.save!r} not saved")
        else:
            try:
                saved = state.store.save(Baseline(state.save, current))
                path = state.store.baseline_path(state.save)
                state.notes.append(
                    f"saved baseline {state.save!r} to {path} (run {saved.id} of its history)"
                )
            except (PerfcoreError, OSError) as e:
                state.notes.append(f"cannot save baseline {state.save!r}: {e}")
                passed = False
    if state.fail_on_regression and not passed and session.exitstatus == pytest.ExitCode.OK:
        session.exitstatus = pytest.ExitCode.TESTS_FAILED


def _ns(ns: float) -> str:
    for unit, scale in (("s", 1e9), ("ms", 1e6), ("us", 1e3)):
        if ns >= scale:
            return f"{ns / scale:.2f} {unit}"
    return f"{ns:.0f} ns"


def pytest_terminal_summary(
    terminalreporter: pytest.TerminalReporter, exitstatus: int, config: pytest.Config
) -> None:
    state = config.stash.get(_SESSION, None)
    if state is None or not (state.benchmarks or state.notes):
        return
    tr = terminalreporter
    tr.write_sep("-", "perfcore benchmarks")
    snapshot = state.profiler.snapshot()
    rows = [f for f in snapshot.functions if f.name in state.benchmarks]
    if rows:
        width = max(len(f.name) for f in rows)
        tr.write_line(f"{'benchmark':<{width}}  {'runs':>6}  {'median':>10}  {'p95':>10}  {'mean':>10}")
        for f in rows:
            tr.write_line(
                f"{f.name:<{width}}  {f.count:>6}  {_ns(f.p50_ns):>10}  {_ns(f.p95_ns):>10}  "
                f"{_ns(f.mean_ns):>10}"
            )
    if state.comparison is not None:
        tr.write_line("")
        tr.write_line(f"compared with baseline {state.compare_with!r}:")
        for line in str(state.comparison).splitlines():
            tr.write_line(line)
    for note in state.notes:
        tr.write_line(f"perfcore: {note}")
