//! Hotspots, recommendations, `optimize_function` and the performance summary for Python
//! (`perfcore::analysis`): the result types as classes with attributes, `obj["key"]` (seed
//! 003 reads `h["function"]` and `opt["optimization_strategies"]`), `to_dict()` (the core's
//! JSON) and `str()` (the core's `Display`). Kinds, severities, units and rules are the
//! core's snake_case names as strings.

use perfcore::analysis::{self, Severity, Thresholds};
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::to_py_err;
use crate::regress::{Comparison, compare_options, snapshot_arg, to_data};

/// `obj[key]` as `obj.key` for the names in `fields`, else KeyError: so `h["evidence"]` is the
/// same list of objects as `h.evidence` (and prints as it does).
fn field<'py>(obj: &Bound<'py, PyAny>, fields: &[&str], key: &str) -> PyResult<Bound<'py, PyAny>> {
    if fields.contains(&key) { obj.getattr(key) } else { Err(PyKeyError::new_err(key.to_owned())) }
}

/// A severity from its name.
fn severity_arg(name: &str) -> PyResult<Severity> {
    [Severity::Info, Severity::Warning, Severity::Critical]
        .into_iter()
        .find(|s| s.name() == name)
        .ok_or_else(|| {
            PyValueError::new_err(format!(
                "unknown severity {name:?}; one of info, warning, critical"
            ))
        })
}

/// One measured figure behind a finding, with the threshold it was judged against.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct Evidence {
    inner: analysis::Evidence,
}

const EVIDENCE_FIELDS: &[&str] = &["metric", "value", "threshold", "unit"];

#[pymethods]
impl Evidence {
    /// What was measured (`self_share`, `p99_over_p50`, `calls`, ...).
    #[getter]
    fn metric(&self) -> &str {
        &self.inner.metric
    }
    /// The measured value, in `unit`.
    #[getter]
    fn value(&self) -> f64 {
        self.inner.value
    }
    /// The threshold of the severity the value reached; None for context figures.
    #[getter]
    fn threshold(&self) -> Option<f64> {
        self.inner.threshold
    }
    /// "fraction", "ratio", "nanoseconds", "bytes" or "count".
    #[getter]
    fn unit(&self) -> &'static str {
        self.inner.unit.name()
    }
    /// All fields as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        field(slf.as_any(), EVIDENCE_FIELDS, key)
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self) -> String {
        format!(
            "Evidence(metric={:?}, value={}, threshold={}, unit={:?})",
            self.inner.metric,
            self.inner.value,
            self.inner.threshold.map_or_else(|| "None".to_owned(), |t| t.to_string()),
            self.unit()
        )
    }
}

fn evidence(list: &[analysis::Evidence]) -> Vec<Evidence> {
    list.iter().map(|e| Evidence { inner: e.clone() }).collect()
}

/// One finding of `identify_hotspots`.
///
/// `h["function"]` is `h.function` (seed 003), and so for every attribute.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct Hotspot {
    inner: analysis::Hotspot,
}

const HOTSPOT_FIELDS: &[&str] =
    &["function", "caller", "kind", "severity", "evidence", "share_of_time"];

#[pymethods]
impl Hotspot {
    /// The function's name.
    #[getter]
    fn function(&self) -> &str {
        &self.inner.function
    }
    /// For a "hot_path", the caller under which the function is costly; else None.
    #[getter]
    fn caller(&self) -> Option<&str> {
        self.inner.caller.as_deref()
    }
    /// "self_time", "tail_latency", "allocation_heavy", "call_heavy", "error_prone" or
    /// "hot_path".
    #[getter]
    fn kind(&self) -> &'static str {
        self.inner.kind.name()
    }
    /// "info", "warning" or "critical".
    #[getter]
    fn severity(&self) -> &'static str {
        self.inner.severity.name()
    }
    /// The figures that made it one, the judged figure first.
    #[getter]
    fn evidence(&self) -> Vec<Evidence> {
        evidence(&self.inner.evidence)
    }
    /// The function's (a hot path's: that path's) share of the total self time, 0 to 1.
    #[getter]
    fn share_of_time(&self) -> f64 {
        self.inner.share_of_time
    }
    /// All fields as a dict (the core's JSON).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        field(slf.as_any(), HOTSPOT_FIELDS, key)
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self) -> String {
        format!(
            "Hotspot(function={:?}, kind={:?}, severity={:?}, share_of_time={:.3})",
            self.inner.function,
            self.kind(),
            self.severity(),
            self.inner.share_of_time
        )
    }
}

/// What acting on a recommendation would save, as a fraction of the total self time;
/// `str()` says how it was estimated. Only ever computed from measured figures.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct Impact {
    inner: analysis::Impact,
}

impl Impact {
    fn data(&self) -> serde_json::Value {
        serde_json::to_value(&self.inner).unwrap_or_default()
    }
    fn number(&self, key: &str) -> Option<f64> {
        self.data().get(key).and_then(serde_json::Value::as_f64)
    }
}

#[pymethods]
impl Impact {
    /// "amdahl" (a speedup of a measured share), "call_overhead" (an assumed per-call cost
    /// removed) or "not_estimated".
    #[getter]
    fn method(&self) -> String {
        self.data().get("method").and_then(|m| m.as_str().map(str::to_owned)).unwrap_or_default()
    }
    /// The fraction of the total self time saved, 0 to 1; None when not estimated.
    #[getter]
    fn saved_fraction(&self) -> Option<f64> {
        self.inner.saved_fraction()
    }
    /// Why there is no estimate ("not_estimated"), else None.
    #[getter]
    fn reason(&self) -> Option<String> {
        self.data().get("reason").and_then(|m| m.as_str().map(str::to_owned))
    }
    /// The share of the time that would get faster ("amdahl"), else None.
    #[getter]
    fn share(&self) -> Option<f64> {
        self.number("share")
    }
    /// The speedup assumed or measured ("amdahl"), else None.
    #[getter]
    fn speedup(&self) -> Option<f64> {
        self.number("speedup")
    }
    /// The nanoseconds saved ("call_overhead"), else None.
    #[getter]
    fn saved_ns(&self) -> Option<f64> {
        self.number("saved_ns")
    }
    /// All fields as a dict (`method` and that method's figures).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __getitem__<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        crate::regress::item(self.to_dict(py)?, key)
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self) -> String {
        format!(
            "Impact(method={:?}, saved_fraction={})",
            self.method(),
            self.inner.saved_fraction().map_or_else(|| "None".to_owned(), |f| format!("{f:.4}"))
        )
    }
}

/// One recommendation: the rule that fired, on which function, what to try and what it
/// would save. A heuristic, not a diagnosis.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct Recommendation {
    inner: analysis::Recommendation,
}

const RECOMMENDATION_FIELDS: &[&str] =
    &["rule", "function", "caller", "severity", "strategy", "evidence", "impact"];

#[pymethods]
impl Recommendation {
    /// The rule's id: "dominant_self_time", "tail_latency", "allocation_heavy",
    /// "call_heavy_tiny_function", "error_prone" or "hot_path_under_one_caller".
    #[getter]
    fn rule(&self) -> &'static str {
        self.inner.rule.id()
    }
    /// The function it is about.
    #[getter]
    fn function(&self) -> &str {
        &self.inner.function
    }
    /// For a hot path, the caller under which the function is costly; else None.
    #[getter]
    fn caller(&self) -> Option<&str> {
        self.inner.caller.as_deref()
    }
    /// The severity of the hotspot that fired the rule.
    #[getter]
    fn severity(&self) -> &'static str {
        self.inner.severity.name()
    }
    /// What to try, in a sentence.
    #[getter]
    fn strategy(&self) -> &str {
        &self.inner.strategy
    }
    /// The measured figures that fired the rule.
    #[getter]
    fn evidence(&self) -> Vec<Evidence> {
        evidence(&self.inner.evidence)
    }
    /// What it would save.
    #[getter]
    fn impact(&self) -> Impact {
        Impact { inner: self.inner.impact.clone() }
    }
    /// All fields as a dict (the core's JSON).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        field(slf.as_any(), RECOMMENDATION_FIELDS, key)
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self) -> String {
        format!(
            "Recommendation(rule={:?}, function={:?}, severity={:?}, saved_fraction={})",
            self.rule(),
            self.inner.function,
            self.severity(),
            self.inner.impact.saved_fraction().map_or_else(|| "None".into(), |f| format!("{f:.4}"))
        )
    }
}

/// One entry of `optimize_function(...)["optimization_strategies"]`:
/// `s["strategy"]` and `s["potential_improvement"]` (seed 003), and the rule behind it.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct OptimizationStrategy {
    inner: analysis::OptimizationStrategy,
}

const STRATEGY_FIELDS: &[&str] =
    &["rule", "caller", "severity", "strategy", "potential_improvement", "evidence"];

#[pymethods]
impl OptimizationStrategy {
    /// The id of the rule that suggested it (see `Recommendation.rule`).
    #[getter]
    fn rule(&self) -> &'static str {
        self.inner.rule.id()
    }
    /// For a hot path, the caller concerned; else None.
    #[getter]
    fn caller(&self) -> Option<&str> {
        self.inner.caller.as_deref()
    }
    /// The severity of the finding.
    #[getter]
    fn severity(&self) -> &'static str {
        self.inner.severity.name()
    }
    /// What to try.
    #[getter]
    fn strategy(&self) -> &str {
        &self.inner.strategy
    }
    /// What it would save (`str()` of it is a sentence).
    #[getter]
    fn potential_improvement(&self) -> Impact {
        Impact { inner: self.inner.potential_improvement.clone() }
    }
    /// The measured figures behind it.
    #[getter]
    fn evidence(&self) -> Vec<Evidence> {
        evidence(&self.inner.evidence)
    }
    /// All fields as a dict (the core's JSON).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        field(slf.as_any(), STRATEGY_FIELDS, key)
    }
    fn __str__(&self) -> String {
        format!("{}: {}", self.inner.strategy, self.inner.potential_improvement)
    }
    fn __repr__(&self) -> String {
        format!("OptimizationStrategy(rule={:?}, severity={:?})", self.rule(), self.severity())
    }
}

/// What could be done about one function (seed 003's `optimize_function` result):
/// `opt["optimization_strategies"]`, largest estimated saving first.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct FunctionOptimization {
    inner: analysis::FunctionOptimization,
}

const OPTIMIZATION_FIELDS: &[&str] =
    &["function", "calls", "self_ns", "self_share", "optimization_strategies"];

#[pymethods]
impl FunctionOptimization {
    /// The function's name.
    #[getter]
    fn function(&self) -> &str {
        &self.inner.function
    }
    /// Its calls.
    #[getter]
    fn calls(&self) -> u64 {
        self.inner.calls
    }
    /// Its self time, ns.
    #[getter]
    fn self_ns(&self) -> u64 {
        self.inner.self_ns
    }
    /// Its share of the total self time, 0 to 1.
    #[getter]
    fn self_share(&self) -> f64 {
        self.inner.self_share
    }
    /// The strategies, largest estimated saving first (empty when no rule fired).
    #[getter]
    fn optimization_strategies(&self) -> Vec<OptimizationStrategy> {
        self.inner
            .optimization_strategies
            .iter()
            .map(|s| OptimizationStrategy { inner: s.clone() })
            .collect()
    }
    /// All fields as a dict (the core's JSON).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        field(slf.as_any(), OPTIMIZATION_FIELDS, key)
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self) -> String {
        format!(
            "FunctionOptimization(function={:?}, self_share={:.3}, strategies={})",
            self.inner.function,
            self.inner.self_share,
            self.inner.optimization_strategies.len()
        )
    }
}

/// One of the functions with the most self time, in a `PerformanceSummary`.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct TopFunction {
    inner: analysis::TopFunction,
}

const TOP_FIELDS: &[&str] =
    &["name", "calls", "self_ns", "self_share", "total_ns", "mean_ns", "p99_ns", "error_rate"];

#[pymethods]
impl TopFunction {
    /// The function's name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// Its calls.
    #[getter]
    fn calls(&self) -> u64 {
        self.inner.calls
    }
    /// Its self time, ns.
    #[getter]
    fn self_ns(&self) -> u64 {
        self.inner.self_ns
    }
    /// Its share of the total self time, 0 to 1.
    #[getter]
    fn self_share(&self) -> f64 {
        self.inner.self_share
    }
    /// Its wall time, children included, ns (not additive across functions).
    #[getter]
    fn total_ns(&self) -> u64 {
        self.inner.total_ns
    }
    /// Mean wall time per call, ns.
    #[getter]
    fn mean_ns(&self) -> f64 {
        self.inner.mean_ns
    }
    /// 99th percentile wall time per call, ns.
    #[getter]
    fn p99_ns(&self) -> u64 {
        self.inner.p99_ns
    }
    /// Failed calls over calls.
    #[getter]
    fn error_rate(&self) -> f64 {
        self.inner.error_rate
    }
    /// All fields as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        field(slf.as_any(), TOP_FIELDS, key)
    }
    fn __repr__(&self) -> String {
        format!(
            "TopFunction(name={:?}, calls={}, self_ns={}, self_share={:.3})",
            self.inner.name, self.inner.calls, self.inner.self_ns, self.inner.self_share
        )
    }
}

/// The headline figures of a snapshot (seed 003's `get_performance_summary`): the window,
/// calls and errors, profiled wall and self time, the top functions by self time, memory
/// (with the tracking allocator) and a comparison with a baseline (when there was one).
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct PerformanceSummary {
    inner: analysis::PerformanceSummary,
}

const SUMMARY_FIELDS: &[&str] = &[
    "started_unix_ns",
    "ended_unix_ns",
    "window_ns",
    "functions",
    "total_calls",
    "total_errors",
    "error_rate",
    "profiled_wall_ns",
    "total_self_ns",
    "top_functions",
    "memory",
    "comparison",
];

#[pymethods]
impl PerformanceSummary {
    /// Start of the window, ns since the Unix epoch.
    #[getter]
    fn started_unix_ns(&self) -> u64 {
        self.inner.started_unix_ns
    }
    /// End of the window, ns since the Unix epoch.
    #[getter]
    fn ended_unix_ns(&self) -> u64 {
        self.inner.ended_unix_ns
    }
    /// The window's length, ns.
    #[getter]
    fn window_ns(&self) -> u64 {
        self.inner.window_ns
    }
    /// How many functions (by name) ran.
    #[getter]
    fn functions(&self) -> usize {
        self.inner.functions
    }
    /// Finished calls over all functions.
    #[getter]
    fn total_calls(&self) -> u64 {
        self.inner.total_calls
    }
    /// Failed calls over all functions.
    #[getter]
    fn total_errors(&self) -> u64 {
        self.inner.total_errors
    }
    /// `total_errors / total_calls` (0 without calls).
    #[getter]
    fn error_rate(&self) -> f64 {
        self.inner.error_rate
    }
    /// The call tree's roots' wall time summed over threads, ns.
    #[getter]
    fn profiled_wall_ns(&self) -> u64 {
        self.inner.profiled_wall_ns
    }
    /// The sum of every function's self time, ns.
    #[getter]
    fn total_self_ns(&self) -> u64 {
        self.inner.total_self_ns
    }
    /// The functions with the most self time, most first (at most 10).
    #[getter]
    fn top_functions(&self) -> Vec<TopFunction> {
        self.inner.top_functions.iter().map(|t| TopFunction { inner: t.clone() }).collect()
    }
    /// `tracked_functions`, `allocated_bytes`, `top_allocator`, `top_allocator_bytes`, as a
    /// dict; None without allocation figures.
    #[getter]
    fn memory<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner.memory)
    }
    /// The comparison in brief as a dict (`functions`, `counts` of each verdict,
    /// `regressions` with `function`, `metric`, `degradation_percent`, `reason`); None
    /// without a baseline.
    #[getter]
    fn comparison<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner.comparison)
    }
    /// All fields as a dict (the core's JSON).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __getitem__<'py>(slf: &Bound<'py, Self>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        field(slf.as_any(), SUMMARY_FIELDS, key)
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self) -> String {
        format!(
            "PerformanceSummary(functions={}, total_calls={}, profiled_wall_ns={})",
            self.inner.functions, self.inner.total_calls, self.inner.profiled_wall_ns
        )
    }
}

/// The thresholds hotspots are found with. Each threshold is an `(info, warning, critical)`
/// tuple (a value at or above `critical` is critical, ...); a keyword left out keeps the
/// core's default, documented on `perfcore::analysis::HotspotOptions`.
#[pyclass(module = "perfcore._perfcore", frozen, eq)]
#[derive(PartialEq)]
pub struct HotspotOptions {
    inner: analysis::HotspotOptions,
}

type Triple = (f64, f64, f64);

fn thresholds(name: &str, t: Triple) -> PyResult<Thresholds> {
    if [t.0, t.1, t.2].iter().any(|v| v.is_nan()) {
        return Err(PyValueError::new_err(format!("{name} thresholds must not be NaN")));
    }
    Ok(Thresholds::new(t.0, t.1, t.2))
}

fn triple(t: Thresholds) -> Triple {
    (t.info, t.warning, t.critical)
}

fn non_negative(name: &str, v: f64) -> PyResult<f64> {
    if v >= 0.0 {
        Ok(v)
    } else {
        Err(PyValueError::new_err(format!("{name} must be a number >= 0, got {v}")))
    }
}

#[pymethods]
impl HotspotOptions {
    /// Options with the given thresholds and the core's defaults for the rest. ValueError for
    /// a NaN threshold or a negative figure.
    #[new]
    #[pyo3(signature = (*, self_share = None, tail_ratio = None, tail_min_calls = None,
        tail_min_p99_ns = None, bytes_per_call = None, allocations_per_call = None,
        per_call_overhead_ns = None, call_heavy_min_calls = None, call_heavy_max_mean_ns = None,
        call_heavy_overhead_share = None, error_rate = None, error_min_calls = None,
        hot_path_ratio = None, hot_path_min_share = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        self_share: Option<Triple>,
        tail_ratio: Option<Triple>,
        tail_min_calls: Option<u64>,
        tail_min_p99_ns: Option<u64>,
        bytes_per_call: Option<Triple>,
        allocations_per_call: Option<Triple>,
        per_call_overhead_ns: Option<f64>,
        call_heavy_min_calls: Option<u64>,
        call_heavy_max_mean_ns: Option<f64>,
        call_heavy_overhead_share: Option<Triple>,
        error_rate: Option<Triple>,
        error_min_calls: Option<u64>,
        hot_path_ratio: Option<Triple>,
        hot_path_min_share: Option<f64>,
    ) -> PyResult<Self> {
        let mut o = analysis::HotspotOptions::default();
        let set = |slot: &mut Thresholds, name: &str, v: Option<Triple>| -> PyResult<()> {
            if let Some(v) = v {
                *slot = thresholds(name, v)?;
            }
            Ok(())
        };
        set(&mut o.self_share, "self_share", self_share)?;
        set(&mut o.tail_ratio, "tail_ratio", tail_ratio)?;
        set(&mut o.bytes_per_call, "bytes_per_call", bytes_per_call)?;
        set(&mut o.allocations_per_call, "allocations_per_call", allocations_per_call)?;
        set(
            &mut o.call_heavy_overhead_share,
            "call_heavy_overhead_share",
            call_heavy_overhead_share,
        )?;
        set(&mut o.error_rate, "error_rate", error_rate)?;
        set(&mut o.hot_path_ratio, "hot_path_ratio", hot_path_ratio)?;
        if let Some(v) = tail_min_calls {
            o.tail_min_calls = v;
        }
        if let Some(v) = tail_min_p99_ns {
            o.tail_min_p99_ns = v;
        }
        if let Some(v) = per_call_overhead_ns {
            o.per_call_overhead_ns = non_negative("per_call_overhead_ns", v)?;
        }
        if let Some(v) = call_heavy_min_calls {
            o.call_heavy_min_calls = v;
        }
        if let Some(v) = call_heavy_max_mean_ns {
            o.call_heavy_max_mean_ns = non_negative("call_heavy_max_mean_ns", v)?;
        }
        if let Some(v) = error_min_calls {
            o.error_min_calls = v;
        }
        if let Some(v) = hot_path_min_share {
            o.hot_path_min_share = non_negative("hot_path_min_share", v)?;
        }
        Ok(Self { inner: o })
    }
    /// Share of the total self time, `(info, warning, critical)`.
    #[getter]
    fn self_share(&self) -> Triple {
        triple(self.inner.self_share)
    }
    /// p99 over p50.
    #[getter]
    fn tail_ratio(&self) -> Triple {
        triple(self.inner.tail_ratio)
    }
    /// Calls needed before a p99 is judged.
    #[getter]
    fn tail_min_calls(&self) -> u64 {
        self.inner.tail_min_calls
    }
    /// The least p99 worth reporting as a tail, ns.
    #[getter]
    fn tail_min_p99_ns(&self) -> u64 {
        self.inner.tail_min_p99_ns
    }
    /// Bytes allocated in the function's own body per call.
    #[getter]
    fn bytes_per_call(&self) -> Triple {
        triple(self.inner.bytes_per_call)
    }
    /// Allocations made in the function's own body per call.
    #[getter]
    fn allocations_per_call(&self) -> Triple {
        triple(self.inner.allocations_per_call)
    }
    /// The assumed cost of one call for call-heavy functions, ns.
    #[getter]
    fn per_call_overhead_ns(&self) -> f64 {
        self.inner.per_call_overhead_ns
    }
    /// Calls needed to be call-heavy.
    #[getter]
    fn call_heavy_min_calls(&self) -> u64 {
        self.inner.call_heavy_min_calls
    }
    /// The largest mean wall time of a call-heavy function's call, ns.
    #[getter]
    fn call_heavy_max_mean_ns(&self) -> f64 {
        self.inner.call_heavy_max_mean_ns
    }
    /// The estimated call overhead as a share of the total self time.
    #[getter]
    fn call_heavy_overhead_share(&self) -> Triple {
        triple(self.inner.call_heavy_overhead_share)
    }
    /// Error rate (failed calls over calls).
    #[getter]
    fn error_rate(&self) -> Triple {
        triple(self.inner.error_rate)
    }
    /// Calls needed before an error rate is judged.
    #[getter]
    fn error_min_calls(&self) -> u64 {
        self.inner.error_min_calls
    }
    /// Self time per call under one caller over that under the others.
    #[getter]
    fn hot_path_ratio(&self) -> Triple {
        triple(self.inner.hot_path_ratio)
    }
    /// The least share of the total self time a hot path must hold.
    #[getter]
    fn hot_path_min_share(&self) -> f64 {
        self.inner.hot_path_min_share
    }
    /// All fields as a dict (thresholds as `{"info", "warning", "critical"}` dicts).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "HotspotOptions(self_share={:?}, tail_ratio={:?}, error_rate={:?}, ...)",
            self.self_share(),
            self.tail_ratio(),
            self.error_rate()
        )
    }
}

fn hotspot_options(options: Option<&Bound<'_, HotspotOptions>>) -> analysis::HotspotOptions {
    options.map(|o| o.get().inner.clone()).unwrap_or_default()
}

fn recommendation_options(
    options: Option<&Bound<'_, HotspotOptions>>,
    min_severity: &str,
    assumed_speedup: f64,
) -> PyResult<analysis::RecommendationOptions> {
    if assumed_speedup.is_nan() || assumed_speedup < 1.0 {
        return Err(PyValueError::new_err(format!(
            "assumed_speedup must be at least 1, got {assumed_speedup}"
        )));
    }
    let mut o = analysis::RecommendationOptions::default();
    o.hotspots = hotspot_options(options);
    o.min_severity = severity_arg(min_severity)?;
    o.assumed_speedup = assumed_speedup;
    Ok(o)
}

/// [`analysis::identify_hotspots`] of `snap`, as Python objects.
pub(crate) fn hotspots_of(
    py: Python<'_>,
    snap: &perfcore::Snapshot,
    options: Option<&Bound<'_, HotspotOptions>>,
) -> Vec<Hotspot> {
    let o = hotspot_options(options);
    let found = py.detach(|| analysis::identify_hotspots(snap, &o));
    found.into_iter().map(|inner| Hotspot { inner }).collect()
}

/// [`analysis::generate_recommendations`] of `snap`, as Python objects.
pub(crate) fn recommendations_of(
    py: Python<'_>,
    snap: &perfcore::Snapshot,
    options: Option<&Bound<'_, HotspotOptions>>,
    min_severity: &str,
    assumed_speedup: f64,
) -> PyResult<Vec<Recommendation>> {
    let o = recommendation_options(options, min_severity, assumed_speedup)?;
    let found = py.detach(|| analysis::generate_recommendations(snap, &o));
    Ok(found.into_iter().map(|inner| Recommendation { inner }).collect())
}

/// [`analysis::optimize_function_with`] of `snap`, as a Python object.
pub(crate) fn optimization_of(
    py: Python<'_>,
    snap: &perfcore::Snapshot,
    name: &str,
    options: Option<&Bound<'_, HotspotOptions>>,
    min_severity: &str,
    assumed_speedup: f64,
) -> PyResult<Option<FunctionOptimization>> {
    let o = recommendation_options(options, min_severity, assumed_speedup)?;
    let found = py.detach(|| analysis::optimize_function_with(snap, name, &o));
    Ok(found.map(|inner| FunctionOptimization { inner }))
}

/// [`analysis::performance_summary`] of `snap`, as a Python object.
pub(crate) fn summary_of(
    py: Python<'_>,
    snap: &perfcore::Snapshot,
    comparison: Option<&perfcore::regress::Comparison>,
) -> PerformanceSummary {
    PerformanceSummary { inner: py.detach(|| analysis::performance_summary(snap, comparison)) }
}

/// `PerformanceProfiler.get_performance_summary(baseline=...)`: the comparison the summary
/// carries. `baseline` is a name set with `set_baseline`, a `Snapshot` or `Baseline` to
/// compare the snapshot with, or None: the "default" baseline if one was set, else none.
pub(crate) fn profiler_comparison(
    py: Python<'_>,
    profiler: &perfcore::PerformanceProfiler,
    snap: &perfcore::Snapshot,
    baseline: Option<&Bound<'_, PyAny>>,
    options: &perfcore::regress::CompareOptions,
) -> PyResult<Option<perfcore::regress::Comparison>> {
    let name = match baseline.filter(|b| !b.is_none()) {
        None if profiler.baseline("default").is_err() => return Ok(None),
        None => "default".to_owned(),
        Some(b) => match b.extract::<String>() {
            Ok(name) => name,
            Err(_) => {
                let base = snapshot_arg(b, "baseline")?;
                let history = Vec::new();
                return Ok(Some(
                    py.detach(|| perfcore::regress::compare(&base, snap, &history, options)),
                ));
            }
        },
    };
    py.detach(|| profiler.compare_with_baseline(None, &name, options)).map(Some).map_err(to_py_err)
}

/// The hotspots of `snapshot` (a `Snapshot` or a `Baseline`), most severe first.
#[pyfunction]
#[pyo3(signature = (snapshot, options = None))]
pub fn identify_hotspots(
    py: Python<'_>,
    snapshot: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, HotspotOptions>>,
) -> PyResult<Vec<Hotspot>> {
    let snap = snapshot_arg(snapshot, "snapshot")?;
    Ok(hotspots_of(py, &snap, options))
}

/// The recommendations for `snapshot`: one per hotspot at or above `min_severity`, largest
/// estimated saving first.
#[pyfunction]
#[pyo3(signature = (snapshot, options = None, *, min_severity = "warning", assumed_speedup = 2.0))]
pub fn generate_recommendations(
    py: Python<'_>,
    snapshot: &Bound<'_, PyAny>,
    options: Option<&Bound<'_, HotspotOptions>>,
    min_severity: &str,
    assumed_speedup: f64,
) -> PyResult<Vec<Recommendation>> {
    let snap = snapshot_arg(snapshot, "snapshot")?;
    recommendations_of(py, &snap, options, min_severity, assumed_speedup)
}

/// The strategies for the function `name` of `snapshot` (every severity by default); None
/// when the snapshot has no such function.
#[pyfunction]
#[pyo3(signature = (snapshot, name, options = None, *, min_severity = "info", assumed_speedup = 2.0))]
pub fn optimize_function(
    py: Python<'_>,
    snapshot: &Bound<'_, PyAny>,
    name: &str,
    options: Option<&Bound<'_, HotspotOptions>>,
    min_severity: &str,
    assumed_speedup: f64,
) -> PyResult<Option<FunctionOptimization>> {
    let snap = snapshot_arg(snapshot, "snapshot")?;
    optimization_of(py, &snap, name, options, min_severity, assumed_speedup)
}

/// The headline figures of `snapshot`; with `baseline` (a `Snapshot` or `Baseline`), also
/// the comparison of `snapshot` with it in brief (or pass a `Comparison` made already).
#[pyfunction]
#[pyo3(signature = (snapshot, baseline = None, *, threshold = None, thresholds = None, min_calls = 30, alpha = 0.05))]
#[allow(clippy::too_many_arguments)]
pub fn performance_summary(
    py: Python<'_>,
    snapshot: &Bound<'_, PyAny>,
    baseline: Option<&Bound<'_, PyAny>>,
    threshold: Option<f64>,
    thresholds: Option<&Bound<'_, PyDict>>,
    min_calls: u64,
    alpha: f64,
) -> PyResult<PerformanceSummary> {
    let snap = snapshot_arg(snapshot, "snapshot")?;
    let comparison = match baseline.filter(|b| !b.is_none()) {
        None => None,
        Some(b) if b.is_instance_of::<Comparison>() => {
            Some(b.cast::<Comparison>()?.get().inner().clone())
        }
        Some(b) => {
            let options = compare_options(threshold, thresholds, min_calls, alpha)?;
            let base = snapshot_arg(b, "baseline")?;
            let history = Vec::new();
            Some(py.detach(|| perfcore::regress::compare(&base, &snap, &history, &options)))
        }
    };
    Ok(summary_of(py, &snap, comparison.as_ref()))
}

/// Adds the classes and functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<HotspotOptions>()?;
    m.add_class::<Evidence>()?;
    m.add_class::<Hotspot>()?;
    m.add_class::<Impact>()?;
    m.add_class::<Recommendation>()?;
    m.add_class::<OptimizationStrategy>()?;
    m.add_class::<FunctionOptimization>()?;
    m.add_class::<TopFunction>()?;
    m.add_class::<PerformanceSummary>()?;
    m.add_function(wrap_pyfunction!(identify_hotspots, m)?)?;
    m.add_function(wrap_pyfunction!(generate_recommendations, m)?)?;
    m.add_function(wrap_pyfunction!(optimize_function, m)?)?;
    m.add_function(wrap_pyfunction!(performance_summary, m)?)
}
