//! Prometheus / OpenMetrics text exposition of a snapshot, through `prometheus-client`.

use std::borrow::Cow;
use std::collections::HashMap;

use prometheus_client::collector::Collector;
use prometheus_client::registry::Registry;

use crate::stats::histogram;
use crate::{FunctionStats, Snapshot};

/// The smallest and largest `k` of the `2^k − 1` ns bucket bounds.
const FIRST_BOUND_BITS: u32 = 10;
const LAST_BOUND_BITS: u32 = 42;
const BOUNDS: usize = (LAST_BOUND_BITS - FIRST_BOUND_BITS + 1) as usize;

/// What [`to_prometheus_text`] names and labels the metrics with.
///
/// # Examples
/// ```
/// let options = perfcore::report::PrometheusOptions::new()
///     .namespace("shop")
///     .const_label("service", "checkout");
/// assert_eq!(options.namespace_str(), "shop");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct PrometheusOptions {
    namespace: String,
    const_labels: Vec<(String, String)>,
    format: ExpositionFormat,
}

impl Default for PrometheusOptions {
    fn default() -> Self {
        Self {
            namespace: "perfcore".to_owned(),
            const_labels: Vec::new(),
            format: ExpositionFormat::OpenMetrics,
        }
    }
}

/// Which text format [`to_prometheus_text`] writes.
///
/// # Examples
/// ```
/// use perfcore::report::{ExpositionFormat, PrometheusOptions};
/// let o = PrometheusOptions::new().format(ExpositionFormat::Prometheus);
/// assert_eq!(o.format_kind(), ExpositionFormat::Prometheus);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Default)]
#[non_exhaustive]
pub enum ExpositionFormat {
    /// OpenMetrics 1.0 text (`application/openmetrics-text; version=1.0.0`): `# UNIT` lines,
    /// counters typed by their family name (without `_total`), ending in `# EOF`. What a
    /// Prometheus server scrapes by preference.
    #[default]
    OpenMetrics,
    /// Prometheus' classic text format (`text/plain; version=0.0.4`): the one
    /// `promtool check metrics`, node_exporter's textfile collector and the Pushgateway read.
    /// (`promtool check metrics` parses OpenMetrics text too, but lints its counters, whose
    /// `# TYPE` names the family without `_total`, as having no help text.)
    Prometheus,
}

impl PrometheusOptions {
    /// The defaults: namespace `perfcore`, no const labels.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::report::PrometheusOptions::new().namespace_str(), "perfcore");
    /// ```
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// The metric-name prefix (`<namespace>_function_…`); empty for none.
    ///
    /// # Examples
    /// ```
    /// let o = perfcore::report::PrometheusOptions::new().namespace("");
    /// assert_eq!(o.namespace_str(), "");
    /// ```
    #[must_use]
    pub fn namespace(mut self, namespace: impl Into<String>) -> Self {
        self.namespace = namespace.into();
        self
    }

    /// Adds a label every sample carries (`instance`, `service`, …).
    ///
    /// # Examples
    /// ```
    /// let o = perfcore::report::PrometheusOptions::new().const_label("env", "prod");
    /// assert_eq!(o.const_labels(), [("env".to_owned(), "prod".to_owned())]);
    /// ```
    #[must_use]
    pub fn const_label(mut self, name: impl Into<String>, value: impl Into<String>) -> Self {
        self.const_labels.push((name.into(), value.into()));
        self
    }

    /// The text format to write (default [`ExpositionFormat::OpenMetrics`]).
    ///
    /// # Examples
    /// ```
    /// use perfcore::report::{ExpositionFormat, PrometheusOptions};
    /// let o = PrometheusOptions::new().format(ExpositionFormat::Prometheus);
    /// assert_eq!(o.format_kind(), ExpositionFormat::Prometheus);
    /// ```
    #[must_use]
    pub fn format(mut self, format: ExpositionFormat) -> Self {
        self.format = format;
        self
    }

    /// The text format chosen.
    ///
    /// # Examples
    /// ```
    /// use perfcore::report::{ExpositionFormat, PrometheusOptions};
    /// assert_eq!(PrometheusOptions::new().format_kind(), ExpositionFormat::OpenMetrics);
    /// ```
    #[must_use]
    pub fn format_kind(&self) -> ExpositionFormat {
        self.format
    }

    /// The namespace as given.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::report::PrometheusOptions::default().namespace_str(), "perfcore");
    /// ```
    #[must_use]
    pub fn namespace_str(&self) -> &str {
        &self.namespace
    }

    /// The const labels as given.
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::report::PrometheusOptions::default().const_labels().is_empty());
    /// ```
    #[must_use]
    pub fn const_labels(&self) -> &[(String, String)] {
        &self.const_labels
    }
}

/// `s` as a metric or label name: characters outside `[a-zA-Z0-9_]` (and `:` for metric
/// names) become `_`, and a leading digit gets a `_` in front.
pub(crate) fn valid_name(s: &str, colon: bool) -> String {
    let mut out: String = s
        .chars()
        .map(|c| if c.is_ascii_alphanumeric() || c == '_' || (colon && c == ':') { c } else { '_' })
        .collect();
    if out.starts_with(|c: char| c.is_ascii_digit()) {
        out.insert(0, '_');
    }
    out
}

/// A label value with control characters other than the line feed (which the encoder
/// escapes) replaced.
pub(crate) fn label_value(s: &str) -> Cow<'_, str> {
    let bad = |c: char| c.is_control() && c != '\n';
    if s.contains(bad) {
        Cow::Owned(s.chars().map(|c| if bad(c) { '\u{fffd}' } else { c }).collect())
    } else {
        Cow::Borrowed(s)
    }
}

/// One function's series.
#[derive(Debug)]
struct Row {
    function: String,
    /// Calls per bound (not cumulative): `BOUNDS` finite bounds, then `+Inf`.
    buckets: [u64; BOUNDS + 1],
    count: u64,
    sum_ns: u128,
    errors: u64,
    cancelled: u64,
    self_ns: u128,
}

impl Row {
    fn new(function: String) -> Self {
        Self {
            function,
            buckets: [0; BOUNDS + 1],
            count: 0,
            sum_ns: 0,
            errors: 0,
            cancelled: 0,
            self_ns: 0,
        }
    }

    fn add(&mut self, f: &FunctionStats) {
        for &(index, n) in f.histogram.raw_buckets() {
            let highest = histogram::highest_value(index as usize);
            // The first bound 2^k − 1 at or above the bucket's highest value.
            let bits = (u64::BITS - highest.leading_zeros()).max(FIRST_BOUND_BITS);
            let slot =
                if bits > LAST_BOUND_BITS { BOUNDS } else { (bits - FIRST_BOUND_BITS) as usize };
            self.buckets[slot] = self.buckets[slot].saturating_add(n);
        }
        // Calls past the one-hour range are recorded at one hour: they belong in +Inf only.
        let top = (u64::BITS - crate::MAX_TRACKABLE_NS.leading_zeros() - FIRST_BOUND_BITS) as usize;
        let clamped = f.clamped.min(self.buckets[top]);
        self.buckets[top] -= clamped;
        self.buckets[BOUNDS] = self.buckets[BOUNDS].saturating_add(clamped);
        self.count = self.count.saturating_add(f.histogram.len());
        self.sum_ns += u128::from(f.total_ns);
        self.errors = self.errors.saturating_add(f.errors);
        self.cancelled = self.cancelled.saturating_add(f.cancelled);
        self.self_ns += u128::from(f.self_ns);
    }
}

fn seconds(ns: u128) -> f64 {
    ns as f64 / 1e9
}

/// The snapshot as OpenMetrics text (which Prometheus scrapes with the content type
/// `application/openmetrics-text; version=1.0.0; charset=utf-8`), ending in `# EOF`, or in
/// Prometheus' classic text format, as `options` choose ([`ExpositionFormat`]).
///
/// # Metrics
/// With the default namespace `perfcore`, per function (label `function="<name>"`):
/// - `perfcore_function_duration_seconds` (histogram): `_bucket{le=..}`, `_sum`, `_count`;
/// - `perfcore_function_errors_total`, `perfcore_function_cancelled_total` (counters);
/// - `perfcore_function_self_seconds_total` (counter): the function's self time.
///
/// # Buckets
/// The `le` bounds are fixed, so series from many processes aggregate: `2^k − 1` ns for
/// `k = 10..=42`, i.e. 1.023 µs, 2.047 µs, …, about 2,199 s and 4,398 s, then `+Inf`. A
/// bucket `le="(2^k − 1) ns"` counts the calls shorter than `2^k` ns. Every one of perfcore's
/// histogram buckets lies wholly below or wholly above each of these bounds (its buckets
/// split powers of two evenly), so the cumulative counts are exact, not estimated. Calls
/// longer than perfcore's one-hour range ([`FunctionStats::clamped`](crate::FunctionStats))
/// count only in `+Inf`.
///
/// `_sum` is the function's `total_ns` in seconds: for a recursive function, the time of its
/// outermost calls (see [`FunctionStats`](crate::FunctionStats)).
///
/// # Names
/// Function names become label values as they are (the encoder escapes `\`, `"` and line
/// feeds); other control characters become U+FFFD. Functions with the same name (from two
/// modules) are one series: their figures add up. The namespace and const-label names are
/// made valid names (other characters become `_`); a const label named `function` or `le`
/// is renamed `exported_function` / `exported_le`.
///
/// # Examples
/// ```
/// use perfcore::report::{PrometheusOptions, to_prometheus_text};
/// let snap = perfcore::Snapshot::from_functions(
///     vec![perfcore::FunctionStats::from_durations("load", [1_500, 3_000])], 0, 1_000);
/// let text = to_prometheus_text(&snap, &PrometheusOptions::new());
/// assert!(text.contains(r#"perfcore_function_duration_seconds_count{function="load"} 2"#));
/// assert!(text.contains(r#"perfcore_function_duration_seconds_bucket{le="0.000002047",function="load"} 1"#));
/// assert!(text.ends_with("# EOF\n"));
/// ```
#[must_use]
pub fn to_prometheus_text(snap: &Snapshot, options: &PrometheusOptions) -> String {
    encode(snap, Vec::new(), options)
}

/// One row per distinct function name (as a label value), in first-seen order.
fn rows(snap: &Snapshot) -> Vec<Row> {
    let mut rows: Vec<Row> = Vec::new();
    let mut by_name: HashMap<Cow<'_, str>, usize> = HashMap::new();
    for f in &snap.functions {
        let name = label_value(&f.name);
        let i = *by_name.entry(name).or_insert_with_key(|name| {
            rows.push(Row::new(name.clone().into_owned()));
            rows.len() - 1
        });
        rows[i].add(f);
    }
    rows
}

/// The const labels as written: names made valid (`function` and `le` renamed), values
/// cleaned of control characters.
fn const_labels(options: &PrometheusOptions) -> Vec<(String, String)> {
    let labels = options.const_labels.iter().map(|(k, v)| {
        let mut k = valid_name(k, false);
        if k == "function" || k == "le" {
            k.insert_str(0, "exported_");
        }
        (k, label_value(v).into_owned())
    });
    labels.collect()
}

/// A registry with the options' prefix and const labels.
fn registry(options: &PrometheusOptions) -> Registry {
    let labels = const_labels(options).into_iter().map(|(k, v)| (Cow::Owned(k), Cow::Owned(v)));
    if options.namespace.is_empty() {
        Registry::with_labels(labels)
    } else {
        Registry::with_prefix_and_labels(valid_name(&options.namespace, true), labels)
    }
}

/// The snapshot's series and `extra` collectors' (the monitor's observations) in one
/// exposition, under one namespace and set of const labels.
///
/// The function families, which are nearly all of the text (36 lines a function), are
/// written here directly: each bucket bound and each function's label set is formatted once
/// rather than once a line, which makes a scrape of many functions several times cheaper
/// than through prometheus-client's generic encoder. The text is byte for byte what that
/// encoder writes (a property test holds the two together); the few `extra` families still go
/// through it.
pub(crate) fn encode(
    snap: &Snapshot,
    extra: Vec<Box<dyn Collector>>,
    options: &PrometheusOptions,
) -> String {
    let rows = rows(snap);
    let mut out = String::with_capacity(rows.len() * 3 * 1024 + 1024);
    FunctionWriter::new(options).write(&mut out, &rows);
    let mut registry = registry(options);
    for collector in extra {
        registry.register_collector(collector);
    }
    encode_registry(&mut out, &registry, options.format);
    out
}

/// Appends `registry`'s text in `format` to `out`.
fn encode_registry(out: &mut String, registry: &Registry, format: ExpositionFormat) {
    // Writing to a String cannot fail, and a collector only fails when its writer does.
    let _ = match format {
        ExpositionFormat::OpenMetrics => prometheus_client::encoding::text::encode(out, registry),
        ExpositionFormat::Prometheus => {
            prometheus_client::encoding::prometheus_text::encode(out, registry)
        }
    };
}

/// Writes the function families in either text format.
struct FunctionWriter {
    format: ExpositionFormat,
    /// `perfcore_` (the namespace and its `_`), or nothing.
    prefix: String,
    /// `env="prod",` (escaped, each followed by a comma), or nothing.
    consts: String,
    /// The `le` values of the finite bounds, as the format writes them.
    bounds: [String; BOUNDS],
}

impl FunctionWriter {
    fn new(options: &PrometheusOptions) -> Self {
        let mut prefix = valid_name(&options.namespace, true);
        if !prefix.is_empty() {
            prefix.push('_');
        }
        let mut consts = String::new();
        for (k, v) in const_labels(options) {
            consts.push_str(&k);
            consts.push_str("=\"");
            escape_into(&mut consts, &v);
            consts.push_str("\",");
        }
        let bounds = std::array::from_fn(|k| {
            let bound = ((1u64 << (FIRST_BOUND_BITS as usize + k)) - 1) as f64 / 1e9;
            match options.format {
                ExpositionFormat::OpenMetrics => dtoa::Buffer::new().format(bound).to_owned(),
                ExpositionFormat::Prometheus => go_float(bound),
            }
        });
        Self { format: options.format, prefix, consts, bounds }
    }

    fn write(&self, out: &mut String, rows: &[Row]) {
        let openmetrics = self.format == ExpositionFormat::OpenMetrics;
        // `function="…"` for each row, escaped once.
        let functions: Vec<String> = rows
            .iter()
            .map(|r| {
                let mut f = String::with_capacity(r.function.len() + 12);
                f.push_str("function=\"");
                escape_into(&mut f, &r.function);
                f.push('"');
                f
            })
            .collect();
        let name = "function_duration_seconds";
        self.descriptor(
            out,
            name,
            "Wall time of the calls of each profiled function.",
            "histogram",
            true,
        );
        let mut itoa = itoa::Buffer::new();
        let mut dtoa = dtoa::Buffer::new();
        for (row, function) in rows.iter().zip(&functions) {
            let sum_and_count =
                |out: &mut String, itoa: &mut itoa::Buffer, dtoa: &mut dtoa::Buffer| {
                    self.sample_start(out, name, "_sum", function);
                    out.push_str(dtoa.format(seconds(row.sum_ns)));
                    out.push('\n');
                    self.sample_start(out, name, "_count", function);
                    out.push_str(itoa.format(row.count));
                    out.push('\n');
                };
            if openmetrics {
                sum_and_count(out, &mut itoa, &mut dtoa);
            }
            let mut cumulative = 0u64;
            for (k, &n) in row.buckets.iter().enumerate() {
                cumulative += n;
                let le = self.bounds.get(k).map_or("+Inf", String::as_str);
                out.push_str(&self.prefix);
                out.push_str(name);
                out.push_str("_bucket{");
                out.push_str(&self.consts);
                if openmetrics {
                    out.push_str("le=\"");
                    out.push_str(le);
                    out.push_str("\",");
                    out.push_str(function);
                } else {
                    out.push_str(function);
                    out.push_str(",le=\"");
                    out.push_str(le);
                    out.push('"');
                }
                out.push_str("} ");
                out.push_str(itoa.format(cumulative));
                out.push('\n');
            }
            if !openmetrics {
                sum_and_count(out, &mut itoa, &mut dtoa);
            }
        }
        // (family, help, in seconds, value)
        type Counter = (&'static str, &'static str, bool, fn(&Row) -> Value);
        let counters: [Counter; 3] = [
            ("function_errors", "Calls marked failed, or that panicked.", false, |r| {
                Value::Calls(r.errors)
            }),
            ("function_cancelled", "Async calls dropped before they completed.", false, |r| {
                Value::Calls(r.cancelled)
            }),
            (
                "function_self_seconds",
                "Self time: wall time minus the time spent in child scopes.",
                true,
                |r| Value::Seconds(seconds(r.self_ns)),
            ),
        ];
        enum Value {
            Calls(u64),
            Seconds(f64),
        }
        for (family, help, unit, value) in counters {
            // OpenMetrics names a counter family without `_total`; the classic format with it.
            let typed = if openmetrics { family.to_owned() } else { format!("{family}_total") };
            self.descriptor(out, &typed, help, "counter", unit);
            let sample = format!("{family}_total");
            for (row, function) in rows.iter().zip(&functions) {
                self.sample_start(out, &sample, "", function);
                match value(row) {
                    Value::Calls(n) => out.push_str(itoa.format(n)),
                    Value::Seconds(s) => out.push_str(dtoa.format(s)),
                }
                out.push('\n');
            }
        }
    }

    /// `# HELP`, `# TYPE` and, in OpenMetrics with a unit, `# UNIT` (always seconds here).
    fn descriptor(&self, out: &mut String, name: &str, help: &str, kind: &str, seconds: bool) {
        for (what, tail) in [("# HELP ", help), ("# TYPE ", kind)] {
            out.push_str(what);
            out.push_str(&self.prefix);
            out.push_str(name);
            out.push(' ');
            out.push_str(tail);
            out.push('\n');
        }
        if seconds && self.format == ExpositionFormat::OpenMetrics {
            out.push_str("# UNIT ");
            out.push_str(&self.prefix);
            out.push_str(name);
            out.push_str(" seconds\n");
        }
    }

    /// `<prefix><name><suffix>{<consts><function>} `, the value still to come.
    fn sample_start(&self, out: &mut String, name: &str, suffix: &str, function: &str) {
        out.push_str(&self.prefix);
        out.push_str(name);
        out.push_str(suffix);
        out.push('{');
        out.push_str(&self.consts);
        out.push_str(function);
        out.push_str("} ");
    }
}

/// A label value's escapes, as both text formats write them: `\\`, `\"` and `\n`.
fn escape_into(out: &mut String, value: &str) {
    for c in value.chars() {
        match c {
            '\\' => out.push_str("\\\\"),
            '"' => out.push_str("\\\""),
            '\n' => out.push_str("\\n"),
            c => out.push(c),
        }
    }
}

/// A bucket bound as the classic format writes `le` (Go's `strconv.FormatFloat(v, 'g', -1,
/// 64)`, as client_golang does): the shortest digits, in exponent form below 1e-4 with at
/// least two exponent digits (`1.023e-06`). The bounds here are all below 1e21.
fn go_float(v: f64) -> String {
    if v >= 1e-4 {
        return dtoa::Buffer::new().format(v).to_owned();
    }
    let e = format!("{v:e}"); // `1.023e-6`: Rust's shortest digits
    let (mantissa, exponent) = e.split_once('e').unwrap_or((&e, "0"));
    let exponent: i32 = exponent.parse().unwrap_or(0);
    let sign = if exponent < 0 { '-' } else { '+' };
    format!("{mantissa}e{sign}{:02}", exponent.unsigned_abs())
}

#[cfg(test)]
pub(crate) mod tests {
    use super::*;
    use proptest::prelude::*;

    /// prometheus-client's own encoding of the function families: the reference the direct
    /// writer must equal byte for byte.
    mod reference {
        use super::super::*;
        use prometheus_client::encoding::{DescriptorEncoder, EncodeMetric as _};
        use prometheus_client::metrics::MetricType;
        use prometheus_client::metrics::counter::ConstCounter;
        use prometheus_client::registry::Unit;

        /// The snapshot's series, one row per distinct function name, in first-seen order.
        #[derive(Debug)]
        pub(super) struct SnapshotCollector {
            pub(super) rows: Vec<Row>,
        }

        impl Collector for SnapshotCollector {
            fn encode(&self, mut encoder: DescriptorEncoder<'_>) -> Result<(), std::fmt::Error> {
                let mut bounds = [(0.0f64, 0u64); BOUNDS + 1];
                {
                    let mut metric = encoder.encode_descriptor(
                        "function_duration",
                        "Wall time of the calls of each profiled function.",
                        Some(&Unit::Seconds),
                        MetricType::Histogram,
                    )?;
                    for row in &self.rows {
                        for (k, b) in bounds.iter_mut().enumerate() {
                            let bound = if k == BOUNDS {
                                f64::INFINITY
                            } else {
                                ((1u64 << (FIRST_BOUND_BITS as usize + k)) - 1) as f64 / 1e9
                            };
                            *b = (bound, row.buckets[k]);
                        }
                        let labels = [("function", row.function.as_str())];
                        metric.encode_family(&labels)?.encode_histogram::<[(&str, &str); 0]>(
                            seconds(row.sum_ns),
                            row.count,
                            &bounds,
                            None,
                        )?;
                    }
                }
                type Value = fn(&Row) -> CounterValue;
                enum CounterValue {
                    Calls(u64),
                    Seconds(f64),
                }
                let counters: [(&str, &str, Option<Unit>, Value); 3] = [
                    ("function_errors", "Calls marked failed, or that panicked.", None, |r| {
                        CounterValue::Calls(r.errors)
                    }),
                    (
                        "function_cancelled",
                        "Async calls dropped before they completed.",
                        None,
                        |r| CounterValue::Calls(r.cancelled),
                    ),
                    (
                        "function_self",
                        "Self time: wall time minus the time spent in child scopes.",
                        Some(Unit::Seconds),
                        |r| CounterValue::Seconds(seconds(r.self_ns)),
                    ),
                ];
                for (name, help, unit, value) in &counters {
                    let kind = ConstCounter::new(0u64).metric_type();
                    let mut metric = encoder.encode_descriptor(name, help, unit.as_ref(), kind)?;
                    for row in &self.rows {
                        let labels = [("function", row.function.as_str())];
                        let family = metric.encode_family(&labels)?;
                        match value(row) {
                            CounterValue::Calls(n) => ConstCounter::new(n).encode(family)?,
                            CounterValue::Seconds(s) => ConstCounter::new(s).encode(family)?,
                        }
                    }
                }
                Ok(())
            }
        }

        pub(in super::super) fn encode(snap: &Snapshot, options: &PrometheusOptions) -> String {
            let mut registry = registry(options);
            registry.register_collector(Box::new(SnapshotCollector { rows: rows(snap) }));
            let mut out = String::new();
            encode_registry(&mut out, &registry, options.format);
            out
        }
    }

    /// One sample line: metric name, labels (unescaped), value.
    pub(crate) type Sample = (String, Vec<(String, String)>, f64);

    /// Reads the sample lines of a text exposition back, undoing the label escapes; panics
    /// on a line that is not valid.
    pub(crate) fn parse(text: &str) -> Vec<Sample> {
        let mut out = Vec::new();
        for line in text.lines() {
            if line.starts_with('#') {
                assert!(
                    line.starts_with("# HELP ")
                        || line.starts_with("# TYPE ")
                        || line.starts_with("# UNIT ")
                        || line == "# EOF",
                    "{line:?}"
                );
                continue;
            }
            let name_end = line.find(['{', ' ']).unwrap();
            let name = &line[..name_end];
            assert!(!name.is_empty() && valid_name(name, true) == name, "{line:?}");
            let mut labels = Vec::new();
            let mut rest = &line[name_end..];
            if let Some(r) = rest.strip_prefix('{') {
                rest = r;
                loop {
                    let eq = rest.find("=\"").unwrap();
                    let key = rest[..eq].to_owned();
                    let mut value = String::new();
                    let mut chars = rest[eq + 2..].char_indices();
                    let end = loop {
                        let (i, c) = chars.next().unwrap();
                        match c {
                            '"' => break eq + 2 + i + 1,
                            '\\' => match chars.next().unwrap().1 {
                                'n' => value.push('\n'),
                                c => value.push(c),
                            },
                            '\n' => panic!("raw line feed"),
                            c => value.push(c),
                        }
                    };
                    labels.push((key, value));
                    rest = &rest[end..];
                    if let Some(r) = rest.strip_prefix(',') {
                        rest = r;
                    } else {
                        rest = rest.strip_prefix('}').unwrap();
                        break;
                    }
                }
            }
            let value = rest.strip_prefix(' ').unwrap();
            let value = if value == "+Inf" { f64::INFINITY } else { value.parse().unwrap() };
            out.push((name.to_owned(), labels, value));
        }
        out
    }

    fn find<'a>(samples: &'a [Sample], name: &str, function: &str) -> Vec<&'a Sample> {
        samples
            .iter()
            .filter(|s| s.0 == name && s.1.iter().any(|(k, v)| k == "function" && v == function))
            .collect()
    }

    #[test]
    fn buckets_are_exact_cumulative_counts() {
        let durations = [0, 500, 1_023, 1_024, 2_047, 2_048, 1_000_000, 3_000_000_000];
        let f = FunctionStats::from_durations("f", durations);
        let snap = Snapshot::from_functions(vec![f], 0, 1);
        let text = to_prometheus_text(&snap, &PrometheusOptions::new());
        let samples = parse(&text);
        let buckets = find(&samples, "perfcore_function_duration_seconds_bucket", "f");
        assert_eq!(buckets.len(), BOUNDS + 1);
        for b in &buckets {
            let le = &b.1.iter().find(|(k, _)| k == "le").unwrap().1;
            let le: f64 = if le == "+Inf" { f64::INFINITY } else { le.parse().unwrap() };
            let exact = durations.iter().filter(|&&d| d as f64 / 1e9 <= le * (1.0 + 1e-12)).count();
            assert_eq!(b.2, exact as f64, "le={le}");
        }
        assert_eq!(find(&samples, "perfcore_function_duration_seconds_count", "f")[0].2, 8.0);
        let sum = find(&samples, "perfcore_function_duration_seconds_sum", "f")[0].2;
        assert!((sum - 3.001_006_642).abs() < 1e-9, "{sum}");
    }

    #[test]
    fn clamped_calls_count_only_in_inf() {
        let f = FunctionStats::from_durations("f", [u64::MAX, 10]);
        let snap = Snapshot::from_functions(vec![f], 0, 1);
        let samples = parse(&to_prometheus_text(&snap, &PrometheusOptions::new()));
        let buckets = find(&samples, "perfcore_function_duration_seconds_bucket", "f");
        assert_eq!(buckets[BOUNDS - 1].2, 1.0);
        assert_eq!(buckets[BOUNDS].2, 2.0);
    }

    #[test]
    fn options_name_and_label_everything() {
        let snap = Snapshot::from_functions(vec![FunctionStats::from_durations("f", [1])], 0, 1);
        let o = PrometheusOptions::new()
            .namespace("my app")
            .const_label("9zone", "eu\"1\"")
            .const_label("function", "x");
        let samples = parse(&to_prometheus_text(&snap, &o));
        let s = &find(&samples, "my_app_function_errors_total", "f")[0];
        assert!(s.1.contains(&("_9zone".to_owned(), "eu\"1\"".to_owned())));
        assert!(s.1.contains(&("exported_function".to_owned(), "x".to_owned())));
        let bare = parse(&to_prometheus_text(&snap, &PrometheusOptions::new().namespace("")));
        assert_eq!(find(&bare, "function_cancelled_total", "f").len(), 1);
    }

    #[test]
    fn same_names_are_one_series() {
        let mut a = FunctionStats::from_durations("f", [1, 2]);
        a.errors = 1;
        let mut b = FunctionStats::from_durations("f", [3]);
        b.module_path = "other".into();
        b.errors = 2;
        let snap = Snapshot::from_functions(vec![a, b], 0, 1);
        let samples = parse(&to_prometheus_text(&snap, &PrometheusOptions::new()));
        assert_eq!(find(&samples, "perfcore_function_errors_total", "f")[0].2, 3.0);
        assert_eq!(find(&samples, "perfcore_function_duration_seconds_count", "f")[0].2, 3.0);
    }

    /// The direct writer against prometheus-client's encoder on 1,000 functions, in the same
    /// process (a measurement, not a test: no timing is asserted).
    #[test]
    #[ignore = "a measurement: cargo test --release -p perfcore --features prometheus --lib measure_ -- --ignored --nocapture"]
    fn measure_function_families() {
        let functions: Vec<FunctionStats> = (0..1_000u64)
            .map(|f| {
                let durations = (0..50u64).map(|i| 1_000 + (i % 5) * 40_000 + f * 13);
                FunctionStats::from_durations(&format!("service::handler_{f:04}"), durations)
            })
            .collect();
        let snap = Snapshot::from_functions(functions, 0, 1);
        for format in [ExpositionFormat::OpenMetrics, ExpositionFormat::Prometheus] {
            let options = PrometheusOptions::new().const_label("service", "shop").format(format);
            let time = |encode: &dyn Fn() -> String| {
                let n = 20u32;
                let start = std::time::Instant::now();
                let mut bytes = 0;
                for _ in 0..n {
                    bytes = std::hint::black_box(encode()).len();
                }
                (start.elapsed() / n, bytes)
            };
            let (direct, bytes) = time(&|| to_prometheus_text(&snap, &options));
            let (generic, same) = time(&|| reference::encode(&snap, &options));
            assert_eq!(bytes, same);
            println!(
                "{format:?}, 1,000 functions, {bytes} bytes: direct {direct:?}, prometheus-client {generic:?} ({:.1}x)",
                generic.as_secs_f64() / direct.as_secs_f64()
            );
        }
    }

    proptest! {
        #[test]
        fn the_direct_writer_writes_what_prometheus_client_writes(
            names in prop::collection::vec(any::<String>(), 0..5),
            calls in prop::collection::vec(prop::collection::vec(0u64..10_000_000_000_000, 0..20), 1..5),
            errors in 0u64..1_000,
            namespace in prop_oneof![Just(String::new()), Just("perfcore".to_owned()), any::<String>()],
            labels in prop::collection::vec((any::<String>(), any::<String>()), 0..3),
            classic in any::<bool>(),
        ) {
            let functions: Vec<FunctionStats> = names
                .iter()
                .zip(calls.iter().cycle())
                .map(|(n, d)| {
                    let mut f = FunctionStats::from_durations(n, d.iter().copied());
                    f.errors = errors.min(f.count);
                    f.cancelled = errors / 3;
                    f
                })
                .collect();
            let snap = Snapshot::from_functions(functions, 0, 1);
            let format = if classic { ExpositionFormat::Prometheus } else { ExpositionFormat::OpenMetrics };
            let mut options = PrometheusOptions::new().namespace(namespace).format(format);
            for (k, v) in labels {
                options = options.const_label(k, v);
            }
            prop_assert_eq!(to_prometheus_text(&snap, &options), reference::encode(&snap, &options));
        }

        #[test]
        fn any_names_keep_the_text_valid_and_the_figures(
            names in prop::collection::vec(any::<String>(), 1..6),
            calls in prop::collection::vec(prop::collection::vec(0u64..10_000_000_000, 0..20), 1..6),
            classic in any::<bool>(),
        ) {
            let functions: Vec<FunctionStats> = names
                .iter()
                .zip(calls.iter().cycle())
                .map(|(n, d)| FunctionStats::from_durations(n, d.iter().copied()))
                .collect();
            let snap = Snapshot::from_functions(functions, 0, 1);
            let format = if classic { ExpositionFormat::Prometheus } else { ExpositionFormat::OpenMetrics };
            let samples = parse(&to_prometheus_text(&snap, &PrometheusOptions::new().format(format)));
            for f in &snap.functions {
                let label = label_value(&f.name);
                let same: Vec<&FunctionStats> =
                    snap.functions.iter().filter(|g| label_value(&g.name) == label).collect();
                let count: u64 = same.iter().map(|g| g.count).sum();
                let self_ns: u64 = same.iter().map(|g| g.self_ns).sum();
                let c = find(&samples, "perfcore_function_duration_seconds_count", &label);
                prop_assert_eq!(c.len(), 1);
                prop_assert_eq!(c[0].2, count as f64);
                let s = find(&samples, "perfcore_function_self_seconds_total", &label)[0].2;
                prop_assert!((s - self_ns as f64 / 1e9).abs() <= 1e-9 * s.max(1.0));
                let b = find(&samples, "perfcore_function_duration_seconds_bucket", &label);
                prop_assert_eq!(b.len(), BOUNDS + 1);
                prop_assert!(b.windows(2).all(|w| w[0].2 <= w[1].2));
                prop_assert_eq!(b[BOUNDS].2, count as f64);
            }
        }
    }
}
