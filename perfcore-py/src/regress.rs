//! Comparisons and change points for Python: `perfcore.compare`, `Comparison` and its parts,
//! `perfcore.change_points`. Verdicts and metrics are plain strings (`Verdict::name`,
//! `Metric::name`); dicts come from the core's own serialisation.

use perfcore::regress::{self, ChangePointOptions, CompareOptions, Metric};
use pyo3::exceptions::{PyKeyError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::baseline::{Baseline, History, RunSummary};
use crate::error::to_py_err;
use crate::stats::Snapshot;

/// `value` as Python data (dicts, lists, floats) through its JSON, the one format the core
/// defines for it.
pub(crate) fn to_data<'py, T: serde::Serialize>(
    py: Python<'py>,
    value: &T,
) -> PyResult<Bound<'py, PyAny>> {
    let text = serde_json::to_string(value).expect("plain data always serialises");
    py.import("json")?.call_method1("loads", (text,))
}

/// `d[key]` for `obj["key"]`, or KeyError.
pub(crate) fn item<'py>(d: Bound<'py, PyAny>, key: &str) -> PyResult<Bound<'py, PyAny>> {
    d.cast_into::<PyDict>()?.get_item(key)?.ok_or_else(|| PyKeyError::new_err(key.to_owned()))
}

/// The comparison settings shared by `compare`, `compare_with_baseline` and
/// `detect_regressions`, checked by the core.
pub(crate) fn compare_options(
    threshold: Option<f64>,
    thresholds: Option<&Bound<'_, PyDict>>,
    min_calls: u64,
    alpha: f64,
) -> PyResult<CompareOptions> {
    let mut o = CompareOptions::default();
    if let Some(t) = threshold {
        o = o.threshold(t).map_err(to_py_err)?;
    }
    for (pattern, t) in thresholds.into_iter().flat_map(|d| d.iter()) {
        o = o.threshold_for(pattern.extract::<String>()?, t.extract()?).map_err(to_py_err)?;
    }
    o.min_calls(min_calls).and_then(|o| o.alpha(alpha)).map_err(to_py_err)
}

/// How one metric of a function moved.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct MetricChange {
    inner: regress::MetricChange,
}

#[pymethods]
impl MetricChange {
    /// "median", "p95", "p99", "mean", "error_rate" or "bytes_per_call".
    #[getter]
    fn metric(&self) -> &'static str {
        self.inner.metric.name()
    }
    /// Its value in the baseline (ns for latencies, a fraction for the error rate, bytes).
    #[getter]
    fn baseline(&self) -> f64 {
        self.inner.baseline
    }
    /// Its value now.
    #[getter]
    fn current(&self) -> f64 {
        self.inner.current
    }
    /// `(current / baseline - 1) * 100`; for the error rate, the change in percentage points.
    #[getter]
    fn change_percent(&self) -> f64 {
        self.inner.change_percent
    }
    /// The 95% bootstrap interval of the change, in the unit of `change_percent`.
    #[getter]
    fn interval(&self) -> (f64, f64) {
        let [lo, hi] = self.inner.interval_percent;
        (lo, hi)
    }
    /// The change's p-value, before false-discovery control.
    #[getter]
    fn p_value(&self) -> f64 {
        self.inner.p_value
    }
    /// The run-to-run spread in the history (one standard deviation, in percent), if known.
    #[getter]
    fn noise_percent(&self) -> Option<f64> {
        self.inner.noise_percent
    }
    /// This metric's verdict: "regressed", "improved" or "unchanged".
    #[getter]
    fn verdict(&self) -> &'static str {
        self.inner.verdict.name()
    }
    /// All fields as a dict (the core's JSON: `interval_percent` is the interval).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __getitem__<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        item(self.to_dict(py)?, key)
    }
    fn __repr__(&self) -> String {
        format!(
            "MetricChange(metric={:?}, change_percent={:.1}, verdict={:?})",
            self.metric(),
            self.inner.change_percent,
            self.verdict()
        )
    }
}

/// One function compared between a baseline and a current run.
///
/// `reg["function"]` and `reg["degradation_percent"]` work as attributes do (seed 003).
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct FunctionComparison {
    inner: regress::FunctionComparison,
}

#[pymethods]
impl FunctionComparison {
    /// The function's name.
    #[getter]
    fn function(&self) -> &str {
        &self.inner.function
    }
    /// "regressed", "improved", "unchanged", "insufficient_data", "new" or "removed".
    #[getter]
    fn verdict(&self) -> &'static str {
        self.inner.verdict.name()
    }
    /// The metric that decided a "regressed" or "improved" verdict, else None.
    #[getter]
    fn metric(&self) -> Option<&'static str> {
        self.inner.metric.map(Metric::name)
    }
    /// How much slower, in percent (negative: faster): the deciding metric's change, else the
    /// median's.
    #[getter]
    fn degradation_percent(&self) -> f64 {
        self.inner.degradation_percent
    }
    /// The 95% interval of the change shown for the function (the deciding metric's, else
    /// the median's), in percent (points for the error rate); None if nothing was judged.
    #[getter]
    fn interval(&self) -> Option<(f64, f64)> {
        self.inner.headline().map(|m| (m.interval_percent[0], m.interval_percent[1]))
    }
    /// Calls in the baseline.
    #[getter]
    fn baseline_calls(&self) -> u64 {
        self.inner.baseline_calls
    }
    /// Calls in the current run.
    #[getter]
    fn current_calls(&self) -> u64 {
        self.inner.current_calls
    }
    /// The threshold that applied, as a fraction.
    #[getter]
    fn threshold(&self) -> f64 {
        self.inner.threshold
    }
    /// The function's p-value (its most significant changed metric's, times the metrics judged).
    #[getter]
    fn p_value(&self) -> f64 {
        self.inner.p_value
    }
    /// The Benjamini-Hochberg adjusted p-value across the functions compared.
    #[getter]
    fn q_value(&self) -> f64 {
        self.inner.q_value
    }
    /// Runs of the history that informed the noise floor.
    #[getter]
    fn history_runs(&self) -> usize {
        self.inner.history_runs
    }
    /// Each metric judged.
    #[getter]
    fn metrics(&self) -> Vec<MetricChange> {
        self.inner.metrics.iter().map(|m| MetricChange { inner: m.clone() }).collect()
    }
    /// The rank test of the whole distributions as a dict (`prob_slower`, `p_value`), or None.
    #[getter]
    fn distribution<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner.distribution)
    }
    /// Why the verdict is what it is, in a sentence.
    #[getter]
    fn reason(&self) -> &str {
        &self.inner.reason
    }
    /// Whether the function regressed.
    #[getter]
    fn is_regression(&self) -> bool {
        self.inner.verdict.is_regression()
    }
    /// All fields as a dict (the core's JSON, plus `interval`).
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        let d = to_data(py, &self.inner)?;
        d.set_item("interval", self.interval())?;
        Ok(d)
    }
    fn __getitem__<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        item(self.to_dict(py)?, key)
    }
    fn __repr__(&self) -> String {
        format!(
            "FunctionComparison(function={:?}, verdict={:?}, metric={:?}, degradation_percent={:.1})",
            self.inner.function,
            self.verdict(),
            self.metric(),
            self.inner.degradation_percent
        )
    }
}

/// Every function of two runs compared, worst first.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct Comparison {
    inner: regress::Comparison,
}

impl Comparison {
    /// The core's comparison.
    pub(crate) fn inner(&self) -> &regress::Comparison {
        &self.inner
    }
}

impl From<regress::Comparison> for Comparison {
    fn from(inner: regress::Comparison) -> Self {
        Self { inner }
    }
}

/// Each comparison as a Python object.
pub(crate) fn function_comparisons<'a>(
    items: impl IntoIterator<Item = &'a regress::FunctionComparison>,
) -> Vec<FunctionComparison> {
    items.into_iter().map(|f| FunctionComparison { inner: f.clone() }).collect()
}

#[pymethods]
impl Comparison {
    /// One entry per function in either run, worst first.
    #[getter]
    fn functions(&self) -> Vec<FunctionComparison> {
        function_comparisons(&self.inner.functions)
    }
    /// The regressed functions, worst first.
    fn regressions(&self) -> Vec<FunctionComparison> {
        function_comparisons(self.inner.regressions())
    }
    /// Whether any function regressed.
    #[getter]
    fn has_regressions(&self) -> bool {
        self.inner.has_regressions()
    }
    /// The comparison of the function of this name, or None.
    fn function(&self, name: &str) -> Option<FunctionComparison> {
        self.inner.function(name).map(|f| FunctionComparison { inner: f.clone() })
    }
    /// How many functions got each verdict, worst verdict first.
    fn counts(&self) -> Vec<(&'static str, usize)> {
        self.inner.counts().into_iter().map(|(v, n)| (v.name(), n)).collect()
    }
    /// The false-discovery level used.
    #[getter]
    fn alpha(&self) -> f64 {
        self.inner.alpha
    }
    /// The default threshold, as a fraction.
    #[getter]
    fn threshold(&self) -> f64 {
        self.inner.threshold
    }
    /// Markdown for a pull-request comment.
    fn to_markdown(&self) -> String {
        self.inner.to_markdown()
    }
    /// Pretty-printed JSON of every field.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    /// All fields as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __len__(&self) -> usize {
        self.inner.functions.len()
    }
    fn __getitem__(&self, index: isize) -> PyResult<FunctionComparison> {
        let n = self.inner.functions.len() as isize;
        let i = if index < 0 { index + n } else { index };
        usize::try_from(i)
            .ok()
            .and_then(|i| self.inner.functions.get(i))
            .map(|f| FunctionComparison { inner: f.clone() })
            .ok_or_else(|| pyo3::exceptions::PyIndexError::new_err("comparison index out of range"))
    }
    fn __iter__<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        PyList::new(py, self.functions())?.try_iter().map(Bound::into_any)
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self) -> String {
        let regressed = self.inner.regressions().count();
        format!("Comparison(functions={}, regressions={regressed})", self.inner.functions.len())
    }
}

/// A snapshot argument: a `Snapshot` or a `Baseline` (its snapshot).
pub(crate) fn snapshot_arg(value: &Bound<'_, PyAny>, what: &str) -> PyResult<perfcore::Snapshot> {
    if let Ok(s) = value.cast::<Snapshot>() {
        return Ok(s.get().inner().clone());
    }
    if let Ok(b) = value.cast::<Baseline>() {
        return Ok(b.borrow().inner().snapshot.clone());
    }
    Err(pyo3::exceptions::PyTypeError::new_err(format!(
        "{what} must be a Snapshot or a Baseline, got {}",
        value.get_type().name()?
    )))
}

/// A history argument: None, a `History`, or a sequence of `RunSummary` / `Snapshot`.
pub(crate) fn history_arg(value: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<perfcore::RunSummary>> {
    let Some(value) = value.filter(|v| !v.is_none()) else { return Ok(Vec::new()) };
    if let Ok(h) = value.cast::<History>() {
        return Ok(h.get().summaries());
    }
    value
        .try_iter()?
        .map(|run| {
            let run = run?;
            if let Ok(r) = run.cast::<RunSummary>() {
                return Ok(r.get().inner().clone());
            }
            Ok(snapshot_arg(&run, "a history run")
                .map_err(|_| {
                    pyo3::exceptions::PyTypeError::new_err(
                        "history must be a History or a sequence of RunSummary or Snapshot",
                    )
                })?
                .summary())
        })
        .collect()
}

/// Compares every function of `current` with `baseline` (Snapshots or Baselines), with the
/// run history for the between-run noise.
#[pyfunction]
#[pyo3(signature = (baseline, current, history = None, *, threshold = None, thresholds = None, min_calls = 30, alpha = 0.05))]
#[allow(clippy::too_many_arguments)]
pub fn compare(
    py: Python<'_>,
    baseline: &Bound<'_, PyAny>,
    current: &Bound<'_, PyAny>,
    history: Option<&Bound<'_, PyAny>>,
    threshold: Option<f64>,
    thresholds: Option<&Bound<'_, PyDict>>,
    min_calls: u64,
    alpha: f64,
) -> PyResult<Comparison> {
    let options = compare_options(threshold, thresholds, min_calls, alpha)?;
    let (a, b) = (snapshot_arg(baseline, "baseline")?, snapshot_arg(current, "current")?);
    let history = history_arg(history)?;
    Ok(py.detach(|| regress::compare(&a, &b, &history, &options)).into())
}

/// A step in a series.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct ChangePoint {
    inner: regress::ChangePoint,
}

#[pymethods]
impl ChangePoint {
    /// The index (in the series given, or the history's run position) of the first value
    /// after the step.
    #[getter]
    fn index(&self) -> usize {
        self.inner.index
    }
    /// The geometric mean of the segment before.
    #[getter]
    fn before(&self) -> f64 {
        self.inner.before
    }
    /// The geometric mean of the segment after.
    #[getter]
    fn after(&self) -> f64 {
        self.inner.after
    }
    /// `(after / before - 1) * 100`.
    #[getter]
    fn change_percent(&self) -> f64 {
        self.inner.change_percent
    }
    /// 1 - the permutation test's p-value.
    #[getter]
    fn confidence(&self) -> f64 {
        self.inner.confidence
    }
    /// All fields as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __getitem__<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        item(self.to_dict(py)?, key)
    }
    fn __repr__(&self) -> String {
        format!(
            "ChangePoint(index={}, change_percent={:.1}, confidence={:.3})",
            self.inner.index, self.inner.change_percent, self.inner.confidence
        )
    }
}

/// The change points of one function's metric over a run history.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct FunctionChangePoints {
    inner: regress::FunctionChangePoints,
}

#[pymethods]
impl FunctionChangePoints {
    /// The function.
    #[getter]
    fn function(&self) -> &str {
        &self.inner.function
    }
    /// The metric searched.
    #[getter]
    fn metric(&self) -> &'static str {
        self.inner.metric.name()
    }
    /// Runs of the history that had the function.
    #[getter]
    fn runs(&self) -> usize {
        self.inner.runs
    }
    /// The steps found; each `index` is a position in the history given.
    #[getter]
    fn points(&self) -> Vec<ChangePoint> {
        self.inner.points.iter().map(|p| ChangePoint { inner: p.clone() }).collect()
    }
    fn __repr__(&self) -> String {
        format!(
            "FunctionChangePoints(function={:?}, metric={:?}, points={})",
            self.inner.function,
            self.metric(),
            self.inner.points.len()
        )
    }
}

fn change_point_options(
    penalty: f64,
    min_segment: usize,
    permutations: u32,
    min_confidence: f64,
    seed: Option<u64>,
) -> PyResult<ChangePointOptions> {
    let o = ChangePointOptions::default();
    let seed = seed.unwrap_or(o.seed);
    o.penalty(penalty)
        .and_then(|o| o.min_segment(min_segment))
        .and_then(|o| o.permutations(permutations))
        .and_then(|o| o.min_confidence(min_confidence))
        .map(|o| o.seed(seed))
        .map_err(to_py_err)
}

/// Finds the steps in a series of positive values (durations, sizes), oldest first.
#[pyfunction]
#[pyo3(signature = (series, *, penalty = 3.0, min_segment = 2, permutations = 199, min_confidence = 0.95, seed = None))]
pub fn change_points(
    py: Python<'_>,
    series: Vec<f64>,
    penalty: f64,
    min_segment: usize,
    permutations: u32,
    min_confidence: f64,
    seed: Option<u64>,
) -> PyResult<Vec<ChangePoint>> {
    let options = change_point_options(penalty, min_segment, permutations, min_confidence, seed)?;
    let found = py.detach(|| regress::change_points(&series, &options));
    Ok(found.into_iter().map(|inner| ChangePoint { inner }).collect())
}

/// Finds the steps of `metric` for every function of a run history (a `History` or a
/// sequence of `RunSummary` / `Snapshot`, oldest first).
#[pyfunction]
#[pyo3(signature = (history, metric = "median", *, penalty = 3.0, min_segment = 2, permutations = 199, min_confidence = 0.95, seed = None))]
#[allow(clippy::too_many_arguments)]
pub fn history_change_points(
    py: Python<'_>,
    history: &Bound<'_, PyAny>,
    metric: &str,
    penalty: f64,
    min_segment: usize,
    permutations: u32,
    min_confidence: f64,
    seed: Option<u64>,
) -> PyResult<Vec<FunctionChangePoints>> {
    let metric = Metric::ALL.into_iter().find(|m| m.name() == metric).ok_or_else(|| {
        let names: Vec<&str> = Metric::ALL.iter().map(|m| m.name()).collect();
        PyValueError::new_err(format!("unknown metric {metric:?}; one of {}", names.join(", ")))
    })?;
    let options = change_point_options(penalty, min_segment, permutations, min_confidence, seed)?;
    let runs = history_arg(Some(history))?;
    let found = py.detach(|| regress::history_change_points(&runs, metric, &options));
    Ok(found.into_iter().map(|inner| FunctionChangePoints { inner }).collect())
}

/// Adds the classes and functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Comparison>()?;
    m.add_class::<FunctionComparison>()?;
    m.add_class::<MetricChange>()?;
    m.add_class::<ChangePoint>()?;
    m.add_class::<FunctionChangePoints>()?;
    m.add_function(wrap_pyfunction!(compare, m)?)?;
    m.add_function(wrap_pyfunction!(change_points, m)?)?;
    m.add_function(wrap_pyfunction!(history_change_points, m)?)
}
