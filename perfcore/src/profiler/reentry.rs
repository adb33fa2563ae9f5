//! Re-entry from the allocator. perfcore's own set-up on a thread (registering a callsite,
//! making the global profiler, taking a snapshot) allocates while it holds a lock, and an
//! allocator may itself call profiled code. Such a call must record nothing rather than wait
//! for the lock its own thread holds: while this thread is inside perfcore, scopes opened on
//! it are inert.

use std::cell::Cell;

thread_local! {
    static INSIDE: Cell<bool> = const { Cell::new(false) };
}

/// Runs `f` as perfcore's own work on this thread; `None` (and `f` not run) when this thread
/// is inside such work already, or is exiting.
pub(crate) fn guarded<R>(f: impl FnOnce() -> R) -> Option<R> {
    if is_inside() {
        return None;
    }
    Some(inside(f))
}

/// Runs `f` marked as perfcore's own work on this thread (whether or not it was already).
pub(crate) fn inside<R>(f: impl FnOnce() -> R) -> R {
    struct Restore(bool);
    impl Drop for Restore {
        fn drop(&mut self) {
            let _ = INSIDE.try_with(|c| c.set(self.0));
        }
    }
    let was = INSIDE.try_with(|c| c.replace(true)).unwrap_or(true);
    let _restore = Restore(was);
    super::local::holding_recorders(f)
}

/// Whether this thread is inside perfcore's own work (or exiting).
pub(crate) fn is_inside() -> bool {
    INSIDE.try_with(Cell::get).unwrap_or(true)
}
