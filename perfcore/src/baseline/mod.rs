//! Baselines: named snapshots with the environment they were recorded in, kept in a
//! [`BaselineStore`] directory with a bounded run history per name.
//!
//! A [`Baseline`] is a [`Snapshot`](crate::Snapshot) plus its [`Environment`] (commit, host,
//! CPU, build profile, runtime), labels, and, for fleet baselines merged from several
//! machines, their environments. [`Baseline::merge`] combines baselines losslessly and warns
//! (or, under [`EnvPolicy::Strict`], refuses) when the environments differ in ways that make
//! timings incomparable.
//!
//! A [`BaselineStore`] keeps them in a directory (`.perfcore/` by default, or
//! `$PERFCORE_DIR`) as pretty JSON meant to be committed and diffed; see its docs for the
//! layout, the lock and why a crash never leaves a torn file. Every save also appends a
//! [`Run`] (a few figures per function) to the name's [`History`], which change-point
//! detection reads.
//!
//! # Examples
//! ```
//! # let dir = std::env::temp_dir().join(format!("perfcore-doc-mod-{}", std::process::id()));
//! use perfcore::baseline::{Baseline, BaselineStore};
//!
//! let p = perfcore::PerformanceProfiler::new();
//! { let _g = p.scope("checkout").unwrap(); }
//! let store = BaselineStore::open(&dir);
//! store.save(&Baseline::new("main", p.snapshot())?.with_label("job", "ci"))?;
//! let main = store.load("main")?;
//! assert_eq!(main.labels["job"], "ci");
//! assert_eq!(store.history("main")?.runs.len(), 1);
//! # std::fs::remove_dir_all(&dir).unwrap();
//! # Ok::<(), perfcore::baseline::BaselineError>(())
//! ```

mod document;
mod env;
mod error;
mod file;
mod store;

pub use document::{BASELINE_SCHEMA_VERSION, MAX_NAME_LEN, validate_name};
pub use env::{EnvDifference, EnvField, Environment, GitInfo, UNKNOWN};
pub use error::{BaselineError, FileKind, NameProblem};
pub use file::{Baseline, EnvPolicy};
pub use store::{
    BaselineInfo, BaselineStore, DEFAULT_RETENTION, History, PERFCORE_DIR_VAR, Run, SavedRun,
    resolve_dir,
};
