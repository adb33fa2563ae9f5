//! The opt-in timeline: one ring buffer of recent span events per (profiler, thread).
//!
//! # The protocol
//! The owning thread is the only writer of its [`Ring`]; readers (`timeline()`, `snapshot()`,
//! `reset()`) run on any thread, under the profiler's registry lock, which the writer never
//! takes. Every word is an atomic, so nothing tears and no `unsafe` is needed.
//!
//! Event number `n` (0, 1, ...) goes to slot `n % capacity`. Each slot has a sequence word:
//! `2(n+1) - 1` while event `n` is being written, `2(n+1)` once it is whole. The writer
//! stores the odd sequence (Relaxed), then the event's three data words (Release), then the
//! even sequence (Release), then the ring's `written = n + 1` (Release). On x86 each of
//! these is a plain `mov`: the writer's path has no fence, no read-modify-write, no lock.
//!
//! A reader loads `written` (Acquire), then for each event `n` it wants: the slot's sequence
//! `s1` (Acquire), the three data words (Acquire), the sequence again `s2`, and keeps the
//! event only if `s1 == s2 == 2(n+1)`. Why that is enough:
//! - `s1 == 2(n+1)` was stored (Release) after event `n`'s data, so the data loads see event
//!   `n`'s values or later ones (coherence).
//! - A later value belongs to event `n + k·capacity`, whose Release data store comes after
//!   its odd sequence store; the reader's Acquire load of that value makes the odd store
//!   visible to the `s2` load after it, so `s2 >= 2(n+k·capacity+1) - 1 > s1`. A torn read
//!   is therefore always detected, and the event is counted as dropped instead.
//!
//! *Reset* (under the registry lock, so it is ordered with every reader) stores the ring's
//! `floor = written`: readers skip events below it. An event being written during the reset
//! lands above the floor, in the new window, as calls in flight do in the counters.
//!
//! The loom test at the bottom checks this with a ring of two slots.

use std::cell::Cell;

use crate::sync::{Arc, AtomicU64, Ordering};

/// The largest capacity a timeline accepts: 4 Mi events, 128 MiB per thread.
pub(crate) const MAX_CAPACITY: usize = 1 << 22;

/// How many exited threads' timelines a profiler keeps (the oldest go first).
pub(crate) const RETIRED_THREADS: usize = 64;

/// `meta` flag: the call failed.
pub(crate) const FAILED: u8 = 1;
/// `meta` flag: a future dropped before it completed.
pub(crate) const CANCELLED: u8 = 2;
/// `meta` flag: one poll of a future.
pub(crate) const POLL: u8 = 4;
/// `meta` flag: a whole future, first poll to completion.
pub(crate) const ASYNC: u8 = 8;

/// The largest depth `meta` holds (24 bits); deeper spans are recorded at this depth.
const MAX_DEPTH: u32 = (1 << 24) - 1;

/// One event: 32 bytes, half a cache line.
#[derive(Debug)]
struct Slot {
    seq: AtomicU64,
    /// The clock's raw reading when the span started.
    start_raw: AtomicU64,
    duration_ns: AtomicU64,
    /// Callsite index (bits 0..32), depth (32..56), flags (56..64).
    meta: AtomicU64,
}

/// An event as a reader copied it.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub(crate) struct RawEvent {
    pub(crate) start_raw: u64,
    pub(crate) duration_ns: u64,
    pub(crate) callsite: u32,
    pub(crate) depth: u32,
    pub(crate) flags: u8,
}

/// One thread's ring of recent events for one profiler.
#[derive(Debug)]
pub(crate) struct Ring {
    slots: Box<[Slot]>,
    /// Events ever written (the next event's number). Owner writes, readers read.
    written: AtomicU64,
    /// Events below this number were cleared by a reset. Readers write (under the lock).
    floor: AtomicU64,
    pub(crate) thread_id: u64,
    pub(crate) name: Option<String>,
}

impl Ring {
    /// A ring of `capacity` (at least 1) events for the calling thread.
    pub(crate) fn new(capacity: usize) -> Self {
        let slots = (0..capacity.max(1))
            .map(|_| Slot {
                seq: AtomicU64::new(0),
                start_raw: AtomicU64::new(0),
                duration_ns: AtomicU64::new(0),
                meta: AtomicU64::new(0),
            })
            .collect();
        Self {
            slots,
            written: AtomicU64::new(0),
            floor: AtomicU64::new(0),
            thread_id: thread_number(),
            name: std::thread::current().name().map(str::to_owned),
        }
    }

    /// Heap bytes the ring holds.
    pub(crate) fn heap_bytes(&self) -> usize {
        self.slots.len() * std::mem::size_of::<Slot>()
    }

    /// Forgets every event written so far. Readers only, under the registry lock.
    pub(crate) fn clear(&self) {
        self.floor.store(self.written.load(Ordering::Acquire), Ordering::Release);
    }

    /// Appends the events of the current window to `out`, oldest first; returns how many
    /// of them it could not (overwritten, or being overwritten: see the module docs).
    pub(crate) fn read(&self, out: &mut Vec<RawEvent>) -> u64 {
        let written = self.written.load(Ordering::Acquire);
        let floor = self.floor.load(Ordering::Acquire).min(written);
        let capacity = self.slots.len() as u64;
        let first = written.saturating_sub(capacity).max(floor);
        let mut dropped = first - floor;
        for n in first..written {
            let slot = &self.slots[(n % capacity) as usize];
            let expected = 2 * (n + 1);
            let s1 = slot.seq.load(Ordering::Acquire);
            let start_raw = slot.start_raw.load(Ordering::Acquire);
            let duration_ns = slot.duration_ns.load(Ordering::Acquire);
            let meta = slot.meta.load(Ordering::Acquire);
            let s2 = slot.seq.load(Ordering::Relaxed);
            if s1 != expected || s2 != expected {
                dropped += 1;
                continue;
            }
            out.push(RawEvent {
                start_raw,
                duration_ns,
                callsite: meta as u32,
                depth: ((meta >> 32) as u32) & MAX_DEPTH,
                flags: (meta >> 56) as u8,
            });
        }
        dropped
    }
}

/// The owning thread's end of a [`Ring`]: where the next event goes.
#[derive(Debug)]
pub(crate) struct Writer {
    ring: Arc<Ring>,
    /// The next event's number (the owner's copy of `ring.written`).
    next: u64,
    /// `next % capacity`, kept so the hot path never divides.
    slot: usize,
}

impl Writer {
    pub(crate) fn new(ring: Arc<Ring>) -> Self {
        Self { ring, next: 0, slot: 0 }
    }

    /// Writes one event. Owner thread only; lock-free, a handful of plain stores.
    #[inline(always)]
    pub(crate) fn push(
        &mut self,
        start_raw: u64,
        duration_ns: u64,
        callsite: u32,
        depth: u32,
        flags: u8,
    ) {
        let Some(slot) = self.ring.slots.get(self.slot) else { return };
        let seq = 2 * (self.next + 1);
        let meta =
            u64::from(callsite) | u64::from(depth.min(MAX_DEPTH)) << 32 | u64::from(flags) << 56;
        // Order and orderings: see the module docs.
        slot.seq.store(seq - 1, Ordering::Relaxed);
        slot.start_raw.store(start_raw, Ordering::Release);
        slot.duration_ns.store(duration_ns, Ordering::Release);
        slot.meta.store(meta, Ordering::Release);
        slot.seq.store(seq, Ordering::Release);
        self.next += 1;
        self.ring.written.store(self.next, Ordering::Release);
        self.slot += 1;
        if self.slot == self.ring.slots.len() {
            self.slot = 0;
        }
    }
}

/// This thread's number for timelines (1, 2, ... in the order threads first ask).
fn thread_number() -> u64 {
    static NEXT: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(1);
    thread_local! {
        static NUMBER: Cell<u64> = const { Cell::new(0) };
    }
    let fresh = || NEXT.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    NUMBER
        .try_with(|n| {
            if n.get() == 0 {
                n.set(fresh());
            }
            n.get()
        })
        .unwrap_or_else(|_| fresh())
}

#[cfg(all(test, loom))]
mod loom_tests {
    //! Model check of the ring protocol. Run with
    //! `RUSTFLAGS="--cfg loom" cargo test -p perfcore --lib loom_tests --release`.
    use super::*;
    use loom::thread;

    /// The owner writes three events into a ring of two while a reader copies it twice: every
    /// event read is whole (all its words from one write), in order, never below the floor,
    /// and read + dropped accounts for every event written at the time of the read.
    /// (It fails if the reader keeps an event whose second sequence read differs, or if the
    /// data stores are Relaxed: both were tried.)
    #[test]
    fn write_while_reading() {
        let mut b = loom::model::Builder::new();
        b.preemption_bound = Some(2);
        b.check(|| {
            let ring = Arc::new(Ring::new(2));
            let mut writer = Writer::new(ring.clone());
            let owner = thread::spawn(move || {
                for n in 1..=3u64 {
                    writer.push(n, n * 10, n as u32, n as u32, 0);
                }
            });
            for _ in 0..2 {
                let mut out = Vec::new();
                let dropped = ring.read(&mut out);
                let mut last = 0;
                for e in &out {
                    let n = e.start_raw;
                    assert_eq!((e.duration_ns, e.callsite, e.depth), (n * 10, n as u32, n as u32));
                    assert!(n > last, "out of order");
                    last = n;
                }
                assert!(out.len() <= 2);
                // Every event counted is either read or dropped, and the newest read is the
                // newest counted (nothing read beyond `written`).
                assert!(out.len() as u64 + dropped <= 3);
            }
            owner.join().unwrap();
            let mut out = Vec::new();
            let dropped = ring.read(&mut out);
            let starts: Vec<u64> = out.iter().map(|e| e.start_raw).collect();
            assert_eq!((starts, dropped), (vec![2, 3], 1));
            ring.clear();
            let mut out = Vec::new();
            assert_eq!((ring.read(&mut out), out.len()), (0, 0));
        });
    }
}

#[cfg(all(test, feature = "testing", not(loom)))]
mod tests {
    use std::future::Future;
    use std::pin::Pin;
    use std::task::{Context, Poll, Waker};
    use std::time::Duration;

    use crate::testing::ManualClock;
    use crate::{Callsite, PerformanceProfiler, Snapshot, SpanKind, Timeline};

    fn profiler(clock: &ManualClock, capacity: usize) -> PerformanceProfiler {
        PerformanceProfiler::builder().clock(clock).timeline(capacity).build().unwrap()
    }

    fn us(n: u64) -> Duration {
        Duration::from_micros(n)
    }

    /// (name, start, duration, depth, failed) of one thread's events.
    fn rows(t: &Timeline, thread: usize) -> Vec<(&str, u64, u64, u32, bool)> {
        t.threads[thread]
            .events
            .iter()
            .map(|e| (t.name_of(e).unwrap(), e.start_ns, e.duration_ns, e.depth, e.failed))
            .collect()
    }

    #[test]
    fn records_exact_spans_on_a_manual_clock() {
        let clock = ManualClock::new();
        let p = profiler(&clock, 16);
        clock.advance(us(1));
        {
            let _outer = p.scope("outer").unwrap();
            clock.advance(us(2));
            {
                let inner = p.scope("inner").unwrap();
                clock.advance(us(3));
                inner.mark_failed();
            }
            clock.advance(us(4));
        }
        let t = p.timeline();
        assert_eq!(t.threads.len(), 1);
        assert_eq!(
            rows(&t, 0),
            [("outer", 1_000, 9_000, 0, false), ("inner", 3_000, 3_000, 1, true)]
        );
        assert_eq!(t.threads[0].dropped, 0);
        assert_eq!(t.threads[0].process_id, std::process::id());
        assert!(t.threads[0].events.iter().all(|e| e.kind == SpanKind::Call));
    }

    #[test]
    fn a_full_ring_keeps_the_most_recent_and_counts_the_dropped() {
        let clock = ManualClock::new();
        let p = profiler(&clock, 3);
        for d in 1..=10 {
            let _g = p.scope("tick").unwrap();
            clock.advance(us(d));
        }
        let t = p.timeline();
        let durations: Vec<u64> = t.threads[0].events.iter().map(|e| e.duration_ns).collect();
        assert_eq!(durations, [8_000, 9_000, 10_000]);
        assert_eq!(t.threads[0].dropped, 7);
        // Reading does not consume.
        assert_eq!(p.timeline(), t);
    }

    #[test]
    fn each_thread_has_its_own_named_timeline_kept_after_it_exits() {
        let clock = ManualClock::new();
        let p = profiler(&clock, 8);
        for (name, calls) in [("alpha", 2), ("beta", 3)] {
            let p = p.clone();
            std::thread::Builder::new()
                .name(name.into())
                .spawn(move || {
                    for _ in 0..calls {
                        drop(p.scope(name).unwrap());
                    }
                })
                .unwrap()
                .join()
                .unwrap();
        }
        drop(p.scope("main").unwrap());
        let t = p.timeline();
        let mut seen: Vec<(Option<&str>, usize)> =
            t.threads.iter().map(|t| (t.name.as_deref(), t.events.len())).collect();
        seen.sort();
        assert_eq!(seen.len(), 3);
        assert!(seen.contains(&(Some("alpha"), 2)) && seen.contains(&(Some("beta"), 3)));
        let mut ids: Vec<u64> = t.threads.iter().map(|t| t.thread_id).collect();
        ids.sort_unstable();
        ids.dedup();
        assert_eq!(ids.len(), 3, "thread ids are distinct");
        for th in &t.threads {
            let names: Vec<&str> = th.events.iter().map(|e| t.name_of(e).unwrap()).collect();
            assert!(names.iter().all(|n| Some(*n) == th.name.as_deref() || *n == "main"));
        }
    }

    /// Pending on its first poll, ready on its second; each poll takes `poll_us`.
    struct TwoPolls {
        clock: ManualClock,
        polls: u32,
        poll_us: u64,
    }

    impl Future for TwoPolls {
        type Output = ();
        fn poll(mut self: Pin<&mut Self>, _: &mut Context<'_>) -> Poll<()> {
            self.clock.advance(us(self.poll_us));
            self.polls += 1;
            if self.polls == 2 { Poll::Ready(()) } else { Poll::Pending }
        }
    }

    #[test]
    fn a_future_records_its_polls_and_its_whole_span() {
        static CS: Callsite = Callsite::new("fetch", module_path!(), file!(), line!());
        let clock = ManualClock::new();
        let p = profiler(&clock, 16);
        let fut = p.instrument(&CS, TwoPolls { clock: clock.clone(), polls: 0, poll_us: 2 });
        let mut fut = std::pin::pin!(fut);
        let mut cx = Context::from_waker(Waker::noop());
        assert!(fut.as_mut().poll(&mut cx).is_pending());
        clock.advance(us(5));
        assert!(fut.as_mut().poll(&mut cx).is_ready());
        let t = p.timeline();
        let got: Vec<(SpanKind, u64, u64)> =
            t.threads[0].events.iter().map(|e| (e.kind, e.start_ns, e.duration_ns)).collect();
        // First poll to completion: 2 + 5 + 2 µs.
        assert_eq!(
            got,
            [
                (SpanKind::Async, 0, 9_000),
                (SpanKind::Poll, 0, 2_000),
                (SpanKind::Poll, 7_000, 2_000)
            ]
        );
    }

    #[test]
    fn a_future_dropped_early_is_a_cancelled_span() {
        static CS: Callsite = Callsite::new("abandoned", module_path!(), file!(), line!());
        let clock = ManualClock::new();
        let p = profiler(&clock, 16);
        {
            let fut = p.instrument(&CS, TwoPolls { clock: clock.clone(), polls: 0, poll_us: 1 });
            let mut fut = std::pin::pin!(fut);
            assert!(fut.as_mut().poll(&mut Context::from_waker(Waker::noop())).is_pending());
            clock.advance(us(3));
        }
        let t = p.timeline();
        let whole = t.threads[0].events.iter().find(|e| e.kind == SpanKind::Async).unwrap();
        assert!(whole.cancelled);
        assert_eq!(whole.duration_ns, 4_000);
    }

    #[test]
    fn reset_starts_a_new_timeline() {
        let clock = ManualClock::new();
        let p = profiler(&clock, 4);
        std::thread::scope(|s| {
            s.spawn(|| drop(p.scope("exited").unwrap()));
        });
        for _ in 0..6 {
            drop(p.scope("before").unwrap());
        }
        let open = p.scope("spanning").unwrap();
        clock.advance(us(10));
        p.reset();
        clock.advance(us(1));
        drop(p.scope("after").unwrap());
        clock.advance(us(2));
        drop(open);
        let t = p.timeline();
        assert_eq!(t.threads.len(), 1, "the exited thread's timeline is gone");
        // The span open across the reset is cut at the window's start.
        assert_eq!(rows(&t, 0), [("spanning", 0, 3_000, 0, false), ("after", 1_000, 0, 1, false)]);
        assert_eq!(t.threads[0].dropped, 0);
    }

    #[test]
    fn off_by_default_and_snapshots_carry_none() {
        let p = PerformanceProfiler::new();
        drop(p.scope("f").unwrap());
        assert!(p.timeline().threads.is_empty());
        let snap = p.snapshot();
        assert_eq!(snap.timeline, None);
        assert!(!snap.to_json().contains("timeline"));
        assert!(PerformanceProfiler::builder().timeline(super::MAX_CAPACITY + 1).build().is_err());
    }

    #[test]
    fn snapshots_carry_the_timeline_through_json() {
        let clock = ManualClock::new();
        let p = profiler(&clock, 8);
        {
            let _g = p.scope("load").unwrap();
            clock.advance(us(7));
        }
        let snap = p.snapshot();
        let t = snap.timeline.as_ref().unwrap();
        assert_eq!(rows(t, 0), [("load", 0, 7_000, 0, false)]);
        assert_eq!(t.started_unix_ns, snap.started_unix_ns);
        let back = Snapshot::from_json(&snap.to_json()).unwrap();
        assert_eq!(back, snap);
        // Baselines keep the statistics only.
        let baseline = crate::baseline::Baseline::new("main", snap.clone()).unwrap();
        assert_eq!(baseline.snapshot.timeline, None);
        // A file whose timeline names a function it does not have is rejected.
        let mut bad = snap.clone();
        bad.timeline.as_mut().unwrap().threads[0].events[0].function = 5;
        let err = Snapshot::from_json(&bad.to_json()).unwrap_err();
        assert!(err.to_string().contains("timeline.threads[0].events[0]"), "{err}");
    }

    #[test]
    fn since_keeps_the_new_spans_and_merge_combines_threads() {
        let clock = ManualClock::new();
        let p = profiler(&clock, 8);
        drop(p.scope("old").unwrap());
        clock.advance(us(5));
        let earlier = p.snapshot();
        clock.advance(us(1));
        {
            let _g = p.scope("new").unwrap();
            clock.advance(us(2));
        }
        let later = p.snapshot();
        let new = later.since(&earlier).unwrap();
        let t = new.timeline.as_ref().unwrap();
        assert_eq!(t.started_unix_ns, earlier.ended_unix_ns);
        assert_eq!(rows(t, 0), [("new", 1_000, 2_000, 0, false)]);
        // earlier + (later - earlier) has every span of later.
        let mut merged = earlier.clone();
        merged.merge(&new);
        assert_eq!(merged.timeline, later.timeline);
    }

    /// Scopes nested at random: every span at depth d > 0 lies within a span at depth d - 1 of
    /// the same thread, and they are ordered by start.
    #[test]
    fn nesting_is_consistent() {
        fn run(
            p: &PerformanceProfiler,
            clock: &ManualClock,
            rng: &mut crate::testing::Rng,
            depth: u32,
        ) {
            let _g = p.scope(["a", "b", "c"][rng.below(3) as usize]).unwrap();
            clock.advance(Duration::from_nanos(rng.below(100)));
            if depth < 5 {
                for _ in 0..rng.below(3) {
                    run(p, clock, rng, depth + 1);
                }
            }
            clock.advance(Duration::from_nanos(rng.below(100)));
        }
        let clock = ManualClock::new();
        let p = profiler(&clock, 100_000);
        let mut rng = crate::testing::Rng::new(7);
        for _ in 0..50 {
            run(&p, &clock, &mut rng, 0);
        }
        let t = p.timeline();
        let events = &t.threads[0].events;
        assert!(events.len() > 50);
        assert!(events.windows(2).all(|w| w[0].start_ns <= w[1].start_ns));
        for e in events.iter().filter(|e| e.depth > 0) {
            assert!(
                events.iter().any(|p| p.depth + 1 == e.depth
                    && p.start_ns <= e.start_ns
                    && e.end_ns() <= p.end_ns()),
                "{e:?} has no parent"
            );
        }
    }
}
