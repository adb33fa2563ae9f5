"""Performance budgets and other tools' results (criterion, pytest-benchmark) from Python."""

from __future__ import annotations

import errno
from pathlib import Path

import pytest

import perfcore
from perfcore import Budgets, FunctionStats, PerformanceProfiler, Snapshot

FIXTURES = Path(__file__).resolve().parents[2] / "perfcore" / "tests" / "fixtures"

BUDGETS = """
[functions."api::checkout"]
p95 = "200ms"
error_rate = 0.001

[functions."db::*"]
max = "1ms"
"""


def run() -> Snapshot:
    return Snapshot.from_functions(
        [
            FunctionStats.from_durations("api::checkout", [150_000_000 + i for i in range(100)]),
            FunctionStats.from_durations("db::query", [900_000 + 10_000 * i for i in range(100)]),
        ]
    )


def test_budgets_report_the_figure_and_the_limit() -> None:
    budgets = Budgets.from_toml(BUDGETS)
    assert budgets.patterns == ["api::checkout", "db::*"]
    report = perfcore.check_budgets(run(), budgets)
    assert not report.passed and not report
    assert report.checked == 3  # p95 and error_rate of checkout, max of db::query
    (v,) = report.violations
    assert (v.function, v.pattern, v.key, v.calls) == ("db::query", "db::*", "max", 100)
    assert v.limit == 1_000_000 and v.actual > v.limit and v.excess > 1
    assert v["function"] == "db::query" and v.to_dict()["key"] == "max"
    assert "db::query" in str(v) and "db::query" in str(report)
    assert "db::query" in report.to_markdown()
    assert report.to_dict()["checked"] == 3
    assert budgets.check(run()).violations[0].function == "db::query"
    assert perfcore.check_budgets(run(), '[functions."*"]\nmax = "10s"').passed


def test_profiler_check_budgets() -> None:
    p = PerformanceProfiler()
    p.profile(name="fast")(lambda: None)()
    report = p.check_budgets('[functions.fast]\np50 = "1s"\n[functions.typo]\nmax = "1s"')
    assert report.passed and report.unmatched_patterns == ["typo"]
    assert report.fully_measured and report.skipped == [] and report.not_measured == []
    unmeasured = p.check_budgets('[functions.fast]\nbytes_per_call = 10')
    assert unmeasured.passed and not unmeasured.fully_measured
    assert "tracking allocator" in unmeasured.not_measured[0]["why"]


def test_budgets_read_a_file_and_name_it(tmp_path: Path) -> None:
    good = tmp_path / "budgets.toml"
    good.write_text(BUDGETS)
    assert Budgets.read(good).patterns == ["api::checkout", "db::*"]
    bad = tmp_path / "bad.toml"
    bad.write_text('[functions."a"]\np96 = "1ms"\n')
    with pytest.raises(perfcore.BudgetError, match="unknown key `p96`") as caught:
        Budgets.read(bad)
    e = caught.value
    assert isinstance(e, ValueError) and isinstance(e, perfcore.PerfcoreError)
    assert (e.path, e.line, e.column, e.key) == (str(bad), 2, 1, "p96")
    with pytest.raises(FileNotFoundError) as missing:
        Budgets.read(tmp_path / "missing.toml")
    assert missing.value.errno == errno.ENOENT


@pytest.mark.parametrize(
    ("text", "message"),
    [
        ("[functions.a\n", "invalid TOML"),
        ('[functions."a"]\np95 = 200', "no unit"),
        ('[functions."a"]\nerror_rate = 2.0', "error_rate"),
    ],
)
def test_bad_budgets_are_budget_errors(text: str, message: str) -> None:
    with pytest.raises(perfcore.BudgetError, match=message) as caught:
        Budgets.from_toml(text)
    assert caught.value.line is not None and caught.value.path is None


def test_budgets_argument_is_checked() -> None:
    with pytest.raises(TypeError, match="Budgets or TOML"):
        perfcore.check_budgets(run(), 42)  # type: ignore[arg-type]


def test_import_criterion() -> None:
    imported = perfcore.import_criterion(FIXTURES / "criterion")
    assert imported.source == "criterion"
    f = imported.snapshot["snapshot/from_json_1000_callsites"]
    assert f.count == 20
    demo = perfcore.import_criterion(FIXTURES / "criterion", "demo")
    assert "snapshot/to_json_1000_callsites" in demo.snapshot
    report = perfcore.compare(imported.snapshot, imported.snapshot, min_calls=10)
    assert not report.has_regressions
    with pytest.raises(perfcore.BenchmarkImportError, match="no-such") as caught:
        perfcore.import_criterion(FIXTURES / "criterion", "no-such")
    assert caught.value.path == str(FIXTURES / "criterion")


def test_import_pytest_benchmark() -> None:
    imported = perfcore.import_pytest_benchmark(FIXTURES / "pytest-benchmark" / "with-data.json")
    assert imported.source == "pytest-benchmark"
    assert len(imported.snapshot) == 3
    assert imported.cpu is not None and imported.commit is not None
    assert imported.runtime is not None and "3.11" in imported.runtime
    summary_only = perfcore.import_pytest_benchmark(FIXTURES / "pytest-benchmark" / "summary-only.json")
    assert {s["name"] for s in summary_only.summary_only} >= {"test_tiny.py::test_fib"}
    assert all(s["median_ns"] > 0 for s in summary_only.summary_only)


def test_bad_import_files_name_file_and_place(tmp_path: Path) -> None:
    bad = tmp_path / "bench.json"
    bad.write_text('{"benchmarks": [')
    with pytest.raises(perfcore.BenchmarkImportError, match="bench.json") as caught:
        perfcore.import_pytest_benchmark(bad)
    assert caught.value.path == str(bad) and caught.value.line == 1
    with pytest.raises(FileNotFoundError):
        perfcore.import_pytest_benchmark(tmp_path / "missing.json")
    with pytest.raises(FileNotFoundError):
        perfcore.import_criterion(tmp_path / "missing")
