//! Performance budgets: absolute limits per function (p95 under 200 ms, errors under 0.1%,
//! at most 4 KiB allocated per call), read from a TOML file and checked against a
//! [`Snapshot`].
//!
//! A budget is not a comparison with an earlier run: it holds however the code got there.
//!
//! # The file
//! ```
//! let budgets = perfcore::budget::Budgets::from_toml_str(r#"
//!     [defaults]                  # every function
//!     p99 = "500ms"
//!     error_rate = 0.001          # a fraction of calls: 0.1%
//!
//!     [functions."api::checkout"]
//!     p95 = "200ms"
//!     bytes_per_call = 4096
//!     min_calls = 100             # fewer calls: skipped, not judged
//!
//!     [functions."db::*"]
//!     p99 = "1.5s"                # replaces the default p99 for these functions
//! "#)?;
//! assert_eq!(budgets.patterns().collect::<Vec<_>>(), ["api::checkout", "db::*"]);
//! # Ok::<(), perfcore::budget::BudgetError>(())
//! ```
//! - `p50`, `p95`, `p99`, `max`: durations, as strings with a unit: `100ns`, `800us` (or
//!   `800µs`), `200ms`, `1.5s`, `2m`, `1h`. A bare number is an error: say which unit.
//! - `error_rate`: the highest fraction of failed calls, 0 to 1.
//! - `bytes_per_call`, `allocs_per_call`: the most bytes and allocations per call, child scopes
//!   included (they need [`crate::alloc::TrackingAllocator`]).
//! - `min_calls_per_sec`: the fewest calls per second over the snapshot's window.
//! - `min_calls`: not a limit; a function with fewer calls is reported as skipped by that
//!   table. Set in `[defaults]`, it holds for every pattern that does not set its own.
//!
//! # Patterns
//! A `[functions."…"]` key is a function name or a pattern: `?` is one character, `*` any run
//! of characters within one segment of the name, `**` any run at all. Segments are separated
//! by `::`, `/` or `.`, so `db::*` matches `db::query` but not `db::pool::get`; `db::**`
//! matches both (and `**::test_fib` matches pytest-benchmark's `test_tiny.py::test_fib`).
//! Every pattern that matches a function applies to it, and a violation names
//! the pattern it came from. A key set by a matching pattern replaces the same key of
//! `[defaults]` for that function. A pattern that matches no function is listed in
//! [`BudgetReport::unmatched_patterns`] (a typo must not pass silently), as a warning.
//!
//! # Verdicts
//! A limit is met when the figure is at most the limit (at least, for `min_calls_per_sec`):
//! a p95 of exactly 200 ms meets `p95 = "200ms"`, one nanosecond more does not. A limit whose
//! figure was not measured (allocations without the tracking allocator, calls per second
//! without a window) is listed in [`BudgetReport::not_measured`]: neither a pass nor a
//! violation, so [`BudgetReport::passed`] stays true but the report says so; a CI job that
//! wants every limit judged checks [`BudgetReport::fully_measured`] too.

mod parse;

use std::fmt::{self, Write as _};
use std::path::{Path, PathBuf};
use std::time::Duration;

use serde::Serialize;

use crate::stats::fmt_ns;
use crate::{FunctionStats, PerformanceProfiler, Snapshot};

use crate::glob::Glob;

/// The name [`BudgetViolation::pattern`] gives a limit that came from `[defaults]`.
pub const DEFAULTS: &str = "[defaults]";

/// A budgets file could not be read.
///
/// Messages name the file (when there is one), the line and column, and the key or pattern.
///
/// # Examples
/// ```
/// let err = perfcore::budget::Budgets::from_toml_str("[functions.f]\np96 = \"1ms\"").unwrap_err();
/// assert_eq!(err.to_string(), "line 2, column 1: unknown key `p96` in [functions.\"f\"]; \
///     expected one of p50, p95, p99, max, error_rate, bytes_per_call, allocs_per_call, \
///     min_calls_per_sec, min_calls");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BudgetError {
    /// The file is not valid TOML; fix the syntax at the line and column given.
    #[error("{}: invalid TOML: {message}", at(.path, *.line, *.column))]
    Syntax {
        /// The file, if the text came from one.
        path: Option<PathBuf>,
        /// The line of the problem, from 1.
        line: usize,
        /// The column of the problem, from 1 (in characters).
        column: usize,
        /// What the TOML parser said.
        message: String,
    },
    /// A key perfcore does not know (often a typo); use one of the keys listed.
    #[error("{}: unknown key `{key}` in {table}; expected one of {expected}", at(.path, *.line, *.column))]
    UnknownKey {
        /// The file, if the text came from one.
        path: Option<PathBuf>,
        /// The table holding the key, e.g. `[functions."api::checkout"]`.
        table: String,
        /// The key as written.
        key: String,
        /// The key's line, from 1.
        line: usize,
        /// The key's column, from 1.
        column: usize,
        /// The keys accepted there.
        expected: String,
    },
    /// A limit has a value perfcore cannot use (a duration without a unit, an error rate
    /// above 1, a negative size); write it as the reason says.
    #[error("{}: `{key}` of {}: {reason}", at(.path, *.line, *.column), table(.pattern))]
    InvalidValue {
        /// The file, if the text came from one.
        path: Option<PathBuf>,
        /// The function pattern of the table, [`DEFAULTS`], or empty for a key at the top level.
        pattern: String,
        /// The key.
        key: String,
        /// The value's line, from 1.
        line: usize,
        /// The value's column, from 1.
        column: usize,
        /// What is wrong and what would be right.
        reason: String,
    },
    /// A duration given to [`parse_duration`] is not one; write a number and a unit.
    #[error("invalid duration: {reason}")]
    InvalidDuration {
        /// What is wrong and what would be right.
        reason: String,
    },
    /// The file could not be read; check the path and its permissions.
    #[error("cannot read budgets file {}", .path.display())]
    Read {
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

fn at(path: &Option<PathBuf>, line: usize, column: usize) -> String {
    match path {
        Some(p) => format!("{}:{line}:{column}", p.display()),
        None => format!("line {line}, column {column}"),
    }
}

fn table(pattern: &str) -> String {
    match pattern {
        "" => "the top level".to_owned(),
        DEFAULTS => DEFAULTS.to_owned(),
        p => format!("[functions.\"{p}\"]"),
    }
}

/// Parses a duration with a unit, as a budgets file writes them: `100ns`, `800us`, `800µs`,
/// `200ms`, `1.5s`, `2m`, `1h`. Digits finer than a nanosecond are dropped.
///
/// # Errors
/// [`BudgetError::InvalidDuration`] for a bare number (the message says to add a unit), an
/// unknown unit, a negative value, or one too long for a `u64` of nanoseconds.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use perfcore::budget::parse_duration;
///
/// assert_eq!(parse_duration("1.5s")?, Duration::from_millis(1500));
/// assert_eq!(parse_duration("800µs")?, Duration::from_micros(800));
/// assert!(parse_duration("200").unwrap_err().to_string().contains("add one"));
/// # Ok::<(), perfcore::budget::BudgetError>(())
/// ```
pub fn parse_duration(text: &str) -> Result<Duration, BudgetError> {
    parse::duration(text).map_err(|reason| BudgetError::InvalidDuration { reason })
}

/// A figure a budget limits.
///
/// # Examples
/// ```
/// use perfcore::budget::BudgetKey;
/// assert_eq!(BudgetKey::P95.name(), "p95");
/// assert!(BudgetKey::P95.is_duration() && !BudgetKey::ErrorRate.is_duration());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum BudgetKey {
    /// Median wall time (`p50`).
    P50,
    /// 95th percentile of wall time (`p95`).
    P95,
    /// 99th percentile of wall time (`p99`).
    P99,
    /// Slowest call (`max`).
    Max,
    /// Failed calls over all calls (`error_rate`).
    ErrorRate,
    /// Bytes allocated per call (`bytes_per_call`).
    BytesPerCall,
    /// Allocations per call (`allocs_per_call`).
    AllocsPerCall,
    /// Calls per second over the snapshot's window, a lower limit (`min_calls_per_sec`).
    MinCallsPerSec,
}

impl BudgetKey {
    /// Every key, in the order reports list them.
    pub const ALL: [BudgetKey; 8] = [
        Self::P50,
        Self::P95,
        Self::P99,
        Self::Max,
        Self::ErrorRate,
        Self::BytesPerCall,
        Self::AllocsPerCall,
        Self::MinCallsPerSec,
    ];

    /// The key as a budgets file writes it.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::budget::BudgetKey::MinCallsPerSec.name(), "min_calls_per_sec");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Self::P50 => "p50",
            Self::P95 => "p95",
            Self::P99 => "p99",
            Self::Max => "max",
            Self::ErrorRate => "error_rate",
            Self::BytesPerCall => "bytes_per_call",
            Self::AllocsPerCall => "allocs_per_call",
            Self::MinCallsPerSec => "min_calls_per_sec",
        }
    }

    /// Whether the key's figures are durations (in nanoseconds).
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::budget::BudgetKey::Max.is_duration());
    /// ```
    #[must_use]
    pub fn is_duration(self) -> bool {
        matches!(self, Self::P50 | Self::P95 | Self::P99 | Self::Max)
    }

    /// Whether the limit is a floor (the figure must be at least the limit) rather than a
    /// ceiling.
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::budget::BudgetKey::MinCallsPerSec.is_floor());
    /// ```
    #[must_use]
    pub fn is_floor(self) -> bool {
        self == Self::MinCallsPerSec
    }

    /// A figure of this key, with its unit: `200.00 ms`, `0.12%`, `4096 B`, `3.5 allocs`.
    ///
    /// # Examples
    /// ```
    /// use perfcore::budget::BudgetKey;
    /// assert_eq!(BudgetKey::P95.format(2e8), "200.00 ms");
    /// assert_eq!(BudgetKey::ErrorRate.format(0.001), "0.100%");
    /// ```
    #[must_use]
    pub fn format(self, value: f64) -> String {
        match self {
            Self::P50 | Self::P95 | Self::P99 | Self::Max => fmt_ns(value),
            Self::ErrorRate => format!("{:.3}%", value * 100.0),
            Self::BytesPerCall => format!("{} B", trim(value)),
            Self::AllocsPerCall => format!("{} allocs", trim(value)),
            Self::MinCallsPerSec => format!("{}/s", trim(value)),
        }
    }

    /// The figure of `f` this key limits, `Err` saying why when it was not measured.
    fn actual(self, f: &FunctionStats) -> Result<f64, &'static str> {
        let per_call = |x: u64, calls: u64| x as f64 / calls as f64;
        let allocations = f
            .allocations
            .filter(|a| a.calls > 0)
            .ok_or("the tracking allocator was not installed (perfcore::alloc::TrackingAllocator)");
        Ok(match self {
            Self::P50 => f.p50_ns as f64,
            Self::P95 => f.p95_ns as f64,
            Self::P99 => f.p99_ns as f64,
            Self::Max => f.max_ns as f64,
            Self::ErrorRate => f.error_rate(),
            Self::BytesPerCall => allocations.map(|a| per_call(a.allocated_bytes, a.calls))?,
            Self::AllocsPerCall => allocations.map(|a| per_call(a.allocations, a.calls))?,
            Self::MinCallsPerSec => {
                if f.calls_per_sec == 0.0 && f.count > 0 {
                    return Err("the snapshot has no time window");
                }
                f.calls_per_sec
            }
        })
    }
}

fn trim(v: f64) -> String {
    if v.fract() == 0.0 && v.abs() < 1e15 { format!("{v:.0}") } else { format!("{v:.2}") }
}

impl fmt::Display for BudgetKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

impl std::str::FromStr for Budgets {
    type Err = BudgetError;

    /// [`Budgets::from_toml_str`].
    fn from_str(text: &str) -> Result<Self, BudgetError> {
        Self::from_toml_str(text)
    }
}

/// One table of limits: `[defaults]` or `[functions."pattern"]`.
#[derive(Clone, Debug, PartialEq)]
struct Rule {
    pattern: String,
    glob: Glob,
    /// In file order; durations in nanoseconds.
    limits: Vec<(BudgetKey, f64)>,
    min_calls: Option<u64>,
}

/// A set of performance budgets, read from TOML (the format is in the [module docs](self)).
///
/// # Examples
/// ```
/// use perfcore::budget::Budgets;
///
/// let budgets = Budgets::from_toml_str(r#"
///     [functions."checkout"]
///     p95 = "200ms"
///     error_rate = 0.001
/// "#)?;
/// let p = perfcore::PerformanceProfiler::new();
/// { let _g = p.scope("checkout").unwrap(); }
/// let report = p.check_budgets(&budgets);
/// assert!(report.passed(), "{report}");
/// # Ok::<(), perfcore::budget::BudgetError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct Budgets {
    defaults: Option<Rule>,
    rules: Vec<Rule>,
}

impl Budgets {
    /// Parses a budgets file's text (also available as `text.parse::<Budgets>()`).
    ///
    /// # Errors
    /// [`BudgetError::Syntax`] for invalid TOML, [`BudgetError::UnknownKey`] for a key perfcore
    /// does not know and [`BudgetError::InvalidValue`] for a value it cannot use, each with the
    /// line and column.
    ///
    /// # Examples
    /// ```
    /// let err = perfcore::budget::Budgets::from_toml_str("[functions.\"a\"]\np95 = 200").unwrap_err();
    /// assert!(err.to_string().starts_with("line 2, column 7: `p95` of [functions.\"a\"]"));
    /// assert!(err.to_string().contains("no unit"));
    /// ```
    pub fn from_toml_str(text: &str) -> Result<Self, BudgetError> {
        parse::budgets(text, None)
    }

    /// Reads a budgets file.
    ///
    /// # Errors
    /// [`BudgetError::Read`] if the file cannot be read, and the errors of
    /// [`Budgets::from_toml_str`], naming the file.
    ///
    /// # Examples
    /// ```
    /// let err = perfcore::budget::Budgets::read("/no/such/budgets.toml").unwrap_err();
    /// assert!(err.to_string().contains("/no/such/budgets.toml"));
    /// ```
    pub fn read(path: impl AsRef<Path>) -> Result<Self, BudgetError> {
        let path = path.as_ref();
        let text = std::fs::read_to_string(path)
            .map_err(|source| BudgetError::Read { path: path.into(), source })?;
        parse::budgets(&text, Some(path))
    }

    /// The function patterns, in file order.
    ///
    /// # Examples
    /// ```
    /// let b = perfcore::budget::Budgets::from_toml_str("[functions.\"db::*\"]\nmax = \"1s\"")?;
    /// assert_eq!(b.patterns().collect::<Vec<_>>(), ["db::*"]);
    /// # Ok::<(), perfcore::budget::BudgetError>(())
    /// ```
    pub fn patterns(&self) -> impl Iterator<Item = &str> {
        self.rules.iter().map(|r| r.pattern.as_str())
    }

    /// Checks every function of `snapshot` (callsites of one name judged once, as
    /// [`Snapshot::by_name`] merges them) against the budgets that match it.
    ///
    /// # Examples
    /// ```
    /// use perfcore::budget::{BudgetKey, Budgets};
    ///
    /// let b = Budgets::from_toml_str("[functions.\"*\"]\nmax = \"0ns\"\n[functions.typo]\nmax = \"1s\"")?;
    /// let p = perfcore::PerformanceProfiler::new();
    /// { let _g = p.scope("slow").unwrap(); }
    /// let report = b.check(&p.snapshot());
    /// assert!(!report.passed());
    /// assert_eq!(report.violations[0].key, BudgetKey::Max);
    /// assert_eq!(report.violations[0].pattern, "*");
    /// assert_eq!(report.unmatched_patterns, ["typo"]);
    /// # Ok::<(), perfcore::budget::BudgetError>(())
    /// ```
    #[must_use]
    pub fn check(&self, snapshot: &Snapshot) -> BudgetReport {
        let mut report = BudgetReport::default();
        let mut matched = vec![false; self.rules.len()];
        for f in snapshot.by_name() {
            let mut applied: Vec<&Rule> = Vec::new();
            for (i, rule) in self.rules.iter().enumerate() {
                if rule.glob.matches(&f.name) {
                    matched[i] = true;
                    applied.push(rule);
                }
            }
            if let Some(d) = &self.defaults {
                self.judge_defaults(d, &applied, &f, &mut report);
            }
            for rule in applied {
                let min_calls = rule.min_calls.or(self.defaults.as_ref().and_then(|d| d.min_calls));
                judge(rule, rule.limits.iter().copied(), min_calls, &f, &mut report);
            }
        }
        report.violations.sort_by(|a, b| {
            (&a.function, a.key, &a.pattern).cmp(&(&b.function, b.key, &b.pattern))
        });
        report.unmatched_patterns = self
            .rules
            .iter()
            .zip(matched)
            .filter(|(_, m)| !m)
            .map(|(r, _)| r.pattern.clone())
            .collect();
        report
    }

    /// The defaults' limits not replaced by a pattern that matches `f`.
    fn judge_defaults(
        &self,
        d: &Rule,
        applied: &[&Rule],
        f: &FunctionStats,
        report: &mut BudgetReport,
    ) {
        let overridden =
            |k: BudgetKey| applied.iter().any(|r| r.limits.iter().any(|&(rk, _)| rk == k));
        let limits = d.limits.iter().copied().filter(|&(k, _)| !overridden(k));
        judge(d, limits, d.min_calls, f, report);
    }
}

fn judge(
    rule: &Rule,
    limits: impl Iterator<Item = (BudgetKey, f64)>,
    min_calls: Option<u64>,
    f: &FunctionStats,
    report: &mut BudgetReport,
) {
    let mut limits = limits.peekable();
    if limits.peek().is_none() {
        return;
    }
    if let Some(min) = min_calls.filter(|&m| f.count < m) {
        report.skipped.push(SkippedFunction {
            function: f.name.clone(),
            pattern: rule.pattern.clone(),
            calls: f.count,
            min_calls: min,
        });
        return;
    }
    for (key, limit) in limits {
        report.checked += 1;
        match key.actual(f) {
            Ok(actual) => {
                let exceeded = if key.is_floor() { actual < limit } else { actual > limit };
                if exceeded {
                    report.violations.push(BudgetViolation {
                        function: f.name.clone(),
                        pattern: rule.pattern.clone(),
                        key,
                        limit,
                        actual,
                        calls: f.count,
                    });
                }
            }
            Err(why) => report.not_measured.push(NotMeasured {
                function: f.name.clone(),
                pattern: rule.pattern.clone(),
                key,
                why,
            }),
        }
    }
}

impl PerformanceProfiler {
    /// Checks a fresh snapshot of this profiler against `budgets`: see [`Budgets::check`].
    ///
    /// # Examples
    /// ```
    /// let budgets = perfcore::budget::Budgets::from_toml_str("[defaults]\nerror_rate = 0")?;
    /// let p = perfcore::PerformanceProfiler::new();
    /// { let g = p.scope("flaky").unwrap(); g.mark_failed(); }
    /// let report = p.check_budgets(&budgets);
    /// assert_eq!(report.violations[0].function, "flaky");
    /// assert_eq!(report.violations[0].pattern, perfcore::budget::DEFAULTS);
    /// # Ok::<(), perfcore::budget::BudgetError>(())
    /// ```
    #[must_use]
    pub fn check_budgets(&self, budgets: &Budgets) -> BudgetReport {
        budgets.check(&self.snapshot())
    }
}

/// A limit a function exceeded.
///
/// # Examples
/// ```
/// # let b = perfcore::budget::Budgets::from_toml_str("[functions.f]\nmax = \"0ns\"")?;
/// # let p = perfcore::PerformanceProfiler::new();
/// # { let _g = p.scope("f").unwrap(); }
/// let v = &p.check_budgets(&b).violations[0];
/// assert!(v.actual > v.limit);
/// println!("{v}"); // f: max 12.00 µs exceeds the limit 0 ns (pattern "f")
/// # Ok::<(), perfcore::budget::BudgetError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BudgetViolation {
    /// The function's name.
    pub function: String,
    /// The pattern whose limit it exceeded, or [`DEFAULTS`].
    pub pattern: String,
    /// The figure limited.
    pub key: BudgetKey,
    /// The limit, in the key's unit (nanoseconds for durations, a fraction for the error
    /// rate, bytes, allocations, calls per second).
    pub limit: f64,
    /// The function's figure, in the same unit.
    pub actual: f64,
    /// The function's calls in the snapshot.
    pub calls: u64,
}

impl BudgetViolation {
    /// How far over the limit the figure is, as a factor: `1.25` is 25% over (for
    /// `min_calls_per_sec`, the limit over the figure); infinite over a limit of zero.
    ///
    /// # Examples
    /// ```
    /// # let b = perfcore::budget::Budgets::from_toml_str("[functions.f]\nmax = \"0ns\"")?;
    /// # let p = perfcore::PerformanceProfiler::new();
    /// # { let _g = p.scope("f").unwrap(); }
    /// assert!(p.check_budgets(&b).violations[0].excess() > 1.0);
    /// # Ok::<(), perfcore::budget::BudgetError>(())
    /// ```
    #[must_use]
    pub fn excess(&self) -> f64 {
        let (over, under) =
            if self.key.is_floor() { (self.limit, self.actual) } else { (self.actual, self.limit) };
        if under == 0.0 { f64::INFINITY } else { over / under }
    }

    fn format_excess(&self) -> String {
        match self.excess() {
            x if x.is_infinite() => "over 0".to_owned(),
            x if x < 2.0 => format!("+{:.1}%", (x - 1.0) * 100.0),
            x => format!("×{x:.1}"),
        }
    }
}

impl fmt::Display for BudgetViolation {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let verb = if self.key.is_floor() { "is below" } else { "exceeds" };
        write!(
            f,
            "{}: {} {} {verb} the limit {} (pattern \"{}\")",
            self.function,
            self.key,
            self.key.format(self.actual),
            self.key.format(self.limit),
            self.pattern
        )
    }
}

/// A function not judged by a pattern because it had fewer calls than its `min_calls`.
///
/// # Examples
/// ```
/// # let b = perfcore::budget::Budgets::from_toml_str("[functions.f]\nmax = \"1s\"\nmin_calls = 5")?;
/// # let p = perfcore::PerformanceProfiler::new();
/// # { let _g = p.scope("f").unwrap(); }
/// let s = &p.check_budgets(&b).skipped[0];
/// assert_eq!((s.calls, s.min_calls), (1, 5));
/// # Ok::<(), perfcore::budget::BudgetError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct SkippedFunction {
    /// The function's name.
    pub function: String,
    /// The pattern that asked for more calls, or [`DEFAULTS`].
    pub pattern: String,
    /// Calls in the snapshot.
    pub calls: u64,
    /// The calls the pattern requires.
    pub min_calls: u64,
}

/// A limit that could not be judged because its figure was not measured.
///
/// # Examples
/// ```
/// # let b = perfcore::budget::Budgets::from_toml_str("[functions.f]\nbytes_per_call = 64")?;
/// # let p = perfcore::PerformanceProfiler::new();
/// # { let _g = p.scope("f").unwrap(); }
/// let report = p.check_budgets(&b); // no tracking allocator in doc tests
/// assert!(report.passed() && !report.fully_measured());
/// assert!(report.not_measured[0].why.contains("tracking allocator"));
/// # Ok::<(), perfcore::budget::BudgetError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize)]
#[non_exhaustive]
pub struct NotMeasured {
    /// The function's name.
    pub function: String,
    /// The pattern of the limit, or [`DEFAULTS`].
    pub pattern: String,
    /// The figure that was not measured.
    pub key: BudgetKey,
    /// Why not, and what would measure it.
    pub why: &'static str,
}

/// The outcome of [`Budgets::check`]: what was exceeded, skipped, not measured or unmatched.
///
/// `Display` prints a table, worst first (function, limit, actual, how far over, pattern);
/// [`BudgetReport::to_markdown`]
/// renders one for a pull-request comment; it serialises (with `serde`) for JSON output.
///
/// # Examples
/// ```
/// let report = perfcore::budget::BudgetReport::default();
/// assert!(report.passed());
/// assert!(report.to_string().starts_with("budgets: all 0 limits met"));
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize)]
#[non_exhaustive]
pub struct BudgetReport {
    /// Limits exceeded, by function name and then key.
    pub violations: Vec<BudgetViolation>,
    /// Functions a pattern did not judge for lack of calls.
    pub skipped: Vec<SkippedFunction>,
    /// Limits whose figure was not measured.
    pub not_measured: Vec<NotMeasured>,
    /// Function patterns that matched no function of the snapshot (a warning: often a typo).
    pub unmatched_patterns: Vec<String>,
    /// Limits judged (met, exceeded or not measured).
    pub checked: usize,
}

impl BudgetReport {
    /// Whether no limit was exceeded.
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::budget::BudgetReport::default().passed());
    /// ```
    #[must_use]
    pub fn passed(&self) -> bool {
        self.violations.is_empty()
    }

    /// Whether every limit could be judged: nothing in [`BudgetReport::not_measured`].
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::budget::BudgetReport::default().fully_measured());
    /// ```
    #[must_use]
    pub fn fully_measured(&self) -> bool {
        self.not_measured.is_empty()
    }

    fn headline(&self) -> String {
        let mut s = if self.passed() {
            format!("all {} limits met", self.checked - self.not_measured.len())
        } else {
            format!("{} of {} limits exceeded", self.violations.len(), self.checked)
        };
        for (n, what) in [
            (self.not_measured.len(), "not measured"),
            (self.skipped.len(), "skipped (too few calls)"),
            (self.unmatched_patterns.len(), "patterns matched nothing"),
        ] {
            if n > 0 {
                let _ = write!(s, ", {n} {what}");
            }
        }
        s
    }

    /// The violations worst first (by [`BudgetViolation::excess`]), as table cells.
    fn rows(&self) -> Vec<[String; 5]> {
        let mut worst: Vec<&BudgetViolation> = self.violations.iter().collect();
        worst.sort_by(|a, b| b.excess().total_cmp(&a.excess()));
        worst
            .into_iter()
            .map(|v| {
                let op = if v.key.is_floor() { ">=" } else { "<=" };
                [
                    v.function.clone(),
                    format!("{} {op} {}", v.key, v.key.format(v.limit)),
                    v.key.format(v.actual),
                    v.format_excess(),
                    v.pattern.clone(),
                ]
            })
            .collect()
    }

    /// The report as Markdown, for a pull-request comment: a headline, a table of the
    /// violations worst first, then the warnings.
    ///
    /// # Examples
    /// ```
    /// # let b = perfcore::budget::Budgets::from_toml_str("[functions.f]\nmax = \"0ns\"")?;
    /// # let p = perfcore::PerformanceProfiler::new();
    /// # { let _g = p.scope("f").unwrap(); }
    /// let md = p.check_budgets(&b).to_markdown();
    /// assert!(md.contains("| Function | Limit | Actual | Over | Pattern |"));
    /// assert!(md.contains("| `f` | max <= 0 ns |"));
    /// # Ok::<(), perfcore::budget::BudgetError>(())
    /// ```
    #[must_use]
    pub fn to_markdown(&self) -> String {
        let mark = if self.passed() { "✅" } else { "❌" };
        let mut md = format!("### {mark} Performance budgets: {}\n", self.headline());
        let rows = self.rows();
        if !rows.is_empty() {
            md.push_str(
                "\n| Function | Limit | Actual | Over | Pattern |\n|---|---|---:|---:|---|\n",
            );
            for [function, limit, actual, over, pattern] in rows {
                let _ = writeln!(
                    md,
                    "| `{function}` | {limit} | **{actual}** | {over} | `{pattern}` |"
                );
            }
        }
        let notes = self.notes();
        if !notes.is_empty() {
            md.push('\n');
            for note in notes {
                let _ = writeln!(md, "- {note}");
            }
        }
        md
    }

    fn notes(&self) -> Vec<String> {
        let mut notes: Vec<String> = self
            .unmatched_patterns
            .iter()
            .map(|p| format!("warning: pattern \"{p}\" matched no function"))
            .collect();
        notes.extend(self.not_measured.iter().map(|n| {
            format!(
                "not measured: {} of {} (pattern \"{}\"): {}",
                n.key, n.function, n.pattern, n.why
            )
        }));
        notes.extend(self.skipped.iter().map(|s| {
            format!(
                "skipped: {} has {} calls, pattern \"{}\" needs min_calls = {}",
                s.function, s.calls, s.pattern, s.min_calls
            )
        }));
        notes
    }
}

impl fmt::Display for BudgetReport {
    /// A headline, a table of violations worst first (function, limit, actual, how far over,
    /// pattern), then warnings.
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(f, "budgets: {}", self.headline())?;
        let mut rows = self.rows();
        if !rows.is_empty() {
            rows.insert(0, ["function", "limit", "actual", "over", "pattern"].map(String::from));
            let mut width = [0; 5];
            for row in &rows {
                for (w, cell) in width.iter_mut().zip(row) {
                    *w = (*w).max(cell.chars().count());
                }
            }
            for [function, limit, actual, over, pattern] in &rows {
                let [a, b, c, d, _] = width;
                writeln!(f, "{function:<a$}  {limit:<b$}  {actual:>c$}  {over:>d$}  {pattern}")?;
            }
        }
        for note in self.notes() {
            writeln!(f, "{note}")?;
        }
        Ok(())
    }
}

#[cfg(test)]
mod tests;
