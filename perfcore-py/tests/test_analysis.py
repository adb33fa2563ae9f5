"""Hotspots, recommendations, ``optimize_function`` and the performance summary (seed 003),
on snapshots built from known durations: every figure below follows from them exactly."""

from __future__ import annotations

import math

import pytest

import perfcore
from perfcore import FunctionStats, HotspotOptions, PerformanceProfiler, Snapshot

MS = 1_000_000


def two_functions() -> Snapshot:
    """parse: 100 calls of 4 ms (80% of the self time); render: 100 of 1 ms (20%)."""
    return Snapshot.from_functions(
        [
            FunctionStats.from_durations("parse", [4 * MS] * 100),
            FunctionStats.from_durations("render", [1 * MS] * 100),
        ],
        0,
        1_000 * MS,
    )


def test_hotspots_rank_by_severity_with_evidence_and_dict_access() -> None:
    hot = perfcore.identify_hotspots(two_functions())
    assert [(h["function"], h.kind, h.severity) for h in hot] == [
        ("parse", "self_time", "critical"),
        ("render", "self_time", "warning"),
    ]
    parse = hot[0]
    assert math.isclose(parse.share_of_time, 0.8)
    assert parse.caller is None
    first = parse.evidence[0]
    assert (first.metric, first.unit, first.threshold) == ("self_share", "fraction", 0.25)
    assert math.isclose(first["value"], 0.8)
    assert [e.metric for e in parse["evidence"]] == ["self_share", "self_ns", "calls"]
    assert parse.evidence[1].value == 400 * MS
    assert parse.to_dict()["evidence"][2] == {
        "metric": "calls",
        "value": 100.0,
        "threshold": None,
        "unit": "count",
    }
    assert str(parse).startswith("critical: parse (self time, 80.0% of self time)")
    with pytest.raises(KeyError):
        parse["nope"]


def test_thresholds_set_from_python_change_the_findings() -> None:
    snap = two_functions()
    # 80% is below an info threshold of 85%: no self-time finding at all.
    assert perfcore.identify_hotspots(snap, HotspotOptions(self_share=(0.85, 0.9, 0.95))) == []
    # render's 20% is now critical, parse's 80% too.
    opts = HotspotOptions(self_share=(0.01, 0.1, 0.2))
    assert [h.severity for h in perfcore.identify_hotspots(snap, opts)] == ["critical"] * 2
    assert opts.self_share == (0.01, 0.1, 0.2)
    assert opts.tail_min_calls == HotspotOptions().tail_min_calls == 100
    assert opts.to_dict()["self_share"] == {"info": 0.01, "warning": 0.1, "critical": 0.2}


def test_bad_options_raise_value_error() -> None:
    with pytest.raises(ValueError, match="NaN"):
        HotspotOptions(error_rate=(0.1, math.nan, 0.3))
    with pytest.raises(ValueError, match="per_call_overhead_ns"):
        HotspotOptions(per_call_overhead_ns=-1.0)
    with pytest.raises(ValueError, match="severity"):
        perfcore.generate_recommendations(two_functions(), min_severity="fatal")
    with pytest.raises(ValueError, match="assumed_speedup"):
        perfcore.generate_recommendations(two_functions(), assumed_speedup=0.5)
    with pytest.raises(TypeError, match="Snapshot"):
        perfcore.identify_hotspots("not a snapshot")  # type: ignore[arg-type]


def test_tail_latency_and_error_prone_hotspots() -> None:
    # One slow call in fifty: p99 / p50 is about 100x.
    tail = FunctionStats.from_durations(
        "query", [5 * MS if i % 50 == 0 else 50_000 for i in range(1_000)]
    )
    snap = Snapshot.from_functions([tail], 0, 1)
    kinds = {h.kind: h for h in perfcore.identify_hotspots(snap)}
    assert kinds["tail_latency"].evidence[0].metric == "p99_over_p50"
    assert kinds["tail_latency"].evidence[0].value > 50
    recs = perfcore.generate_recommendations(snap)
    tail_rec = next(r for r in recs if r.rule == "tail_latency")
    assert tail_rec.impact.method == "not_estimated"
    assert tail_rec.impact.saved_fraction is None
    assert tail_rec.impact.reason


def test_recommendations_give_amdahl_impacts_largest_first() -> None:
    recs = perfcore.generate_recommendations(two_functions())
    assert [r["function"] for r in recs] == ["parse", "render"]
    parse = recs[0]
    assert parse.rule == "dominant_self_time"
    # Halving 80% of the time saves 40% of it; halving 20% saves 10%.
    assert math.isclose(parse.impact.saved_fraction or 0, 0.4)
    assert math.isclose(recs[1].impact.saved_fraction or 0, 0.1)
    assert (parse.impact.share, parse.impact.speedup) == (0.8, 2.0)
    assert parse.impact["method"] == "amdahl"
    assert "Amdahl" in str(parse.impact)
    # An assumed 4x speedup: 80% x 3/4.
    four = perfcore.generate_recommendations(two_functions(), assumed_speedup=4.0)
    assert math.isclose(four[0].impact.saved_fraction or 0, 0.6)
    # Only critical ones.
    assert len(perfcore.generate_recommendations(two_functions(), min_severity="critical")) == 1


def test_optimize_function_reads_as_in_seed_003() -> None:
    opt = perfcore.optimize_function(two_functions(), "render")
    assert opt is not None
    assert (opt["function"], opt.calls, opt.self_ns) == ("render", 100, 100 * MS)
    assert math.isclose(opt.self_share, 0.2)
    lines = [
        f"{strategy['strategy']}: {strategy['potential_improvement']}"
        for strategy in opt["optimization_strategies"]
    ]
    assert len(lines) == 1
    assert lines[0].startswith("`render` spends 20.0% of the profiled time")
    assert lines[0].endswith("saves 10.0% (Amdahl's law)")
    assert opt.optimization_strategies[0].rule == "dominant_self_time"
    assert perfcore.optimize_function(two_functions(), "missing") is None


def test_performance_summary_figures_and_comparison() -> None:
    snap = two_functions()
    s = perfcore.performance_summary(snap)
    assert (s.functions, s.total_calls, s.total_errors, s.error_rate) == (2, 200, 0, 0.0)
    assert s.window_ns == 1_000 * MS
    # No call tree: the profiled wall time is the sum of the functions' totals.
    assert s.profiled_wall_ns == s.total_self_ns == 500 * MS
    assert [t["name"] for t in s.top_functions] == ["parse", "render"]
    assert math.isclose(s.top_functions[0].self_share, 0.8)
    assert s.top_functions[0].mean_ns == 4 * MS
    assert s.memory is None and s.comparison is None
    assert "200 calls" in str(s)

    slower = Snapshot.from_functions(
        [
            FunctionStats.from_durations("parse", [8 * MS + i % 50 for i in range(200)]),
            FunctionStats.from_durations("render", [1 * MS + i % 50 for i in range(200)]),
        ],
        0,
        1,
    )
    base = Snapshot.from_functions(
        [
            FunctionStats.from_durations("parse", [4 * MS + i % 50 for i in range(200)]),
            FunctionStats.from_durations("render", [1 * MS + i % 50 for i in range(200)]),
        ],
        0,
        1,
    )
    cmp = perfcore.performance_summary(slower, base).comparison
    assert cmp is not None
    assert cmp["functions"] == 2
    assert [r["function"] for r in cmp["regressions"]] == ["parse"]
    assert cmp["regressions"][0]["degradation_percent"] > 90
    # A Comparison made already gives the same brief.
    same = perfcore.performance_summary(slower, perfcore.compare(base, slower)).comparison
    assert same == cmp


def test_profiler_methods_read_what_it_recorded() -> None:
    profiler = PerformanceProfiler()

    @profiler.profile(name="work")
    def work() -> int:
        return sum(range(100))

    for _ in range(30):
        work()
    hot = profiler.identify_hotspots()
    assert [(h["function"], h.kind) for h in hot] == [("work", "self_time")]
    assert hot[0].share_of_time == 1.0
    opt = profiler.optimize_function("work")
    assert opt is not None and opt.calls == 30
    assert profiler.optimize_function("missing") is None
    assert [r.function for r in profiler.generate_recommendations()] == ["work"]
    summary = profiler.get_performance_summary()
    assert summary.total_calls == 30
    assert summary.comparison is None
    assert summary.profiled_wall_ns == summary.total_self_ns > 0


def test_profiler_summary_compares_with_the_baseline_set() -> None:
    profiler = PerformanceProfiler()

    @profiler.profile(name="work")
    def work() -> int:
        return sum(range(100))

    for _ in range(40):
        work()
    profiler.set_baseline()
    for _ in range(40):
        work()
    summary = profiler.get_performance_summary()
    assert summary.total_calls == 80
    assert summary.comparison is not None and summary.comparison["functions"] == 1
    # A named baseline that was never set.
    with pytest.raises(perfcore.BaselineNotFoundError):
        profiler.get_performance_summary("nightly")
    # A snapshot to compare with.
    other = Snapshot.from_functions([FunctionStats.from_durations("gone", [10] * 40)], 0, 1)
    cmp = profiler.get_performance_summary(other).comparison
    assert cmp is not None
    verdicts = dict((c["verdict"], c["functions"]) for c in cmp["counts"])
    assert verdicts == {"new": 1, "removed": 1}


def my_function() -> int:
    return sum(i * i for i in range(200))


def test_seed_003_hotspot_and_optimisation_example_runs_as_written() -> None:
    profiler = PerformanceProfiler()
    result = profiler.profile_function(my_function, iterations=100)
    assert result.execution_time_ms > 0
    profiler.set_baseline("my_function")
    hotspots = profiler.identify_hotspots()
    # The one function is the self-time hotspot. On a loaded machine its p99 can also sit far
    # above its median, which adds a tail-latency hotspot of the same function: the timing
    # decides that one, so it is allowed, not required.
    assert [(h["function"], h["kind"]) for h in hotspots if h["kind"] == "self_time"] == [
        ("my_function", "self_time")
    ]
    assert {h["function"] for h in hotspots} == {"my_function"}
    assert {h["kind"] for h in hotspots} <= {"self_time", "tail_latency"}
    optimization = profiler.optimize_function("my_function")
    assert optimization is not None
    printed = [
        f"{strategy['strategy']}: {strategy['potential_improvement']}"
        for strategy in optimization["optimization_strategies"]
    ]
    # The only function has all the self time: halving it saves half.
    assert printed and printed[0].endswith("saves 50.0% (Amdahl's law)")
    assert profiler.get_performance_summary().total_calls >= 100
