//! The system sampler for Python (`perfcore.SystemSampler`, issue 13): the conversions and
//! argument parsing around `perfcore::monitor::SystemSampler`.
//!
//! Samples, history points and trends are plain dicts (durations as float seconds); an
//! observation is `{"name", "help", "kind", "labels": {name: value}, "value"}`.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};
use std::time::Duration;

use perfcore::monitor::{Observation, SamplerOptions, SystemSample, SystemSampler as Core};
use pyo3::exceptions::PyValueError;
use pyo3::prelude::*;
use pyo3::types::{PyCFunction, PyDict, PyList, PyTuple};

use crate::cost_watch::to_py;

/// Seconds as a `Duration`, refusing negative, NaN and infinite values by name.
fn seconds(what: &str, s: f64) -> PyResult<Duration> {
    Duration::try_from_secs_f64(s)
        .map_err(|_| PyValueError::new_err(format!("{what}: expected seconds >= 0, got {s}")))
}

fn observation_to_py<'py>(py: Python<'py>, o: &Observation) -> PyResult<Bound<'py, PyDict>> {
    let d = PyDict::new(py);
    d.set_item("name", &*o.name)?;
    d.set_item("help", &*o.help)?;
    d.set_item("kind", o.kind.as_str())?;
    let labels = PyDict::new(py);
    for (k, v) in &o.labels {
        labels.set_item(&**k, v)?;
    }
    d.set_item("labels", labels)?;
    d.set_item("value", o.value)?;
    Ok(d)
}

/// A sampler's core, shared with the registry `atexit` stops them from.
type Slot = Mutex<Option<Core>>;

/// Every sampler alive, with the process that started it: `atexit` stops them before the
/// interpreter finalizes (a sampler thread calling `on_sample` then would abort the process).
static LIVE: Mutex<Vec<(u32, Weak<Slot>)>> = Mutex::new(Vec::new());

/// Stops a sampler's thread without the GIL (the thread may be waiting for it to run
/// `on_sample`). In a forked child the thread does not exist: the handle is forgotten, as
/// joining it would wait forever.
fn shut_down(py: Python<'_>, started_by: u32, core: Core) {
    if started_by == std::process::id() {
        py.detach(|| core.stop());
    } else {
        std::mem::forget(core);
    }
}

/// The `atexit` hook: stops every sampler still running.
fn stop_all(py: Python<'_>) {
    let live = std::mem::take(&mut *LIVE.lock().unwrap_or_else(PoisonError::into_inner));
    for (pid, slot) in live {
        if let Some(slot) = slot.upgrade() {
            let taken = slot.lock().unwrap_or_else(PoisonError::into_inner).take();
            if let Some(core) = taken {
                shut_down(py, pid, core);
            }
        }
    }
}

/// Samples the machine and this process on a background thread (`perfcore-sampler`), keeping
/// 24 hours of history in bounded memory; started on construction.
///
/// `on_sample` is called on the sampler thread with each sample's dict, under the GIL, so it
/// should be quick; an exception it raises is counted (`callback_errors()`) and otherwise
/// ignored: sampling goes on. Threads do not survive `os.fork()`: in a child, start a new
/// sampler and leave the parent's alone. A stopped sampler holds nothing (`latest()` is
/// `None`).
#[pyclass(module = "perfcore._perfcore", name = "SystemSampler", frozen)]
pub(crate) struct PySystemSampler {
    inner: Arc<Slot>,
    started_by: u32,
    python_errors: Arc<AtomicU64>,
}

impl PySystemSampler {
    fn lock(&self) -> MutexGuard<'_, Option<Core>> {
        self.inner.lock().unwrap_or_else(PoisonError::into_inner)
    }

    fn stop_inner(&self, py: Python<'_>) {
        let taken = self.lock().take();
        if let Some(core) = taken {
            shut_down(py, self.started_by, core);
        }
    }
}

impl Drop for PySystemSampler {
    fn drop(&mut self) {
        let taken = self.lock().take();
        if let Some(core) = taken {
            Python::attach(|py| shut_down(py, self.started_by, core));
        }
    }
}

#[pymethods]
impl PySystemSampler {
    #[new]
    #[pyo3(signature = (interval = 1.0, disks = true, networks = true, *, on_sample = None))]
    fn new(
        py: Python<'_>,
        interval: f64,
        disks: bool,
        networks: bool,
        on_sample: Option<Py<PyAny>>,
    ) -> PyResult<Self> {
        let python_errors = Arc::new(AtomicU64::new(0));
        let mut options = SamplerOptions::default()
            .interval(seconds("interval", interval)?)
            .disks(disks)
            .networks(networks);
        if let Some(cb) = on_sample {
            if !cb.bind(py).is_callable() {
                return Err(PyValueError::new_err("on_sample: expected a callable"));
            }
            let errors = Arc::clone(&python_errors);
            options = options.on_sample(move |sample: &SystemSample| {
                Python::attach(|py| {
                    let ok = to_py(py, sample).and_then(|d| cb.call1(py, (d,))).is_ok();
                    if !ok {
                        errors.fetch_add(1, Ordering::Relaxed);
                    }
                });
            });
        }
        let core = Core::start(options).map_err(crate::monitor_alerts::monitor_err)?;
        let inner = Arc::new(Mutex::new(Some(core)));
        let started_by = std::process::id();
        let mut live = LIVE.lock().unwrap_or_else(PoisonError::into_inner);
        live.retain(|(_, w)| w.strong_count() > 0);
        live.push((started_by, Arc::downgrade(&inner)));
        Ok(Self { inner, started_by, python_errors })
    }

    /// The latest sample as a dict, or None before the first (one interval after start).
    fn latest<'py>(&self, py: Python<'py>) -> PyResult<Option<Bound<'py, PyAny>>> {
        let latest = self.lock().as_ref().and_then(Core::latest);
        latest.map(|s| to_py(py, &s)).transpose()
    }

    /// The latest sample's observations.
    fn observations<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyList>> {
        let obs = self.lock().as_ref().map_or_else(Vec::new, Core::observations);
        let list = PyList::empty(py);
        for o in &obs {
            list.append(observation_to_py(py, o)?)?;
        }
        Ok(list)
    }

    /// The history of one series over the last `range` seconds: dicts `at_unix_ns`, `min`,
    /// `mean`, `max`, oldest first.
    #[pyo3(signature = (name, labels = None, range = 600.0))]
    fn history<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        labels: Option<HashMap<String, String>>,
        range: f64,
    ) -> PyResult<Bound<'py, PyAny>> {
        let range = seconds("range", range)?;
        let labels = labels.unwrap_or_default();
        let pairs: Vec<(&str, &str)> =
            labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let points = self.lock().as_ref().map_or_else(Vec::new, |s| s.history(name, &pairs, range));
        to_py(py, &points)
    }

    /// The least-squares trend over the last `window` seconds: `slope_per_second`, `current`,
    /// `time_to_exhaustion` (seconds or None); None for an unknown series or too few points.
    #[pyo3(signature = (name, labels = None, window = 600.0))]
    fn trend<'py>(
        &self,
        py: Python<'py>,
        name: &str,
        labels: Option<HashMap<String, String>>,
        window: f64,
    ) -> PyResult<Option<Bound<'py, PyDict>>> {
        let window = seconds("window", window)?;
        let labels = labels.unwrap_or_default();
        let pairs: Vec<(&str, &str)> =
            labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        let trend = self.lock().as_ref().and_then(|s| s.trend(name, &pairs, window));
        trend
            .map(|t| {
                let d = PyDict::new(py);
                d.set_item("slope_per_second", t.slope_per_second)?;
                d.set_item("current", t.current)?;
                d.set_item("time_to_exhaustion", t.time_to_exhaustion.map(|d| d.as_secs_f64()))?;
                Ok(d)
            })
            .transpose()
    }

    /// The bytes the history holds now.
    fn memory_bytes(&self) -> usize {
        self.lock().as_ref().map_or(0, Core::memory_bytes)
    }

    /// The CPU time the sampler thread has used, in seconds.
    fn own_cpu_seconds(&self) -> f64 {
        self.lock().as_ref().map_or(0.0, |s| s.own_cpu_time().as_secs_f64())
    }

    /// How many samples it has taken.
    fn samples_taken(&self) -> u64 {
        self.lock().as_ref().map_or(0, Core::samples_taken)
    }

    /// How many `on_sample` calls raised (or could not be made).
    fn callback_errors(&self) -> u64 {
        let panics = self.lock().as_ref().map_or(0, Core::callback_failures);
        self.python_errors.load(Ordering::Relaxed) + panics
    }

    /// Whether it is still sampling (False after `stop()`).
    fn running(&self) -> bool {
        self.lock().is_some()
    }

    /// Stops the thread and waits for it (idempotent).
    fn stop(&self, py: Python<'_>) {
        self.stop_inner(py);
    }

    fn __enter__(slf: Py<Self>) -> Py<Self> {
        slf
    }

    #[pyo3(signature = (*_exc))]
    fn __exit__(&self, py: Python<'_>, _exc: &Bound<'_, PyTuple>) -> bool {
        self.stop_inner(py);
        false
    }

    fn __repr__(&self) -> String {
        match self.lock().as_ref() {
            Some(s) => format!(
                "SystemSampler(interval={}, samples_taken={})",
                s.interval().as_secs_f64(),
                s.samples_taken()
            ),
            None => "SystemSampler(stopped)".to_owned(),
        }
    }
}

/// Adds `SystemSampler` to the module, and the `atexit` hook that stops the samplers still
/// running when the interpreter exits.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<PySystemSampler>()?;
    let py = m.py();
    let hook = PyCFunction::new_closure(
        py,
        Some(c"_perfcore_stop_samplers"),
        None,
        |args: &Bound<'_, PyTuple>, _kwargs: Option<&Bound<'_, PyDict>>| stop_all(args.py()),
    )?;
    py.import("atexit")?.call_method1("register", (hook,))?;
    Ok(())
}
