//! The report as versioned JSON: what the HTML and Markdown reports show, for programs.

use serde::{Deserialize, Serialize};

use crate::analysis::{
    Hotspot, PerformanceSummary, Recommendation, RecommendationOptions, fraction,
    identify_hotspots, most_self_time_first, performance_summary, recommendations_from,
};
use crate::regress::Comparison;
use crate::{FunctionStats, Snapshot};

/// The `schema` field of every report document.
///
/// # Examples
/// ```
/// assert_eq!(perfcore::report::REPORT_SCHEMA, "perfcore-report");
/// ```
pub const REPORT_SCHEMA: &str = "perfcore-report";

/// The version of the report document's layout, [`Report::schema_version`].
///
/// Version 1: the fields of [`Report`], [`FunctionRow`] and the analysis types
/// ([`PerformanceSummary`], [`Hotspot`], [`Recommendation`]) and of [`Comparison`], as their
/// documentation describes them. Fields may be added within a version (readers should ignore
/// fields they do not know); a field removed or whose meaning changes makes a new version.
///
/// # Examples
/// ```
/// assert_eq!(perfcore::report::REPORT_SCHEMA_VERSION, 1);
/// ```
pub const REPORT_SCHEMA_VERSION: u32 = 1;

/// One function's figures in a [`Report`]. Times are nanoseconds; functions sharing a name
/// are merged into one row.
///
/// # Examples
/// ```
/// # use perfcore::{FunctionStats, Snapshot};
/// let snap = Snapshot::from_functions(vec![FunctionStats::from_durations("f", [10, 30])], 0, 1);
/// let report = perfcore::report::Report::new(&snap, &Default::default());
/// let f = &report.functions[0];
/// assert_eq!((f.name.as_str(), f.calls, f.self_ns, f.self_share), ("f", 2, 40, 1.0));
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionRow {
    /// The function's name.
    pub name: String,
    /// The module that declared it (empty for scopes named at run time).
    pub module_path: String,
    /// Its source file (empty when unknown).
    pub file: String,
    /// Its source line (0 when unknown).
    pub line: u32,
    /// Finished calls.
    pub calls: u64,
    /// Failed calls.
    pub errors: u64,
    /// `async` calls dropped before they completed.
    pub cancelled: u64,
    /// Wall time of the outermost calls (children included; not additive across functions).
    pub total_ns: u64,
    /// Self time: wall time minus the time in child scopes (additive across functions).
    pub self_ns: u64,
    /// `self_ns` over the snapshot's total self time, in `[0, 1]`.
    pub self_share: f64,
    /// Mean wall time per call.
    pub mean_ns: f64,
    /// Fastest call.
    pub min_ns: u64,
    /// Median.
    pub p50_ns: u64,
    /// 90th percentile.
    pub p90_ns: u64,
    /// 95th percentile.
    pub p95_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// 99.9th percentile.
    pub p999_ns: u64,
    /// Slowest call.
    pub max_ns: u64,
    /// Calls per second over the snapshot's window.
    pub calls_per_sec: f64,
    /// Bytes allocated per call (children included), when the tracking allocator was on.
    pub bytes_per_call: Option<f64>,
    /// Allocations per call (children included), when the tracking allocator was on.
    pub allocations_per_call: Option<f64>,
}

impl FunctionRow {
    fn of(f: &FunctionStats, total_self_ns: u128) -> Self {
        let per_call =
            |v: u64| f.allocations.filter(|a| a.calls > 0).map(|a| v as f64 / a.calls as f64);
        Self {
            name: f.name.clone(),
            module_path: f.module_path.clone(),
            file: f.file.clone(),
            line: f.line,
            calls: f.count,
            errors: f.errors,
            cancelled: f.cancelled,
            total_ns: f.total_ns,
            self_ns: f.self_ns,
            self_share: fraction(u128::from(f.self_ns), total_self_ns),
            mean_ns: f.mean_ns,
            min_ns: f.min_ns,
            p50_ns: f.p50_ns,
            p90_ns: f.p90_ns,
            p95_ns: f.p95_ns,
            p99_ns: f.p99_ns,
            p999_ns: f.p999_ns,
            max_ns: f.max_ns,
            calls_per_sec: f.calls_per_sec,
            bytes_per_call: f.allocations.and_then(|a| per_call(a.allocated_bytes)),
            allocations_per_call: f.allocations.and_then(|a| per_call(a.allocations)),
        }
    }
}

/// What [`Report::new`] computes.
///
/// # Examples
/// ```
/// let options = perfcore::report::ReportOptions::default();
/// assert!(options.comparison.is_none());
/// ```
#[derive(Clone, Debug, Default)]
#[non_exhaustive]
pub struct ReportOptions {
    /// The thresholds hotspots and recommendations are found with.
    pub analysis: RecommendationOptions,
    /// A comparison of a baseline with the snapshot, reported beside it.
    pub comparison: Option<Comparison>,
    /// The baseline's name, for the reader.
    pub baseline_name: Option<String>,
}

impl ReportOptions {
    /// Adds the comparison with the baseline `name`.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::{Snapshot, regress::*};
    /// let cmp = compare(&Snapshot::default(), &Snapshot::default(), &[], &CompareOptions::default());
    /// let o = perfcore::report::ReportOptions::default().with_comparison("main", cmp);
    /// assert_eq!(o.baseline_name.as_deref(), Some("main"));
    /// ```
    #[must_use]
    pub fn with_comparison(mut self, name: impl Into<String>, comparison: Comparison) -> Self {
        self.baseline_name = Some(name.into());
        self.comparison = Some(comparison);
        self
    }
}

/// A report document: the summary, every function's figures (most self time first), the
/// hotspots, the recommendations and the baseline comparison, as versioned JSON
/// ([`REPORT_SCHEMA`], [`REPORT_SCHEMA_VERSION`]).
///
/// # Examples
/// ```
/// use perfcore::{FunctionStats, Snapshot};
/// use perfcore::report::{Report, ReportOptions};
/// let snap = Snapshot::from_functions(
///     vec![
///         FunctionStats::from_durations("parse", [4_000_000; 100]),
///         FunctionStats::from_durations("render", [1_000_000; 100]),
///     ],
///     0,
///     1_000_000_000,
/// );
/// let report = Report::new(&snap, &ReportOptions::default());
/// let json = report.to_json();
/// let back = Report::from_json(&json)?;
/// assert_eq!(back.functions[0].name, "parse");
/// assert_eq!(back.hotspots[0].function, "parse");
/// assert_eq!(back, report);
/// # Ok::<(), perfcore::report::ReportReadError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Report {
    /// Always [`REPORT_SCHEMA`].
    pub schema: String,
    /// [`REPORT_SCHEMA_VERSION`] when written by this version.
    pub schema_version: u32,
    /// `perfcore <version>` of the writer.
    pub generator: String,
    /// The headline figures.
    pub summary: PerformanceSummary,
    /// Every function, most self time first (then by name).
    pub functions: Vec<FunctionRow>,
    /// The hotspots, most severe first.
    pub hotspots: Vec<Hotspot>,
    /// The recommendations, most impact first.
    pub recommendations: Vec<Recommendation>,
    /// The baseline's name, when a comparison is included.
    pub baseline: Option<String>,
    /// The comparison with the baseline.
    pub comparison: Option<Comparison>,
}

/// A report document could not be read.
///
/// # Examples
/// ```
/// let err = perfcore::report::Report::from_json("{}").unwrap_err();
/// assert!(err.to_string().contains("schema"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportReadError {
    /// The text is not a report document: not JSON, or a field is missing or of the wrong type.
    #[error("not a perfcore report at line {line}, column {column}: {message}")]
    Invalid {
        /// The line of the error (1-based).
        line: usize,
        /// The column of the error (1-based).
        column: usize,
        /// What was wrong.
        message: String,
    },
    /// The document is another kind of JSON (its `schema` is not [`REPORT_SCHEMA`]).
    #[error("the document's schema is `{found}`, not `{REPORT_SCHEMA}`")]
    WrongSchema {
        /// The schema found.
        found: String,
    },
    /// The document was written by a newer perfcore; upgrade to read it.
    #[error(
        "the report is schema version {found}, newer than the {REPORT_SCHEMA_VERSION} this perfcore reads; upgrade perfcore"
    )]
    NewerVersion {
        /// The version found.
        found: u32,
    },
}

impl Report {
    /// The report of `snap`.
    ///
    /// # Examples
    /// ```
    /// let r = perfcore::report::Report::new(&perfcore::Snapshot::default(), &Default::default());
    /// assert!(r.functions.is_empty() && r.hotspots.is_empty());
    /// ```
    #[must_use]
    pub fn new(snap: &Snapshot, options: &ReportOptions) -> Self {
        let summary = performance_summary(snap, options.comparison.as_ref());
        let total_self = u128::from(summary.total_self_ns);
        let mut ranked = snap.by_name_borrowed();
        ranked.sort_by(|a, b| most_self_time_first(a, b));
        let functions = ranked.iter().map(|f| FunctionRow::of(f, total_self)).collect();
        let hotspots = identify_hotspots(snap, &options.analysis.hotspots);
        Self {
            schema: REPORT_SCHEMA.to_owned(),
            schema_version: REPORT_SCHEMA_VERSION,
            generator: concat!("perfcore ", env!("CARGO_PKG_VERSION")).to_owned(),
            summary,
            functions,
            recommendations: recommendations_from(snap, &hotspots, &options.analysis),
            hotspots,
            baseline: options.baseline_name.clone(),
            comparison: options.comparison.clone(),
        }
    }

    /// The document as pretty-printed JSON.
    ///
    /// # Examples
    /// ```
    /// let r = perfcore::report::Report::new(&perfcore::Snapshot::default(), &Default::default());
    /// assert!(r.to_json().contains("\"schema\": \"perfcore-report\""));
    /// ```
    #[must_use]
    pub fn to_json(&self) -> String {
        // Plain data with string keys; non-finite floats are written as null by serde_json.
        serde_json::to_string_pretty(self).unwrap_or_default()
    }

    /// Reads a document written by [`Report::to_json`] (this or an older version).
    ///
    /// # Errors
    /// [`ReportReadError::WrongSchema`] for another kind of JSON, [`ReportReadError::NewerVersion`]
    /// for a newer layout, [`ReportReadError::Invalid`] naming the line and column otherwise.
    ///
    /// # Examples
    /// ```
    /// use perfcore::report::{Report, ReportReadError};
    /// let err = Report::from_json(r#"{"schema": "perfcore-report", "schema_version": 99}"#).unwrap_err();
    /// assert!(matches!(err, ReportReadError::NewerVersion { found: 99 }));
    /// ```
    pub fn from_json(json: &str) -> Result<Self, ReportReadError> {
        #[derive(Deserialize)]
        struct Header {
            schema: Option<String>,
            schema_version: Option<u32>,
        }
        let invalid = |e: serde_json::Error| ReportReadError::Invalid {
            line: e.line(),
            column: e.column(),
            message: e.to_string(),
        };
        let header: Header = serde_json::from_str(json).map_err(invalid)?;
        match header.schema.as_deref() {
            Some(REPORT_SCHEMA) => {}
            other => {
                return Err(ReportReadError::WrongSchema {
                    found: other.unwrap_or("(none)").to_owned(),
                });
            }
        }
        if let Some(v) = header.schema_version.filter(|&v| v > REPORT_SCHEMA_VERSION) {
            return Err(ReportReadError::NewerVersion { found: v });
        }
        serde_json::from_str(json).map_err(invalid)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::AllocationStats;

    #[test]
    fn rows_carry_allocations_per_call_and_shares_add_up() {
        let mut heavy = FunctionStats::from_durations("heavy", [3_000; 4]);
        heavy.allocations = Some(AllocationStats {
            calls: 4,
            allocated_bytes: 4 * 1024,
            allocations: 8,
            ..AllocationStats::default()
        });
        let light = FunctionStats::from_durations("light", [1_000; 4]);
        let snap = Snapshot::from_functions(vec![light, heavy], 0, 1);
        let r = Report::new(&snap, &ReportOptions::default());
        assert_eq!(r.functions[0].name, "heavy");
        assert_eq!(r.functions[0].bytes_per_call, Some(1024.0));
        assert_eq!(r.functions[0].allocations_per_call, Some(2.0));
        assert_eq!(r.functions[1].bytes_per_call, None);
        let shares: f64 = r.functions.iter().map(|f| f.self_share).sum();
        assert!((shares - 1.0).abs() < 1e-12);
        assert_eq!(Report::from_json(&r.to_json()).unwrap(), r);
    }

    #[test]
    fn other_documents_are_refused_by_name() {
        let snap = Snapshot::default().to_json();
        let err = Report::from_json(&snap).unwrap_err();
        assert!(matches!(err, ReportReadError::WrongSchema { .. }), "{err}");
        let err = Report::from_json(
            "{\"schema\": \"perfcore-report\",\n \"schema_version\": 1, \"summary\": 3}",
        )
        .unwrap_err();
        match err {
            ReportReadError::Invalid { line, .. } => assert_eq!(line, 2),
            e => panic!("{e}"),
        }
    }
}
