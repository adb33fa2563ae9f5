//! The tracking allocator: per-scope bytes and counts, self vs. children, process peak.

use perfcore::PerformanceProfiler;
use perfcore::alloc::TrackingAllocator;

#[global_allocator]
static ALLOC: TrackingAllocator<std::alloc::System> = TrackingAllocator::new(std::alloc::System);

#[test]
fn scopes_see_their_own_and_their_childrens_allocations() {
    let p = PerformanceProfiler::new();
    // Warm the thread's recorder so its own first-use allocations are out of the way.
    drop(p.scope("outer").unwrap());
    drop(p.scope("inner").unwrap());
    p.reset();
    {
        let _outer = p.scope("outer").unwrap();
        let a = std::hint::black_box(vec![0u8; 10_000]);
        {
            let _inner = p.scope("inner").unwrap();
            let b = std::hint::black_box(vec![0u8; 3_000]);
            drop(b);
        }
        drop(a);
    }
    let snap = p.snapshot();
    let outer = snap.function("outer").unwrap().allocations.unwrap();
    let inner = snap.function("inner").unwrap().allocations.unwrap();
    assert_eq!(inner.allocated_bytes, 3_000);
    assert_eq!(inner.allocations, 1);
    assert_eq!(inner.freed_bytes, 3_000);
    assert_eq!(outer.allocated_bytes, 13_000);
    assert_eq!(outer.self_allocated_bytes, 10_000);
    assert_eq!(outer.allocations, 2);
    assert_eq!((outer.self_allocations, inner.self_allocations), (1, 1));
    assert_eq!(outer.freed_bytes, 13_000);
}

#[test]
fn profile_function_reports_memory_and_peak() {
    let p = PerformanceProfiler::new();
    let r = p
        .profile_function("build", 10, || {
            let v = vec![1u64; 1 << 17]; // 1 MiB
            std::hint::black_box(&v);
        })
        .unwrap();
    let m = r.memory.unwrap();
    assert!(m.allocated_bytes >= 10 << 20, "{m:?}");
    assert!(m.allocations >= 10);
    assert!(m.peak_bytes >= 1 << 20 && m.peak_bytes < 2 << 20, "{m:?}");
    assert!(m.memory_used_mb() >= 1.0);
    assert!(perfcore::alloc::peak_bytes() >= 1 << 20);
}
