//! The profiler's reliability: panics, many threads, deep recursion, concurrent snapshots,
//! reset, bad arguments, and the exactness of what it records.

use std::sync::atomic::{AtomicBool, Ordering};
use std::time::Duration;

use perfcore::testing::ManualClock;
use perfcore::{PerformanceProfiler, ProfileError, Snapshot, profile_scope};

fn manual() -> (PerformanceProfiler, ManualClock) {
    let clock = ManualClock::new();
    let p = PerformanceProfiler::builder().clock(&clock).build().unwrap();
    (p, clock)
}

fn node_path(snap: &Snapshot, mut node: usize) -> Vec<String> {
    let mut path = vec![snap.functions[snap.call_tree[node].function].name.clone()];
    while let Some(parent) = snap.call_tree[node].parent {
        path.push(snap.functions[snap.call_tree[parent].function].name.clone());
        node = parent;
    }
    path.reverse();
    path
}

fn paths(snap: &Snapshot) -> Vec<(Vec<String>, u64)> {
    let mut v: Vec<_> =
        (0..snap.call_tree.len()).map(|i| (node_path(snap, i), snap.call_tree[i].count)).collect();
    v.sort();
    v
}

#[test]
fn self_time_excludes_children() {
    let (p, clock) = manual();
    {
        let _outer = p.scope("outer").unwrap();
        clock.advance(Duration::from_nanos(10_000));
        {
            let _inner = p.scope("inner").unwrap();
            clock.advance(Duration::from_nanos(5_000));
        }
        clock.advance(Duration::from_nanos(1_000));
    }
    let snap = p.snapshot();
    let outer = snap.function("outer").unwrap();
    let inner = snap.function("inner").unwrap();
    assert_eq!((outer.total_ns, outer.self_ns), (16_000, 11_000));
    assert_eq!((inner.total_ns, inner.self_ns), (5_000, 5_000));
    assert_eq!(
        paths(&snap),
        vec![(vec!["outer".to_string()], 1), (vec!["outer".into(), "inner".into()], 1)]
    );
}

#[test]
fn panic_records_an_error_and_leaves_the_tree_right() {
    let p = PerformanceProfiler::new();
    let result = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        let _outer = p.scope("outer").unwrap();
        let _boom = p.scope("boom").unwrap();
        panic!("inside a profiled scope");
    }));
    assert!(result.is_err());
    assert_eq!(p.current_depth(), 0, "the unwinding guards popped their frames");
    {
        let _next = p.scope("next").unwrap();
        let _child = p.scope("child").unwrap();
    }
    let snap = p.snapshot();
    assert_eq!(snap.function("boom").unwrap().errors, 1);
    assert_eq!(snap.function("outer").unwrap().errors, 1);
    assert_eq!(snap.function("next").unwrap().errors, 0);
    assert_eq!(
        paths(&snap),
        vec![
            (vec!["next".to_string()], 1),
            (vec!["next".into(), "child".into()], 1),
            (vec!["outer".into()], 1),
            (vec!["outer".into(), "boom".into()], 1),
        ]
    );
}

#[test]
fn ten_thousand_short_lived_threads_lose_no_call() {
    let p = PerformanceProfiler::new();
    // 2 cores: run the threads in waves so the test spends its time in thread churn, not
    // in the scheduler; every thread still exits before the snapshot.
    for _ in 0..100 {
        std::thread::scope(|s| {
            for _ in 0..100 {
                s.spawn(|| {
                    for _ in 0..100 {
                        profile_scope!(&p, "short_lived");
                    }
                });
            }
        });
    }
    let snap = p.snapshot();
    let f = snap.function("short_lived").unwrap();
    assert_eq!(f.count, 1_000_000);
    assert_eq!(f.histogram.len(), 1_000_000);
    assert_eq!(snap.call_tree.iter().map(|n| n.count).sum::<u64>(), 1_000_000);
}

fn recurse(p: &PerformanceProfiler, n: u32) -> u64 {
    profile_scope!(p, "recurse");
    if n == 0 { 0 } else { 1 + recurse(p, n - 1) }
}

#[test]
fn recursion_ten_thousand_deep_counts_every_call_and_folds_only_the_tree() {
    let p = PerformanceProfiler::new();
    let depth = std::thread::Builder::new()
        .stack_size(256 << 20)
        .spawn({
            let p = p.clone();
            move || recurse(&p, 9_999)
        })
        .unwrap()
        .join()
        .unwrap();
    assert_eq!(depth, 9_999);
    let snap = p.snapshot();
    let f = snap.function("recurse").unwrap();
    // Every call counts (cProfile's ncalls); only the call tree stops at the depth limit.
    assert_eq!(f.count, 10_000);
    assert_eq!(f.folded_calls, 10_000 - p.max_depth() as u64);
    assert_eq!(snap.call_tree.len(), p.max_depth() + 1, "the depth limit plus one collapsed level");
    assert_eq!(snap.call_tree.iter().map(|n| n.count).sum::<u64>(), 10_000);
    // The outermost call holds every other: the function's total is that call's time alone.
    let outer = snap.call_tree.iter().find(|n| n.parent.is_none()).unwrap();
    assert_eq!(f.total_ns, outer.total_ns);
    assert!(f.self_ns <= f.total_ns);
}

/// `rec(n)` recurses `n` levels; each level spends 1 µs of its own.
fn rec(p: &PerformanceProfiler, clock: &perfcore::testing::ManualClock, n: u32) {
    profile_scope!(p, "rec");
    clock.advance(std::time::Duration::from_micros(1));
    if n > 0 {
        rec(p, clock, n - 1);
    }
}

#[test]
fn recursive_total_counts_outermost_calls_only_as_cprofile_does() {
    let clock = perfcore::testing::ManualClock::new();
    let p = PerformanceProfiler::builder().clock(&clock).build().unwrap();
    // 100 calls, 36 of them beyond the default depth of 64.
    rec(&p, &clock, 99);
    rec(&p, &clock, 9);
    let snap = p.snapshot();
    let f = snap.function("rec").unwrap();
    assert_eq!(f.count, 110);
    assert_eq!(f.folded_calls, 36);
    // Two outermost calls of 100 µs and 10 µs: not the sum over every level.
    assert_eq!(f.total_ns, 110_000);
    assert_eq!(f.self_ns, 110_000);
    // The call tree keeps each level's own time: the root path holds both outermost calls.
    let root = snap.call_tree.iter().find(|n| n.parent.is_none()).unwrap();
    assert_eq!((root.count, root.total_ns), (2, 110_000));
    // The collapsed level below the limit holds the 36 deepest calls as one path whose
    // time is the outermost of them (36 µs), not the sum over their levels.
    let deepest = snap.call_tree.last().unwrap();
    assert_eq!((deepest.count, deepest.total_ns, deepest.self_ns), (36, 36_000, 36_000));
}

/// Mutual recursion beyond the depth limit: both functions count every call, and each
/// one's total is its outermost calls' time.
#[test]
fn mutual_recursion_beyond_the_depth_limit_counts_outermost_time() {
    fn ping(p: &PerformanceProfiler, clock: &perfcore::testing::ManualClock, n: u32) {
        profile_scope!(p, "ping");
        clock.advance(std::time::Duration::from_micros(1));
        if n > 0 {
            pong(p, clock, n - 1);
        }
    }
    fn pong(p: &PerformanceProfiler, clock: &perfcore::testing::ManualClock, n: u32) {
        profile_scope!(p, "pong");
        clock.advance(std::time::Duration::from_micros(1));
        if n > 0 {
            ping(p, clock, n - 1);
        }
    }
    let clock = perfcore::testing::ManualClock::new();
    let p = PerformanceProfiler::builder().clock(&clock).max_depth(8).build().unwrap();
    ping(&p, &clock, 199); // ping, pong, ping, ... 200 calls, 200 µs
    let snap = p.snapshot();
    let (ping, pong) = (snap.function("ping").unwrap(), snap.function("pong").unwrap());
    assert_eq!((ping.count, pong.count), (100, 100));
    assert_eq!(ping.total_ns, 200_000);
    assert_eq!(pong.total_ns, 199_000);
    assert_eq!(ping.self_ns + pong.self_ns, 200_000);
    assert!(snap.call_tree.len() <= 8 + 2);
}

#[test]
fn snapshots_during_recording_never_go_down_and_end_exact() {
    let p = PerformanceProfiler::new();
    let done = AtomicBool::new(false);
    const PER_THREAD: u64 = 300_000;
    let counts = std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                for _ in 0..PER_THREAD {
                    profile_scope!(&p, "hot");
                }
            });
        }
        let (p, done) = (&p, &done);
        let watcher = s.spawn(move || {
            let mut seen = Vec::new();
            while !done.load(Ordering::Relaxed) {
                let snap = p.snapshot();
                let f = snap.function("hot");
                seen.push((f.map_or(0, |f| f.count), f.map_or(0, |f| f.total_ns)));
            }
            seen
        });
        std::thread::sleep(Duration::from_millis(1));
        while p.snapshot().function("hot").map_or(0, |f| f.count) < 2 * PER_THREAD {
            std::thread::yield_now();
        }
        done.store(true, Ordering::Relaxed);
        watcher.join().unwrap()
    });
    assert!(counts.len() > 1, "the watcher took snapshots");
    for w in counts.windows(2) {
        assert!(w[1].0 >= w[0].0 && w[1].1 >= w[0].1, "went down: {:?} -> {:?}", w[0], w[1]);
    }
    assert_eq!(p.snapshot().function("hot").unwrap().count, 2 * PER_THREAD);
}

#[test]
fn reset_keeps_calls_in_flight_and_drops_the_rest() {
    let (p, clock) = manual();
    let spanning = p.scope("spanning").unwrap();
    clock.advance(Duration::from_nanos(100));
    {
        let _g = p.scope("before").unwrap();
    }
    std::thread::scope(|s| {
        s.spawn(|| {
            let _g = p.scope("exited_before").unwrap();
        });
    });
    p.reset();
    clock.advance(Duration::from_nanos(50));
    drop(spanning);
    {
        let _g = p.scope("after").unwrap();
    }
    let snap = p.snapshot();
    assert_eq!(snap.function("spanning").unwrap().total_ns, 150);
    assert_eq!(snap.function("after").unwrap().count, 1);
    for gone in ["before", "exited_before"] {
        assert!(snap.function(gone).is_none_or(|f| f.count == 0), "{gone} survived the reset");
    }
}

#[test]
fn disabled_records_nothing_and_reenables() {
    let p = PerformanceProfiler::new();
    p.set_enabled(false);
    for _ in 0..10 {
        profile_scope!(&p, "off");
    }
    assert!(!p.scope("off_too").unwrap().is_recording());
    p.set_enabled(true);
    {
        profile_scope!(&p, "on");
    }
    let snap = p.snapshot();
    assert!(snap.function("off").is_none());
    assert!(snap.function("off_too").is_none());
    assert_eq!(snap.function("on").unwrap().count, 1);
}

#[test]
fn guards_dropped_out_of_order_or_leaked_do_not_corrupt_the_stack() {
    let p = PerformanceProfiler::new();
    let a = p.scope("a").unwrap();
    let b = p.scope("b").unwrap();
    drop(a); // out of order: b's frame is discarded with a's
    drop(b);
    assert_eq!(p.current_depth(), 0);
    let outer = p.scope("outer").unwrap();
    std::mem::forget(p.scope("leaked").unwrap());
    drop(outer);
    assert_eq!(p.current_depth(), 0);
    {
        let _x = p.scope("x").unwrap();
        let _y = p.scope("y").unwrap();
    }
    let snap = p.snapshot();
    let xy = paths(&snap);
    assert!(xy.contains(&(vec!["x".into(), "y".into()], 1)), "{xy:?}");
    assert_eq!(snap.function("a").unwrap().count, 1);
    assert_eq!(snap.function("outer").unwrap().count, 1);
}

#[test]
fn bad_arguments_give_typed_errors() {
    let p = PerformanceProfiler::new();
    assert!(matches!(p.scope(""), Err(ProfileError::EmptyName { .. })));
    assert!(matches!(p.profile_function("f", 0, || ()), Err(ProfileError::ZeroIterations)));
    assert!(matches!(p.profile_function("", 1, || ()), Err(ProfileError::EmptyName { .. })));
    let nan = perfcore::ProfileOptions::new(10).warmup_fraction(f64::NAN);
    assert!(matches!(nan, Err(ProfileError::NonFinite { setting: "warmup_fraction", .. })));
    let big = perfcore::ProfileOptions::new(10).warmup_fraction(1.5);
    assert!(matches!(big, Err(ProfileError::OutOfRange { .. })));
    assert!(matches!(
        PerformanceProfiler::builder().max_depth(0).build(),
        Err(ProfileError::OutOfRange { setting: "max_depth", .. })
    ));
    {
        let _g = p.scope("q").unwrap();
    }
    let snap = p.snapshot();
    let f = snap.function("q").unwrap();
    assert!(matches!(f.quantile(f64::INFINITY), Err(ProfileError::NonFinite { .. })));
    assert!(matches!(f.quantile(-0.1), Err(ProfileError::OutOfRange { .. })));
    let msg = f.quantile(f64::NAN).unwrap_err().to_string();
    assert_eq!(msg, "setting `quantile` must be a finite number, got NaN");
}

#[test]
fn profile_function_measures_the_closure() {
    let (p, clock) = manual();
    let mut calls = 0u64;
    let r = p
        .profile_function("step", 20, || {
            calls += 1;
            clock.advance(Duration::from_nanos(calls * 10));
        })
        .unwrap();
    assert_eq!(r.iterations, 20);
    assert_eq!(r.warmup_iterations, 2);
    assert_eq!(calls, 22);
    // Measured runs are calls 3..=22, taking 30..=220 ns.
    assert_eq!((r.min_ns, r.max_ns), (30, 220));
    assert_eq!(r.total_ns, (3..=22).map(|c| c * 10).sum::<u64>());
    assert_eq!(p.snapshot().function("step").unwrap().count, 20);
    assert!(r.memory.is_none(), "no tracking allocator in this test binary");
}

#[test]
fn durations_beyond_an_hour_are_clamped_and_counted() {
    let (p, clock) = manual();
    {
        let _g = p.scope("slow").unwrap();
        clock.advance(Duration::from_secs(2 * 3600));
    }
    let snap = p.snapshot();
    let f = snap.function("slow").unwrap();
    assert_eq!(f.clamped, 1);
    assert_eq!(f.count, 1);
    assert_eq!(f.max_ns, 7_200_000_000_000, "max stays exact");
    assert_eq!(f.total_ns, 7_200_000_000_000);
}

#[test]
fn threads_of_several_profilers_stay_apart() {
    let (a, b) = (PerformanceProfiler::new(), PerformanceProfiler::new());
    std::thread::scope(|s| {
        s.spawn(|| {
            let _x = a.scope("shared_name").unwrap();
            let _y = b.scope("shared_name").unwrap();
            let _z = a.scope("only_a").unwrap();
        });
    });
    let (sa, sb) = (a.snapshot(), b.snapshot());
    assert_eq!(sa.function("shared_name").unwrap().count, 1);
    assert_eq!(sb.function("shared_name").unwrap().count, 1);
    assert!(sb.function("only_a").is_none());
    // Each profiler keeps its own stack: only_a's parent is a's shared_name.
    assert!(paths(&sa).contains(&(vec!["shared_name".into(), "only_a".into()], 1)));
}

/// A call's histogram bucket is written one call late (the deferred bucket in
/// `profiler/shared.rs`); snapshots still see every call exactly once: the newest call of
/// each thread, the calls of exited threads, and none twice.
#[test]
fn newest_call_is_in_the_histogram_exactly_once() {
    let (p, clock) = manual();
    let timed = |ns: u64| {
        let _g = p.scope("deferred").unwrap();
        clock.advance(Duration::from_nanos(ns));
    };
    timed(700);
    let f = p.snapshot().function("deferred").unwrap().clone();
    assert_eq!((f.count, f.histogram.len()), (1, 1));
    assert_eq!(f.quantile(0.5).unwrap(), Duration::from_nanos(700));
    timed(900);
    let f = p.snapshot().function("deferred").unwrap().clone();
    assert_eq!((f.count, f.histogram.len()), (2, 2));
    assert_eq!((f.min_ns, f.max_ns), (700, 900));
    std::thread::scope(|s| {
        s.spawn(|| timed(1_100));
    });
    let f = p.snapshot().function("deferred").unwrap().clone();
    assert_eq!((f.count, f.histogram.len()), (3, 3), "an exited thread's last call counts");
    assert_eq!(f.quantile(1.0).unwrap(), Duration::from_nanos(1_100));
    p.reset();
    assert_eq!(p.snapshot().function("deferred").map_or(0, |f| f.histogram.len()), 0);
    timed(300);
    let f = p.snapshot().function("deferred").unwrap().clone();
    assert_eq!(
        (f.count, f.histogram.len(), f.min_ns),
        (1, 1, 300),
        "no call from before the reset"
    );
}

#[test]
fn raw_call_times_nests_and_survives_a_panic() {
    use perfcore::__private::{Outcome, call};
    static OUTER: perfcore::Callsite = perfcore::Callsite::new("outer", "", "", 0);
    static INNER: perfcore::Callsite = perfcore::Callsite::new("inner", "", "", 0);
    let (p, clock) = manual();
    let r = call(&p, &OUTER, || {
        clock.advance(Duration::from_nanos(1_000));
        let v = call(&p, &INNER, || {
            clock.advance(Duration::from_nanos(300));
            (7, Outcome::Failed)
        });
        (v + 1, Outcome::Ok)
    });
    assert_eq!(r, 8);
    let panicked = std::panic::catch_unwind(std::panic::AssertUnwindSafe(|| {
        call(&p, &INNER, || -> ((), Outcome) { panic!("inside raw::call") })
    }));
    assert!(panicked.is_err());
    assert_eq!(p.current_depth(), 0, "the panicking call's frame was closed");
    p.set_enabled(false);
    assert_eq!(call(&p, &OUTER, || (1, Outcome::Ok)), 1, "disabled: runs, records nothing");
    let snap = p.snapshot();
    let (outer, inner) = (snap.function("outer").unwrap(), snap.function("inner").unwrap());
    assert_eq!((outer.count, outer.errors, outer.total_ns, outer.self_ns), (1, 0, 1_300, 1_000));
    assert_eq!((inner.count, inner.errors), (2, 2), "a failed outcome and a panic");
    assert_eq!(
        paths(&snap),
        vec![
            (vec!["inner".to_string()], 1),
            (vec!["outer".into()], 1),
            (vec!["outer".into(), "inner".into()], 1)
        ]
    );
}

/// Every snapshot is internally consistent while threads record: no function or call path
/// shows more errors (or cancelled, clamped, folded calls) than calls, the call tree's counts
/// add up to each function's, and the histogram holds exactly `count` calls.
#[test]
fn snapshots_taken_while_recording_are_internally_consistent() {
    let p = PerformanceProfiler::builder().max_depth(2).build().unwrap();
    let done = AtomicBool::new(false);
    std::thread::scope(|s| {
        for _ in 0..2 {
            s.spawn(|| {
                let mut i = 0u64;
                while !done.load(Ordering::Relaxed) {
                    i += 1;
                    let a = p.scope("fails_a").unwrap();
                    a.mark_failed();
                    {
                        let b = p.scope("fails_b").unwrap();
                        b.mark_failed();
                        // Beyond the depth limit: counted as folded.
                        let c = p.scope("deep").unwrap();
                        if i.is_multiple_of(2) {
                            c.mark_failed();
                        }
                    }
                }
            });
        }
        // Stops the recorders however this thread leaves the scope (a failed assertion too).
        struct Stop<'a>(&'a AtomicBool);
        impl Drop for Stop<'_> {
            fn drop(&mut self) {
                self.0.store(true, Ordering::Relaxed);
            }
        }
        let _stop = Stop(&done);
        for _ in 0..3_000 {
            let snap = p.snapshot();
            for (i, f) in snap.functions.iter().enumerate() {
                assert!(
                    f.errors <= f.count,
                    "{}: {} errors in {} calls",
                    f.name,
                    f.errors,
                    f.count
                );
                assert!(f.folded_calls <= f.count && f.cancelled <= f.count, "{f:?}");
                assert_eq!(f.histogram.len(), f.count);
                let paths = snap.call_tree.iter().filter(|n| n.function == i);
                assert_eq!(paths.map(|n| n.count).sum::<u64>(), f.count, "{}", f.name);
            }
            for n in &snap.call_tree {
                assert!(n.errors <= n.count, "path with {} errors in {} calls", n.errors, n.count);
            }
        }
    });
}
