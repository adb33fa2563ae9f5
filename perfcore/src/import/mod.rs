//! Other tools' benchmark results read into a [`Snapshot`], so perfcore can judge them:
//! criterion's saved results and pytest-benchmark's JSON.
//!
//! Each benchmark becomes one [`FunctionStats`](crate::FunctionStats) whose histogram holds
//! its measured samples (per-iteration times, rounded to whole nanoseconds); `count` is the
//! number of samples, not of iterations. Imported snapshots have no time window (so no calls
//! per second), no call tree, no errors and no allocation figures.
//!
//! What cannot be imported is listed in [`ImportedRun::skipped`] with the reason (a benchmark
//! without samples, a NaN time), and a file that is not what it should be is an
//! [`ImportError`] naming the file, the line and column, and the field.
//!
//! # Examples
//! ```
//! # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/criterion");
//! // `dir` is a `target/criterion` directory
//! let run = perfcore::import::criterion(&dir, "new")?;
//! let f = run.snapshot.function("snapshot/from_json_1000_callsites").unwrap();
//! assert_eq!(f.count, 20); // criterion's 20 samples
//! # Ok::<(), perfcore::import::ImportError>(())
//! ```

mod criterion;
mod pytest;

use std::fmt;
use std::path::{Path, PathBuf};

use serde::Deserialize;

use crate::Snapshot;

pub use criterion::criterion;
pub use pytest::pytest_benchmark;

/// A result file or directory could not be imported.
///
/// # Examples
/// ```
/// let err = perfcore::import::pytest_benchmark("/no/such/bench.json".as_ref()).unwrap_err();
/// assert_eq!(err.to_string(), "cannot read /no/such/bench.json");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ImportError {
    /// A file or directory could not be read; check the path and its permissions.
    #[error("cannot read {}", .path.display())]
    Io {
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// A file is not valid JSON, or a field has the wrong type or is missing; the file was
    /// damaged or was not written by the tool it is imported as.
    #[error("{}:{line}:{column}: {problem}", .path.display())]
    Parse {
        /// The file.
        path: PathBuf,
        /// The line of the problem, from 1.
        line: usize,
        /// The column of the problem, from 1.
        column: usize,
        /// What the JSON parser said, naming the field (its position removed).
        problem: String,
    },
    /// A field parsed but cannot be right (sample lists of different lengths); the file was
    /// edited or damaged.
    #[error("{}: field `{field}`: {problem}", .path.display())]
    Field {
        /// The file.
        path: PathBuf,
        /// The field, as a path such as `benchmarks[2].stats.data`.
        field: String,
        /// What is wrong with it.
        problem: String,
    },
    /// No criterion benchmark was found under the directory; pass `target/criterion` or one
    /// benchmark's directory.
    #[error("no criterion benchmarks under {}", .path.display())]
    NoCriterionBenchmarks {
        /// The directory searched.
        path: PathBuf,
    },
    /// Benchmarks were found but none has the baseline asked for; pass one of those listed.
    #[error(
        "no criterion benchmark under {} has a baseline `{baseline}`; found: {}",
        .path.display(),
        .available.join(", ")
    )]
    NoSuchBaseline {
        /// The directory searched.
        path: PathBuf,
        /// The baseline asked for.
        baseline: String,
        /// The baselines the benchmarks have.
        available: Vec<String>,
    },
    /// [`detect`] did not recognise the input; give a perfcore snapshot or baseline, a
    /// criterion directory, or a pytest-benchmark JSON file.
    #[error("{} is not a perfcore snapshot or baseline, a criterion directory or a pytest-benchmark file", .path.display())]
    NotRecognized {
        /// The file or directory.
        path: PathBuf,
    },
}

impl ImportError {
    fn parse(path: &Path, e: &serde_json::Error) -> Self {
        // serde_json's message ends with " at line L column C": we report those as fields.
        let message = e.to_string();
        let problem = match message.rfind(" at line ") {
            Some(i) if e.line() > 0 => message[..i].to_owned(),
            _ => message,
        };
        Self::Parse { path: path.into(), line: e.line(), column: e.column(), problem }
    }

    fn field(path: &Path, field: impl Into<String>, problem: impl Into<String>) -> Self {
        Self::Field { path: path.into(), field: field.into(), problem: problem.into() }
    }
}

fn read(path: &Path) -> Result<String, ImportError> {
    std::fs::read_to_string(path).map_err(|source| ImportError::Io { path: path.into(), source })
}

fn from_json<'a, T: Deserialize<'a>>(path: &Path, text: &'a str) -> Result<T, ImportError> {
    serde_json::from_str(text).map_err(|e| ImportError::parse(path, &e))
}

/// Where an [`ImportedRun`] came from.
///
/// # Examples
/// ```
/// # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/criterion");
/// let run = perfcore::import::criterion(&dir, "base")?;
/// assert!(matches!(run.source, perfcore::import::ImportSource::Criterion { ref baseline } if baseline == "base"));
/// # Ok::<(), perfcore::import::ImportError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ImportSource {
    /// criterion's saved results of one baseline (`new`, `base`, or a `--save-baseline` name).
    Criterion {
        /// The baseline's name.
        baseline: String,
    },
    /// A pytest-benchmark JSON file (`--benchmark-json`, or one saved by `--benchmark-save`).
    PytestBenchmark {
        /// pytest-benchmark's version, as the file gives it.
        version: Option<String>,
    },
}

/// A benchmark pytest-benchmark saved without its samples (`--benchmark-save` without
/// `--benchmark-save-data`): only its summary statistics, in nanoseconds per iteration.
///
/// perfcore does not invent samples from them, so these benchmarks are not in
/// [`ImportedRun::snapshot`]. What they allow: comparing the median, mean, min and max of two
/// runs as point estimates, with the standard deviation and quartiles as a rough noise scale;
/// not a confidence interval, a test on the distributions, or any p95 or p99 (those need the
/// samples). Budgets, which read snapshots, do not judge them.
///
/// # Examples
/// ```
/// # let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytest-benchmark/summary-only.json");
/// let run = perfcore::import::pytest_benchmark(&path)?;
/// let fib = &run.summary_only[0];
/// assert!(fib.min_ns <= fib.median_ns && fib.median_ns <= fib.max_ns);
/// # Ok::<(), perfcore::import::ImportError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct SummaryOnly {
    /// The benchmark's name (pytest's full name, `file.py::test[param]`).
    pub name: String,
    /// pytest-benchmark's group, when it has one.
    pub group: Option<String>,
    /// Rounds measured.
    pub rounds: u64,
    /// Iterations per round.
    pub iterations: u64,
    /// Fastest round.
    pub min_ns: f64,
    /// Slowest round.
    pub max_ns: f64,
    /// Mean.
    pub mean_ns: f64,
    /// Median.
    pub median_ns: f64,
    /// Standard deviation.
    pub stddev_ns: f64,
    /// First quartile.
    pub q1_ns: f64,
    /// Third quartile.
    pub q3_ns: f64,
}

/// Something an import left out, and why.
///
/// # Examples
/// ```
/// let s = perfcore::import::Skipped { what: "a/b".into(), why: "no sample.json".into() };
/// assert_eq!(s.to_string(), "a/b: no sample.json");
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
pub struct Skipped {
    /// The benchmark, sample or round left out.
    pub what: String,
    /// Why.
    pub why: String,
}

impl fmt::Display for Skipped {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.what, self.why)
    }
}

/// Another tool's results as a perfcore snapshot, with what the tool said of the machine.
///
/// # Examples
/// ```
/// # let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures/pytest-benchmark/with-data.json");
/// let run = perfcore::import::pytest_benchmark(&path)?;
/// assert_eq!(run.branch.as_deref(), Some("main"));
/// assert!(run.runtime.as_deref().unwrap().starts_with("CPython 3."));
/// assert!(run.summary_only.is_empty() && run.skipped.is_empty());
/// # Ok::<(), perfcore::import::ImportError>(())
/// ```
#[derive(Clone, Debug, PartialEq)]
#[non_exhaustive]
pub struct ImportedRun {
    /// One function per benchmark that had samples.
    pub snapshot: Snapshot,
    /// The tool and the baseline or version.
    pub source: ImportSource,
    /// The CPU model, when the tool recorded it.
    pub cpu: Option<String>,
    /// The runtime, e.g. `CPython 3.11.7`, when the tool recorded it.
    pub runtime: Option<String>,
    /// The host name, when the tool recorded it.
    pub host: Option<String>,
    /// The git commit of the run, when the tool recorded it.
    pub commit: Option<String>,
    /// The git branch of the run, when the tool recorded it.
    pub branch: Option<String>,
    /// Benchmarks with summary statistics but no samples (not in the snapshot).
    pub summary_only: Vec<SummaryOnly>,
    /// What was left out, and why.
    pub skipped: Vec<Skipped>,
}

impl ImportedRun {
    fn new(source: ImportSource) -> Self {
        Self {
            snapshot: Snapshot::default(),
            source,
            cpu: None,
            runtime: None,
            host: None,
            commit: None,
            branch: None,
            summary_only: Vec::new(),
            skipped: Vec::new(),
        }
    }

    fn skip(&mut self, what: impl Into<String>, why: impl Into<String>) {
        self.skipped.push(Skipped { what: what.into(), why: why.into() });
    }
}

/// What kind of input a path holds, told by its content (not its name).
///
/// # Examples
/// ```
/// # let dir = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/fixtures");
/// use perfcore::import::{InputKind, detect};
/// assert_eq!(detect(&dir.join("criterion"))?, InputKind::Criterion);
/// assert_eq!(detect(&dir.join("pytest-benchmark/with-data.json"))?, InputKind::PytestBenchmark);
/// # Ok::<(), perfcore::import::ImportError>(())
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum InputKind {
    /// A perfcore snapshot ([`Snapshot::read_json`]).
    Snapshot,
    /// A perfcore baseline (JSON with a `schema_version` and a `snapshot`).
    Baseline,
    /// A criterion directory: `target/criterion` or one benchmark's directory.
    Criterion,
    /// A pytest-benchmark JSON file.
    PytestBenchmark,
}

/// Tells a perfcore snapshot, a perfcore baseline, a criterion directory and a
/// pytest-benchmark file apart, by their content.
///
/// # Errors
/// [`ImportError::Io`] if the path cannot be read, [`ImportError::Parse`] for a file that is
/// not JSON, and [`ImportError::NotRecognized`] for anything else.
///
/// # Examples
/// ```
/// let path = std::env::temp_dir().join(format!("perfcore-detect-{}.json", std::process::id()));
/// perfcore::Snapshot::default().write_json(&path).unwrap();
/// assert_eq!(perfcore::import::detect(&path)?, perfcore::import::InputKind::Snapshot);
/// # std::fs::remove_file(path).unwrap();
/// # Ok::<(), perfcore::import::ImportError>(())
/// ```
pub fn detect(path: &Path) -> Result<InputKind, ImportError> {
    /// The top-level keys that tell the formats apart; every other key is ignored.
    #[derive(Deserialize)]
    struct Keys {
        schema_version: Option<serde::de::IgnoredAny>,
        functions: Option<serde::de::IgnoredAny>,
        snapshot: Option<serde::de::IgnoredAny>,
        benchmarks: Option<Vec<serde::de::IgnoredAny>>,
        machine_info: Option<serde::de::IgnoredAny>,
    }
    let meta =
        std::fs::metadata(path).map_err(|source| ImportError::Io { path: path.into(), source })?;
    let unknown = || ImportError::NotRecognized { path: path.into() };
    if meta.is_dir() {
        return if criterion::looks_like_criterion(path) {
            Ok(InputKind::Criterion)
        } else {
            Err(unknown())
        };
    }
    let text = read(path)?;
    let keys: Keys = match serde_json::from_str(&text) {
        Ok(k) => k,
        // Valid JSON of another shape (an array, a string) is simply not ours.
        Err(e) if e.is_data() => return Err(unknown()),
        Err(e) => return Err(ImportError::parse(path, &e)),
    };
    match keys {
        // A baseline (perfcore::baseline) holds its snapshot under `snapshot`.
        Keys { schema_version: Some(_), snapshot: Some(_), .. } => Ok(InputKind::Baseline),
        Keys { schema_version: Some(_), functions: Some(_), .. } => Ok(InputKind::Snapshot),
        Keys { benchmarks: Some(_), machine_info: Some(_), .. } => Ok(InputKind::PytestBenchmark),
        _ => Err(unknown()),
    }
}

/// Nanoseconds from a time in `unit_ns` units, rounded, when it is a usable duration.
fn to_ns(value: f64, unit_ns: f64) -> Result<u64, &'static str> {
    let ns = value * unit_ns;
    if !ns.is_finite() {
        Err("the time is not a finite number")
    } else if ns < 0.0 {
        Err("the time is negative")
    } else {
        // Saturates above u64::MAX ns (584 years): the histogram clamps at an hour anyway.
        Ok(ns.round() as u64)
    }
}
