//! Application metrics for Python (issue 13): `counter`, `gauge`, `ratio` and `observations`
//! on the process's registry (the one Rust code in the same process, the `metrics` facade and
//! the endpoint use), and the handle classes `Counter`, `Gauge` and `Ratio`.
//!
//! Recording goes straight to the core's lock-free cells; bad names raise `ValueError` naming
//! the name.

use perfcore::monitor::{self, MonitorError, Observation};
use pyo3::exceptions::PyTypeError;
use pyo3::prelude::*;
use pyo3::types::{PyDict, PyList};

/// A bad name or label: `MonitorConfigError`, also a `ValueError`.
fn value_error(e: &MonitorError) -> PyErr {
    use crate::error::{MonitorKind, monitor_kind_err};
    Python::attach(|py| monitor_kind_err(py, MonitorKind::Config, e.to_string()))
}

/// `labels`: None, a `dict[str, str]` or an iterable of `(name, value)` pairs.
fn labels_arg(labels: Option<&Bound<'_, PyAny>>) -> PyResult<Vec<(String, String)>> {
    let Some(labels) = labels else { return Ok(Vec::new()) };
    if labels.is_none() {
        return Ok(Vec::new());
    }
    if let Ok(d) = labels.cast::<PyDict>() {
        return d.iter().map(|(k, v)| Ok((k.extract()?, v.extract()?))).collect();
    }
    labels
        .try_iter()?
        .map(|item| item?.extract::<(String, String)>())
        .collect::<PyResult<_>>()
        .map_err(|_| {
            PyTypeError::new_err("labels must be a dict of str to str or (name, value) pairs")
        })
}

fn as_refs(labels: &[(String, String)]) -> Vec<(&str, &str)> {
    labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect()
}

/// A count that only grows (`perfcore.monitor.counter`); its name ends in `_total`.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub(crate) struct Counter {
    inner: monitor::Counter,
}

#[pymethods]
impl Counter {
    /// Adds `n` (default 1; not negative).
    #[pyo3(signature = (n = 1))]
    fn inc(&self, n: u64) {
        self.inner.increment(n);
    }

    /// The count so far.
    #[getter]
    fn value(&self) -> u64 {
        self.inner.value()
    }

    fn __repr__(&self) -> String {
        format!("Counter(value={})", self.inner.value())
    }
}

/// A value that goes up and down (`perfcore.monitor.gauge`).
#[pyclass(module = "perfcore._perfcore", frozen)]
pub(crate) struct Gauge {
    inner: monitor::Gauge,
}

#[pymethods]
impl Gauge {
    /// Sets the value.
    fn set(&self, value: f64) {
        self.inner.set(value);
    }

    /// Adds `amount` (default 1).
    #[pyo3(signature = (amount = 1.0))]
    fn inc(&self, amount: f64) {
        self.inner.add(amount);
    }

    /// Takes `amount` away (default 1).
    #[pyo3(signature = (amount = 1.0))]
    fn dec(&self, amount: f64) {
        self.inner.sub(amount);
    }

    /// Adds `amount` (negative to take away).
    fn add(&self, amount: f64) {
        self.inner.add(amount);
    }

    /// The current value.
    #[getter]
    fn value(&self) -> f64 {
        self.inner.value()
    }

    fn __repr__(&self) -> String {
        format!("Gauge(value={})", self.inner.value())
    }
}

/// hits / (hits + misses), such as a cache's hit rate (`perfcore.monitor.ratio`).
#[pyclass(module = "perfcore._perfcore", frozen)]
pub(crate) struct Ratio {
    inner: monitor::Ratio,
}

#[pymethods]
impl Ratio {
    /// Records a hit.
    fn hit(&self) {
        self.inner.hit();
    }

    /// Records a miss.
    fn miss(&self) {
        self.inner.miss();
    }

    /// Records a hit if `hit` is true, else a miss.
    fn record(&self, hit: bool) {
        self.inner.record(hit);
    }

    /// Records `hits` hits and `misses` misses.
    #[pyo3(signature = (hits = 0, misses = 0))]
    fn add(&self, hits: u64, misses: u64) {
        self.inner.add(hits, misses);
    }

    /// The hits so far.
    #[getter]
    fn hits(&self) -> u64 {
        self.inner.hits()
    }

    /// The misses so far.
    #[getter]
    fn misses(&self) -> u64 {
        self.inner.misses()
    }

    /// The cumulative ratio, or None before the first hit or miss.
    #[getter]
    fn value(&self) -> Option<f64> {
        self.inner.value()
    }

    fn __repr__(&self) -> String {
        format!("Ratio(hits={}, misses={})", self.inner.hits(), self.inner.misses())
    }
}

/// The counter `name` (`_total` appended unless it ends so) of the process's registry.
#[pyfunction]
#[pyo3(signature = (name, help = "", labels = None))]
fn counter(name: &str, help: &str, labels: Option<&Bound<'_, PyAny>>) -> PyResult<Counter> {
    let labels = labels_arg(labels)?;
    let inner = monitor::counter(name, help, &as_refs(&labels)).map_err(|e| value_error(&e))?;
    Ok(Counter { inner })
}

/// The gauge `name` of the process's registry.
#[pyfunction]
#[pyo3(signature = (name, help = "", labels = None))]
fn gauge(name: &str, help: &str, labels: Option<&Bound<'_, PyAny>>) -> PyResult<Gauge> {
    let labels = labels_arg(labels)?;
    let inner = monitor::gauge(name, help, &as_refs(&labels)).map_err(|e| value_error(&e))?;
    Ok(Gauge { inner })
}

/// The ratio `name` of the process's registry (`<name>_hits_total`, `<name>_misses_total`,
/// `<name>_ratio`).
#[pyfunction]
#[pyo3(signature = (name, help = "", labels = None))]
fn ratio(name: &str, help: &str, labels: Option<&Bound<'_, PyAny>>) -> PyResult<Ratio> {
    let labels = labels_arg(labels)?;
    let inner = monitor::ratio(name, help, &as_refs(&labels)).map_err(|e| value_error(&e))?;
    Ok(Ratio { inner })
}

fn observation_dict<'py>(py: Python<'py>, o: &Observation) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", o.name.as_ref())?;
    d.set_item("help", o.help.as_ref())?;
    d.set_item("kind", o.kind.as_str())?;
    let labels = PyDict::new(py);
    for (k, v) in &o.labels {
        labels.set_item(k.as_ref(), v)?;
    }
    d.set_item("labels", labels)?;
    d.set_item("value", o.value)?;
    Ok(d)
}

/// Every application metric's series now, as dicts (`name`, `help`, `kind`, `labels`,
/// `value`), in registration order.
#[pyfunction]
fn observations(py: Python<'_>) -> PyResult<Bound<'_, PyList>> {
    let obs = py.detach(|| monitor::metrics_registry().observations());
    let list = PyList::empty(py);
    for o in &obs {
        list.append(observation_dict(py, o)?)?;
    }
    Ok(list)
}

/// Adds the classes and functions to `perfcore._perfcore`.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Counter>()?;
    m.add_class::<Gauge>()?;
    m.add_class::<Ratio>()?;
    m.add_function(wrap_pyfunction!(counter, m)?)?;
    m.add_function(wrap_pyfunction!(gauge, m)?)?;
    m.add_function(wrap_pyfunction!(ratio, m)?)?;
    m.add_function(wrap_pyfunction!(observations, m)?)?;
    Ok(())
}
