//! Profiling futures: one call from first poll to completion, with the time spent in `poll`.

use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::Ordering;
use std::task::{Context, Poll};

use super::shared::Sample;
use super::{Callsite, Outcome, PerformanceProfiler, local};

/// How an [`Instrumented`] future tells that its output is a failure. Not public API.
#[doc(hidden)]
pub trait ErrorCheck<O> {
    /// Whether `output` counts as an error.
    fn is_err(&self, output: &O) -> bool;
}

/// The error check of a future whose output is never a failure. Not public API.
#[doc(hidden)]
#[derive(Debug, Clone, Copy, Default)]
pub struct NoErrors;

impl<O> ErrorCheck<O> for NoErrors {
    #[inline]
    fn is_err(&self, _: &O) -> bool {
        false
    }
}

/// `#[profile]`'s check of a `Result` output, `|r: &Result<_, E>| r.is_err()`.
impl<O, C: Fn(&O) -> bool> ErrorCheck<O> for C {
    #[inline]
    fn is_err(&self, output: &O) -> bool {
        self(output)
    }
}

/// `Instrumented::flags`: polled at least once (`first_raw` is set).
const STARTED: u8 = 1;
/// `Instrumented::flags`: a poll panicked.
const PANICKED: u8 = 2;
/// `Instrumented::flags`: completed, and recorded.
const DONE: u8 = 4;

pin_project_lite::pin_project! {
    /// A future that records one call of its callsite: the wall time from its first poll to
    /// its completion, and its busy time, the sum of the time spent inside `poll`.
    ///
    /// Each poll opens a scope on the polling thread and closes it before returning, so a
    /// suspended future is never the parent of whatever that thread runs next, and a future
    /// may move between threads freely. Scopes opened while it is being polled are its
    /// children in the call tree. A future dropped after its first poll but before completing
    /// is recorded as cancelled; one that panics while polled, as failed.
    ///
    /// Made by [`PerformanceProfiler::instrument`] and by `#[profile]` on an `async fn`.
    ///
    /// # Examples
    /// ```
    /// static CS: perfcore::Callsite = perfcore::Callsite::new("job", module_path!(), file!(), line!());
    /// let p = perfcore::PerformanceProfiler::new();
    /// let fut = p.instrument(&CS, async { 40 + 2 });
    /// // Any executor; this one polls once.
    /// let out = std::pin::pin!(fut).poll(&mut std::task::Context::from_waker(std::task::Waker::noop()));
    /// assert_eq!(out, std::task::Poll::Ready(42));
    /// assert_eq!(p.snapshot().function("job").unwrap().count, 1);
    /// # use std::future::Future;
    /// ```
    pub struct Instrumented<'a, F: Future, C = NoErrors> {
        #[pin]
        fut: F,
        // Nothing more than this is kept (`#[profile]`'s futures are as large as their body's
        // plus these 41 bytes, padded): the error check is a zero-sized type (a closure that
        // captures nothing, or `NoErrors`), the three flags share a byte, and `first_raw` is
        // meaningful once `STARTED` is set.
        profiler: Option<&'a PerformanceProfiler>,
        callsite: &'static Callsite,
        is_err: C,
        first_raw: u64,
        busy_ns: u64,
        child_ns: u64,
        flags: u8,
    }

    impl<'a, F: Future, C> PinnedDrop for Instrumented<'a, F, C> {
        fn drop(this: Pin<&mut Self>) {
            let this = this.project();
            let flags = *this.flags;
            if let Some(p) = *this.profiler
                && flags & (STARTED | DONE) == STARTED
            {
                let wall = p.inner.clock.delta_ns(*this.first_raw, p.inner.clock.raw());
                let panicked = flags & PANICKED != 0;
                let outcome = if panicked { Outcome::Failed } else { Outcome::Cancelled };
                let sample = Sample::resumable(wall, *this.busy_ns, *this.child_ns, outcome);
                if let Some(index) = this.callsite.index() {
                    local::record_call(&p.inner, index, sample, Some(*this.first_raw));
                }
            }
        }
    }
}

impl<F: Future, C> std::fmt::Debug for Instrumented<'_, F, C> {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Instrumented")
            .field("callsite", &self.callsite.name())
            .field("started", &(self.flags & STARTED != 0))
            .field("busy_ns", &self.busy_ns)
            .field("done", &(self.flags & DONE != 0))
            .finish_non_exhaustive()
    }
}

impl<'a, F: Future, C> Instrumented<'a, F, C> {
    pub(crate) fn new(
        profiler: &'a PerformanceProfiler,
        callsite: &'static Callsite,
        is_err: C,
        fut: F,
    ) -> Self {
        let enabled = profiler.inner.enabled().load(Ordering::Relaxed);
        Self {
            fut,
            profiler: enabled.then_some(profiler),
            callsite,
            is_err,
            first_raw: 0,
            busy_ns: 0,
            child_ns: 0,
            flags: 0,
        }
    }
}

/// Closes a poll's scope, also when the poll unwinds.
struct PollScope<'a, 'b> {
    profiler: &'a PerformanceProfiler,
    depth: u32,
    busy_ns: &'b mut u64,
    child_ns: &'b mut u64,
    flags: &'b mut u8,
}

impl Drop for PollScope<'_, '_> {
    fn drop(&mut self) {
        if let Some(t) = local::exit_poll(&self.profiler.inner, self.depth) {
            *self.busy_ns += t.elapsed_ns;
            *self.child_ns += t.child_ns;
        }
        if std::thread::panicking() {
            *self.flags |= PANICKED;
        }
    }
}

impl<F: Future, C: ErrorCheck<F::Output>> Future for Instrumented<'_, F, C> {
    type Output = F::Output;

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<F::Output> {
        let this = self.project();
        let Some(p) = *this.profiler else { return this.fut.poll(cx) };
        if *this.flags & STARTED == 0 {
            *this.first_raw = p.inner.clock.raw();
            *this.flags |= STARTED;
        }
        let depth = this.callsite.index().map_or(local::INERT, |i| local::enter(&p.inner, i));
        let out = {
            let _scope = (depth != local::INERT).then(|| PollScope {
                profiler: p,
                depth,
                busy_ns: &mut *this.busy_ns,
                child_ns: &mut *this.child_ns,
                flags: &mut *this.flags,
            });
            this.fut.poll(cx)
        };
        if let Poll::Ready(value) = &out {
            *this.flags |= DONE;
            let wall = p.inner.clock.delta_ns(*this.first_raw, p.inner.clock.raw());
            let outcome = if this.is_err.is_err(value) { Outcome::Failed } else { Outcome::Ok };
            let sample = Sample::resumable(wall, *this.busy_ns, *this.child_ns, outcome);
            if let Some(index) = this.callsite.index() {
                local::record_call(&p.inner, index, sample, Some(*this.first_raw));
            }
        }
        out
    }
}

impl PerformanceProfiler {
    /// Wraps `fut` so that it records one call of `callsite`; see [`Instrumented`].
    ///
    /// # Examples
    /// ```
    /// static CS: perfcore::Callsite = perfcore::Callsite::new("fetch", module_path!(), file!(), line!());
    /// let p = perfcore::PerformanceProfiler::new();
    /// let fut = p.instrument(&CS, async { "page" });
    /// drop(fut); // never polled: not a call
    /// assert!(p.snapshot().function("fetch").is_none());
    /// ```
    pub fn instrument<F: Future>(
        &self,
        callsite: &'static Callsite,
        fut: F,
    ) -> Instrumented<'_, F> {
        Instrumented::new(self, callsite, NoErrors, fut)
    }
}

/// What `#[profile]` on an `async fn` expands to. The future comes before the error check, so
/// that the check's argument type is known from it.
#[doc(hidden)]
pub fn instrument<'a, F: Future, C: ErrorCheck<F::Output>>(
    profiler: &'a PerformanceProfiler,
    callsite: &'static Callsite,
    fut: F,
    is_err: C,
) -> Instrumented<'a, F, C> {
    Instrumented::new(profiler, callsite, is_err, fut)
}
