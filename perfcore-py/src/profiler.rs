//! `PerformanceProfiler` for Python: the decorator, scopes, `profile_function`, snapshots.

use perfcore::ProfileOptions;
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString, PyTuple};
use pyo3::{PyTraverseError, PyVisit, intern};

use crate::analysis::{
    self, FunctionOptimization, Hotspot, HotspotOptions, PerformanceSummary, Recommendation,
};
use crate::budget::{BudgetReport, budgets_arg};
use crate::decorate::{callsite_of, errors_arg, kind_of, wrap};
use crate::error::to_py_err;
use crate::rawtype::MethodDefs;
use crate::regress::{Comparison, FunctionComparison, compare_options, function_comparisons};
use crate::stats::{ProfileResult, Snapshot};
use crate::wrap::{Errors, Kind};
use crate::{fastcall, fastscope};

/// Collects per-function latency, call counts, self time and errors with a Rust engine.
///
/// Recording is per thread and lock-free; `snapshot()` merges all threads (without holding
/// the GIL). See the package documentation for examples.
#[pyclass(module = "perfcore._perfcore", name = "PerformanceProfiler", frozen)]
pub struct Profiler {
    pub(crate) inner: perfcore::PerformanceProfiler,
    /// `scope()`'s objects by name: a dict, so a lookup hashes nothing (str caches its hash).
    scopes: Py<PyDict>,
}

impl Profiler {
    /// `scope(name)` past its cache: makes the name's scope and caches it.
    fn new_scope<'py>(
        &self,
        py: Python<'py>,
        name: &Bound<'py, PyString>,
    ) -> PyResult<Bound<'py, PyAny>> {
        let text = name.to_cow()?;
        if text.is_empty() {
            return Err(PyValueError::new_err("scope name must not be empty"));
        }
        let callsite = perfcore::Callsite::intern(&text, "", "", 0);
        let scope = fastscope::new(py, self.inner.clone(), callsite)?;
        self.scopes.bind(py).set_item(name, &scope)?;
        Ok(scope)
    }
    /// A snapshot, taken without the GIL.
    fn core_snapshot(&self, py: Python<'_>) -> perfcore::Snapshot {
        let inner = &self.inner;
        py.detach(|| inner.snapshot())
    }
    pub(crate) fn from_core(py: Python<'_>, inner: perfcore::PerformanceProfiler) -> Self {
        Self { inner, scopes: PyDict::new(py).unbind() }
    }
}

// The Python signature spells the Rust default out; keep them equal.
const _: () = assert!(perfcore::DEFAULT_MAX_DEPTH == 64);

#[pymethods]
impl Profiler {
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        visit.call(&self.scopes)
    }

    // Emptying the cache (rather than dropping it: the class is frozen) releases the scopes.
    fn __clear__(&self, py: Python<'_>) {
        self.scopes.bind(py).clear();
    }

    /// A new profiler. `max_depth` (default 64, as in Rust) bounds the depth of the call
    /// tree; deeper calls are still counted, the tree folds them into its deepest node.
    /// ValueError (from the core's check) outside 1 to `MAX_DEPTH_LIMIT`.
    #[new]
    #[pyo3(signature = (*, enabled = true, max_depth = 64, timeline = 0))]
    fn new(py: Python<'_>, enabled: bool, max_depth: usize, timeline: usize) -> PyResult<Self> {
        let inner = perfcore::PerformanceProfiler::builder()
            .enabled(enabled)
            .max_depth(max_depth)
            .timeline(timeline)
            .build()
            .map_err(to_py_err)?;
        Ok(Self::from_core(py, inner))
    }

    /// Decorator: `@profiler.profile` or `@profiler.profile(name="x", errors=False)`.
    #[pyo3(signature = (func = None, /, *, name = None, errors = None))]
    fn profile(
        slf: &Bound<'_, Self>,
        func: Option<&Bound<'_, PyAny>>,
        name: Option<String>,
        errors: Option<&Bound<'_, PyAny>>,
    ) -> PyResult<Py<PyAny>> {
        let py = slf.py();
        let errors = match errors {
            Some(e) => errors_arg(py, e)?,
            None => Errors::All,
        };
        let profiler = &slf.get().inner;
        match func {
            Some(f) => wrap(py, profiler, f, name.as_deref(), &errors),
            None => {
                // Check the arguments now, not when the decorator is applied.
                if name.as_deref() == Some("") {
                    return Err(PyValueError::new_err("profile(name=...) must not be empty"));
                }
                let d = Decorator { profiler: profiler.clone(), name, errors };
                Ok(Bound::new(py, d)?.into_any().unbind())
            }
        }
    }

    /// Calls `func(*args, **kwargs)` `iterations` times (after a warm-up of `warmup` of that
    /// many runs) and returns its timing; then, unless `memory=False`, runs it a few more
    /// times under tracemalloc for the peak Python memory one run allocates (separately, so
    /// tracing never slows the timed runs, nor are these runs recorded). An exception from
    /// `func` stops the runs and is raised.
    #[pyo3(signature = (func, iterations = 100, *args, name = None, warmup = 0.1, memory = true, **kwargs))]
    #[allow(clippy::too_many_arguments)]
    fn profile_function(
        &self,
        py: Python<'_>,
        func: &Bound<'_, PyAny>,
        iterations: i64,
        args: &Bound<'_, PyTuple>,
        name: Option<String>,
        warmup: f64,
        memory: bool,
        kwargs: Option<&Bound<'_, PyDict>>,
    ) -> PyResult<ProfileResult> {
        if !func.is_callable() {
            return Err(PyTypeError::new_err(format!(
                "profile_function() needs a callable, got {}",
                func.get_type().name()?
            )));
        }
        let iterations = u64::try_from(iterations).ok().filter(|&n| n > 0).ok_or_else(|| {
            PyValueError::new_err(format!(
                "iterations must be a positive integer, got {iterations}"
            ))
        })?;
        let options = ProfileOptions::new(iterations).warmup_fraction(warmup).map_err(to_py_err)?;
        // A function decorated with @profile: run the function itself, recorded under its
        // callsite, so each run counts once, in the same entry as its ordinary calls.
        let (func, decorated) = match fastcall::unwrap(func) {
            Some(inner) if inner.kind == Kind::Plain => (inner.func, Some(inner.callsite)),
            Some(_) => return Err(not_sync()),
            None => (func.clone(), None),
        };
        if kind_of(py, &func)? != Kind::Plain {
            return Err(not_sync());
        }
        let cs = match (name, decorated) {
            (None, Some(cs)) => cs,
            (name, _) => callsite_of(py, &func, name.as_deref(), "profile_function")?,
        };
        let result = self
            .inner
            .try_profile_callsite_with(cs, options, || func.call(args, kwargs).map(drop))
            .map_err(to_py_err)??;
        let memory = if memory {
            let runs = iterations.min(MEMORY_RUNS);
            let tracemalloc = Tracemalloc::start(py)?;
            let ran = (0..runs).try_for_each(|_| func.call(args, kwargs).map(drop));
            let peak = tracemalloc.stop(py)?;
            ran?;
            Some(peak)
        } else {
            None
        };
        Ok(ProfileResult::new(result, memory))
    }

    /// Sets the baseline `name` to what was recorded so far: of `function`, or of every
    /// function (None). A later `compare_with_baseline` compares it with the calls recorded
    /// after this point only. ValueError when `function` has no calls yet.
    #[pyo3(signature = (function = None, name = "default"))]
    fn set_baseline(&self, py: Python<'_>, function: Option<&str>, name: &str) -> PyResult<()> {
        let inner = &self.inner;
        py.detach(|| inner.set_baseline(function, name)).map_err(to_py_err)
    }

    /// The baseline `name` as it was set; BaselineNotFoundError if none was.
    #[pyo3(signature = (name = "default"))]
    fn baseline(&self, name: &str) -> PyResult<Snapshot> {
        self.inner.baseline(name).map(Snapshot::from).map_err(to_py_err)
    }

    /// What was recorded since the baseline `name` was set (of `function`, or all).
    #[pyo3(signature = (function = None, name = "default"))]
    fn recorded_since_baseline(
        &self,
        py: Python<'_>,
        function: Option<&str>,
        name: &str,
    ) -> PyResult<Snapshot> {
        let inner = &self.inner;
        py.detach(|| inner.recorded_since_baseline(function, name))
            .map(Snapshot::from)
            .map_err(to_py_err)
    }

    /// Compares the calls recorded since the baseline `name` was set with it: one entry per
    /// function (of `function` only, when given). `threshold` is a fraction (0.10: 10%);
    /// `thresholds` maps names or `*`/`?` patterns to their own.
    #[pyo3(signature = (function = None, name = "default", *, threshold = None, thresholds = None, min_calls = 30, alpha = 0.05))]
    #[allow(clippy::too_many_arguments)]
    fn compare_with_baseline(
        &self,
        py: Python<'_>,
        function: Option<&str>,
        name: &str,
        threshold: Option<f64>,
        thresholds: Option<&Bound<'_, PyDict>>,
        min_calls: u64,
        alpha: f64,
    ) -> PyResult<Comparison> {
        let options = compare_options(threshold, thresholds, min_calls, alpha)?;
        let inner = &self.inner;
        py.detach(|| inner.compare_with_baseline(function, name, &options))
            .map(Comparison::from)
            .map_err(to_py_err)
    }

    /// The functions that regressed since the baseline `name` was set, worst first (seed
    /// 003): each has `reg["function"]` and `reg["degradation_percent"]`, and the metric,
    /// interval, p- and q-value, verdict and reason as attributes.
    #[pyo3(signature = (name = "default", *, threshold = None, thresholds = None, min_calls = 30, alpha = 0.05))]
    fn detect_regressions(
        &self,
        py: Python<'_>,
        name: &str,
        threshold: Option<f64>,
        thresholds: Option<&Bound<'_, PyDict>>,
        min_calls: u64,
        alpha: f64,
    ) -> PyResult<Vec<FunctionComparison>> {
        let options = compare_options(threshold, thresholds, min_calls, alpha)?;
        let inner = &self.inner;
        let found = py.detach(|| inner.detect_regressions(name, &options)).map_err(to_py_err)?;
        Ok(function_comparisons(&found))
    }

    /// The hotspots of what was recorded so far, most severe first (seed 003): each has
    /// `h["function"]`, `kind`, `severity`, `evidence` and `share_of_time`. `options`: a
    /// `HotspotOptions` with other thresholds.
    #[pyo3(signature = (options = None))]
    fn identify_hotspots(
        &self,
        py: Python<'_>,
        options: Option<&Bound<'_, HotspotOptions>>,
    ) -> Vec<Hotspot> {
        let snap = self.core_snapshot(py);
        analysis::hotspots_of(py, &snap, options)
    }

    /// The recommendations for what was recorded so far (seed 003): one per hotspot at or
    /// above `min_severity`, largest estimated saving first.
    #[pyo3(signature = (options = None, *, min_severity = "warning", assumed_speedup = 2.0))]
    fn generate_recommendations(
        &self,
        py: Python<'_>,
        options: Option<&Bound<'_, HotspotOptions>>,
        min_severity: &str,
        assumed_speedup: f64,
    ) -> PyResult<Vec<Recommendation>> {
        let snap = self.core_snapshot(py);
        analysis::recommendations_of(py, &snap, options, min_severity, assumed_speedup)
    }

    /// What could be done about the function `name` (seed 003):
    /// `opt["optimization_strategies"]`, each with `strategy` and `potential_improvement`;
    /// None when nothing of that name was recorded.
    #[pyo3(signature = (name, options = None, *, min_severity = "info", assumed_speedup = 2.0))]
    fn optimize_function(
        &self,
        py: Python<'_>,
        name: &str,
        options: Option<&Bound<'_, HotspotOptions>>,
        min_severity: &str,
        assumed_speedup: f64,
    ) -> PyResult<Option<FunctionOptimization>> {
        let snap = self.core_snapshot(py);
        analysis::optimization_of(py, &snap, name, options, min_severity, assumed_speedup)
    }

    /// The headline figures of what was recorded so far (seed 003), with the comparison
    /// with a baseline in brief: `baseline` names one set with `set_baseline`, or is a
    /// `Snapshot` or `Baseline`; None takes the "default" baseline when one was set.
    #[pyo3(signature = (baseline = None, *, threshold = None, thresholds = None, min_calls = 30, alpha = 0.05))]
    fn get_performance_summary(
        &self,
        py: Python<'_>,
        baseline: Option<&Bound<'_, PyAny>>,
        threshold: Option<f64>,
        thresholds: Option<&Bound<'_, PyDict>>,
        min_calls: u64,
        alpha: f64,
    ) -> PyResult<PerformanceSummary> {
        let options = compare_options(threshold, thresholds, min_calls, alpha)?;
        let snap = self.core_snapshot(py);
        let comparison = analysis::profiler_comparison(py, &self.inner, &snap, baseline, &options)?;
        Ok(analysis::summary_of(py, &snap, comparison.as_ref()))
    }

    /// Checks a fresh snapshot against `budgets` (a `Budgets`, or the text of a budgets file).
    fn check_budgets(&self, py: Python<'_>, budgets: &Bound<'_, PyAny>) -> PyResult<BudgetReport> {
        let budgets = budgets_arg(budgets)?;
        let (inner, budgets) = (&self.inner, &budgets.get().inner);
        Ok(py.detach(|| inner.check_budgets(budgets)).into())
    }

    /// Merges every thread's recording into a `Snapshot` (the GIL is released meanwhile).
    fn snapshot(&self, py: Python<'_>) -> Snapshot {
        let inner = &self.inner;
        Snapshot::from(py.detach(|| inner.snapshot()))
    }

    /// Forgets everything recorded so far, and frees the memory it held.
    fn reset(&self, py: Python<'_>) {
        let inner = &self.inner;
        py.detach(|| inner.reset());
    }

    /// Heap bytes the profiler holds for what it recorded (call paths and their histograms);
    /// bounded by call paths x threads, never by calls; `reset()` gives it back.
    fn heap_bytes(&self, py: Python<'_>) -> usize {
        let inner = &self.inner;
        py.detach(|| inner.heap_bytes())
    }

    /// Turns recording on or off (off: a decorated call costs one atomic load more).
    fn set_enabled(&self, enabled: bool) {
        self.inner.set_enabled(enabled);
    }

    /// Whether recording is on.
    #[getter]
    fn enabled(&self) -> bool {
        self.inner.is_enabled()
    }

    /// The depth of the call tree: deeper calls are counted in full, shown under the
    /// deepest path within the limit.
    #[getter]
    fn max_depth(&self) -> usize {
        self.inner.max_depth()
    }

    fn __repr__(&self) -> String {
        format!(
            "PerformanceProfiler(enabled={}, max_depth={})",
            if self.inner.is_enabled() { "True" } else { "False" },
            self.inner.max_depth()
        )
    }
}

fn not_sync() -> PyErr {
    PyTypeError::new_err(
        "profile_function() times synchronous functions; for a coroutine, generator or async \
         generator function, decorate it with @profile and run it as usual",
    )
}

/// How many runs `profile_function` takes the memory peak over (at most `iterations`): the
/// timed runs warmed caches up, so a run's peak barely varies; a few guard against a
/// first-run outlier without making a slow function's profile much slower.
const MEMORY_RUNS: u64 = 3;

/// tracemalloc around `profile_function`'s memory runs: started here if it was not tracing
/// already.
struct Tracemalloc {
    started_here: bool,
    before: usize,
}

impl Tracemalloc {
    fn start(py: Python<'_>) -> PyResult<Self> {
        let tm = py.import(intern!(py, "tracemalloc"))?;
        let started_here = !tm.call_method0(intern!(py, "is_tracing"))?.is_truthy()?;
        if started_here {
            tm.call_method0(intern!(py, "start"))?;
        }
        tm.call_method0(intern!(py, "reset_peak"))?;
        let (before, _): (usize, usize) =
            tm.call_method0(intern!(py, "get_traced_memory"))?.extract()?;
        Ok(Self { started_here, before })
    }

    /// Bytes allocated above the starting point at the peak.
    fn stop(self, py: Python<'_>) -> PyResult<u64> {
        let tm = py.import(intern!(py, "tracemalloc"))?;
        let (_, peak): (usize, usize) =
            tm.call_method0(intern!(py, "get_traced_memory"))?.extract()?;
        if self.started_here {
            tm.call_method0(intern!(py, "stop"))?;
        }
        Ok(peak.saturating_sub(self.before) as u64)
    }
}

/// `profiler.profile(name=..., errors=...)`: applied to a function, profiles it.
#[pyclass(module = "perfcore._perfcore")]
pub struct Decorator {
    profiler: perfcore::PerformanceProfiler,
    name: Option<String>,
    errors: Errors,
}

#[pymethods]
impl Decorator {
    // A cycle can run through the classes `errors=` names (a class holding the decorator).
    fn __traverse__(&self, visit: PyVisit<'_>) -> Result<(), PyTraverseError> {
        self.errors.traverse(&visit)
    }

    fn __clear__(&mut self) {
        self.errors = Errors::All;
    }

    fn __call__(&self, py: Python<'_>, func: &Bound<'_, PyAny>) -> PyResult<Py<PyAny>> {
        wrap(py, &self.profiler, func, self.name.as_deref(), &self.errors)
    }
}

/// The process's default profiler: the one the module-level `perfcore.profile` and friends
/// use, and the same one Rust code in the process records into (`perfcore::global()`).
#[pyfunction]
pub fn default_profiler(py: Python<'_>) -> PyResult<Py<Profiler>> {
    static DEFAULT: pyo3::sync::PyOnceLock<Py<Profiler>> = pyo3::sync::PyOnceLock::new();
    DEFAULT
        .get_or_try_init(py, || Py::new(py, Profiler::from_core(py, perfcore::global().clone())))
        .map(|p| p.clone_ref(py))
}

/// Which clock times scopes here: `"tsc"` or `"monotonic"`.
#[pyfunction]
pub fn clock_source() -> &'static str {
    match perfcore::clock_source() {
        perfcore::ClockSource::Tsc => "tsc",
        _ => "monotonic",
    }
}

/// `PerformanceProfiler.scope(name)`, a `METH_O` method rather than a PyO3 one (which parses
/// its arguments): `with profiler.scope("x"):` is how scopes are mostly written.
///
/// # Safety
/// CPython calls it with the GIL held, `slf` an object (checked to be a `PerformanceProfiler`) and
/// `name` a live object (a `METH_O` method of the class).
unsafe extern "C" fn scope_method(
    slf: *mut pyo3::ffi::PyObject,
    name: *mut pyo3::ffi::PyObject,
) -> *mut pyo3::ffi::PyObject {
    use pyo3::ffi;
    // SAFETY: CPython calls methods with the GIL held; a method descriptor passes an instance
    // of the type it was made for (checked again by the cast) and one live argument.
    unsafe {
        let py = Python::assume_attached();
        let Ok(profiler) = Borrowed::from_ptr(py, slf).cast::<Profiler>() else {
            PyTypeError::new_err("scope() needs a PerformanceProfiler").restore(py);
            return std::ptr::null_mut();
        };
        let name = Borrowed::from_ptr(py, name);
        let Ok(name) = name.cast::<PyString>() else {
            let got = name.get_type().name().map_or_else(|_| "?".to_owned(), |n| n.to_string());
            PyTypeError::new_err(format!("scope() name must be a str, got {got}")).restore(py);
            return std::ptr::null_mut();
        };
        let scopes = profiler.get().scopes.as_ptr();
        let cached = ffi::PyDict_GetItemWithError(scopes, name.as_ptr());
        if !cached.is_null() {
            ffi::Py_INCREF(cached);
            return cached;
        }
        if !ffi::PyErr_Occurred().is_null() {
            return std::ptr::null_mut();
        }
        match profiler.get().new_scope(py, &name) {
            Ok(scope) => scope.into_ptr(),
            Err(e) => {
                e.restore(py);
                std::ptr::null_mut()
            }
        }
    }
}

/// Installs [`scope_method`] as `PerformanceProfiler.scope`.
pub(crate) fn install_scope_method(py: Python<'_>) -> PyResult<()> {
    static DEFS: std::sync::OnceLock<MethodDefs<1>> = std::sync::OnceLock::new();
    let defs = DEFS.get_or_init(|| {
        MethodDefs([pyo3::ffi::PyMethodDef {
            ml_name: c"scope".as_ptr(),
            ml_meth: pyo3::ffi::PyMethodDefPointer { PyCFunction: scope_method },
            ml_flags: pyo3::ffi::METH_O,
            ml_doc: c"scope($self, name, /)\n--\n\nA context manager timing its block as one call \
of `name`. The object is cached per name, so `with profiler.scope(\"x\"):` in a loop \
allocates nothing."
                .as_ptr(),
        }])
    });
    let ty = py.get_type::<Profiler>();
    // SAFETY: a live type and a definition that lives for the process; returns a new
    // reference or null with an exception set.
    let descr = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            pyo3::ffi::PyDescr_NewMethod(ty.as_type_ptr(), defs.get(0)),
        )?
    };
    ty.setattr(intern!(py, "scope"), descr)
}
