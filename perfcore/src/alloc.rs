//! Opt-in allocation tracking: a [`GlobalAlloc`] wrapper that counts bytes and allocations.
//!
//! Install [`TrackingAllocator`] as the global allocator and every profiled scope reports the
//! bytes it allocated (in total and in its own body, excluding child scopes), the bytes it freed
//! and its allocation count; [`current_bytes`] and [`peak_bytes`] give the process's heap in use.
//!
//! ```
//! use perfcore::alloc::TrackingAllocator;
//!
//! #[global_allocator]
//! static GLOBAL: TrackingAllocator<std::alloc::System> = TrackingAllocator::new(std::alloc::System);
//!
//! # fn main() {
//! let profiler = perfcore::PerformanceProfiler::new();
//! {
//!     let _g = profiler.scope("build").unwrap();
//!     let v: Vec<u64> = Vec::with_capacity(1000);
//!     std::hint::black_box(v);
//! }
//! let stats = profiler.snapshot();
//! let alloc = stats.function("build").unwrap().allocations.unwrap();
//! assert!(alloc.allocated_bytes >= 8000);
//! # }
//! ```
//!
//! The allocator itself never allocates: its per-thread counters are `const`-initialised
//! thread-locals without destructors, and the process totals are two atomics.

use std::alloc::{GlobalAlloc, Layout};
use std::cell::Cell;
use std::sync::atomic::{AtomicBool, AtomicU64, Ordering};

static ACTIVE: AtomicBool = AtomicBool::new(false);
static CURRENT: AtomicU64 = AtomicU64::new(0);
static PEAK: AtomicU64 = AtomicU64::new(0);

thread_local! {
    static ALLOCATED: Cell<u64> = const { Cell::new(0) };
    static FREED: Cell<u64> = const { Cell::new(0) };
    static COUNT: Cell<u64> = const { Cell::new(0) };
    static PAUSED: Cell<bool> = const { Cell::new(false) };
    static THREAD_NET: Cell<i64> = const { Cell::new(0) };
    static THREAD_PEAK: Cell<i64> = const { Cell::new(0) };
}

/// A global allocator that counts what passes through it, then defers to `A`.
///
/// Per thread: bytes allocated, bytes freed, number of allocations (read by the profiler at
/// scope entry and exit). Per process: bytes currently allocated and the peak. A reallocation
/// counts as one allocation of the new size and a free of the old one.
///
/// # Examples
/// ```
/// use perfcore::alloc::TrackingAllocator;
/// use std::alloc::System;
///
/// #[global_allocator]
/// static GLOBAL: TrackingAllocator<System> = TrackingAllocator::new(System);
/// # fn main() {
/// let v = vec![0u8; 4096];
/// assert!(perfcore::alloc::current_bytes() >= 4096);
/// # drop(v);
/// # }
/// ```
#[derive(Debug, Default)]
pub struct TrackingAllocator<A> {
    inner: A,
}

impl<A> TrackingAllocator<A> {
    /// Wraps `inner`.
    ///
    /// # Examples
    /// ```
    /// let _a = perfcore::alloc::TrackingAllocator::new(std::alloc::System);
    /// ```
    pub const fn new(inner: A) -> Self {
        Self { inner }
    }
}

#[inline]
fn on_alloc(size: u64) {
    if !ACTIVE.load(Ordering::Relaxed) {
        ACTIVE.store(true, Ordering::Relaxed);
    }
    let now = CURRENT.fetch_add(size, Ordering::Relaxed) + size;
    if now > PEAK.load(Ordering::Relaxed) {
        PEAK.fetch_max(now, Ordering::Relaxed);
    }
    // `try_with` fails only while this thread's locals are being torn down: those late
    // allocations still count in the process totals, just not per thread.
    let _ = PAUSED.try_with(|paused| {
        if !paused.get() {
            ALLOCATED.with(|c| c.set(c.get().wrapping_add(size)));
            COUNT.with(|c| c.set(c.get().wrapping_add(1)));
        }
    });
    let _ = THREAD_NET.try_with(|net| {
        let n = net.get().wrapping_add(size as i64);
        net.set(n);
        THREAD_PEAK.with(|p| p.set(p.get().max(n)));
    });
}

#[inline]
fn on_free(size: u64) {
    // Saturate: memory allocated before the tracker was installed can be freed through it.
    let _ = CURRENT
        .fetch_update(Ordering::Relaxed, Ordering::Relaxed, |c| Some(c.saturating_sub(size)));
    let _ = PAUSED.try_with(|paused| {
        if !paused.get() {
            FREED.with(|c| c.set(c.get().wrapping_add(size)));
        }
    });
    let _ = THREAD_NET.try_with(|net| net.set(net.get().wrapping_sub(size as i64)));
}

// SAFETY: every method forwards to `inner` with the caller's arguments unchanged, so `inner`'s
// guarantees are ours; the bookkeeping around it touches only atomics and const thread-locals,
// neither of which allocates, so it cannot recurse into the allocator.
unsafe impl<A: GlobalAlloc> GlobalAlloc for TrackingAllocator<A> {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc`'s contract.
        let p = unsafe { self.inner.alloc(layout) };
        if !p.is_null() {
            on_alloc(layout.size() as u64);
        }
        p
    }

    unsafe fn alloc_zeroed(&self, layout: Layout) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `alloc_zeroed`'s contract.
        let p = unsafe { self.inner.alloc_zeroed(layout) };
        if !p.is_null() {
            on_alloc(layout.size() as u64);
        }
        p
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: forwarded unchanged; the caller upholds `dealloc`'s contract.
        unsafe { self.inner.dealloc(ptr, layout) };
        on_free(layout.size() as u64);
    }

    unsafe fn realloc(&self, ptr: *mut u8, layout: Layout, new_size: usize) -> *mut u8 {
        // SAFETY: forwarded unchanged; the caller upholds `realloc`'s contract.
        let p = unsafe { self.inner.realloc(ptr, layout, new_size) };
        if !p.is_null() {
            on_free(layout.size() as u64);
            on_alloc(new_size as u64);
        }
        p
    }
}

/// Whether a [`TrackingAllocator`] is installed (it has served at least one allocation).
///
/// # Examples
/// ```
/// // Without `#[global_allocator] static _: TrackingAllocator<_>`, nothing is tracked.
/// assert!(!perfcore::alloc::is_tracking());
/// ```
#[must_use]
pub fn is_tracking() -> bool {
    ACTIVE.load(Ordering::Relaxed)
}

/// Bytes currently allocated through the tracking allocator, process-wide.
///
/// # Examples
/// ```
/// let _ = perfcore::alloc::current_bytes(); // 0 unless the tracking allocator is installed
/// ```
#[must_use]
pub fn current_bytes() -> u64 {
    CURRENT.load(Ordering::Relaxed)
}

/// The most bytes ever allocated at once through the tracking allocator, process-wide.
///
/// # Examples
/// ```
/// assert!(perfcore::alloc::peak_bytes() >= perfcore::alloc::current_bytes());
/// ```
#[must_use]
pub fn peak_bytes() -> u64 {
    PEAK.load(Ordering::Relaxed)
}

/// This thread's cumulative allocation counters.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct ThreadCounters {
    pub(crate) allocated: u64,
    pub(crate) freed: u64,
    pub(crate) count: u64,
}

impl ThreadCounters {
    pub(crate) fn since(self, start: ThreadCounters) -> ThreadCounters {
        ThreadCounters {
            allocated: self.allocated.wrapping_sub(start.allocated),
            freed: self.freed.wrapping_sub(start.freed),
            count: self.count.wrapping_sub(start.count),
        }
    }
}

/// This thread's counters, or `None` when no tracking allocator is installed.
#[inline(always)]
pub(crate) fn thread_counters() -> Option<ThreadCounters> {
    if !is_tracking() {
        return None;
    }
    Some(ThreadCounters {
        allocated: ALLOCATED.try_with(Cell::get).unwrap_or(0),
        freed: FREED.try_with(Cell::get).unwrap_or(0),
        count: COUNT.try_with(Cell::get).unwrap_or(0),
    })
}

/// Runs `f` with this thread's per-scope counters paused, so perfcore's own bookkeeping
/// allocations are not charged to the user's scope. Process totals still count them.
pub(crate) fn untracked<R>(f: impl FnOnce() -> R) -> R {
    let was = PAUSED.try_with(|p| p.replace(true)).unwrap_or(true);
    let r = f();
    let _ = PAUSED.try_with(|p| p.set(was));
    r
}

/// Starts a peak measurement on this thread: returns the thread's net bytes now and makes
/// that the thread's peak, so [`thread_peak_since`] reports the high-water mark above it.
pub(crate) fn mark_thread_peak() -> i64 {
    let net = THREAD_NET.try_with(Cell::get).unwrap_or(0);
    let _ = THREAD_PEAK.try_with(|p| p.set(net));
    net
}

/// Bytes above `mark` this thread's net allocation reached since [`mark_thread_peak`].
pub(crate) fn thread_peak_since(mark: i64) -> u64 {
    let peak = THREAD_PEAK.try_with(Cell::get).unwrap_or(mark);
    u64::try_from(peak.saturating_sub(mark)).unwrap_or(0)
}
