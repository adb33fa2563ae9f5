//! Cost of one enter+exit of an EMPTY profiling scope: perfcore and its peers, measured in the
//! same run, on 1 thread and on 2 threads recording at once.
//!
//! Groups (ids `scope/1thread/<variant>`, `scope/2threads/<variant>`, `scope/disabled/<variant>`):
//! - `perfcore_macro`: `perfcore::profile_scope!("..")` on the global profiler (static callsite);
//!   `perfcore_macro_instance`: `profile_scope!(&profiler, "..")` on an independent
//!   `PerformanceProfiler` (static callsite); `perfcore_guard`: `profiler.scope("..")` on an
//!   independent profiler (name looked up at run time).
//! - `tracing`: `info_span!(..).entered()` on a registry with a no-op layer, installed as the
//!   global default (so on 2 threads both share one registry, as in an application);
//!   `tracing_instrument`: a call of an empty `#[tracing::instrument]` fn.
//! - `puffin_nested`: a scope inside an open frame scope; `puffin_outermost`: every scope is the
//!   outermost one, so each close reports to puffin's global profiler (a global mutex).
//! - `fastrace`: `LocalSpan::enter_with_local_parent` under a root span, reporter set; the
//!   collector thread's own work per span is not in the figure (see `common`).
//! - `tracy`: `tracy_client::span!`, client connected to a discard sink.
//! - `firestorm`: `profile_section!`, with `enable_system_time`.
//! - `floor_two_instant` / `floor_two_tsc`: two `Instant::now()` / two raw TSC reads
//!   (`quanta::Clock::raw`), the difference added to a thread-local sum.
//!
//! `scope/2threads` reports the mean per-thread time while both threads run scopes at once.
//! `scope/disabled` is perfcore after `set_enabled(false)`.
//!
//! Run: `cargo bench -p perfcore-benches --bench overhead` (add `-- --quick` for a fast look).

mod common;

use std::cell::Cell;
use std::hint::black_box;
use std::time::{Duration, Instant};

use criterion::{
    BenchmarkGroup, Criterion, criterion_group, criterion_main, measurement::WallTime,
};
use perfcore::PerformanceProfiler;

use common::{in_chunks, two_threads};

#[derive(Clone, Copy, PartialEq, Eq)]
enum Threads {
    One,
    Two,
}

impl Threads {
    fn group(self) -> &'static str {
        match self {
            Threads::One => "scope/1thread",
            Threads::Two => "scope/2threads",
        }
    }
}

/// Benches `run` as `id` in `group`, on 1 thread or on 2 threads at once. Returns whether the
/// bench was run (criterion may filter it out), so checks after it only run when it did.
fn bench(
    group: &mut BenchmarkGroup<'_, WallTime>,
    threads: Threads,
    id: &str,
    run: &(dyn Fn(u64) -> Duration + Sync),
) -> bool {
    let ran = Cell::new(false);
    group.bench_function(id, |b| {
        ran.set(true);
        match threads {
            Threads::One => b.iter_custom(run),
            Threads::Two => b.iter_custom(|iters| two_threads(iters, run)),
        }
    });
    ran.get()
}

// ---------------------------------------------------------------------------------------------
// perfcore

/// A run function for `profile_scope!($name)` on the global profiler. A macro, because every
/// `profile_scope!` site is its own static callsite and takes a literal name.
macro_rules! perfcore_macro_run {
    ($name:literal) => {
        |iters: u64| -> Duration {
            let start = Instant::now();
            for i in 0..iters {
                perfcore::profile_scope!($name);
                black_box(i);
            }
            start.elapsed()
        }
    };
}

const PERFCORE_INSTANCE_SCOPE: &str = "bench_perfcore_macro_instance";

fn perfcore_macro_instance_run(profiler: &PerformanceProfiler, iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        perfcore::profile_scope!(profiler, "bench_perfcore_macro_instance");
        black_box(i);
    }
    start.elapsed()
}

const PERFCORE_GUARD_SCOPE: &str = "bench_perfcore_guard";

fn perfcore_guard_run(profiler: &PerformanceProfiler, iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        let _guard = profiler.scope(PERFCORE_GUARD_SCOPE).expect("non-empty name");
        black_box(i);
    }
    start.elapsed()
}

fn bench_perfcore(group: &mut BenchmarkGroup<'_, WallTime>, threads: Threads) {
    let (macro_name, macro_run): (&str, &(dyn Fn(u64) -> Duration + Sync)) = match threads {
        Threads::One => {
            ("bench_perfcore_macro_1thread", &perfcore_macro_run!("bench_perfcore_macro_1thread"))
        }
        Threads::Two => {
            ("bench_perfcore_macro_2threads", &perfcore_macro_run!("bench_perfcore_macro_2threads"))
        }
    };
    if bench(group, threads, "perfcore_macro", macro_run) {
        common::assert_perfcore_recorded(perfcore::global(), macro_name);
    }

    if threads == Threads::One {
        if bench(group, threads, "perfcore_attribute", &perfcore_attribute_run) {
            common::assert_perfcore_recorded(perfcore::global(), "bench_profile_attribute");
        }
        if bench(group, threads, "perfcore_attribute_by_hand", &perfcore_by_hand_run) {
            common::assert_perfcore_recorded(perfcore::global(), "bench_profile_by_hand");
        }
    }

    let profiler = PerformanceProfiler::new();
    if bench(group, threads, "perfcore_macro_instance", &|iters| {
        perfcore_macro_instance_run(&profiler, iters)
    }) {
        common::assert_perfcore_recorded(&profiler, PERFCORE_INSTANCE_SCOPE);
    }

    let profiler = PerformanceProfiler::new();
    if bench(group, threads, "perfcore_guard", &|iters| perfcore_guard_run(&profiler, iters)) {
        common::assert_perfcore_recorded(&profiler, PERFCORE_GUARD_SCOPE);
    }
}

/// `#[profile]` on an empty function, against the same scope written by hand (both out of
/// line, so both pay the same call).
#[inline(never)]
#[perfcore::profile(name = "bench_profile_attribute")]
fn profiled_empty() {
    black_box(());
}

fn perfcore_attribute_run(iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        profiled_empty();
        black_box(i);
    }
    start.elapsed()
}

#[inline(never)]
fn hand_guarded_empty() {
    perfcore::profile_scope!("bench_profile_by_hand");
    black_box(());
}

fn perfcore_by_hand_run(iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        hand_guarded_empty();
        black_box(i);
    }
    start.elapsed()
}

// ---------------------------------------------------------------------------------------------
// tracing

fn tracing_run(iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        let _span = tracing::info_span!("bench_tracing").entered();
        black_box(i);
    }
    start.elapsed()
}

#[tracing::instrument]
fn instrumented_empty() {
    black_box(());
}

fn tracing_instrument_run(iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        instrumented_empty();
        black_box(i);
    }
    start.elapsed()
}

// ---------------------------------------------------------------------------------------------
// puffin

/// Inner scopes inside an open frame scope; the frame scope's open/close and `new_frame` run
/// between chunks, untimed (that cost is what `puffin_outermost` shows).
fn puffin_nested_run(iters: u64) -> Duration {
    in_chunks(iters, |n| {
        let elapsed = {
            puffin::profile_scope!("bench_puffin_frame");
            let start = Instant::now();
            for i in 0..n {
                puffin::profile_scope!("bench_puffin_nested");
                black_box(i);
            }
            start.elapsed()
        };
        puffin::GlobalProfiler::lock().new_frame();
        elapsed
    })
}

/// Every scope is the thread's outermost: each close reports the thread's stream to the global
/// profiler. `new_frame` runs between chunks, untimed.
fn puffin_outermost_run(iters: u64) -> Duration {
    in_chunks(iters, |n| {
        let start = Instant::now();
        for i in 0..n {
            puffin::profile_scope!("bench_puffin_outermost");
            black_box(i);
        }
        let elapsed = start.elapsed();
        puffin::GlobalProfiler::lock().new_frame();
        elapsed
    })
}

// ---------------------------------------------------------------------------------------------
// fastrace

/// Local spans under a root span set as local parent; a new root per chunk (fastrace keeps at
/// most 10,240 spans per local span line). Handing the chunk to the collector, and the
/// back-pressure flush (see [`common::fastrace_backpressure`]), are untimed.
fn fastrace_run(iters: u64) -> Duration {
    use fastrace::prelude::{LocalSpan, Span, SpanContext};
    in_chunks(iters, |n| {
        let root = Span::root("bench_fastrace_root", SpanContext::random());
        let elapsed = {
            let _parent = root.set_local_parent();
            let start = Instant::now();
            for i in 0..n {
                let _span = LocalSpan::enter_with_local_parent("bench_fastrace");
                black_box(i);
            }
            start.elapsed()
        };
        drop(root);
        common::fastrace_backpressure(n);
        elapsed
    })
}

#[inline(never)]
#[fastrace::trace(name = "bench_fastrace_trace")]
fn fastrace_traced_empty() {
    black_box(());
}

/// `#[fastrace::trace]` on an empty function, set up as [`fastrace_run`].
fn fastrace_trace_run(iters: u64) -> Duration {
    use fastrace::prelude::{Span, SpanContext};
    in_chunks(iters, |n| {
        let root = Span::root("bench_fastrace_trace_root", SpanContext::random());
        let elapsed = {
            let _parent = root.set_local_parent();
            let start = Instant::now();
            for i in 0..n {
                fastrace_traced_empty();
                black_box(i);
            }
            start.elapsed()
        };
        drop(root);
        common::fastrace_backpressure(n);
        elapsed
    })
}

// ---------------------------------------------------------------------------------------------
// tracy

fn tracy_run(iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        let _span = tracy_client::span!("bench_tracy");
        black_box(i);
    }
    start.elapsed()
}

// ---------------------------------------------------------------------------------------------
// firestorm

/// firestorm appends two events per scope to a thread-local Vec that only `clear()` empties;
/// it is cleared between chunks, untimed.
fn firestorm_run(iters: u64) -> Duration {
    // Only the enabled firestorm has `internal::EventData`: this fails to compile if the
    // `enable_system_time` feature (and so real recording) were lost.
    let _: Option<firestorm::internal::EventData> = None;
    in_chunks(iters, |n| {
        let start = Instant::now();
        for i in 0..n {
            firestorm::profile_section!(bench_firestorm);
            black_box(i);
        }
        let elapsed = start.elapsed();
        firestorm::clear();
        elapsed
    })
}

// ---------------------------------------------------------------------------------------------
// floors

fn floor_two_instant_run(iters: u64) -> Duration {
    let start = Instant::now();
    for i in 0..iters {
        let t0 = Instant::now();
        black_box(i);
        let t1 = Instant::now();
        common::floor_add((t1 - t0).as_nanos() as u64);
    }
    start.elapsed()
}

fn floor_two_tsc_run(iters: u64) -> Duration {
    let clock = common::quanta_clock();
    let start = Instant::now();
    for i in 0..iters {
        let t0 = clock.raw();
        black_box(i);
        let t1 = clock.raw();
        common::floor_add(t1.wrapping_sub(t0));
    }
    start.elapsed()
}

// ---------------------------------------------------------------------------------------------

fn bench_scopes(c: &mut Criterion, threads: Threads) {
    let mut group = c.benchmark_group(threads.group());

    bench_perfcore(&mut group, threads);

    common::init_tracing();
    bench(&mut group, threads, "tracing", &tracing_run);
    bench(&mut group, threads, "tracing_instrument", &tracing_instrument_run);

    common::init_puffin();
    let frames_before = common::puffin_frames();
    if bench(&mut group, threads, "puffin_nested", &puffin_nested_run) {
        assert!(common::puffin_frames() > frames_before, "puffin produced no frames");
    }
    let frames_before = common::puffin_frames();
    if bench(&mut group, threads, "puffin_outermost", &puffin_outermost_run) {
        assert!(common::puffin_frames() > frames_before, "puffin produced no frames");
    }

    common::init_fastrace();
    let spans_before = common::fastrace_spans_reported();
    if bench(&mut group, threads, "fastrace", &fastrace_run) {
        let spans = common::fastrace_spans_reported() - spans_before;
        assert!(spans > 0, "fastrace reported no spans");
    }
    if threads == Threads::One {
        let spans_before = common::fastrace_spans_reported();
        if bench(&mut group, threads, "fastrace_trace_attribute", &fastrace_trace_run) {
            let spans = common::fastrace_spans_reported() - spans_before;
            assert!(spans > 0, "fastrace reported no spans");
        }
    }

    // Tracy is only started (and its sink connected) if the tracy bench is selected.
    if bench(&mut group, threads, "tracy", &|iters| {
        common::init_tracy();
        tracy_run(iters)
    }) {
        assert!(common::tracy_connected(), "tracy client lost its sink connection");
    }

    bench(&mut group, threads, "firestorm", &firestorm_run);
    bench(&mut group, threads, "floor_two_instant", &floor_two_instant_run);
    bench(&mut group, threads, "floor_two_tsc", &floor_two_tsc_run);

    group.finish();
}

fn scope_1thread(c: &mut Criterion) {
    bench_scopes(c, Threads::One);
}

fn scope_2threads(c: &mut Criterion) {
    bench_scopes(c, Threads::Two);
}

fn scope_disabled(c: &mut Criterion) {
    let mut group = c.benchmark_group("scope/disabled");
    let threads = Threads::One;

    perfcore::global().set_enabled(false);
    let ran = bench(
        &mut group,
        threads,
        "perfcore_macro",
        &perfcore_macro_run!("bench_perfcore_macro_disabled"),
    );
    perfcore::global().set_enabled(true);
    if ran {
        let count = common::perfcore_count(perfcore::global(), "bench_perfcore_macro_disabled");
        assert_eq!(count, 0, "disabled perfcore recorded scopes");
    }

    let profiler = PerformanceProfiler::new();
    profiler.set_enabled(false);
    if bench(&mut group, threads, "perfcore_macro_instance", &|iters| {
        perfcore_macro_instance_run(&profiler, iters)
    }) {
        let count = common::perfcore_count(&profiler, PERFCORE_INSTANCE_SCOPE);
        assert_eq!(count, 0, "disabled perfcore recorded scopes");
    }

    let profiler = PerformanceProfiler::new();
    profiler.set_enabled(false);
    if bench(&mut group, threads, "perfcore_guard", &|iters| perfcore_guard_run(&profiler, iters)) {
        let count = common::perfcore_count(&profiler, PERFCORE_GUARD_SCOPE);
        assert_eq!(count, 0, "disabled perfcore recorded scopes");
    }

    group.finish();
}

/// A future that is pending `left` times before it completes (waking itself each time).
struct YieldN {
    left: u32,
}

impl std::future::Future for YieldN {
    type Output = u32;

    fn poll(
        mut self: std::pin::Pin<&mut Self>,
        cx: &mut std::task::Context<'_>,
    ) -> std::task::Poll<u32> {
        if self.left == 0 {
            return std::task::Poll::Ready(black_box(7));
        }
        self.left -= 1;
        cx.waker().wake_by_ref();
        std::task::Poll::Pending
    }
}

/// Polls per call in the async bench: 10 suspensions, then completion.
const POLLS: u32 = 11;

async fn plain_async() -> u32 {
    YieldN { left: POLLS - 1 }.await
}

#[perfcore::profile(name = "bench_async_profile")]
async fn profiled_async() -> u32 {
    YieldN { left: POLLS - 1 }.await
}

fn poll_to_end<F: std::future::Future>(fut: F) -> F::Output {
    let mut fut = std::pin::pin!(fut);
    let mut cx = std::task::Context::from_waker(std::task::Waker::noop());
    loop {
        if let std::task::Poll::Ready(out) = fut.as_mut().poll(&mut cx) {
            return out;
        }
    }
}

/// `#[profile]` on an `async fn` that suspends 10 times, against the same `async fn` without
/// it: one iteration is one call of 11 polls, so (profiled − plain) / 11 is the cost per poll.
fn async_per_poll(c: &mut Criterion) {
    let mut group = c.benchmark_group("async/11_polls");
    group.bench_function("plain", |b| b.iter(|| poll_to_end(plain_async())));
    let ran = std::cell::Cell::new(false);
    group.bench_function("perfcore_profile", |b| {
        ran.set(true);
        b.iter(|| poll_to_end(profiled_async()));
    });
    group.finish();
    // Only when the bench ran: a filter (`cargo bench -- scope`) may have skipped it.
    if ran.get() {
        let count = common::perfcore_count(perfcore::global(), "bench_async_profile");
        assert!(count > 0, "the profiled async fn recorded no calls");
    }
}

fn config() -> Criterion {
    Criterion::default()
        .warm_up_time(Duration::from_secs(1))
        .measurement_time(Duration::from_secs(3))
        .sample_size(50)
}

criterion_group! {
    name = overhead;
    config = config();
    targets = scope_1thread, scope_2threads, scope_disabled, async_per_poll
}
criterion_main!(overhead);
