"""Regression verdicts from Python: seed 003's profiler API, perfcore.compare, change points."""

from __future__ import annotations

import json
import subprocess
import sys
import textwrap

import pytest

import perfcore
from perfcore import FunctionStats, PerformanceProfiler, Snapshot


def run(**medians_ns: int) -> Snapshot:
    """A run of 1,000 calls per function around the given medians (deterministic jitter)."""
    functions = [
        FunctionStats.from_durations(name, [ns + (i % 50) * ns // 500 for i in range(1_000)])
        for name, ns in medians_ns.items()
    ]
    return Snapshot.from_functions(functions, 0, 1_000_000_000)


def spin(n: int) -> int:
    total = 0
    for i in range(n):
        total ^= i * 31
    return total


WORK = {"n": 2_000}


def my_function() -> int:
    return spin(WORK["n"])


def test_seed_003_example_runs_as_written(capsys: pytest.CaptureFixture[str]) -> None:
    profiler = PerformanceProfiler()
    WORK["n"] = 2_000
    result = profiler.profile_function(my_function, iterations=100)
    assert result.execution_time_ms > 0
    profiler.set_baseline("my_function")
    WORK["n"] = 16_000  # eight times the work: a busy host cannot hide it
    profiler.profile_function(my_function, iterations=100)
    regressions = profiler.detect_regressions()
    for reg in regressions:
        print(f"{reg['function']}: {reg['degradation_percent']:.1f}% slower")
    assert [r.function for r in regressions] == ["my_function"]
    reg = regressions[0]
    assert reg.verdict == "regressed" and reg["verdict"] == "regressed"
    assert reg.degradation_percent > 100
    assert reg.metric in {"median", "mean", "p95", "p99"}
    assert reg.interval is not None and reg.interval[0] <= reg.degradation_percent
    assert 0 <= reg.q_value <= 1 and 0 <= reg.p_value <= 1
    assert reg.metrics and all(m.verdict in {"regressed", "improved", "unchanged"} for m in reg.metrics)
    assert "threshold" in reg.reason
    assert "my_function: " in capsys.readouterr().out


def test_compare_with_baseline_sees_only_the_new_calls() -> None:
    profiler = PerformanceProfiler()
    profiler.profile_function(spin, 60, 500, name="f")
    profiler.set_baseline()  # every function, name "default"
    profiler.profile_function(spin, 40, 500, name="f")
    assert profiler.recorded_since_baseline()["f"].count == 40
    assert profiler.baseline()["f"].count == 60
    report = profiler.compare_with_baseline("f")
    assert len(report) == 1
    only = report.function("f")
    assert only is not None and (only.baseline_calls, only.current_calls) == (60, 40)


def test_unknown_baseline_and_unrecorded_function_raise() -> None:
    profiler = PerformanceProfiler()
    with pytest.raises(perfcore.BaselineNotFoundError, match="nope") as caught:
        profiler.compare_with_baseline(name="nope")
    assert isinstance(caught.value, LookupError) and caught.value.name == "nope"
    with pytest.raises(perfcore.BaselineNotFoundError):
        profiler.detect_regressions("nope")
    with pytest.raises(ValueError, match="never"):
        profiler.set_baseline("never")


def test_compare_verdicts_order_and_reports() -> None:
    report = perfcore.compare(run(parse=100_000, load=900_000, gone=5_000), run(parse=130_000, load=900_000, new=7_000))
    assert report.has_regressions
    verdicts = {f.function: f.verdict for f in report}
    assert verdicts == {"parse": "regressed", "load": "unchanged", "gone": "removed", "new": "new"}
    assert report[0].function == "parse" and report[-1].function == "load"
    assert [f.function for f in report.regressions()] == ["parse"]
    assert dict(report.counts()) == {"regressed": 1, "new": 1, "removed": 1, "unchanged": 1}
    assert report.threshold == pytest.approx(0.10) and report.alpha == pytest.approx(0.05)
    assert report.function("missing") is None
    assert "| `parse` |" in report.to_markdown()
    assert json.loads(report.to_json())["functions"][0]["verdict"] == "regressed"
    assert report.to_dict()["functions"][0]["function"] == "parse"
    assert "parse" in str(report) and "regressed" in str(report)
    assert repr(report) == "Comparison(functions=4, regressions=1)"
    with pytest.raises(IndexError):
        report[4]


def test_thresholds_per_function_and_min_calls() -> None:
    a, b = run(x=100_000, y=100_000), run(x=130_000, y=130_000)
    report = perfcore.compare(a, b, thresholds={"x*": 0.5})
    assert report.function("x").verdict == "unchanged"  # type: ignore[union-attr]
    assert report.function("x").threshold == 0.5  # type: ignore[union-attr]
    assert report.function("y").verdict == "regressed"  # type: ignore[union-attr]
    few = perfcore.compare(a, b, min_calls=5_000)
    assert {f.verdict for f in few} == {"insufficient_data"}
    assert few[0].interval is None


@pytest.mark.parametrize(
    ("options", "message"),
    [
        ({"threshold": -0.1}, "threshold"),
        ({"threshold": float("nan")}, "threshold"),
        ({"thresholds": {"f": 11.0}}, "threshold"),
        ({"thresholds": {"": 0.1}}, "pattern"),
        ({"alpha": 1.0}, "alpha"),
        ({"min_calls": 1}, "min_calls"),
    ],
)
def test_bad_options_are_value_errors(options: dict[str, object], message: str) -> None:
    empty = Snapshot.from_functions([])
    with pytest.raises(ValueError, match=message):
        perfcore.compare(empty, empty, **options)  # type: ignore[arg-type]
    with pytest.raises(ValueError, match=message):
        PerformanceProfiler().detect_regressions(**options)  # type: ignore[arg-type]


def test_compare_arguments_are_checked() -> None:
    with pytest.raises(TypeError, match="Snapshot or a Baseline"):
        perfcore.compare("a", Snapshot.from_functions([]))  # type: ignore[arg-type]
    with pytest.raises(TypeError, match="history"):
        perfcore.compare(Snapshot.from_functions([]), Snapshot.from_functions([]), [1, 2])  # type: ignore[list-item]


def test_history_widens_the_noise_floor() -> None:
    # Runs that wander by ±15% between them: a +20% run is within that history's noise.
    history = [run(f=int(100_000 * (1 + 0.15 * ((-1) ** i)))).summary() for i in range(8)]
    alone = perfcore.compare(run(f=100_000), run(f=120_000))
    assert alone.function("f").verdict == "regressed"  # type: ignore[union-attr]
    with_history = perfcore.compare(run(f=100_000), run(f=120_000), history)
    f = with_history.function("f")
    assert f is not None and f.verdict == "unchanged" and f.history_runs >= 3
    median = next(m for m in f.metrics if m.metric == "median")
    assert median.noise_percent is not None and median.noise_percent > 5


def test_change_points_in_a_series() -> None:
    series = [100.0 * (1 + 0.01 * ((i * 7 % 5) - 2)) for i in range(30)]
    series += [120.0 * (1 + 0.01 * ((i * 7 % 5) - 2)) for i in range(30)]
    (point,) = perfcore.change_points(series)
    assert point.index == 30
    assert point.change_percent == pytest.approx(20, abs=2)
    assert point.confidence >= 0.95 and point["index"] == 30
    assert perfcore.change_points([100.0] * 40) == []
    with pytest.raises(ValueError, match="penalty"):
        perfcore.change_points(series, penalty=-1)
    with pytest.raises(ValueError, match="min_segment"):
        perfcore.change_points(series, min_segment=0)
    with pytest.raises(ValueError, match="permutations"):
        perfcore.change_points(series, permutations=0)
    with pytest.raises(ValueError, match="min_confidence"):
        perfcore.change_points(series, min_confidence=2)


def test_history_change_points_name_the_run() -> None:
    history = [run(f=1_000 if i < 25 else 1_300) for i in range(40)]
    (found,) = perfcore.history_change_points(history, "median")
    assert (found.function, found.metric, found.runs) == ("f", "median", 40)
    assert [p.index for p in found.points] == [25]
    with pytest.raises(ValueError, match="unknown metric"):
        perfcore.history_change_points(history, "p42")


def test_snapshot_since_and_summary() -> None:
    profiler = PerformanceProfiler()
    profiler.profile_function(spin, 10, 10, name="f")
    before = profiler.snapshot()
    profiler.profile_function(spin, 5, 10, name="f")
    after = profiler.snapshot()
    assert after.since(before)["f"].count == 5
    with pytest.raises(perfcore.SnapshotError):
        before.since(after)
    summary = after.summary()
    assert summary["f"].count == 15 and len(summary) == 1
    assert summary.function("missing") is None
    assert summary.to_dict()["functions"][0]["name"] == "f"


def test_default_profiler_has_the_seed_api() -> None:
    code = textwrap.dedent(
        """
        import perfcore
        perfcore.profile_function(sum, 50, range(100), name="s")
        perfcore.set_baseline("s")
        perfcore.profile_function(sum, 50, range(100), name="s")
        report = perfcore.compare_with_baseline("s", threshold=5.0)
        assert report.function("s").current_calls == 50, report
        assert perfcore.detect_regressions(threshold=5.0) == []
        """
    )
    subprocess.run([sys.executable, "-c", code], check=True)
