//! Performance budgets and imported benchmark results for Python: `Budgets`,
//! `BudgetReport`, `perfcore.check_budgets`, over `perfcore::budget`; `import_criterion` and
//! `import_pytest_benchmark`, over `perfcore::import`.

use std::path::PathBuf;

use perfcore::budget;
use perfcore::import;
use pyo3::prelude::*;
use pyo3::types::PyDict;

use crate::error::to_py_err;
use crate::regress::{snapshot_arg, to_data};
use crate::stats::Snapshot;

/// Budgets read from TOML: limits per function name or glob (`p50`, `p95`, `p99`, `max` as
/// durations such as "200ms"; `error_rate`; `bytes_per_call`; `allocs_per_call`;
/// `min_calls_per_sec`).
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct Budgets {
    pub(crate) inner: budget::Budgets,
}

#[pymethods]
impl Budgets {
    /// Parses a budgets file's text; BudgetError names the line, column and key.
    #[staticmethod]
    fn from_toml(text: &str) -> PyResult<Self> {
        budget::Budgets::from_toml_str(text).map(|inner| Self { inner }).map_err(to_py_err)
    }
    /// Reads a budgets file; BudgetError names the file, or the matching OSError.
    #[staticmethod]
    fn read(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        py.detach(|| budget::Budgets::read(&path)).map(|inner| Self { inner }).map_err(to_py_err)
    }
    /// The function patterns, in file order.
    #[getter]
    fn patterns(&self) -> Vec<String> {
        self.inner.patterns().map(str::to_owned).collect()
    }
    /// Checks every function of `snapshot` (a Snapshot or Baseline) against its budgets.
    fn check(&self, py: Python<'_>, snapshot: &Bound<'_, PyAny>) -> PyResult<BudgetReport> {
        let snapshot = snapshot_arg(snapshot, "snapshot")?;
        Ok(BudgetReport { inner: py.detach(|| self.inner.check(&snapshot)) })
    }
    fn __repr__(&self) -> String {
        format!("Budgets(patterns={:?})", self.patterns())
    }
}

/// A limit a function exceeded. Values are in the key's unit (ns for durations).
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct BudgetViolation {
    inner: budget::BudgetViolation,
}

#[pymethods]
impl BudgetViolation {
    /// The function's name.
    #[getter]
    fn function(&self) -> &str {
        &self.inner.function
    }
    /// The pattern whose limit it exceeded, or "[defaults]".
    #[getter]
    fn pattern(&self) -> &str {
        &self.inner.pattern
    }
    /// The figure limited: "p50", "p95", "p99", "max", "error_rate", "bytes_per_call",
    /// "allocs_per_call" or "min_calls_per_sec".
    #[getter]
    fn key(&self) -> &'static str {
        self.inner.key.name()
    }
    /// The limit.
    #[getter]
    fn limit(&self) -> f64 {
        self.inner.limit
    }
    /// The function's figure.
    #[getter]
    fn actual(&self) -> f64 {
        self.inner.actual
    }
    /// The function's calls.
    #[getter]
    fn calls(&self) -> u64 {
        self.inner.calls
    }
    /// How far over the limit, as a factor (1.25: 25% over).
    #[getter]
    fn excess(&self) -> f64 {
        self.inner.excess()
    }
    /// All fields as a dict.
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
        format!("BudgetViolation({})", self.inner)
    }
}

/// What a budget check found.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct BudgetReport {
    inner: budget::BudgetReport,
}

#[pymethods]
impl BudgetReport {
    /// Whether no limit was exceeded.
    #[getter]
    fn passed(&self) -> bool {
        self.inner.passed()
    }
    /// Whether every limit that applied had its figure measured (`not_measured` is empty).
    #[getter]
    fn fully_measured(&self) -> bool {
        self.inner.fully_measured()
    }
    /// The limits exceeded, worst first.
    #[getter]
    fn violations(&self) -> Vec<BudgetViolation> {
        self.inner.violations.iter().map(|v| BudgetViolation { inner: v.clone() }).collect()
    }
    /// Functions with too few calls to judge, as dicts.
    #[getter]
    fn skipped<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner.skipped)
    }
    /// Limits of figures the run did not measure (allocations without the tracking
    /// allocator), as dicts.
    #[getter]
    fn not_measured<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner.not_measured)
    }
    /// Patterns that matched no function (often a typo).
    #[getter]
    fn unmatched_patterns(&self) -> Vec<String> {
        self.inner.unmatched_patterns.clone()
    }
    /// How many limits were judged (met, exceeded or not measured).
    #[getter]
    fn checked(&self) -> usize {
        self.inner.checked
    }
    /// Markdown for a pull-request comment.
    fn to_markdown(&self) -> String {
        self.inner.to_markdown()
    }
    /// All fields as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __bool__(&self) -> bool {
        self.inner.passed()
    }
    fn __str__(&self) -> String {
        self.inner.to_string()
    }
    fn __repr__(&self) -> String {
        format!(
            "BudgetReport(passed={}, violations={}, checked={})",
            if self.inner.passed() { "True" } else { "False" },
            self.inner.violations.len(),
            self.inner.checked
        )
    }
}

impl From<budget::BudgetReport> for BudgetReport {
    fn from(inner: budget::BudgetReport) -> Self {
        Self { inner }
    }
}

/// Checks `snapshot` (a Snapshot or Baseline) against `budgets` (a `Budgets`, or the text
/// of a budgets file).
#[pyfunction]
pub fn check_budgets(
    py: Python<'_>,
    snapshot: &Bound<'_, PyAny>,
    budgets: &Bound<'_, PyAny>,
) -> PyResult<BudgetReport> {
    budgets_arg(budgets)?.get().check(py, snapshot)
}

/// A budgets argument: a `Budgets`, or TOML text.
pub(crate) fn budgets_arg<'py>(value: &Bound<'py, PyAny>) -> PyResult<Bound<'py, Budgets>> {
    match value.cast::<Budgets>() {
        Ok(b) => Ok(b.clone()),
        Err(_) => {
            let text: String = value.extract().map_err(|_| {
                pyo3::exceptions::PyTypeError::new_err("budgets must be a Budgets or TOML text")
            })?;
            Bound::new(value.py(), Budgets::from_toml(&text)?)
        }
    }
}

/// Another tool's benchmark results read into a snapshot.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct ImportedRun {
    inner: import::ImportedRun,
}

#[pymethods]
impl ImportedRun {
    /// One function per benchmark; its histogram holds the measured samples.
    #[getter]
    fn snapshot(&self) -> Snapshot {
        Snapshot::from(self.inner.snapshot.clone())
    }
    /// "criterion" or "pytest-benchmark".
    #[getter]
    fn source(&self) -> &'static str {
        match self.inner.source {
            import::ImportSource::Criterion { .. } => "criterion",
            _ => "pytest-benchmark",
        }
    }
    /// The CPU the results were measured on, when the file says.
    #[getter]
    fn cpu(&self) -> Option<&str> {
        self.inner.cpu.as_deref()
    }
    /// The runtime ("CPython 3.11.7"), when the file says.
    #[getter]
    fn runtime(&self) -> Option<&str> {
        self.inner.runtime.as_deref()
    }
    /// The host, when the file says.
    #[getter]
    fn host(&self) -> Option<&str> {
        self.inner.host.as_deref()
    }
    /// The git commit, when the file says.
    #[getter]
    fn commit(&self) -> Option<&str> {
        self.inner.commit.as_deref()
    }
    /// The git branch, when the file says.
    #[getter]
    fn branch(&self) -> Option<&str> {
        self.inner.branch.as_deref()
    }
    /// Benchmarks kept as summary figures only (pytest-benchmark without `--benchmark-save-data`),
    /// as dicts of their figures (ns).
    #[getter]
    fn summary_only<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.inner
            .summary_only
            .iter()
            .map(|s| {
                let d = PyDict::new(py);
                d.set_item("name", &s.name)?;
                d.set_item("group", &s.group)?;
                d.set_item("rounds", s.rounds)?;
                d.set_item("iterations", s.iterations)?;
                d.set_item("min_ns", s.min_ns)?;
                d.set_item("max_ns", s.max_ns)?;
                d.set_item("mean_ns", s.mean_ns)?;
                d.set_item("median_ns", s.median_ns)?;
                d.set_item("stddev_ns", s.stddev_ns)?;
                d.set_item("q1_ns", s.q1_ns)?;
                d.set_item("q3_ns", s.q3_ns)?;
                Ok(d)
            })
            .collect()
    }
    /// What could not be imported, as `(what, why)`.
    #[getter]
    fn skipped(&self) -> Vec<(String, String)> {
        self.inner.skipped.iter().map(|s| (s.what.clone(), s.why.clone())).collect()
    }
    fn __repr__(&self) -> String {
        format!(
            "ImportedRun(source={:?}, functions={})",
            self.source(),
            self.inner.snapshot.functions().len()
        )
    }
}

/// Reads criterion's saved results (`target/criterion`, the baseline `baseline`: "new" is
/// the last run, else a `--save-baseline` name).
#[pyfunction]
#[pyo3(signature = (dir, baseline = "new"))]
pub fn import_criterion(py: Python<'_>, dir: PathBuf, baseline: &str) -> PyResult<ImportedRun> {
    py.detach(|| import::criterion(&dir, baseline))
        .map(|inner| ImportedRun { inner })
        .map_err(to_py_err)
}

/// Reads a pytest-benchmark `--benchmark-json` file.
#[pyfunction]
pub fn import_pytest_benchmark(py: Python<'_>, path: PathBuf) -> PyResult<ImportedRun> {
    py.detach(|| import::pytest_benchmark(&path))
        .map(|inner| ImportedRun { inner })
        .map_err(to_py_err)
}

/// Adds the classes and functions to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Budgets>()?;
    m.add_class::<BudgetReport>()?;
    m.add_class::<BudgetViolation>()?;
    m.add_class::<ImportedRun>()?;
    m.add_function(wrap_pyfunction!(check_budgets, m)?)?;
    m.add_function(wrap_pyfunction!(import_criterion, m)?)?;
    m.add_function(wrap_pyfunction!(import_pytest_benchmark, m)?)
}
