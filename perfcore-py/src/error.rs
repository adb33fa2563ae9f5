//! The exceptions perfcore raises in Python, and [`to_py_err`], the one place core errors
//! become them.
//!
//! - `PerfcoreError(Exception)`: the base of perfcore's own errors.
//! - `SnapshotError(PerfcoreError, ValueError)`: snapshot data (JSON, a file's contents, a
//!   pickled state) that is malformed, inconsistent or of another schema version. Also a
//!   `ValueError`, which is what such data raised before, and what `json` raises for it.
//! - `BaselineError(PerfcoreError)`: a baseline, run history or store could not be read,
//!   written or merged; every instance has `path`, `line`, `column` and `field` (None when
//!   they do not apply). Subclasses: `BaselineFormatError` (also `ValueError`: a file that is
//!   not a baseline, truncated or hand-edited), `BaselineSchemaError` (also `ValueError`: a
//!   newer schema; `found`, `oldest`, `newest`), `BaselineNotFoundError` (also `LookupError`:
//!   no baseline of that name; `name`, `dir`), `BaselineNameError` (also `ValueError`: a name
//!   that cannot be a file name; `name`), `EnvironmentMismatchError` (a strict merge of unlike
//!   machines; `differences`) and `BaselineIOError` (also `OSError`, with `errno`, `strerror`
//!   and `filename`: the store's files could not be read, written or locked).
//! - `BudgetError(PerfcoreError, ValueError)`: a budgets file that is not valid (`path`,
//!   `line`, `column`, `key`); `BenchmarkImportError(PerfcoreError, ValueError)`: criterion or
//!   pytest-benchmark results that cannot be imported (`path`, `line`, `column`, `field`).
//! - `CostError(PerfcoreError)`: the cost monitor (`perfcore.CostMonitor`) could not import,
//!   store or total costs: a file that is not FOCUS, a bad row in strict mode (`line`,
//!   `column`, `value`, `reason`), a billing period imported before, currencies added without
//!   exchange rates, a store it cannot use; `path` names the file (None when not known).
//! - `MonitorError(PerfcoreError)`: live monitoring failed; `MonitorConfigError` (also
//!   `ValueError`), `MonitorIOError` (also `OSError`) and `MonitorThreadError` (also
//!   `RuntimeError`) say how.
//! - I/O: the `OSError` subclass its errno selects (`FileNotFoundError`, `PermissionError`,
//!   ...), with `errno`, `strerror` and `filename` set.
//! - Bad arguments stay `ValueError` (and `TypeError`, raised where arguments are read).

use pyo3::BoundObject;
use pyo3::exceptions::{PyException, PyLookupError, PyOSError, PyValueError};
use pyo3::prelude::*;
use pyo3::sync::PyOnceLock;
use pyo3::types::{PyTuple, PyType};

pyo3::create_exception!(
    perfcore._perfcore,
    PerfcoreError,
    PyException,
    "Base class of perfcore's own errors (bad arguments raise ValueError or TypeError, and \
     I/O errors the matching OSError)."
);

/// A new exception class `name` with `doc` and several bases (`create_exception!` takes one).
fn new_exception(
    py: Python<'_>,
    name: &std::ffi::CStr,
    doc: &std::ffi::CStr,
    bases: &[Bound<'_, PyType>],
) -> PyResult<Py<PyType>> {
    let bases = PyTuple::new(py, bases)?;
    // SAFETY: NUL-terminated name and doc, a tuple of exception classes, no dict; returns a
    // new reference or null with an exception set.
    let ty = unsafe {
        Bound::from_owned_ptr_or_err(
            py,
            pyo3::ffi::PyErr_NewExceptionWithDoc(
                name.as_ptr(),
                doc.as_ptr(),
                bases.as_ptr(),
                std::ptr::null_mut(),
            ),
        )?
    };
    Ok(ty.cast_into::<PyType>()?.unbind())
}

static SNAPSHOT_ERROR: ValueErrorClass = ValueErrorClass {
    name: c"perfcore._perfcore.SnapshotError",
    doc: c"Snapshot data (JSON, a snapshot file, a pickled state) is malformed, inconsistent, \
or of a schema version this perfcore does not read; the message says which and where.",
    cell: PyOnceLock::new(),
};

/// A `SnapshotError` with `message`.
pub(crate) fn snapshot_err(py: Python<'_>, message: String) -> PyErr {
    match SNAPSHOT_ERROR.get(py) {
        Ok(ty) => PyErr::from_type(ty.clone(), message),
        Err(e) => e,
    }
}

pyo3::create_exception!(
    perfcore._perfcore,
    BaselineError,
    PerfcoreError,
    "A baseline, run history or baseline store could not be read, written or merged. `path`, \
     `line`, `column` and `field` say where, when known (None otherwise)."
);

/// A class of two bases, `PerfcoreError` and `ValueError`, made on first use.
struct ValueErrorClass {
    name: &'static std::ffi::CStr,
    doc: &'static std::ffi::CStr,
    cell: PyOnceLock<Py<PyType>>,
}

impl ValueErrorClass {
    fn get<'py>(&self, py: Python<'py>) -> PyResult<&Bound<'py, PyType>> {
        self.cell
            .get_or_try_init(py, || {
                let bases = [py.get_type::<PerfcoreError>(), py.get_type::<PyValueError>()];
                new_exception(py, self.name, self.doc, &bases)
            })
            .map(|t| t.bind(py))
    }
}

static BUDGET_ERROR: ValueErrorClass = ValueErrorClass {
    name: c"perfcore._perfcore.BudgetError",
    doc: c"A budgets file (TOML) is not valid: bad syntax, an unknown key, a value perfcore \
cannot use; `path`, `line`, `column` and `key` say where (None when not known).",
    cell: PyOnceLock::new(),
};

static IMPORT_ERROR: ValueErrorClass = ValueErrorClass {
    name: c"perfcore._perfcore.BenchmarkImportError",
    doc: c"Another tool's results (criterion's directory, a pytest-benchmark file) could not be \
read: not what it should be, or no such baseline; `path`, `line`, `column` and `field` say \
where (None when not known).",
    cell: PyOnceLock::new(),
};

pyo3::create_exception!(
    perfcore._perfcore,
    CostError,
    PerfcoreError,
    "The cost monitor could not import, store or total costs: a file that is not FOCUS, a bad \
     row in strict mode, a billing period imported before, currencies added without exchange \
     rates, a cost store it cannot use. `path`, `line`, `column`, `value` and `reason` say \
     where and why, when known (None otherwise)."
);

pyo3::create_exception!(
    perfcore._perfcore,
    MonitorError,
    PerfcoreError,
    "Live monitoring (perfcore.monitor) failed. Its subclasses say how: MonitorConfigError \
     (also ValueError: a name, rule, address or option that is not valid), MonitorIOError (also \
     OSError: a port in use, an unreachable or refusing gateway or webhook, a file that cannot \
     be written) and MonitorThreadError (also RuntimeError: a thread that cannot start)."
);

/// A subclass of `MonitorError` and of a built-in exception, made on first use.
struct MonitorClass {
    name: &'static std::ffi::CStr,
    doc: &'static std::ffi::CStr,
    also: fn(Python<'_>) -> Bound<'_, PyType>,
    cell: PyOnceLock<Py<PyType>>,
}

impl MonitorClass {
    fn get<'py>(&self, py: Python<'py>) -> PyResult<&Bound<'py, PyType>> {
        self.cell
            .get_or_try_init(py, || {
                let bases = [py.get_type::<MonitorError>(), (self.also)(py)];
                new_exception(py, self.name, self.doc, &bases)
            })
            .map(|t| t.bind(py))
    }
}

static MONITOR_CLASSES: [MonitorClass; 3] = [
    MonitorClass {
        name: c"perfcore._perfcore.MonitorConfigError",
        doc: c"A metric or label name, an alert rule, an address, a URL or an option that is not \
valid; the message names it and says why.",
        also: |py| py.get_type::<PyValueError>(),
        cell: PyOnceLock::new(),
    },
    MonitorClass {
        name: c"perfcore._perfcore.MonitorIOError",
        doc: c"The network or a file failed: a port in use, a gateway or webhook that cannot be \
reached or refuses (its answer in the message), a file that cannot be written.",
        also: |py| py.get_type::<PyOSError>(),
        cell: PyOnceLock::new(),
    },
    MonitorClass {
        name: c"perfcore._perfcore.MonitorThreadError",
        doc: c"A monitoring thread (the sampler, the endpoint, a sink) could not start.",
        also: |py| py.get_type::<pyo3::exceptions::PyRuntimeError>(),
        cell: PyOnceLock::new(),
    },
];

/// What kind of monitoring failure, for [`monitor_err`].
#[derive(Clone, Copy)]
pub(crate) enum MonitorKind {
    /// Bad input: also a `ValueError`.
    Config = 0,
    /// The network or a file: also an `OSError`.
    Io = 1,
    /// A thread that cannot start: also a `RuntimeError`.
    Thread = 2,
}

/// A `MonitorError` subclass of `kind` with `message`.
pub(crate) fn monitor_kind_err(py: Python<'_>, kind: MonitorKind, message: String) -> PyErr {
    match MONITOR_CLASSES[kind as usize].get(py) {
        Ok(ty) => PyErr::from_type(ty.clone(), message),
        Err(e) => e,
    }
}

/// The attributes every `CostError` has (None by default).
const COST_ATTRS: [&str; 5] = ["path", "line", "column", "value", "reason"];

/// The attributes `BudgetError` and `BenchmarkImportError` instances have (None by default).
const FILE_ATTRS: [&str; 5] = ["path", "line", "column", "key", "field"];

/// The subclasses of `BaselineError`, one per kind of failure.
#[derive(Clone, Copy)]
enum BaselineKind {
    Format,
    Schema,
    NotFound,
    Name,
    Environment,
    Io,
}

impl BaselineKind {
    const ALL: [Self; 6] =
        [Self::Format, Self::Schema, Self::NotFound, Self::Name, Self::Environment, Self::Io];

    /// The class's name, its doc, and its builtin base besides `BaselineError`.
    #[allow(clippy::type_complexity)]
    fn spec(
        self,
    ) -> (
        &'static std::ffi::CStr,
        &'static std::ffi::CStr,
        Option<fn(Python<'_>) -> Bound<'_, PyType>>,
    ) {
        match self {
            Self::Format => (
                c"perfcore._perfcore.BaselineFormatError",
                c"A baseline or run-history file is not valid (truncated, not JSON, a field \
missing or of the wrong type, a count that does not add up); `path`, `line`, `column` and \
`field` say where. Restore it from version control or delete it.",
                Some(|py| py.get_type::<PyValueError>()),
            ),
            Self::Schema => (
                c"perfcore._perfcore.BaselineSchemaError",
                c"A baseline or run-history file was written by a newer perfcore (`found`); this \
one reads schema versions `oldest` to `newest`.",
                Some(|py| py.get_type::<PyValueError>()),
            ),
            Self::NotFound => (
                c"perfcore._perfcore.BaselineNotFoundError",
                c"No baseline of this `name` (in the store's `dir`, or set on the profiler).",
                Some(|py| py.get_type::<PyLookupError>()),
            ),
            Self::Name => (
                c"perfcore._perfcore.BaselineNameError",
                c"A baseline `name` that cannot be a file name: use ASCII letters, digits, '.', \
'_' and '-', at most 128 characters, not starting with a dot.",
                Some(|py| py.get_type::<PyValueError>()),
            ),
            Self::Environment => (
                c"perfcore._perfcore.EnvironmentMismatchError",
                c"A strict merge of baselines from unlike environments; `differences` lists \
each (field, ours, theirs).",
                None,
            ),
            Self::Io => (
                c"perfcore._perfcore.BaselineIOError",
                c"A file or directory of a baseline store could not be read, written, locked \
or listed; `errno`, `strerror` and `filename` are the operating system's.",
                Some(|py| py.get_type::<PyOSError>()),
            ),
        }
    }

    fn get(self, py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
        static TYPES: [PyOnceLock<Py<PyType>>; 6] = [const { PyOnceLock::new() }; 6];
        TYPES[self as usize]
            .get_or_try_init(py, || {
                let (name, doc, base) = self.spec();
                let mut bases = vec![py.get_type::<BaselineError>()];
                bases.extend(base.map(|b| b(py)));
                new_exception(py, name, doc, &bases)
            })
            .map(|t| t.bind(py))
    }
}

/// The core's error domains, so that [`to_py_err`] takes any.
pub(crate) enum CoreError {
    Profile(perfcore::ProfileError),
    Snapshot(perfcore::SnapshotError),
    Baseline(perfcore::baseline::BaselineError),
    Budget(perfcore::budget::BudgetError),
    Import(perfcore::import::ImportError),
    Cost(perfcore::cost::CostError),
}

impl From<perfcore::cost::CostError> for CoreError {
    fn from(e: perfcore::cost::CostError) -> Self {
        Self::Cost(e)
    }
}

impl From<perfcore::budget::BudgetError> for CoreError {
    fn from(e: perfcore::budget::BudgetError) -> Self {
        Self::Budget(e)
    }
}

impl From<perfcore::import::ImportError> for CoreError {
    fn from(e: perfcore::import::ImportError) -> Self {
        Self::Import(e)
    }
}

impl From<perfcore::baseline::BaselineError> for CoreError {
    fn from(e: perfcore::baseline::BaselineError) -> Self {
        Self::Baseline(e)
    }
}

impl From<perfcore::ProfileError> for CoreError {
    fn from(e: perfcore::ProfileError) -> Self {
        Self::Profile(e)
    }
}

impl From<perfcore::SnapshotError> for CoreError {
    fn from(e: perfcore::SnapshotError) -> Self {
        Self::Snapshot(e)
    }
}

/// A core error as the Python exception a Python user expects (see the module docs).
pub(crate) fn to_py_err(e: impl Into<CoreError>) -> PyErr {
    Python::attach(|py| match e.into() {
        CoreError::Profile(perfcore::ProfileError::NoBaseline { name }) => {
            let message = format!("no baseline named {name:?} was set on this profiler");
            with_attrs(py, BaselineKind::NotFound.get(py), message, vec![("name", obj(py, name))])
        }
        // Every other ProfileError is an argument the call cannot use.
        CoreError::Profile(e) => PyValueError::new_err(e.to_string()),
        CoreError::Baseline(e) => baseline_to_py(py, e),
        CoreError::Budget(e) => budget_to_py(py, &e),
        CoreError::Import(e) => import_to_py(py, &e),
        CoreError::Cost(e) => cost_to_py(py, &e),
        CoreError::Snapshot(e) => match &e {
            perfcore::SnapshotError::Io { path, source, .. } => os_error(py, &e, path, source),
            _ => snapshot_err(py, with_reasons(&e)),
        },
    })
}

/// Attributes of an exception: names and values.
type Attrs = Vec<(&'static str, Py<PyAny>)>;

/// `value` as a Python object (plain data: ints, strs, None).
fn obj<'py, T: IntoPyObject<'py>>(py: Python<'py>, value: T) -> Py<PyAny> {
    value.into_pyobject(py).map_or_else(|_| py.None(), |v| v.into_bound().into_any().unbind())
}

/// `path` as a str attribute, or None.
fn path_obj(py: Python<'_>, path: Option<&std::path::Path>) -> Py<PyAny> {
    obj(py, path.map(|p| p.to_string_lossy().into_owned()))
}

/// An exception of `ty` made from `args`, with `attrs` set on it.
fn with_attrs<A>(py: Python<'_>, ty: PyResult<&Bound<'_, PyType>>, args: A, attrs: Attrs) -> PyErr
where
    A: pyo3::PyErrArguments + Send + Sync + 'static,
{
    let err = match ty {
        Ok(ty) => PyErr::from_type(ty.clone(), args),
        Err(e) => return e,
    };
    let value = err.value(py);
    for (name, attr) in attrs {
        if let Err(e) = value.setattr(name, attr) {
            return e;
        }
    }
    err
}

/// The attributes every `BaselineError` has, class-level defaults for the subclass ones.
const BASELINE_ATTRS: [&str; 10] =
    ["path", "line", "column", "field", "found", "oldest", "newest", "name", "dir", "differences"];

/// A `BaselineError` as its Python subclass, carrying where it happened as attributes.
fn baseline_to_py(py: Python<'_>, e: perfcore::baseline::BaselineError) -> PyErr {
    use perfcore::SnapshotError as S;
    use perfcore::baseline::BaselineError as E;
    let message = with_reasons(&e);
    let (kind, attrs): (BaselineKind, Attrs) = match &e {
        E::Io { path, source, .. } | E::Snapshot(S::Io { path, source, .. }) => {
            let attrs = vec![("path", path_obj(py, Some(path)))];
            let ty = BaselineKind::Io.get(py);
            let err = match source.raw_os_error() {
                Some(code) => {
                    let args = (code, strerror(py, code, source), path.as_os_str().to_os_string());
                    with_attrs(py, ty, args, attrs)
                }
                None => with_attrs(py, ty, message, attrs),
            };
            // A note is extra context: an error adding it leaves the error as it is.
            let _ = err.value(py).call_method1("add_note", (e.to_string(),));
            return err;
        }
        E::Parse { path, line, column, field, .. } => (
            BaselineKind::Format,
            vec![
                ("path", path_obj(py, path.as_deref())),
                ("line", obj(py, *line)),
                ("column", obj(py, *column)),
                ("field", obj(py, field.clone())),
            ],
        ),
        E::Snapshot(S::Parse { path, line, column, .. }) => (
            BaselineKind::Format,
            vec![
                ("path", path_obj(py, path.as_deref())),
                ("line", obj(py, *line)),
                ("column", obj(py, *column)),
                ("field", obj(py, "snapshot")),
            ],
        ),
        E::Inconsistent { path, field, .. } => (
            BaselineKind::Format,
            vec![("path", path_obj(py, path.as_deref())), ("field", obj(py, field.clone()))],
        ),
        E::Snapshot(S::Inconsistent { path, .. }) => (
            BaselineKind::Format,
            vec![("path", path_obj(py, path.as_deref())), ("field", obj(py, "snapshot"))],
        ),
        E::UnsupportedSchema { path, found, oldest, newest, .. }
        | E::Snapshot(S::UnsupportedSchema { path, found, oldest, newest }) => (
            BaselineKind::Schema,
            vec![
                ("path", path_obj(py, path.as_deref())),
                ("found", obj(py, *found)),
                ("oldest", obj(py, *oldest)),
                ("newest", obj(py, *newest)),
            ],
        ),
        E::NotFound { name, dir } => (
            BaselineKind::NotFound,
            vec![("name", obj(py, name.clone())), ("dir", path_obj(py, Some(dir)))],
        ),
        E::InvalidName { name, .. } => (BaselineKind::Name, vec![("name", obj(py, name.clone()))]),
        E::EnvironmentMismatch { differences } => {
            let list: Vec<(String, String, String)> = differences
                .iter()
                .map(|d| (d.field.to_string(), d.ours.clone(), d.theirs.clone()))
                .collect();
            (BaselineKind::Environment, vec![("differences", obj(py, list))])
        }
        // A setting, not a file: a bad argument (retention=0).
        E::ZeroRetention => return PyValueError::new_err(message),
        // A variant added to the core later: still a BaselineError.
        _ => return PyErr::from_type(py.get_type::<BaselineError>(), message),
    };
    with_attrs(py, kind.get(py), message, attrs)
}

/// A `BudgetError` as `BudgetError` (or the OSError of a file that cannot be read).
fn budget_to_py(py: Python<'_>, e: &perfcore::budget::BudgetError) -> PyErr {
    use perfcore::budget::BudgetError as E;
    let at = |path: &Option<std::path::PathBuf>, line: usize, column: usize, key: Option<&str>| {
        vec![
            ("path", path_obj(py, path.as_deref())),
            ("line", obj(py, line)),
            ("column", obj(py, column)),
            ("key", obj(py, key)),
        ]
    };
    let attrs = match e {
        E::Read { path, source } => return os_error(py, e, path, source),
        E::Syntax { path, line, column, .. } => at(path, *line, *column, None),
        E::UnknownKey { path, line, column, key, .. }
        | E::InvalidValue { path, line, column, key, .. } => at(path, *line, *column, Some(key)),
        _ => Vec::new(),
    };
    with_attrs(py, BUDGET_ERROR.get(py), with_reasons(e), attrs)
}

/// An `ImportError` as `BenchmarkImportError` (or the OSError of a file that cannot be read).
fn import_to_py(py: Python<'_>, e: &perfcore::import::ImportError) -> PyErr {
    use perfcore::import::ImportError as E;
    let attrs = match e {
        E::Io { path, source } => return os_error(py, e, path, source),
        E::Parse { path, line, column, .. } => vec![
            ("path", path_obj(py, Some(path))),
            ("line", obj(py, *line)),
            ("column", obj(py, *column)),
        ],
        E::Field { path, field, .. } => {
            vec![("path", path_obj(py, Some(path))), ("field", obj(py, field.clone()))]
        }
        E::NoCriterionBenchmarks { path }
        | E::NoSuchBaseline { path, .. }
        | E::NotRecognized { path } => vec![("path", path_obj(py, Some(path)))],
        _ => Vec::new(),
    };
    with_attrs(py, IMPORT_ERROR.get(py), with_reasons(e), attrs)
}

/// A `CostError` as `CostError`, the OSError of a file that cannot be read or written, or
/// the ValueError of an argument out of range.
fn cost_to_py(py: Python<'_>, e: &perfcore::cost::CostError) -> PyErr {
    use perfcore::cost::CostError as E;
    let at = |path: &std::path::Path| vec![("path", path_obj(py, Some(path)))];
    let attrs = match e {
        E::Read { path, source } | E::Write { path, source } => {
            return os_error(py, e, path, source);
        }
        E::Invalid { .. } => return PyValueError::new_err(e.to_string()),
        E::Row { path, line, column, value, reason } => vec![
            ("path", path_obj(py, Some(path))),
            ("line", obj(py, *line)),
            ("column", obj(py, column.clone())),
            ("value", obj(py, value.clone())),
            ("reason", obj(py, reason.clone())),
        ],
        E::Format { path, .. }
        | E::MissingColumns { path, .. }
        | E::PeriodAlreadyImported { path, .. }
        | E::Store { path, .. }
        | E::NewerStore { path, .. }
        | E::CorruptStore { path, .. }
        | E::Parquet { path, .. } => at(path),
        _ => Vec::new(),
    };
    with_attrs(py, Ok(&py.get_type::<CostError>()), with_reasons(e), attrs)
}

/// `e`'s message followed by its sources' (the core keeps the JSON parser's message, say,
/// in `source()`; a Python message is all most users read).
fn with_reasons(e: &dyn std::error::Error) -> String {
    let mut text = e.to_string();
    let mut next = e.source();
    while let Some(source) = next {
        text.push_str(": ");
        text.push_str(&source.to_string());
        next = source.source();
    }
    text
}

/// `OSError(errno, strerror, filename)`, which Python turns into the subclass the errno
/// selects, with what perfcore was doing as a note (`cannot read /path`).
fn os_error(
    py: Python<'_>,
    e: &dyn std::fmt::Display,
    path: &std::path::Path,
    source: &std::io::Error,
) -> PyErr {
    let Some(code) = source.raw_os_error() else {
        return PyOSError::new_err(format!("{e}: {source}"));
    };
    let err =
        PyOSError::new_err((code, strerror(py, code, source), path.as_os_str().to_os_string()));
    // A note is extra context: an error adding it leaves the error as it is.
    let _ = err.value(py).call_method1("add_note", (e.to_string(),));
    err
}

/// `os.strerror(code)`, the message Python itself gives an errno.
fn strerror(py: Python<'_>, code: i32, source: &std::io::Error) -> String {
    py.import("os")
        .and_then(|os| os.getattr("strerror")?.call1((code,))?.extract::<String>())
        .unwrap_or_else(|_| source.to_string())
}

/// Adds the exception classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PerfcoreError", py.get_type::<PerfcoreError>())?;
    m.add("SnapshotError", SNAPSHOT_ERROR.get(py)?)?;
    let base = py.get_type::<BaselineError>();
    for attr in BASELINE_ATTRS {
        base.setattr(attr, py.None())?;
    }
    m.add("BaselineError", base)?;
    for kind in BaselineKind::ALL {
        let ty = kind.get(py)?;
        m.add(ty.name()?, ty)?;
    }
    let cost = py.get_type::<CostError>();
    for attr in COST_ATTRS {
        cost.setattr(attr, py.None())?;
    }
    m.add("CostError", cost)?;
    m.add("MonitorError", py.get_type::<MonitorError>())?;
    for class in &MONITOR_CLASSES {
        let ty = class.get(py)?;
        m.add(ty.name()?, ty)?;
    }
    for class in [&BUDGET_ERROR, &IMPORT_ERROR] {
        let ty = class.get(py)?;
        for attr in FILE_ATTRS {
            ty.setattr(attr, py.None())?;
        }
        m.add(ty.name()?, ty)?;
    }
    Ok(())
}
