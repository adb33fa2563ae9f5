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

/// Opens a frame of `callsite` on this thread; `None` when profiling is off (nothing to
/// close then).
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
    let depth = local::enter(&profiler.inner, callsite.index()?);
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
    let entered =
        callsite.index().and_then(|i| local::enter_returning_recorder(&profiler.inner, i));
    let Some((depth, here)) = entered else {
        return f().0;
    };
    /// Closes the frame as failed if `f` unwinds.
    struct OnUnwind<'a>(&'a PerformanceProfiler, u32, local::RecorderRef);
    impl Drop for OnUnwind<'_> {
        fn drop(&mut self) {
            // SAFETY: made by `enter_returning_recorder` on this thread, in the live frame of `call`.
            unsafe { local::exit_via_recorder(self.2, &self.0.inner, self.1, Outcome::Failed) }
        }
    }
    let guard = OnUnwind(profiler, depth, here);
    let (r, outcome) = f();
    std::mem::forget(guard);
    // SAFETY: as above; `f` has returned, so the frame that opened it is still live.
    unsafe { local::exit_via_recorder(here, &profiler.inner, depth, outcome) };
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
    let sample = Sample::resumable(wall_ns, busy_ns, child_ns, outcome);
    record_sample(profiler, callsite, sample, None);
}

/// [`record_resumable`] with the clock's raw reading at the call's start, if known: then the
/// call is on the timeline too.
fn record_sample(
    profiler: &PerformanceProfiler,
    callsite: &'static Callsite,
    sample: Sample,
    start_raw: Option<u64>,
) {
    if !profiler.inner.enabled().load(Ordering::Relaxed) {
        return;
    }
    if let Some(index) = callsite.index() {
        local::record_call(&profiler.inner, index, sample, start_raw);
    }
}

/// One call of a generator, coroutine or other computation that runs in several
/// resumptions, possibly on several threads: wall time from the first resumption to the
/// end, busy time the sum of the resumptions, self time the busy time outside child scopes.
/// Finished once ([`finish`](Self::finish)); dropped unfinished after it started, it records
/// the call as cancelled. The timer a binding's generator wrapper keeps beside the generator.
///
/// # Examples
/// ```
/// use perfcore::__private::{Outcome, ResumableCall};
/// static CS: perfcore::Callsite = perfcore::Callsite::new("gen", "", "", 0);
/// let p = perfcore::PerformanceProfiler::new();
/// let mut call = ResumableCall::new(p.clone(), &CS);
/// for step in 0..3 {
///     call.resume(|| std::hint::black_box(step));
/// }
/// call.finish(Outcome::Ok);
/// call.finish(Outcome::Failed); // once only
/// let f = p.snapshot().function("gen").unwrap().clone();
/// assert_eq!((f.count, f.errors), (1, 0));
/// assert!(f.busy_ns <= f.total_ns);
/// drop(ResumableCall::new(p.clone(), &CS)); // never resumed: nothing recorded
/// assert_eq!(p.snapshot().function("gen").unwrap().count, 1);
/// ```
#[derive(Debug)]
pub struct ResumableCall {
    profiler: PerformanceProfiler,
    callsite: &'static Callsite,
    first_raw: Option<u64>,
    busy_ns: u64,
    child_ns: u64,
    done: bool,
}

impl ResumableCall {
    /// A call of `callsite` on `profiler`, not started yet.
    #[must_use]
    pub fn new(profiler: PerformanceProfiler, callsite: &'static Callsite) -> Self {
        Self { profiler, callsite, first_raw: None, busy_ns: 0, child_ns: 0, done: false }
    }

    /// Runs `f` as one resumption: its time is busy time, and scopes opened inside it are the
    /// call's children. After [`finish`](Self::finish), `f` runs untimed.
    pub fn resume<R>(&mut self, f: impl FnOnce() -> R) -> R {
        if self.done {
            return f();
        }
        if self.first_raw.is_none() {
            self.first_raw = Some(now(&self.profiler));
        }
        /// Closes the resumption's frame however `f` ends, unwinding included.
        struct Resumption<'a>(&'a mut ResumableCall, Option<Frame>);
        impl Drop for Resumption<'_> {
            fn drop(&mut self) {
                if let Some((busy, child)) =
                    self.1.take().and_then(|f| close_resume(&self.0.profiler, f))
                {
                    self.0.busy_ns += busy;
                    self.0.child_ns += child;
                }
            }
        }
        let frame = open(&self.profiler, self.callsite);
        let _resumption = Resumption(self, frame);
        f()
    }

    /// Ends the call with `outcome` and records it (if it was ever resumed). Later calls do
    /// nothing.
    pub fn finish(&mut self, outcome: Outcome) {
        if std::mem::replace(&mut self.done, true) {
            return;
        }
        if let Some(first) = self.first_raw {
            let wall = ns_since(&self.profiler, first);
            let sample = Sample::resumable(wall, self.busy_ns, self.child_ns, outcome);
            record_sample(&self.profiler, self.callsite, sample, Some(first));
        }
    }

    /// Whether [`finish`](Self::finish) ran.
    #[must_use]
    pub fn is_finished(&self) -> bool {
        self.done
    }
}

impl Drop for ResumableCall {
    fn drop(&mut self) {
        self.finish(Outcome::Cancelled);
    }
}
