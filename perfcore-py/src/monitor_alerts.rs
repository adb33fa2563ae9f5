//! Alert rules, the alert engine and its sinks for Python (`perfcore.AlertRule`,
//! `perfcore.AlertEngine`): conversions at the boundary, the work is `perfcore::monitor`'s.
//!
//! Observations cross as dicts `{"name": str, "value": float, "labels": {str: str}}`; events
//! and active alerts as dicts of the Rust JSON shape (`rule`, `metric`, `severity`, `state`,
//! `labels`, `value`, `threshold`, `started_unix_ns`, `at_unix_ns`, `summary`). Sinks are fed
//! by a `SinkDispatcher` the engine owns, with the firing and resolved events (pending and
//! cancelled ones are returned by `evaluate` only); Python callables run on its delivery
//! thread, holding the GIL, and an exception they raise counts as a failed delivery.

use std::collections::BTreeMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use perfcore::monitor::{
    ActiveAlert, AlertEngine, AlertEvent, AlertRule, AlertSink, Comparison, JsonLinesSink, LogSink,
    MonitorError, Observation, Severity, SinkDispatcher, WebhookSink,
};
use pyo3::exceptions::{PyTypeError, PyValueError};
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// A monitor error as the Python exception for it, a `MonitorError` subclass:
/// `MonitorIOError` (an `OSError`) for the network and files, `MonitorThreadError` (a
/// `RuntimeError`) for a thread that cannot start, `MonitorConfigError` (a `ValueError`) for
/// bad arguments.
pub(crate) fn monitor_err(e: MonitorError) -> PyErr {
    use crate::error::{MonitorKind, monitor_kind_err};
    let kind = match &e {
        MonitorError::Write { .. }
        | MonitorError::Request { .. }
        | MonitorError::Bind { .. }
        | MonitorError::Rejected { .. }
        | MonitorError::Sink { .. } => MonitorKind::Io,
        MonitorError::Thread { .. } => MonitorKind::Thread,
        _ => MonitorKind::Config,
    };
    Python::attach(|py| monitor_kind_err(py, kind, error_chain(&e)))
}

/// The error and its sources, `: `-separated.
fn error_chain(e: &dyn std::error::Error) -> String {
    let mut s = e.to_string();
    let mut src = e.source();
    while let Some(inner) = src {
        s.push_str(": ");
        s.push_str(&inner.to_string());
        src = inner.source();
    }
    s
}

fn severity_of(word: &str) -> PyResult<Severity> {
    Severity::from_name(word).ok_or_else(|| {
        PyValueError::new_err(format!("severity: expected 'warning' or 'critical', got {word:?}"))
    })
}

pub(crate) fn duration_of(what: &str, secs: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(secs).map_err(|_| {
        PyValueError::new_err(format!(
            "{what}: expected a non-negative number of seconds, got {secs}"
        ))
    })
}

/// An alert rule: a metric compared with a threshold.
#[pyclass(module = "perfcore._perfcore", name = "AlertRule", frozen, eq)]
#[derive(Clone, PartialEq)]
pub(crate) struct PyAlertRule {
    pub(crate) rule: AlertRule,
}

#[pymethods]
impl PyAlertRule {
    #[new]
    #[pyo3(signature = (name, metric, threshold, *, below = false, severity = "warning", for_seconds = 0.0, resolve = None, labels = None, summary = None))]
    #[allow(clippy::too_many_arguments)]
    fn new(
        name: &str,
        metric: &str,
        threshold: f64,
        below: bool,
        severity: &str,
        for_seconds: f64,
        resolve: Option<f64>,
        labels: Option<BTreeMap<String, String>>,
        summary: Option<&str>,
    ) -> PyResult<Self> {
        let mut rule = if below {
            AlertRule::below(name, metric, threshold)
        } else {
            AlertRule::above(name, metric, threshold)
        };
        rule = rule
            .severity(severity_of(severity)?)
            .for_duration(duration_of("for_seconds", for_seconds)?);
        if let Some(r) = resolve {
            rule = rule.resolve_at(r);
        }
        for (k, v) in labels.unwrap_or_default() {
            rule = rule.matching(&k, &v);
        }
        if let Some(s) = summary {
            rule = rule.summary(s);
        }
        rule.validate().map_err(monitor_err)?;
        Ok(Self { rule })
    }

    /// Reads a rule from its text form: `name: metric{label="v"} > 0.8 for 1m resolve 0.75
    /// severity critical summary "..."`.
    #[staticmethod]
    fn parse(text: &str) -> PyResult<Self> {
        AlertRule::parse(text).map(|rule| Self { rule }).map_err(monitor_err)
    }

    /// The seed's default rules (CPU, memory, disk, function p95 and error rate).
    #[staticmethod]
    fn defaults() -> Vec<Self> {
        AlertRule::defaults().into_iter().map(|rule| Self { rule }).collect()
    }

    #[getter]
    fn name(&self) -> &str {
        &self.rule.name
    }

    #[getter]
    fn metric(&self) -> &str {
        &self.rule.metric
    }

    #[getter]
    fn threshold(&self) -> f64 {
        self.rule.threshold
    }

    #[getter]
    fn below(&self) -> bool {
        self.rule.comparison == Comparison::Below
    }

    #[getter]
    fn severity(&self) -> &'static str {
        self.rule.severity.as_str()
    }

    #[getter]
    fn for_seconds(&self) -> f64 {
        self.rule.for_duration.as_secs_f64()
    }

    #[getter]
    fn resolve(&self) -> f64 {
        self.rule.resolve_level()
    }

    #[getter]
    fn labels(&self) -> BTreeMap<String, String> {
        self.rule.matchers.iter().cloned().collect()
    }

    #[getter]
    fn summary(&self) -> Option<&str> {
        self.rule.summary.as_deref()
    }

    fn __str__(&self) -> String {
        self.rule.to_string()
    }

    fn __repr__(&self) -> String {
        format!("AlertRule.parse({:?})", self.rule.to_string())
    }
}

/// A Python callable as a sink.
pub(crate) struct CallableSink {
    pub(crate) callable: Py<PyAny>,
}

impl AlertSink for CallableSink {
    fn deliver(&mut self, event: &AlertEvent) -> Result<(), MonitorError> {
        let failed = |reason: String| MonitorError::Sink { sink: "Python callable".into(), reason };
        // Not during interpreter shutdown: the event is then counted as failed.
        Python::try_attach(|py| {
            let d = event_dict(py, event).map_err(|e| failed(e.to_string()))?;
            self.callable.call1(py, (d,)).map(|_| ()).map_err(|e| failed(e.to_string()))
        })
        .unwrap_or_else(|| Err(failed("the interpreter is shutting down".into())))
    }
}

fn labels_dict<'py>(
    py: Python<'py>,
    labels: &BTreeMap<String, String>,
) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    for (k, v) in labels {
        d.set_item(k, v)?;
    }
    Ok(d)
}

fn event_dict<'py>(py: Python<'py>, e: &AlertEvent) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("rule", &e.rule)?;
    d.set_item("metric", &e.metric)?;
    d.set_item("severity", e.severity.as_str())?;
    d.set_item("state", e.state.as_str())?;
    d.set_item("labels", labels_dict(py, &e.labels)?)?;
    d.set_item("value", e.value)?;
    d.set_item("threshold", e.threshold)?;
    d.set_item("started_unix_ns", e.started_unix_ns)?;
    d.set_item("at_unix_ns", e.at_unix_ns)?;
    d.set_item("summary", &e.summary)?;
    Ok(d)
}

pub(crate) fn active_dict<'py>(py: Python<'py>, a: &ActiveAlert) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("rule", &a.rule)?;
    d.set_item("metric", &a.metric)?;
    d.set_item("severity", a.severity.as_str())?;
    d.set_item("state", a.state.as_str())?;
    d.set_item("labels", labels_dict(py, &a.labels)?)?;
    d.set_item("value", a.value)?;
    d.set_item("threshold", a.threshold)?;
    d.set_item("started_unix_ns", a.started_unix_ns)?;
    d.set_item("firing_since_unix_ns", a.firing_since_unix_ns)?;
    Ok(d)
}

fn observation_of(i: usize, item: &Bound<'_, PyAny>) -> PyResult<Observation> {
    let d = item.cast::<PyDict>().map_err(|_| {
        PyTypeError::new_err(format!("observations[{i}]: expected a dict with 'name' and 'value'"))
    })?;
    let field = |k: &str| -> PyResult<Bound<'_, PyAny>> {
        d.get_item(k)?.ok_or_else(|| PyValueError::new_err(format!("observations[{i}]: no '{k}'")))
    };
    let name: String = field("name")?
        .extract()
        .map_err(|_| PyTypeError::new_err(format!("observations[{i}]['name']: expected a str")))?;
    let value: f64 = field("value")?.extract().map_err(|_| {
        PyTypeError::new_err(format!("observations[{i}]['value']: expected a number"))
    })?;
    let mut o = Observation::gauge(name, "", value);
    if let Some(labels) = d.get_item("labels")?
        && !labels.is_none()
    {
        let labels: BTreeMap<String, String> = labels.extract().map_err(|_| {
            PyTypeError::new_err(format!(
                "observations[{i}]['labels']: expected a dict of str to str"
            ))
        })?;
        for (k, v) in labels {
            o = o.label(k, v);
        }
    }
    Ok(o)
}

fn now_ns(now: Option<f64>) -> PyResult<u64> {
    match now {
        Some(t) if t.is_finite() && t >= 0.0 => Ok((t * 1e9).round() as u64),
        Some(t) => Err(PyValueError::new_err(format!("now: expected Unix seconds >= 0, got {t}"))),
        None => Ok(SystemTime::now().duration_since(UNIX_EPOCH).map_or(0, |d| d.as_nanos() as u64)),
    }
}

/// Evaluates alert rules over observations; delivers firing and resolved events to its sinks.
#[pyclass(module = "perfcore._perfcore", name = "AlertEngine", frozen)]
pub(crate) struct PyAlertEngine {
    engine: Mutex<AlertEngine>,
    /// Shared, so that waiting on it (flush) holds no lock a callable might want.
    dispatcher: Mutex<Option<Arc<SinkDispatcher>>>,
    capacity: usize,
}

impl PyAlertEngine {
    fn engine(&self) -> MutexGuard<'_, AlertEngine> {
        self.engine.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn dispatcher(&self) -> Option<Arc<SinkDispatcher>> {
        self.dispatcher.lock().unwrap_or_else(PoisonError::into_inner).clone()
    }

    fn add_sink(&self, sink: impl AlertSink + 'static) -> PyResult<()> {
        let mut d = self.dispatcher.lock().unwrap_or_else(PoisonError::into_inner);
        if d.is_none() {
            let started =
                SinkDispatcher::builder().capacity(self.capacity).start().map_err(monitor_err)?;
            *d = Some(Arc::new(started));
        }
        if let Some(d) = d.as_ref() {
            d.add_sink(sink);
        }
        Ok(())
    }

    fn counter(&self, f: fn(&SinkDispatcher) -> u64) -> u64 {
        self.dispatcher().map_or(0, |d| f(&d))
    }
}

#[pymethods]
impl PyAlertEngine {
    #[new]
    #[pyo3(signature = (rules, *, stale_after = 300.0, queue_capacity = 1024))]
    fn new(
        rules: Vec<PyRef<'_, PyAlertRule>>,
        stale_after: f64,
        queue_capacity: usize,
    ) -> PyResult<Self> {
        let rules = rules.iter().map(|r| r.rule.clone()).collect();
        let engine = AlertEngine::new(rules)
            .map_err(monitor_err)?
            .stale_after(duration_of("stale_after", stale_after)?);
        Ok(Self {
            engine: Mutex::new(engine),
            dispatcher: Mutex::new(None),
            capacity: queue_capacity.max(1),
        })
    }

    /// The rules.
    #[getter]
    fn rules(&self) -> Vec<PyAlertRule> {
        self.engine().rules().iter().map(|r| PyAlertRule { rule: r.clone() }).collect()
    }

    /// Reads observations taken at `now` (Unix seconds; default: the current time) and returns
    /// the alerts that changed state.
    #[pyo3(signature = (observations, now = None))]
    fn evaluate<'py>(
        &self,
        py: Python<'py>,
        observations: &Bound<'py, PyList>,
        now: Option<f64>,
    ) -> PyResult<Vec<Bound<'py, PyDict>>> {
        let obs = observations
            .iter()
            .enumerate()
            .map(|(i, o)| observation_of(i, &o))
            .collect::<PyResult<Vec<_>>>()?;
        let now = now_ns(now)?;
        let events = self.engine().evaluate(now, &obs);
        if let Some(d) = self.dispatcher() {
            d.send_all(events.iter().filter(|e| e.state.is_notification()).cloned());
        }
        events.iter().map(|e| event_dict(py, e)).collect()
    }

    /// The pending and firing alerts.
    fn active<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.engine().active().iter().map(|a| active_dict(py, a)).collect()
    }

    /// The `alerts` series (as Prometheus's `ALERTS`): dicts with name, value and labels.
    fn observations<'py>(&self, py: Python<'py>) -> PyResult<Vec<Bound<'py, PyDict>>> {
        self.engine()
            .observations()
            .iter()
            .map(|o| {
                let d = PyDict::new(py);
                d.set_item("name", o.name.as_ref())?;
                d.set_item("value", o.value)?;
                let labels = PyDict::new(py);
                for (k, v) in &o.labels {
                    labels.set_item(k.as_ref(), v)?;
                }
                d.set_item("labels", labels)?;
                Ok(d)
            })
            .collect()
    }

    /// Calls `callback(event)` on the delivery thread for each firing and resolved event.
    fn add_sink_callable(&self, py: Python<'_>, callback: Py<PyAny>) -> PyResult<()> {
        if !callback.bind(py).is_callable() {
            return Err(PyTypeError::new_err("callback: expected a callable"));
        }
        self.add_sink(CallableSink { callable: callback })
    }

    /// Appends each event to `path` as a JSON line.
    fn add_jsonl_sink(&self, path: std::path::PathBuf) -> PyResult<()> {
        self.add_sink(JsonLinesSink::open(path).map_err(monitor_err)?)
    }

    /// POSTs each event's JSON to `url` (http:// only).
    #[pyo3(signature = (url, retries = 3, timeout = 5.0))]
    fn add_webhook_sink(&self, url: &str, retries: u32, timeout: f64) -> PyResult<()> {
        let sink = WebhookSink::new(url)
            .map_err(monitor_err)?
            .retries(retries)
            .timeout(duration_of("timeout", timeout)?);
        self.add_sink(sink)
    }

    /// Logs each event through the `log` crate (target `perfcore::alert`).
    fn add_log_sink(&self) -> PyResult<()> {
        self.add_sink(LogSink::new())
    }

    /// Waits until the sinks have had every event sent so far, at most `timeout` seconds;
    /// whether they have.
    #[pyo3(signature = (timeout = 5.0))]
    fn flush(&self, py: Python<'_>, timeout: f64) -> PyResult<bool> {
        let timeout = duration_of("timeout", timeout)?;
        let Some(d) = self.dispatcher() else { return Ok(true) };
        Ok(py.detach(|| d.flush(timeout)))
    }

    /// Delivers what is queued (within the dispatcher's 5 s shutdown timeout) and stops the
    /// delivery thread; later events go to no sink until one is added again.
    fn close(&self, py: Python<'_>) {
        let d = self.dispatcher.lock().unwrap_or_else(PoisonError::into_inner).take();
        if let Some(d) = d {
            // The last holder stops it (a flush in progress may hold it a moment longer).
            py.detach(|| Arc::try_unwrap(d).map_or((), SinkDispatcher::stop));
        }
    }

    /// Deliveries that succeeded (one per event and sink).
    #[getter]
    fn delivered(&self) -> u64 {
        self.counter(SinkDispatcher::delivered)
    }

    /// Deliveries that failed (an exception, an error answer, a file that cannot be written).
    #[getter]
    fn failed(&self) -> u64 {
        self.counter(SinkDispatcher::failed)
    }

    /// Events dropped from a full queue.
    #[getter]
    fn dropped(&self) -> u64 {
        self.counter(SinkDispatcher::dropped)
    }

    fn __repr__(&self) -> String {
        let engine = self.engine();
        format!("<AlertEngine rules={} active={}>", engine.rules().len(), engine.active().len())
    }
}

impl Drop for PyAlertEngine {
    fn drop(&mut self) {
        if let Some(d) = self.dispatcher.get_mut().unwrap_or_else(PoisonError::into_inner).take() {
            // The delivery thread may be waiting for the GIL to call a callable: release it
            // while it finishes (bounded by the dispatcher's shutdown timeout).
            Python::attach(|py| py.detach(|| Arc::try_unwrap(d).map_or((), SinkDispatcher::stop)));
        }
    }
}

/// Adds the alert classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PyAlertRule>()?;
    m.add_class::<PyAlertEngine>()?;
    Ok(())
}
