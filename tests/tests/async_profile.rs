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

#[profile(profiler = P, name = "future_result")]
fn future_result(fail: bool) -> impl std::future::Future<Output = Result<u8, String>> {
    async move { if fail { Err("no".to_owned()) } else { Ok(1) } }
}

#[profile(profiler = P, name = "async_result_impl_trait")]
async fn async_result_impl_trait(fail: bool) -> Result<impl Iterator<Item = u8>, String> {
    tokio::task::yield_now().await;
    if fail {
        return Err("no".into());
    }
    Ok([1, 2].into_iter())
}

#[tokio::test]
async fn err_counts_for_impl_future_of_result_and_result_of_impl_trait() {
    assert_eq!(future_result(false).await, Ok(1));
    assert!(future_result(true).await.is_err());
    assert_eq!(async_result_impl_trait(false).await.unwrap().sum::<u8>(), 3);
    assert!(async_result_impl_trait(true).await.is_err());
    let snap = P.snapshot();
    for name in ["future_result", "async_result_impl_trait"] {
        let f = snap.function(name).unwrap();
        assert_eq!((f.count, f.errors), (2, 1), "{name}");
    }
}

async fn small_plain() -> u8 {
    1
}

#[profile(profiler = P, name = "small")]
async fn small() -> u8 {
    1
}

#[allow(clippy::large_types_passed_by_value)] // the size of the argument is the point
async fn large_plain(buf: [u8; 1024]) -> u8 {
    let first = buf[0];
    tokio::task::yield_now().await;
    first
}

#[allow(clippy::large_types_passed_by_value)]
#[profile(profiler = P, name = "large")]
async fn large(buf: [u8; 1024]) -> u8 {
    let first = buf[0];
    tokio::task::yield_now().await;
    first
}

// rustc's own `async fn` stores an argument twice when it lives across an `.await` (the
// captured one, and the `let` that moves it into the body); the instrumented future is no
// larger than that plus the constant.
#[allow(clippy::large_types_passed_by_value)]
async fn held_plain(buf: [u8; 1024]) -> u8 {
    tokio::task::yield_now().await;
    buf[0]
}

#[allow(clippy::large_types_passed_by_value)]
#[profile(profiler = P, name = "held")]
async fn held(buf: [u8; 1024]) -> u8 {
    tokio::task::yield_now().await;
    buf[0]
}

/// What `Instrumented` adds to a future: a profiler and a callsite reference, the first poll's
/// clock reading, busy and child time, a byte of flags (41 bytes, padded; the error check is
/// zero-sized).
const INSTRUMENTED_OVERHEAD: usize = 48;

#[tokio::test]
async fn an_instrumented_future_is_its_body_plus_a_fixed_overhead() {
    let sizes = [
        (size_of_val(&small_plain()), size_of_val(&small())),
        (size_of_val(&large_plain([7; 1024])), size_of_val(&large([7; 1024]))),
        (size_of_val(&held_plain([7; 1024])), size_of_val(&held([7; 1024]))),
    ];
    println!("future sizes, plain -> instrumented: {sizes:?}");
    for (plain, profiled) in sizes {
        assert!(profiled <= plain + INSTRUMENTED_OVERHEAD, "{plain} -> {profiled}");
    }
    // The argument is stored once: in the block, not also in an `async fn` around it.
    assert!(sizes[1].1 < 1229, "{} bytes", sizes[1].1);
    assert_eq!((small().await, large([7; 1024]).await, held([7; 1024]).await), (1, 7, 7));
}

/// Records the order in which values drop.
struct Noisy(&'static str, std::sync::Arc<std::sync::Mutex<Vec<&'static str>>>);

impl Drop for Noisy {
    fn drop(&mut self) {
        self.1.lock().unwrap().push(self.0);
    }
}

#[allow(clippy::needless_pass_by_value)] // dropping the arguments is the point
async fn drops_plain(_a: Noisy, (_b, _): (Noisy, Noisy), _: Noisy, mut e: Noisy) {
    let _local = Noisy("local", e.1.clone());
    tokio::task::yield_now().await;
    e.0 = "e";
}

#[allow(clippy::needless_pass_by_value)]
#[profile(profiler = P, name = "drops_profiled")]
async fn drops_profiled(_a: Noisy, (_b, _): (Noisy, Noisy), _: Noisy, mut e: Noisy) {
    let _local = Noisy("local", e.1.clone());
    tokio::task::yield_now().await;
    e.0 = "e";
}

#[tokio::test]
async fn async_parameters_drop_as_without_the_attribute() {
    type Log = std::sync::Arc<std::sync::Mutex<Vec<&'static str>>>;
    let args = |log: &Log| {
        let n = |s| Noisy(s, log.clone());
        (n("a"), (n("b"), n("c")), n("d"), n("e0"))
    };
    let log = Log::default();
    let (a, b, d, e) = args(&log);
    drops_plain(a, b, d, e).await;
    let plain = std::mem::take(&mut *log.lock().unwrap());
    let (a, b, d, e) = args(&log);
    drops_profiled(a, b, d, e).await;
    assert_eq!(*log.lock().unwrap(), plain);
}

trait Store {
    async fn load(&self, key: &str) -> Result<String, String>;
}

struct Memory {
    prefix: String,
}

impl Store for Memory {
    #[profile(profiler = P, name = "Memory::load")]
    async fn load(&self, key: &str) -> Result<String, String> {
        tokio::task::yield_now().await;
        if key.is_empty() { Err("empty".into()) } else { Ok(format!("{}{key}", self.prefix)) }
    }
}

impl Memory {
    #[profile(profiler = P, name = "Memory::into_prefix")]
    async fn into_prefix(self) -> String {
        tokio::task::yield_now().await;
        self.prefix
    }

    #[profile(profiler = P, name = "Memory::pick")]
    async fn pick<'a>(&self, a: &'a str, b: impl AsRef<str>, _: u8) -> &'a str {
        tokio::task::yield_now().await;
        if b.as_ref() == self.prefix { a } else { "" }
    }
}

#[tokio::test]
async fn async_trait_methods_receivers_and_lifetimes() {
    let m = Memory { prefix: "p:".into() };
    assert_eq!(m.load("k").await.as_deref(), Ok("p:k"));
    assert!(m.load("").await.is_err());
    assert_eq!(m.pick("a", "p:", 0).await, "a");
    assert_eq!(m.into_prefix().await, "p:");
    let snap = P.snapshot();
    let load = snap.function("Memory::load").unwrap();
    assert_eq!((load.count, load.errors), (2, 1));
    assert_eq!(snap.function("Memory::pick").unwrap().count, 1);
    assert_eq!(snap.function("Memory::into_prefix").unwrap().count, 1);
}
