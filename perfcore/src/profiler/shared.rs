//! The state a recording thread shares with snapshots, and the protocol between them.
//!
//! # The protocol
//! Each (profiler, thread) pair owns a [`ThreadData`]: one [`CallPath`] per call path it has run
//! (a node of its call tree). Only the owning thread writes a path, with plain
//! load + store pairs ([`bump`]); a snapshot reads them from another thread. No `unsafe` is
//! involved: every shared counter is an atomic, so a reader sees each value whole and, per
//! counter, never older than a value it saw before. Counts therefore only grow from one
//! snapshot to the next.
//!
//! Structure changes (a new path or histogram chunk) take the `ThreadData` mutex, which
//! only the owner's cold path and snapshots touch.
//!
//! *Deferred bucket.* A call's histogram bucket is written one call late: the owner keeps
//! the newest call's (path, duration) in the thread's `pending` word and writes the previous
//! one's bucket while recording the next call. The bucket's address depends on the closing
//! clock read, and writing it at once kept that read's latency on every scope's critical
//! path; a call late, its inputs are long ready (BENCHMARKS.md has the A/B). No call is
//! invisible meanwhile: a snapshot reads the buckets, then `pending`. The owner publishes the
//! new `pending` (Release) before it stores the old call's bucket (Release), and the snapshot
//! loads buckets with Acquire, so a snapshot that sees a call in its bucket reads a newer
//! `pending`: no call is counted twice. One that reads a bucket just before the old call
//! lands and `pending` just after it was replaced misses that call until its next snapshot.
//!
//! *Consistency.* The histogram (buckets plus `pending`) is the authority on how many calls
//! a path has had; every other counter must agree with it (no more errors than calls). The
//! owner publishes a call (its `pending` word, or its bucket) first, then its min/max, then
//! its counters, each with a Release store; a snapshot loads a path's counters first, then
//! min/max, then the buckets between them, each with Acquire, and `pending` last. A counter
//! the snapshot sees therefore belongs to a call it also sees, except in the two-store window
//! of the paragraph above, which can hide one call; the snapshot clamps the counters that
//! count calls (errors, cancelled, clamped, folded) to the count it read, so even then it
//! shows a state the path was in a moment before.
//!
//! *Reset* bumps the profiler's epoch under the registry lock. An owner that sees a new epoch
//! replaces its paths with new ones of the new epoch (freeing the old ones' memory), under the
//! `ThreadData` lock; a snapshot reads a path's epoch with `Acquire` and skips paths of an
//! older epoch, so it never mixes counts from before a reset with counts after it. Calls in
//! flight across a reset are recorded in the new epoch, never lost.
//!
//! *Thread exit* folds the thread's counters into the profiler's retired totals and removes
//! the thread from the live list under the same registry lock that snapshots hold, so a
//! snapshot sees the thread's calls exactly once: either live or retired.
//!
//! The loom tests at the bottom model-check these paths.

use std::collections::HashMap;
use std::sync::OnceLock;

use super::Outcome;
use super::timeline::{self, RawEvent, Ring};
use crate::stats::histogram::{self, CHUNK_LEN, CHUNKS};
use crate::sync::{Arc, AtomicU64, Mutex, Ordering, bump};

/// Allocation figures of one call, when the tracking allocator is installed.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct AllocSample {
    pub(crate) bytes: u64,
    pub(crate) self_bytes: u64,
    pub(crate) freed_bytes: u64,
    pub(crate) count: u64,
    pub(crate) self_count: u64,
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

impl Sample {
    /// A synchronous call: `elapsed_ns` of wall time, `child_ns` of it in child scopes.
    #[inline(always)]
    pub(crate) fn call(
        elapsed_ns: u64,
        child_ns: u64,
        outcome: Outcome,
        alloc: Option<AllocSample>,
    ) -> Self {
        Self {
            elapsed_ns,
            self_ns: elapsed_ns.saturating_sub(child_ns),
            busy_ns: elapsed_ns,
            failed: outcome == Outcome::Failed,
            cancelled: outcome == Outcome::Cancelled,
            alloc,
        }
    }

    /// A call that ran in resumptions (a future, a generator): `wall_ns` from the first to
    /// the end, `busy_ns` inside them, `child_ns` of that in child scopes.
    pub(crate) fn resumable(wall_ns: u64, busy_ns: u64, child_ns: u64, outcome: Outcome) -> Self {
        Self {
            elapsed_ns: wall_ns,
            self_ns: busy_ns.saturating_sub(child_ns),
            busy_ns,
            failed: outcome == Outcome::Failed,
            cancelled: outcome == Outcome::Cancelled,
            alloc: None,
        }
    }
}

/// Where a call beyond the profiler's maximum depth stands among the calls it is inside.
/// Such calls are recorded on the call path of the deepest frame within the depth limit,
/// so their path no longer says whether they are recursive; the recorder works it out.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) enum Deep {
    /// No other call of the same function is open on the thread.
    Outer,
    /// Inside another call of the same function, and the first of its function on its
    /// (collapsed) call path: its time is part of the path's total, not the function's.
    Nested,
    /// Inside another call of the same function on the same collapsed path: its time is
    /// already in that call's.
    Repeated,
}

/// The sums a call path keeps, beside its count and histogram: the single list of them.
/// A [`CallPath`] holds them as atomics, merges and snapshots as plain integers.
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
pub(crate) struct Counters<T = u64> {
    /// Wall time of the path's calls, except calls inside another call of the same function
    /// on the same path (a path's time counts once however deep it recurses).
    pub(crate) total_ns: T,
    pub(crate) self_ns: T,
    /// Busy time of calls not inside another call of the same function.
    pub(crate) busy_ns: T,
    pub(crate) errors: T,
    /// Of `total_ns`, the time of calls inside another call of the same function: the
    /// function's total leaves it out, as cProfile's cumulative time does.
    pub(crate) nested_ns: T,
    pub(crate) cancelled: T,
    pub(crate) clamped: T,
    /// Calls made beyond the profiler's maximum depth.
    pub(crate) folded: T,
    pub(crate) alloc_calls: T,
    pub(crate) alloc_bytes: T,
    pub(crate) alloc_self_bytes: T,
    pub(crate) alloc_freed_bytes: T,
    pub(crate) alloc_count: T,
    pub(crate) alloc_self_count: T,
}

/// How many counters [`Counters`] has.
const COUNTERS: usize = 14;

impl<T> Counters<T> {
    /// The counters from an array in the order of [`Counters::each`].
    fn from_array(
        [
            errors,
            total_ns,
            nested_ns,
            self_ns,
            busy_ns,
            cancelled,
            clamped,
            folded,
            alloc_calls,
            alloc_bytes,
            alloc_self_bytes,
            alloc_freed_bytes,
            alloc_count,
            alloc_self_count,
        ]: [T; COUNTERS],
    ) -> Self {
        Self {
            total_ns,
            self_ns,
            busy_ns,
            errors,
            nested_ns,
            cancelled,
            clamped,
            folded,
            alloc_calls,
            alloc_bytes,
            alloc_self_bytes,
            alloc_freed_bytes,
            alloc_count,
            alloc_self_count,
        }
    }

    /// Every counter, in the order [`Counters::from_array`] takes them.
    fn each(&self) -> [&T; COUNTERS] {
        [
            &self.errors,
            &self.total_ns,
            &self.nested_ns,
            &self.self_ns,
            &self.busy_ns,
            &self.cancelled,
            &self.clamped,
            &self.folded,
            &self.alloc_calls,
            &self.alloc_bytes,
            &self.alloc_self_bytes,
            &self.alloc_freed_bytes,
            &self.alloc_count,
            &self.alloc_self_count,
        ]
    }
}

impl Counters<AtomicU64> {
    fn zeroed() -> Self {
        Self::from_array(std::array::from_fn(|_| AtomicU64::new(0)))
    }

    /// Reads every counter (Acquire: pairs with [`bump`]'s Release, see the module docs).
    fn load(&self) -> Counters<u64> {
        Counters::from_array(self.each().map(|c| c.load(Ordering::Acquire)))
    }
}

impl Counters<u64> {
    /// Adds `other` in; sums saturate (snapshots read from files may carry any values).
    pub(crate) fn add(&mut self, other: &Counters<u64>) {
        let (mine, theirs) = (self.each().map(|&v| v), other.each());
        *self = Counters::from_array(std::array::from_fn(|i| mine[i].saturating_add(*theirs[i])));
    }

    /// Clamps the counters that count calls to `count`: a snapshot can read a call's
    /// counters a moment before its histogram entry (see the module docs).
    fn clamp_calls(&mut self, count: u64) {
        for c in [
            &mut self.errors,
            &mut self.cancelled,
            &mut self.clamped,
            &mut self.folded,
            &mut self.alloc_calls,
        ] {
            *c = (*c).min(count);
        }
    }

    /// The function-level wall time: recursive calls inside their own function count once.
    pub(crate) fn function_total_ns(&self) -> u64 {
        self.total_ns.saturating_sub(self.nested_ns)
    }
}

/// One power of two of a histogram: its counters, and which of them have ever been non-zero,
/// so a snapshot loads only those.
struct Chunk {
    counts: [std::sync::atomic::AtomicU64; CHUNK_LEN],
    occupied: std::sync::atomic::AtomicU64,
}

// One bit of `occupied` per counter.
const _: () = assert!(CHUNK_LEN == 64);

impl Chunk {
    fn new() -> Box<Self> {
        Box::new(Self {
            counts: std::array::from_fn(|_| std::sync::atomic::AtomicU64::new(0)),
            occupied: std::sync::atomic::AtomicU64::new(0),
        })
    }
}

/// One thread's counters for one call path: a node of the thread's call tree.
///
/// Each call updates exactly one path (its path's), so the hot path touches one structure;
/// per-function statistics are the sum of a function's paths, computed by snapshots.
/// A path is under 1 KiB plus 520 bytes per power of two its calls' durations touch (about
/// 11 KiB in all for calls spread over six decades); a reset frees it.
// What every call touches comes first, on one cache line of its own: the recursive flag, the
// range and the first four counters (the `Arc` header sits on the line before).
#[repr(C, align(64))]
pub(crate) struct CallPath {
    /// The path passes through its own callsite higher up: every call on it is inside
    /// another call of the same function.
    recursive: bool,
    /// Callsite index.
    pub(crate) callsite: u32,
    /// The parent path's index on the same thread; `None` for a root.
    pub(crate) parent: Option<u32>,
    min_ns: AtomicU64,
    max_ns: AtomicU64,
    counters: Counters<AtomicU64>,
    epoch: AtomicU64,
    /// Histogram counts, one lazily allocated chunk per power of two. Always the standard
    /// atomics, even under loom: a model with 64 tracked atomics per chunk is out of loom's
    /// reach. They are written like the path's other counters (single writer, load + store),
    /// which loom does model, with a Release store that snapshots load with Acquire (the
    /// deferred bucket's pairing with `pending`): loom explores the interleavings of that
    /// protocol but not this pairing's weak-memory orders, which rest on the module docs.
    chunks: [OnceLock<Box<Chunk>>; CHUNKS],
}

impl std::fmt::Debug for CallPath {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("CallPath")
            .field("parent", &self.parent)
            .field("callsite", &self.callsite)
            .field("recursive", &self.recursive)
            .finish_non_exhaustive()
    }
}

/// What a snapshot read of one path found.
#[derive(Clone, Copy, Debug, Default)]
pub(crate) struct PathRead {
    /// Calls in the path's histogram.
    pub(crate) count: u64,
    pub(crate) counters: Counters,
}

impl CallPath {
    pub(crate) fn new(parent: Option<u32>, callsite: u32, recursive: bool, epoch: u64) -> Self {
        Self {
            parent,
            callsite,
            recursive,
            epoch: AtomicU64::new(epoch),
            min_ns: AtomicU64::new(u64::MAX),
            max_ns: AtomicU64::new(0),
            counters: Counters::zeroed(),
            chunks: [const { OnceLock::new() }; CHUNKS],
        }
    }

    /// Heap bytes this path holds: itself and its histogram chunks.
    fn heap_bytes(&self) -> usize {
        let chunks = self.chunks.iter().filter(|c| c.get().is_some()).count();
        std::mem::size_of::<Self>() + chunks * std::mem::size_of::<Chunk>()
    }

    /// Whether the path passes through its own callsite higher up.
    pub(crate) fn is_recursive(&self) -> bool {
        self.recursive
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
        let counter = &chunk.counts[index % CHUNK_LEN];
        let old = counter.load(std::sync::atomic::Ordering::Relaxed);
        // Release: a snapshot that sees this count also sees the `pending` that replaced it.
        counter.store(old.wrapping_add(1), std::sync::atomic::Ordering::Release);
        if old == 0 {
            // First value in this counter since the path was created.
            let bit = 1u64 << (index % CHUNK_LEN);
            let o = &chunk.occupied;
            let bits = o.load(std::sync::atomic::Ordering::Relaxed);
            o.store(bits | bit, std::sync::atomic::Ordering::Release);
        }
    }

    /// Records one call's counters (all but its histogram bucket). Owner thread only, after
    /// the call is published (module docs: consistency).
    #[inline(always)]
    fn record_counts(&self, s: &Sample, deep: Option<Deep>) {
        let clamped = histogram::clamp(s.elapsed_ns).1;
        // min/max before the counters: a snapshot that reads a call's counters also reads a
        // range that covers its bucket.
        if s.elapsed_ns < self.min_ns.load(Ordering::Relaxed) {
            self.min_ns.store(s.elapsed_ns, Ordering::Release);
        }
        if s.elapsed_ns > self.max_ns.load(Ordering::Relaxed) {
            self.max_ns.store(s.elapsed_ns, Ordering::Release);
        }
        let c = &self.counters;
        match deep {
            None if !self.recursive => {
                bump(&c.total_ns, s.elapsed_ns);
                bump(&c.busy_ns, s.busy_ns);
            }
            None | Some(Deep::Nested) => {
                bump(&c.total_ns, s.elapsed_ns);
                bump(&c.nested_ns, s.elapsed_ns);
            }
            Some(Deep::Outer) => {
                bump(&c.total_ns, s.elapsed_ns);
                bump(&c.busy_ns, s.busy_ns);
            }
            Some(Deep::Repeated) => {}
        }
        bump(&c.self_ns, s.self_ns);
        if deep.is_some() {
            bump(&c.folded, 1);
        }
        if s.cancelled {
            bump(&c.cancelled, 1);
        }
        if s.failed {
            bump(&c.errors, 1);
        }
        if clamped {
            bump(&c.clamped, 1);
        }
        if let Some(a) = s.alloc {
            bump(&c.alloc_calls, 1);
            bump(&c.alloc_bytes, a.bytes);
            bump(&c.alloc_self_bytes, a.self_bytes);
            bump(&c.alloc_freed_bytes, a.freed_bytes);
            bump(&c.alloc_count, a.count);
            bump(&c.alloc_self_count, a.self_count);
        }
    }

    /// Allocates histogram chunk `c` the first time a duration falls in its range. Owner only.
    #[cold]
    #[inline(never)]
    fn init_chunk(&self, c: usize) -> &Chunk {
        crate::alloc::untracked(|| self.chunks[c].get_or_init(Chunk::new))
    }

    /// Adds this path's histogram counts into `acc` if the path belongs to `epoch`, and
    /// returns what it read (see the module docs for the order of the reads).
    pub(crate) fn read_into(&self, epoch: u64, acc: &mut FunctionAccum) -> Option<PathRead> {
        if self.epoch.load(Ordering::Acquire) != epoch {
            return None;
        }
        let counters = self.counters.load();
        let min = self.min_ns.load(Ordering::Acquire);
        let max = self.max_ns.load(Ordering::Acquire);
        let mut read = PathRead { count: 0, counters };
        if min > max {
            return Some(read); // nothing finished yet in this epoch
        }
        // Only the chunks between min and max, and in them only the counters ever used.
        let lo = histogram::chunk_of(histogram::bucket_index(histogram::clamp(min).0));
        let hi = histogram::chunk_of(histogram::bucket_index(histogram::clamp(max).0));
        for c in lo..=hi {
            let Some(chunk) = self.chunks[c].get() else { continue };
            let mut bits = chunk.occupied.load(std::sync::atomic::Ordering::Acquire);
            while bits != 0 {
                let i = bits.trailing_zeros() as usize;
                bits &= bits - 1;
                // Acquire: pairs with the bucket's Release store (deferred bucket).
                let n = chunk.counts[i].load(std::sync::atomic::Ordering::Acquire);
                acc.add_count(c * CHUNK_LEN + i, n);
                read.count += n;
            }
        }
        acc.min_ns = acc.min_ns.min(min);
        acc.max_ns = acc.max_ns.max(max);
        Some(read)
    }
}

/// Everything one thread recorded for one profiler.
#[derive(Debug, Default)]
pub(crate) struct ThreadData {
    /// The thread's call tree, by node index; parents come before their children.
    pub(crate) paths: Mutex<Vec<Arc<CallPath>>>,
    /// The newest call, whose bucket is not written yet: (path + 1) << 42 | duration, or 0.
    /// On its own cache line: the owner writes it on every call, and two threads' data may
    /// sit next to each other on the heap.
    pending: CacheLine<AtomicU64>,
    /// The thread's ring of recent span events, when the profiler keeps a timeline.
    pub(crate) timeline: Option<Arc<Ring>>,
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
    /// A thread's data with its timeline ring, if the profiler keeps one.
    pub(crate) fn with_timeline(timeline: Option<Arc<Ring>>) -> Self {
        Self { timeline, ..Self::default() }
    }

    /// Records one call of path `node` (`paths[node]`, the owner's copy of `self.paths`).
    /// Owner thread only; `pending` is the owner's copy of `self.pending` (0 at first), which
    /// saves reading the shared word back. `deep` is set for calls beyond the maximum depth.
    #[inline(always)]
    pub(crate) fn record(
        &self,
        paths: &[Arc<CallPath>],
        node: u32,
        s: &Sample,
        deep: Option<Deep>,
        pending: &mut u64,
    ) {
        let Some(path) = paths.get(node as usize) else { return };
        if node > PENDING_MAX_NODE {
            path.record_bucket(s.elapsed_ns);
        } else {
            let ns = histogram::clamp(s.elapsed_ns).0;
            let previous = *pending;
            *pending = (u64::from(node) + 1) << PENDING_NS_BITS | ns;
            // Publish the new pending call before the previous one's bucket (module docs).
            self.pending.store(*pending, Ordering::Release);
            if let Some((prev, prev_ns)) = unpack(previous)
                && let Some(prev_path) = paths.get(prev)
            {
                prev_path.record_bucket(prev_ns);
            }
        }
        // After the call is published: a snapshot never reads counters ahead of the count.
        path.record_counts(s, deep);
    }

    /// Forgets the pending call: the profiler was reset. Owner thread only, before it
    /// replaces its paths.
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
            && let Some(path) = self.paths.lock().get(node)
        {
            path.record_bucket(ns);
        }
    }

    /// Adds this thread's counters of `epoch` into `acc`.
    pub(crate) fn read_into(&self, epoch: u64, acc: &mut Accum) {
        let paths = self.paths.lock();
        let mut reads: Vec<Option<PathRead>> = Vec::with_capacity(paths.len());
        for path in paths.iter() {
            reads.push(path.read_into(epoch, acc.function(path.callsite as usize)));
        }
        // After the buckets (see the deferred bucket in the module docs).
        if let Some((node, ns)) = unpack(self.pending.load(Ordering::Acquire))
            && let Some(path) = paths.get(node)
            && let Some(Some(read)) = reads.get_mut(node)
        {
            let f = acc.function(path.callsite as usize);
            f.add_count(histogram::bucket_index(ns), 1);
            f.min_ns = f.min_ns.min(ns);
            f.max_ns = f.max_ns.max(ns);
            read.count += 1;
        }
        // Parents come first, so each parent is mapped before its children.
        let mut map: Vec<u32> = Vec::with_capacity(paths.len());
        for (path, read) in paths.iter().zip(reads) {
            let read = read.unwrap_or_default();
            let mut counters = read.counters;
            counters.clamp_calls(read.count);
            acc.function(path.callsite as usize).counters.add(&counters);
            let parent = path.parent.and_then(|p| map.get(p as usize).copied());
            let merged = acc.tree.node(parent, path.callsite);
            acc.tree.nodes[merged as usize].add(read.count, &counters);
            map.push(merged);
        }
    }
}

impl ThreadData {
    /// Heap bytes of this thread's call paths.
    pub(crate) fn heap_bytes(&self) -> usize {
        let paths = self.paths.lock();
        paths.iter().map(|p| p.heap_bytes()).sum::<usize>()
            + paths.capacity() * std::mem::size_of::<Arc<CallPath>>()
            + self.timeline.as_ref().map_or(0, |t| t.heap_bytes())
    }
}

impl Accum {
    /// Heap bytes of these merged counters.
    pub(crate) fn heap_bytes(&self) -> usize {
        let functions = self.functions.iter().flatten();
        self.functions.capacity() * std::mem::size_of::<Option<FunctionAccum>>()
            + functions.map(|f| f.counts.capacity() * 8).sum::<usize>()
            + self.tree.nodes.capacity() * std::mem::size_of::<TreeNode>()
            + self.tree.index.capacity() * std::mem::size_of::<((Option<u32>, u32), u32)>()
    }
}

/// Merged counters of one callsite (across threads), plain data.
#[derive(Clone, Debug)]
pub(crate) struct FunctionAccum {
    pub(crate) min_ns: u64,
    pub(crate) max_ns: u64,
    pub(crate) counters: Counters,
    /// Histogram counts in the histogram's layout, dense from index 0.
    pub(crate) counts: Vec<u64>,
}

impl FunctionAccum {
    /// Adds `n` to counter `index`.
    fn add_count(&mut self, index: usize, n: u64) {
        if self.counts.len() <= index {
            self.counts.resize(index + 1, 0);
        }
        self.counts[index] += n;
    }

    /// The number of values in the histogram counts.
    #[cfg(all(test, loom))]
    pub(crate) fn hist_len(&self) -> u64 {
        self.counts.iter().sum()
    }
}

impl Default for FunctionAccum {
    fn default() -> Self {
        Self { min_ns: u64::MAX, max_ns: 0, counters: Counters::default(), counts: Vec::new() }
    }
}

/// A merged call-tree node.
#[derive(Clone, Debug)]
pub(crate) struct TreeNode {
    pub(crate) parent: Option<u32>,
    pub(crate) callsite: u32,
    pub(crate) count: u64,
    pub(crate) counters: Counters,
}

impl TreeNode {
    fn add(&mut self, count: u64, counters: &Counters) {
        self.count = self.count.saturating_add(count);
        self.counters.add(counters);
    }
}

/// A call tree merged across threads: nodes keyed by (parent, callsite).
#[derive(Clone, Debug, Default)]
pub(crate) struct Tree {
    pub(crate) nodes: Vec<TreeNode>,
    index: HashMap<(Option<u32>, u32), u32>,
}

impl Tree {
    /// The index of the node for `callsite` under `parent`, created if new.
    pub(crate) fn node(&mut self, parent: Option<u32>, callsite: u32) -> u32 {
        *self.index.entry((parent, callsite)).or_insert_with(|| {
            self.nodes.push(TreeNode { parent, callsite, count: 0, counters: Counters::default() });
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
    /// The timeline rings of the last [`timeline::RETIRED_THREADS`] threads that exited.
    pub(crate) retired_timelines: std::collections::VecDeque<Arc<Ring>>,
}

/// One thread's timeline as read from its ring.
#[derive(Debug)]
pub(crate) struct RingRead {
    pub(crate) thread_id: u64,
    pub(crate) name: Option<String>,
    pub(crate) events: Vec<RawEvent>,
    pub(crate) dropped: u64,
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

    /// Every thread's timeline of the current window, live threads first; threads with no
    /// event in it are left out.
    pub(crate) fn read_timelines(&self) -> Vec<RingRead> {
        let live = self.threads.iter().filter_map(|t| t.timeline.as_ref());
        live.chain(&self.retired_timelines)
            .filter_map(|ring| {
                let mut events = Vec::new();
                let dropped = ring.read(&mut events);
                (!events.is_empty() || dropped > 0).then(|| RingRead {
                    thread_id: ring.thread_id,
                    name: ring.name.clone(),
                    events,
                    dropped,
                })
            })
            .collect()
    }

    /// Starts a new window of every timeline: the live threads' rings forget their events,
    /// the exited threads' are dropped.
    pub(crate) fn clear_timelines(&mut self) {
        for ring in self.threads.iter().filter_map(|t| t.timeline.as_ref()) {
            ring.clear();
        }
        self.retired_timelines.clear();
    }

    /// Heap bytes of the exited threads' timelines.
    pub(crate) fn retired_timeline_bytes(&self) -> usize {
        self.retired_timelines.iter().map(|r| r.heap_bytes()).sum()
    }

    /// Folds an exiting thread's counters into the retired totals and forgets the thread.
    pub(crate) fn retire(&mut self, data: &Arc<ThreadData>, epoch: u64) {
        if let Some(pos) = self.threads.iter().position(|t| Arc::ptr_eq(t, data)) {
            self.threads.swap_remove(pos);
            data.flush_pending();
            data.read_into(epoch, &mut self.retired);
            if let Some(ring) = &data.timeline {
                if self.retired_timelines.len() == timeline::RETIRED_THREADS {
                    self.retired_timelines.pop_front();
                }
                self.retired_timelines.push_back(ring.clone());
            }
            // The thread's paths live on in `retired`; free them now rather than when the
            // last handle goes.
            crate::alloc::untracked(|| data.paths.lock().clear());
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

    /// (count from the histogram, errors) of callsite 0, and the tree's count for it.
    fn count_of(acc: &Accum) -> (u64, u64) {
        let f = acc.functions.first().and_then(Option::as_ref);
        (f.map_or(0, FunctionAccum::hist_len), f.map_or(0, |f| f.counters.errors))
    }

    fn sample(ns: u64, failed: bool) -> Sample {
        Sample { elapsed_ns: ns, self_ns: ns, busy_ns: ns, failed, cancelled: false, alloc: None }
    }

    /// A thread records two failed calls and exits while another thread snapshots: every
    /// snapshot sees a count that never goes down and never more errors than calls, and after
    /// the join it sees exactly two calls, once.
    #[test]
    fn record_snapshot_exit() {
        model(|| {
            let registry = Arc::new(Mutex::new(Registry::default()));
            let data = Arc::new(ThreadData::default());
            registry.lock().threads.push(data.clone());
            let r2 = registry.clone();
            let owner = thread::spawn(move || {
                let paths = vec![Arc::new(CallPath::new(None, 0, false, 0))];
                data.paths.lock().push(paths[0].clone());
                let mut pending = 0;
                for ns in [5, 6] {
                    data.record(&paths, 0, &sample(ns, true), None, &mut pending);
                }
                r2.lock().retire(&data, 0);
            });
            let mut last = 0;
            for _ in 0..2 {
                let acc = registry.lock().collect(0);
                let (count, errors) = count_of(&acc);
                assert!(count >= last, "{count} < {last}");
                // The pending call is never counted twice (bucket and pending).
                assert!(count <= 2, "histogram holds {count} of 2 calls");
                // Clamped per path to the count read (module docs: consistency).
                let node = acc.tree.nodes.first().map_or((0, 0), |n| (n.count, n.counters.errors));
                assert!(node.1 <= node.0, "{node:?}");
                assert!(errors <= count.max(node.0), "{errors} errors, {count} calls");
                last = count;
            }
            owner.join().unwrap();
            let acc = registry.lock().collect(0);
            assert_eq!(count_of(&acc), (2, 2));
            assert_eq!(acc.tree.nodes[0].count, 2);
        });
    }

    /// A reset (epoch bump) while the owner records: a snapshot of the new epoch never sees
    /// counts from the old one, and calls recorded after the owner saw the reset all count.
    #[test]
    fn reset_while_recording() {
        model(|| {
            let epoch = Arc::new(AtomicU64::new(0));
            let data = Arc::new(ThreadData::default());
            let first = Arc::new(CallPath::new(None, 0, false, 0));
            data.paths.lock().push(first.clone());
            let e2 = epoch.clone();
            let d2 = data.clone();
            let owner = thread::spawn(move || {
                let mut pending = 0;
                let mut paths = vec![first];
                // Before or after the reset: either is fine.
                d2.record(&paths, 0, &sample(7, false), None, &mut pending);
                let seen = e2.load(Ordering::Relaxed);
                if seen != 0 {
                    // What the recorder does on a reset: new paths of the new epoch.
                    d2.drop_pending(&mut pending);
                    paths = vec![Arc::new(CallPath::new(None, 0, false, seen))];
                    *d2.paths.lock() = paths.clone();
                }
                d2.record(&paths, 0, &sample(9, false), None, &mut pending);
                seen
            });
            epoch.store(1, Ordering::Relaxed);
            let mut acc = Accum::default();
            data.read_into(1, &mut acc);
            let (count, _) = count_of(&acc);
            assert!(count <= 1, "a new-epoch snapshot saw an old call");
            let seen = owner.join().unwrap();
            let mut acc = Accum::default();
            data.read_into(1, &mut acc);
            if seen == 1 {
                assert_eq!(count_of(&acc).0, 1);
            }
        });
    }
}
