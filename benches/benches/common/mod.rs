//! Shared fixtures for the overhead benches: the 2-thread runner, chunked loops, and the set-up
//! that makes each peer record for real (a subscriber, a reporter, a connected Tracy client...).
//!
//! Every "run" function here and in `overhead.rs` has the shape `fn(iters) -> Duration`: it runs
//! `iters` empty scopes on the calling thread and returns the time spent in them. Housekeeping a
//! peer needs so that its buffers stay bounded (closing a puffin frame, finishing a fastrace root
//! span, clearing firestorm's event list) runs every [`CHUNK`] scopes, outside the timed region.

use std::cell::Cell;
use std::io::{Read, Write};
use std::net::{Ipv4Addr, SocketAddr, TcpStream};
use std::sync::atomic::{AtomicU64, Ordering};
use std::sync::{Barrier, OnceLock};
use std::time::{Duration, Instant};

/// Scopes per chunk for peers that need housekeeping (see the module docs). Two `Instant` reads
/// per chunk add ~0.01 ns per scope. fastrace drops spans beyond 10,240 per local span line, so
/// this must stay below that.
pub const CHUNK: u64 = 4096;
const _: () = assert!(CHUNK < 10_240);

/// Scopes each thread runs before the start barrier, so that thread-local set-up (per-thread
/// buffers, thread registration) is not timed.
const THREAD_WARM_UP: u64 = 256;

/// Runs `iters` scopes as chunks of at most [`CHUNK`]; `chunk(n)` runs `n` scopes and returns the
/// time spent in them, leaving its housekeeping untimed.
pub fn in_chunks(iters: u64, mut chunk: impl FnMut(u64) -> Duration) -> Duration {
    let mut total = Duration::ZERO;
    let mut left = iters;
    while left > 0 {
        let n = left.min(CHUNK);
        total += chunk(n);
        left -= n;
    }
    total
}

/// Two threads run `run(iters)` at once (started together by a barrier); returns the mean
/// per-thread elapsed time, i.e. the per-thread cost while both threads record concurrently.
pub fn two_threads(iters: u64, run: &(dyn Fn(u64) -> Duration + Sync)) -> Duration {
    const THREADS: u32 = 2;
    let barrier = Barrier::new(THREADS as usize);
    let total: Duration = std::thread::scope(|s| {
        let handles: Vec<_> = (0..THREADS)
            .map(|_| {
                s.spawn(|| {
                    run(THREAD_WARM_UP);
                    barrier.wait();
                    run(iters)
                })
            })
            .collect();
        handles.into_iter().map(|h| h.join().expect("bench thread panicked")).sum()
    });
    total / THREADS
}

/// Sum of the counts recorded for scope `name` in `profiler`'s snapshot.
pub fn perfcore_count(profiler: &perfcore::PerformanceProfiler, name: &str) -> u64 {
    profiler.snapshot().functions().iter().filter(|f| f.name == name).map(|f| f.count).sum()
}

/// Panics unless `profiler` recorded scope `name`: proof that the bench measured real recording.
pub fn assert_perfcore_recorded(profiler: &perfcore::PerformanceProfiler, name: &str) {
    let count = perfcore_count(profiler, name);
    if count == 0 {
        let names: Vec<String> = profiler
            .snapshot()
            .functions()
            .iter()
            .map(|f| format!("{} ({})", f.name, f.count))
            .collect();
        panic!("perfcore recorded no `{name}` scope; snapshot has: {names:?}");
    }
}

// ---------------------------------------------------------------------------------------------
// tracing: a registry with a no-op layer. A bare `registry()` with no layer never frees closed
// spans (tokio-rs/tracing#900), so it is not a fair or safe thing to bench.

struct NoopLayer;

impl<S: tracing::Subscriber> tracing_subscriber::Layer<S> for NoopLayer {}

/// Installs `registry().with(NoopLayer)` as the global default dispatcher (once).
pub fn init_tracing() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        use tracing_subscriber::prelude::*;
        tracing::subscriber::set_global_default(tracing_subscriber::registry().with(NoopLayer))
            .expect("no other global tracing subscriber");
    });
}

// ---------------------------------------------------------------------------------------------
// puffin: scopes on, and a frame sink that counts frames so the run can check that puffin
// really produced data.

static PUFFIN_FRAMES: AtomicU64 = AtomicU64::new(0);

pub fn init_puffin() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        puffin::set_scopes_on(true);
        puffin::GlobalProfiler::lock().add_sink(Box::new(|_frame| {
            PUFFIN_FRAMES.fetch_add(1, Ordering::Relaxed);
        }));
    });
}

/// Frames puffin has finished so far.
pub fn puffin_frames() -> u64 {
    PUFFIN_FRAMES.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------------------------------------
// fastrace: a reporter that counts and drops the spans (as fastrace's own benches do), so the
// collector thread does its real work.

static FASTRACE_SPANS: AtomicU64 = AtomicU64::new(0);

struct CountingReporter;

impl fastrace::collector::Reporter for CountingReporter {
    fn report(&mut self, spans: Vec<fastrace::collector::SpanRecord>) {
        FASTRACE_SPANS.fetch_add(spans.len() as u64, Ordering::Relaxed);
    }
}

pub fn init_fastrace() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        fastrace::set_reporter(CountingReporter, fastrace::collector::Config::default());
    });
}

/// Spans a thread may leave to the collector before it flushes (untimed).
const FASTRACE_FLUSH_EVERY: u64 = 16 * CHUNK;

/// Call after handing `spans` more spans to fastrace's collector. fastrace's collector thread
/// spends more per span than a tight loop spends making one, and the channel to it buffers
/// without bound: left alone, a few seconds of benching grow RSS by gigabytes and the bench ends
/// up timing page faults. So every [`FASTRACE_FLUSH_EVERY`] spans the thread runs
/// `fastrace::flush()` (synchronous), outside the timed region. The collector's own CPU per span
/// is therefore not in the fastrace figure.
pub fn fastrace_backpressure(spans: u64) {
    thread_local! {
        static SINCE_FLUSH: Cell<u64> = const { Cell::new(0) };
    }
    SINCE_FLUSH.with(|since| {
        let total = since.get() + spans;
        if total >= FASTRACE_FLUSH_EVERY {
            fastrace::flush();
            since.set(0);
        } else {
            since.set(total);
        }
    });
}

/// Spans fastrace's collector has handed to the reporter so far (after a flush).
pub fn fastrace_spans_reported() -> u64 {
    fastrace::flush();
    FASTRACE_SPANS.load(Ordering::Relaxed)
}

// ---------------------------------------------------------------------------------------------
// Tracy. Without a connected server, Tracy (not on-demand) keeps every zone in memory until one
// connects: gigabytes in a few seconds of benching. With `ondemand` it records nothing at all.
// So the bench connects a discard sink on loopback: it does Tracy's handshake and then reads and
// drops the stream. Tracy's worker thread then serialises, compresses and sends every zone, as
// with a real capture. (The crate is built with `only-localhost`, no broadcast, and
// `manual-lifetime`, so nothing starts unless this runs.)

/// `tracy::ProtocolVersion` of the Tracy bundled in tracy-client-sys 0.30 (Tracy 0.14).
const TRACY_PROTOCOL_VERSION: u32 = 82;
const TRACY_HANDSHAKE_WELCOME: u8 = 1;
const TRACY_HANDSHAKE_PROTOCOL_MISMATCH: u8 = 2;

/// Starts the Tracy client and connects the discard sink (once).
pub fn init_tracy() {
    static DONE: OnceLock<()> = OnceLock::new();
    DONE.get_or_init(|| {
        let _client = tracy_client::Client::start();
        let mut stream = connect_tracy_sink();
        std::thread::Builder::new()
            .name("tracy-discard-sink".into())
            .spawn(move || {
                let _ = std::io::copy(&mut stream, &mut std::io::sink());
            })
            .expect("spawn tracy sink thread");
        let deadline = Instant::now() + Duration::from_secs(5);
        while !tracy_client::Client::is_connected() {
            assert!(Instant::now() < deadline, "tracy client never reported a connection");
            std::thread::sleep(Duration::from_millis(1));
        }
    });
}

/// Whether the Tracy client has a connected (sink) server, i.e. zones are really being shipped.
pub fn tracy_connected() -> bool {
    tracy_client::Client::is_connected()
}

fn connect_tracy_sink() -> TcpStream {
    // Tracy listens on the first free port of 8086..8106, on 127.0.0.1 (`only-localhost`).
    let deadline = Instant::now() + Duration::from_secs(10);
    loop {
        for port in 8086..8106 {
            let addr = SocketAddr::from((Ipv4Addr::LOCALHOST, port));
            let Ok(mut stream) = TcpStream::connect_timeout(&addr, Duration::from_millis(100))
            else {
                continue;
            };
            let mut status = [0u8; 1];
            let handshake = stream
                .set_read_timeout(Some(Duration::from_secs(3)))
                .and_then(|()| stream.write_all(b"TracyPrf"))
                .and_then(|()| stream.write_all(&TRACY_PROTOCOL_VERSION.to_le_bytes()))
                .and_then(|()| stream.read_exact(&mut status));
            match (handshake, status[0]) {
                (Ok(()), TRACY_HANDSHAKE_WELCOME) => {
                    stream.set_read_timeout(None).expect("clear read timeout");
                    return stream;
                }
                (Ok(()), TRACY_HANDSHAKE_PROTOCOL_MISMATCH) => panic!(
                    "Tracy protocol mismatch: update TRACY_PROTOCOL_VERSION to the bundled \
                     Tracy's ProtocolVersion (common/TracyProtocol.hpp in tracy-client-sys)"
                ),
                _ => {}
            }
        }
        assert!(Instant::now() < deadline, "no Tracy client accepted the sink's handshake");
        std::thread::sleep(Duration::from_millis(20));
    }
}

// ---------------------------------------------------------------------------------------------
// Floors: two clock reads per "scope", the difference added to a thread-local sum.

thread_local! {
    static FLOOR_SUM: Cell<u64> = const { Cell::new(0) };
}

/// Adds `delta` to the thread-local sum that the floor benches feed.
#[inline(always)]
pub fn floor_add(delta: u64) {
    FLOOR_SUM.with(|s| s.set(s.get().wrapping_add(delta)));
}

/// The calibrated quanta clock (TSC where usable; perfcore reads its clock through quanta too).
pub fn quanta_clock() -> &'static quanta::Clock {
    static CLOCK: OnceLock<quanta::Clock> = OnceLock::new();
    CLOCK.get_or_init(quanta::Clock::new)
}
