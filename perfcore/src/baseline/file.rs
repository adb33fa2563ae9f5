//! `Baseline`: a named snapshot with the environment it was recorded in.

use std::collections::BTreeMap;
use std::path::Path;

use serde::{Deserialize, Serialize};

use super::document::{self, BASELINE_SCHEMA_VERSION, validate_name};
use super::env::{EnvDifference, Environment};
use super::error::{BaselineError, FileKind};
use crate::error::SnapshotError;
use crate::stats::{OLDEST_SCHEMA_VERSION, RunSummary, SCHEMA_VERSION, Snapshot};

/// A named snapshot to compare later runs with, and where it was recorded.
///
/// Serialised as pretty JSON, metadata first and the snapshot last, so a diff of two
/// versions in version control reads from the top. A fleet baseline
/// ([`merge`](Self::merge) of several machines' baselines) keeps every machine's
/// environment in [`machines`](Self::machines).
///
/// # Examples
/// ```
/// use perfcore::baseline::Baseline;
/// let p = perfcore::PerformanceProfiler::new();
/// { let _g = p.scope("load").unwrap(); }
/// let baseline = Baseline::new("main", p.snapshot())?.with_label("job", "nightly");
/// let back = Baseline::from_json(&baseline.to_json())?;
/// assert_eq!(back, baseline);
/// assert_eq!(back.snapshot.function("load").unwrap().count, 1);
/// # Ok::<(), perfcore::baseline::BaselineError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Baseline {
    /// The file's schema version, [`BASELINE_SCHEMA_VERSION`].
    pub schema_version: u32,
    /// The baseline's name: see [`validate_name`].
    pub name: String,
    /// Where it was recorded (for a fleet baseline: where the first part was).
    pub environment: Environment,
    /// Free-form labels ("job", "pr", "dataset").
    #[serde(default)]
    pub labels: BTreeMap<String, String>,
    /// The environments of the baselines merged into this one, in merge order.
    #[serde(default)]
    pub machines: Vec<Environment>,
    /// What was recorded.
    pub snapshot: Snapshot,
}

/// What [`Baseline::merge`] does when the environments differ.
///
/// # Examples
/// ```
/// assert_eq!(perfcore::baseline::EnvPolicy::default(), perfcore::baseline::EnvPolicy::Warn);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum EnvPolicy {
    /// Merge, and return the differences as warnings.
    #[default]
    Warn,
    /// Refuse with [`BaselineError::EnvironmentMismatch`] (the command line's `--strict-env`).
    Strict,
}

impl Baseline {
    /// A baseline of `snapshot` named `name`, with the environment of this process
    /// ([`Environment::capture`]) and no labels. The snapshot's
    /// [`timeline`](Snapshot::timeline), if any, is left out: comparisons read the statistics,
    /// and the recent spans would only make the file larger.
    ///
    /// # Errors
    /// [`BaselineError::InvalidName`] when `name` could not be a file name in a store.
    ///
    /// # Examples
    /// ```
    /// use perfcore::baseline::Baseline;
    /// assert!(Baseline::new("main", perfcore::Snapshot::default()).is_ok());
    /// assert!(Baseline::new("../main", perfcore::Snapshot::default()).is_err());
    /// ```
    pub fn new(name: impl Into<String>, mut snapshot: Snapshot) -> Result<Self, BaselineError> {
        let name = name.into();
        snapshot.timeline = None;
        validate_name(&name)?;
        Ok(Self {
            schema_version: BASELINE_SCHEMA_VERSION,
            name,
            environment: Environment::capture(),
            labels: BTreeMap::new(),
            machines: Vec::new(),
            snapshot,
        })
    }

    /// This baseline with another environment (one captured elsewhere, or with the Python
    /// runtime filled in).
    ///
    /// # Examples
    /// ```
    /// use perfcore::baseline::{Baseline, Environment};
    /// let env = Environment::capture().with_runtime("CPython 3.11.2");
    /// let b = Baseline::new("py", perfcore::Snapshot::default())?.with_environment(env);
    /// assert_eq!(b.environment.runtime, "CPython 3.11.2");
    /// # Ok::<(), perfcore::baseline::BaselineError>(())
    /// ```
    #[must_use]
    pub fn with_environment(mut self, environment: Environment) -> Self {
        self.environment = environment;
        self
    }

    /// This baseline with the label `key` set to `value`.
    ///
    /// # Examples
    /// ```
    /// let b = perfcore::baseline::Baseline::new("x", perfcore::Snapshot::default())?
    ///     .with_label("pr", "1234");
    /// assert_eq!(b.labels["pr"], "1234");
    /// # Ok::<(), perfcore::baseline::BaselineError>(())
    /// ```
    #[must_use]
    pub fn with_label(mut self, key: impl Into<String>, value: impl Into<String>) -> Self {
        self.labels.insert(key.into(), value.into());
        self
    }

    /// The figures a run history keeps of this baseline's snapshot.
    ///
    /// # Examples
    /// ```
    /// let b = perfcore::baseline::Baseline::new("x", perfcore::Snapshot::default())?;
    /// assert!(b.summary().functions.is_empty());
    /// # Ok::<(), perfcore::baseline::BaselineError>(())
    /// ```
    #[must_use]
    pub fn summary(&self) -> RunSummary {
        self.snapshot.summary()
    }

    /// Merges `other` into this baseline: the snapshots losslessly ([`Snapshot::merge`]),
    /// `other`'s environment and machines appended to [`machines`](Self::machines), and its
    /// labels added where this baseline has none of that key.
    ///
    /// Returns how the environments of `other` (its own and its machines') differ from this
    /// baseline's, each difference once: timings from different CPU models or build profiles
    /// do not compare, so show these to the user.
    ///
    /// # Errors
    /// [`BaselineError::EnvironmentMismatch`] under [`EnvPolicy::Strict`] when there is any
    /// difference; nothing is merged then.
    ///
    /// # Examples
    /// ```
    /// use perfcore::baseline::{Baseline, BaselineError, EnvPolicy};
    /// let (a, b) = (perfcore::PerformanceProfiler::new(), perfcore::PerformanceProfiler::new());
    /// { let _g = a.scope("f").unwrap(); }
    /// { let _g = b.scope("f").unwrap(); }
    /// let mut fleet = Baseline::new("fleet", a.snapshot())?;
    /// let mut other = Baseline::new("host-b", b.snapshot())?;
    /// assert!(fleet.merge(&other, EnvPolicy::Strict)?.is_empty());
    /// assert_eq!(fleet.snapshot.function("f").unwrap().count, 2);
    /// assert_eq!(fleet.machines.len(), 1);
    ///
    /// other.environment.build_profile = "profiling".into();
    /// let err = fleet.merge(&other, EnvPolicy::Strict).unwrap_err();
    /// assert!(matches!(err, BaselineError::EnvironmentMismatch { .. }));
    /// assert!(err.to_string().contains("build_profile"), "{err}");
    /// let warnings = fleet.merge(&other, EnvPolicy::Warn)?;
    /// assert_eq!(warnings.len(), 1);
    /// assert_eq!(fleet.snapshot.function("f").unwrap().count, 3);
    /// # Ok::<(), BaselineError>(())
    /// ```
    pub fn merge(
        &mut self,
        other: &Baseline,
        policy: EnvPolicy,
    ) -> Result<Vec<EnvDifference>, BaselineError> {
        let mut differences: Vec<EnvDifference> = Vec::new();
        for env in std::iter::once(&other.environment).chain(&other.machines) {
            for d in self.environment.differences(env) {
                if !differences.contains(&d) {
                    differences.push(d);
                }
            }
        }
        if policy == EnvPolicy::Strict && !differences.is_empty() {
            return Err(BaselineError::EnvironmentMismatch { differences });
        }
        self.snapshot.merge(&other.snapshot);
        self.machines.push(other.environment.clone());
        self.machines.extend(other.machines.iter().cloned());
        for (k, v) in &other.labels {
            self.labels.entry(k.clone()).or_insert_with(|| v.clone());
        }
        Ok(differences)
    }

    /// The baseline as pretty JSON (with a final newline).
    ///
    /// # Examples
    /// ```
    /// let b = perfcore::baseline::Baseline::new("x", perfcore::Snapshot::default())?;
    /// assert!(b.to_json().starts_with("{\n  \"schema_version\": 1,\n  \"name\": \"x\""));
    /// # Ok::<(), perfcore::baseline::BaselineError>(())
    /// ```
    #[must_use]
    pub fn to_json(&self) -> String {
        document::to_pretty_json(self)
    }

    /// Parses a baseline written by [`Baseline::to_json`], of any schema version this build
    /// reads; the snapshot inside is checked as [`Snapshot::from_json`] checks one.
    ///
    /// # Errors
    /// [`BaselineError::UnsupportedSchema`] for a newer schema; [`BaselineError::Parse`] for
    /// malformed JSON or a field of the wrong shape (naming the field);
    /// [`BaselineError::Inconsistent`] for an invalid name; [`BaselineError::Snapshot`] when
    /// the snapshot is of an unknown schema or contradicts itself.
    ///
    /// # Examples
    /// ```
    /// use perfcore::baseline::{Baseline, BaselineError};
    /// let json = Baseline::new("x", perfcore::Snapshot::default())?.to_json();
    /// let err = Baseline::from_json(&json.replace("\"x\"", "7")).unwrap_err();
    /// assert!(matches!(err, BaselineError::Parse { field: Some(ref f), .. } if f == "name"));
    /// # Ok::<(), BaselineError>(())
    /// ```
    pub fn from_json(json: &str) -> Result<Self, BaselineError> {
        Self::parse(json, None)
    }

    /// Reads a baseline file.
    ///
    /// # Errors
    /// [`BaselineError::Io`] if the file cannot be read, and the errors of
    /// [`Baseline::from_json`], naming the file.
    ///
    /// # Examples
    /// ```
    /// let err = perfcore::baseline::Baseline::read_json("/no/such/baseline.json").unwrap_err();
    /// assert!(err.to_string().contains("/no/such/baseline.json"));
    /// ```
    pub fn read_json(path: impl AsRef<Path>) -> Result<Self, BaselineError> {
        let path = path.as_ref();
        Self::parse(&document::read_file(path)?, Some(path))
    }

    /// Writes the baseline to `path` atomically (a temporary file beside it, flushed, renamed
    /// over it, and the directory flushed): a crash leaves the old file or the new one.
    /// [`BaselineStore::save`](super::BaselineStore::save) also locks the store and records
    /// the run.
    ///
    /// # Errors
    /// [`BaselineError::Io`] naming the file and the step that failed.
    ///
    /// # Examples
    /// ```
    /// # let dir = std::env::temp_dir().join(format!("perfcore-doc-bw-{}", std::process::id()));
    /// # std::fs::create_dir_all(&dir).unwrap();
    /// use perfcore::baseline::Baseline;
    /// let b = Baseline::new("x", perfcore::Snapshot::default())?;
    /// b.write_json(dir.join("x.json"))?;
    /// assert_eq!(Baseline::read_json(dir.join("x.json"))?, b);
    /// # std::fs::remove_dir_all(&dir).unwrap();
    /// # Ok::<(), perfcore::baseline::BaselineError>(())
    /// ```
    pub fn write_json(&self, path: impl AsRef<Path>) -> Result<(), BaselineError> {
        document::write_file(path.as_ref(), &self.to_json())
    }

    fn parse(json: &str, path: Option<&Path>) -> Result<Self, BaselineError> {
        let mut b: Baseline = document::parse(json, FileKind::Baseline, path)?;
        if let Err(BaselineError::InvalidName { problem, .. }) = validate_name(&b.name) {
            return Err(document::inconsistent(
                FileKind::Baseline,
                path,
                "name",
                problem.to_string(),
            ));
        }
        let found = b.snapshot.schema_version;
        if !(OLDEST_SCHEMA_VERSION..=SCHEMA_VERSION).contains(&found) {
            return Err(SnapshotError::UnsupportedSchema {
                path: path.map(Into::into),
                found,
                oldest: OLDEST_SCHEMA_VERSION,
                newest: SCHEMA_VERSION,
            }
            .into());
        }
        b.snapshot.validate().map_err(|problem| SnapshotError::Inconsistent {
            path: path.map(Into::into),
            problem,
        })?;
        // Read in any supported version, held in this one's layout.
        b.snapshot.schema_version = SCHEMA_VERSION;
        b.schema_version = BASELINE_SCHEMA_VERSION;
        Ok(b)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn baseline() -> Baseline {
        let p = crate::PerformanceProfiler::new();
        for _ in 0..3 {
            let _g = p.scope("f").unwrap();
        }
        Baseline::new("b", p.snapshot()).unwrap()
    }

    #[test]
    fn merge_records_machines_and_differences_once() {
        let mut a = baseline();
        let mut b = baseline();
        b.environment.cpu_model = Some("Other CPU".into());
        b.machines.push(b.environment.clone());
        b.labels.insert("k".into(), "theirs".into());
        a.labels.insert("k".into(), "ours".into());
        let warnings = a.merge(&b, EnvPolicy::Warn).unwrap();
        assert_eq!(warnings.len(), 1, "{warnings:?}");
        assert_eq!(warnings[0].theirs, "Other CPU");
        assert_eq!(a.machines.len(), 2);
        assert_eq!(a.labels["k"], "ours");
        assert_eq!(a.snapshot.function("f").unwrap().count, 6);
    }

    #[test]
    fn strict_merge_changes_nothing_when_it_refuses() {
        let mut a = baseline();
        let before = a.clone();
        let mut b = baseline();
        b.environment.cores = Some(9999);
        let err = a.merge(&b, EnvPolicy::Strict).unwrap_err();
        let BaselineError::EnvironmentMismatch { differences } = &err else { panic!("{err:?}") };
        assert_eq!(differences[0].theirs, "9999");
        assert!(err.to_string().starts_with("the environments differ: cores: "), "{err}");
        assert_eq!(a, before);
    }

    #[test]
    fn an_embedded_snapshot_of_an_unknown_schema_is_refused() {
        let json = baseline().to_json().replace(
            &format!("\"schema_version\": {SCHEMA_VERSION},\n    \"started"),
            "\"schema_version\": 77,\n    \"started",
        );
        let err = Baseline::from_json(&json).unwrap_err();
        assert!(
            matches!(
                err,
                BaselineError::Snapshot(SnapshotError::UnsupportedSchema { found: 77, .. })
            ),
            "{err:?}"
        );
    }
}
