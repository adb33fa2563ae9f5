//! What the command reads: files of any supported kind, or baselines of the store by name.

use std::io::Write;
use std::path::{Path, PathBuf};

use crate::baseline::{Baseline, BaselineError, BaselineStore, Environment, History, UNKNOWN};
use crate::error::{ProfileError, SnapshotError};
use crate::regress::{FunctionChangePoints, Metric};
use crate::stats::{RunSummary, Snapshot};

/// Why the command could not do what it was asked.
#[derive(Debug, thiserror::Error)]
pub(crate) enum InputError {
    #[error("`{what}` is neither a file nor a baseline in {}", .dir.display())]
    NotFound { what: String, dir: PathBuf },
    #[error("{}: not a perfcore snapshot or baseline ({why})", .path.display())]
    Unrecognised { path: PathBuf, why: &'static str },
    #[error("no function `{name}` in the history of {baseline}")]
    NoSuchFunction { name: String, baseline: String },
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    #[error(transparent)]
    Baseline(#[from] BaselineError),
    #[error(transparent)]
    Setting(#[from] ProfileError),
    #[error(transparent)]
    Import(#[from] crate::import::ImportError),
    #[error(transparent)]
    Budget(#[from] crate::budget::BudgetError),
    #[error("{0}")]
    Usage(String),
    #[error(transparent)]
    Report(#[from] crate::report::ReportError),
    #[error(transparent)]
    Cost(#[from] crate::cost::CostError),
    #[error(transparent)]
    Top(#[from] crate::top::TopError),
    #[error("cannot write the output")]
    Output(#[from] std::io::Error),
}

/// A run the command read, and where from.
pub(crate) struct Input {
    /// The argument it came from.
    pub(crate) source: String,
    /// What it is, for messages ("perfcore snapshot", "stored baseline").
    kind: &'static str,
    pub(crate) snapshot: Snapshot,
    /// The baseline, when the input was one (a file or a stored name).
    pub(crate) baseline: Option<Baseline>,
    /// The store's name for it, when it came from the store.
    stored: Option<String>,
    /// What was skipped reading it.
    warnings: Vec<String>,
    /// Where another tool's results say they were recorded.
    hints: Option<Hints>,
}

/// What an imported file says of where it ran.
struct Hints {
    cpu: Option<String>,
    runtime: Option<String>,
    host: Option<String>,
    commit: Option<String>,
    branch: Option<String>,
}

impl Input {
    /// Reads `arg`: a file or criterion directory if one exists there (`DIR@BASELINE` picks
    /// a criterion baseline, `new` by default), else a baseline of the store by that name.
    pub(crate) fn load(arg: &str, store: &BaselineStore) -> Result<Self, InputError> {
        let path = Path::new(arg);
        if path.is_file() {
            return Self::file(arg, path);
        }
        if path.is_dir() {
            return Self::criterion(arg, path, "new");
        }
        if let Some((dir, baseline)) = arg.rsplit_once('@')
            && Path::new(dir).is_dir()
        {
            return Self::criterion(arg, Path::new(dir), baseline);
        }
        // Not a file: a stored baseline, if the name could be one.
        if crate::baseline::validate_name(arg).is_ok() {
            match store.load(arg) {
                Ok(b) => {
                    return Ok(Self {
                        source: arg.to_owned(),
                        kind: "stored baseline",
                        snapshot: b.snapshot.clone(),
                        baseline: Some(b),
                        stored: Some(arg.to_owned()),
                        warnings: Vec::new(),
                        hints: None,
                    });
                }
                Err(BaselineError::NotFound { .. }) => {}
                Err(e) => return Err(e.into()),
            }
        }
        Err(InputError::NotFound { what: arg.to_owned(), dir: store.dir().to_path_buf() })
    }

    fn file(arg: &str, path: &Path) -> Result<Self, InputError> {
        use crate::import::InputKind;
        let kind = match crate::import::detect(path) {
            Ok(kind) => kind,
            // Not JSON: the snapshot reader says where, with line and column.
            Err(crate::import::ImportError::Parse { .. }) => {
                return Err(Snapshot::read_json(path).err().map_or_else(
                    || InputError::Unrecognised { path: path.into(), why: "unreadable" },
                    InputError::from,
                ));
            }
            Err(e) => return Err(e.into()),
        };
        let plain = |kind, snapshot, baseline| Self {
            source: arg.to_owned(),
            kind,
            snapshot,
            baseline,
            stored: None,
            warnings: Vec::new(),
            hints: None,
        };
        Ok(match kind {
            InputKind::Baseline => {
                let b = Baseline::read_json(path)?;
                plain("perfcore baseline", b.snapshot.clone(), Some(b))
            }
            InputKind::Snapshot => plain("perfcore snapshot", Snapshot::read_json(path)?, None),
            InputKind::PytestBenchmark => Self::imported(
                arg,
                "pytest-benchmark results",
                crate::import::pytest_benchmark(path)?,
            ),
            InputKind::Criterion => Self::criterion(arg, path, "new")?,
        })
    }

    fn criterion(arg: &str, dir: &Path, baseline: &str) -> Result<Self, InputError> {
        Ok(Self::imported(arg, "criterion results", crate::import::criterion(dir, baseline)?))
    }

    fn imported(arg: &str, kind: &'static str, run: crate::import::ImportedRun) -> Self {
        let mut warnings: Vec<String> =
            run.skipped.iter().map(|s| format!("skipped {}: {}", s.what, s.why)).collect();
        if !run.summary_only.is_empty() {
            warnings.push(format!(
                "{} benchmarks have summary statistics only, no rounds, and are left out \
                 (pytest-benchmark's --benchmark-json keeps the rounds)",
                run.summary_only.len()
            ));
        }
        Self {
            source: arg.to_owned(),
            kind,
            snapshot: run.snapshot,
            baseline: None,
            stored: None,
            warnings,
            hints: Some(Hints {
                cpu: run.cpu,
                runtime: run.runtime,
                host: run.host,
                commit: run.commit,
                branch: run.branch,
            }),
        }
    }

    /// Prints what was skipped reading it.
    pub(crate) fn warn(&self, err: &mut dyn Write) {
        for w in &self.warnings {
            let _ = writeln!(err, "warning: {}: {w}", self.source);
        }
    }

    /// Where the run was recorded: the baseline's environment, or this machine's for a file
    /// that does not say (with the build and runtime unknown: the command cannot tell how
    /// the profiled program was built).
    pub(crate) fn environment(&self) -> Environment {
        match &self.baseline {
            Some(b) => b.environment.clone(),
            None => {
                let mut env = Environment::capture();
                env.build_profile = UNKNOWN.to_owned();
                env.runtime = UNKNOWN.to_owned();
                if let Some(h) = &self.hints {
                    if h.cpu.is_some() {
                        env.cpu_model.clone_from(&h.cpu);
                    }
                    if let Some(r) = &h.runtime {
                        env.runtime.clone_from(r);
                    }
                    if h.host.is_some() {
                        env.host.clone_from(&h.host);
                    }
                    if let Some(commit) = &h.commit {
                        env.git =
                            Some(crate::baseline::GitInfo::new(commit.clone(), h.branch.clone()));
                    }
                }
                env
            }
        }
    }

    /// The run as a baseline (a snapshot gets this machine's environment, see above).
    pub(crate) fn as_baseline(&self) -> Result<Baseline, InputError> {
        match &self.baseline {
            Some(b) => Ok(b.clone()),
            None => Ok(Baseline::new("merged", self.snapshot.clone())?
                .with_environment(self.environment())),
        }
    }

    /// The run history of a stored baseline (empty for a file).
    pub(crate) fn history(&self, store: &BaselineStore) -> Result<Vec<RunSummary>, InputError> {
        match &self.stored {
            Some(name) => Ok(store.history(name)?.runs.into_iter().map(|r| r.summary).collect()),
            None => Ok(Vec::new()),
        }
    }

    /// One line on what the run is.
    pub(crate) fn describe(&self) -> String {
        let s = &self.snapshot;
        let head = format!(
            "{} ({}): {} functions, {} calls over {:.3} s",
            self.source,
            self.kind,
            s.functions.len(),
            s.total_calls(),
            s.window().as_secs_f64()
        );
        match &self.baseline {
            Some(b) => format!("{head}\n{}", describe_environment(&b.name, &b.environment)),
            None => head,
        }
    }
}

/// Where a baseline was recorded, in one line.
pub(crate) fn describe_environment(name: &str, e: &Environment) -> String {
    let git = e.git.as_ref().map_or_else(String::new, |g| {
        let short = &g.commit[..g.commit.len().min(12)];
        let branch = g.branch.as_deref().map_or_else(String::new, |b| format!(" on {b}"));
        format!(", commit {short}{branch}{}", if g.dirty { " (dirty)" } else { "" })
    });
    format!(
        "baseline {name}: recorded {}{git}, {} {} {}, {} cores, {} build, {}",
        fmt_unix_ns(e.created_unix_ns),
        e.cpu_model.as_deref().unwrap_or("unknown CPU"),
        e.os,
        e.arch,
        e.cores.map_or_else(|| "?".to_owned(), |n| n.to_string()),
        e.build_profile,
        e.runtime
    )
}

pub(crate) use crate::stats::fmt_unix_ns;

pub(crate) fn to_json<T: serde::Serialize>(value: &T) -> String {
    // Plain data with string keys and finite numbers: serialisation cannot fail.
    serde_json::to_string_pretty(value).expect("plain data always serialises")
}

fn commit_of(history: &History, index: usize) -> String {
    history.runs[index]
        .environment
        .git
        .as_ref()
        .map_or_else(|| "-".to_owned(), |g| g.commit[..g.commit.len().min(10)].to_owned())
}

/// One function's series, run by run, with the steps marked.
pub(crate) fn print_series(
    out: &mut dyn Write,
    history: &History,
    function: &str,
    metric: Metric,
    found: &FunctionChangePoints,
) -> std::io::Result<()> {
    writeln!(out, "{:>6}  {:<20}  {:<10}  {:>12}", "run", "recorded", "commit", metric.name())?;
    for (i, run) in history.runs.iter().enumerate() {
        let Some(value) = run.summary.function(function).and_then(|f| metric.of(f)) else {
            continue;
        };
        let step = found.points.iter().find(|p| p.index == i).map_or_else(String::new, |p| {
            format!("  ← step {:+.1}% (confidence {:.3})", p.change_percent, p.confidence)
        });
        writeln!(
            out,
            "{:>6}  {:<20}  {:<10}  {:>12}{step}",
            run.id,
            fmt_unix_ns(run.environment.created_unix_ns),
            commit_of(history, i),
            crate::regress::fmt_value(metric, value)
        )?;
    }
    Ok(())
}

/// Every function's steps: the run each began at, its size and confidence.
pub(crate) fn print_change_points(
    out: &mut dyn Write,
    history: &History,
    found: &[FunctionChangePoints],
) -> std::io::Result<()> {
    let with: Vec<&FunctionChangePoints> = found.iter().filter(|f| !f.points.is_empty()).collect();
    if with.is_empty() {
        return writeln!(out, "no change points in {} functions", found.len());
    }
    writeln!(
        out,
        "{:<40} {:>6} {:<10} {:>12} {:>12} {:>8} {:>10}",
        "function", "run", "commit", "before", "after", "change", "confidence"
    )?;
    for f in with {
        for p in &f.points {
            writeln!(
                out,
                "{:<40} {:>6} {:<10} {:>12} {:>12} {:>+7.1}% {:>10.3}",
                f.function,
                history.runs[p.index].id,
                commit_of(history, p.index),
                crate::regress::fmt_value(f.metric, p.before),
                crate::regress::fmt_value(f.metric, p.after),
                p.change_percent,
                p.confidence
            )?;
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    #[test]
    fn civil_dates() {
        assert_eq!(super::fmt_unix_ns(0), "1970-01-01 00:00:00Z");
        assert_eq!(super::fmt_unix_ns(1_764_588_949_000_000_000), "2025-12-01 11:35:49Z");
        assert_eq!(super::fmt_unix_ns(951_782_400_000_000_000), "2000-02-29 00:00:00Z");
    }
}
