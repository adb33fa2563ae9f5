//! What an endpoint serves and a push sends: the profiler's snapshot and the observations of
//! every source, the default ones (application metrics, started monitors) included unless
//! turned off. [`ServerOptions`](super::ServerOptions) and
//! [`PushOptions`](super::PushOptions) both hold one.

use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Arc, Mutex, PoisonError};

use super::Observation;
use crate::Snapshot;

/// Where the endpoint's observations come from: called at every scrape, on the thread that
/// answers it (so it must not block for long; a panic in it answers 500 and is counted).
pub type ObservationSource = Arc<dyn Fn() -> Vec<Observation> + Send + Sync>;

/// Where the endpoint's function statistics come from: a snapshot taken at every scrape.
pub type SnapshotSource = Arc<dyn Fn() -> Snapshot + Send + Sync>;

/// The sources every endpoint and push read besides their own: the application metrics'
/// global registry, and those a started monitor registers.
static DEFAULT_SOURCES: Mutex<Vec<(u64, ObservationSource)>> = Mutex::new(Vec::new());
static NEXT_SOURCE: AtomicU64 = AtomicU64::new(1);

/// Adds a source every endpoint and push with default sources reads (now and later); the
/// returned id removes it ([`remove_default_source`]).
pub(crate) fn add_default_source(source: ObservationSource) -> u64 {
    let id = NEXT_SOURCE.fetch_add(1, Ordering::Relaxed);
    DEFAULT_SOURCES.lock().unwrap_or_else(PoisonError::into_inner).push((id, source));
    id
}

/// Removes a source [`add_default_source`] added.
pub(crate) fn remove_default_source(id: u64) {
    DEFAULT_SOURCES.lock().unwrap_or_else(PoisonError::into_inner).retain(|(i, _)| *i != id);
}

/// The application metrics' observations, then every registered default source's.
pub(crate) fn default_observations() -> Vec<Observation> {
    let sources: Vec<ObservationSource> = DEFAULT_SOURCES
        .lock()
        .unwrap_or_else(PoisonError::into_inner)
        .iter()
        .map(|(_, s)| Arc::clone(s))
        .collect();
    let mut out = super::metrics_registry().observations();
    out.extend(sources.iter().flat_map(|s| s()));
    out
}

/// A snapshot source (the global profiler unless set), the added observation sources, and
/// whether the default ones are read too.
#[derive(Clone)]
pub(crate) struct Sources {
    snapshot: Option<SnapshotSource>,
    sources: Vec<ObservationSource>,
    defaults: bool,
}

impl Default for Sources {
    fn default() -> Self {
        Self { snapshot: None, sources: Vec::new(), defaults: true }
    }
}

impl std::fmt::Debug for Sources {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Sources")
            .field("snapshot", &if self.snapshot.is_some() { "given" } else { "global profiler" })
            .field("sources", &self.sources.len())
            .field("defaults", &self.defaults)
            .finish()
    }
}

impl Sources {
    pub(crate) fn set_snapshot(&mut self, snapshot: SnapshotSource) {
        self.snapshot = Some(snapshot);
    }

    pub(crate) fn add(&mut self, source: ObservationSource) {
        self.sources.push(source);
    }

    pub(crate) fn set_defaults(&mut self, on: bool) {
        self.defaults = on;
    }

    /// The snapshot now.
    pub(crate) fn snapshot(&self) -> Snapshot {
        match &self.snapshot {
            Some(s) => s(),
            None => crate::global().snapshot(),
        }
    }

    /// Every source's observations now, the added ones first.
    pub(crate) fn observations(&self) -> Vec<Observation> {
        let mut out: Vec<Observation> = self.sources.iter().flat_map(|s| s()).collect();
        if self.defaults {
            out.extend(default_observations());
        }
        out
    }
}
