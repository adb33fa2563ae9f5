//! Markdown: the summary, the functions with the most self time, hotspots, recommendations
//! and the baseline comparison, as GitHub-flavoured tables for a pull request or a wiki.

use std::fmt::Write as _;

use crate::Snapshot;
use crate::analysis::{
    HotspotOptions, RecommendationOptions, Unit, fmt_ns, identify_hotspots, performance_summary,
    recommendations_from,
};
use crate::regress::Comparison;

/// What [`to_markdown`] includes.
///
/// # Examples
/// ```
/// let options = perfcore::report::MarkdownOptions::default().top(5).title("nightly");
/// assert_eq!(options.top_functions(), 5);
/// ```
#[derive(Clone, Debug)]
#[non_exhaustive]
pub struct MarkdownOptions {
    title: String,
    top: usize,
    comparison: Option<Comparison>,
    hotspots: HotspotOptions,
    recommendations: RecommendationOptions,
    #[cfg(feature = "cost")]
    price: Option<crate::cost::Price>,
}

impl Default for MarkdownOptions {
    fn default() -> Self {
        Self {
            title: "perfcore report".to_owned(),
            top: 20,
            comparison: None,
            hotspots: HotspotOptions::default(),
            recommendations: RecommendationOptions::default(),
            #[cfg(feature = "cost")]
            price: None,
        }
    }
}

impl MarkdownOptions {
    /// The heading (default "perfcore report").
    ///
    /// # Examples
    /// ```
    /// let md = perfcore::report::to_markdown(
    ///     &perfcore::Snapshot::default(),
    ///     &perfcore::report::MarkdownOptions::default().title("checkout service"),
    /// );
    /// assert!(md.starts_with("## checkout service"));
    /// ```
    #[must_use]
    pub fn title(mut self, title: impl Into<String>) -> Self {
        self.title = title.into();
        self
    }

    /// How many functions the self-time table lists (default 20).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::report::MarkdownOptions::default().top(3).top_functions(), 3);
    /// ```
    #[must_use]
    pub fn top(mut self, functions: usize) -> Self {
        self.top = functions;
        self
    }

    /// The number of functions the self-time table lists.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::report::MarkdownOptions::default().top_functions(), 20);
    /// ```
    #[must_use]
    pub fn top_functions(&self) -> usize {
        self.top
    }

    /// A comparison of a baseline with this snapshot ([`crate::regress::compare`]), added as
    /// its own section.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::{FunctionStats, Snapshot, regress::*};
    /// let snap = Snapshot::from_functions(vec![FunctionStats::from_durations("f", [10; 40])], 0, 1);
    /// let cmp = compare(&snap, &snap, &[], &CompareOptions::default());
    /// let md = perfcore::report::to_markdown(&snap, &perfcore::report::MarkdownOptions::default().comparison(cmp));
    /// assert!(md.contains("no performance regression"));
    /// ```
    #[must_use]
    pub fn comparison(mut self, comparison: Comparison) -> Self {
        self.comparison = Some(comparison);
        self
    }

    /// Adds what each function costs at `price` ([`crate::cost::function_costs`]), as its own
    /// section.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::{FunctionStats, Snapshot};
    /// let snap = Snapshot::from_functions(vec![FunctionStats::from_durations("f", [10; 40])], 0, 1);
    /// let price = perfcore::cost::Price::per_vcpu_hour("0.048".parse().unwrap());
    /// let md = perfcore::report::to_markdown(&snap, &perfcore::report::MarkdownOptions::default().function_costs(price));
    /// assert!(md.contains("### Cost of each function"));
    /// ```
    #[cfg(feature = "cost")]
    #[must_use]
    pub fn function_costs(mut self, price: crate::cost::Price) -> Self {
        self.price = Some(price);
        self
    }

    /// The thresholds hotspots and recommendations are found with.
    ///
    /// # Examples
    /// ```
    /// let o = perfcore::report::MarkdownOptions::default()
    ///     .analysis(perfcore::analysis::RecommendationOptions::default());
    /// # let _ = o;
    /// ```
    #[must_use]
    pub fn analysis(mut self, options: RecommendationOptions) -> Self {
        self.hotspots = options.hotspots.clone();
        self.recommendations = options;
        self
    }
}

/// A function name as Markdown inline code that survives a table cell: pipes escaped,
/// backticks and line breaks replaced.
pub(crate) fn md_code(name: &str) -> String {
    let clean: String = name
        .chars()
        .map(|c| match c {
            '`' => '\'',
            '\n' | '\r' | '\t' => ' ',
            c => c,
        })
        .collect();
    format!("`{}`", clean.replace('|', "\\|"))
}

/// Plain text for a table cell: pipes escaped, line breaks replaced.
pub(crate) fn md_text(text: &str) -> String {
    text.replace(['\n', '\r'], " ").replace('|', "\\|")
}

/// The snapshot as Markdown: a summary line, the functions with the most self time, the
/// hotspots with their evidence, the recommendations with their impact, and the comparison
/// with a baseline when [`MarkdownOptions::comparison`] gives one.
///
/// # Examples
/// ```
/// use perfcore::{FunctionStats, Snapshot};
/// let snap = Snapshot::from_functions(
///     vec![
///         FunctionStats::from_durations("parse", [4_000_000; 100]),
///         FunctionStats::from_durations("render", [1_000_000; 100]),
///     ],
///     0,
///     1_000_000_000,
/// );
/// let md = perfcore::report::to_markdown(&snap, &Default::default());
/// assert!(md.contains("| 1 | `parse` | 100 | 400.00 ms | 80.0% |"));
/// assert!(md.contains("### Hotspots"));
/// assert!(md.contains("saves 40.0%"));
/// ```
#[must_use]
pub fn to_markdown(snap: &Snapshot, options: &MarkdownOptions) -> String {
    let summary = performance_summary(snap, options.comparison.as_ref());
    let pct = Unit::Fraction;
    let mut out = String::new();
    let _ = writeln!(out, "## {}\n", md_text(&options.title));
    let _ = write!(
        out,
        "{} calls in {} functions over {} · profiled wall time {} · self time {} · errors {}",
        summary.total_calls,
        summary.functions,
        fmt_ns(summary.window_ns as f64),
        fmt_ns(summary.profiled_wall_ns as f64),
        fmt_ns(summary.total_self_ns as f64),
        pct.format(summary.error_rate),
    );
    if let Some(m) = &summary.memory {
        let _ = write!(out, " · allocated {}", Unit::Bytes.format(m.allocated_bytes as f64));
        if let Some(top) = &m.top_allocator {
            let _ = write!(
                out,
                " (most by {}: {})",
                md_code(top),
                Unit::Bytes.format(m.top_allocator_bytes as f64)
            );
        }
    }
    out.push_str("\n\n");

    let mut by_self: Vec<_> = snap.by_name_borrowed();
    by_self.sort_by(|a, b| crate::analysis::most_self_time_first(a, b));
    if !by_self.is_empty() {
        let shown = by_self.len().min(options.top);
        let _ = writeln!(
            out,
            "### Where the time goes (self time, top {shown} of {})\n",
            by_self.len()
        );
        out.push_str(
            "| # | function | calls | self | self % | total | mean | p50 | p95 | p99 | errors |\n",
        );
        out.push_str("|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|\n");
        for (i, f) in by_self.iter().take(options.top).enumerate() {
            let share =
                crate::analysis::fraction(u128::from(f.self_ns), u128::from(summary.total_self_ns));
            let _ = writeln!(
                out,
                "| {} | {} | {} | {} | {} | {} | {} | {} | {} | {} | {} |",
                i + 1,
                md_code(&f.name),
                f.count,
                fmt_ns(f.self_ns as f64),
                pct.format(share),
                fmt_ns(f.total_ns as f64),
                fmt_ns(f.mean_ns),
                fmt_ns(f.p50_ns as f64),
                fmt_ns(f.p95_ns as f64),
                fmt_ns(f.p99_ns as f64),
                f.errors,
            );
        }
        out.push('\n');
    }

    let hotspots = identify_hotspots(snap, &options.hotspots);
    if !hotspots.is_empty() {
        out.push_str("### Hotspots\n\n| severity | kind | function | share | evidence |\n|---|---|---|---:|---|\n");
        for h in &hotspots {
            let mut function = md_code(&h.function);
            if let Some(c) = &h.caller {
                let _ = write!(function, " under {}", md_code(c));
            }
            let evidence: Vec<String> =
                h.evidence.iter().map(|e| md_text(&e.to_string())).collect();
            let _ = writeln!(
                out,
                "| {} | {} | {function} | {} | {} |",
                h.severity,
                h.kind,
                pct.format(h.share_of_time),
                evidence.join("; ")
            );
        }
        out.push('\n');
    }

    let recommendations = recommendations_from(snap, &hotspots, &options.recommendations);
    if !recommendations.is_empty() {
        out.push_str("### Recommendations\n\nHeuristics from the measured figures; the impact follows from the measured share by Amdahl's law.\n\n");
        for (i, r) in recommendations.iter().enumerate() {
            let _ = write!(
                out,
                "{}. **{}** — {} ({}",
                i + 1,
                r.rule.title(),
                md_code(&r.function),
                r.severity
            );
            if let Some(c) = &r.caller {
                let _ = write!(out, ", under {}", md_code(c));
            }
            let _ = writeln!(
                out,
                "): {} Impact: {}.",
                md_text(&r.strategy),
                md_text(&r.impact.to_string())
            );
        }
        out.push('\n');
    }

    #[cfg(feature = "cost")]
    if let Some(price) = &options.price {
        match crate::cost::function_costs(snap, price) {
            Ok(costs) => {
                out.push_str(&crate::cost::function_costs_markdown(&costs, price, options.top))
            }
            Err(e) => {
                let _ = writeln!(
                    out,
                    "### Cost of each function\n\nNot computed: {}.",
                    md_text(&e.to_string())
                );
            }
        }
        out.push('\n');
    }
    if let Some(cmp) = &options.comparison {
        out.push_str(&cmp.to_markdown());
    }
    out
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::FunctionStats;

    #[test]
    fn names_cannot_break_a_table() {
        let snap = Snapshot::from_functions(
            vec![FunctionStats::from_durations("a|b`c\nd", [1_000; 10])],
            0,
            1,
        );
        let md = to_markdown(&snap, &MarkdownOptions::default());
        let row = md.lines().find(|l| l.starts_with("| 1 |")).unwrap();
        assert!(row.contains("`a\\|b'c d`"), "{row}");
        // Each row of the table has the header's cell count (pipes escaped are not cells).
        let cells = |l: &str| l.replace("\\|", "").matches('|').count();
        let header = md.lines().find(|l| l.starts_with("| # |")).unwrap();
        assert_eq!(cells(row), cells(header));
    }

    #[test]
    fn top_limits_the_table_and_says_so() {
        let functions: Vec<_> = (0..30)
            .map(|i| FunctionStats::from_durations(&format!("f{i:02}"), [1_000 * (i + 1); 5]))
            .collect();
        let snap = Snapshot::from_functions(functions, 0, 1);
        let md = to_markdown(&snap, &MarkdownOptions::default().top(3));
        assert!(md.contains("top 3 of 30"));
        let rows: Vec<_> = md.lines().filter(|l| l.starts_with("| ") && l.contains("`f")).collect();
        assert!(rows[0].contains("`f29`") && rows[2].contains("`f27`"), "{rows:?}");
        assert!(!md.contains("| 4 |"));
    }

    #[test]
    fn an_empty_snapshot_has_a_summary_and_no_tables() {
        let md = to_markdown(&Snapshot::default(), &MarkdownOptions::default());
        assert!(md.contains("0 calls in 0 functions"));
        assert!(!md.contains("###"));
    }
}
