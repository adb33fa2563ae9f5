//! Memory is O(callsites × threads), never O(calls): recording a million more calls of a
//! warmed-up callsite allocates nothing. Alone in its binary, so no other test allocates
//! while it measures the process heap.

use perfcore::PerformanceProfiler;
use perfcore::alloc::TrackingAllocator;

#[global_allocator]
static ALLOC: TrackingAllocator<std::alloc::System> = TrackingAllocator::new(std::alloc::System);

#[test]
fn memory_is_bounded_by_callsites_and_threads_not_calls() {
    use perfcore::testing::ManualClock;
    use std::time::Duration;
    let clock = ManualClock::new();
    let p = PerformanceProfiler::builder().clock(&clock).build().unwrap();
    let run = |calls: u64| {
        for i in 0..calls {
            let _outer = p.scope("outer").unwrap();
            let _g = p.scope("bounded").unwrap();
            // A fixed set of durations: every histogram bucket they need exists after the
            // first round, so later calls may not allocate at all.
            clock.advance(Duration::from_nanos(10 + (i % 7) * 1_000));
        }
    };
    run(10_000);
    let after_warmup = perfcore::alloc::current_bytes();
    run(1_000_000);
    let after_million = perfcore::alloc::current_bytes();
    assert_eq!(after_million, after_warmup, "recording 1M more calls allocated memory");
    assert_eq!(p.snapshot().function("bounded").unwrap().count, 1_010_000);
}
