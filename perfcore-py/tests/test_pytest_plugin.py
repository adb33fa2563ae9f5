"""perfcore's pytest plugin (the ``pytest11`` entry point), run through ``pytester``."""

from __future__ import annotations

import importlib.metadata
import json
from pathlib import Path

import pytest

from perfcore import BaselineStore
from perfcore.pytest_plugin import parse_threshold

BENCHMARKS = """
import os

import pytest


def work(n):
    return sum(i * i for i in range(n))


def test_work(perfcore_benchmark):
    slowdown = int(os.environ.get("PERFCORE_TEST_SLOWDOWN", "1"))
    assert perfcore_benchmark(work, 3_000 * slowdown) == work(3_000 * slowdown)


@pytest.mark.perfcore(iterations=40)
def test_steady(perfcore_benchmark):
    perfcore_benchmark(work, n=3_000)
    assert perfcore_benchmark.result.iterations == 40
"""


@pytest.fixture
def suite(pytester: pytest.Pytester, tmp_path: Path) -> tuple[pytest.Pytester, Path]:
    pytester.makepyfile(test_bench=BENCHMARKS)
    return pytester, tmp_path / "store"


def run(pytester: pytest.Pytester, store: Path, *args: str) -> pytest.RunResult:
    return pytester.runpytest(f"--perfcore-dir={store}", "--perfcore-iterations=60", *args)


def test_entry_point_is_registered() -> None:
    points = importlib.metadata.entry_points(group="pytest11")
    assert any(p.name == "perfcore" and p.value == "perfcore.pytest_plugin" for p in points)


def test_fixture_returns_the_result_and_the_summary_lists_benchmarks(
    suite: tuple[pytest.Pytester, Path],
) -> None:
    pytester, store = suite
    result = run(pytester, store)
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["*perfcore benchmarks*", "benchmark*runs*median*p95*mean*"])
    result.stdout.fnmatch_lines(["test_bench.py::test_work *60 *", "test_bench.py::test_steady *40 *"])
    assert not store.exists(), "nothing saved without --perfcore-save"


def test_save_writes_a_baseline_named_by_node_ids(suite: tuple[pytest.Pytester, Path]) -> None:
    pytester, store = suite
    result = run(pytester, store, "--perfcore-save=main")
    result.assert_outcomes(passed=2)
    result.stdout.fnmatch_lines(["perfcore: saved baseline 'main' to *main.json (run 1 of its history)"])
    baseline = BaselineStore(store).load("main")
    names = sorted(f.name for f in baseline.snapshot.functions)
    assert names == ["test_bench.py::test_steady", "test_bench.py::test_work"]
    assert baseline.snapshot["test_bench.py::test_work"].count == 60
    assert baseline.environment.runtime.startswith("CPython")


def test_compare_unchanged_passes(suite: tuple[pytest.Pytester, Path]) -> None:
    pytester, store = suite
    run(pytester, store, "--perfcore-save=main").assert_outcomes(passed=2)
    # A generous threshold (10x): a shared machine's host has made an unchanged run measure
    # twice as slow, and that is not what is tested here (the rule itself is tested in Rust,
    # on simulated runs); the slowdown test below uses 40x the work against it.
    result = run(
        pytester,
        store,
        "--perfcore-compare=main",
        "--perfcore-fail-on-regression",
        "--perfcore-threshold=900%",
    )
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["compared with baseline 'main':", "verdict*function*"])
    result.stdout.no_fnmatch_line("*regressed*test_bench*")


def test_compare_with_a_slowdown_fails_naming_the_regression(
    suite: tuple[pytest.Pytester, Path], monkeypatch: pytest.MonkeyPatch
) -> None:
    pytester, store = suite
    run(pytester, store, "--perfcore-save=main").assert_outcomes(passed=2)
    monkeypatch.setenv("PERFCORE_TEST_SLOWDOWN", "40")
    result = run(
        pytester,
        store,
        "--perfcore-compare=main",
        "--perfcore-fail-on-regression",
        "--perfcore-threshold=900%",
    )
    result.assert_outcomes(passed=2)
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(
        ["regressed *test_bench.py::test_work*", "perfcore: 1 regressed: test_bench.py::test_work"]
    )
    # Without --perfcore-fail-on-regression the verdict is shown and the session passes.
    shown = run(pytester, store, "--perfcore-compare=main", "--perfcore-threshold=900%")
    assert shown.ret == pytest.ExitCode.OK
    shown.stdout.fnmatch_lines(["regressed *test_bench.py::test_work*"])


def test_no_baseline_yet_is_a_line_not_a_failure(suite: tuple[pytest.Pytester, Path]) -> None:
    pytester, store = suite
    result = run(pytester, store, "--perfcore-compare=main", "--perfcore-fail-on-regression")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(
        ["perfcore: no baseline named 'main' in * yet: nothing compared (save one with --perfcore-save=main)"]
    )


def test_save_and_compare_together_compare_first(suite: tuple[pytest.Pytester, Path]) -> None:
    pytester, store = suite
    run(pytester, store, "--perfcore-save=main").assert_outcomes(passed=2)
    result = run(pytester, store, "--perfcore-compare=main", "--perfcore-save=main", "--perfcore-threshold=900%")
    assert result.ret == pytest.ExitCode.OK
    result.stdout.fnmatch_lines(["compared with baseline 'main':", "*saved baseline 'main'*(run 2 of its history)"])


def test_corrupt_baseline_fails_with_the_file_named(suite: tuple[pytest.Pytester, Path]) -> None:
    pytester, store = suite
    run(pytester, store, "--perfcore-save=main").assert_outcomes(passed=2)
    path = BaselineStore(store).baseline_path("main")
    path.write_text(path.read_text()[:100])
    result = run(pytester, store, "--perfcore-compare=main", "--perfcore-fail-on-regression")
    assert result.ret == pytest.ExitCode.TESTS_FAILED
    result.stdout.fnmatch_lines(["perfcore: cannot compare with baseline 'main': invalid baseline in *main.json*"])


def test_iterations_attribute_and_bad_marker(pytester: pytest.Pytester) -> None:
    pytester.makepyfile(
        """
        import pytest

        def test_attr(perfcore_benchmark):
            perfcore_benchmark.iterations = 7
            assert perfcore_benchmark(lambda: 42) == 42
            assert perfcore_benchmark.result.iterations == 7

        def test_raises(perfcore_benchmark):
            with pytest.raises(ZeroDivisionError):
                perfcore_benchmark(lambda: 1 / 0)

        @pytest.mark.perfcore(iterationz=3)
        def test_bad_marker(perfcore_benchmark):
            pass
        """
    )
    result = pytester.runpytest()
    result.assert_outcomes(passed=2, errors=1)
    result.stdout.fnmatch_lines(["*@pytest.mark.perfcore: unknown arguments *iterationz*"])


@pytest.mark.parametrize(
    ("args", "message"),
    [
        (["--perfcore-threshold=ten"], "--perfcore-threshold=ten: could not convert*"),
        (["--perfcore-threshold=-5%"], "--perfcore-threshold=-5%: *threshold*"),
        (["--perfcore-fail-on-regression"], "*--perfcore-fail-on-regression needs --perfcore-compare=NAME*"),
        (["--perfcore-save=a/b"], "*--perfcore-save=a/b: invalid baseline name*"),
        (["--perfcore-iterations=0"], "*--perfcore-iterations must be at least 1, got 0*"),
    ],
)
def test_bad_options_are_usage_errors(pytester: pytest.Pytester, args: list[str], message: str) -> None:
    pytester.makepyfile("def test_nothing(): pass")
    result = pytester.runpytest(*args)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    result.stderr.fnmatch_lines([f"*{message}"])


def test_parse_threshold() -> None:
    assert parse_threshold("10%") == pytest.approx(0.10)
    assert parse_threshold(" 2.5% ") == pytest.approx(0.025)
    assert parse_threshold("0.1") == pytest.approx(0.1)
    with pytest.raises(ValueError, match="threshold"):
        parse_threshold("2000%")


def test_baseline_json_is_plain_and_diffable(suite: tuple[pytest.Pytester, Path]) -> None:
    pytester, store = suite
    run(pytester, store, "--perfcore-save=main").assert_outcomes(passed=2)
    doc = json.loads(BaselineStore(store).baseline_path("main").read_text())
    assert doc["name"] == "main" and doc["schema_version"] == 1
