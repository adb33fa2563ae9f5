//! The per-thread recorder: the scope stack and the thread's handles to its shared counters.
//!
//! Everything here is owned by one thread and reached through a `thread_local!`; nothing on
//! the hot path locks, allocates (once a thread has run a callsite) or touches memory another
//! thread writes. See `shared` for what other threads may read and how.

use std::cell::RefCell;
use std::collections::HashMap;
use std::sync::{Arc, Weak};

use super::Inner;
use super::shared::{AllocSample, Node, Sample, Slot, ThreadData};
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
    callsite: u32,
    node: u32,
    start: u64,
    child_ns: u64,
    alloc: Option<ThreadCounters>,
    child_alloc_bytes: u64,
}

/// This thread's handle to one callsite's counters, with a one-entry cache of its call-tree
/// node under the last parent seen.
#[derive(Debug)]
struct LocalSlot {
    slot: Shared<Slot>,
    cached_parent: u32,
    cached_node: u32,
}

/// One thread's recorder for one profiler.
struct LocalProfiler {
    owner: Weak<Inner>,
    data: Shared<ThreadData>,
    slots: Vec<Option<LocalSlot>>,
    nodes: Vec<Shared<Node>>,
    children: HashMap<(u32, u32), u32>,
    stack: Vec<Frame>,
    max_depth: usize,
    epoch: u64,
}

impl LocalProfiler {
    #[cold]
    fn register(inner: &Arc<Inner>) -> Self {
        alloc::untracked(|| {
            let data = Shared::new(ThreadData::default());
            let mut registry = inner.registry.lock();
            registry.threads.push(data.clone());
            Self {
                owner: Arc::downgrade(inner),
                data,
                slots: Vec::new(),
                nodes: Vec::new(),
                children: HashMap::new(),
                stack: Vec::with_capacity(inner.max_depth),
                max_depth: inner.max_depth,
                epoch: inner.epoch(),
            }
        })
    }

    #[inline(always)]
    fn push(&mut self, index: usize, inner: &Inner) -> u32 {
        let depth = self.stack.len();
        if depth >= self.max_depth {
            if let Some(top) = self.stack.last()
                && let Some(Some(ls)) = self.slots.get(top.callsite as usize)
            {
                ls.slot.record_folded();
            }
            return INERT;
        }
        let parent = self.stack.last().map_or(0, |f| f.node + 1);
        let node = match self.slots.get(index) {
            Some(Some(ls)) if ls.cached_parent == parent => ls.cached_node,
            _ => self.node_for(index, parent),
        };
        self.stack.push(Frame {
            callsite: index as u32,
            node,
            start: 0,
            child_ns: 0,
            alloc: alloc::thread_counters(),
            child_alloc_bytes: 0,
        });
        // The clock is read last, so the bookkeeping above is not charged to the scope.
        if let Some(f) = self.stack.last_mut() {
            f.start = inner.clock.raw();
        }
        depth as u32
    }

    /// Finds or creates the slot for `index` and its node under `parent`; refreshes the cache.
    #[cold]
    #[inline(never)]
    fn node_for(&mut self, index: usize, parent: u32) -> u32 {
        alloc::untracked(|| {
            if self.slots.len() <= index {
                self.slots.resize_with(index + 1, || None);
            }
            if self.slots[index].is_none() {
                let slot = Shared::new(Slot::new(self.epoch));
                let mut shared = self.data.slots.lock();
                if shared.len() <= index {
                    shared.resize_with(index + 1, || None);
                }
                shared[index] = Some(slot.clone());
                self.slots[index] =
                    Some(LocalSlot { slot, cached_parent: u32::MAX, cached_node: 0 });
            }
            let key = (parent, index as u32);
            let node = match self.children.get(&key) {
                Some(&n) => n,
                None => {
                    let n = Shared::new(Node::new(parent, index as u32, self.epoch));
                    self.data.nodes.lock().push(n.clone());
                    self.nodes.push(n);
                    let id = (self.nodes.len() - 1) as u32;
                    self.children.insert(key, id);
                    id
                }
            };
            if let Some(ls) = self.slots[index].as_mut() {
                ls.cached_parent = parent;
                ls.cached_node = node;
            }
            node
        })
    }

    #[inline(always)]
    fn pop(&mut self, depth: u32, end: u64, failed: bool, inner: &Inner) {
        let depth = depth as usize;
        if depth >= self.stack.len() {
            return; // popped already: guards were dropped out of order
        }
        // Frames above ours belong to guards that were leaked (`mem::forget`): drop them.
        self.stack.truncate(depth + 1);
        let Some(frame) = self.stack.pop() else { return };
        let elapsed_ns = inner.clock.delta_ns(frame.start, end);
        let alloc = frame.alloc.and_then(|start| {
            let d = alloc::thread_counters()?.since(start);
            Some(AllocSample {
                bytes: d.allocated,
                self_bytes: d.allocated.saturating_sub(frame.child_alloc_bytes),
                freed_bytes: d.freed,
                count: d.count,
            })
        });
        if let Some(parent) = self.stack.last_mut() {
            parent.child_ns += elapsed_ns;
            parent.child_alloc_bytes += alloc.map_or(0, |a| a.bytes);
        }
        let epoch = inner.epoch();
        if epoch != self.epoch {
            self.start_epoch(epoch);
        }
        let sample = Sample {
            elapsed_ns,
            self_ns: elapsed_ns.saturating_sub(frame.child_ns),
            failed,
            alloc,
        };
        if let Some(Some(ls)) = self.slots.get(frame.callsite as usize) {
            ls.slot.record(&sample);
        }
        if let Some(node) = self.nodes.get(frame.node as usize) {
            node.record(&sample);
        }
    }

    /// The profiler was reset: zero this thread's counters and publish the new epoch.
    #[cold]
    #[inline(never)]
    fn start_epoch(&mut self, epoch: u64) {
        for ls in self.slots.iter().flatten() {
            ls.slot.reset(epoch);
        }
        for node in &self.nodes {
            node.reset(epoch);
        }
        self.epoch = epoch;
    }
}

/// Opens a scope for `callsite` on this thread; returns its depth, or [`INERT`].
#[inline(always)]
pub(crate) fn enter(inner: &Arc<Inner>, index: usize) -> u32 {
    LOCAL
        .try_with(|state| match state.try_borrow_mut() {
            Ok(mut state) => state.get(inner).push(index, inner),
            // Re-entered from inside perfcore itself: record nothing rather than panic.
            Err(_) => INERT,
        })
        // The thread is exiting and its recorder is gone.
        .unwrap_or(INERT)
}

/// Closes the scope opened at `depth`.
#[inline(always)]
pub(crate) fn exit(inner: &Inner, depth: u32, failed: bool) {
    let end = inner.clock.raw();
    let _ = LOCAL.try_with(|state| {
        if let Ok(mut state) = state.try_borrow_mut()
            && let Some(lp) = state.find(inner)
        {
            lp.pop(depth, end, failed, inner);
        }
    });
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
