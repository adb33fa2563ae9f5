"""perfcore: low-overhead profiling for Python services, backed by a Rust engine.

Decorate hot functions, read statistics from a snapshot::

    import perfcore

    @perfcore.profile
    def handle(request): ...

    with perfcore.scope("load config"):
        ...

    snap = perfcore.snapshot()
    print(snap["handle"].p99_ns)

``perfcore.profile`` and the other module-level functions use the process's default
profiler (the one Rust code in the same process records into too); make independent ones
with ``PerformanceProfiler()``.

Baselines and regressions::

    profiler = perfcore.PerformanceProfiler()
    profiler.profile_function(parse, 200)
    profiler.set_baseline("parse")
    ...  # change the code, profile again
    for reg in profiler.detect_regressions():
        print(f"{reg['function']}: {reg['degradation_percent']:.1f}% slower")

``BaselineStore`` keeps named ``Baseline``s and their run history on disk (``.perfcore/`` or
``$PERFCORE_DIR``); ``perfcore.compare(baseline, current, history)`` gives a ``Comparison``
(``to_markdown()`` for a pull-request comment). Verdicts are the strings ``"regressed"``,
``"improved"``, ``"unchanged"``, ``"insufficient_data"``, ``"new"`` and ``"removed"``; metrics
``"median"``, ``"p95"``, ``"p99"``, ``"mean"``, ``"error_rate"`` and ``"bytes_per_call"``. Budgets
(``Budgets.from_toml``, ``check_budgets``) are absolute limits; ``import_criterion`` and
``import_pytest_benchmark`` read other tools' results into snapshots. The
``perfcore`` command and a pytest plugin (``perfcore_benchmark``, ``--perfcore-save``,
``--perfcore-compare``) come with the package.

Analysis (seed 003): ``profiler.identify_hotspots()``, ``generate_recommendations()``,
``optimize_function(name)`` and ``get_performance_summary()`` read what the profiler recorded;
the functions of the same names (``performance_summary`` for the summary) take a ``Snapshot``::

    for h in profiler.identify_hotspots():
        print(h["function"], h.kind, h.severity, f"{h.share_of_time:.0%}")
    opt = profiler.optimize_function("parse")
    for strategy in opt["optimization_strategies"]:
        print(f"{strategy['strategy']}: {strategy['potential_improvement']}")

Costs (seed 003's ``CostMonitor``): track resources, import FOCUS billing exports (CSV, gzip CSV or
Parquet, from AWS, Azure, Google Cloud...), and read totals, breakdowns and reports; money is
``decimal.Decimal``, exact::

    monitor = perfcore.CostMonitor(".perfcore")   # CostMonitor() keeps it in memory
    monitor.import_focus("focus-2024-09.csv")
    for row in monitor.get_cost_breakdown(["provider", "service"], "monthly"):
        print(row["provider"], row["service"], row["cost"])
    report = monitor.generate_cost_report("monthly")
    print(f"Total cost: ${report.total_cost:.2f}")

``perfcore.function_costs(snapshot, vcpu_hour=0.048)`` prices each profiled function's self
time.

``python -m perfcore run [--include PKG] script.py`` profiles every function of a program's own
code without decorating it (see ``perfcore._run``).

Errors: perfcore's own derive from ``PerfcoreError`` (``SnapshotError`` for snapshot data that
is not a snapshot, also a ``ValueError``; ``BaselineError`` and its subclasses for baselines and
the store; ``CostError`` for billing files and the cost store; ``MonitorError`` and its
``MonitorConfigError``, ``MonitorIOError`` and ``MonitorThreadError`` for live monitoring); I/O errors are the matching
``OSError`` (``FileNotFoundError``, ...; a store's are ``BaselineIOError``, an ``OSError`` too);
bad arguments raise ``ValueError`` or ``TypeError``.
"""

import os as _os

from . import _perfcore
from ._perfcore import (
    DEFAULT_RETENTION,
    SCHEMA_VERSION,
    Baseline,
    BaselineError,
    BaselineFormatError,
    BaselineInfo,
    BaselineIOError,
    BaselineNameError,
    BaselineNotFoundError,
    BaselineSchemaError,
    BaselineStore,
    BenchmarkImportError,
    BudgetError,
    BudgetReport,
    Budgets,
    BudgetViolation,
    CallNode,
    ChangePoint,
    CloudProvider,
    Comparison,
    CostError,
    MonitorConfigError,
    MonitorError,
    MonitorIOError,
    MonitorThreadError,
    CostMonitor,
    CostReport,
    Environment,
    EnvironmentMismatchError,
    Evidence,
    FunctionChangePoints,
    FunctionComparison,
    FunctionCost,
    FunctionOptimization,
    FunctionStats,
    FunctionSummary,
    History,
    Hotspot,
    HotspotOptions,
    Impact,
    ImportedRun,
    ImportSummary,
    MetricChange,
    Opportunity,
    OptimizationResult,
    OptimizationStrategy,
    PerfcoreError,
    PerformanceProfiler,
    PerformanceSummary,
    ProfiledAsyncGenerator,
    ProfiledCoroutine,
    ProfiledFunction,
    ProfiledGenerator,
    ProfileResult,
    Recommendation,
    ResourceType,
    Run,
    RunSummary,
    SavedRun,
    Snapshot,
    SnapshotError,
    TopFunction,
    TrackedResource,
    __version__,
    change_points,
    check_budgets,
    clock_source,
    compare,
    default_profiler,
    function_costs,
    generate_recommendations,
    history_change_points,
    identify_hotspots,
    import_criterion,
    import_pytest_benchmark,
    optimize_function,
    performance_summary,
)

_default = default_profiler()

# A forked child (multiprocessing, gunicorn workers) starts with clean, unlocked profilers:
# it reports only its own calls, so worker snapshots merge without counting twice.
if hasattr(_os, "register_at_fork"):
    _os.register_at_fork(
        before=_perfcore._fork_prepare,
        after_in_parent=_perfcore._fork_parent,
        after_in_child=_perfcore._fork_child,
    )

#: Decorator on the default profiler: ``@perfcore.profile`` or ``@perfcore.profile(name=...)``.
profile = _default.profile
#: ``with perfcore.scope("name"):`` on the default profiler.
scope = _default.scope
#: ``perfcore.profile_function(fn, iterations, *args, **kwargs)`` on the default profiler.
profile_function = _default.profile_function
#: Merge the default profiler's recordings into a ``Snapshot``.
snapshot = _default.snapshot
#: Forget what the default profiler recorded.
reset = _default.reset
#: Turn the default profiler on or off.
set_enabled = _default.set_enabled
#: Seed 003's baseline API on the default profiler.
set_baseline = _default.set_baseline
compare_with_baseline = _default.compare_with_baseline
detect_regressions = _default.detect_regressions

# Live monitoring: perfcore.monitor.Monitor, serve_metrics, push_metrics, metrics, rules.
from . import monitor  # noqa: E402

__all__ = [
    "monitor",
    "Baseline",
    "BaselineError",
    "BaselineFormatError",
    "BaselineIOError",
    "BaselineInfo",
    "BaselineNameError",
    "BaselineNotFoundError",
    "BaselineSchemaError",
    "BaselineStore",
    "BenchmarkImportError",
    "BudgetError",
    "BudgetReport",
    "BudgetViolation",
    "Budgets",
    "CallNode",
    "ChangePoint",
    "CloudProvider",
    "Comparison",
    "CostError",
    "MonitorConfigError",
    "MonitorError",
    "MonitorIOError",
    "MonitorThreadError",
    "CostMonitor",
    "CostReport",
    "DEFAULT_RETENTION",
    "Environment",
    "EnvironmentMismatchError",
    "Evidence",
    "FunctionChangePoints",
    "FunctionComparison",
    "FunctionCost",
    "FunctionOptimization",
    "FunctionStats",
    "FunctionSummary",
    "History",
    "Hotspot",
    "HotspotOptions",
    "Impact",
    "ImportSummary",
    "ImportedRun",
    "MetricChange",
    "Opportunity",
    "OptimizationResult",
    "OptimizationStrategy",
    "PerfcoreError",
    "PerformanceProfiler",
    "PerformanceSummary",
    "ProfileResult",
    "ProfiledAsyncGenerator",
    "ProfiledCoroutine",
    "ProfiledFunction",
    "ProfiledGenerator",
    "Recommendation",
    "ResourceType",
    "Run",
    "RunSummary",
    "SCHEMA_VERSION",
    "SavedRun",
    "Snapshot",
    "SnapshotError",
    "TopFunction",
    "TrackedResource",
    "__version__",
    "change_points",
    "check_budgets",
    "clock_source",
    "compare",
    "compare_with_baseline",
    "default_profiler",
    "detect_regressions",
    "function_costs",
    "generate_recommendations",
    "history_change_points",
    "identify_hotspots",
    "import_criterion",
    "import_pytest_benchmark",
    "optimize_function",
    "performance_summary",
    "profile",
    "profile_function",
    "reset",
    "scope",
    "set_baseline",
    "set_enabled",
    "snapshot",
]
