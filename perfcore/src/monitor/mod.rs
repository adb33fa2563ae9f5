//! Live monitoring: system metrics, application metrics, alert rules, and the Prometheus
//! endpoint a real Prometheus scrapes (feature `monitor`).
//!
//! perfcore grows past one machine the way the rest of a team's monitoring does: a Prometheus
//! scrapes every instance ([`serve_metrics`]), or short-lived jobs push to a Pushgateway
//! ([`push_metrics`]); the function histograms have fixed bucket bounds, so PromQL aggregates
//! them across instances (`histogram_quantile(0.95, sum by (le) (rate(..._bucket[1m])))`).
//!
//! The parts, each usable alone:
//! - the system sampler (`SystemSampler`): CPU, memory, swap, disks, disk and network I/O and
//!   the process itself, sampled on a background thread, kept 24 hours in bounded memory, with
//!   a trend per metric;
//! - application metrics (`Counter`, `Gauge`, `Ratio`): the service's own figures, recorded
//!   lock-free;
//! - alert rules (`AlertRule`, `AlertEngine`) over any of those and the profiler's function
//!   statistics, with the seed's defaults, and sinks (callback, `log`, JSON lines, webhook);
//! - the endpoint and the Pushgateway client.
//!
//! Every part speaks [`Observation`]s: one value of one series at one instant, named as the
//! endpoint exposes it (without the `perfcore_` namespace). Alert rules read them; the
//! exposition writes them.
//!
//! # Application metrics
//! A [`MetricsRegistry`] hands out handles ([`Counter`], [`Gauge`], [`Ratio`]) that the
//! application keeps and records through; [`MetricsRegistry::observations`] reads every series
//! as [`Observation`]s, which the endpoint exposes and alert rules read. The process has one
//! global registry ([`metrics_registry`], and the free functions [`counter`], [`gauge`],
//! [`ratio`] on it); a registry of one's own is for tests and libraries that export apart.
//!
//! Recording costs about what a profiling scope does and takes no lock: a counter is a row of
//! cache-line-sized cells, and each thread adds to the cell of its own stripe (threads are
//! numbered as they first record; thread *n* uses cell *n* mod the number of cells, a power of
//! two at least the machine's parallelism, 4 to 64), so threads on different cores do not
//! bounce one cache line between them; reading sums the cells. A gauge is one atomic (`set` is
//! last-writer-wins; `add` and `sub` are compare-and-swap loops that lose no update).
//!
//! Names follow Prometheus's rules: metric names `[a-zA-Z_:][a-zA-Z0-9_:]*`, label names
//! `[a-zA-Z_][a-zA-Z0-9_]*` without the reserved `__` prefix, and not `le` or `quantile`
//! (the exposition's histogram and summary labels). A counter's name gets `_total` appended
//! unless it already ends so (`counter("requests", ..)` is the series `requests_total`, and
//! `counter("requests_total", ..)` is the same one).
//!
//! # The `metrics` facade
//! With the feature `metrics`, `install_metrics_recorder` makes perfcore the recorder of
//! the `metrics` crate: code instrumented with `metrics::counter!`, `gauge!` and
//! `histogram!` reports to the global registry, and so to the endpoint and alert rules.
//! Names are sanitised into Prometheus names: every character outside `[a-zA-Z0-9_:]` becomes
//! `_` (`http.requests` → `http_requests`), a leading digit gets a `_` before it, and counters
//! get `_total` as the registry's counters do. Label names are sanitised the same way (without
//! `:`). A histogram is kept as a count and a sum, exported as the counters `<name>_count` and
//! `<name>_sum`, with no buckets: the facade's histograms carry no unit, so the sum is in
//! whatever units the caller recorded (perfcore's own function histograms, with fixed bucket
//! bounds in seconds, are the ones to aggregate quantiles from). A metric the registry refuses
//! (a reserved label such as `le`, or a name already used by another kind) is dropped, with a
//! `log` warning.

mod error;

// The system sampler.
mod history;
mod system;
pub use history::{HistoryOptions, HistoryPoint, Trend};
pub use system::{
    DiskSample, NetworkSample, ProcessSample, SamplerOptions, SystemSample, SystemSampler,
};

// Application metrics.
#[cfg(feature = "metrics")]
mod facade;
mod metrics;
#[cfg(feature = "metrics")]
pub use facade::{MetricsRecorder, install_metrics_recorder};
pub use metrics::{
    Counter, DEFAULT_RATIO_WINDOW, Gauge, MetricsRegistry, Ratio, counter, gauge, metrics_registry,
    ratio,
};

// Alert rules, function statistics over a window, sinks.
mod alert;
mod functions;
mod sink;
pub use alert::{
    ActiveAlert, AlertEngine, AlertEvent, AlertRule, AlertState, Comparison, Severity,
};
pub use functions::FunctionWindow;
pub use sink::{
    AlertSink, CallbackSink, JsonLinesSink, LogSink, SinkDispatcher, SinkDispatcherBuilder,
    WebhookSink,
};

// The endpoint, the exposition, the Pushgateway client.
mod exposition;
pub(crate) mod http;
mod live;
mod push;
mod server;
mod sources;

pub use exposition::exposition;
pub use live::{Monitor, MonitorBuilder};
pub use push::{PushMethod, PushOptions, push_metrics};
pub use server::{MetricsServer, ServerOptions, serve_metrics};
pub use sources::{ObservationSource, SnapshotSource};

pub use error::MonitorError;

use std::borrow::Cow;

/// How a series' value behaves, which decides how Prometheus reads it.
///
/// # Examples
/// ```
/// use perfcore::monitor::MetricKind;
/// assert_eq!(MetricKind::Counter.as_str(), "counter");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, serde::Serialize, serde::Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum MetricKind {
    /// A value that goes up and down (CPU utilisation, queue depth).
    Gauge,
    /// A count that only grows while the process lives (bytes read, cache hits); its name
    /// ends in `_total`.
    Counter,
}

impl MetricKind {
    /// The Prometheus `# TYPE` word.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::monitor::MetricKind::Gauge.as_str(), "gauge");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Gauge => "gauge",
            Self::Counter => "counter",
        }
    }
}

/// One value of one series at one instant: what alert rules read and the endpoint exposes.
///
/// `name` is the metric's name without the namespace (`system_cpu_utilization_ratio`,
/// `cache_hits_total`), in base units (seconds, bytes, ratios 0–1), as Prometheus's naming
/// conventions ask.
///
/// # Examples
/// ```
/// use perfcore::monitor::{MetricKind, Observation};
/// let o = Observation::gauge("system_disk_utilization_ratio", "Share of the disk in use.", 0.42)
///     .label("mount", "/");
/// assert_eq!(o.kind, MetricKind::Gauge);
/// assert_eq!(o.label_value("mount"), Some("/"));
/// ```
#[derive(Clone, Debug, PartialEq, serde::Serialize, serde::Deserialize)]
pub struct Observation {
    /// The metric's name, without the namespace.
    pub name: Cow<'static, str>,
    /// One line saying what it measures (the `# HELP` text).
    pub help: Cow<'static, str>,
    /// Gauge or counter.
    pub kind: MetricKind,
    /// Its labels, in the order given. In JSON, an object (`{"core": "0"}`) in this order.
    #[serde(with = "labels_as_object")]
    pub labels: Vec<(Cow<'static, str>, String)>,
    /// The value. In JSON, `null` when it is not a finite number (a ratio of nothing is NaN).
    #[serde(with = "finite_or_null")]
    pub value: f64,
}

impl Observation {
    /// A gauge with no labels.
    ///
    /// # Examples
    /// ```
    /// let o = perfcore::monitor::Observation::gauge("queue_depth", "Jobs waiting.", 3.0);
    /// assert_eq!(o.value, 3.0);
    /// ```
    #[must_use]
    pub fn gauge(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        value: f64,
    ) -> Self {
        Self {
            name: name.into(),
            help: help.into(),
            kind: MetricKind::Gauge,
            labels: Vec::new(),
            value,
        }
    }

    /// A counter with no labels.
    ///
    /// # Examples
    /// ```
    /// let o = perfcore::monitor::Observation::counter("cache_hits_total", "Cache hits.", 7.0);
    /// assert_eq!(o.kind, perfcore::monitor::MetricKind::Counter);
    /// ```
    #[must_use]
    pub fn counter(
        name: impl Into<Cow<'static, str>>,
        help: impl Into<Cow<'static, str>>,
        value: f64,
    ) -> Self {
        Self {
            name: name.into(),
            help: help.into(),
            kind: MetricKind::Counter,
            labels: Vec::new(),
            value,
        }
    }

    /// Adds a label.
    ///
    /// # Examples
    /// ```
    /// let o = perfcore::monitor::Observation::gauge("g", "", 1.0).label("core", "0");
    /// assert_eq!(o.labels.len(), 1);
    /// ```
    #[must_use]
    pub fn label(mut self, name: impl Into<Cow<'static, str>>, value: impl Into<String>) -> Self {
        self.labels.push((name.into(), value.into()));
        self
    }

    /// The value of the label `name`, if it has one.
    ///
    /// # Examples
    /// ```
    /// let o = perfcore::monitor::Observation::gauge("g", "", 1.0).label("core", "0");
    /// assert_eq!(o.label_value("core"), Some("0"));
    /// assert_eq!(o.label_value("mount"), None);
    /// ```
    #[must_use]
    pub fn label_value(&self, name: &str) -> Option<&str> {
        self.labels.iter().find(|(k, _)| k == name).map(|(_, v)| v.as_str())
    }
}

/// Labels as a JSON object in their own order (`{"mount": "/", "device": "sda1"}`), rather
/// than serde's default list of pairs: the shape the endpoint's `/observations.json` serves.
mod labels_as_object {
    use std::borrow::Cow;
    use std::fmt;

    use serde::de::{MapAccess, Visitor};
    use serde::ser::SerializeMap;
    use serde::{Deserializer, Serializer};

    type Labels = Vec<(Cow<'static, str>, String)>;

    pub(super) fn serialize<S: Serializer>(labels: &Labels, s: S) -> Result<S::Ok, S::Error> {
        let mut map = s.serialize_map(Some(labels.len()))?;
        for (k, v) in labels {
            map.serialize_entry(k.as_ref(), v)?;
        }
        map.end()
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<Labels, D::Error> {
        struct InOrder;
        impl<'de> Visitor<'de> for InOrder {
            type Value = Labels;
            fn expecting(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str("an object of label names to string values")
            }
            fn visit_map<A: MapAccess<'de>>(self, mut map: A) -> Result<Labels, A::Error> {
                let mut labels = Vec::with_capacity(map.size_hint().unwrap_or(0));
                while let Some((k, v)) = map.next_entry::<String, String>()? {
                    labels.push((Cow::Owned(k), v));
                }
                Ok(labels)
            }
        }
        d.deserialize_map(InOrder)
    }
}

/// A float as a JSON number, or `null` for NaN and the infinities (JSON has no word for them);
/// `null` reads back as NaN.
mod finite_or_null {
    use serde::{Deserialize, Deserializer, Serializer};

    #[allow(clippy::trivially_copy_pass_by_ref)] // serde's `with` passes a reference
    pub(super) fn serialize<S: Serializer>(value: &f64, s: S) -> Result<S::Ok, S::Error> {
        if value.is_finite() { s.serialize_f64(*value) } else { s.serialize_none() }
    }

    pub(super) fn deserialize<'de, D: Deserializer<'de>>(d: D) -> Result<f64, D::Error> {
        Ok(Option::<f64>::deserialize(d)?.unwrap_or(f64::NAN))
    }
}
