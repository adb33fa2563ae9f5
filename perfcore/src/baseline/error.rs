//! `BaselineError`: everything that can go wrong reading, writing and merging baselines.

use std::fmt;
use std::path::PathBuf;

use super::env::EnvDifference;
use crate::error::{IoAction, SnapshotError};

/// A baseline, a run history or the store could not be read, written or merged.
///
/// Each variant names the file when there is one; the underlying error (the JSON parser's,
/// the operating system's) is returned by [`source`](std::error::Error::source), not repeated
/// in the message.
///
/// # Examples
/// ```
/// use perfcore::baseline::{Baseline, BaselineError};
/// let err = Baseline::from_json("{\"schema_version\": 99}").unwrap_err();
/// assert!(matches!(err, BaselineError::UnsupportedSchema { found: 99, .. }));
/// assert_eq!(err.to_string(), "baseline has schema version 99; this perfcore reads versions 1 to 1");
/// ```
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum BaselineError {
    /// A file or directory of the store could not be read, written, locked or listed; the
    /// source says why (permissions, a full disk, a path that is a file): fix that and retry.
    #[error("cannot {action} {}", .path.display())]
    Io {
        /// What was being done.
        action: IoAction,
        /// The file or directory.
        path: PathBuf,
        /// The operating system's error.
        #[source]
        source: std::io::Error,
    },
    /// The file is not JSON of the expected shape (truncated, not JSON, a field missing or of
    /// the wrong type, a negative count): restore it from version control or delete it.
    #[error("invalid {kind}{} at line {line}, column {column}{}", location(.path), at(.field))]
    Parse {
        /// What the file holds.
        kind: FileKind,
        /// The file, if it came from one.
        path: Option<PathBuf>,
        /// The line of the problem, from 1.
        line: usize,
        /// The column of the problem, from 1.
        column: usize,
        /// Where in the document, as a path such as `snapshot.functions[3].count`, when the
        /// problem is in a value rather than in the JSON syntax.
        field: Option<String>,
        /// What the JSON parser said.
        #[source]
        source: serde_json::Error,
    },
    /// The file was written by a newer (or unknown) perfcore: upgrade perfcore to read it.
    #[error(
        "{kind}{} has schema version {found}; this perfcore reads versions {oldest} to {newest}",
        location(.path)
    )]
    UnsupportedSchema {
        /// What the file holds.
        kind: FileKind,
        /// The file, if it came from one.
        path: Option<PathBuf>,
        /// The version in the file.
        found: u32,
        /// The oldest version this build reads.
        oldest: u32,
        /// The version this build reads and writes.
        newest: u32,
    },
    /// The file parsed but contradicts itself or its place in the store (a name that is not
    /// its file's, run ids out of order): it was edited by hand; restore or delete it.
    #[error("inconsistent {kind}{}: {field}: {problem}", location(.path))]
    Inconsistent {
        /// What the file holds.
        kind: FileKind,
        /// The file, if it came from one.
        path: Option<PathBuf>,
        /// The field that is wrong, e.g. `runs[3].id`.
        field: String,
        /// How it is wrong.
        problem: String,
    },
    /// The snapshot inside a baseline is of an unknown schema or contradicts itself (a count
    /// that is not its histogram's): restore or delete the file named.
    #[error(transparent)]
    Snapshot(#[from] SnapshotError),
    /// A baseline name cannot be a file name in the store: use letters, digits, `.`, `_` and
    /// `-`, at most 128 characters, not starting with a dot.
    #[error("invalid baseline name {name:?}: {problem}")]
    InvalidName {
        /// The name given.
        name: String,
        /// What is wrong with it.
        problem: NameProblem,
    },
    /// No baseline of this name is in the store: save one first, or check the store's
    /// directory (`PERFCORE_DIR`).
    #[error("no baseline named {name:?} in {}", .dir.display())]
    NotFound {
        /// The name asked for.
        name: String,
        /// The store's directory.
        dir: PathBuf,
    },
    /// Two baselines from environments that differ were merged under
    /// [`EnvPolicy::Strict`](super::EnvPolicy::Strict): merge baselines of like machines, or
    /// accept the warnings with [`EnvPolicy::Warn`](super::EnvPolicy::Warn).
    #[error("the environments differ: {}", list(.differences))]
    EnvironmentMismatch {
        /// Each field that differs, with both values.
        differences: Vec<EnvDifference>,
    },
    /// A store was asked to keep no runs: keep at least one.
    #[error("retention must be at least 1 run, got 0")]
    ZeroRetention,
}

/// What a file of the store holds, as error messages name it.
///
/// # Examples
/// ```
/// assert_eq!(perfcore::baseline::FileKind::History.to_string(), "run history");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum FileKind {
    /// A [`Baseline`](super::Baseline).
    Baseline,
    /// A [`History`](super::History).
    History,
}

impl fmt::Display for FileKind {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(match self {
            Self::Baseline => "baseline",
            Self::History => "run history",
        })
    }
}

/// Why a name cannot be a baseline's.
///
/// # Examples
/// ```
/// use perfcore::baseline::{BaselineError, BaselineStore, NameProblem};
/// let store = BaselineStore::open(std::env::temp_dir());
/// let err = store.load("a/b").unwrap_err();
/// assert!(matches!(
///     err,
///     BaselineError::InvalidName { problem: NameProblem::BadCharacter { character: '/', index: 1 }, .. }
/// ));
/// ```
#[derive(Clone, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum NameProblem {
    /// The name is empty.
    Empty,
    /// The name is longer than the limit.
    TooLong {
        /// Its length in bytes.
        len: usize,
        /// The longest name accepted.
        max: usize,
    },
    /// The name starts with a dot (the store's own temporary files do).
    LeadingDot,
    /// The name has a character other than ASCII letters, digits, `.`, `_` and `-`.
    BadCharacter {
        /// The character.
        character: char,
        /// Its byte offset in the name.
        index: usize,
    },
}

impl fmt::Display for NameProblem {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Empty => f.write_str("it is empty"),
            Self::TooLong { len, max } => write!(f, "it is {len} bytes long, the limit is {max}"),
            Self::LeadingDot => f.write_str("it starts with a dot"),
            Self::BadCharacter { character, index } => write!(
                f,
                "character {character:?} at byte {index} is not an ASCII letter, digit, '.', '_' \
                 or '-'"
            ),
        }
    }
}

fn location(path: &Option<PathBuf>) -> String {
    path.as_ref().map(|p| format!(" in {}", p.display())).unwrap_or_default()
}

fn at(field: &Option<String>) -> String {
    field.as_ref().map(|f| format!(", at `{f}`")).unwrap_or_default()
}

fn list(differences: &[EnvDifference]) -> String {
    differences.iter().map(ToString::to_string).collect::<Vec<_>>().join(", ")
}
