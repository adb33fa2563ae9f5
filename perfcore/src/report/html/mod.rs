//! The self-contained HTML report: one file with its CSS, JavaScript and data inline, so it
//! opens offline, from a CI artifact or an e-mail attachment, and fetches nothing.
//!
//! # What it shows
//! - A summary ([`performance_summary`]): the window, calls, errors, profiled wall and self
//!   time, memory when allocations were tracked; the hotspots ([`identify_hotspots`]) and
//!   recommendations ([`generate_recommendations`](crate::analysis::generate_recommendations))
//!   with their evidence and impact.
//! - The comparison with a baseline, when [`HtmlOptions::comparison`] gives one: each
//!   function's verdict, deciding metric, change, interval and p/q values, regressions first.
//! - A flamegraph of the call tree (drawn by the page's own code, in SVG): width is a node's
//!   wall time; hover for its figures, click to zoom, search to highlight frames. Frames
//!   narrower than half a pixel are not drawn, so 100,000 nodes draw quickly.
//! - A table of every function, sortable by any column and filtered by name, rendered 200
//!   rows at a time; clicking a row shows that function's latency histogram (log-scale axis,
//!   p50/p95/p99 marked).
//!
//! # Data and escaping
//! Server-side text (titles, hotspots, recommendations) is HTML-escaped. The figures the
//! scripts need are one JSON document in a `<script type="application/json">` element, in
//! columns (an array per field) with function names stored once and call-tree nodes
//! referring to them by index; `<`, `>`, `&`, U+2028 and U+2029 are written as `\u` escapes,
//! so no function name can close the element. 100,000 call-tree nodes take about 3–4 MB.
//!
//! # Examples
//! ```
//! use perfcore::report::html::{HtmlOptions, to_html};
//! use perfcore::{FunctionStats, Snapshot};
//!
//! let snap = Snapshot::from_functions(
//!     vec![FunctionStats::from_durations("parse", [1_000, 2_000, 4_000])],
//!     0,
//!     1_000_000_000,
//! );
//! let page = to_html(&snap, &HtmlOptions::default().title("nightly run".to_string()));
//! assert!(page.starts_with("<!DOCTYPE html>"));
//! assert!(page.contains("nightly run") && page.contains("parse"));
//! assert!(!page.contains("http://") && !page.contains("https://")); // nothing to fetch
//! ```

use std::fmt::Write as _;
use std::io;

use serde::Serialize;

use super::ReportError;
use crate::Snapshot;
use crate::analysis::{
    Evidence, HotspotOptions, RecommendationOptions, Unit, identify_hotspots, performance_summary,
    recommendations_from,
};
use crate::regress::Comparison;
use crate::stats::fmt_unix_ns as utc;

#[cfg(test)]
mod tests;

/// The page's style sheet.
const CSS: &str = include_str!("report.css");
/// The page's script: table, flamegraph, histogram, comparison.
const JS: &str = include_str!("report.js");

/// Hotspots and recommendations listed at most (the rest are counted).
const MAX_FINDINGS: usize = 50;

/// What goes into an HTML report besides the snapshot.
///
/// # Examples
/// ```
/// use perfcore::report::html::HtmlOptions;
/// use perfcore::regress::{CompareOptions, compare};
/// # let snap = perfcore::Snapshot::default();
/// let options = HtmlOptions::default()
///     .title("api-server, commit abc123".to_string())
///     .comparison(compare(&snap, &snap, &[], &CompareOptions::default()))
///     .baseline_name("main".to_string());
/// assert!(perfcore::report::html::to_html(&snap, &options).contains("main"));
/// ```
#[derive(Clone, Debug, Default)]
pub struct HtmlOptions {
    title: Option<String>,
    comparison: Option<Comparison>,
    baseline_name: Option<String>,
    #[cfg(feature = "cost")]
    price: Option<crate::cost::Price>,
}

impl HtmlOptions {
    /// The page's title (default `perfcore report`).
    ///
    /// # Examples
    /// ```
    /// # use perfcore::report::html::*;
    /// let page = to_html(&perfcore::Snapshot::default(), &HtmlOptions::default().title("<b>"));
    /// assert!(page.contains("<title>&lt;b&gt;</title>"));
    /// ```
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = Some(title.into());
        self
    }

    /// A comparison of a baseline with this snapshot ([`crate::regress::compare`]), shown
    /// as a table of verdicts and in the summary.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::report::html::*;
    /// # use perfcore::regress::{CompareOptions, compare};
    /// let snap = perfcore::Snapshot::default();
    /// let cmp = compare(&snap, &snap, &[], &CompareOptions::default());
    /// let page = to_html(&snap, &HtmlOptions::default().comparison(cmp));
    /// assert!(page.contains("id=\"comparison\""));
    /// ```
    #[must_use]
    pub fn comparison(mut self, comparison: Comparison) -> Self {
        self.comparison = Some(comparison);
        self
    }

    /// The name of the baseline the comparison is against (default `baseline`).
    ///
    /// # Examples
    /// ```
    /// # use perfcore::report::html::*;
    /// let page = to_html(&perfcore::Snapshot::default(), &HtmlOptions::default().baseline_name("v1.2"));
    /// assert!(!page.contains("v1.2")); // shown only with a comparison
    /// ```
    #[must_use]
    pub fn baseline_name(mut self, name: impl Into<String>) -> Self {
        self.baseline_name = Some(name.into());
        self
    }

    /// Adds a table of what each function costs at `price` ([`crate::cost::function_costs`]).
    ///
    /// # Examples
    /// ```
    /// # use perfcore::report::html::*;
    /// let price = perfcore::cost::Price::per_vcpu_hour("0.048".parse().unwrap());
    /// let page = to_html(&perfcore::Snapshot::default(), &HtmlOptions::default().function_costs(price));
    /// assert!(page.contains("id=\"costs\""));
    /// ```
    #[cfg(feature = "cost")]
    #[must_use]
    pub fn function_costs(mut self, price: crate::cost::Price) -> Self {
        self.price = Some(price);
        self
    }
}

/// The section of function costs: the 30 most costly, per call, per million calls, per month.
#[cfg(feature = "cost")]
fn costs_section(out: &mut String, snap: &Snapshot, price: &crate::cost::Price) {
    use std::fmt::Write as _;
    let fmt = crate::cost::function_cost_money;
    let _ = write!(
        out,
        "<section id=\"costs\"><h2>Cost of each function</h2><p class=\"note\">{}.</p>",
        escaped(&price.describe())
    );
    match crate::cost::function_costs(snap, price) {
        Err(e) => {
            let _ = write!(out, "<p>{}</p>", escaped(&e.to_string()));
        }
        Ok(costs) => {
            out.push_str("<table><thead><tr><th>function</th><th class=\"num\">calls</th><th class=\"num\">per call</th><th class=\"num\">per 1M calls</th><th class=\"num\">per month</th><th class=\"num\">in this profile</th></tr></thead><tbody>");
            for c in costs.iter().take(30) {
                let _ = write!(
                    out,
                    "<tr><td><code>{}</code></td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td><td class=\"num\">{}</td></tr>",
                    escaped(&c.name),
                    c.calls,
                    escaped(&fmt(&c.cost_per_call)),
                    escaped(&fmt(&c.cost_per_million_calls)),
                    escaped(&c.monthly_cost.as_ref().map_or_else(|| "-".to_owned(), fmt)),
                    escaped(&fmt(&c.total_cost)),
                );
            }
            out.push_str("</tbody></table>");
        }
    }
    out.push_str("</section>\n");
}

/// The report of `snap` as one self-contained HTML page.
///
/// # Examples
/// ```
/// use perfcore::report::html::{HtmlOptions, to_html};
/// let p = perfcore::PerformanceProfiler::new();
/// {
///     let _outer = p.scope("handle")?;
///     let _inner = p.scope("query </script>")?;
/// }
/// let page = to_html(&p.snapshot(), &HtmlOptions::default());
/// assert_eq!(page.matches("</script>").count(), 2); // the page's own two elements
/// # Ok::<(), perfcore::ProfileError>(())
/// ```
#[must_use]
pub fn to_html(snap: &Snapshot, options: &HtmlOptions) -> String {
    let data = page_data(snap, options);
    let json = script_safe_json(&data);
    let mut out = String::with_capacity(json.len() + CSS.len() + JS.len() + 32 * 1024);
    let title = options.title.as_deref().unwrap_or("perfcore report");
    out.push_str("<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n");
    out.push_str("<meta name=\"viewport\" content=\"width=device-width, initial-scale=1\">\n");
    out.push_str("<meta name=\"generator\" content=\"perfcore ");
    out.push_str(env!("CARGO_PKG_VERSION"));
    out.push_str("\">\n<title>");
    escape_into(&mut out, title);
    out.push_str("</title>\n<style>\n");
    out.push_str(CSS);
    out.push_str("</style>\n</head>\n<body>\n");
    header(&mut out, snap, title);
    out.push_str("<main>\n");
    summary_section(&mut out, snap, options);
    findings_section(&mut out, snap);
    #[cfg(feature = "cost")]
    if let Some(price) = &options.price {
        costs_section(&mut out, snap, price);
    }
    if options.comparison.is_some() {
        comparison_section(&mut out, options);
    }
    flame_section(&mut out);
    functions_section(&mut out);
    out.push_str("</main>\n<footer>Generated by perfcore ");
    out.push_str(env!("CARGO_PKG_VERSION"));
    out.push_str(". Self time excludes child scopes; shares are of the total self time. ");
    out.push_str("Hotspots and recommendations are heuristics.</footer>\n");
    out.push_str("<script type=\"application/json\" id=\"perfcore-data\">");
    out.push_str(&json);
    out.push_str("</script>\n<script>\n");
    out.push_str(JS);
    out.push_str("</script>\n</body>\n</html>\n");
    out
}

/// Writes the report of `snap` ([`to_html`]) to `out`.
///
/// # Errors
/// [`ReportError::Io`] when `out` fails.
///
/// # Examples
/// ```
/// use perfcore::report::html::{HtmlOptions, write_html};
/// let mut page = Vec::new();
/// write_html(&perfcore::Snapshot::default(), &HtmlOptions::default(), &mut page)?;
/// assert!(page.starts_with(b"<!DOCTYPE html>"));
/// # Ok::<(), perfcore::report::ReportError>(())
/// ```
pub fn write_html(
    snap: &Snapshot,
    options: &HtmlOptions,
    mut out: impl io::Write,
) -> Result<(), ReportError> {
    out.write_all(to_html(snap, options).as_bytes())?;
    out.flush()?;
    Ok(())
}

/// Everything the script reads, in columns.
#[derive(Serialize)]
struct PageData<'a> {
    /// The sum of every function's self time, ns (what self shares are of).
    total_self_ns: u64,
    functions: FunctionColumns<'a>,
    tree: TreeColumns,
    comparison: Option<ComparisonColumns<'a>>,
}

/// One array per field, indexed by function.
#[derive(Serialize, Default)]
struct FunctionColumns<'a> {
    name: Vec<&'a str>,
    module: Vec<&'a str>,
    file: Vec<&'a str>,
    line: Vec<u32>,
    calls: Vec<u64>,
    errors: Vec<u64>,
    total: Vec<u64>,
    #[serde(rename = "self")]
    self_ns: Vec<u64>,
    mean: Vec<f64>,
    min: Vec<u64>,
    p50: Vec<u64>,
    p95: Vec<u64>,
    p99: Vec<u64>,
    max: Vec<u64>,
    /// Bytes allocated per call (children included), `null` without allocation figures.
    bytes_per_call: Vec<Option<f64>>,
    /// Each function's non-empty buckets, flattened: lowest value, count, lowest value, ...
    histogram: Vec<Vec<u64>>,
}

/// The call tree, one array per field, indexed by node.
#[derive(Serialize, Default)]
struct TreeColumns {
    /// Index into the function columns.
    function: Vec<usize>,
    /// How far back the parent is (`node - parent`), 0 at a root: small numbers.
    parent_back: Vec<usize>,
    calls: Vec<u64>,
    total: Vec<u64>,
    #[serde(rename = "self")]
    self_ns: Vec<u64>,
}

/// The comparison, one array per field, indexed by compared function (worst first).
#[derive(Serialize, Default)]
struct ComparisonColumns<'a> {
    baseline: &'a str,
    function: Vec<&'a str>,
    verdict: Vec<&'static str>,
    regression: Vec<bool>,
    metric: Vec<Option<&'static str>>,
    change: Vec<Option<f64>>,
    low: Vec<Option<f64>>,
    high: Vec<Option<f64>>,
    /// The headline metric's values: ns for latencies, a fraction, or bytes (see `metric`).
    before: Vec<Option<f64>>,
    after: Vec<Option<f64>>,
    p: Vec<f64>,
    q: Vec<f64>,
    baseline_calls: Vec<u64>,
    current_calls: Vec<u64>,
    reason: Vec<&'a str>,
}

/// A figure rounded to a tenth, so the JSON does not carry 17 digits of noise.
fn tenth(v: f64) -> f64 {
    (v * 10.0).round() / 10.0
}

fn page_data<'a>(snap: &'a Snapshot, options: &'a HtmlOptions) -> PageData<'a> {
    let mut f = FunctionColumns::default();
    for s in &snap.functions {
        f.name.push(&s.name);
        f.module.push(&s.module_path);
        f.file.push(&s.file);
        f.line.push(s.line);
        f.calls.push(s.count);
        f.errors.push(s.errors);
        f.total.push(s.total_ns);
        f.self_ns.push(s.self_ns);
        f.mean.push(tenth(s.mean_ns));
        f.min.push(s.min_ns);
        f.p50.push(s.p50_ns);
        f.p95.push(s.p95_ns);
        f.p99.push(s.p99_ns);
        f.max.push(s.max_ns);
        f.bytes_per_call.push(
            s.allocations
                .as_ref()
                .filter(|a| a.calls > 0)
                .map(|a| tenth(a.allocated_bytes as f64 / a.calls as f64)),
        );
        f.histogram.push(s.histogram.buckets().flat_map(|(v, n)| [v, n]).collect());
    }
    let mut t = TreeColumns::default();
    let n_functions = snap.functions.len();
    for (i, node) in snap.call_tree.iter().enumerate() {
        // A node naming no function, or a parent not before it, is bad input: drop the
        // link rather than draw a cycle.
        if node.function >= n_functions {
            continue;
        }
        let back = match node.parent {
            Some(p) if p < i => i - p,
            _ => 0,
        };
        t.function.push(node.function);
        t.parent_back.push(back);
        t.calls.push(node.count);
        t.total.push(node.total_ns);
        t.self_ns.push(node.self_ns);
    }
    if t.function.len() != snap.call_tree.len() {
        // Indices moved: the parent links are no longer valid, keep only the roots.
        t.parent_back.iter_mut().for_each(|b| *b = 0);
    }
    let comparison = options.comparison.as_ref().map(|c| comparison_columns(c, options));
    let total_self_ns = snap.functions.iter().fold(0u64, |n, s| n.saturating_add(s.self_ns));
    PageData { total_self_ns, functions: f, tree: t, comparison }
}

fn comparison_columns<'a>(c: &'a Comparison, options: &'a HtmlOptions) -> ComparisonColumns<'a> {
    let finite = |v: f64| v.is_finite().then_some(v);
    let mut out = ComparisonColumns {
        baseline: options.baseline_name.as_deref().unwrap_or("baseline"),
        ..ComparisonColumns::default()
    };
    for fc in &c.functions {
        let head = fc.headline();
        out.function.push(&fc.function);
        out.verdict.push(fc.verdict.name());
        out.regression.push(fc.verdict.is_regression());
        out.metric.push(head.map(|m| m.metric.name()));
        out.change.push(head.and_then(|m| finite(m.change_percent)));
        out.low.push(head.and_then(|m| finite(m.interval_percent[0])));
        out.high.push(head.and_then(|m| finite(m.interval_percent[1])));
        out.before.push(head.and_then(|m| finite(m.baseline)));
        out.after.push(head.and_then(|m| finite(m.current)));
        out.p.push(fc.p_value);
        out.q.push(fc.q_value);
        out.baseline_calls.push(fc.baseline_calls);
        out.current_calls.push(fc.current_calls);
        out.reason.push(&fc.reason);
    }
    out
}

/// `data` as JSON that cannot end the `<script>` element it sits in, nor break a JavaScript
/// parser: `<`, `>`, `&`, U+2028 and U+2029 (which only occur inside strings) as `\u`
/// escapes.
fn script_safe_json(data: &impl Serialize) -> String {
    // Serialising plain strings, numbers and vectors cannot fail; `null` is a safe fallback.
    let raw = serde_json::to_string(data).unwrap_or_else(|_| "null".to_owned());
    if !raw.contains(['<', '>', '&', '\u{2028}', '\u{2029}']) {
        return raw;
    }
    let mut out = String::with_capacity(raw.len() + 64);
    for c in raw.chars() {
        match c {
            '<' => out.push_str("\\u003c"),
            '>' => out.push_str("\\u003e"),
            '&' => out.push_str("\\u0026"),
            '\u{2028}' => out.push_str("\\u2028"),
            '\u{2029}' => out.push_str("\\u2029"),
            c => out.push(c),
        }
    }
    out
}

/// Appends `text` escaped for HTML text and attribute values.
fn escape_into(out: &mut String, text: &str) {
    for c in text.chars() {
        match c {
            '&' => out.push_str("&amp;"),
            '<' => out.push_str("&lt;"),
            '>' => out.push_str("&gt;"),
            '"' => out.push_str("&quot;"),
            '\'' => out.push_str("&#39;"),
            c => out.push(c),
        }
    }
}

pub(crate) fn escaped(text: &str) -> String {
    let mut s = String::with_capacity(text.len());
    escape_into(&mut s, text);
    s
}

/// Escaped text whose `quoted` parts (function names in the rules' sentences) become
/// `<code>`; an unpaired backtick stays as it is.
fn with_code_spans(escaped: &str) -> String {
    let parts: Vec<&str> = escaped.split('`').collect();
    if parts.len().is_multiple_of(2) {
        return escaped.to_owned();
    }
    let mut out = String::with_capacity(escaped.len() + 16);
    for (i, part) in parts.iter().enumerate() {
        if i % 2 == 1 {
            let _ = write!(out, "<code>{part}</code>");
        } else {
            out.push_str(part);
        }
    }
    out
}

fn ns(v: u64) -> String {
    Unit::Nanoseconds.format(v as f64)
}

fn header(out: &mut String, snap: &Snapshot, title: &str) {
    out.push_str("<header>\n<div class=\"brand\"><span class=\"logo\" aria-hidden=\"true\">");
    out.push_str("<svg viewBox=\"0 0 24 24\" width=\"22\" height=\"22\"><rect x=\"2\" y=\"16\" ");
    out.push_str("width=\"20\" height=\"5\" rx=\"1\" fill=\"#d9480f\"/><rect x=\"2\" y=\"10\" ");
    out.push_str("width=\"13\" height=\"5\" rx=\"1\" fill=\"#f76707\"/><rect x=\"16\" y=\"10\" ");
    out.push_str("width=\"6\" height=\"5\" rx=\"1\" fill=\"#fab005\"/><rect x=\"2\" y=\"4\" ");
    out.push_str("width=\"8\" height=\"5\" rx=\"1\" fill=\"#ffa94d\"/></svg></span>");
    out.push_str("<h1>");
    escape_into(out, title);
    out.push_str("</h1></div>\n<div class=\"meta\">");
    if snap.ended_unix_ns > 0 {
        let _ = write!(
            out,
            "{} → {} · {} window",
            utc(snap.started_unix_ns),
            utc(snap.ended_unix_ns),
            ns(snap.ended_unix_ns.saturating_sub(snap.started_unix_ns))
        );
    } else {
        out.push_str("no time window recorded");
    }
    out.push_str("</div>\n</header>\n");
}

/// One figure of the summary's grid.
fn card(out: &mut String, id: &str, label: &str, value: &str, note: &str) {
    let _ = writeln!(
        out,
        "<div class=\"card\" data-testid=\"summary-{id}\"><div class=\"label\">{label}</div>\
         <div class=\"value\">{}</div><div class=\"note\">{}</div></div>",
        escaped(value),
        escaped(note)
    );
}

fn summary_section(out: &mut String, snap: &Snapshot, options: &HtmlOptions) {
    let s = performance_summary(snap, options.comparison.as_ref());
    let pct = |v: f64| Unit::Fraction.format(v);
    out.push_str("<section id=\"summary\" data-testid=\"summary\">\n<h2>Summary</h2>\n");
    out.push_str("<div class=\"cards\">\n");
    card(
        out,
        "window",
        "Window",
        &ns(s.window_ns),
        &format!("{} functions", group_digits(s.functions as u64)),
    );
    let rate = if s.window_ns > 0 {
        format!("{:.1} calls/s", s.total_calls as f64 * 1e9 / s.window_ns as f64)
    } else {
        String::new()
    };
    card(out, "calls", "Calls", &group_digits(s.total_calls), &rate);
    card(
        out,
        "errors",
        "Error rate",
        &pct(s.error_rate),
        &format!("{} failed calls", group_digits(s.total_errors)),
    );
    card(out, "wall", "Profiled wall time", &ns(s.profiled_wall_ns), "root scopes, all threads");
    card(out, "self", "Self time", &ns(s.total_self_ns), "sum over functions");
    if let Some(m) = &s.memory {
        let note = match &m.top_allocator {
            Some(top) => {
                format!("most by {top} ({})", Unit::Bytes.format(m.top_allocator_bytes as f64))
            }
            None => format!("{} functions tracked", m.tracked_functions),
        };
        card(out, "memory", "Allocated", &Unit::Bytes.format(m.allocated_bytes as f64), &note);
    }
    if let Some(c) = &s.comparison {
        let regressed = c.regressions.len();
        let name = options.baseline_name.as_deref().unwrap_or("baseline");
        card(
            out,
            "regressions",
            "Regressions",
            &regressed.to_string(),
            &format!("of {} functions against {name}", c.functions),
        );
    }
    out.push_str("</div>\n");
    if !s.top_functions.is_empty() {
        out.push_str("<h3>Most self time</h3>\n<div class=\"bars\" data-testid=\"top-functions\">");
        for t in &s.top_functions {
            let _ = writeln!(
                out,
                "<div class=\"bar-row\"><span class=\"bar-name\" title=\"{name}\">{name}</span>\
                 <span class=\"bar-track\"><span class=\"bar-fill\" style=\"width:{w:.2}%\"></span>\
                 </span><span class=\"bar-value\">{share}</span><span class=\"bar-note\">{self_ns} \
                 · {calls} calls</span></div>",
                name = escaped(&t.name),
                w = (t.self_share * 100.0).clamp(0.0, 100.0),
                share = pct(t.self_share),
                self_ns = ns(t.self_ns),
                calls = group_digits(t.calls),
            );
        }
        out.push_str("</div>\n");
    }
    out.push_str("</section>\n");
}

fn group_digits(n: u64) -> String {
    let digits = n.to_string();
    let mut out = String::with_capacity(digits.len() + digits.len() / 3);
    for (i, c) in digits.chars().enumerate() {
        if i > 0 && (digits.len() - i).is_multiple_of(3) {
            out.push(',');
        }
        out.push(c);
    }
    out
}

fn evidence_list(out: &mut String, evidence: &[Evidence]) {
    out.push_str("<ul class=\"evidence\">");
    for e in evidence {
        out.push_str("<li>");
        escape_into(out, &e.to_string());
        out.push_str("</li>");
    }
    out.push_str("</ul>");
}

fn findings_section(out: &mut String, snap: &Snapshot) {
    let hotspots = identify_hotspots(snap, &HotspotOptions::default());
    let recs = recommendations_from(snap, &hotspots, &RecommendationOptions::default());
    out.push_str("<section id=\"findings\" class=\"two-col\">\n");
    out.push_str("<div data-testid=\"hotspots\"><h2>Hotspots</h2>\n");
    if hotspots.is_empty() {
        out.push_str("<p class=\"empty\">No hotspot past the default thresholds.</p>\n");
    }
    for h in hotspots.iter().take(MAX_FINDINGS) {
        let _ = write!(
            out,
            "<article class=\"finding sev-{sev}\" data-testid=\"hotspot\"><div class=\"finding-head\">\
             <span class=\"badge sev-{sev}\">{sev}</span><code class=\"fname\">{name}</code>",
            sev = h.severity.name(),
            name = escaped(&h.function),
        );
        if let Some(c) = &h.caller {
            let _ = write!(out, "<span class=\"caller\">under <code>{}</code></span>", escaped(c));
        }
        let _ = write!(
            out,
            "<span class=\"kind\">{} · {} of self time</span></div>",
            escaped(&h.kind.to_string()),
            Unit::Fraction.format(h.share_of_time)
        );
        evidence_list(out, &h.evidence);
        out.push_str("</article>\n");
    }
    more_note(out, hotspots.len());
    out.push_str("</div>\n<div data-testid=\"recommendations\"><h2>Recommendations</h2>\n");
    if recs.is_empty() {
        out.push_str("<p class=\"empty\">Nothing to recommend.</p>\n");
    }
    for r in recs.iter().take(MAX_FINDINGS) {
        let _ = write!(
            out,
            "<article class=\"finding sev-{sev}\" data-testid=\"recommendation\">\
             <div class=\"finding-head\"><span class=\"badge sev-{sev}\">{sev}</span>\
             <span class=\"rule\">{rule}</span><code class=\"fname\">{name}</code></div>\
             <p class=\"strategy\">{strategy}</p><p class=\"impact\"><b>Impact:</b> {impact}</p>",
            sev = r.severity.name(),
            rule = escaped(r.rule.title()),
            name = escaped(&r.function),
            strategy = with_code_spans(&escaped(&r.strategy)),
            impact = escaped(&r.impact.to_string()),
        );
        evidence_list(out, &r.evidence);
        out.push_str("</article>\n");
    }
    more_note(out, recs.len());
    out.push_str("</div>\n</section>\n");
}

fn more_note(out: &mut String, len: usize) {
    if len > MAX_FINDINGS {
        let _ = writeln!(
            out,
            "<p class=\"empty\">and {} more, each less severe or smaller than these</p>",
            len - MAX_FINDINGS
        );
    }
}

fn comparison_section(out: &mut String, options: &HtmlOptions) {
    out.push_str(
        "<section id=\"comparison\" data-testid=\"comparison\">\n<div class=\"section-head\">",
    );
    out.push_str("<h2>Against <span class=\"baseline-name\">");
    escape_into(out, options.baseline_name.as_deref().unwrap_or("baseline"));
    out.push_str("</span></h2><div class=\"tools\"><input type=\"search\" id=\"cmp-filter\" ");
    out.push_str("placeholder=\"Filter functions\" aria-label=\"Filter compared functions\">");
    out.push_str("<span class=\"count\" id=\"cmp-count\"></span></div></div>\n");
    out.push_str(
        "<div class=\"table-wrap\"><table id=\"cmp-table\" class=\"grid\"><thead></thead>",
    );
    out.push_str("<tbody></tbody></table></div>\n<button type=\"button\" class=\"more\" ");
    out.push_str("id=\"cmp-more\" hidden>Show more</button>\n</section>\n");
}

fn flame_section(out: &mut String) {
    out.push_str(
        "<section id=\"flame\" data-testid=\"flamegraph\">\n<div class=\"section-head\">\
         <h2>Call tree</h2><div class=\"tools\"><input type=\"search\" id=\"flame-search\" \
         placeholder=\"Highlight frames\" aria-label=\"Highlight frames by name\">\
         <span class=\"count\" id=\"flame-matches\"></span>\
         <button type=\"button\" id=\"flame-reset\">Reset zoom</button></div></div>\n\
         <div class=\"crumbs\" id=\"flame-crumbs\"></div>\n\
         <div class=\"flame-wrap\" id=\"flame-wrap\"><svg id=\"flame-svg\" \
         role=\"img\" aria-label=\"Flamegraph\"></svg>\
         <div class=\"tooltip\" id=\"flame-tip\" hidden></div></div>\n\
         <p class=\"hint\">Width is wall time, children below their caller, widest first. \
         Click a frame to zoom in; frames under half a pixel are not drawn.</p>\n</section>\n",
    );
}

fn functions_section(out: &mut String) {
    out.push_str(
        "<section id=\"functions\" data-testid=\"functions\">\n<div class=\"section-head\">\
         <h2>Functions</h2><div class=\"tools\"><input type=\"search\" id=\"fn-filter\" \
         placeholder=\"Filter by name\" aria-label=\"Filter functions by name\">\
         <span class=\"count\" id=\"fn-count\"></span></div></div>\n\
         <div class=\"fn-layout\"><div class=\"fn-main\"><div class=\"table-wrap\">\
         <table id=\"fn-table\" class=\"grid\"><thead></thead><tbody></tbody></table></div>\n\
         <button type=\"button\" class=\"more\" id=\"fn-more\" hidden>Show more</button></div>\n\
         <aside class=\"hist\" id=\"hist\" data-testid=\"histogram\"><h3 id=\"hist-title\">\
         Latency distribution</h3><div class=\"hist-sub\" id=\"hist-sub\">Click a row to see \
         its distribution.</div><svg id=\"hist-svg\" \
         role=\"img\" aria-label=\"Latency histogram\"></svg></aside></div>\n</section>\n\
         <noscript><p class=\"empty\">The table, call tree and histograms need JavaScript.</p>\
         </noscript>\n",
    );
}
