//! The synchronisation primitives the shared recording state uses.
//!
//! Under `--cfg loom` they come from loom, so the model tests in `profiler::shared` explore
//! every interleaving of the real record / snapshot / thread-exit code; otherwise they are the
//! standard atomics, `Arc` and parking_lot's `Mutex`.

#[cfg(loom)]
pub(crate) use loom::sync::Arc;
#[cfg(loom)]
pub(crate) use loom::sync::atomic::{AtomicU64, Ordering};

#[cfg(not(loom))]
pub(crate) use std::sync::Arc;
#[cfg(not(loom))]
pub(crate) use std::sync::atomic::{AtomicU64, Ordering};

/// A mutex whose `lock` cannot fail: parking_lot's, or loom's under model checking.
#[derive(Debug, Default)]
pub(crate) struct Mutex<T> {
    #[cfg(not(loom))]
    inner: parking_lot::Mutex<T>,
    #[cfg(loom)]
    inner: loom::sync::Mutex<T>,
}

#[cfg(not(loom))]
pub(crate) type MutexGuard<'a, T> = parking_lot::MutexGuard<'a, T>;
#[cfg(loom)]
pub(crate) type MutexGuard<'a, T> = loom::sync::MutexGuard<'a, T>;

impl<T> Mutex<T> {
    pub(crate) fn new(value: T) -> Self {
        Self {
            #[cfg(not(loom))]
            inner: parking_lot::Mutex::new(value),
            #[cfg(loom)]
            inner: loom::sync::Mutex::new(value),
        }
    }

    pub(crate) fn lock(&self) -> MutexGuard<'_, T> {
        #[cfg(not(loom))]
        {
            self.inner.lock()
        }
        #[cfg(loom)]
        {
            // A loom mutex is poisoned only when a model thread panicked, which already fails
            // the model; recover the guard so the failure that matters is the one reported.
            self.inner.lock().unwrap_or_else(|e| e.into_inner())
        }
    }
}

#[cfg(not(loom))]
impl<T> Mutex<T> {
    /// Locks and keeps the lock past this call (the `fork` protocol: locked before `fork()`,
    /// released by [`Self::force_unlock`] in both processes after it).
    pub(crate) fn lock_and_keep(&self) {
        std::mem::forget(self.inner.lock());
    }

    /// Releases a lock taken by [`Self::lock_and_keep`].
    ///
    /// # Safety
    /// The lock is held by a `lock_and_keep` of this thread (before `fork()`: in the child
    /// this thread is the only one), and no guard of it is alive.
    pub(crate) unsafe fn force_unlock(&self) {
        // SAFETY: the caller's contract is parking_lot's: the mutex is locked and no guard
        // will unlock it again.
        unsafe { self.inner.force_unlock() }
    }
}

/// Adds `v` to a counter that only one thread ever writes.
///
/// A plain load and store, no read-modify-write: on x86 two `mov`s. Sound because the owning
/// thread is the only writer; readers on other threads see each store whole (atomics never
/// tear) and, per location, never older than what they saw before (coherence).
#[inline(always)]
pub(crate) fn bump(counter: &AtomicU64, v: u64) {
    counter.store(counter.load(Ordering::Relaxed).wrapping_add(v), Ordering::Relaxed);
}
