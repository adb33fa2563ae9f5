//! Reports and exports of a [`Snapshot`](crate::Snapshot): what people look at (an HTML
//! report, Markdown tables for a pull request) and what the tools they already run read
//! (folded stacks, speedscope, pprof, HdrHistogram, Chrome traces, Prometheus text).
//!
//! Every writer takes an `impl io::Write` (or returns a `String` for text formats) and reads
//! only the snapshot: none of them touches the profiler, so exporting a snapshot never slows
//! the code being profiled.
//!
//! # Exports
//! | format | function | read by | feature |
//! | --- | --- | --- | --- |
//! | folded stacks | [`to_folded`], [`write_folded`] | `flamegraph.pl`, inferno, speedscope | — |
//! | speedscope JSON | [`to_speedscope_json`] | speedscope | — |
//! | pprof `profile.proto` | `to_pprof`, `write_pprof` | `go tool pprof`, Pyroscope | `pprof` |
//! | HdrHistogram V2 / interval log | `hdr_histogram_v2`, `write_hdr_log` | HdrHistogram (Java, Python, Rust) | `hdr` |
//! | OpenMetrics / Prometheus text | `to_prometheus_text` | Prometheus, promtool, Pushgateway | `prometheus` |
//!
//! The stack formats (folded, speedscope, pprof) walk the call tree without recursion and
//! trust nothing in it: a node whose parent index is not below its own is a root, and a node
//! naming an unknown function is left out with the nodes under it.

#[cfg(feature = "html")]
pub mod html;
#[cfg(feature = "html")]
pub use html::{HtmlOptions, to_html, write_html};

use std::io;

mod folded;
#[cfg(feature = "hdr")]
mod hdr;
#[cfg(feature = "pprof")]
mod pprof;
#[cfg(feature = "prometheus")]
pub(crate) mod prometheus;
mod speedscope;
mod tree;

pub use folded::{to_folded, write_folded};
#[cfg(feature = "hdr")]
pub use hdr::{hdr_histogram_v2, write_hdr_log};
#[cfg(feature = "pprof")]
pub use pprof::{to_pprof, write_pprof};
#[cfg(feature = "prometheus")]
pub use prometheus::{ExpositionFormat, PrometheusOptions, to_prometheus_text};
pub use speedscope::to_speedscope_json;

/// A report or export could not be written.
///
/// # Examples
/// ```
/// use std::error::Error as _;
/// let err = perfcore::report::ReportError::Io(std::io::Error::other("disk full"));
/// assert_eq!(err.to_string(), "could not write the report");
/// assert_eq!(err.source().unwrap().to_string(), "disk full");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ReportError {
    /// The destination refused the bytes.
    #[error("could not write the report")]
    Io(#[from] io::Error),
    /// The hdrhistogram crate refused the histogram's bounds (a perfcore bug: please report it).
    #[cfg(feature = "hdr")]
    #[error("could not create an HdrHistogram")]
    HdrCreate(#[from] hdrhistogram::CreationError),
    /// The hdrhistogram crate refused a value (a perfcore bug: please report it).
    #[cfg(feature = "hdr")]
    #[error("could not record a value in an HdrHistogram")]
    HdrRecord(#[from] hdrhistogram::RecordError),
    /// The hdrhistogram crate could not encode a histogram (V2 with deflate).
    #[cfg(feature = "hdr")]
    #[error("could not encode an HdrHistogram")]
    HdrSerialize(#[from] hdrhistogram::serialization::V2DeflateSerializeError),
}

#[cfg(feature = "json")]
mod chrome;
#[cfg(feature = "json")]
mod document;
pub(crate) mod markdown;

#[cfg(feature = "json")]
pub use chrome::{to_chrome_trace_json, write_chrome_trace};
#[cfg(feature = "json")]
pub use document::{
    FunctionRow, REPORT_SCHEMA, REPORT_SCHEMA_VERSION, Report, ReportOptions, ReportReadError,
};
pub use markdown::{MarkdownOptions, to_markdown};
