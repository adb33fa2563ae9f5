//! Frames without guards, for language bindings (perfcore-py): a Python `with` block or
//! decorated call cannot hold a [`ScopeGuard`](super::ScopeGuard), so it keeps the frame's
//! depth and closes the frame itself. Reached through `perfcore::__private`; not public API.

use std::sync::atomic::Ordering;

use super::shared::Sample;
use super::{Callsite, PerformanceProfiler, local};

/// How a call ended.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Outcome {
    /// It returned.
    Ok,
    /// It failed: counts in `errors`.
    Failed,
    /// It was abandoned before finishing (a dropped future, a closed generator, an
    /// interrupt): counts in `cancelled`.
    Cancelled,
}

/// A frame opened with [`open`]: its depth on this thread's stack.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub struct Frame(u32);

/// Opens a frame of `callsite` on this thread; `None` when profiling is off or the stack is
/// full (nothing to close then).
///
/// # Examples
/// ```
/// use perfcore::__private::{Outcome, close, open};
/// static CS: perfcore::Callsite = perfcore::Callsite::new("step", "", "", 0);
/// let p = perfcore::PerformanceProfiler::new();
/// let frame = open(&p, &CS).unwrap();
/// close(&p, frame, Outcome::Failed);
/// assert_eq!(p.snapshot().function("step").unwrap().errors, 1);
/// ```
#[inline]
pub fn open(profiler: &PerformanceProfiler, callsite: &'static Callsite) -> Option<Frame> {
    if !profiler.inner.enabled().load(Ordering::Relaxed) {
        return None;
    }
    let depth = local::enter(&profiler.inner, callsite.index());
    (depth != local::INERT).then_some(Frame(depth))
}

/// Closes `frame` (and any frame above it left open) and records one call with `outcome`.
/// Must run on the thread that opened it; a frame closed already is ignored.
#[inline]
pub fn close(profiler: &PerformanceProfiler, frame: Frame, outcome: Outcome) {
    local::exit(&profiler.inner, frame.0, outcome);
}

/// Runs `f` as one call of `callsite` on this thread and records it with the outcome `f`
/// returns beside its result. The same as [`open`], `f`, [`close`], with one thread-local
/// lookup instead of two (a lookup costs a call in a shared library, such as a Python
/// extension). A panic in `f` records a failed call and propagates.
///
/// # Examples
/// ```
/// use perfcore::__private::{Outcome, call};
/// static CS: perfcore::Callsite = perfcore::Callsite::new("parse", "", "", 0);
/// let p = perfcore::PerformanceProfiler::new();
/// let n = call(&p, &CS, || {
///     let r: Result<u32, String> = "12".parse::<u32>().map_err(|e| e.to_string());
///     let outcome = if r.is_ok() { Outcome::Ok } else { Outcome::Failed };
///     (r, outcome)
/// });
/// assert_eq!(n, Ok(12));
/// assert_eq!(p.snapshot().function("parse").unwrap().count, 1);
/// ```
#[inline]
pub fn call<R>(
    profiler: &PerformanceProfiler,
    callsite: &'static Callsite,
    f: impl FnOnce() -> (R, Outcome),
) -> R {
    if !profiler.inner.enabled().load(Ordering::Relaxed) {
        return f().0;
    }
    let Some((depth, here)) = local::enter_here(&profiler.inner, callsite.index()) else {
        return f().0;
    };
    /// Closes the frame as failed if `f` unwinds.
    struct OnUnwind<'a>(&'a PerformanceProfiler, u32, local::Here);
    impl Drop for OnUnwind<'_> {
        fn drop(&mut self) {
            // SAFETY: made by `enter_here` on this thread, in the live frame of `call`.
            unsafe { local::exit_here(self.2, &self.0.inner, self.1, Outcome::Failed) }
        }
    }
    let guard = OnUnwind(profiler, depth, here);
    let (r, outcome) = f();
    std::mem::forget(guard);
    // SAFETY: as above; `f` has returned, so the frame that opened it is still live.
    unsafe { local::exit_here(here, &profiler.inner, depth, outcome) };
    r
}

/// Closes the frame of one resumption of a coroutine or generator without recording a call:
/// returns (its wall time, the part of it spent in child scopes), both in ns.
///
/// # Examples
/// ```
/// use perfcore::__private::{close_resume, open};
/// static CS: perfcore::Callsite = perfcore::Callsite::new("gen", "", "", 0);
/// let p = perfcore::PerformanceProfiler::new();
/// let frame = open(&p, &CS).unwrap();
/// let (busy, child) = close_resume(&p, frame).unwrap();
/// assert!(child <= busy);
/// assert_eq!(p.snapshot().function("gen").map_or(0, |f| f.count), 0, "no call recorded yet");
/// ```
#[inline]
pub fn close_resume(profiler: &PerformanceProfiler, frame: Frame) -> Option<(u64, u64)> {
    local::exit_poll(&profiler.inner, frame.0).map(|t| (t.elapsed_ns, t.child_ns))
}

/// A raw clock reading; see [`ns_since`].
#[inline]
#[must_use]
pub fn now(profiler: &PerformanceProfiler) -> u64 {
    profiler.inner.clock.raw()
}

/// Nanoseconds from raw reading `start` (from [`now`]) to now.
///
/// # Examples
/// ```
/// let p = perfcore::PerformanceProfiler::new();
/// let t = perfcore::__private::now(&p);
/// assert!(perfcore::__private::ns_since(&p, t) < 60_000_000_000);
/// ```
#[inline]
#[must_use]
pub fn ns_since(profiler: &PerformanceProfiler, start: u64) -> u64 {
    profiler.inner.clock.delta_ns(start, profiler.inner.clock.raw())
}

/// Records one finished call of a coroutine or generator of `callsite` on this thread, under
/// its innermost open scope: `wall_ns` from first resumption to the end, `busy_ns` the sum
/// of its resumptions, `child_ns` the part of those in child scopes.
///
/// # Examples
/// ```
/// use perfcore::__private::{Outcome, record_resumable};
/// static CS: perfcore::Callsite = perfcore::Callsite::new("co", "", "", 0);
/// let p = perfcore::PerformanceProfiler::new();
/// record_resumable(&p, &CS, 1_000, 400, 100, Outcome::Cancelled);
/// let f = p.snapshot().function("co").unwrap().clone();
/// assert_eq!((f.count, f.cancelled, f.busy_ns, f.self_ns), (1, 1, 400, 300));
/// ```
pub fn record_resumable(
    profiler: &PerformanceProfiler,
    callsite: &'static Callsite,
    wall_ns: u64,
    busy_ns: u64,
    child_ns: u64,
    outcome: Outcome,
) {
    if !profiler.inner.enabled().load(Ordering::Relaxed) {
        return;
    }
    let sample = Sample {
        elapsed_ns: wall_ns,
        self_ns: busy_ns.saturating_sub(child_ns),
        busy_ns,
        failed: outcome == Outcome::Failed,
        cancelled: outcome == Outcome::Cancelled,
        alloc: None,
    };
    local::record_call(&profiler.inner, callsite.index(), sample);
}
