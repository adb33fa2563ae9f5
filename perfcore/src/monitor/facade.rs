//! perfcore as a recorder of the `metrics` facade (feature `metrics`): code already
//! instrumented with `metrics::counter!`, `gauge!` and `histogram!` reports to a
//! [`MetricsRegistry`], and so to the endpoint and alert rules.
//!
//! Names are sanitised into Prometheus names: every character outside `[a-zA-Z0-9_:]` becomes
//! `_` (`http.requests` → `http_requests`), a leading digit gets a `_` before it, and counters
//! get `_total` as the registry's counters do. Label names are sanitised the same way (without
//! `:`). A histogram is kept as a count and a sum, exported as the counters `<name>_count` and
//! `<name>_sum`, with no buckets: the facade's histograms carry no unit, so the sum is in
//! whatever units the caller recorded (perfcore's own function histograms, with fixed bucket
//! bounds in seconds, are the ones to aggregate quantiles from). A metric the registry refuses
//! (a reserved label such as `le`, or a name already used by another kind) is dropped, with a
//! `log` warning.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};

use metrics::{Key, KeyName, Metadata, Recorder, SharedString, Unit};

use super::MonitorError;
use super::metrics::{AtomicF64, HistogramSeries, MetricsRegistry, Striped, metrics_registry};

/// A `metrics` facade recorder writing to a [`MetricsRegistry`].
///
/// [`install_metrics_recorder`] installs one on the process's registry; build one yourself for
/// `metrics::with_local_recorder` (tests) or a registry of your own.
///
/// # Examples
/// ```
/// use perfcore::monitor::{MetricsRecorder, MetricsRegistry};
/// let registry: &'static MetricsRegistry = Box::leak(Box::new(MetricsRegistry::new()));
/// let recorder = MetricsRecorder::new(registry);
/// metrics::with_local_recorder(&recorder, || {
///     metrics::counter!("http.requests", "method" => "GET").increment(2);
///     metrics::gauge!("queue.depth").set(4.0);
///     metrics::histogram!("payload.size").record(512.0);
/// });
/// let names: Vec<_> = registry.observations().into_iter().map(|o| (o.name, o.value)).collect();
/// assert_eq!(names, [
///     ("http_requests_total".into(), 2.0),
///     ("queue_depth".into(), 4.0),
///     ("payload_size_count".into(), 1.0),
///     ("payload_size_sum".into(), 512.0),
/// ]);
/// ```
pub struct MetricsRecorder {
    registry: &'static MetricsRegistry,
    /// Descriptions given before the metric was registered, by sanitised family name.
    descriptions: Mutex<HashMap<String, String>>,
}

impl std::fmt::Debug for MetricsRecorder {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("MetricsRecorder").field("registry", self.registry).finish_non_exhaustive()
    }
}

impl MetricsRecorder {
    /// A recorder writing to `registry`.
    ///
    /// # Examples
    /// ```
    /// let recorder = perfcore::monitor::MetricsRecorder::new(perfcore::monitor::metrics_registry());
    /// metrics::with_local_recorder(&recorder, || metrics::counter!("doc_facade_jobs").increment(1));
    /// ```
    #[must_use]
    pub fn new(registry: &'static MetricsRegistry) -> Self {
        Self { registry, descriptions: Mutex::new(HashMap::new()) }
    }

    fn describe(&self, family: String, description: &str) {
        self.registry.describe(&family, description);
        self.descriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .insert(family, description.to_owned());
    }

    fn help(&self, family: &str) -> String {
        self.descriptions
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
            .get(family)
            .cloned()
            .unwrap_or_default()
    }
}

/// `name` as a Prometheus name: characters outside `[a-zA-Z0-9_]` (and `:` when `colon`)
/// become `_`, a leading digit (or an empty name) gets a `_` before it.
fn sanitise(name: &str, colon: bool) -> String {
    let mut out: String = name
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':') { c } else { '_' })
        .collect();
    if out.is_empty() || out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

fn labels_of(key: &Key) -> Vec<(String, String)> {
    key.labels().map(|l| (sanitise(l.key(), false), l.value().to_owned())).collect()
}

fn counter_family(name: &str) -> String {
    let name = sanitise(name, true);
    if name.ends_with("_total") { name } else { format!("{name}_total") }
}

fn refused(what: &str, key: &Key, e: &MonitorError) {
    log::warn!("perfcore: the metrics facade's {what} {:?} is dropped: {e}", key.name());
}

struct CounterCell(Arc<Striped>);

impl metrics::CounterFn for CounterCell {
    fn increment(&self, value: u64) {
        self.0.add(value);
    }

    /// Raises the count to `value` if it is below (racing increments may land on top).
    fn absolute(&self, value: u64) {
        let now = self.0.sum();
        if value > now {
            self.0.add(value - now);
        }
    }
}

struct GaugeCell(Arc<AtomicF64>);

impl metrics::GaugeFn for GaugeCell {
    fn increment(&self, value: f64) {
        self.0.add(value);
    }

    fn decrement(&self, value: f64) {
        self.0.add(-value);
    }

    fn set(&self, value: f64) {
        self.0.store(value);
    }
}

struct HistogramCell(Arc<HistogramSeries>);

impl metrics::HistogramFn for HistogramCell {
    fn record(&self, value: f64) {
        self.0.count.add(1);
        self.0.sum.add(value);
    }

    fn record_many(&self, value: f64, count: usize) {
        self.0.count.add(count as u64);
        self.0.sum.add(value * count as f64);
    }
}

impl Recorder for MetricsRecorder {
    fn describe_counter(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        self.describe(counter_family(key.as_str()), &description);
    }

    fn describe_gauge(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        self.describe(sanitise(key.as_str(), true), &description);
    }

    fn describe_histogram(&self, key: KeyName, _unit: Option<Unit>, description: SharedString) {
        self.describe(sanitise(key.as_str(), true), &description);
    }

    fn register_counter(&self, key: &Key, _metadata: &Metadata<'_>) -> metrics::Counter {
        let name = counter_family(key.name());
        let labels = labels_of(key);
        let labels: Vec<(&str, &str)> =
            labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        match self.registry.counter_storage(&name, &self.help(&name), &labels) {
            Ok(cell) => metrics::Counter::from_arc(Arc::new(CounterCell(cell))),
            Err(e) => {
                refused("counter", key, &e);
                metrics::Counter::noop()
            }
        }
    }

    fn register_gauge(&self, key: &Key, _metadata: &Metadata<'_>) -> metrics::Gauge {
        let name = sanitise(key.name(), true);
        let labels = labels_of(key);
        let labels: Vec<(&str, &str)> =
            labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        match self.registry.gauge_storage(&name, &self.help(&name), &labels) {
            Ok(cell) => metrics::Gauge::from_arc(Arc::new(GaugeCell(cell))),
            Err(e) => {
                refused("gauge", key, &e);
                metrics::Gauge::noop()
            }
        }
    }

    fn register_histogram(&self, key: &Key, _metadata: &Metadata<'_>) -> metrics::Histogram {
        let name = sanitise(key.name(), true);
        let labels = labels_of(key);
        let labels: Vec<(&str, &str)> =
            labels.iter().map(|(k, v)| (k.as_str(), v.as_str())).collect();
        match self.registry.histogram(&name, &self.help(&name), &labels) {
            Ok(cell) => metrics::Histogram::from_arc(Arc::new(HistogramCell(cell))),
            Err(e) => {
                refused("histogram", key, &e);
                metrics::Histogram::noop()
            }
        }
    }
}

/// Installs perfcore as the process's recorder of the `metrics` facade, writing to
/// [`metrics_registry`]: from then on `metrics::counter!` and friends anywhere in the process
/// show up in perfcore's observations and endpoint (see the [module docs](crate::monitor#the-metrics-facade) for how
/// names are mapped).
///
/// # Errors
/// [`MonitorError::RecorderInstalled`] if a global recorder is installed already (the facade
/// allows one per process).
///
/// # Examples
/// ```
/// perfcore::monitor::install_metrics_recorder()?;
/// metrics::counter!("doc.install.jobs").increment(3);
/// let obs = perfcore::monitor::metrics_registry().observations();
/// assert!(obs.iter().any(|o| o.name == "doc_install_jobs_total" && o.value == 3.0));
/// assert!(perfcore::monitor::install_metrics_recorder().is_err()); // once per process
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
pub fn install_metrics_recorder() -> Result<(), MonitorError> {
    metrics::set_global_recorder(MetricsRecorder::new(metrics_registry()))
        .map_err(|_| MonitorError::RecorderInstalled)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn local() -> (&'static MetricsRegistry, MetricsRecorder) {
        let registry: &'static MetricsRegistry = Box::leak(Box::new(MetricsRegistry::new()));
        (registry, MetricsRecorder::new(registry))
    }

    #[test]
    fn names_are_sanitised() {
        assert_eq!(sanitise("http.server.requests", true), "http_server_requests");
        assert_eq!(sanitise("9lives", true), "_9lives");
        assert_eq!(sanitise("a:b-c", true), "a:b_c");
        assert_eq!(sanitise("a:b", false), "a_b");
        assert_eq!(sanitise("", true), "_");
        assert_eq!(counter_family("x.total"), "x_total");
        assert_eq!(counter_family("x"), "x_total");
    }

    #[test]
    fn facade_metrics_land_in_the_registry_with_help_and_labels() {
        let (registry, recorder) = local();
        metrics::with_local_recorder(&recorder, || {
            metrics::describe_counter!("jobs.done", "Jobs done.");
            let c = metrics::counter!("jobs.done", "queue.name" => "mail");
            c.increment(2);
            c.absolute(10);
            c.absolute(3); // below: no change
            metrics::counter!("jobs.done", "queue.name" => "mail").increment(1);
            let g = metrics::gauge!("pool");
            g.set(5.0);
            g.increment(2.0);
            g.decrement(1.0);
            let h = metrics::histogram!("latency");
            h.record(0.5);
            h.record(1.5);
            metrics::describe_histogram!("latency", "Latency (caller's units).");
        });
        let obs = registry.observations();
        assert_eq!(obs[0].name, "jobs_done_total");
        assert_eq!(obs[0].help, "Jobs done.");
        assert_eq!(obs[0].label_value("queue_name"), Some("mail"));
        assert_eq!(obs[0].value, 11.0);
        assert_eq!((obs[1].name.as_ref(), obs[1].value), ("pool", 6.0));
        assert_eq!((obs[2].name.as_ref(), obs[2].value), ("latency_count", 2.0));
        assert_eq!((obs[3].name.as_ref(), obs[3].value), ("latency_sum", 2.0));
        assert_eq!(obs[3].help, "Latency (caller's units).");
    }

    #[test]
    fn refused_metrics_are_dropped_not_panicking() {
        let (registry, recorder) = local();
        metrics::with_local_recorder(&recorder, || {
            metrics::gauge!("g").set(1.0);
            metrics::histogram!("g").record(1.0); // another kind
            metrics::counter!("c", "le" => "1").increment(1); // reserved label
        });
        let obs = registry.observations();
        assert_eq!(obs.len(), 1);
        assert_eq!(obs[0].name, "g");
    }

    #[test]
    fn facade_counters_from_threads_add_up() {
        let (registry, recorder) = local();
        let c = metrics::with_local_recorder(&recorder, || metrics::counter!("n"));
        std::thread::scope(|s| {
            for _ in 0..4 {
                let c = c.clone();
                s.spawn(move || (0..5_000).for_each(|_| c.increment(1)));
            }
        });
        assert_eq!(registry.observations()[0].value, 20_000.0);
    }
}
