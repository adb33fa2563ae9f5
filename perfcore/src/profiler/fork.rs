//! Surviving `fork()`: the child of a process that forks while another thread holds a
//! profiler's lock (a snapshot in progress) would otherwise wait for that lock forever, and a
//! child that kept the parent's recordings would report them again when worker snapshots are
//! merged. Language bindings call [`prepare`] before `fork()`, then [`parent`] or [`child`]
//! after it (Python: `os.register_at_fork`); the Rust API stays fork-unaware, as Rust
//! programs rarely fork without exec.

use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Weak};

use super::{Inner, PerformanceProfiler};

/// Every profiler made, for the fork hooks (dead ones are pruned as new ones come).
static LIVE: parking_lot::Mutex<Vec<Weak<Inner>>> = parking_lot::Mutex::new(Vec::new());

/// Whether [`prepare`] holds the locks (so a stray `parent`/`child` unlocks nothing).
static PREPARED: AtomicBool = AtomicBool::new(false);

/// The profilers whose registry [`prepare`] locked, for [`parent`] / [`child`] to unlock.
static HELD: parking_lot::Mutex<Vec<Arc<Inner>>> = parking_lot::Mutex::new(Vec::new());

pub(crate) fn track(inner: &Arc<Inner>) {
    let mut live = LIVE.lock();
    live.retain(|w| w.strong_count() > 0);
    live.push(Arc::downgrade(inner));
}

/// Before `fork()`: waits for every snapshot or reset in progress and holds every profiler's
/// lock, so the child inherits none held by a thread that does not exist there.
///
/// # Examples
/// ```
/// perfcore::__private::fork_prepare();
/// perfcore::__private::fork_parent(); // no fork happened: just release
/// ```
pub fn prepare() {
    // LIVE stays locked too, so no profiler is being made (half-tracked) across the fork.
    let live_guard = LIVE.lock();
    let live: Vec<Arc<Inner>> = live_guard.iter().filter_map(Weak::upgrade).collect();
    std::mem::forget(live_guard);
    for inner in &live {
        inner.registry.lock_and_keep();
    }
    HELD.lock().extend(live);
    PREPARED.store(true, Ordering::SeqCst);
}

fn release() -> Vec<Arc<Inner>> {
    if !PREPARED.swap(false, Ordering::SeqCst) {
        return Vec::new();
    }
    let held = std::mem::take(&mut *HELD.lock());
    for inner in &held {
        // SAFETY: `prepare` locked each registry in `held` on this thread and forgot the
        // guard; each is unlocked once, here.
        unsafe { inner.registry.force_unlock() };
    }
    // SAFETY: `prepare` locked LIVE and forgot the guard; this is the one matching unlock.
    unsafe { LIVE.force_unlock() };
    held
}

/// After `fork()`, in the parent: releases what [`prepare`] held (nothing if it was not
/// called).
pub fn parent() {
    release();
}

/// After `fork()`, in the child: releases what [`prepare`] held and resets every profiler,
/// so the child reports only its own calls (scopes open across the fork still record when
/// they close).
///
/// # Examples
/// (Its own process: it resets every profiler in it.)
/// ```standalone_crate
/// let p = perfcore::PerformanceProfiler::new();
/// drop(p.scope("before").unwrap());
/// perfcore::__private::fork_prepare();
/// perfcore::__private::fork_child(); // as a forked child would
/// assert_eq!(p.snapshot().total_calls(), 0);
/// ```
pub fn child() {
    for inner in release() {
        PerformanceProfiler { inner }.reset();
    }
}
