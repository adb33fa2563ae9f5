//! Reports and exports of a [`Snapshot`](crate::Snapshot): what people look at (an HTML
//! report, Markdown tables for a pull request) and what the tools they already run read
//! (folded stacks, speedscope, pprof, HdrHistogram, Chrome traces, Prometheus text).
//!
//! Every writer takes an `impl io::Write` (or returns a `String` for text formats) and reads
//! only the snapshot: none of them touches the profiler, so exporting a snapshot never slows
//! the code being profiled.

use std::io;

/// A report or export could not be written.
///
/// # Examples
/// ```
/// let err = perfcore::report::ReportError::Io(std::io::Error::other("disk full"));
/// assert!(err.to_string().contains("disk full"));
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The destination refused the bytes.
    #[error("could not write the report: {0}")]
    Io(#[from] io::Error),
}

#[cfg(feature = "json")]
mod chrome;
#[cfg(feature = "json")]
pub use chrome::{to_chrome_trace_json, write_chrome_trace};
