//! The endpoint's text: the profiler's function histograms and counters, then every
//! [`Observation`] (system gauges, application metrics, alert states), in one exposition.

use std::collections::HashMap;

use prometheus_client::collector::Collector;
use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric as _};
use prometheus_client::metrics::MetricType;
use prometheus_client::metrics::counter::ConstCounter;
use prometheus_client::metrics::gauge::ConstGauge;

use super::{MetricKind, Observation};
use crate::Snapshot;
use crate::report::PrometheusOptions;
use crate::report::prometheus::{label_value, valid_name};

/// One metric family: its name as given, help, kind, and its series.
#[derive(Debug)]
struct Family {
    /// The name the descriptor is written with: a counter's without `_total`, which the
    /// encoder appends.
    name: String,
    help: String,
    kind: MetricKind,
    series: Vec<(Vec<(String, String)>, f64)>,
}

/// Observations grouped into families, in first-seen order.
#[derive(Debug)]
struct ObservationCollector {
    families: Vec<Family>,
}

impl ObservationCollector {
    fn new(observations: &[Observation]) -> Self {
        let mut families: Vec<Family> = Vec::new();
        let mut by_name: HashMap<String, usize> = HashMap::new();
        // (family, labels) → index of the series, so a repeated series keeps its last value.
        let mut seen: HashMap<(usize, Vec<(String, String)>), usize> = HashMap::new();
        for o in observations {
            let mut name = valid_name(&o.name, true);
            if o.kind == MetricKind::Counter {
                // Counters are written `<family>_total`; the family is named without it.
                if let Some(stem) = name.strip_suffix("_total") {
                    name = stem.to_owned();
                }
                if !o.value.is_finite() || o.value < 0.0 {
                    continue;
                }
            }
            if name.is_empty() {
                continue;
            }
            let i = *by_name.entry(name.clone()).or_insert_with(|| {
                families.push(Family {
                    name,
                    help: o.help.to_string(),
                    kind: o.kind,
                    series: Vec::new(),
                });
                families.len() - 1
            });
            if families[i].kind != o.kind {
                // One name, two kinds: Prometheus would reject the family; keep the first.
                continue;
            }
            let labels: Vec<(String, String)> = o
                .labels
                .iter()
                .map(|(k, v)| (valid_name(k, false), label_value(v).into_owned()))
                .collect();
            match seen.entry((i, labels)) {
                std::collections::hash_map::Entry::Occupied(e) => {
                    families[i].series[*e.get()].1 = o.value;
                }
                std::collections::hash_map::Entry::Vacant(e) => {
                    let labels = e.key().1.clone();
                    e.insert(families[i].series.len());
                    families[i].series.push((labels, o.value));
                }
            }
        }
        Self { families }
    }
}

impl Collector for ObservationCollector {
    fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
        for family in &self.families {
            let kind = match family.kind {
                MetricKind::Gauge => MetricType::Gauge,
                MetricKind::Counter => MetricType::Counter,
            };
            let mut metric = encoder.encode_descriptor(&family.name, &family.help, None, kind)?;
            for (labels, value) in &family.series {
                let encoder = metric.encode_family(labels)?;
                match family.kind {
                    MetricKind::Gauge => ConstGauge::new(*value).encode(encoder)?,
                    MetricKind::Counter => ConstCounter::new(*value).encode(encoder)?,
                }
            }
        }
        Ok(())
    }
}

/// The exposition the endpoint serves: `snap`'s function metrics
/// ([`to_prometheus_text`](crate::report::to_prometheus_text) documents them) and then every
/// observation, all under `options`' namespace, const labels and format.
///
/// Observations with the same name form one family (the first one's help text and kind
/// win; one of another kind is left out, as Prometheus would reject the family); the same name
/// and labels twice is one series with the last value. A counter's name should end in
/// `_total` (the exposition writes it so either way); a counter that is negative or not
/// finite is left out. Names are made valid (other characters become `_`).
///
/// # Examples
/// ```
/// use perfcore::monitor::{Observation, exposition};
/// use perfcore::report::PrometheusOptions;
/// let snap = perfcore::Snapshot::from_functions(
///     vec![perfcore::FunctionStats::from_durations("load", [1_500])], 0, 1_000);
/// let obs = [
///     Observation::gauge("system_cpu_utilization_ratio", "CPU in use.", 0.25),
///     Observation::counter("cache_hits_total", "Cache hits.", 9.0).label("cache", "users"),
/// ];
/// let text = exposition(&snap, &obs, &PrometheusOptions::new());
/// assert!(text.contains("perfcore_function_duration_seconds_count{function=\"load\"} 1"));
/// assert!(text.contains("perfcore_system_cpu_utilization_ratio 0.25"));
/// assert!(text.contains("perfcore_cache_hits_total{cache=\"users\"} 9"));
/// ```
#[must_use]
pub fn exposition(
    snap: &Snapshot,
    observations: &[Observation],
    options: &PrometheusOptions,
) -> String {
    let collector = ObservationCollector::new(observations);
    crate::report::prometheus::encode(snap, vec![Box::new(collector)], options)
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::report::ExpositionFormat;

    fn empty() -> Snapshot {
        Snapshot::from_functions(Vec::new(), 0, 0)
    }

    #[test]
    fn families_group_and_repeats_keep_the_last_value() {
        let obs = [
            Observation::gauge("disk_ratio", "Disk.", 0.1).label("mount", "/"),
            Observation::gauge("disk_ratio", "ignored", 0.2).label("mount", "/data"),
            Observation::gauge("disk_ratio", "", 0.3).label("mount", "/"),
            Observation::counter("disk_ratio", "another kind", 1.0),
        ];
        let text = exposition(&empty(), &obs, &PrometheusOptions::new().namespace(""));
        assert_eq!(text.matches("# TYPE disk_ratio gauge").count(), 1, "{text}");
        assert!(text.contains("# HELP disk_ratio Disk."), "{text}");
        assert!(text.contains("disk_ratio{mount=\"/\"} 0.3"), "{text}");
        assert!(text.contains("disk_ratio{mount=\"/data\"} 0.2"), "{text}");
        assert!(!text.contains("disk_ratio_total"), "{text}");
        assert!(!text.contains("0.1"), "{text}");
    }

    #[test]
    fn counters_are_written_with_total_and_bad_ones_are_left_out() {
        let obs = [
            Observation::counter("hits_total", "Hits.", 3.0),
            Observation::counter("bytes", "Bytes.", 4.0),
            Observation::counter("broken_total", "", f64::NAN),
            Observation::counter("negative_total", "", -1.0),
        ];
        for format in [ExpositionFormat::OpenMetrics, ExpositionFormat::Prometheus] {
            let options = PrometheusOptions::new().format(format);
            let text = exposition(&empty(), &obs, &options);
            assert!(text.contains("perfcore_hits_total 3"), "{text}");
            assert!(text.contains("perfcore_bytes_total 4"), "{text}");
            assert!(!text.contains("broken") && !text.contains("negative"), "{text}");
        }
    }

    #[test]
    fn names_and_label_values_are_made_valid() {
        let obs = [Observation::gauge("queue.depth", "", 2.0).label("pool-name", "a\"b\tc")];
        let text = exposition(&empty(), &obs, &PrometheusOptions::new().namespace(""));
        let samples = crate::report::prometheus::tests::parse(&text);
        let (name, labels, value) = samples.iter().find(|s| s.0 == "queue_depth").unwrap();
        assert_eq!(name, "queue_depth");
        assert_eq!(labels, &[("pool_name".to_owned(), "a\"b\u{fffd}c".to_owned())]);
        assert_eq!(*value, 2.0);
    }
}
