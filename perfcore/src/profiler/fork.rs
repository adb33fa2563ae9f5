//! Surviving `fork()`: the child of a process that forks while another thread holds a
//! profiler's lock (a snapshot in progress) would otherwise wait for that lock forever, and a
//! child that kept the parent's recordings would report them again when worker snapshots are
//! merged. Language bindings call [`prepare`] before `fork()`, then [`parent`] or [`child`]
//! after it (Python: `os.register_at_fork`); the Rust API stays fork-unaware, as Rust
//! programs rarely fork without exec.
//!
//! [`prepare`] takes every profiler's registry lock and every recording thread's call-path lock
//! (in the order snapshots take them, so it cannot deadlock with one), then the callsite
//! registry's locks (which are only ever taken alone), and keeps the guards
//! on the forking thread until [`parent`] or [`child`] drops them. The locks are futex-based
//! standard mutexes: unlocking one in the child touches only its own word, where a
//! parking_lot mutex would consult a process-wide table of parked threads, some of which do
//! not exist in the child (that hung a child in testing).

use std::cell::RefCell;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError, Weak};

use super::shared::{CallPath, Registry, ThreadData};
use super::{Inner, PerformanceProfiler};

/// Every profiler made, for the fork hooks (dead ones are pruned as new ones come).
static LIVE: Mutex<Vec<Weak<Inner>>> = Mutex::new(Vec::new());

/// What [`prepare`] holds, on the thread that forks.
#[derive(Default)]
struct Held {
    /// Guards, dropped innermost first.
    paths: Vec<MutexGuard<'static, Vec<Arc<CallPath>>>>,
    registries: Vec<MutexGuard<'static, Registry>>,
    baselines: Vec<MutexGuard<'static, Vec<super::MarkedBaseline>>>,
    live: Option<MutexGuard<'static, Vec<Weak<Inner>>>>,
    /// The callsite registry and named-callsite table (a snapshot takes the first to name
    /// its functions).
    callsites: Option<super::callsite::Guards>,
    /// The table of callsites interned at run time.
    interned: Option<MutexGuard<'static, super::intern::Table>>,
    /// The objects the guards borrow, kept alive by counts taken with `Arc::into_raw`.
    inners: Vec<*const Inner>,
    threads: Vec<*const ThreadData>,
}

thread_local! {
    static HELD: RefCell<Option<Held>> = const { RefCell::new(None) };
}

fn lock<T>(m: &Mutex<T>) -> MutexGuard<'_, T> {
    m.lock().unwrap_or_else(PoisonError::into_inner)
}

pub(crate) fn track(inner: &Arc<Inner>) {
    let mut live = lock(&LIVE);
    live.retain(|w| w.strong_count() > 0);
    live.push(Arc::downgrade(inner));
}

/// Before `fork()`: waits for every snapshot or reset in progress and holds every profiler's
/// locks, so the child inherits none held by a thread that does not exist there.
///
/// # Examples
/// ```
/// perfcore::__private::fork_prepare();
/// perfcore::__private::fork_parent(); // no fork happened: just release
/// ```
pub fn prepare() {
    let live = lock(&LIVE);
    let mut held = Held::default();
    for inner in live.iter().filter_map(Weak::upgrade) {
        let raw = Arc::into_raw(inner);
        held.inners.push(raw);
        // SAFETY: `raw` keeps one strong count until `release` turns it back into an Arc
        // after dropping every guard that borrows from it, so the reference outlives them.
        let inner: &'static Inner = unsafe { &*raw };
        let registry = inner.registry.lock();
        for t in &registry.threads {
            let raw = Arc::into_raw(t.clone());
            held.threads.push(raw);
            // SAFETY: as above, for the thread's data.
            let data: &'static ThreadData = unsafe { &*raw };
            held.paths.push(data.paths.lock());
        }
        held.registries.push(registry);
        // Never held together with the registry by anyone else (set_baseline snapshots
        // first, then locks the baselines), so this order cannot deadlock.
        held.baselines.push(inner.baselines.lock());
    }
    held.live = Some(live);
    held.callsites = Some(super::callsite::lock_all());
    held.interned = Some(super::intern::lock());
    HELD.with(|h| *h.borrow_mut() = Some(held));
}

/// Drops what [`prepare`] holds; returns the profilers it locked.
fn release() -> Vec<Arc<Inner>> {
    let Some(mut held) = HELD.with(|h| h.borrow_mut().take()) else { return Vec::new() };
    held.interned = None;
    held.callsites = None;
    held.paths.clear();
    held.baselines.clear();
    held.registries.clear();
    held.live = None;
    for raw in held.threads.drain(..) {
        // SAFETY: from `Arc::into_raw` in `prepare`; no guard borrows from it any more.
        drop(unsafe { Arc::from_raw(raw) });
    }
    held.inners
        .drain(..)
        // SAFETY: from `Arc::into_raw` in `prepare`; no guard borrows from it any more.
        .map(|raw| unsafe { Arc::from_raw(raw) })
        .collect()
}

/// After `fork()`, in the parent: releases what [`prepare`] held (nothing if it was not
/// called on this thread).
pub fn parent() {
    release();
}

/// After `fork()`, in the child: releases what [`prepare`] held and resets every profiler,
/// so the child reports only its own calls (scopes open across the fork still record when
/// they close) and its timelines start empty. Timeline rings have no lock to release: their
/// writers never lock, and their readers hold the registry lock taken above.
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
