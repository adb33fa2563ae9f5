//! The errors perfcore returns.

use std::path::PathBuf;

/// What went wrong in a profiling call, a snapshot, or reading or writing one.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ProfileError {
    /// A scope or function name was empty; give the scope a name that says what it measures.
    #[error("{what} must not be empty")]
    EmptyName {
        /// Which name was empty, e.g. "scope name".
        what: &'static str,
    },
    /// `profile_function` was asked for zero iterations; ask for at least one.
    #[error("iterations must be at least 1, got 0")]
    ZeroIterations,
    /// A numeric setting was NaN or infinite.
    #[error("setting `{setting}` must be a finite number, got {value}")]
    NonFinite {
        /// The setting's name.
        setting: &'static str,
        /// The value given.
        value: f64,
    },
    /// A setting was outside the range it accepts.
    #[error("setting `{setting}` is out of range: {reason}")]
    OutOfRange {
        /// The setting's name.
        setting: &'static str,
        /// What the range is and what was given.
        reason: String,
    },
    /// A snapshot file was written by a newer (or unknown) perfcore; upgrade perfcore to read it.
    #[error(
        "unsupported snapshot schema version {found} (this perfcore reads version {supported})"
    )]
    UnsupportedSchema {
        /// The version in the file.
        found: u32,
        /// The version this build reads and writes.
        supported: u32,
    },
    /// A snapshot was not valid JSON or did not have the snapshot's shape.
    #[error("invalid snapshot{}: {source}", location(.path))]
    InvalidSnapshot {
        /// The file it came from, if it came from a file.
        path: Option<PathBuf>,
        /// What the JSON parser said, with line and column.
        #[source]
        source: serde_json::Error,
    },
    /// A snapshot parsed but contradicts itself (e.g. a histogram that does not add up to the count).
    #[error("inconsistent snapshot{}: {reason}", location(.path))]
    InconsistentSnapshot {
        /// The file it came from, if it came from a file.
        path: Option<PathBuf>,
        /// Which field is wrong, and how.
        reason: String,
    },
    /// Reading or writing a file failed.
    #[error("cannot {action} {}", .path.display())]
    Io {
        /// What was being done: "read", "write", "rename into place".
        action: &'static str,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

fn location(path: &Option<PathBuf>) -> String {
    match path {
        Some(p) => format!(" in {}", p.display()),
        None => String::new(),
    }
}
