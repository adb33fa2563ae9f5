//! Snapshots and statistics as Python objects: typed attributes, `to_dict()`, and `obj["key"]`
//! for code written against dicts.

use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

use crate::error::{snapshot_err, to_py_err};

/// A report that could not be made, as the matching Python exception.
fn report_err(e: perfcore::report::ReportError) -> PyErr {
    match e {
        perfcore::report::ReportError::Io(e) => e.into(),
        other => pyo3::exceptions::PyValueError::new_err(other.to_string()),
    }
}

/// `value` as JSON (the stats types are plain data: this cannot fail).
fn json<T: serde::Serialize>(value: &T) -> String {
    serde_json::to_string(value).expect("statistics always serialise")
}

/// Reads what [`json`] wrote, for unpickling; SnapshotError if it is not that.
fn from_json<T: serde::de::DeserializeOwned>(
    py: Python<'_>,
    what: &str,
    text: &str,
) -> PyResult<T> {
    serde_json::from_str(text).map_err(|e| snapshot_err(py, format!("bad {what} state: {e}")))
}

/// What `__reduce__` returns: a callable and its arguments, which rebuild the object.
type Reduce<'py, A> = PyResult<(Bound<'py, PyAny>, A)>;

/// `(cls.attr, args)`: rebuilds an object through `attr` of its class.
fn rebuild<'py, A: IntoPyObject<'py>>(
    slf: &Bound<'py, PyAny>,
    attr: &str,
    args: A,
) -> Reduce<'py, A> {
    Ok((slf.get_type().getattr(attr)?, args))
}

/// Looks `key` up in `to_dict()`: `stats["count"]` is `stats.count`.
fn item<'py>(dict: Bound<'py, PyDict>, key: &str) -> PyResult<Bound<'py, PyAny>> {
    dict.get_item(key)?.ok_or_else(|| PyKeyError::new_err(key.to_owned()))
}

/// One function's statistics in a snapshot. Times are in nanoseconds.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct FunctionStats {
    inner: perfcore::FunctionStats,
}

impl FunctionStats {
    fn quantile_ns(&self, q: f64) -> u64 {
        self.inner.quantile(q).map_or(0, |d| u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }
}

#[pymethods]
impl FunctionStats {
    /// The function's (qualified) name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// Its module.
    #[getter]
    fn module(&self) -> &str {
        &self.inner.module_path
    }
    /// Its source file ("" if unknown).
    #[getter]
    fn file(&self) -> &str {
        &self.inner.file
    }
    /// Its first line (0 if unknown).
    #[getter]
    fn line(&self) -> u32 {
        self.inner.line
    }
    /// Calls recorded.
    #[getter]
    fn count(&self) -> u64 {
        self.inner.count
    }
    /// Calls that raised an error.
    #[getter]
    fn errors(&self) -> u64 {
        self.inner.errors
    }
    /// Calls cancelled or interrupted before finishing.
    #[getter]
    fn cancelled(&self) -> u64 {
        self.inner.cancelled
    }
    /// Wall time of all calls.
    #[getter]
    fn total_ns(&self) -> u64 {
        self.inner.total_ns
    }
    /// Time in the function itself (minus profiled callees; for coroutines, of busy time).
    #[getter]
    fn self_ns(&self) -> u64 {
        self.inner.self_ns
    }
    /// Time actually running: equals `total_ns` for plain calls; for coroutines and
    /// generators, the time spent inside their resumptions.
    #[getter]
    fn busy_ns(&self) -> u64 {
        self.inner.busy_ns
    }
    /// Mean wall time per call.
    #[getter]
    fn mean_ns(&self) -> f64 {
        self.inner.mean_ns
    }
    /// Fastest call.
    #[getter]
    fn min_ns(&self) -> u64 {
        self.inner.min_ns
    }
    /// Slowest call.
    #[getter]
    fn max_ns(&self) -> u64 {
        self.inner.max_ns
    }
    /// Standard deviation of the wall time.
    #[getter]
    fn stddev_ns(&self) -> f64 {
        self.inner.stddev_ns
    }
    /// Median.
    #[getter]
    fn p50_ns(&self) -> u64 {
        self.quantile_ns(0.5)
    }
    /// 90th percentile.
    #[getter]
    fn p90_ns(&self) -> u64 {
        self.quantile_ns(0.9)
    }
    /// 95th percentile.
    #[getter]
    fn p95_ns(&self) -> u64 {
        self.quantile_ns(0.95)
    }
    /// 99th percentile.
    #[getter]
    fn p99_ns(&self) -> u64 {
        self.quantile_ns(0.99)
    }
    /// 99.9th percentile.
    #[getter]
    fn p999_ns(&self) -> u64 {
        self.quantile_ns(0.999)
    }
    /// Calls per second over the snapshot's window.
    #[getter]
    fn calls_per_sec(&self) -> f64 {
        self.inner.calls_per_sec
    }
    /// Errors per call (0 when there are no calls).
    #[getter]
    fn error_rate(&self) -> f64 {
        self.inner.error_rate()
    }
    /// Calls deeper than the profiler's max_depth, counted in this function's frame.
    #[getter]
    fn folded_calls(&self) -> u64 {
        self.inner.folded_calls
    }

    /// Allocation figures (calls, allocated_bytes, self_allocated_bytes, freed_bytes,
    /// allocations, self_allocations) when the process ran Rust's tracking allocator; None otherwise (Python
    /// allocations are measured by `profile_function`).
    #[getter]
    fn allocations<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyDict>>> {
        let Some(a) = self.inner.allocations else { return Ok(None) };
        let d = PyDict::new(py);
        d.set_item("calls", a.calls)?;
        d.set_item("allocated_bytes", a.allocated_bytes)?;
        d.set_item("self_allocated_bytes", a.self_allocated_bytes)?;
        d.set_item("freed_bytes", a.freed_bytes)?;
        d.set_item("allocations", a.allocations)?;
        d.set_item("self_allocations", a.self_allocations)?;
        Ok(Some(d))
    }

    /// Pickling: the state is the function's JSON.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> Reduce<'py, (String,)> {
        rebuild(slf.as_any(), "_from_json", (json(&slf.get().inner),))
    }

    #[staticmethod]
    fn _from_json(py: Python<'_>, state: &str) -> PyResult<Self> {
        Ok(Self { inner: from_json(py, "FunctionStats", state)? })
    }

    /// The statistics of calls of the given durations (ns), as if a profiler had recorded
    /// them: for results measured elsewhere, or tests. Build a snapshot of them with
    /// `Snapshot.from_functions`.
    #[staticmethod]
    fn from_durations(name: &str, durations_ns: Vec<u64>) -> Self {
        Self { inner: perfcore::FunctionStats::from_durations(name, durations_ns) }
    }

    /// The wall time at quantile `q` (0..=1), in ns.
    fn quantile(&self, q: f64) -> PyResult<u64> {
        let d = self.inner.quantile(q).map_err(to_py_err)?;
        Ok(u64::try_from(d.as_nanos()).unwrap_or(u64::MAX))
    }

    /// All fields as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let f = &self.inner;
        d.set_item("name", &f.name)?;
        d.set_item("function", &f.name)?;
        d.set_item("module", &f.module_path)?;
        d.set_item("file", &f.file)?;
        d.set_item("line", f.line)?;
        d.set_item("count", f.count)?;
        d.set_item("errors", f.errors)?;
        d.set_item("cancelled", f.cancelled)?;
        d.set_item("total_ns", f.total_ns)?;
        d.set_item("self_ns", f.self_ns)?;
        d.set_item("busy_ns", f.busy_ns)?;
        d.set_item("mean_ns", f.mean_ns)?;
        d.set_item("min_ns", f.min_ns)?;
        d.set_item("max_ns", f.max_ns)?;
        d.set_item("stddev_ns", f.stddev_ns)?;
        for (key, q) in [
            ("p50_ns", 0.5),
            ("p90_ns", 0.9),
            ("p95_ns", 0.95),
            ("p99_ns", 0.99),
            ("p999_ns", 0.999),
        ] {
            d.set_item(key, self.quantile_ns(q))?;
        }
        d.set_item("calls_per_sec", f.calls_per_sec)?;
        d.set_item("error_rate", f.error_rate())?;
        d.set_item("folded_calls", f.folded_calls)?;
        d.set_item("allocations", self.allocations(py)?)?;
        Ok(d)
    }

    fn __getitem__<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        item(self.to_dict(py)?, key)
    }

    fn __repr__(&self) -> String {
        let f = &self.inner;
        format!(
            "FunctionStats(name={:?}, count={}, errors={}, mean_ns={:.0}, p99_ns={})",
            f.name,
            f.count,
            f.errors,
            f.mean_ns,
            self.quantile_ns(0.99)
        )
    }
}

/// One call path of the call tree: a function called under a parent path. Times in ns.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct CallNode {
    inner: perfcore::CallNode,
}

#[pymethods]
impl CallNode {
    /// The caller's node (an index into `Snapshot.call_tree`), None at the root.
    #[getter]
    fn parent(&self) -> Option<usize> {
        self.inner.parent
    }
    /// The function (an index into `Snapshot.functions`).
    #[getter]
    fn function(&self) -> usize {
        self.inner.function
    }
    /// Calls along this path.
    #[getter]
    fn count(&self) -> u64 {
        self.inner.count
    }
    /// Failed calls along this path.
    #[getter]
    fn errors(&self) -> u64 {
        self.inner.errors
    }
    /// Wall time along this path.
    #[getter]
    fn total_ns(&self) -> u64 {
        self.inner.total_ns
    }
    /// Self time along this path.
    #[getter]
    fn self_ns(&self) -> u64 {
        self.inner.self_ns
    }

    /// Pickling: the state is the node's JSON.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> Reduce<'py, (String,)> {
        rebuild(slf.as_any(), "_from_json", (json(&slf.get().inner),))
    }

    #[staticmethod]
    fn _from_json(py: Python<'_>, state: &str) -> PyResult<Self> {
        Ok(Self { inner: from_json(py, "CallNode", state)? })
    }

    /// All fields as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let n = &self.inner;
        d.set_item("parent", n.parent)?;
        d.set_item("function", n.function)?;
        d.set_item("count", n.count)?;
        d.set_item("errors", n.errors)?;
        d.set_item("total_ns", n.total_ns)?;
        d.set_item("self_ns", n.self_ns)?;
        Ok(d)
    }

    fn __getitem__<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        item(self.to_dict(py)?, key)
    }

    fn __repr__(&self) -> String {
        format!(
            "CallNode(parent={}, function={}, count={}, total_ns={})",
            self.inner.parent.map_or_else(|| "None".to_owned(), |p| p.to_string()),
            self.inner.function,
            self.inner.count,
            self.inner.total_ns
        )
    }
}

/// Everything a profiler recorded, merged over threads; shares its JSON format with Rust.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct Snapshot {
    inner: perfcore::Snapshot,
}

impl Snapshot {
    /// The core's snapshot.
    pub(crate) fn inner(&self) -> &perfcore::Snapshot {
        &self.inner
    }
}

impl From<perfcore::Snapshot> for Snapshot {
    fn from(inner: perfcore::Snapshot) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl Snapshot {
    /// Statistics of every function, in the order first seen.
    #[getter]
    fn functions(&self) -> Vec<FunctionStats> {
        self.inner.functions().iter().map(|f| FunctionStats { inner: f.clone() }).collect()
    }

    /// One function's statistics, or None.
    fn function(&self, name: &str) -> Option<FunctionStats> {
        self.inner.function(name).map(|f| FunctionStats { inner: f.clone() })
    }

    fn __getitem__(&self, name: &str) -> PyResult<FunctionStats> {
        self.function(name).ok_or_else(|| PyKeyError::new_err(name.to_owned()))
    }

    fn __contains__(&self, name: &str) -> bool {
        self.inner.function(name).is_some()
    }

    fn __len__(&self) -> usize {
        self.inner.functions().len()
    }

    /// The call tree, merged over threads: every call path with its own counts. A node's
    /// `parent` comes before it; `function` indexes `functions`.
    #[getter]
    fn call_tree(&self) -> Vec<CallNode> {
        self.inner.call_tree.iter().map(|n| CallNode { inner: n.clone() }).collect()
    }

    /// When the window began, in ns since the Unix epoch.
    #[getter]
    fn started_unix_ns(&self) -> u64 {
        self.inner.started_unix_ns
    }

    /// When the snapshot was taken, in ns since the Unix epoch.
    #[getter]
    fn ended_unix_ns(&self) -> u64 {
        self.inner.ended_unix_ns
    }

    /// Calls recorded over all functions.
    #[getter]
    fn total_calls(&self) -> u64 {
        self.inner.total_calls()
    }

    /// Seconds the snapshot covers.
    #[getter]
    fn window_s(&self) -> f64 {
        self.inner.window().as_secs_f64()
    }

    /// The JSON schema version.
    #[getter]
    fn schema_version(&self) -> u32 {
        self.inner.schema_version
    }

    /// A snapshot of the given functions (and no call tree) over a window of Unix times in ns.
    #[staticmethod]
    #[pyo3(signature = (functions, started_unix_ns = 0, ended_unix_ns = 0))]
    fn from_functions(
        functions: Vec<PyRef<'_, FunctionStats>>,
        started_unix_ns: u64,
        ended_unix_ns: u64,
    ) -> Snapshot {
        let functions = functions.iter().map(|f| f.inner.clone()).collect();
        perfcore::Snapshot::from_functions(functions, started_unix_ns, ended_unix_ns).into()
    }

    /// What was recorded after `earlier`, an earlier snapshot of the same profiler: every
    /// figure is this one's minus the earlier one's, exactly. SnapshotError if `earlier` holds
    /// calls this one does not.
    fn since(&self, py: Python<'_>, earlier: &Snapshot) -> PyResult<Snapshot> {
        self.inner
            .since(&earlier.inner)
            .map(Snapshot::from)
            .map_err(|e| snapshot_err(py, format!("not an earlier snapshot: {e}")))
    }

    /// The figures a run history keeps of this snapshot (one entry per function name).
    fn summary(&self) -> crate::baseline::RunSummary {
        self.inner.summary().into()
    }

    /// This snapshot with `other` merged in (histograms merge exactly); neither changes.
    fn merged(&self, other: &Snapshot) -> Snapshot {
        let mut s = self.inner.clone();
        s.merge(&other.inner);
        Snapshot { inner: s }
    }

    /// The Markdown report: summary, the functions with the most self time, hotspots,
    /// recommendations, `comparison` (a `Comparison` from `perfcore.compare`) when given, and
    /// what each function costs when `vcpu_hour` (a price) is given.
    #[pyo3(signature = (*, title = None, top = 20, comparison = None, vcpu_hour = None, gib_hour = None, currency = "USD"))]
    #[allow(clippy::too_many_arguments)]
    fn to_markdown(
        &self,
        title: Option<String>,
        top: usize,
        comparison: Option<PyRef<'_, crate::regress::Comparison>>,
        vcpu_hour: Option<&Bound<'_, PyAny>>,
        gib_hour: Option<&Bound<'_, PyAny>>,
        currency: &str,
    ) -> PyResult<String> {
        let mut options = perfcore::report::MarkdownOptions::default().top(top);
        if let Some(price) = crate::cost::price_arg(vcpu_hour, gib_hour, currency)? {
            options = options.function_costs(price);
        }
        if let Some(t) = title {
            options = options.title(t);
        }
        if let Some(c) = comparison {
            options = options.comparison(c.inner().clone());
        }
        Ok(perfcore::report::to_markdown(&self.inner, &options))
    }

    /// The versioned JSON report document (schema "perfcore-report"): summary, every
    /// function, hotspots, recommendations, and the comparison when given.
    #[pyo3(signature = (*, comparison = None, baseline_name = None))]
    fn to_report_json(
        &self,
        comparison: Option<PyRef<'_, crate::regress::Comparison>>,
        baseline_name: Option<String>,
    ) -> String {
        let mut options = perfcore::report::ReportOptions::default();
        if let Some(c) = comparison {
            options = options.with_comparison(baseline_name.unwrap_or_default(), c.inner().clone());
        }
        perfcore::report::Report::new(&self.inner, &options).to_json()
    }

    /// The self-contained HTML report (one file, works offline): summary, hotspots,
    /// recommendations, the comparison when given, a flamegraph, the function table and
    /// each function's latency histogram; what each function costs when `vcpu_hour` is given.
    #[pyo3(signature = (*, title = None, comparison = None, baseline_name = None, vcpu_hour = None, gib_hour = None, currency = "USD"))]
    #[allow(clippy::too_many_arguments)]
    fn to_html(
        &self,
        py: Python<'_>,
        title: Option<String>,
        comparison: Option<PyRef<'_, crate::regress::Comparison>>,
        baseline_name: Option<String>,
        vcpu_hour: Option<&Bound<'_, PyAny>>,
        gib_hour: Option<&Bound<'_, PyAny>>,
        currency: &str,
    ) -> PyResult<String> {
        let mut options = perfcore::report::HtmlOptions::default();
        if let Some(price) = crate::cost::price_arg(vcpu_hour, gib_hour, currency)? {
            options = options.function_costs(price);
        }
        if let Some(t) = title {
            options = options.title(t);
        }
        if let Some(c) = comparison {
            options = options.comparison(c.inner().clone());
        }
        if let Some(b) = baseline_name {
            options = options.baseline_name(b);
        }
        let inner = &self.inner;
        Ok(py.detach(|| perfcore::report::to_html(inner, &options)))
    }

    /// Folded stacks weighted by self time in ns (flamegraph.pl, inferno, speedscope).
    fn to_folded(&self) -> String {
        perfcore::report::to_folded(&self.inner)
    }

    /// speedscope's JSON file format.
    fn to_speedscope(&self) -> String {
        perfcore::report::to_speedscope_json(&self.inner)
    }

    /// pprof's profile.proto, gzipped (`go tool pprof`, Grafana Pyroscope): sample types
    /// calls, wall and self time, and allocations when tracked.
    fn to_pprof<'py>(&self, py: Python<'py>) -> Bound<'py, pyo3::types::PyBytes> {
        let inner = &self.inner;
        let bytes = py.detach(|| perfcore::report::to_pprof(inner));
        pyo3::types::PyBytes::new(py, &bytes)
    }

    /// Every function's latency histogram as an HdrHistogram interval log (V2 compressed,
    /// one tagged line per function), as HdrHistogram's tools and Python's `hdrh` read it.
    fn to_hdr_log(&self) -> PyResult<String> {
        let mut out = Vec::new();
        perfcore::report::write_hdr_log(&self.inner, &mut out).map_err(report_err)?;
        String::from_utf8(out).map_err(|e| pyo3::exceptions::PyValueError::new_err(e.to_string()))
    }

    /// One function's latency histogram in HdrHistogram's V2 compressed encoding; KeyError
    /// if no function has this name.
    fn hdr_histogram<'py>(
        &self,
        py: Python<'py>,
        name: &str,
    ) -> PyResult<Bound<'py, pyo3::types::PyBytes>> {
        let f = self.inner.function(name).ok_or_else(|| PyKeyError::new_err(name.to_owned()))?;
        let bytes = perfcore::report::hdr_histogram_v2(f).map_err(report_err)?;
        Ok(pyo3::types::PyBytes::new(py, &bytes))
    }

    /// Prometheus exposition text: per function a histogram of durations in seconds, error,
    /// cancellation and self-time counters. `format` is "openmetrics" (default) or
    /// "prometheus" (the classic 0.0.4 text, for the textfile collector and the Pushgateway).
    #[pyo3(signature = (*, namespace = "perfcore", labels = None, format = "openmetrics"))]
    fn to_prometheus(
        &self,
        namespace: &str,
        labels: Option<std::collections::BTreeMap<String, String>>,
        format: &str,
    ) -> PyResult<String> {
        let format = match format {
            "openmetrics" => perfcore::report::ExpositionFormat::OpenMetrics,
            "prometheus" => perfcore::report::ExpositionFormat::Prometheus,
            other => {
                return Err(pyo3::exceptions::PyValueError::new_err(format!(
                    "format must be \"openmetrics\" or \"prometheus\", got {other:?}"
                )));
            }
        };
        let mut options =
            perfcore::report::PrometheusOptions::new().namespace(namespace).format(format);
        for (k, v) in labels.unwrap_or_default() {
            options = options.const_label(k, v);
        }
        Ok(perfcore::report::to_prometheus_text(&self.inner, &options))
    }

    /// The timeline of recent spans as Chrome Trace Event JSON (Perfetto, chrome://tracing);
    /// ValueError if the profiler recorded none (`PerformanceProfiler(timeline=N)`).
    fn to_chrome_trace(&self) -> PyResult<String> {
        let timeline = self.inner.timeline.as_ref().ok_or_else(|| {
            pyo3::exceptions::PyValueError::new_err(
                "this snapshot has no timeline: create the profiler with PerformanceProfiler(timeline=N), \
                 or set PERFCORE_TIMELINE=N for the default profiler",
            )
        })?;
        Ok(perfcore::report::to_chrome_trace_json(timeline))
    }

    /// Pickling (a worker process returning its snapshot, say): the state is its JSON.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> Reduce<'py, (String,)> {
        rebuild(slf.as_any(), "from_json", (json(&slf.get().inner),))
    }

    /// The snapshot as JSON (the format the Rust crate reads and writes).
    fn to_json(&self) -> String {
        self.inner.to_json()
    }

    /// Parses JSON written by `to_json` here or in Rust; SnapshotError names what is wrong.
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Snapshot> {
        perfcore::Snapshot::from_json(json).map(Snapshot::from).map_err(to_py_err)
    }

    /// Writes JSON to `path` atomically (temporary file, then rename); the matching OSError
    /// if it cannot.
    fn write_json(&self, py: Python<'_>, path: std::path::PathBuf) -> PyResult<()> {
        let inner = &self.inner;
        py.detach(|| inner.write_json(&path)).map_err(to_py_err)
    }

    /// Reads a snapshot written by `write_json` (here or in Rust). SnapshotError if its
    /// contents are not a snapshot; the matching OSError (FileNotFoundError, ...) if it
    /// cannot be read.
    #[staticmethod]
    fn read_json(py: Python<'_>, path: std::path::PathBuf) -> PyResult<Snapshot> {
        py.detach(|| perfcore::Snapshot::read_json(&path)).map(Snapshot::from).map_err(to_py_err)
    }

    /// Functions and the call tree as lists of dicts, plus the window.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        d.set_item("schema_version", self.inner.schema_version)?;
        d.set_item("started_unix_ns", self.inner.started_unix_ns)?;
        d.set_item("ended_unix_ns", self.inner.ended_unix_ns)?;
        let list = PyList::empty(py);
        for f in self.functions() {
            list.append(f.to_dict(py)?)?;
        }
        d.set_item("functions", list)?;
        let tree = PyList::empty(py);
        for n in &self.inner.call_tree {
            tree.append(CallNode { inner: n.clone() }.to_dict(py)?)?;
        }
        d.set_item("call_tree", tree)?;
        Ok(d)
    }

    fn __repr__(&self) -> String {
        format!(
            "Snapshot(functions={}, total_calls={}, window_s={:.3})",
            self.inner.functions().len(),
            self.inner.total_calls(),
            self.inner.window().as_secs_f64()
        )
    }

    fn __str__(&self) -> String {
        self.inner.to_string()
    }
}

/// What `profile_function` measured.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct ProfileResult {
    inner: perfcore::ProfileResult,
    memory_bytes: Option<u64>,
}

impl ProfileResult {
    pub(crate) fn new(inner: perfcore::ProfileResult, memory_bytes: Option<u64>) -> Self {
        Self { inner, memory_bytes }
    }
}

#[pymethods]
impl ProfileResult {
    /// Pickling: the state is the result's JSON and the memory figure.
    fn __reduce__<'py>(slf: &Bound<'py, Self>) -> Reduce<'py, (String, Option<u64>)> {
        let r = slf.get();
        rebuild(slf.as_any(), "_restore", (json(&r.inner), r.memory_bytes))
    }

    #[staticmethod]
    fn _restore(py: Python<'_>, state: &str, memory_bytes: Option<u64>) -> PyResult<Self> {
        Ok(Self { inner: from_json(py, "ProfileResult", state)?, memory_bytes })
    }

    /// The name runs were recorded under.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// Measured runs.
    #[getter]
    fn iterations(&self) -> u64 {
        self.inner.iterations
    }
    /// Warm-up runs (not measured).
    #[getter]
    fn warmup_iterations(&self) -> u64 {
        self.inner.warmup_iterations
    }
    /// Mean time per run, in milliseconds.
    #[getter]
    fn execution_time_ms(&self) -> f64 {
        self.inner.execution_time_ms()
    }
    /// Time of all measured runs, in milliseconds.
    #[getter]
    fn total_time_ms(&self) -> f64 {
        self.inner.total_time_ms()
    }
    /// Time of all measured runs, in ns.
    #[getter]
    fn total_ns(&self) -> u64 {
        self.inner.total_ns
    }
    /// Mean time per run, in ns.
    #[getter]
    fn mean_ns(&self) -> f64 {
        self.inner.mean_ns
    }
    /// Fastest run, in ns.
    #[getter]
    fn min_ns(&self) -> u64 {
        self.inner.min_ns
    }
    /// Slowest run, in ns.
    #[getter]
    fn max_ns(&self) -> u64 {
        self.inner.max_ns
    }
    /// Standard deviation, in ns.
    #[getter]
    fn stddev_ns(&self) -> f64 {
        self.inner.stddev_ns
    }
    /// Median run, in ns.
    #[getter]
    fn p50_ns(&self) -> u64 {
        self.inner.p50_ns
    }
    /// 90th percentile, in ns.
    #[getter]
    fn p90_ns(&self) -> u64 {
        self.inner.p90_ns
    }
    /// 95th percentile, in ns.
    #[getter]
    fn p95_ns(&self) -> u64 {
        self.inner.p95_ns
    }
    /// 99th percentile, in ns.
    #[getter]
    fn p99_ns(&self) -> u64 {
        self.inner.p99_ns
    }
    /// Peak Python memory one run allocated (tracemalloc, measured after the timed runs), in
    /// MB; None with `memory=False`.
    #[getter]
    fn memory_used_mb(&self) -> Option<f64> {
        self.memory_bytes.map(|b| b as f64 / (1024.0 * 1024.0))
    }
    /// The same in bytes.
    #[getter]
    fn memory_used_bytes(&self) -> Option<u64> {
        self.memory_bytes
    }

    /// All fields as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyDict>> {
        let d = PyDict::new(py);
        let r = &self.inner;
        d.set_item("name", &r.name)?;
        d.set_item("iterations", r.iterations)?;
        d.set_item("warmup_iterations", r.warmup_iterations)?;
        d.set_item("execution_time_ms", r.execution_time_ms())?;
        d.set_item("total_time_ms", r.total_time_ms())?;
        d.set_item("total_ns", r.total_ns)?;
        d.set_item("mean_ns", r.mean_ns)?;
        d.set_item("min_ns", r.min_ns)?;
        d.set_item("max_ns", r.max_ns)?;
        d.set_item("stddev_ns", r.stddev_ns)?;
        d.set_item("p50_ns", r.p50_ns)?;
        d.set_item("p90_ns", r.p90_ns)?;
        d.set_item("p95_ns", r.p95_ns)?;
        d.set_item("p99_ns", r.p99_ns)?;
        d.set_item("memory_used_mb", self.memory_used_mb())?;
        d.set_item("memory_used_bytes", self.memory_bytes)?;
        Ok(d)
    }

    fn __getitem__<'py>(&self, py: Python<'py>, key: &str) -> PyResult<Bound<'py, PyAny>> {
        item(self.to_dict(py)?, key)
    }

    fn __repr__(&self) -> String {
        format!(
            "ProfileResult(name={:?}, iterations={}, execution_time_ms={:.6})",
            self.inner.name,
            self.inner.iterations,
            self.inner.execution_time_ms()
        )
    }
}
