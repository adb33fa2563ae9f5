//! The state a recording thread shares with snapshots, and the protocol between them.
//!
//! # The protocol
//! Each (profiler, thread) pair owns a [`ThreadData`]: one [`Slot`] per call path it has run
//! (a node of its call tree). Only the owning thread writes a slot, with plain
//! relaxed load + store pairs ([`bump`]); a snapshot reads them with relaxed loads from another
//! thread. No `unsafe` is involved: every shared counter is an atomic, so a reader sees each
//! value whole and, per counter, never older than a value it saw before. Counts therefore only
//! grow from one snapshot to the next; a snapshot taken mid-call may see that call's count but
//! not yet its duration (or the reverse), and the next snapshot sees both.
//!
//! Structure changes (a new slot or histogram chunk) take the `ThreadData` mutex, which
//! only the owner's cold path and snapshots touch.
//!
//! *Deferred bucket.* A call's histogram bucket is written one call late: the owner keeps
//! the newest call's (path, duration) in the thread's `pending` word and writes the previous
//! one's bucket while recording the next call. The bucket's address depends on the closing
//! clock read, and writing it at once kept that read's ~25-cycle latency on every scope's
//! critical path; a call late, its inputs are long ready (33 → 25 ns per scope, BENCHMARKS.md).
//! No call is invisible meanwhile: a snapshot reads the buckets, then `pending`. The owner
//! publishes the new `pending` (Release) before it stores the old call's bucket (Release),
//! and the snapshot loads buckets with Acquire, so a snapshot that sees a call in its bucket
//! reads a newer `pending`: no call is counted twice. One that reads a bucket just before
//! the old call lands and `pending` just after it was replaced misses that call until its
//! next snapshot, which is the skew the counters above already allow.
//!
//! *Reset* bumps the profiler's epoch under the registry lock. An owner that sees a new epoch
//! zeroes its own counters and then stores the epoch in each slot with `Release`; a
//! snapshot reads a slot's epoch with `Acquire` and skips slots of an older epoch, so it never
//! mixes counts from before a reset with counts after it. Calls in flight across a reset are
//! recorded in the new epoch, never lost.
//!
//! *Thread exit* folds the thread's counters into the profiler's retired totals and removes
//! the thread from the live list under the same registry lock that snapshots hold, so a
//! snapshot sees the thread's calls exactly once: either live or retired.
//!
//! The loom tests at the bottom model-check these three paths.

use std::collections::HashMap;
use std::sync::OnceLock;

use crate::stats::histogram::{self, CHUNK_LEN, CHUNKS};
use crate::sync::{Arc, AtomicU64, Mutex, Ordering, bump};

/// Allocation figures of one call, when the tracking allocator is installed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AllocSample {
    pub(crate) bytes: u64,
    pub(crate) self_bytes: u64,
    pub(crate) freed_bytes: u64,
    pub(crate) count: u64,
}

/// What one finished call records.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct Sample {
    pub(crate) elapsed_ns: u64,
    pub(crate) self_ns: u64,
    /// Time actually running: the wall time for a synchronous call, the sum of the polls for
    /// a future.
    pub(crate) busy_ns: u64,
    pub(crate) failed: bool,
    /// A future dropped before it completed.
    pub(crate) cancelled: bool,
    pub(crate) alloc: Option<AllocSample>,
}

/// Histogram counters. Always the standard atomic, even under loom: a model with 1,024
/// tracked atomics per chunk is out of loom's reach. They are written like the slot's other
/// counters (single writer, load + store), which loom does model, except that the store is
/// Release and snapshots load with Acquire (the deferred bucket's pairing with `pending`):
/// loom explores the interleavings of that protocol but not this pairing's weak-memory
/// orders, which rest on the argument in the module docs.
type Chunk = Box<[std::sync::atomic::AtomicU64]>;

fn new_chunk() -> Chunk {
    (0..CHUNK_LEN).map(|_| std::sync::atomic::AtomicU64::new(0)).collect()
}

/// One thread's counters for one call path: a node of the thread's call tree.
///
/// Each call updates exactly one slot (its path's), so the hot path touches one structure;
/// per-function statistics are the sum of a function's paths, computed by snapshots.
#[derive(Debug)]
pub(crate) struct Slot {
    /// Parent slot index + 1 on the same thread; 0 for a root.
    pub(crate) parent: u32,
    /// Callsite index.
    pub(crate) callsite: u32,
    epoch: AtomicU64,
    count: AtomicU64,
    errors: AtomicU64,
    total_ns: AtomicU64,
    self_ns: AtomicU64,
    min_ns: AtomicU64,
    max_ns: AtomicU64,
    clamped: AtomicU64,
    folded: AtomicU64,
    busy_ns: AtomicU64,
    cancelled: AtomicU64,
    alloc_calls: AtomicU64,
    alloc_bytes: AtomicU64,
    alloc_self_bytes: AtomicU64,
    alloc_freed_bytes: AtomicU64,
    alloc_count: AtomicU64,
    /// HdrHistogram counts, one lazily allocated chunk per power of two.
    chunks: [OnceLock<Chunk>; CHUNKS],
    /// One bit per group of [`GROUP`] counters that has ever been non-zero, so a snapshot
    /// reads only the groups in use instead of every counter between min and max.
    occupied: [AtomicU64; OCCUPIED_WORDS],
}

/// Counters per occupancy bit.
const GROUP: usize = 32;
const OCCUPIED_WORDS: usize = (CHUNKS * CHUNK_LEN).div_ceil(GROUP * 64);

impl Slot {
    pub(crate) fn new(parent: u32, callsite: u32, epoch: u64) -> Self {
        Self {
            parent,
            callsite,
            epoch: AtomicU64::new(epoch),
            count: AtomicU64::new(0),
            errors: AtomicU64::new(0),
            total_ns: AtomicU64::new(0),
            self_ns: AtomicU64::new(0),
            min_ns: AtomicU64::new(u64::MAX),
            max_ns: AtomicU64::new(0),
            clamped: AtomicU64::new(0),
            busy_ns: AtomicU64::new(0),
            cancelled: AtomicU64::new(0),
            folded: AtomicU64::new(0),
            alloc_calls: AtomicU64::new(0),
            alloc_bytes: AtomicU64::new(0),
            alloc_self_bytes: AtomicU64::new(0),
            alloc_freed_bytes: AtomicU64::new(0),
            alloc_count: AtomicU64::new(0),
            chunks: [const { OnceLock::new() }; CHUNKS],
            occupied: std::array::from_fn(|_| AtomicU64::new(0)),
        }
    }

    /// Adds one call's duration to the histogram. Owner thread only; see the deferred
    /// bucket in the module docs for why it runs a call late.
    #[inline(always)]
    fn record_bucket(&self, elapsed_ns: u64) {
        let index = histogram::bucket_index(histogram::clamp(elapsed_ns).0);
        let c = histogram::chunk_of(index);
        let chunk = match self.chunks[c].get() {
            Some(chunk) => chunk,
            None => self.init_chunk(c),
        };
        let counter = &chunk[index % CHUNK_LEN];
        let old = counter.load(std::sync::atomic::Ordering::Relaxed);
        // Release: a snapshot that sees this count also sees the `pending` that replaced it.
        counter.store(old.wrapping_add(1), std::sync::atomic::Ordering::Release);
        if old == 0 {
            // First value in this counter since the slot was created or reset.
            let (word, bit) = (index / GROUP / 64, (index / GROUP) % 64);
            let w = &self.occupied[word];
            w.store(w.load(Ordering::Relaxed) | (1 << bit), Ordering::Relaxed);
        }
    }

    /// Records one call's counters (all but its histogram bucket). Owner thread only.
    #[inline(always)]
    fn record_counts(&self, s: &Sample) {
        let clamped = histogram::clamp(s.elapsed_ns).1;
        // min/max before count: a snapshot scans the buckets between min and max, and the
        // range it reads only widens, so the sum it reads never shrinks.
        if s.elapsed_ns < self.min_ns.load(Ordering::Relaxed) {
            self.min_ns.store(s.elapsed_ns, Ordering::Relaxed);
        }
        if s.elapsed_ns > self.max_ns.load(Ordering::Relaxed) {
            self.max_ns.store(s.elapsed_ns, Ordering::Relaxed);
        }
        bump(&self.count, 1);
        bump(&self.total_ns, s.elapsed_ns);
        bump(&self.self_ns, s.self_ns);
        bump(&self.busy_ns, s.busy_ns);
        if s.cancelled {
            bump(&self.cancelled, 1);
        }
        if s.failed {
            bump(&self.errors, 1);
        }
        if clamped {
            bump(&self.clamped, 1);
        }
        if let Some(a) = s.alloc {
            bump(&self.alloc_calls, 1);
            bump(&self.alloc_bytes, a.bytes);
            bump(&self.alloc_self_bytes, a.self_bytes);
            bump(&self.alloc_freed_bytes, a.freed_bytes);
            bump(&self.alloc_count, a.count);
        }
    }

    /// Allocates histogram chunk `c` the first time a duration falls in its range. Owner only.
    #[cold]
    #[inline(never)]
    fn init_chunk(&self, c: usize) -> &Chunk {
        crate::alloc::untracked(|| self.chunks[c].get_or_init(new_chunk))
    }

    /// Counts a call folded into this (the deepest) frame because the stack was full.
    #[inline]
    pub(crate) fn record_folded(&self) {
        bump(&self.folded, 1);
    }

    /// Zeroes the counters for a new epoch, then publishes the epoch. Owner thread only.
    pub(crate) fn reset(&self, epoch: u64) {
        for c in [
            &self.count,
            &self.errors,
            &self.total_ns,
            &self.self_ns,
            &self.max_ns,
            &self.clamped,
            &self.busy_ns,
            &self.cancelled,
            &self.folded,
            &self.alloc_calls,
            &self.alloc_bytes,
            &self.alloc_self_bytes,
            &self.alloc_freed_bytes,
            &self.alloc_count,
        ] {
            c.store(0, Ordering::Relaxed);
        }
        self.min_ns.store(u64::MAX, Ordering::Relaxed);
        for w in &self.occupied {
            w.store(0, Ordering::Relaxed);
        }
        for chunk in self.chunks.iter().filter_map(OnceLock::get) {
            for c in chunk.iter() {
                c.store(0, Ordering::Relaxed);
            }
        }
        self.epoch.store(epoch, Ordering::Release);
    }

    /// Adds this slot's counters into `acc` if they belong to `epoch`; returns the path's
    /// counters for the call tree.
    pub(crate) fn read_into(&self, epoch: u64, acc: &mut FunctionAccum) -> NodeCounters {
        if self.epoch.load(Ordering::Acquire) != epoch {
            return NodeCounters::default();
        }
        acc.folded += self.folded.load(Ordering::Relaxed);
        let min = self.min_ns.load(Ordering::Relaxed);
        let max = self.max_ns.load(Ordering::Relaxed);
        if min > max {
            return NodeCounters::default(); // nothing finished yet in this epoch
        }
        // Only counters between min and max, and of those only the groups marked occupied.
        // A group is marked after its counter is written, so a counter missed here is one
        // whose call is not in this snapshot's count either: the count read stays monotone.
        let lo = histogram::bucket_index(histogram::clamp(min).0) / GROUP;
        let hi = histogram::bucket_index(histogram::clamp(max).0) / GROUP;
        for word in lo / 64..=hi / 64 {
            let mut bits = self.occupied[word].load(Ordering::Relaxed);
            while bits != 0 {
                let group = word * 64 + bits.trailing_zeros() as usize;
                bits &= bits - 1;
                if group < lo || group > hi {
                    continue;
                }
                let first = group * GROUP;
                let Some(chunk) = self.chunks[histogram::chunk_of(first)].get() else {
                    continue;
                };
                let base = first % CHUNK_LEN;
                let counters = chunk[base..base + GROUP].iter();
                // Acquire: pairs with the bucket's Release store (deferred bucket).
                let load =
                    |c: &std::sync::atomic::AtomicU64| c.load(std::sync::atomic::Ordering::Acquire);
                acc.add_counts(first, counters.map(load));
            }
        }
        let node = NodeCounters {
            count: self.count.load(Ordering::Relaxed),
            errors: self.errors.load(Ordering::Relaxed),
            total_ns: self.total_ns.load(Ordering::Relaxed),
            self_ns: self.self_ns.load(Ordering::Relaxed),
        };
        acc.min_ns = acc.min_ns.min(min);
        acc.max_ns = acc.max_ns.max(max);
        acc.count += node.count;
        acc.errors += node.errors;
        acc.total_ns += node.total_ns;
        acc.self_ns += node.self_ns;
        acc.clamped += self.clamped.load(Ordering::Relaxed);
        acc.busy_ns += self.busy_ns.load(Ordering::Relaxed);
        acc.cancelled += self.cancelled.load(Ordering::Relaxed);
        let alloc_calls = self.alloc_calls.load(Ordering::Relaxed);
        if alloc_calls > 0 {
            acc.alloc_calls += alloc_calls;
            acc.alloc.bytes += self.alloc_bytes.load(Ordering::Relaxed);
            acc.alloc.self_bytes += self.alloc_self_bytes.load(Ordering::Relaxed);
            acc.alloc.freed_bytes += self.alloc_freed_bytes.load(Ordering::Relaxed);
            acc.alloc.count += self.alloc_count.load(Ordering::Relaxed);
        }
        node
    }
}

/// Everything one thread recorded for one profiler.
#[derive(Debug, Default)]
pub(crate) struct ThreadData {
    /// The thread's call tree, by node index; parents come before their children.
    pub(crate) slots: Mutex<Vec<Arc<Slot>>>,
    /// The newest call, whose bucket is not written yet: (path + 1) << 42 | duration, or 0.
    /// On its own cache line: the owner writes it on every call, and two threads' data may
    /// sit next to each other on the heap.
    pending: CacheLine<AtomicU64>,
}

/// Keeps a value alone on its cache line (two lines: x86 prefetches them in pairs).
#[derive(Debug, Default)]
#[repr(align(128))]
struct CacheLine<T>(T);

impl<T> std::ops::Deref for CacheLine<T> {
    type Target = T;
    fn deref(&self) -> &T {
        &self.0
    }
}

/// Bits of a duration in `pending` (clamped durations fit: 3.6e12 < 2^42).
const PENDING_NS_BITS: u32 = 42;
/// Call paths past this index are recorded at once (never pending): they do not fit.
const PENDING_MAX_NODE: u32 = (1 << (64 - PENDING_NS_BITS)) - 2;

fn unpack(word: u64) -> Option<(usize, u64)> {
    let node = (word >> PENDING_NS_BITS).checked_sub(1)?;
    Some((node as usize, word & ((1 << PENDING_NS_BITS) - 1)))
}

impl ThreadData {
    /// Records one call of path `node` (`slots[node]`, the owner's copy of `self.slots`).
    /// Owner thread only; `pending` is the owner's copy of `self.pending` (0 at first), which
    /// saves reading the shared word back.
    #[inline(always)]
    pub(crate) fn record(&self, slots: &[Arc<Slot>], node: u32, s: &Sample, pending: &mut u64) {
        let Some(slot) = slots.get(node as usize) else { return };
        slot.record_counts(s);
        if node > PENDING_MAX_NODE {
            slot.record_bucket(s.elapsed_ns);
            return;
        }
        let ns = histogram::clamp(s.elapsed_ns).0;
        let previous = *pending;
        *pending = (u64::from(node) + 1) << PENDING_NS_BITS | ns;
        // Publish the new pending call before the previous one's bucket (see module docs).
        self.pending.store(*pending, Ordering::Release);
        if let Some((prev, prev_ns)) = unpack(previous)
            && let Some(prev_slot) = slots.get(prev)
        {
            prev_slot.record_bucket(prev_ns);
        }
    }

    /// Forgets the pending call: the profiler was reset. Owner thread only, before it resets
    /// its slots.
    pub(crate) fn drop_pending(&self, pending: &mut u64) {
        *pending = 0;
        self.pending.store(0, Ordering::Release);
    }

    /// Writes the pending call's bucket. Owner thread only, at exit, under the registry
    /// lock (so no snapshot sees the call in neither place).
    fn flush_pending(&self) {
        let previous = self.pending.load(Ordering::Relaxed);
        self.pending.store(0, Ordering::Release);
        if let Some((node, ns)) = unpack(previous)
            && let Some(slot) = self.slots.lock().get(node)
        {
            slot.record_bucket(ns);
        }
    }

    /// Adds this thread's counters of `epoch` into `acc`.
    pub(crate) fn read_into(&self, epoch: u64, acc: &mut Accum) {
        let slots = self.slots.lock();
        // Parents come first, so each parent is mapped before its children.
        let mut map: Vec<u32> = Vec::with_capacity(slots.len());
        for slot in slots.iter() {
            let counters = slot.read_into(epoch, acc.function(slot.callsite as usize));
            let parent = if slot.parent == 0 { 0 } else { map[slot.parent as usize - 1] + 1 };
            let merged = acc.tree.node(parent, slot.callsite);
            acc.tree.nodes[merged as usize].counters.add(&counters);
            map.push(merged);
        }
        // After the buckets (see the deferred bucket in the module docs).
        if let Some((node, ns)) = unpack(self.pending.load(Ordering::Acquire))
            && let Some(slot) = slots.get(node)
            && slot.epoch.load(Ordering::Acquire) == epoch
        {
            let f = acc.function(slot.callsite as usize);
            f.add_counts(histogram::bucket_index(ns), std::iter::once(1));
            f.min_ns = f.min_ns.min(ns);
            f.max_ns = f.max_ns.max(ns);
        }
    }
}

/// Merged counters of one callsite (across threads), plain data.
#[derive(Clone, Debug)]
pub(crate) struct FunctionAccum {
    pub(crate) count: u64,
    pub(crate) errors: u64,
    pub(crate) total_ns: u64,
    pub(crate) self_ns: u64,
    pub(crate) min_ns: u64,
    pub(crate) max_ns: u64,
    pub(crate) clamped: u64,
    pub(crate) busy_ns: u64,
    pub(crate) cancelled: u64,
    pub(crate) folded: u64,
    pub(crate) alloc_calls: u64,
    pub(crate) alloc: AllocSample,
    /// Histogram counts in HdrHistogram's layout, dense from index 0.
    pub(crate) counts: Vec<u64>,
}

impl FunctionAccum {
    /// Adds counts for consecutive counters starting at `first`.
    fn add_counts(&mut self, first: usize, counts: impl ExactSizeIterator<Item = u64>) {
        let end = first + counts.len();
        if self.counts.len() < end {
            self.counts.resize(end, 0);
        }
        for (dst, n) in self.counts[first..end].iter_mut().zip(counts) {
            *dst += n;
        }
    }

    /// The number of values in the histogram counts.
    #[cfg(all(test, loom))]
    pub(crate) fn hist_len(&self) -> u64 {
        self.counts.iter().sum()
    }
}

impl Default for FunctionAccum {
    fn default() -> Self {
        Self {
            count: 0,
            errors: 0,
            total_ns: 0,
            self_ns: 0,
            min_ns: u64::MAX,
            max_ns: 0,
            clamped: 0,
            busy_ns: 0,
            cancelled: 0,
            folded: 0,
            alloc_calls: 0,
            alloc: AllocSample::default(),
            counts: Vec::new(),
        }
    }
}

/// Counters of one call-tree node.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct NodeCounters {
    pub(crate) count: u64,
    pub(crate) errors: u64,
    pub(crate) total_ns: u64,
    pub(crate) self_ns: u64,
}

impl NodeCounters {
    fn add(&mut self, o: &NodeCounters) {
        self.count += o.count;
        self.errors += o.errors;
        self.total_ns += o.total_ns;
        self.self_ns += o.self_ns;
    }
}

/// A merged call-tree node.
#[derive(Clone, Debug)]
pub(crate) struct TreeNode {
    pub(crate) parent: u32,
    pub(crate) callsite: u32,
    pub(crate) counters: NodeCounters,
}

/// A call tree merged across threads: nodes keyed by (parent, callsite).
#[derive(Clone, Debug, Default)]
pub(crate) struct Tree {
    pub(crate) nodes: Vec<TreeNode>,
    index: HashMap<(u32, u32), u32>,
}

impl Tree {
    /// The node for `callsite` under `parent` (node index + 1, or 0 for a root), created if new.
    pub(crate) fn node(&mut self, parent: u32, callsite: u32) -> u32 {
        *self.index.entry((parent, callsite)).or_insert_with(|| {
            self.nodes.push(TreeNode { parent, callsite, counters: NodeCounters::default() });
            (self.nodes.len() - 1) as u32
        })
    }
}

/// Counters merged across threads: by callsite index, plus the call tree.
#[derive(Clone, Debug, Default)]
pub(crate) struct Accum {
    pub(crate) functions: Vec<Option<FunctionAccum>>,
    pub(crate) tree: Tree,
}

impl Accum {
    pub(crate) fn function(&mut self, index: usize) -> &mut FunctionAccum {
        if self.functions.len() <= index {
            self.functions.resize_with(index + 1, || None);
        }
        self.functions[index].get_or_insert_with(FunctionAccum::default)
    }
}

/// The live threads of one profiler and the totals of threads that have exited.
#[derive(Debug, Default)]
pub(crate) struct Registry {
    pub(crate) threads: Vec<Arc<ThreadData>>,
    pub(crate) retired: Accum,
    /// Start of the current window: Unix time in ns, and the clock's raw reading then.
    pub(crate) started_unix_ns: u64,
    pub(crate) started_raw: u64,
}

impl Registry {
    /// Everything recorded in `epoch`, live and retired.
    pub(crate) fn collect(&self, epoch: u64) -> Accum {
        let mut acc = self.retired.clone();
        for t in &self.threads {
            t.read_into(epoch, &mut acc);
        }
        acc
    }

    /// Folds an exiting thread's counters into the retired totals and forgets the thread.
    pub(crate) fn retire(&mut self, data: &Arc<ThreadData>, epoch: u64) {
        if let Some(pos) = self.threads.iter().position(|t| Arc::ptr_eq(t, data)) {
            self.threads.swap_remove(pos);
            data.flush_pending();
            data.read_into(epoch, &mut self.retired);
        }
    }
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Model checks of the record / snapshot / exit protocol. Run with
    //! `RUSTFLAGS="--cfg loom" cargo test -p perfcore --lib loom_tests --release`.
    use super::*;
    use loom::thread;

    /// Explores every interleaving with up to 2 preemptions (bounded as tokio and crossbeam
    /// bound theirs; unbounded, the state space of two threads doing ~30 atomic operations
    /// each is out of reach).
    fn model(f: impl Fn() + Sync + Send + 'static) {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(f);
    }

    fn count_of(acc: &Accum) -> (u64, u64) {
        let f = acc.functions.first().and_then(Option::as_ref);
        let hist = f.map_or(0, FunctionAccum::hist_len);
        (f.map_or(0, |f| f.count), hist)
    }

    fn sample(ns: u64) -> Sample {
        Sample {
            elapsed_ns: ns,
            self_ns: ns,
            busy_ns: ns,
            failed: false,
            cancelled: false,
            alloc: None,
        }
    }

    /// A thread records two calls and exits while another thread snapshots: every snapshot
    /// sees a count that never goes down, and after the join it sees exactly two calls, once.
    #[test]
    fn record_snapshot_exit() {
        model(|| {
            let registry = Arc::new(Mutex::new(Registry::default()));
            let data = Arc::new(ThreadData::default());
            registry.lock().threads.push(data.clone());
            let r2 = registry.clone();
            let owner = thread::spawn(move || {
                let slots = vec![Arc::new(Slot::new(0, 0, 0))];
                data.slots.lock().push(slots[0].clone());
                let mut pending = 0;
                for ns in [5, 6] {
                    data.record(&slots, 0, &sample(ns), &mut pending);
                }
                r2.lock().retire(&data, 0);
            });
            let mut last = (0, 0);
            for _ in 0..2 {
                let now = count_of(&registry.lock().collect(0));
                assert!(now.0 >= last.0 && now.1 >= last.1, "{now:?} < {last:?}");
                // The pending call is never counted twice (bucket and pending).
                assert!(now.1 <= 2, "histogram holds {} of 2 calls", now.1);
                last = now;
            }
            owner.join().unwrap();
            let acc = registry.lock().collect(0);
            assert_eq!(count_of(&acc), (2, 2));
            assert_eq!(acc.tree.nodes[0].counters.count, 2);
        });
    }

    /// A reset (epoch bump) while the owner records: a snapshot of the new epoch never sees
    /// counts from the old one, and calls recorded after the owner saw the reset all count.
    #[test]
    fn reset_while_recording() {
        model(|| {
            let epoch = Arc::new(AtomicU64::new(0));
            let data = Arc::new(ThreadData::default());
            let slots = vec![Arc::new(Slot::new(0, 0, 0))];
            data.slots.lock().push(slots[0].clone());
            let e2 = epoch.clone();
            let d2 = data.clone();
            let owner = thread::spawn(move || {
                let mut pending = 0;
                // Before or after the reset: either is fine.
                d2.record(&slots, 0, &sample(7), &mut pending);
                let seen = e2.load(Ordering::Relaxed);
                if seen != 0 {
                    d2.drop_pending(&mut pending);
                    slots[0].reset(seen);
                }
                d2.record(&slots, 0, &sample(9), &mut pending);
                seen
            });
            epoch.store(1, Ordering::Relaxed);
            let mut acc = Accum::default();
            data.read_into(1, &mut acc);
            let (count, hist) = count_of(&acc);
            assert!(count <= 1 && hist <= 1, "a new-epoch snapshot saw an old call");
            let seen = owner.join().unwrap();
            let mut acc = Accum::default();
            data.read_into(1, &mut acc);
            if seen == 1 {
                assert_eq!(count_of(&acc), (1, 1));
            }
        });
    }
}
