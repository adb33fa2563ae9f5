//! Reports and exports of a [`Snapshot`](crate::Snapshot): what people look at (an HTML
//! report, Markdown tables for a pull request) and what the tools they already run read
//! (folded stacks, speedscope, pprof, HdrHistogram, Chrome traces, Prometheus text).
//!
//! Every writer takes an `impl io::Write` (or returns a `String` for text formats) and reads
//! only the snapshot: none of them touches the profiler, so exporting a snapshot never slows
//! the code being profiled.

#[cfg(feature = "html")]
pub mod html;
#[cfg(feature = "html")]
pub use html::{HtmlOptions, to_html, write_html};

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
mod document;
mod markdown;

#[cfg(feature = "json")]
pub use document::{
    FunctionRow, REPORT_SCHEMA, REPORT_SCHEMA_VERSION, Report, ReportOptions, ReportReadError,
};
pub use markdown::{MarkdownOptions, to_markdown};
