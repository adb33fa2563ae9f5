//! Baselines for Python: `Baseline`, `BaselineStore`, `Environment`, run histories and run
//! summaries, over `perfcore::baseline`. Environments captured here name the Python
//! interpreter as their runtime, not the compiler that built the extension.

use std::collections::BTreeMap;
use std::path::PathBuf;

use perfcore::baseline::{self as core, EnvPolicy};
use pyo3::exceptions::PyKeyError;
use pyo3::prelude::*;

use crate::error::to_py_err;
use crate::regress::{snapshot_arg, to_data};
use crate::stats::Snapshot;

// The Python signatures spell the Rust defaults out; keep them equal.
const _: () = assert!(core::DEFAULT_RETENTION == 100);

/// "CPython 3.11.7": the interpreter running this process.
fn python_runtime(py: Python<'_>) -> PyResult<String> {
    let platform = py.import("platform")?;
    let name: String = platform.call_method0("python_implementation")?.extract()?;
    let version: String = platform.call_method0("python_version")?.extract()?;
    Ok(format!("{name} {version}"))
}

/// The environment of this process, with git information from `dir` and Python as runtime.
fn capture(py: Python<'_>, dir: Option<&std::path::Path>) -> PyResult<core::Environment> {
    let runtime = python_runtime(py)?;
    let env = py.detach(|| match dir {
        Some(dir) => core::Environment::capture_in(dir),
        None => core::Environment::capture(),
    });
    Ok(env.with_runtime(runtime))
}

/// Where a baseline or run was recorded: machine, build, interpreter and commit.
#[pyclass(module = "perfcore._perfcore", frozen)]
#[derive(Clone)]
pub struct Environment {
    inner: core::Environment,
}

#[pymethods]
impl Environment {
    /// The environment of this process; git information from the repository holding `dir`
    /// (default: the working directory).
    #[staticmethod]
    #[pyo3(signature = (dir = None))]
    fn capture(py: Python<'_>, dir: Option<PathBuf>) -> PyResult<Self> {
        Ok(Self { inner: capture(py, dir.as_deref())? })
    }
    /// When it was captured (Unix time, ns).
    #[getter]
    fn created_unix_ns(&self) -> u64 {
        self.inner.created_unix_ns
    }
    /// The commit (dict with `commit`, `branch`, `dirty`) when captured inside a git
    /// repository, else None.
    #[getter]
    fn git<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner.git)
    }
    /// The full hash of the commit checked out, or None.
    #[getter]
    fn commit(&self) -> Option<&str> {
        self.inner.git.as_ref().map(|g| g.commit.as_str())
    }
    /// The branch checked out, or None (detached, or no repository).
    #[getter]
    fn branch(&self) -> Option<&str> {
        self.inner.git.as_ref().and_then(|g| g.branch.as_deref())
    }
    /// The host name.
    #[getter]
    fn host(&self) -> Option<&str> {
        self.inner.host.as_deref()
    }
    /// The operating system ("linux", "macos").
    #[getter]
    fn os(&self) -> &str {
        &self.inner.os
    }
    /// The CPU architecture ("x86_64", "aarch64").
    #[getter]
    fn arch(&self) -> &str {
        &self.inner.arch
    }
    /// The CPU model, when known.
    #[getter]
    fn cpu_model(&self) -> Option<&str> {
        self.inner.cpu_model.as_deref()
    }
    /// Logical cores available to the process.
    #[getter]
    fn cores(&self) -> Option<u32> {
        self.inner.cores
    }
    /// "release" or "debug": how the extension module was built.
    #[getter]
    fn build_profile(&self) -> &str {
        &self.inner.build_profile
    }
    /// The interpreter ("CPython 3.11.7") or compiler ("rustc 1.95.0") of the run.
    #[getter]
    fn runtime(&self) -> &str {
        &self.inner.runtime
    }
    /// The perfcore version that captured it.
    #[getter]
    fn perfcore_version(&self) -> &str {
        &self.inner.perfcore_version
    }
    /// The fields that differ from `other` and can make timings incomparable (CPU model,
    /// cores, build profile, OS, architecture, runtime), as `(field, ours, theirs)`.
    fn differences(&self, other: &Environment) -> Vec<(String, String, String)> {
        differences(self.inner.differences(&other.inner))
    }
    /// All fields as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __eq__(&self, other: &Environment) -> bool {
        self.inner == other.inner
    }
    fn __repr__(&self) -> String {
        format!(
            "Environment(runtime={:?}, os={:?}, cpu_model={:?}, commit={:?})",
            self.inner.runtime,
            self.inner.os,
            self.inner.cpu_model,
            self.commit()
        )
    }
}

fn differences(d: Vec<core::EnvDifference>) -> Vec<(String, String, String)> {
    d.into_iter().map(|d| (d.field.to_string(), d.ours, d.theirs)).collect()
}

/// One function's figures in one run, as a run history keeps them. Times in ns.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct FunctionSummary {
    inner: perfcore::FunctionSummary,
}

#[pymethods]
impl FunctionSummary {
    /// The function's name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// Finished calls.
    #[getter]
    fn count(&self) -> u64 {
        self.inner.count
    }
    /// Failed calls.
    #[getter]
    fn errors(&self) -> u64 {
        self.inner.errors
    }
    /// Mean wall time per call.
    #[getter]
    fn mean_ns(&self) -> f64 {
        self.inner.mean_ns
    }
    /// Median.
    #[getter]
    fn p50_ns(&self) -> u64 {
        self.inner.p50_ns
    }
    /// 95th percentile.
    #[getter]
    fn p95_ns(&self) -> u64 {
        self.inner.p95_ns
    }
    /// 99th percentile.
    #[getter]
    fn p99_ns(&self) -> u64 {
        self.inner.p99_ns
    }
    /// Slowest call.
    #[getter]
    fn max_ns(&self) -> u64 {
        self.inner.max_ns
    }
    /// Bytes allocated per call (Rust's tracking allocator only), else None.
    #[getter]
    fn bytes_per_call(&self) -> Option<f64> {
        self.inner.bytes_per_call
    }
    /// Allocations per call (Rust's tracking allocator only), else None.
    #[getter]
    fn allocs_per_call(&self) -> Option<f64> {
        self.inner.allocs_per_call
    }
    /// Errors per call.
    #[getter]
    fn error_rate(&self) -> f64 {
        self.inner.error_rate()
    }
    /// All fields as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!(
            "FunctionSummary(name={:?}, count={}, p50_ns={})",
            self.inner.name, self.inner.count, self.inner.p50_ns
        )
    }
}

/// The summary of a run: one `FunctionSummary` per function name, sorted by name.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct RunSummary {
    inner: perfcore::RunSummary,
}

impl RunSummary {
    pub(crate) fn inner(&self) -> &perfcore::RunSummary {
        &self.inner
    }
}

impl From<perfcore::RunSummary> for RunSummary {
    fn from(inner: perfcore::RunSummary) -> Self {
        Self { inner }
    }
}

#[pymethods]
impl RunSummary {
    /// The functions, sorted by name.
    #[getter]
    fn functions(&self) -> Vec<FunctionSummary> {
        self.inner.functions.iter().map(|f| FunctionSummary { inner: f.clone() }).collect()
    }
    /// The function of this name, or None.
    fn function(&self, name: &str) -> Option<FunctionSummary> {
        self.inner.function(name).map(|f| FunctionSummary { inner: f.clone() })
    }
    fn __getitem__(&self, name: &str) -> PyResult<FunctionSummary> {
        self.function(name).ok_or_else(|| PyKeyError::new_err(name.to_owned()))
    }
    fn __len__(&self) -> usize {
        self.inner.functions.len()
    }
    /// All fields as a dict.
    fn to_dict<'py>(&self, py: Python<'py>) -> PyResult<Bound<'py, PyAny>> {
        to_data(py, &self.inner)
    }
    fn __repr__(&self) -> String {
        format!("RunSummary(functions={})", self.inner.functions.len())
    }
}

/// A named snapshot to compare later runs with, and where it was recorded.
#[pyclass(module = "perfcore._perfcore")]
pub struct Baseline {
    inner: core::Baseline,
}

impl Baseline {
    pub(crate) fn inner(&self) -> &core::Baseline {
        &self.inner
    }
}

#[pymethods]
impl Baseline {
    /// A baseline of `snapshot` named `name`, recorded in `environment` (default: this
    /// process, with the Python version as runtime), with `labels`.
    /// BaselineNameError for a name that cannot be a file name.
    #[new]
    #[pyo3(signature = (name, snapshot, *, labels = None, environment = None))]
    fn new(
        py: Python<'_>,
        name: String,
        snapshot: &Snapshot,
        labels: Option<BTreeMap<String, String>>,
        environment: Option<&Environment>,
    ) -> PyResult<Self> {
        let env = match environment {
            Some(e) => e.inner.clone(),
            None => capture(py, None)?,
        };
        let mut inner = core::Baseline::new(name, snapshot.inner().clone())
            .map_err(to_py_err)?
            .with_environment(env);
        inner.labels = labels.unwrap_or_default();
        Ok(Self { inner })
    }
    /// The baseline's name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// What was recorded.
    #[getter]
    fn snapshot(&self) -> Snapshot {
        Snapshot::from(self.inner.snapshot.clone())
    }
    /// Where it was recorded (for a fleet baseline: where the first part was).
    #[getter]
    fn environment(&self) -> Environment {
        Environment { inner: self.inner.environment.clone() }
    }
    /// The environments of the baselines merged into this one.
    #[getter]
    fn machines(&self) -> Vec<Environment> {
        self.inner.machines.iter().map(|e| Environment { inner: e.clone() }).collect()
    }
    /// Free-form labels (a copy: set them with the constructor).
    #[getter]
    fn labels(&self) -> BTreeMap<String, String> {
        self.inner.labels.clone()
    }
    /// The file's schema version.
    #[getter]
    fn schema_version(&self) -> u32 {
        self.inner.schema_version
    }
    /// The figures a run history keeps of this baseline.
    fn summary(&self) -> RunSummary {
        self.inner.summary().into()
    }
    /// Merges `other` in (snapshots losslessly, its environments appended to `machines`) and
    /// returns how the environments differ, as `(field, ours, theirs)`. With `strict=True`
    /// any difference raises EnvironmentMismatchError and nothing is merged.
    #[pyo3(signature = (other, *, strict = false))]
    fn merge(
        &mut self,
        other: PyRef<'_, Baseline>,
        strict: bool,
    ) -> PyResult<Vec<(String, String, String)>> {
        let policy = if strict { EnvPolicy::Strict } else { EnvPolicy::Warn };
        let other = other.inner.clone();
        self.inner.merge(&other, policy).map(differences).map_err(to_py_err)
    }
    /// The baseline as pretty JSON.
    fn to_json(&self) -> String {
        self.inner.to_json()
    }
    /// Parses what `to_json` wrote; BaselineFormatError or BaselineSchemaError if it is not
    /// a baseline this perfcore reads.
    #[staticmethod]
    fn from_json(json: &str) -> PyResult<Self> {
        core::Baseline::from_json(json).map(|inner| Self { inner }).map_err(to_py_err)
    }
    /// Reads a baseline file; errors name the file.
    #[staticmethod]
    fn read_json(py: Python<'_>, path: PathBuf) -> PyResult<Self> {
        py.detach(|| core::Baseline::read_json(&path))
            .map(|inner| Self { inner })
            .map_err(to_py_err)
    }
    /// Writes the baseline to `path` atomically.
    fn write_json(&self, py: Python<'_>, path: PathBuf) -> PyResult<()> {
        let inner = &self.inner;
        py.detach(|| inner.write_json(&path)).map_err(to_py_err)
    }
    fn __eq__(&self, other: PyRef<'_, Baseline>) -> bool {
        self.inner == other.inner
    }
    fn __repr__(&self) -> String {
        format!(
            "Baseline(name={:?}, functions={}, runtime={:?})",
            self.inner.name,
            self.inner.snapshot.functions().len(),
            self.inner.environment.runtime
        )
    }
}

/// One recorded run of a history.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct Run {
    inner: core::Run,
}

#[pymethods]
impl Run {
    /// The run's number in its history (1 for the first, always increasing).
    #[getter]
    fn id(&self) -> u64 {
        self.inner.id
    }
    /// Where it ran.
    #[getter]
    fn environment(&self) -> Environment {
        Environment { inner: self.inner.environment.clone() }
    }
    /// Its labels.
    #[getter]
    fn labels(&self) -> BTreeMap<String, String> {
        self.inner.labels.clone()
    }
    /// Its figures.
    #[getter]
    fn summary(&self) -> RunSummary {
        self.inner.summary.clone().into()
    }
    fn __repr__(&self) -> String {
        format!("Run(id={}, functions={})", self.inner.id, self.inner.summary.functions.len())
    }
}

/// The runs recorded under one name, oldest first.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct History {
    inner: core::History,
}

impl History {
    /// Each run's summary, oldest first.
    pub(crate) fn summaries(&self) -> Vec<perfcore::RunSummary> {
        self.inner.runs.iter().map(|r| r.summary.clone()).collect()
    }
}

#[pymethods]
impl History {
    /// The name the runs were recorded under.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// The runs kept, oldest first.
    #[getter]
    fn runs(&self) -> Vec<Run> {
        self.inner.runs.iter().map(|r| Run { inner: r.clone() }).collect()
    }
    /// The most recent run, or None.
    #[getter]
    fn latest(&self) -> Option<Run> {
        self.inner.latest().map(|r| Run { inner: r.clone() })
    }
    fn __len__(&self) -> usize {
        self.inner.runs.len()
    }
    fn __repr__(&self) -> String {
        format!("History(name={:?}, runs={})", self.inner.name, self.inner.runs.len())
    }
}

/// What `BaselineStore.save` and `record_run` recorded.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct SavedRun {
    inner: core::SavedRun,
}

#[pymethods]
impl SavedRun {
    /// The name recorded under.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// The new run's id in the history.
    #[getter]
    fn id(&self) -> u64 {
        self.inner.id
    }
    /// The history file.
    #[getter]
    fn history(&self) -> PathBuf {
        self.inner.history.clone()
    }
    /// How many of the oldest runs retention dropped.
    #[getter]
    fn dropped(&self) -> usize {
        self.inner.dropped
    }
    fn __repr__(&self) -> String {
        format!(
            "SavedRun(name={:?}, id={}, dropped={})",
            self.inner.name, self.inner.id, self.inner.dropped
        )
    }
}

/// One baseline of a store, as `BaselineStore.list` describes it.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct BaselineInfo {
    inner: core::BaselineInfo,
}

#[pymethods]
impl BaselineInfo {
    /// The baseline's name.
    #[getter]
    fn name(&self) -> &str {
        &self.inner.name
    }
    /// When it was recorded (Unix time, ns).
    #[getter]
    fn created_unix_ns(&self) -> u64 {
        self.inner.created_unix_ns
    }
    /// The git commit it was recorded at, or None.
    #[getter]
    fn commit(&self) -> Option<&str> {
        self.inner.commit.as_deref()
    }
    /// How many functions it holds.
    #[getter]
    fn functions(&self) -> usize {
        self.inner.functions
    }
    /// How many runs its history holds.
    #[getter]
    fn runs(&self) -> usize {
        self.inner.runs
    }
    fn __repr__(&self) -> String {
        format!(
            "BaselineInfo(name={:?}, functions={}, runs={})",
            self.inner.name, self.inner.functions, self.inner.runs
        )
    }
}

/// Baselines and run histories in a directory: `dir`, else `$PERFCORE_DIR`, else `.perfcore`
/// in the working directory. Writes are atomic and serialised across processes by a lock.
#[pyclass(module = "perfcore._perfcore", frozen)]
pub struct BaselineStore {
    inner: core::BaselineStore,
}

#[pymethods]
impl BaselineStore {
    /// A store in `dir` (which need not exist yet) keeping `retention` runs per history.
    /// ValueError for `retention=0`.
    #[new]
    #[pyo3(signature = (dir = None, *, retention = 100))]
    fn new(dir: Option<PathBuf>, retention: usize) -> PyResult<Self> {
        let store = match dir {
            Some(dir) => core::BaselineStore::open(dir),
            None => core::BaselineStore::open_default(),
        };
        Ok(Self { inner: store.with_retention(retention).map_err(to_py_err)? })
    }
    /// The store's directory.
    #[getter]
    fn dir(&self) -> PathBuf {
        self.inner.dir().to_owned()
    }
    /// How many runs a history keeps.
    #[getter]
    fn retention(&self) -> usize {
        self.inner.retention()
    }
    /// The file of the baseline `name` (which may not exist).
    fn baseline_path(&self, name: &str) -> PyResult<PathBuf> {
        self.inner.baseline_path(name).map_err(to_py_err)
    }
    /// The run-history file of `name` (which may not exist).
    fn history_path(&self, name: &str) -> PyResult<PathBuf> {
        self.inner.history_path(name).map_err(to_py_err)
    }
    /// An environment captured for this store (git information from its directory).
    fn environment(&self, py: Python<'_>) -> PyResult<Environment> {
        Ok(Environment { inner: capture(py, Some(self.inner.dir()))? })
    }
    /// Saves `baseline` (replacing one of its name) and appends a run to its history.
    fn save(&self, py: Python<'_>, baseline: PyRef<'_, Baseline>) -> PyResult<SavedRun> {
        let (store, b) = (&self.inner, &baseline.inner);
        py.detach(|| store.save(b)).map(|inner| SavedRun { inner }).map_err(to_py_err)
    }
    /// Appends a run (a Snapshot, Baseline or RunSummary) to the history of `name` without
    /// saving a baseline.
    #[pyo3(signature = (name, run, *, labels = None, environment = None))]
    fn record_run(
        &self,
        py: Python<'_>,
        name: &str,
        run: &Bound<'_, PyAny>,
        labels: Option<BTreeMap<String, String>>,
        environment: Option<&Environment>,
    ) -> PyResult<SavedRun> {
        let summary = match run.cast::<RunSummary>() {
            Ok(r) => r.get().inner.clone(),
            Err(_) => snapshot_arg(run, "run")?.summary(),
        };
        let env = match environment {
            Some(e) => e.inner.clone(),
            None => capture(py, Some(self.inner.dir()))?,
        };
        let store = &self.inner;
        py.detach(|| store.record_run(name, env, labels.unwrap_or_default(), summary))
            .map(|inner| SavedRun { inner })
            .map_err(to_py_err)
    }
    /// Reads the baseline `name`: BaselineNotFoundError if there is none, BaselineFormatError
    /// (naming the file, line, column and field) if its file is damaged.
    fn load(&self, py: Python<'_>, name: &str) -> PyResult<Baseline> {
        let store = &self.inner;
        py.detach(|| store.load(name)).map(|inner| Baseline { inner }).map_err(to_py_err)
    }
    /// The run history of `name` (empty if none was recorded).
    fn history(&self, py: Python<'_>, name: &str) -> PyResult<History> {
        let store = &self.inner;
        py.detach(|| store.history(name)).map(|inner| History { inner }).map_err(to_py_err)
    }
    /// Deletes the baseline `name` and its history; BaselineNotFoundError if there is neither.
    fn delete(&self, py: Python<'_>, name: &str) -> PyResult<()> {
        let store = &self.inner;
        py.detach(|| store.delete(name)).map_err(to_py_err)
    }
    /// The baselines in the store, sorted by name. A file that cannot be read raises its
    /// error, unless `skip_broken=True` leaves it out.
    #[pyo3(signature = (*, skip_broken = false))]
    fn list(&self, py: Python<'_>, skip_broken: bool) -> PyResult<Vec<BaselineInfo>> {
        let store = &self.inner;
        let listed = py.detach(|| store.list()).map_err(to_py_err)?;
        let mut out = Vec::with_capacity(listed.len());
        for entry in listed {
            match entry {
                Ok(inner) => out.push(BaselineInfo { inner }),
                Err(_) if skip_broken => {}
                Err(e) => return Err(to_py_err(e)),
            }
        }
        Ok(out)
    }
    fn __repr__(&self) -> String {
        format!("BaselineStore(dir={:?}, retention={})", self.inner.dir(), self.inner.retention())
    }
}

/// Adds the classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add_class::<Environment>()?;
    m.add_class::<FunctionSummary>()?;
    m.add_class::<RunSummary>()?;
    m.add_class::<Baseline>()?;
    m.add_class::<Run>()?;
    m.add_class::<History>()?;
    m.add_class::<SavedRun>()?;
    m.add_class::<BaselineInfo>()?;
    m.add_class::<BaselineStore>()?;
    m.add("DEFAULT_RETENTION", core::DEFAULT_RETENTION)?;
    Ok(())
}
