//! `BaselineStore`: baselines and run histories in a directory, safe across processes.

use std::collections::BTreeMap;
use std::ffi::OsString;
use std::fs::File;
use std::path::{Path, PathBuf};

use serde::{Deserialize, Serialize};

use super::document::{self, BASELINE_SCHEMA_VERSION, validate_name};
use super::env::Environment;
use super::error::{BaselineError, FileKind};
use super::file::Baseline;
use crate::error::IoAction;
use crate::stats::RunSummary;

/// How many runs a history keeps unless told otherwise ([`BaselineStore::with_retention`]).
///
/// # Examples
/// ```
/// let store = perfcore::baseline::BaselineStore::open("unused");
/// assert_eq!(store.retention(), perfcore::baseline::DEFAULT_RETENTION);
/// ```
pub const DEFAULT_RETENTION: usize = 100;

/// The environment variable that overrides the default store directory.
///
/// # Examples
/// ```
/// assert_eq!(perfcore::baseline::PERFCORE_DIR_VAR, "PERFCORE_DIR");
/// ```
pub const PERFCORE_DIR_VAR: &str = "PERFCORE_DIR";

/// The directory [`BaselineStore::open_default`] uses, given the value of `PERFCORE_DIR`:
/// that value when set and non-empty, else `.perfcore` (relative: in the working directory).
///
/// # Examples
/// ```
/// use perfcore::baseline::resolve_dir;
/// use std::path::Path;
/// assert_eq!(resolve_dir(None), Path::new(".perfcore"));
/// assert_eq!(resolve_dir(Some("".into())), Path::new(".perfcore"));
/// assert_eq!(resolve_dir(Some("/ci/perf".into())), Path::new("/ci/perf"));
/// ```
#[must_use]
pub fn resolve_dir(perfcore_dir: Option<OsString>) -> PathBuf {
    match perfcore_dir {
        Some(dir) if !dir.is_empty() => PathBuf::from(dir),
        _ => PathBuf::from(".perfcore"),
    }
}

/// One recorded run in a [`History`]: the few figures per function that change-point
/// detection reads, not the histograms.
///
/// # Examples
/// ```
/// # let dir = std::env::temp_dir().join(format!("perfcore-doc-run-{}", std::process::id()));
/// use perfcore::baseline::{BaselineStore, Environment};
/// let store = BaselineStore::open(&dir);
/// let summary = perfcore::Snapshot::default().summary();
/// store.record_run("ci", Environment::capture(), Default::default(), summary)?;
/// let run = &store.history("ci")?.runs[0];
/// assert_eq!(run.id, 1);
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), perfcore::baseline::BaselineError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Run {
    /// The run's number in its history: 1 for the first, then always increasing (ids of runs
    /// dropped by retention are not reused).
    pub id: u64,
    /// Where it ran.
    pub environment: Environment,
    /// The labels it was recorded with.
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// Its figures.
    pub summary: RunSummary,
}

/// The runs recorded under one name, oldest first.
///
/// # Examples
/// ```
/// # let dir = std::env::temp_dir().join(format!("perfcore-doc-hist-{}", std::process::id()));
/// let store = perfcore::baseline::BaselineStore::open(&dir);
/// let history = store.history("nothing-yet")?;
/// assert!(history.runs.is_empty() && history.latest().is_none());
/// # Ok::<(), perfcore::baseline::BaselineError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct History {
    /// The file's schema version, [`BASELINE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The name the runs were recorded under.
    pub name: String,
    /// The runs kept, oldest first.
    pub runs: Vec<Run>,
}

impl History {
    /// The most recent run.
    ///
    /// # Examples
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("perfcore-doc-latest-{}", std::process::id()));
    /// # let store = perfcore::baseline::BaselineStore::open(&dir);
    /// # let env = perfcore::baseline::Environment::capture();
    /// for _ in 0..3 {
    ///     store.record_run("ci", env.clone(), Default::default(), Default::default())?;
    /// }
    /// assert_eq!(store.history("ci")?.latest().map(|r| r.id), Some(3));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), perfcore::baseline::BaselineError>(())
    /// ```
    #[must_use]
    pub fn latest(&self) -> Option<&Run> {
        self.runs.last()
    }

    fn empty(name: &str) -> Self {
        Self { schema_version: BASELINE_SCHEMA_VERSION, name: name.to_owned(), runs: Vec::new() }
    }

    fn parse(text: &str, path: &Path, name: &str) -> Result<Self, BaselineError> {
        let mut h: History = document::parse(text, FileKind::History, Some(path))?;
        let bad = |field: String, problem: String| {
            document::inconsistent(FileKind::History, Some(path), field, problem)
        };
        if h.name != name {
            return Err(bad(
                "name".into(),
                format!("{:?} is not the file's name {name:?}", h.name),
            ));
        }
        for (i, pair) in h.runs.windows(2).enumerate() {
            if pair[1].id <= pair[0].id {
                let (a, b) = (pair[0].id, pair[1].id);
                return Err(bad(format!("runs[{}].id", i + 1), format!("{b} does not follow {a}")));
            }
        }
        for (i, run) in h.runs.iter().enumerate() {
            check_summary(&run.summary, &format!("runs[{i}].summary"), Some(path))?;
        }
        h.schema_version = BASELINE_SCHEMA_VERSION;
        Ok(h)
    }
}

/// Checks what readers of a summary rely on: functions sorted by name, once each (lookups
/// search them), no more errors than calls, a mean that is a duration. Run on what is read
/// and on what is about to be written, so the store never writes a file it would refuse.
fn check_summary(summary: &RunSummary, at: &str, path: Option<&Path>) -> Result<(), BaselineError> {
    let functions = &summary.functions;
    for (j, f) in functions.iter().enumerate() {
        let bad = |field: &str, problem: String| {
            document::inconsistent(
                FileKind::History,
                path,
                format!("{at}.functions[{j}].{field}"),
                problem,
            )
        };
        if j > 0 && functions[j - 1].name >= f.name {
            return Err(bad("name", format!("{:?} is out of order or repeated", f.name)));
        }
        if f.errors > f.count {
            return Err(bad("errors", format!("{} errors in {} calls", f.errors, f.count)));
        }
        if !(f.mean_ns.is_finite() && f.mean_ns >= 0.0) {
            return Err(bad("mean_ns", format!("{} is not a duration", f.mean_ns)));
        }
    }
    Ok(())
}

/// What [`BaselineStore::save`] and [`BaselineStore::record_run`] recorded.
///
/// # Examples
/// ```
/// # let dir = std::env::temp_dir().join(format!("perfcore-doc-saved-{}", std::process::id()));
/// # let store = perfcore::baseline::BaselineStore::open(&dir).with_retention(1)?;
/// # let env = perfcore::baseline::Environment::capture();
/// store.record_run("ci", env.clone(), Default::default(), Default::default())?;
/// let saved = store.record_run("ci", env, Default::default(), Default::default())?;
/// assert_eq!((saved.id, saved.dropped), (2, 1));
/// assert!(saved.history.ends_with("history/ci.json"));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), perfcore::baseline::BaselineError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct SavedRun {
    /// The name recorded under.
    pub name: String,
    /// The new run's id in the history.
    pub id: u64,
    /// The history file.
    pub history: PathBuf,
    /// How many of the oldest runs retention dropped to make room.
    pub dropped: usize,
}

/// One baseline of a store, as [`BaselineStore::list`] describes it.
///
/// # Examples
/// ```
/// # let dir = std::env::temp_dir().join(format!("perfcore-doc-info-{}", std::process::id()));
/// # let store = perfcore::baseline::BaselineStore::open(&dir);
/// store.save(&perfcore::baseline::Baseline::new("main", perfcore::Snapshot::default())?)?;
/// let info = store.list()?.remove(0)?;
/// assert_eq!((info.name.as_str(), info.functions, info.runs), ("main", 0, 1));
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), perfcore::baseline::BaselineError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub struct BaselineInfo {
    /// The baseline's name.
    pub name: String,
    /// When its environment was captured (Unix time, ns).
    pub created_unix_ns: u64,
    /// The git commit it was recorded at.
    pub commit: Option<String>,
    /// How many functions its snapshot holds.
    pub functions: usize,
    /// How many runs its history holds.
    pub runs: usize,
}

/// Baselines and run histories in a directory, plain pretty JSON meant to be committed:
///
/// ```text
/// <dir>/baselines/<name>.json   one Baseline each
/// <dir>/history/<name>.json     {"schema_version", "name", "runs": [{"id", "environment",
///                               "labels", "summary"}, ...]}, oldest run first
/// <dir>/.lock                   empty; locked while a process writes
/// ```
///
/// **Writes** (save, record_run, delete) hold an exclusive lock on `.lock` (std's
/// [`File::lock`], an advisory `flock` on Unix and `LockFileEx` on Windows; no crate is
/// needed since Rust 1.89), so writers in several processes or threads take turns and
/// none loses another's run. Each file is replaced atomically (temporary file, fsync,
/// rename, fsync of the directory), so a crash leaves the old file or the new one. The lock
/// is released by the OS when a process dies, even by `kill -9`.
///
/// **Reads** (load, list, history) take no lock: every file is only ever replaced by a
/// rename, so a reader sees a complete old or new version without waiting for writers, and
/// reading works in a checkout where the directory is read-only. (A reader may see a new
/// baseline whose run is not yet in the history, a moment later than the baseline.)
///
/// Opening touches nothing; the directories are made on the first write, so opening a
/// missing directory lists nothing.
///
/// # Examples
/// ```
/// # let dir = std::env::temp_dir().join(format!("perfcore-doc-store-{}", std::process::id()));
/// use perfcore::baseline::{Baseline, BaselineStore};
/// let store = BaselineStore::open(&dir);
/// let p = perfcore::PerformanceProfiler::new();
/// { let _g = p.scope("parse").unwrap(); }
/// let saved = store.save(&Baseline::new("main", p.snapshot())?)?;
/// assert_eq!(saved.id, 1);
/// assert_eq!(store.load("main")?.snapshot.function("parse").unwrap().count, 1);
/// assert_eq!(store.history("main")?.runs.len(), 1);
/// store.delete("main")?;
/// assert!(store.list()?.is_empty());
/// # std::fs::remove_dir_all(&dir).unwrap();
/// # Ok::<(), perfcore::baseline::BaselineError>(())
/// ```
#[derive(Clone, Debug)]
pub struct BaselineStore {
    dir: PathBuf,
    retention: usize,
}

/// The exclusive lock on a store; released when dropped (the file is closed).
struct WriteLock {
    _file: File,
}

impl BaselineStore {
    /// A store in `dir`, which need not exist yet.
    ///
    /// # Examples
    /// ```
    /// let store = perfcore::baseline::BaselineStore::open("/tmp/perf");
    /// assert_eq!(store.dir(), std::path::Path::new("/tmp/perf"));
    /// ```
    #[must_use]
    pub fn open(dir: impl Into<PathBuf>) -> Self {
        Self { dir: dir.into(), retention: DEFAULT_RETENTION }
    }

    /// The store in `$PERFCORE_DIR` when it is set, else in `.perfcore` in the working
    /// directory: see [`resolve_dir`].
    ///
    /// # Examples
    /// ```
    /// let store = perfcore::baseline::BaselineStore::open_default();
    /// if std::env::var_os("PERFCORE_DIR").is_none() {
    ///     assert_eq!(store.dir(), std::path::Path::new(".perfcore"));
    /// }
    /// ```
    #[must_use]
    pub fn open_default() -> Self {
        Self::open(resolve_dir(std::env::var_os(PERFCORE_DIR_VAR)))
    }

    /// This store keeping at most `runs` runs per history; appending to a full history drops
    /// the oldest.
    ///
    /// # Errors
    /// [`BaselineError::ZeroRetention`] for 0.
    ///
    /// # Examples
    /// ```
    /// use perfcore::baseline::BaselineStore;
    /// assert_eq!(BaselineStore::open("d").with_retention(500)?.retention(), 500);
    /// assert!(BaselineStore::open("d").with_retention(0).is_err());
    /// # Ok::<(), perfcore::baseline::BaselineError>(())
    /// ```
    pub fn with_retention(mut self, runs: usize) -> Result<Self, BaselineError> {
        if runs == 0 {
            return Err(BaselineError::ZeroRetention);
        }
        self.retention = runs;
        Ok(self)
    }

    /// The store's directory.
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::baseline::BaselineStore::open("d").dir().ends_with("d"));
    /// ```
    #[must_use]
    pub fn dir(&self) -> &Path {
        &self.dir
    }

    /// How many runs a history keeps.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::baseline::BaselineStore::open("d").retention(), 100);
    /// ```
    #[must_use]
    pub fn retention(&self) -> usize {
        self.retention
    }

    /// The file of the baseline `name` (which may not exist).
    ///
    /// # Errors
    /// [`BaselineError::InvalidName`] for a name that is not valid ([`validate_name`]).
    ///
    /// # Examples
    /// ```
    /// let store = perfcore::baseline::BaselineStore::open("d");
    /// assert!(store.baseline_path("main")?.ends_with("baselines/main.json"));
    /// # Ok::<(), perfcore::baseline::BaselineError>(())
    /// ```
    pub fn baseline_path(&self, name: &str) -> Result<PathBuf, BaselineError> {
        validate_name(name)?;
        Ok(self.dir.join("baselines").join(format!("{name}.json")))
    }

    /// The run-history file of `name` (which may not exist).
    ///
    /// # Errors
    /// [`BaselineError::InvalidName`] for a name that is not valid ([`validate_name`]).
    ///
    /// # Examples
    /// ```
    /// let store = perfcore::baseline::BaselineStore::open("d");
    /// assert!(store.history_path("main")?.ends_with("history/main.json"));
    /// # Ok::<(), perfcore::baseline::BaselineError>(())
    /// ```
    pub fn history_path(&self, name: &str) -> Result<PathBuf, BaselineError> {
        validate_name(name)?;
        Ok(self.dir.join("history").join(format!("{name}.json")))
    }

    /// An environment captured for this store: git information from the repository the
    /// store's directory is in.
    ///
    /// # Examples
    /// ```
    /// let env = perfcore::baseline::BaselineStore::open(".perfcore").environment();
    /// assert_eq!(env.os, std::env::consts::OS);
    /// ```
    #[must_use]
    pub fn environment(&self) -> Environment {
        Environment::capture_in(&self.dir)
    }

    /// Saves `baseline` under its name, replacing any baseline of that name, and appends a
    /// run (its environment, labels and [`summary`](Baseline::summary)) to the name's history.
    ///
    /// Both files are written under the store's exclusive lock, each atomically. The history
    /// is read first, so a damaged or newer history stops the save before anything is
    /// written; so does a baseline of a newer schema (a damaged one is replaced).
    ///
    /// # Errors
    /// [`BaselineError::InvalidName`]; [`BaselineError::Io`] when a directory, the lock or a
    /// file cannot be made or written; [`BaselineError::UnsupportedSchema`] when the baseline
    /// it would replace is of a newer schema; the errors of [`BaselineStore::history`] when
    /// the existing history cannot be read.
    ///
    /// # Examples
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("perfcore-doc-save-{}", std::process::id()));
    /// use perfcore::baseline::{Baseline, BaselineStore};
    /// let store = BaselineStore::open(&dir);
    /// let b = Baseline::new("main", perfcore::Snapshot::default())?;
    /// assert_eq!(store.save(&b)?.id, 1);
    /// assert_eq!(store.save(&b)?.id, 2);
    /// assert_eq!(store.load("main")?, b);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), perfcore::baseline::BaselineError>(())
    /// ```
    pub fn save(&self, baseline: &Baseline) -> Result<SavedRun, BaselineError> {
        let path = self.baseline_path(&baseline.name)?;
        let (json, summary) = (baseline.to_json(), baseline.summary());
        let _lock = self.lock()?;
        document::check_not_newer(&path, FileKind::Baseline)?;
        let history = self.history(&baseline.name)?;
        let (history, saved) =
            self.append(history, baseline.environment.clone(), baseline.labels.clone(), summary)?;
        // Both files are ready: the window in which a crash leaves the baseline saved and its
        // run unrecorded is one write, not the summary's computation too.
        document::write_file(&path, &json)?;
        document::write_file(&saved.history, &history)?;
        remove_stale_temporaries(&path);
        remove_stale_temporaries(&saved.history);
        Ok(saved)
    }

    /// Appends a run to the history of `name` without saving a baseline: for CI runs that
    /// are measured against a baseline but do not replace it.
    ///
    /// # Errors
    /// As [`BaselineStore::save`], and [`BaselineError::Inconsistent`] (naming the field) for
    /// a summary the history could not be read back with: functions not sorted by name or
    /// repeated, more errors than calls, a mean that is negative or not finite.
    ///
    /// # Examples
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("perfcore-doc-rec-{}", std::process::id()));
    /// use perfcore::baseline::{BaselineStore, Environment};
    /// let store = BaselineStore::open(&dir);
    /// let labels = [("pr".to_string(), "17".to_string())].into();
    /// store.record_run("main", Environment::capture(), labels, Default::default())?;
    /// assert_eq!(store.history("main")?.runs[0].labels["pr"], "17");
    /// assert!(store.list()?.is_empty(), "no baseline was saved");
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), perfcore::baseline::BaselineError>(())
    /// ```
    pub fn record_run(
        &self,
        name: &str,
        environment: Environment,
        labels: BTreeMap<String, String>,
        summary: RunSummary,
    ) -> Result<SavedRun, BaselineError> {
        validate_name(name)?;
        let _lock = self.lock()?;
        let history = self.history(name)?;
        let (history, saved) = self.append(history, environment, labels, summary)?;
        document::write_file(&saved.history, &history)?;
        remove_stale_temporaries(&saved.history);
        Ok(saved)
    }

    /// Appends a run to `history`, dropping the oldest beyond retention, and returns the
    /// history's new JSON; the caller holds the lock and writes it.
    fn append(
        &self,
        mut history: History,
        environment: Environment,
        labels: BTreeMap<String, String>,
        summary: RunSummary,
    ) -> Result<(String, SavedRun), BaselineError> {
        check_summary(&summary, "summary", None)?;
        let id = history.latest().map_or(1, |r| r.id.saturating_add(1));
        history.runs.push(Run { id, environment, labels, summary });
        let dropped = history.runs.len().saturating_sub(self.retention);
        history.runs.drain(..dropped);
        let path = self.history_path(&history.name)?;
        let json = document::to_pretty_json(&history);
        Ok((json, SavedRun { name: history.name, id, history: path, dropped }))
    }

    /// Reads the baseline `name`.
    ///
    /// # Errors
    /// [`BaselineError::NotFound`] when there is none; [`BaselineError::InvalidName`]; the
    /// errors of [`Baseline::read_json`]; [`BaselineError::Inconsistent`] when the file holds
    /// a baseline of another name.
    ///
    /// # Examples
    /// ```
    /// use perfcore::baseline::{BaselineError, BaselineStore};
    /// let err = BaselineStore::open("/no/such/store").load("main").unwrap_err();
    /// assert!(matches!(err, BaselineError::NotFound { .. }));
    /// assert_eq!(err.to_string(), "no baseline named \"main\" in /no/such/store");
    /// ```
    pub fn load(&self, name: &str) -> Result<Baseline, BaselineError> {
        let path = self.baseline_path(name)?;
        let b = Baseline::read_json(&path).map_err(|e| self.not_found(e, name))?;
        if b.name != name {
            let problem = format!("{:?} is not the file's name {name:?}", b.name);
            return Err(document::inconsistent(FileKind::Baseline, Some(&path), "name", problem));
        }
        Ok(b)
    }

    /// Reads the run history of `name`; a name with no runs yet has an empty history.
    ///
    /// # Errors
    /// [`BaselineError::InvalidName`]; [`BaselineError::Io`] when the file cannot be read;
    /// [`BaselineError::Parse`] and [`BaselineError::UnsupportedSchema`] as for baselines;
    /// [`BaselineError::Inconsistent`] when its runs' ids do not increase, its name is not
    /// the file's, or a run's figures contradict each other (more errors than calls, a mean
    /// that is not a duration, functions out of order).
    ///
    /// # Examples
    /// ```
    /// let store = perfcore::baseline::BaselineStore::open("/no/such/store");
    /// assert!(store.history("main")?.runs.is_empty());
    /// # Ok::<(), perfcore::baseline::BaselineError>(())
    /// ```
    pub fn history(&self, name: &str) -> Result<History, BaselineError> {
        let path = self.history_path(name)?;
        match std::fs::read_to_string(&path) {
            Ok(text) => History::parse(&text, &path, name),
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => Ok(History::empty(name)),
            Err(source) => Err(BaselineError::Io { action: IoAction::Read, path, source }),
        }
    }

    /// Deletes the baseline `name` and its history.
    ///
    /// # Errors
    /// [`BaselineError::NotFound`] when there is neither; [`BaselineError::Io`] when a file
    /// cannot be removed or the lock taken.
    ///
    /// # Examples
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("perfcore-doc-del-{}", std::process::id()));
    /// use perfcore::baseline::{Baseline, BaselineError, BaselineStore};
    /// let store = BaselineStore::open(&dir);
    /// store.save(&Baseline::new("old", perfcore::Snapshot::default())?)?;
    /// store.delete("old")?;
    /// assert!(matches!(store.delete("old"), Err(BaselineError::NotFound { .. })));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), BaselineError>(())
    /// ```
    pub fn delete(&self, name: &str) -> Result<(), BaselineError> {
        let paths = [self.baseline_path(name)?, self.history_path(name)?];
        if !paths.iter().any(|p| p.exists()) {
            return Err(BaselineError::NotFound { name: name.to_owned(), dir: self.dir.clone() });
        }
        let _lock = self.lock()?;
        let mut removed = 0;
        for path in paths {
            match std::fs::remove_file(&path) {
                Ok(()) => removed += 1,
                Err(e) if e.kind() == std::io::ErrorKind::NotFound => {}
                Err(source) => {
                    return Err(BaselineError::Io { action: IoAction::Remove, path, source });
                }
            }
        }
        if removed == 0 {
            // Another process deleted it while this one waited for the lock.
            return Err(BaselineError::NotFound { name: name.to_owned(), dir: self.dir.clone() });
        }
        Ok(())
    }

    /// The baselines in the store, sorted by name; a file that cannot be read is an `Err`
    /// entry naming it, and the others are still listed. Temporary files and files whose
    /// names are not baseline names are skipped; histories without a baseline
    /// ([`record_run`](Self::record_run) only) are not listed.
    ///
    /// # Errors
    /// [`BaselineError::Io`] when the directory exists but cannot be listed. A store whose
    /// directory does not exist lists nothing.
    ///
    /// # Examples
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("perfcore-doc-list-{}", std::process::id()));
    /// use perfcore::baseline::{Baseline, BaselineStore};
    /// let store = BaselineStore::open(&dir);
    /// assert!(store.list()?.is_empty());
    /// for name in ["b", "a"] {
    ///     store.save(&Baseline::new(name, perfcore::Snapshot::default())?)?;
    /// }
    /// std::fs::write(dir.join("baselines/broken.json"), "{")?;
    /// let listed = store.list()?;
    /// assert_eq!(listed[0].as_ref().unwrap().name, "a");
    /// assert_eq!(listed[1].as_ref().unwrap().name, "b");
    /// assert!(listed[2].as_ref().unwrap_err().to_string().contains("broken.json"));
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), Box<dyn std::error::Error>>(())
    /// ```
    pub fn list(&self) -> Result<Vec<Result<BaselineInfo, BaselineError>>, BaselineError> {
        let dir = self.dir.join("baselines");
        let entries = match std::fs::read_dir(&dir) {
            Ok(entries) => entries,
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(Vec::new()),
            Err(source) => {
                return Err(BaselineError::Io { action: IoAction::List, path: dir, source });
            }
        };
        let mut names = Vec::new();
        for entry in entries {
            let entry = entry.map_err(|source| BaselineError::Io {
                action: IoAction::List,
                path: dir.clone(),
                source,
            })?;
            let file = entry.file_name();
            let Some(name) = file.to_str().and_then(|f| f.strip_suffix(".json")) else { continue };
            if validate_name(name).is_ok() {
                names.push(name.to_owned());
            }
        }
        names.sort();
        Ok(names.iter().map(|name| self.info(name)).collect())
    }

    fn info(&self, name: &str) -> Result<BaselineInfo, BaselineError> {
        let b = self.load(name)?;
        Ok(BaselineInfo {
            name: b.name,
            created_unix_ns: b.environment.created_unix_ns,
            commit: b.environment.git.map(|g| g.commit),
            functions: b.snapshot.functions.len(),
            runs: self.history(name)?.runs.len(),
        })
    }

    /// Makes the store's directories and takes its exclusive lock, waiting for other writers.
    fn lock(&self) -> Result<WriteLock, BaselineError> {
        for dir in [self.dir.join("baselines"), self.dir.join("history")] {
            std::fs::create_dir_all(&dir).map_err(|source| BaselineError::Io {
                action: IoAction::CreateDirectory,
                path: dir.clone(),
                source,
            })?;
        }
        let path = self.dir.join(".lock");
        let io = |action, source| BaselineError::Io { action, path: path.clone(), source };
        let file = File::options()
            .create(true)
            .truncate(false)
            .write(true)
            .open(&path)
            .map_err(|e| io(IoAction::Lock, e))?;
        file.lock().map_err(|e| io(IoAction::Lock, e))?;
        Ok(WriteLock { _file: file })
    }

    fn not_found(&self, e: BaselineError, name: &str) -> BaselineError {
        match e {
            BaselineError::Io { source, .. } if source.kind() == std::io::ErrorKind::NotFound => {
                BaselineError::NotFound { name: name.to_owned(), dir: self.dir.clone() }
            }
            other => other,
        }
    }
}

/// Removes temporary files of `path` left by writers that died mid-write. Called under the
/// store's lock, when no other writer can be making one.
fn remove_stale_temporaries(path: &Path) {
    let (Some(dir), Some(file)) = (path.parent(), path.file_name().and_then(|f| f.to_str())) else {
        return;
    };
    let prefix = format!(".{file}.");
    let Ok(entries) = std::fs::read_dir(dir) else { return };
    for entry in entries.flatten() {
        let name = entry.file_name();
        if name.to_str().is_some_and(|n| n.starts_with(&prefix) && n.ends_with(".tmp")) {
            // Best effort: a leftover temporary file is harmless, and the next save retries.
            let _ = std::fs::remove_file(entry.path());
        }
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn temp_store(tag: &str) -> BaselineStore {
        let dir = std::env::temp_dir().join(format!("perfcore-store-{tag}-{}", std::process::id()));
        let _ = std::fs::remove_dir_all(&dir);
        BaselineStore::open(dir)
    }

    #[test]
    fn opening_a_missing_directory_makes_nothing() {
        let store = temp_store("missing");
        assert!(store.list().unwrap().is_empty());
        assert!(store.history("x").unwrap().runs.is_empty());
        assert!(matches!(store.load("x"), Err(BaselineError::NotFound { .. })));
        assert!(!store.dir().exists());
    }

    #[test]
    fn retention_drops_the_oldest_and_ids_keep_counting() {
        let store = temp_store("retention").with_retention(3).unwrap();
        let env = Environment::capture();
        for i in 1..=5u64 {
            let saved = store.record_run("r", env.clone(), BTreeMap::new(), RunSummary::default());
            assert_eq!(saved.unwrap().id, i);
        }
        let ids: Vec<u64> = store.history("r").unwrap().runs.iter().map(|r| r.id).collect();
        assert_eq!(ids, [3, 4, 5]);
        std::fs::remove_dir_all(store.dir()).unwrap();
    }

    #[test]
    fn a_save_removes_temporaries_left_by_a_dead_writer() {
        let store = temp_store("stale");
        let b = Baseline::new("s", crate::Snapshot::default()).unwrap();
        store.save(&b).unwrap();
        let stale = store.dir().join("baselines/.s.json.4242.tmp");
        std::fs::write(&stale, "{").unwrap();
        assert_eq!(store.list().unwrap().len(), 1, "temporary files are not listed");
        store.save(&b).unwrap();
        assert!(!stale.exists());
        std::fs::remove_dir_all(store.dir()).unwrap();
    }

    #[test]
    fn a_summary_the_reader_would_refuse_is_not_written() {
        let store = temp_store("write-check");
        let mut summary = crate::Snapshot::default().summary();
        let p = crate::PerformanceProfiler::new();
        for name in ["a", "b"] {
            let _g = p.scope(name).unwrap();
        }
        summary.functions = p.snapshot().summary().functions;
        summary.functions.reverse();
        let err = store
            .record_run("w", Environment::capture(), BTreeMap::new(), summary.clone())
            .unwrap_err();
        assert_eq!(
            err.to_string(),
            "inconsistent run history: summary.functions[1].name: \"a\" is out of order or repeated"
        );
        summary.functions.reverse();
        summary.functions[0].mean_ns = f64::NAN;
        let err = store.record_run("w", Environment::capture(), BTreeMap::new(), summary);
        assert!(err.unwrap_err().to_string().ends_with("mean_ns: NaN is not a duration"));
        assert!(store.history("w").unwrap().runs.is_empty());
        let _ = std::fs::remove_dir_all(store.dir());
    }

    #[test]
    fn a_newer_baseline_is_not_overwritten_and_a_damaged_one_is() {
        let store = temp_store("newer");
        let b = Baseline::new("n", crate::Snapshot::default()).unwrap();
        store.save(&b).unwrap();
        let path = store.baseline_path("n").unwrap();
        let newer = b.to_json().replacen("\"schema_version\": 1", "\"schema_version\": 2", 1);
        std::fs::write(&path, &newer).unwrap();
        let err = store.save(&b).unwrap_err();
        assert!(
            matches!(err, BaselineError::UnsupportedSchema { found: 2, newest: 1, .. }),
            "{err:?}"
        );
        assert_eq!(std::fs::read_to_string(&path).unwrap(), newer);
        std::fs::write(&path, "{ damaged").unwrap();
        store.save(&b).unwrap();
        assert_eq!(store.load("n").unwrap(), b);
        std::fs::remove_dir_all(store.dir()).unwrap();
    }

    #[test]
    fn a_history_whose_ids_do_not_increase_is_refused() {
        let store = temp_store("ids");
        let env = Environment::capture();
        for _ in 0..2 {
            store.record_run("h", env.clone(), BTreeMap::new(), RunSummary::default()).unwrap();
        }
        let path = store.history_path("h").unwrap();
        let text = std::fs::read_to_string(&path).unwrap().replace("\"id\": 2", "\"id\": 1");
        std::fs::write(&path, text).unwrap();
        let err = store.history("h").unwrap_err();
        assert!(matches!(&err, BaselineError::Inconsistent { field, .. } if field == "runs[1].id"));
        assert!(err.to_string().ends_with("h.json: runs[1].id: 1 does not follow 1"), "{err}");
        // A save refuses to build on it rather than lose it.
        let b = Baseline::new("h", crate::Snapshot::default()).unwrap();
        assert!(store.save(&b).is_err());
        assert!(matches!(store.load("h"), Err(BaselineError::NotFound { .. })));
        std::fs::remove_dir_all(store.dir()).unwrap();
    }
}
