//! An allocator that calls profiled code: perfcore's own work (making the global profiler,
//! registering callsites, making call paths, snapshots, resets) allocates through it, and a
//! scope opened there must record nothing rather than wait for a lock its own thread holds.
//! Alone in its binary: the allocator is the process's.

use std::alloc::{GlobalAlloc, Layout, System};
use std::time::Duration;

/// What the allocator calls on every allocation: profiled, as a user's bookkeeping might be.
#[perfcore::profile]
fn note_allocation(size: usize) -> usize {
    std::hint::black_box(size)
}

struct Noting;

// SAFETY: forwards to the system allocator; `note_allocation` does not touch the memory.
unsafe impl GlobalAlloc for Noting {
    unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
        note_allocation(layout.size());
        // SAFETY: the caller's contract, passed on.
        unsafe { System.alloc(layout) }
    }

    unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
        // SAFETY: the caller's contract, passed on.
        unsafe { System.dealloc(ptr, layout) }
    }
}

#[global_allocator]
static ALLOCATOR: Noting = Noting;

#[test]
fn an_allocator_that_calls_profiled_code_never_waits_for_perfcore() {
    let (done, finished) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        let p = perfcore::global();
        for i in 0..1_000 {
            let _g = p.scope(&format!("work_{}", i % 50)).unwrap();
            perfcore::profile_scope!("static_scope");
        }
        let snap = p.snapshot();
        p.reset();
        let after = p.snapshot();
        let _ = p.heap_bytes();
        let _ = done.send((
            snap.function("work_1").map(|f| f.count),
            snap.function("static_scope").map(|f| f.count),
            after.function("work_1").map_or(0, |f| f.count),
        ));
    });
    let (work, inner, after_reset) =
        finished.recv_timeout(Duration::from_secs(60)).expect("perfcore waited for itself");
    assert_eq!(work, Some(20));
    assert_eq!(inner, Some(1_000));
    assert_eq!(after_reset, 0);
    // The allocator's own profiled calls were recorded too, where perfcore was not busy.
    let noted = perfcore::global().snapshot();
    assert!(noted.functions.iter().any(|f| f.name.ends_with("note_allocation") && f.count > 0));
}
