//! The per-thread recorder: the scope stack and the thread's handles to its shared counters.
//!
//! Everything here is owned by one thread and reached through a `thread_local!`; nothing on
//! the hot path locks, allocates (once a thread has run a callsite) or touches memory another
//! thread writes. See `shared` for what other threads may read and how.

use std::cell::RefCell;
use std::collections::HashMap;
use std::num::NonZeroU32;
use std::sync::{Arc, Weak};

use super::shared::{AllocSample, CallPath, Deep, Sample, ThreadData};
use super::timeline::{self, Ring, Writer};
use super::{Inner, Outcome};
use crate::alloc::{self, ThreadCounters};
use crate::sync::Arc as Shared;

/// A depth value meaning "this guard records nothing".
pub(crate) const INERT: u32 = u32::MAX;

thread_local! {
    static LOCAL: RefCell<LocalState> =
        const { RefCell::new(LocalState { global: None, others: Vec::new() }) };
}

struct LocalState {
    /// The process-wide profiler's recorder, kept apart so its lookup is one branch.
    global: Option<LocalProfiler>,
    /// Recorders for independent profilers, by profiler id.
    others: Vec<(usize, LocalProfiler)>,
}

impl LocalState {
    #[inline(always)]
    fn get(&mut self, inner: &Arc<Inner>) -> &mut LocalProfiler {
        if inner.is_global {
            if self.global.is_none() {
                self.global = Some(LocalProfiler::register(inner));
            }
            // Just ensured.
            return self.global.as_mut().expect("registered above");
        }
        let pos = match self.others.iter().position(|(id, _)| *id == inner.id) {
            Some(pos) => pos,
            None => self.register_other(inner),
        };
        &mut self.others[pos].1
    }

    #[cold]
    #[inline(never)]
    fn register_other(&mut self, inner: &Arc<Inner>) -> usize {
        alloc::untracked(|| {
            // Drop recorders of profilers that no longer exist.
            self.others.retain(|(_, lp)| lp.owner.strong_count() > 0);
            self.others.push((inner.id, LocalProfiler::register(inner)));
        });
        self.others.len() - 1
    }

    #[inline(always)]
    fn find(&mut self, inner: &Inner) -> Option<&mut LocalProfiler> {
        if inner.is_global {
            self.global.as_mut()
        } else {
            self.others.iter_mut().find(|(id, _)| *id == inner.id).map(|(_, lp)| lp)
        }
    }
}

impl Drop for LocalState {
    /// Thread exit: hand every recorder's counters to its profiler so nothing is lost.
    fn drop(&mut self) {
        let all = self.global.take().into_iter().chain(self.others.drain(..).map(|(_, lp)| lp));
        for lp in all {
            if let Some(inner) = lp.owner.upgrade() {
                let mut registry = inner.registry.lock();
                let epoch = inner.epoch();
                registry.retire(&lp.data, epoch);
            }
        }
    }
}

/// One open scope.
#[derive(Clone, Copy, Debug)]
struct Frame {
    /// The call path's index on this thread.
    node: u32,
    /// Set for a frame beyond the maximum depth (recorded on a collapsed path).
    deep: Option<Deep>,
    start: u64,
    child_ns: u64,
    alloc: Option<ThreadCounters>,
    child_alloc_bytes: u64,
    child_alloc_count: u64,
}

/// A one-entry cache per callsite: the call path it took under the last parent seen.
#[derive(Clone, Copy, Debug)]
struct PathCache {
    parent: ParentKey,
    node: u32,
}

impl PathCache {
    /// An entry that matches no parent.
    const EMPTY: PathCache = PathCache { parent: ParentKey::NONE_SEEN, node: 0 };
}

/// A call path's parent packed in one word for the cache's compare on every call: a root,
/// a path index, or [`ParentKey::NONE_SEEN`].
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
struct ParentKey(Option<NonZeroU32>);

impl ParentKey {
    /// Matches no parent: path indexes stay far below `u32::MAX - 1`.
    const NONE_SEEN: ParentKey = ParentKey(Some(NonZeroU32::MAX));

    #[inline(always)]
    fn of(parent: Option<u32>) -> Self {
        Self(parent.and_then(|p| NonZeroU32::new(p.wrapping_add(1))))
    }
}

/// One thread's recorder for one profiler. What every call reads comes first, on as few
/// cache lines as possible: between two calls of an interpreted language the lines are
/// often evicted, and each one costs a miss.
#[repr(C)]
struct LocalProfiler {
    stack: Vec<Frame>,
    /// By callsite index.
    path_cache: Vec<PathCache>,
    /// By call path index: the same paths as `data.paths`, without its lock.
    paths: Vec<Shared<CallPath>>,
    data: Shared<ThreadData>,
    /// This thread's copy of `data.pending` (see `ThreadData::record`).
    pending: u64,
    epoch: u64,
    max_depth: usize,
    /// Where finished spans go when the profiler keeps a timeline. On the line the exit path
    /// already reads (`pending`, `epoch`): off, it costs one predictable branch on it.
    timeline: Option<Box<Writer>>,
    // Cold: registration, new paths, frames beyond the maximum depth.
    owner: Weak<Inner>,
    children: HashMap<(Option<u32>, u32), u32>,
    /// Frames beyond the maximum depth open per callsite (rarely any).
    deep_open: HashMap<u32, u32>,
}

impl LocalProfiler {
    #[cold]
    fn register(inner: &Arc<Inner>) -> Self {
        alloc::untracked(|| {
            let ring = (inner.timeline_capacity > 0)
                .then(|| Shared::new(Ring::new(inner.timeline_capacity)));
            let timeline = ring.clone().map(|r| Box::new(Writer::new(r)));
            let data = Shared::new(ThreadData::with_timeline(ring));
            let mut registry = inner.registry.lock();
            registry.threads.push(data.clone());
            Self {
                owner: Arc::downgrade(inner),
                data,
                path_cache: Vec::new(),
                paths: Vec::new(),
                children: HashMap::new(),
                stack: Vec::with_capacity(inner.max_depth),
                deep_open: HashMap::new(),
                max_depth: inner.max_depth,
                epoch: inner.epoch(),
                pending: 0,
                timeline,
            }
        })
    }

    #[inline(always)]
    fn push(&mut self, index: usize, inner: &Inner) -> u32 {
        let depth = self.stack.len();
        let (node, deep) = if depth < self.max_depth {
            (self.path_under_top(index), None)
        } else {
            // Only frames beyond the maximum depth can outgrow the stack's first capacity.
            if depth == self.stack.capacity() {
                self.grow_stack();
            }
            self.path_beyond_max_depth(index)
        };
        self.stack.push(Frame {
            node,
            deep,
            start: 0,
            child_ns: 0,
            alloc: alloc::thread_counters(),
            child_alloc_bytes: 0,
            child_alloc_count: 0,
        });
        // The clock is read last, so the bookkeeping above is not charged to the scope.
        if let Some(f) = self.stack.last_mut() {
            f.start = inner.clock.raw();
        }
        depth as u32
    }

    /// Room for frames beyond the maximum depth, outside the user's allocation figures.
    #[cold]
    #[inline(never)]
    fn grow_stack(&mut self) {
        alloc::untracked(|| self.stack.reserve(self.stack.len().max(16)));
    }

    /// The call path of a call beyond the maximum depth: the child path of the deepest frame
    /// within the limit, so the call tree stays bounded while every call is counted; and
    /// where the call stands among the open calls of its function.
    #[cold]
    #[inline(never)]
    fn path_beyond_max_depth(&mut self, index: usize) -> (u32, Option<Deep>) {
        let node = self.cached_path(index, self.parent_at(self.stack.len()));
        let recursive = self.paths.get(node as usize).is_some_and(|s| s.is_recursive());
        let open = alloc::untracked(|| self.deep_open.entry(index as u32).or_insert(0));
        let deep = if *open > 0 {
            Deep::Repeated
        } else if recursive {
            Deep::Nested
        } else {
            Deep::Outer
        };
        *open += 1;
        (node, Some(deep))
    }

    /// Finds or creates the call path of callsite `index` under `parent`; refreshes the cache.
    #[cold]
    #[inline(never)]
    fn path_for(&mut self, index: usize, parent: Option<u32>) -> u32 {
        alloc::untracked(|| {
            if self.path_cache.len() <= index {
                self.path_cache.resize(index + 1, PathCache::EMPTY);
            }
            let key = (parent, index as u32);
            let node = match self.children.get(&key) {
                Some(&n) => n,
                None => {
                    let recursive = self.path_contains(parent, index as u32);
                    let path =
                        Shared::new(CallPath::new(parent, index as u32, recursive, self.epoch));
                    self.data.paths.lock().push(path.clone());
                    self.paths.push(path);
                    let id = (self.paths.len() - 1) as u32;
                    self.children.insert(key, id);
                    id
                }
            };
            self.path_cache[index] = PathCache { parent: ParentKey::of(parent), node };
            node
        })
    }

    /// Whether the path ending at `node` passes through `callsite`.
    fn path_contains(&self, mut node: Option<u32>, callsite: u32) -> bool {
        while let Some(path) = node.and_then(|n| self.paths.get(n as usize)) {
            if path.callsite == callsite {
                return true;
            }
            node = path.parent;
        }
        false
    }

    #[inline(always)]
    fn pop(&mut self, depth: u32, end: u64, outcome: Outcome, inner: &Inner) {
        self.catch_up(inner);
        let Some((frame, elapsed_ns)) = self.close(depth, end, inner) else { return };
        let alloc = frame.alloc.and_then(|start| {
            let d = alloc::thread_counters()?.since(start);
            Some(AllocSample {
                bytes: d.allocated,
                self_bytes: d.allocated.saturating_sub(frame.child_alloc_bytes),
                freed_bytes: d.freed,
                count: d.count,
                self_count: d.count.saturating_sub(frame.child_alloc_count),
            })
        });
        if let (Some(parent), Some(a)) = (self.stack.last_mut(), alloc) {
            parent.child_alloc_bytes += a.bytes;
            parent.child_alloc_count += a.count;
        }
        let sample = Sample::call(elapsed_ns, frame.child_ns, outcome, alloc);
        self.data.record(&self.paths, frame.node, &sample, frame.deep, &mut self.pending);
        // Out of line and last, as `leave_deep`: off, the timeline costs one load and branch.
        if self.timeline.is_some() {
            self.push_call_span(frame.node, frame.start, elapsed_ns, depth, outcome);
        }
        // Last: a call here would make the frame's fields spill to memory above.
        if frame.deep.is_some() {
            self.leave_deep(frame.node);
        }
    }

    /// Writes a finished call of path `node` to the timeline, if there is one.
    #[cold]
    #[inline(never)]
    fn push_call_span(
        &mut self,
        node: u32,
        start_raw: u64,
        elapsed_ns: u64,
        depth: u32,
        outcome: Outcome,
    ) {
        let flags = match outcome {
            Outcome::Ok => 0,
            Outcome::Failed => timeline::FAILED,
            Outcome::Cancelled => timeline::CANCELLED,
        };
        self.push_span(node, start_raw, elapsed_ns, depth, flags);
    }

    /// Writes a finished span of call path `node` to the timeline, if there is one.
    #[inline(always)]
    fn push_span(&mut self, node: u32, start_raw: u64, elapsed_ns: u64, depth: u32, flags: u8) {
        let callsite = self.paths.get(node as usize).map_or(u32::MAX, |p| p.callsite);
        if let Some(w) = self.timeline.as_deref_mut() {
            w.push(start_raw, elapsed_ns, callsite, depth, flags);
        }
    }

    /// The call path of callsite `index` under the innermost open scope (cached per callsite).
    #[inline(always)]
    fn path_under_top(&mut self, index: usize) -> u32 {
        self.cached_path(index, self.stack.last().map(|f| f.node))
    }

    /// The call path of callsite `index` under `parent`, from the one-entry cache or made.
    #[inline(always)]
    fn cached_path(&mut self, index: usize, parent: Option<u32>) -> u32 {
        match self.path_cache.get(index) {
            Some(c) if c.parent == ParentKey::of(parent) => c.node,
            _ => self.path_for(index, parent),
        }
    }

    /// The parent path of a frame opened at stack position `depth`: the frame below it, or
    /// for a frame beyond the maximum depth the deepest frame within it.
    fn parent_at(&self, depth: usize) -> Option<u32> {
        let below = depth.min(self.max_depth).checked_sub(1)?;
        self.stack.get(below).map(|f| f.node)
    }

    /// Pops the frame opened at `depth` and charges its wall time to its parent as child
    /// time; returns it with that time (the caller ends a deep frame with `leave_deep`). `None` if it was popped already (guards dropped out
    /// of order); frames above it belong to leaked guards (`mem::forget`) and are dropped.
    #[inline(always)]
    fn close(&mut self, depth: u32, end: u64, inner: &Inner) -> Option<(Frame, u64)> {
        let depth = depth as usize;
        if depth >= self.stack.len() {
            return None;
        }
        if self.stack.len() > depth + 1 {
            self.drop_frames_above(depth);
        }
        let frame = self.stack.pop()?;
        let elapsed_ns = inner.clock.delta_ns(frame.start, end);
        if let Some(parent) = self.stack.last_mut() {
            parent.child_ns += elapsed_ns;
        }
        Some((frame, elapsed_ns))
    }

    /// Forgets the frames of leaked guards above `depth`.
    #[cold]
    #[inline(never)]
    fn drop_frames_above(&mut self, depth: usize) {
        while self.stack.len() > depth + 1 {
            if let Some(f) = self.stack.pop()
                && f.deep.is_some()
            {
                self.leave_deep(f.node);
            }
        }
    }

    /// A frame beyond the maximum depth on path `node` closed.
    #[cold]
    #[inline(never)]
    fn leave_deep(&mut self, node: u32) {
        let Some(callsite) = self.paths.get(node as usize).map(|s| s.callsite) else { return };
        if let Some(open) = self.deep_open.get_mut(&callsite) {
            *open = open.saturating_sub(1);
            if *open == 0 {
                self.deep_open.remove(&callsite);
            }
        }
    }

    /// Starts the profiler's new window if it was reset since this thread last recorded.
    #[inline(always)]
    fn catch_up(&mut self, inner: &Inner) {
        let epoch = inner.epoch();
        if epoch != self.epoch {
            self.start_epoch(epoch);
        }
    }

    /// The profiler was reset: free this thread's call paths and start new ones, for the
    /// open frames first, so calls in flight are recorded in the new window.
    #[cold]
    #[inline(never)]
    fn start_epoch(&mut self, epoch: u64) {
        self.data.drop_pending(&mut self.pending);
        self.epoch = epoch;
        alloc::untracked(|| {
            let shared = std::mem::take(&mut *self.data.paths.lock());
            let old = std::mem::take(&mut self.paths);
            self.path_cache = Vec::new();
            self.children = HashMap::new();
            for i in 0..self.stack.len() {
                let Some(callsite) = old.get(self.stack[i].node as usize).map(|s| s.callsite)
                else {
                    continue;
                };
                let parent = self.parent_at(i);
                self.stack[i].node = self.path_for(callsite as usize, parent);
            }
            drop((shared, old));
        });
    }
}

/// Runs `f` with this thread's recorders borrowed, so a scope opened meanwhile on this thread
/// (by an allocator perfcore's own work called) is inert instead of taking a lock `f` holds.
pub(crate) fn holding_recorders<R>(f: impl FnOnce() -> R) -> R {
    let mut f = Some(f);
    let ran = LOCAL.try_with(|state| {
        let _borrow = state.try_borrow_mut();
        f.take().map(|f| f())
    });
    if let Ok(Some(r)) = ran {
        return r;
    }
    // The thread is exiting and its recorders are gone: nothing to hold. `try_with` did not
    // run the closure, so `f` is still here.
    f.map(|f| f()).expect("the closure ran, or `f` is still here")
}

/// Opens a scope for `callsite` on this thread; returns its depth, or [`INERT`].
///
/// Out of line, like [`exit`]: a guard's drop glue then stays small enough to inline, so a
/// disabled scope costs one load and one branch, with no call.
#[inline(never)]
pub(crate) fn enter(inner: &Arc<Inner>, index: usize) -> u32 {
    // INERT if the thread is exiting and its recorder is gone.
    LOCAL.try_with(|state| open_frame_in(state, inner, index)).unwrap_or(INERT)
}

/// Closes the scope opened at `depth`.
#[inline(never)]
pub(crate) fn exit(inner: &Inner, depth: u32, outcome: Outcome) {
    let end = inner.clock.raw();
    let _ = LOCAL.try_with(|state| close_frame_in(state, inner, depth, end, outcome));
}

/// What [`enter`] and [`enter_returning_recorder`] do once they have the thread's state.
#[inline(always)]
fn open_frame_in(state: &RefCell<LocalState>, inner: &Arc<Inner>, index: usize) -> u32 {
    match state.try_borrow_mut() {
        Ok(mut state) => state.get(inner).push(index, inner),
        // Re-entered from inside perfcore itself: record nothing rather than panic.
        Err(_) => INERT,
    }
}

/// What [`exit`] and [`exit_via_recorder`] do once they have the thread's state.
#[inline(always)]
fn close_frame_in(
    state: &RefCell<LocalState>,
    inner: &Inner,
    depth: u32,
    end: u64,
    outcome: Outcome,
) {
    if let Ok(mut state) = state.try_borrow_mut()
        && let Some(lp) = state.find(inner)
    {
        lp.pop(depth, end, outcome, inner);
    }
}

/// This thread's recorder state, as [`enter_returning_recorder`] found it: lets the matching exit skip
/// the thread-local lookup. Valid on the thread that made it while that thread runs.
#[derive(Clone, Copy)]
pub(crate) struct RecorderRef(std::ptr::NonNull<RefCell<LocalState>>);

/// [`enter`], returning where this thread's state lives besides the depth.
#[inline(never)]
pub(crate) fn enter_returning_recorder(
    inner: &Arc<Inner>,
    index: usize,
) -> Option<(u32, RecorderRef)> {
    LOCAL
        .try_with(|state| {
            let depth = open_frame_in(state, inner, index);
            (depth != INERT).then(|| (depth, RecorderRef(std::ptr::NonNull::from(state))))
        })
        .ok()
        .flatten()
}

/// [`exit`] through the state [`enter_returning_recorder`] returned.
///
/// # Safety
/// `here` came from [`enter_returning_recorder`] on this thread, and the thread has not begun running its
/// thread-local destructors since (true while the frame that called `enter_returning_recorder` is live).
#[inline(never)]
pub(crate) unsafe fn exit_via_recorder(
    here: RecorderRef,
    inner: &Inner,
    depth: u32,
    outcome: Outcome,
) {
    let end = inner.clock.raw();
    // SAFETY: the caller's contract: the thread-local is alive and this thread's.
    close_frame_in(unsafe { here.0.as_ref() }, inner, depth, end, outcome);
}

/// Depth of this thread's scope stack for `inner` (0 outside any scope).
pub(crate) fn depth(inner: &Inner) -> usize {
    LOCAL
        .try_with(|s| {
            s.try_borrow_mut().ok().and_then(|mut s| s.find(inner).map(|lp| lp.stack.len()))
        })
        .ok()
        .flatten()
        .unwrap_or(0)
}

/// What one poll of an instrumented future measured.
#[derive(Clone, Copy, Debug)]
pub(crate) struct PollTime {
    pub(crate) elapsed_ns: u64,
    pub(crate) child_ns: u64,
}

/// Closes a poll's frame without recording a call. Its time is returned, and charged to the
/// enclosing scope as child time, as a finished call's would be.
#[inline(never)]
pub(crate) fn exit_poll(inner: &Inner, depth: u32) -> Option<PollTime> {
    let end = inner.clock.raw();
    LOCAL
        .try_with(|state| {
            let mut state = state.try_borrow_mut().ok()?;
            state.find(inner)?.pop_poll(depth, end, inner)
        })
        .ok()
        .flatten()
}

/// Records one finished (or cancelled) call of callsite `index` on this thread, on the call
/// path under this thread's innermost open scope. `start_raw`, the clock's reading when the
/// call started, puts it on the timeline as a [`SpanKind::Async`](crate::SpanKind) span.
#[inline(never)]
pub(crate) fn record_call(
    inner: &Arc<Inner>,
    index: usize,
    sample: Sample,
    start_raw: Option<u64>,
) {
    let _ = LOCAL.try_with(|state| {
        if let Ok(mut state) = state.try_borrow_mut() {
            state.get(inner).record_call(index, sample, start_raw, inner);
        }
    });
}

impl LocalProfiler {
    fn pop_poll(&mut self, depth: u32, end: u64, inner: &Inner) -> Option<PollTime> {
        self.catch_up(inner);
        let (frame, elapsed_ns) = self.close(depth, end, inner)?;
        if self.timeline.is_some() {
            self.push_span(frame.node, frame.start, elapsed_ns, depth, timeline::POLL);
        }
        if frame.deep.is_some() {
            self.leave_deep(frame.node);
        }
        Some(PollTime { elapsed_ns, child_ns: frame.child_ns })
    }

    fn record_call(&mut self, index: usize, sample: Sample, start_raw: Option<u64>, inner: &Inner) {
        self.catch_up(inner);
        let node = self.path_under_top(index);
        self.data.record(&self.paths, node, &sample, None, &mut self.pending);
        if let (Some(start_raw), Some(w)) = (start_raw, self.timeline.as_deref_mut()) {
            let flags = timeline::ASYNC
                | if sample.failed { timeline::FAILED } else { 0 }
                | if sample.cancelled { timeline::CANCELLED } else { 0 };
            let depth = self.stack.len() as u32;
            w.push(start_raw, sample.elapsed_ns, index as u32, depth, flags);
        }
    }
}
