//! The exceptions perfcore raises in Python, and [`to_py_err`], the one place core errors
//! become them.
//!
//! - `PerfcoreError(Exception)`: the base of perfcore's own errors.
//! - `SnapshotError(PerfcoreError, ValueError)`: snapshot data (JSON, a file's contents, a
//!   pickled state) that is malformed, inconsistent or of another schema version. Also a
//!   `ValueError`, which is what such data raised before, and what `json` raises for it.
//! - I/O: the `OSError` subclass its errno selects (`FileNotFoundError`, `PermissionError`,
//!   ...), with `errno`, `strerror` and `filename` set.
//! - Bad arguments stay `ValueError` (and `TypeError`, raised where arguments are read).

use pyo3::exceptions::{PyException, PyOSError, PyValueError};
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

/// `SnapshotError`, made on first use: `create_exception!` takes one base, this has two.
fn snapshot_error(py: Python<'_>) -> PyResult<&Bound<'_, PyType>> {
    static TYPE: PyOnceLock<Py<PyType>> = PyOnceLock::new();
    TYPE.get_or_try_init(py, || {
        let bases = PyTuple::new(
            py,
            [py.get_type::<PerfcoreError>().into_any(), py.get_type::<PyValueError>().into_any()],
        )?;
        // SAFETY: NUL-terminated name and doc, a tuple of exception classes, no dict; returns
        // a new reference or null with an exception set.
        let ty = unsafe {
            Bound::from_owned_ptr_or_err(
                py,
                pyo3::ffi::PyErr_NewExceptionWithDoc(
                    c"perfcore._perfcore.SnapshotError".as_ptr(),
                    c"Snapshot data (JSON, a snapshot file, a pickled state) is malformed, \
inconsistent, or of a schema version this perfcore does not read; the message says which and \
where."
                        .as_ptr(),
                    bases.as_ptr(),
                    std::ptr::null_mut(),
                ),
            )?
        };
        Ok::<_, PyErr>(ty.cast_into::<PyType>()?.unbind())
    })
    .map(|t| t.bind(py))
}

/// A `SnapshotError` with `message`.
pub(crate) fn snapshot_err(py: Python<'_>, message: String) -> PyErr {
    match snapshot_error(py) {
        Ok(ty) => PyErr::from_type(ty.clone(), message),
        Err(e) => e,
    }
}

/// The core's error domains, so that [`to_py_err`] takes either.
pub(crate) enum CoreError {
    Profile(perfcore::ProfileError),
    Snapshot(perfcore::SnapshotError),
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
        // Every ProfileError is an argument the call cannot use.
        CoreError::Profile(e) => PyValueError::new_err(e.to_string()),
        CoreError::Snapshot(e) => match &e {
            perfcore::SnapshotError::Io { path, source, .. } => os_error(py, &e, path, source),
            _ => snapshot_err(py, with_reasons(&e)),
        },
    })
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
    e: &perfcore::SnapshotError,
    path: &std::path::Path,
    source: &std::io::Error,
) -> PyErr {
    let Some(code) = source.raw_os_error() else {
        return PyOSError::new_err(format!("{e}: {source}"));
    };
    let strerror = py
        .import("os")
        .and_then(|os| os.getattr("strerror")?.call1((code,))?.extract::<String>())
        .unwrap_or_else(|_| source.to_string());
    let err = PyOSError::new_err((code, strerror, path.as_os_str().to_os_string()));
    // A note is extra context: an error adding it leaves the error as it is.
    let _ = err.value(py).call_method1("add_note", (e.to_string(),));
    err
}

/// Adds the exception classes to the module.
pub(crate) fn register(m: &Bound<'_, PyModule>) -> PyResult<()> {
    let py = m.py();
    m.add("PerfcoreError", py.get_type::<PerfcoreError>())?;
    m.add("SnapshotError", snapshot_error(py)?)
}
