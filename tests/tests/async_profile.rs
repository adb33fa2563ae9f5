//! `#[profile]` on `async fn`: wall and busy time, exact counts across a multi-thread runtime,
//! call trees that follow the task and not the thread, cancellation, errors.

use std::sync::LazyLock;
use std::time::Duration;

use perfcore::{PerformanceProfiler, profile};

static P: LazyLock<PerformanceProfiler> = LazyLock::new(PerformanceProfiler::new);

#[profile(profiler = P, name = "leaf")]
async fn leaf(i: u64) -> u64 {
    if i.is_multiple_of(3) {
        tokio::task::yield_now().await;
    }
    if i.is_multiple_of(5) {
        tokio::time::sleep(Duration::from_millis(1)).await;
    }
    i
}

#[profile(profiler = P, name = "parent")]
async fn parent(i: u64) -> u64 {
    let a = leaf(i).await;
    tokio::task::yield_now().await;
    a + leaf(i + 1).await
}

#[profile(profiler = P, name = "fallible")]
async fn fallible(i: u64) -> Result<u64, String> {
    tokio::task::yield_now().await;
    let n = if i.is_multiple_of(2) { Ok(i) } else { Err(format!("odd {i}")) }?;
    Ok(n)
}

#[profile(profiler = P, name = "forever")]
async fn forever() {
    std::future::pending::<()>().await;
}

#[profile(profiler = P, name = "returns_future")]
fn returns_future(x: u64) -> impl std::future::Future<Output = u64> {
    async move {
        tokio::task::yield_now().await;
        x + 1
    }
}

#[tokio::test]
async fn functions_returning_impl_future_profile_the_future() {
    let fut = returns_future(1); // creating it is not the call
    tokio::task::yield_now().await;
    assert_eq!(fut.await, 2);
    let snap = P.snapshot();
    let f = snap.function("returns_future").unwrap();
    assert_eq!((f.count, f.cancelled), (1, 0));
    assert!(f.busy_ns <= f.total_ns);
}

struct Service {
    calls: u64,
}

impl Service {
    #[profile(profiler = P, name = "Service::handle")]
    async fn handle(&mut self, x: u64) -> u64 {
        self.calls += 1;
        tokio::task::yield_now().await;
        x * 2
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn thousand_tasks_counted_exactly_with_busy_within_wall() {
    let tasks: Vec<_> = (0..1000u64).map(|i| tokio::spawn(parent(i))).collect();
    let mut sum = 0;
    for t in tasks {
        sum += t.await.unwrap();
    }
    assert_eq!(sum, (0..1000u64).map(|i| 2 * i + 1).sum::<u64>());
    let snap = P.snapshot();
    let parent = snap.function("parent").unwrap();
    let leaf = snap.function("leaf").unwrap();
    assert_eq!(parent.count, 1000);
    assert_eq!(leaf.count, 2000);
    for f in [parent, leaf] {
        assert!(f.busy_ns <= f.total_ns, "{}: busy {} > wall {}", f.name, f.busy_ns, f.total_ns);
        assert_eq!(f.cancelled, 0);
    }
    // Every leaf call sits under parent in the call tree, whatever thread polled it.
    let leaf_nodes: Vec<_> =
        snap.call_tree.iter().filter(|n| snap.functions[n.function].name == "leaf").collect();
    assert_eq!(leaf_nodes.iter().map(|n| n.count).sum::<u64>(), 2000);
    for n in leaf_nodes {
        let p = n.parent.map(|p| snap.functions[snap.call_tree[p].function].name.as_str());
        assert_eq!(p, Some("parent"));
    }
    // A leaf that slept 1 ms waited far longer than it ran.
    assert!(leaf.total_ns > leaf.busy_ns);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn err_results_count_as_errors() {
    for i in 0..10 {
        let _ = fallible(i).await;
    }
    let snap = P.snapshot();
    let f = snap.function("fallible").unwrap();
    assert_eq!((f.count, f.errors), (10, 5));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_future_dropped_before_completion_is_cancelled() {
    // Make the profiler (and calibrate its clock) before the timeout's 5 ms start running.
    LazyLock::force(&P);
    let r = tokio::time::timeout(Duration::from_millis(5), forever()).await;
    assert!(r.is_err());
    let never_polled = forever();
    drop(never_polled);
    let snap = P.snapshot();
    let f = snap.function("forever").unwrap();
    assert_eq!((f.count, f.cancelled, f.errors), (1, 1, 0), "polled once, then dropped");
    assert!(f.total_ns >= 4_000_000, "wall time runs until the drop: {}", f.total_ns);
}

#[tokio::test]
async fn async_methods_with_mut_self() {
    let mut s = Service { calls: 0 };
    assert_eq!(s.handle(2).await, 4);
    assert_eq!(s.handle(3).await, 6);
    assert_eq!(s.calls, 2);
    assert_eq!(P.snapshot().function("Service::handle").unwrap().count, 2);
}

static Q: LazyLock<PerformanceProfiler> = LazyLock::new(PerformanceProfiler::new);

#[profile(profiler = Q, name = "sleeper")]
async fn sleeper() {
    tokio::time::sleep(Duration::from_millis(1)).await;
}

#[test]
fn the_thread_stack_is_clean_between_polls() {
    // A suspended future must not be the parent of what runs next on the thread.
    let rt = tokio::runtime::Builder::new_current_thread().enable_all().build().unwrap();
    rt.block_on(async {
        let slow = tokio::spawn(sleeper());
        tokio::task::yield_now().await; // `sleeper` is polled and suspends
        assert_eq!(Q.current_depth(), 0);
        {
            let _g = Q.scope("between_polls").unwrap();
        }
        slow.await.unwrap();
    });
    let snap = Q.snapshot();
    assert_eq!(snap.function("sleeper").unwrap().count, 1);
    let n =
        snap.call_tree.iter().find(|n| snap.functions[n.function].name == "between_polls").unwrap();
    assert_eq!(n.parent, None);
}
