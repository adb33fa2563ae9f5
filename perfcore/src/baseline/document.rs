//! What the store's two kinds of file share: versioned JSON with errors that name the field,
//! and the rule for names.

use std::path::Path;

use serde::Serialize;
use serde::de::DeserializeOwned;

use super::error::{BaselineError, FileKind, NameProblem};
use crate::error::IoAction;

/// The schema version of baseline and run-history files this build writes.
///
/// # Examples
/// ```
/// assert_eq!(perfcore::baseline::BASELINE_SCHEMA_VERSION, 1);
/// ```
pub const BASELINE_SCHEMA_VERSION: u32 = 1;

/// The oldest baseline and run-history schema this build reads.
const OLDEST_BASELINE_SCHEMA_VERSION: u32 = 1;

/// The longest baseline name accepted.
///
/// # Examples
/// ```
/// let name = "x".repeat(perfcore::baseline::MAX_NAME_LEN + 1);
/// assert!(perfcore::baseline::validate_name(&name).is_err());
/// ```
pub const MAX_NAME_LEN: usize = 128;

/// Checks that `name` can name a baseline: non-empty, at most [`MAX_NAME_LEN`] bytes of
/// ASCII letters, digits, `.`, `_` and `-`, not starting with a dot. Such a name is a file
/// name on every platform, and never one of the store's temporary files.
///
/// # Errors
/// [`BaselineError::InvalidName`] saying what is wrong.
///
/// # Examples
/// ```
/// use perfcore::baseline::validate_name;
/// assert!(validate_name("main-x86_64.release").is_ok());
/// let err = validate_name("feature/x").unwrap_err();
/// assert!(err.to_string().contains("'/'"), "{err}");
/// ```
pub fn validate_name(name: &str) -> Result<(), BaselineError> {
    let problem = if name.is_empty() {
        Some(NameProblem::Empty)
    } else if name.len() > MAX_NAME_LEN {
        Some(NameProblem::TooLong { len: name.len(), max: MAX_NAME_LEN })
    } else if name.starts_with('.') {
        Some(NameProblem::LeadingDot)
    } else {
        name.char_indices()
            .find(|&(_, c)| !(c.is_ascii_alphanumeric() || matches!(c, '.' | '_' | '-')))
            .map(|(index, character)| NameProblem::BadCharacter { character, index })
    };
    match problem {
        Some(problem) => Err(BaselineError::InvalidName { name: name.to_owned(), problem }),
        None => Ok(()),
    }
}

#[derive(serde::Deserialize)]
struct Version {
    schema_version: u32,
}

fn unsupported(kind: FileKind, path: Option<&Path>, found: u32) -> BaselineError {
    BaselineError::UnsupportedSchema {
        kind,
        path: path.map(Into::into),
        found,
        oldest: OLDEST_BASELINE_SCHEMA_VERSION,
        newest: BASELINE_SCHEMA_VERSION,
    }
}

/// Parses a document of `kind` whose `schema_version` must be one this build reads.
pub(crate) fn parse<T: DeserializeOwned>(
    text: &str,
    kind: FileKind,
    path: Option<&Path>,
) -> Result<T, BaselineError> {
    let v: Version = deserialize(text, kind, path)?;
    if !(OLDEST_BASELINE_SCHEMA_VERSION..=BASELINE_SCHEMA_VERSION).contains(&v.schema_version) {
        return Err(unsupported(kind, path, v.schema_version));
    }
    deserialize(text, kind, path)
}

/// Refuses to replace the file at `path` when it was written by a newer perfcore, whose
/// fields this build would drop. A missing or damaged file may be replaced: saving over it
/// is how it gets fixed.
pub(crate) fn check_not_newer(path: &Path, kind: FileKind) -> Result<(), BaselineError> {
    let bytes = match std::fs::read(path) {
        Ok(bytes) => bytes,
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => return Ok(()),
        Err(source) => {
            return Err(BaselineError::Io { action: IoAction::Read, path: path.into(), source });
        }
    };
    match serde_json::from_slice::<Version>(&bytes) {
        Ok(v) if v.schema_version > BASELINE_SCHEMA_VERSION => {
            Err(unsupported(kind, Some(path), v.schema_version))
        }
        _ => Ok(()),
    }
}

/// Deserialises `text`; on failure, reads it again tracking the path to the value that
/// failed, so the error names the field (a negative count says only "expected u64"
/// otherwise). The second pass costs nothing on the success path.
fn deserialize<T: DeserializeOwned>(
    text: &str,
    kind: FileKind,
    path: Option<&Path>,
) -> Result<T, BaselineError> {
    serde_json::from_str(text).map_err(|source| {
        let mut de = serde_json::Deserializer::from_str(text);
        let field = match serde_path_to_error::deserialize::<_, T>(&mut de) {
            Err(e) if !source.is_syntax() && !source.is_eof() => Some(e.path().to_string()),
            _ => None,
        }
        .filter(|f| f != ".");
        BaselineError::Parse {
            kind,
            path: path.map(Into::into),
            line: source.line(),
            column: source.column(),
            field,
            source,
        }
    })
}

/// Pretty JSON with a final newline: the files are meant to be committed and diffed.
pub(crate) fn to_pretty_json<T: Serialize>(value: &T) -> String {
    // Plain data with string keys: serialisation cannot fail.
    let mut s = serde_json::to_string_pretty(value).expect("plain data always serialises");
    s.push('\n');
    s
}

pub(crate) fn read_file(path: &Path) -> Result<String, BaselineError> {
    std::fs::read_to_string(path).map_err(|source| BaselineError::Io {
        action: IoAction::Read,
        path: path.into(),
        source,
    })
}

pub(crate) fn write_file(path: &Path, text: &str) -> Result<(), BaselineError> {
    crate::fsutil::write_atomic(path, text.as_bytes()).map_err(|e| match e {
        crate::SnapshotError::Io { action, path, source } => {
            BaselineError::Io { action, path, source }
        }
        other => BaselineError::Snapshot(other),
    })
}

/// An [`BaselineError::Inconsistent`] about `field` of the file.
pub(crate) fn inconsistent(
    kind: FileKind,
    path: Option<&Path>,
    field: impl Into<String>,
    problem: impl Into<String>,
) -> BaselineError {
    BaselineError::Inconsistent {
        kind,
        path: path.map(Into::into),
        field: field.into(),
        problem: problem.into(),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn names_are_checked_character_by_character() {
        for good in ["a", "main", "v1.2.3", "x86_64-release", &"n".repeat(MAX_NAME_LEN)] {
            assert!(validate_name(good).is_ok(), "{good}");
        }
        let problem = |name: &str| match validate_name(name) {
            Err(BaselineError::InvalidName { problem, .. }) => problem,
            other => panic!("{name}: {other:?}"),
        };
        assert_eq!(problem(""), NameProblem::Empty);
        assert_eq!(problem(".hidden"), NameProblem::LeadingDot);
        assert_eq!(problem(&"n".repeat(129)), NameProblem::TooLong { len: 129, max: 128 });
        assert_eq!(problem("a b"), NameProblem::BadCharacter { character: ' ', index: 1 });
        assert_eq!(problem("..\\x"), NameProblem::LeadingDot);
        assert_eq!(problem("é"), NameProblem::BadCharacter { character: 'é', index: 0 });
        let msg = validate_name("a:b").unwrap_err().to_string();
        assert_eq!(
            msg,
            "invalid baseline name \"a:b\": character ':' at byte 1 is not an ASCII letter, \
             digit, '.', '_' or '-'"
        );
    }

    #[test]
    fn a_bad_value_names_its_field_and_a_syntax_error_does_not() {
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Doc {
            schema_version: u32,
            items: Vec<Item>,
        }
        #[derive(Debug, serde::Deserialize)]
        #[allow(dead_code)]
        struct Item {
            count: u64,
        }
        let err = parse::<Doc>(
            r#"{"schema_version": 1, "items": [{"count": 1}, {"count": -3}]}"#,
            FileKind::Baseline,
            None,
        )
        .unwrap_err();
        assert!(
            matches!(&err, BaselineError::Parse { field: Some(f), .. } if f == "items[1].count"),
            "{err:?}"
        );
        assert_eq!(err.to_string(), "invalid baseline at line 1, column 58, at `items[1].count`");
        let err = parse::<Doc>(r#"{"schema_version": 1, "items": [{"#, FileKind::History, None)
            .unwrap_err();
        assert!(matches!(&err, BaselineError::Parse { field: None, .. }), "{err:?}");
    }
}
