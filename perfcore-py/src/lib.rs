//! Python bindings for perfcore.
//!
//! This crate builds the `perfcore._perfcore` extension module of the
//! `perfcore` Python package (see `pyproject.toml` beside this crate). For now
//! it only exposes the package version; the profiling API follows.

#![deny(missing_docs)]

use pyo3::prelude::*;

/// The version of this crate, which is also the Python package's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// Initialises the `perfcore._perfcore` extension module.
///
/// Sets `__version__` to [`VERSION`].
#[pymodule]
pub fn _perfcore(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", VERSION)?;
    Ok(())
}
