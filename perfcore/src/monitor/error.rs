//! The monitor's errors: each names what was wrong and where.

/// Why a monitoring operation failed.
///
/// # Examples
/// ```
/// use perfcore::monitor::MonitorError;
/// let e = MonitorError::InvalidName { name: "9lives".into(), reason: "starts with a digit".into() };
/// assert_eq!(e.to_string(), "invalid metric or label name \"9lives\": starts with a digit");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum MonitorError {
    /// A metric or label name is not a valid Prometheus name (`[a-zA-Z_:][a-zA-Z0-9_:]*`,
    /// no `:` in label names, no `__` prefix on labels).
    #[error("invalid metric or label name {name:?}: {reason}")]
    InvalidName {
        /// The name as given.
        name: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An alert rule cannot be built or parsed.
    #[error("alert rule {rule:?}: {reason}")]
    InvalidRule {
        /// The rule's name (or its text, if it has no name yet).
        rule: String,
        /// What is wrong with it.
        reason: String,
    },
    /// An address to listen on or connect to is not `host:port`, or cannot be resolved.
    #[error("invalid address {addr:?}: {reason}")]
    InvalidAddress {
        /// The address as given.
        addr: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A URL (Pushgateway, webhook) is not one perfcore can reach: only `http://` URLs are.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The endpoint cannot listen on its address (a port already in use, say).
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address.
        addr: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A request to a Pushgateway or a webhook failed before any answer came.
    #[error("request to {url} failed")]
    Request {
        /// The URL.
        url: String,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A Pushgateway or a webhook answered with an error status.
    #[error("{url} answered {status}: {body}")]
    Rejected {
        /// The URL.
        url: String,
        /// The HTTP status code.
        status: u16,
        /// The start of the answer's body (what the server said was wrong).
        body: String,
    },
    /// A file (a JSON-lines sink) could not be opened or written.
    #[error("could not write {path}")]
    Write {
        /// The file.
        path: std::path::PathBuf,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// A background thread could not be started.
    #[error("could not start the {what} thread")]
    Thread {
        /// Which thread.
        what: &'static str,
        /// Why.
        #[source]
        source: std::io::Error,
    },
    /// An alert sink (a callback, a Python callable) failed to deliver an event.
    #[error("alert sink {sink} failed: {reason}")]
    Sink {
        /// Which sink.
        sink: String,
        /// What went wrong.
        reason: String,
    },
    /// An option of a monitor part is out of its range (a sampler interval under 10 ms, say):
    /// `option` names it, `reason` says what it accepts.
    #[error("invalid option {option}: {reason}")]
    InvalidOption {
        /// The option (`interval`, `history.raw`).
        option: &'static str,
        /// What is wrong with the value given.
        reason: String,
    },
    /// `install_metrics_recorder` found a recorder of the `metrics` facade already installed
    /// (the facade takes one per process, for its lifetime): install perfcore's first, or use
    /// `MetricsRecorder` with `metrics::with_local_recorder`.
    #[error("a global recorder of the metrics facade is already installed")]
    RecorderInstalled,
}
