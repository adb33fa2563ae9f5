//! The synchronisation primitives the shared recording state uses.
//!
//! Under `--cfg loom` they come from loom, so the model tests in `profiler::shared` explore
//! every interleaving of the real record / snapshot / thread-exit code; otherwise they are the
//! standard atomics, `Arc` and `Mutex`.

#[cfg(loom)]
pub(crate) use loom::sync::Arc;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};

#[cfg(not(loom))]
pub(crate) use std::sync::Arc;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};

/// A mutex whose `lock` cannot fail: the standard one (a futex, with no process-wide
/// waiter table, so a forked child can release a lock its parent held; see
/// `profiler/fork.rs`), or loom's under model checking. Poisoning is ignored: the protected
/// data are counters that a panic cannot leave half-updated in a way a reader could misuse.
#[derive(Debug, Default)]
pub(crate) struct Mutex<T> {
    #[cfg(not(loom))]
    inner: std::sync::Mutex<T>,
    #[cfg(loom)]
    inner: loom::sync::Mutex<T>,
}

#[cfg(not(loom))]
pub(crate) type MutexGuard<'a, T> = std::sync::MutexGuard<'a, T>;
#[cfg(loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            #[cfg(not(loom))]
            inner: std::sync::Mutex::new(value),
            #[cfg(loom)]
            inner: loom::sync::Mutex::new(value),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        self.inner.lock().unwrap_or_else(std::sync::PoisonError::into_inner)
    }
}

/// Adds `v` to a counter that only one thread ever writes.
///
/// A plain load and store, no read-modify-write: on x86 two `mov`s. Sound because the owning
/// thread is the only writer; readers on other threads see each store whole (atomics never
/// tear) and, per location, never older than what they saw before (coherence). The store is
/// Release (a plain `mov` on x86 too) so that a snapshot that reads it with Acquire also sees
/// the call it belongs to (`profiler::shared`, consistency).
#[inline(always)]
pub(crate) fn bump(counter: &AtomicU64, v: u64) {
    counter.store(counter.load(Ordering::Relaxed).wrapping_add(v), Ordering::Release);
}
