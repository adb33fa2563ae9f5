//! A comparison as a terminal table, as Markdown for a pull-request comment, and as JSON.

use std::fmt::{self, Write as _};

use super::{Comparison, FunctionComparison, Metric, MetricChange, Verdict};
use crate::stats::fmt_ns;

/// A metric's value in its unit (the command's history tables use it too).
pub(crate) fn fmt_value(metric: Metric, v: f64) -> String {
    match metric {
        Metric::ErrorRate => format!("{:.2}%", v * 100.0),
        Metric::BytesPerCall => format!("{v:.0} B"),
        _ => fmt_ns(v),
    }
}

fn change(m: &MetricChange) -> String {
    let unit = if m.metric == Metric::ErrorRate { " pt" } else { "%" };
    format!("{:+.1}{unit}", m.change_percent)
}

fn interval(m: &MetricChange) -> String {
    let unit = if m.metric == Metric::ErrorRate { " pt" } else { "%" };
    format!("{:+.1}{unit} … {:+.1}{unit}", m.interval_percent[0], m.interval_percent[1])
}

fn summary_line(c: &Comparison) -> String {
    let counts: Vec<String> = c.counts().iter().map(|(v, n)| format!("{n} {v}")).collect();
    if counts.is_empty() { "no functions".to_owned() } else { counts.join(", ") }
}

impl fmt::Display for Comparison {
    /// A table, worst first: verdict, function, metric, baseline, current, change, interval.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let width = self.functions.iter().map(|r| r.function.chars().count()).max().unwrap_or(8);
        let width = width.clamp(8, 60);
        writeln!(
            f,
            "{:<17} {:<width$} {:<14} {:>11} {:>11} {:>9} {:>21}",
            "verdict", "function", "metric", "baseline", "current", "change", "95% interval"
        )?;
        for r in &self.functions {
            let name: String = r.function.chars().take(width).collect();
            match r.headline() {
                Some(m) => writeln!(
                    f,
                    "{:<17} {name:<width$} {:<14} {:>11} {:>11} {:>9} {:>21}",
                    r.verdict.to_string(),
                    m.metric.name(),
                    fmt_value(m.metric, m.baseline),
                    fmt_value(m.metric, m.current),
                    change(m),
                    interval(m),
                )?,
                None => writeln!(f, "{:<17} {name:<width$} {}", r.verdict.to_string(), r.reason)?,
            }
        }
        write!(
            f,
            "{} (threshold {:.0}%, false-discovery rate {:.0}%)",
            summary_line(self),
            self.threshold * 100.0,
            self.alpha * 100.0
        )
    }
}

impl Comparison {
    /// The comparison as Markdown for a pull-request comment: a headline, the functions that
    /// changed (worst first) with the metric that decided, values with units, the change and
    /// its interval, and why; unchanged functions folded away in a `<details>` block.
    ///
    /// # Examples
    /// ```
    /// use perfcore::{FunctionStats, Snapshot, regress::{compare, CompareOptions}};
    /// let run = |ns: u64| Snapshot::from_functions(
    ///     vec![FunctionStats::from_durations("parse", (0..500).map(|i| ns + i % 20))], 0, 1);
    /// let md = compare(&run(1_000), &run(1_500), &[], &CompareOptions::default()).to_markdown();
    /// assert!(md.contains("| `parse` |"));
    /// assert!(md.starts_with("### ❌"));
    /// ```
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mut out = String::new();
        let regressed = self.regressions().count();
        let icon = if regressed > 0 { "❌" } else { "✅" };
        let head = match regressed {
            0 => "no performance regression".to_owned(),
            1 => "1 function regressed".to_owned(),
            n => format!("{n} functions regressed"),
        };
        let _ = writeln!(out, "### {icon} perfcore: {head}\n");
        let _ = writeln!(
            out,
            "{} · threshold {:.0}% · false-discovery rate {:.0}%\n",
            summary_line(self),
            self.threshold * 100.0,
            self.alpha * 100.0
        );
        let (changed, same): (Vec<&FunctionComparison>, Vec<&FunctionComparison>) =
            self.functions.iter().partition(|f| f.verdict != Verdict::Unchanged);
        let table = |out: &mut String, rows: &[&FunctionComparison]| {
            let _ = writeln!(
                out,
                "| | function | metric | baseline | current | change | 95% interval | calls | why |"
            );
            let _ = writeln!(out, "|---|---|---|---:|---:|---:|---:|---:|---|");
            for r in rows {
                let icon = match r.verdict {
                    Verdict::Regressed => "🔴",
                    Verdict::Improved => "🟢",
                    Verdict::New | Verdict::Removed => "🆕",
                    Verdict::InsufficientData => "⚪",
                    Verdict::Unchanged => "",
                };
                let calls = format!("{} → {}", r.baseline_calls, r.current_calls);
                let why = r.reason.replace('|', "\\|");
                let name = r.function.replace('|', "\\|").replace('`', "'");
                let _ = match r.headline() {
                    Some(m) => writeln!(
                        out,
                        "| {icon} | `{name}` | {} | {} | {} | **{}** | {} | {calls} | {why} |",
                        m.metric,
                        fmt_value(m.metric, m.baseline),
                        fmt_value(m.metric, m.current),
                        change(m),
                        interval(m),
                    ),
                    None => writeln!(out, "| {icon} | `{name}` | | | | | | {calls} | {why} |"),
                };
            }
        };
        if !changed.is_empty() {
            table(&mut out, &changed);
        }
        if !same.is_empty() {
            let _ = writeln!(out, "\n<details><summary>{} unchanged</summary>\n", same.len());
            table(&mut out, &same);
            let _ = writeln!(out, "\n</details>");
        }
        out
    }

    /// The comparison as pretty-printed JSON (every field, as [`serde`] writes it).
    ///
    /// # Examples
    /// ```
    /// use perfcore::regress::{compare, CompareOptions};
    /// let s = perfcore::Snapshot::default();
    /// assert!(compare(&s, &s, &[], &CompareOptions::default()).to_json().contains("\"functions\""));
    /// ```
    #[cfg(feature = "json")]
    #[must_use]
    pub fn to_json(&self) -> String {
        // Plain data with string keys and finite numbers: serialisation cannot fail.
        serde_json::to_string_pretty(self).expect("a comparison always serialises")
    }
}
