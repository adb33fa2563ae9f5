//! The errors perfcore returns: one enum per domain.

use std::fmt;
use std::path::PathBuf;

/// A profiling call was given an argument it cannot use.
#[derive(Debug, Clone, PartialEq, thiserror::Error)]
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
    /// A baseline was asked for a function that has not been recorded; profile it first.
    #[error("function `{name}` has no calls recorded")]
    NotRecorded {
        /// The function's name.
        name: String,
    },
    /// No baseline of this name was set on the profiler; call `set_baseline` first.
    #[error("no baseline named `{name}` was set")]
    NoBaseline {
        /// The baseline's name.
        name: String,
    },
    /// `init_global` came after the global profiler was made (by a scope, `#[profile]` or
    /// `global()`); call it first thing in `main`.
    #[error("the global profiler is already in use: configure it before anything records into it")]
    GlobalInUse,
    /// A numeric setting was NaN or infinite; pass a finite number.
    #[error("setting `{setting}` must be a finite number, got {value}")]
    NonFinite {
        /// The setting's name.
        setting: &'static str,
        /// The value given.
        value: f64,
    },
    /// A setting was outside the range it accepts; pass a value between `min` and `max`.
    #[error("setting `{setting}` must be between {min} and {max}, got {value}")]
    OutOfRange {
        /// The setting's name.
        setting: &'static str,
        /// The value given.
        value: f64,
        /// The smallest value accepted.
        min: f64,
        /// The largest value accepted.
        max: f64,
    },
}

/// A snapshot could not be read or written.
///
/// Each variant names the file when there is one; the underlying error (the JSON parser's, the
/// operating system's) is returned by [`source`](std::error::Error::source), not repeated in
/// the message.
///
/// # Examples
/// ```
/// # #[cfg(feature = "json")] {
/// let err = perfcore::Snapshot::from_json("{\"schema_version\": 2,").unwrap_err();
/// assert!(matches!(err, perfcore::SnapshotError::Parse { line: 1, .. }));
/// assert!(std::error::Error::source(&err).is_some());
/// # }
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum SnapshotError {
    /// The snapshot was written by a newer (or unknown) perfcore; upgrade perfcore to read it.
    #[error(
        "snapshot{} has schema version {found}; this perfcore reads versions {oldest} to {newest}",
        location(.path)
    )]
    UnsupportedSchema {
        /// The file it came from, if it came from a file.
        path: Option<PathBuf>,
        /// The version in the file.
        found: u32,
        /// The oldest version this build reads.
        oldest: u32,
        /// The version this build reads and writes.
        newest: u32,
    },
    /// The snapshot was not valid JSON, or did not have the snapshot's shape.
    #[cfg(feature = "json")]
    #[error("invalid snapshot{} at line {line}, column {column}", location(.path))]
    Parse {
        /// The file it came from, if it came from a file.
        path: Option<PathBuf>,
        /// The line of the problem, from 1.
        line: usize,
        /// The column of the problem, from 1.
        column: usize,
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },
    /// The snapshot parsed but contradicts itself; it was edited or damaged.
    #[error("inconsistent snapshot{}: {problem}", location(.path))]
    Inconsistent {
        /// The file it came from, if it came from a file.
        path: Option<PathBuf>,
        /// Which field is wrong, and how.
        problem: Inconsistency,
    },
    /// Reading or writing the file failed.
    #[error("cannot {action} {}", .path.display())]
    Io {
        /// What was being done.
        action: IoAction,
        /// The file.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
}

impl SnapshotError {
    /// The operating system's error, when the failure was one.
    ///
    /// # Examples
    /// ```
    /// # #[cfg(feature = "json")] {
    /// let err = perfcore::Snapshot::read_json("/no/such/snapshot.json").unwrap_err();
    /// assert_eq!(err.io_error().map(|e| e.kind()), Some(std::io::ErrorKind::NotFound));
    /// # }
    /// ```
    #[must_use]
    pub fn io_error(&self) -> Option<&std::io::Error> {
        match self {
            Self::Io { source, .. } => Some(source),
            _ => None,
        }
    }
}

/// The step of a file operation that failed.
///
/// # Examples
/// ```
/// # #[cfg(feature = "json")] {
/// let err = perfcore::Snapshot::read_json("/no/such/file.json").unwrap_err();
/// assert!(matches!(err, perfcore::SnapshotError::Io { action: perfcore::IoAction::Read, .. }));
/// # }
/// ```
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
#[non_exhaustive]
pub enum IoAction {
    /// Reading the file.
    Read,
    /// Creating the temporary file beside it.
    CreateTemporary,
    /// Writing the temporary file.
    Write,
    /// Flushing the temporary file to disk.
    Flush,
    /// Renaming the temporary file over the file.
    Rename,
    /// Taking a store's lock file.
    Lock,
    /// Creating a directory.
    CreateDirectory,
    /// Listing a directory.
    List,
    /// Removing the file.
    Remove,
}

impl fmt::Display for IoAction {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Read => "read",
            Self::CreateTemporary => "create a temporary file for",
            Self::Write => "write",
            Self::Flush => "flush",
            Self::Rename => "rename into place",
            Self::Lock => "lock",
            Self::CreateDirectory => "create the directory",
            Self::List => "list the directory",
            Self::Remove => "remove",
        })
    }
}

/// How a snapshot contradicts itself.
///
/// # Examples
/// ```
/// # #[cfg(feature = "json")] {
/// let json = r#"{"schema_version": 2, "started_unix_ns": 5, "ended_unix_ns": 1,
///     "functions": [], "call_tree": []}"#;
/// let err = perfcore::Snapshot::from_json(json).unwrap_err();
/// assert!(matches!(
///     err,
///     perfcore::SnapshotError::Inconsistent {
///         problem: perfcore::Inconsistency::WindowEndsBeforeStart,
///         ..
///     }
/// ));
/// # }
/// ```
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum Inconsistency {
    /// `ended_unix_ns` is before `started_unix_ns`.
    WindowEndsBeforeStart,
    /// A function's `count` is not the number of calls in its histogram.
    CountMismatch {
        /// Index in `functions`.
        function: usize,
        /// The function's name.
        name: String,
        /// The `count` field.
        count: u64,
        /// Calls in the histogram.
        histogram: u64,
    },
    /// A function's `min_ns` exceeds its `max_ns`.
    MinAboveMax {
        /// Index in `functions`.
        function: usize,
        /// The function's name.
        name: String,
    },
    /// A function has more errors than calls.
    MoreErrorsThanCalls {
        /// Index in `functions`.
        function: usize,
        /// The function's name.
        name: String,
    },
    /// A call-tree node names a function that is not in `functions`.
    UnknownFunction {
        /// Index in `call_tree`.
        node: usize,
        /// The function index it names.
        function: usize,
    },
    /// A call-tree node's parent does not come before it.
    ParentNotBefore {
        /// Index in `call_tree`.
        node: usize,
    },
    /// A timeline event names a function that is not in the timeline's `functions`.
    TimelineUnknownFunction {
        /// Index in the timeline's `threads`.
        thread: usize,
        /// Index in that thread's `events`.
        event: usize,
    },
    /// [`Snapshot::since`](crate::Snapshot::since) was given a snapshot that holds calls the
    /// later one does not: pass an earlier snapshot of the same profiler, taken after its last
    /// reset.
    NotAnEarlierSnapshot {
        /// The first function whose figures went down.
        name: String,
    },
}

impl fmt::Display for Inconsistency {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::WindowEndsBeforeStart => f.write_str("ended_unix_ns is before started_unix_ns"),
            Self::CountMismatch { function, name, count, histogram } => write!(
                f,
                "functions[{function}] ({name}): count is {count} but the histogram holds \
                 {histogram} calls"
            ),
            Self::MinAboveMax { function, name } => {
                write!(f, "functions[{function}] ({name}): min_ns exceeds max_ns")
            }
            Self::MoreErrorsThanCalls { function, name } => {
                write!(f, "functions[{function}] ({name}): more errors than calls")
            }
            Self::UnknownFunction { node, function } => {
                write!(f, "call_tree[{node}].function {function} is not a function")
            }
            Self::ParentNotBefore { node } => {
                write!(f, "call_tree[{node}].parent must come before the node")
            }
            Self::TimelineUnknownFunction { thread, event } => write!(
                f,
                "timeline.threads[{thread}].events[{event}].function is not a timeline function"
            ),
            Self::NotAnEarlierSnapshot { name } => write!(
                f,
                "{name}: the earlier snapshot holds calls the later one does not (another \
                 profiler, or one reset in between)"
            ),
        }
    }
}

impl std::error::Error for Inconsistency {}

fn location(path: &Option<PathBuf>) -> String {
    match path {
        Some(p) => format!(" in {}", p.display()),
        None => String::new(),
    }
}
