//! Python bindings for perfcore: the `perfcore._perfcore` extension module of the `perfcore`
//! Python package (see `pyproject.toml` beside this crate).
//!
//! The decorated call is the hot path, and it never runs Python code of ours: `@profile`
//! returns a native callable (`fastcall`, a vectorcall type) that opens a frame in the Rust
//! profiler, calls the function and closes the frame. Generators and coroutines are wrapped in
//! native iterators that time each resumption (busy time) and the whole run (wall time), as
//! the Rust crate does for futures.

#![deny(missing_docs)]

use pyo3::prelude::*;

mod analysis;
mod baseline;
mod budget;
mod cli;
mod cost;
mod cost_watch;
mod decorate;
mod error;
mod fastcall;
mod fastscope;
mod monitor_alerts;
mod monitor_live;
mod monitor_metrics;
mod monitor_sampler;
mod profiler;
mod rawtype;
mod regress;
mod stats;
mod wrap;

/// The version of this crate, which is also the Python package's version.
pub const VERSION: &str = env!("CARGO_PKG_VERSION");

/// `os.register_at_fork(before=...)`: waits for snapshots in progress and holds the
/// profilers' locks across `fork()`.
///
/// With the GIL held throughout: whoever holds a profiler lock meanwhile either runs without
/// the GIL (a snapshot, which releases the lock before it takes the GIL back) or is a Rust
/// thread; a Python thread registering with a profiler holds the GIL, so it cannot be
/// inside the lock now, and cannot enter it until the fork is done. Releasing the GIL here
/// would let one in, to wait for a lock this thread holds while this thread waits for the
/// GIL it holds.
#[pyfunction]
fn _fork_prepare() {
    perfcore::__private::fork_prepare();
}

/// `os.register_at_fork(after_in_parent=...)`: releases the locks.
#[pyfunction]
fn _fork_parent() {
    perfcore::__private::fork_parent();
}

/// `os.register_at_fork(after_in_child=...)`: releases the locks and resets every profiler,
/// so a worker reports only its own calls.
#[pyfunction]
fn _fork_child() {
    perfcore::__private::fork_child();
}

/// Initialises the `perfcore._perfcore` extension module.
#[pymodule]
pub fn _perfcore(m: &Bound<'_, PyModule>) -> PyResult<()> {
    m.add("__version__", VERSION)?;
    m.add("SCHEMA_VERSION", perfcore::SCHEMA_VERSION)?;
    error::register(m)?;
    m.add_class::<profiler::Profiler>()?;
    profiler::install_scope_method(m.py())?;
    fastscope::register(m)?;
    m.add_class::<profiler::Decorator>()?;
    fastcall::register(m)?;
    m.add_class::<wrap::ProfiledGenerator>()?;
    m.add_class::<wrap::ProfiledCoroutine>()?;
    m.add_class::<wrap::ProfiledAsyncGenerator>()?;
    m.add_class::<wrap::ProfiledAsyncStep>()?;
    m.add_class::<stats::Snapshot>()?;
    m.add_class::<stats::FunctionStats>()?;
    m.add_class::<stats::CallNode>()?;
    m.add_class::<stats::ProfileResult>()?;
    regress::register(m)?;
    analysis::register(m)?;
    baseline::register(m)?;
    budget::register(m)?;
    cost::register(m)?;
    monitor_alerts::register(m)?;
    monitor_live::register(m)?;
    monitor_metrics::register(m)?;
    monitor_sampler::register(m)?;
    m.add_function(wrap_pyfunction!(profiler::clock_source, m)?)?;
    m.add_function(wrap_pyfunction!(profiler::default_profiler, m)?)?;
    m.add_function(wrap_pyfunction!(cli::_cli_main, m)?)?;
    m.add_function(wrap_pyfunction!(_fork_prepare, m)?)?;
    m.add_function(wrap_pyfunction!(_fork_parent, m)?)?;
    m.add_function(wrap_pyfunction!(_fork_child, m)?)?;
    Ok(())
}
