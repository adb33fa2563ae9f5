//! The metrics endpoint, the Pushgateway client and the monitor for Python
//! (`perfcore.monitor.serve_metrics`, `push_metrics`, `Monitor`): conversions at the
//! boundary, the work is `perfcore::monitor`'s.

use std::collections::BTreeMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use perfcore::monitor::{
    AlertRule, JsonLinesSink, LogSink, MetricsServer, Monitor, PushMethod, PushOptions,
    SamplerOptions, ServerOptions, WebhookSink,
};
use perfcore::report::PrometheusOptions;
use pyo3::exceptions::{PyRuntimeError, PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyString};

use crate::cost_watch::to_py;
use crate::monitor_alerts::{CallableSink, PyAlertRule, active_dict, duration_of, monitor_err};
use crate::profiler::Profiler;

/// The namespace and const labels asked for.
fn prometheus_options(
    namespace: &str,
    labels: Option<BTreeMap<String, String>>,
) -> PrometheusOptions {
    let mut options = PrometheusOptions::new().namespace(namespace);
    for (k, v) in labels.unwrap_or_default() {
        options = options.const_label(k, v);
    }
    options
}

/// The core profiler of `profiler`, or the default one (the one `@perfcore.profile` and Rust
/// code record into).
fn core_profiler(profiler: Option<Py<Profiler>>) -> perfcore::PerformanceProfiler {
    match profiler {
        Some(p) => p.get().inner.clone(),
        None => perfcore::global().clone(),
    }
}

/// A running metrics endpoint; `stop()` (or leaving a `with` block) stops it.
#[pyclass(module = "perfcore._perfcore", name = "MetricsServer", frozen)]
pub(crate) struct PyMetricsServer {
    server: Mutex<Option<MetricsServer>>,
    addr: std::net::SocketAddr,
}

impl PyMetricsServer {
    fn server(&self) -> MutexGuard<'_, Option<MetricsServer>> {
        self.server.lock().unwrap_or_else(PoisonError::into_inner)
    }
    fn count(&self, f: fn(&MetricsServer) -> u64) -> u64 {
        self.server().as_ref().map_or(0, f)
    }
}

#[pymethods]
impl PyMetricsServer {
    /// `http://host:port/metrics`.
    #[getter]
    fn url(&self) -> String {
        format!("http://{}/metrics", self.addr)
    }

    /// The host it listens on.
    #[getter]
    fn host(&self) -> String {
        self.addr.ip().to_string()
    }

    /// The port it listens on (the one chosen, when 0 was asked for).
    #[getter]
    fn port(&self) -> u16 {
        self.addr.port()
    }

    /// Scrapes answered so far.
    #[getter]
    fn scrapes(&self) -> u64 {
        self.count(MetricsServer::scrapes)
    }

    /// Requests answered with an error status so far.
    #[getter]
    fn errors(&self) -> u64 {
        self.count(MetricsServer::errors)
    }

    /// Whether it is still serving.
    #[getter]
    fn running(&self) -> bool {
        self.server().is_some()
    }

    /// Stops it (joining its thread, without the GIL). Stopping twice does nothing.
    fn stop(&self, py: Python<'_>) {
        let server = self.server().take();
        py.detach(move || drop(server));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        self.stop(py);
        false
    }

    fn __repr__(&self) -> String {
        let state = if self.running() { "serving" } else { "stopped" };
        format!("<MetricsServer {} {state}, {} scrapes>", self.url(), self.scrapes())
    }
}

/// Serves the profiler's function histograms and counters, the application metrics and every
/// started monitor's system gauges and alert states on `addr` (loopback by default), from a
/// background thread.
#[pyfunction]
#[pyo3(signature = (addr = "127.0.0.1:9464", *, profiler = None, namespace = "perfcore", labels = None, timeout = 5.0, max_connections = 32))]
pub(crate) fn serve_metrics(
    py: Python<'_>,
    addr: &str,
    profiler: Option<Py<Profiler>>,
    namespace: &str,
    labels: Option<BTreeMap<String, String>>,
    timeout: f64,
    max_connections: usize,
) -> PyResult<PyMetricsServer> {
    let core = core_profiler(profiler);
    let options = ServerOptions::new(addr)
        .prometheus(prometheus_options(namespace, labels))
        .timeout(duration_of("timeout", timeout)?)
        .max_connections(max_connections)
        .snapshot(move || core.snapshot());
    let server = py.detach(|| options.start()).map_err(monitor_err)?;
    let addr = server.local_addr();
    Ok(PyMetricsServer { server: Mutex::new(Some(server)), addr })
}

fn push_options(
    gateway: &str,
    job: &str,
    grouping: Option<BTreeMap<String, String>>,
    timeout: f64,
) -> PyResult<PushOptions> {
    let mut push = PushOptions::new(gateway, job).map_err(monitor_err)?;
    for (k, v) in grouping.unwrap_or_default() {
        push = push.grouping_label(&k, v).map_err(monitor_err)?;
    }
    Ok(push.timeout(duration_of("timeout", timeout)?))
}

/// Pushes the profiler's function metrics and the application metrics (and every started
/// monitor's observations) to the Pushgateway at `gateway` for `job`; `method="put"`
/// replaces the group's metrics, `"post"` only those of the same names.
#[pyfunction]
#[pyo3(signature = (gateway, job, *, grouping = None, profiler = None, method = "put", namespace = "perfcore", labels = None, timeout = 10.0))]
#[allow(clippy::too_many_arguments)]
pub(crate) fn push_metrics(
    py: Python<'_>,
    gateway: &str,
    job: &str,
    grouping: Option<BTreeMap<String, String>>,
    profiler: Option<Py<Profiler>>,
    method: &str,
    namespace: &str,
    labels: Option<BTreeMap<String, String>>,
    timeout: f64,
) -> PyResult<()> {
    let method = match method.to_ascii_lowercase().as_str() {
        "put" => PushMethod::Replace,
        "post" => PushMethod::Add,
        _ => {
            return Err(PyValueError::new_err(format!(
                "method: expected 'put' or 'post', got {method:?}"
            )));
        }
    };
    let core = core_profiler(profiler);
    let push = push_options(gateway, job, grouping, timeout)?
        .method(method)
        .prometheus(prometheus_options(namespace, labels))
        .snapshot(move || core.snapshot());
    py.detach(|| push.push()).map_err(monitor_err)
}

/// Deletes the group's metrics from the Pushgateway.
#[pyfunction]
#[pyo3(signature = (gateway, job, *, grouping = None, timeout = 10.0))]
pub(crate) fn delete_metrics(
    py: Python<'_>,
    gateway: &str,
    job: &str,
    grouping: Option<BTreeMap<String, String>>,
    timeout: f64,
) -> PyResult<()> {
    let push = push_options(gateway, job, grouping, timeout)?;
    py.detach(|| push.delete()).map_err(monitor_err)
}

/// One rule of `rules=`: an `AlertRule` or its text form.
fn rule_of(item: &Bound<'_, PyAny>) -> PyResult<AlertRule> {
    if let Ok(rule) = item.cast::<PyAlertRule>() {
        return Ok(rule.get().rule.clone());
    }
    if let Ok(text) = item.cast::<PyString>() {
        return AlertRule::parse(&text.to_cow()?).map_err(monitor_err);
    }
    Err(PyTypeError::new_err(format!(
        "rules: expected AlertRule objects or rule texts, got {}",
        item.get_type().name()?
    )))
}

/// The system sampler, the alert rules over system, application and function figures, and
/// the sinks, on a background thread; its gauges and alert states are served by
/// `serve_metrics` and pushed by `push_metrics`.
#[pyclass(module = "perfcore._perfcore", name = "Monitor", frozen)]
pub(crate) struct PyMonitor {
    monitor: Mutex<Option<Monitor>>,
}

impl PyMonitor {
    fn with<T>(&self, f: impl FnOnce(&Monitor) -> T) -> PyResult<T> {
        let guard = self.monitor.lock().unwrap_or_else(PoisonError::into_inner);
        guard.as_ref().map(f).ok_or_else(|| PyRuntimeError::new_err("the monitor is stopped"))
    }
}

#[pymethods]
impl PyMonitor {
    /// Starts a monitor: a sample every `interval` seconds; `rules` (AlertRule objects or rule
    /// texts; default: `AlertRule.defaults()`, the seed's thresholds); alerts delivered to
    /// `on_alert` (a callable, or a list of them, called with the event dict on the delivery
    /// thread), a JSON-lines file `jsonl`, a `webhook` URL (http:// only) and/or the `logging`
    /// bridge of Rust's `log` (`log=True`).
    #[new]
    #[pyo3(signature = (*, interval = 1.0, rules = None, on_alert = None, jsonl = None, webhook = None, log = false, function_window = 60.0, profiler = None, disks = true, networks = true, queue_capacity = 1024))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        py: Python<'_>,
        interval: f64,
        rules: Option<Vec<Bound<'_, PyAny>>>,
        on_alert: Option<Bound<'_, PyAny>>,
        jsonl: Option<std::path::PathBuf>,
        webhook: Option<String>,
        log: bool,
        function_window: f64,
        profiler: Option<Py<Profiler>>,
        disks: bool,
        networks: bool,
        queue_capacity: usize,
    ) -> PyResult<Self> {
        let sampler = SamplerOptions::default()
            .interval(duration_of("interval", interval)?)
            .disks(disks)
            .networks(networks);
        let mut builder = Monitor::builder()
            .sampler(sampler)
            .function_window(duration_of("function_window", function_window)?)
            .queue_capacity(queue_capacity);
        if let Some(rules) = rules {
            builder = builder.rules(rules.iter().map(rule_of).collect::<PyResult<_>>()?);
        }
        if let Some(on_alert) = on_alert {
            let callables: Vec<Bound<'_, PyAny>> = if on_alert.is_callable() {
                vec![on_alert]
            } else {
                on_alert.try_iter()?.collect::<PyResult<_>>()?
            };
            for c in callables {
                if !c.is_callable() {
                    return Err(PyTypeError::new_err(
                        "on_alert: expected a callable or a list of them",
                    ));
                }
                builder = builder.sink(CallableSink { callable: c.unbind() });
            }
        }
        if let Some(path) = jsonl {
            builder = builder.sink(JsonLinesSink::open(path).map_err(monitor_err)?);
        }
        if let Some(url) = webhook {
            builder = builder.sink(WebhookSink::new(&url).map_err(monitor_err)?);
        }
        if log {
            builder = builder.sink(LogSink::new());
        }
        if let Some(p) = profiler {
            let core = p.get().inner.clone();
            builder = builder.snapshot(move || core.snapshot());
        }
        let monitor = py.detach(|| builder.start()).map_err(monitor_err)?;
        Ok(Self { monitor: Mutex::new(Some(monitor)) })
    }

    /// The latest system sample as a dict, or None before the first.
    fn latest<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        self.with(Monitor::latest)?.map(|s| to_py(py, &s)).transpose()
    }

    /// The pending and firing alerts, as dicts.
    fn active_alerts<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.with(Monitor::active_alerts)?.iter().map(|a| active_dict(py, a)).collect()
    }

    /// The rules it evaluates.
    #[getter]
    fn rules(&self) -> PyResult<Vec<PyAlertRule>> {
        Ok(self.with(Monitor::rules)?.into_iter().map(|rule| PyAlertRule { rule }).collect())
    }

    /// A metric's history over the last `range` seconds: dicts of `at_unix_ns`, `min`,
    /// `mean`, `max`.
    #[pyo3(signature = (name, labels = None, range = 600.0))]
    fn history<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        labels: Option<BTreeMap<String, String>>,
        range: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let labels = labels.unwrap_or_default();
        let labels: Vec<(&str, &str)> =
            labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let range = duration_of("range", range)?;
        to_py(py, &self.with(|m| m.history(name, &labels, range))?)
    }

    /// A metric's trend over the last `window` seconds (slope per second, current value,
    /// time to exhaustion), or None without enough history.
    #[pyo3(signature = (name, labels = None, window = 600.0))]
    fn trend<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        labels: Option<BTreeMap<String, String>>,
        window: f64,
    ) -> PyResult<Option<Bound<'py, PyAny>>> {
        let labels = labels.unwrap_or_default();
        let labels: Vec<(&str, &str)> =
            labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let window = duration_of("window", window)?;
        self.with(|m| m.trend(name, &labels, window))?.map(|t| to_py(py, &t)).transpose()
    }

    /// Alert events delivered, failed and dropped (queue full) so far.
    fn sink_counts(&self) -> PyResult<BTreeMap<&'static str, u64>> {
        self.with(|m| {
            let d = m.dispatcher();
            BTreeMap::from([
                ("delivered", d.delivered()),
                ("failed", d.failed()),
                ("dropped", d.dropped()),
            ])
        })
    }

    /// Whether it is still running.
    #[getter]
    fn running(&self) -> bool {
        self.monitor.lock().unwrap_or_else(PoisonError::into_inner).is_some()
    }

    /// Stops it: joins the sampler thread and delivers what is queued (without the GIL, which
    /// the delivery thread may need for `on_alert` callables). Stopping twice does nothing.
    fn stop(&self, py: Python<'_>) {
        let monitor = self.monitor.lock().unwrap_or_else(PoisonError::into_inner).take();
        py.detach(move || drop(monitor));
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    fn __exit__(
        &self,
        py: Python<'_>,
        _exc_type: Option<&Bound<'_, PyAny>>,
        _exc: Option<&Bound<'_, PyAny>>,
        _tb: Option<&Bound<'_, PyAny>>,
    ) -> bool {
        self.stop(py);
        false
    }

    fn __repr__(&self) -> String {
        let state = if self.running() { "running" } else { "stopped" };
        format!("<Monitor {state}>")
    }
}

/// Registers the classes and functions.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyMetricsServer>()?;
    m.add_class::<PyMonitor>()?;
    m.add_function(wrap_pyfunction!(serve_metrics, m)?)?;
    m.add_function(wrap_pyfunction!(push_metrics, m)?)?;
    m.add_function(wrap_pyfunction!(delete_metrics, m)?)?;
    Ok(())
}
