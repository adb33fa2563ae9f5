//! A realistic small HTTP service profiled with perfcore, and a bounded loopback load driver
//! that checks perfcore's own figures against the client's.
//!
//! The service ([`ServiceOptions`], [`Service`]) is std only: a listener thread, a bounded
//! accept queue (503 when it is full) and a pool of worker threads speaking HTTP/1.1 with
//! keep-alive. Its handlers are `#[perfcore::profile]` functions:
//!
//! | route | handler | what it does |
//! |---|---|---|
//! | `GET /items/{id}` | `get_item` | a cache (hit rate: the `service_cache` ratio) in front of a profiled `db_lookup` (~1 ms) |
//! | `GET /search?q=…` | `search` | scores 400 product names against the query (CPU) |
//! | `GET /checkout?order=N` | `checkout` | ~0.3 ms of "payment"; fails with 500 for 5% of orders (by a hash of `N`) |
//! | `GET /healthz` | `healthz` | `ok` |
//!
//! A handler's profiled scope ends before its response is written, so once the client holds
//! an answer perfcore has counted the call: the driver's count and perfcore's are compared
//! for equality. Requests are counted by route and status in `service_requests_total`.
//! The service serves perfcore's endpoint on its own port, with the system sampler and the
//! default alert rules plus `service_cache_cold`.
//!
//! perfcore's side is the process's global profiler (`perfcore::global()`), so drive one
//! service of a process at a time: calls to another's handlers during a run would show in
//! the counts (and fail the equality, as they should).
//!
//! The driver ([`LoadOptions`]) runs one [`Scenario`] and returns a [`ClientReport`];
//! [`Service::compare`] (or [`SliReport::from_snapshot`] for an external service) sets it
//! beside perfcore's figures in an [`SliReport`].
//!
//! ```no_run
//! use std::time::Duration;
//! use perfcore_examples::service::{LoadOptions, Scenario, ServiceOptions};
//! let service = ServiceOptions::new().workers(8).start()?;
//! let report = LoadOptions::new(Scenario::Load, &service.url())
//!     .duration(Duration::from_secs(2))
//!     .run()?;
//! let sli = service.compare(&report)?;
//! assert!(sli.passed(), "{sli}");
//! service.stop();
//! # Ok::<(), perfcore_examples::service::ServiceError>(())
//! ```

mod client;
mod handlers;
pub mod http;
mod load;
mod report;
mod server;
mod sli;

pub use client::Client;
pub use load::{LoadOptions, MAX_DURATION, MAX_REQUESTS, Phase, Plan, Scenario};
pub use report::{ClientReport, Quantiles, RouteReport, ScenarioVerdict, SoakFigures, StepReport};
pub use server::{Service, ServiceOptions};
pub use sli::{Check, SliReport, SliRow};

/// Why the service or the load driver failed.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum ServiceError {
    /// The service's port could not be bound: pick another address or free the port.
    #[error("cannot listen on {addr}")]
    Bind {
        /// The address asked for.
        addr: std::net::SocketAddr,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// perfcore's monitor or endpoint failed to start.
    #[error("perfcore's monitor failed")]
    Monitor(#[from] perfcore::monitor::MonitorError),
    /// An option is out of range (the message says which and why).
    #[error("invalid option {name}: {reason}")]
    InvalidOption {
        /// The option.
        name: &'static str,
        /// What is wrong with it.
        reason: String,
    },
    /// A URL is not `http://host:port[/path]`.
    #[error("invalid URL {url:?}: {reason}")]
    InvalidUrl {
        /// The URL.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// A socket operation failed (`action` says which).
    #[error("{action} failed")]
    Io {
        /// What was being done.
        action: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
    /// A peer sent bytes that are not HTTP/1.1.
    #[error("bad HTTP from {peer}")]
    Http {
        /// Who sent them.
        peer: String,
        /// What was wrong.
        #[source]
        source: http::HttpError,
    },
    /// A peer answered with an unexpected status.
    #[error("{url} answered {status}")]
    Status {
        /// What was asked.
        url: String,
        /// The status.
        status: u16,
    },
    /// perfcore's snapshot could not be read or subtracted.
    #[error("perfcore's snapshot: {reason}")]
    Snapshot {
        /// What went wrong.
        reason: String,
    },
    /// A thread could not be started.
    #[error("cannot start thread {name}")]
    Thread {
        /// The thread's name.
        name: String,
        /// The OS error.
        #[source]
        source: std::io::Error,
    },
}

impl ServiceError {
    pub(crate) fn io(action: impl Into<String>, source: std::io::Error) -> Self {
        Self::Io { action: action.into(), source }
    }
}

/// Nanoseconds of CPU this thread has used (`CLOCK_THREAD_CPUTIME_ID`).
pub(crate) fn thread_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_THREAD_CPUTIME_ID)
}

/// Nanoseconds of CPU the process has used (`CLOCK_PROCESS_CPUTIME_ID`: every thread).
pub(crate) fn process_cpu_ns() -> u64 {
    clock_ns(libc::CLOCK_PROCESS_CPUTIME_ID)
}

fn clock_ns(clock: libc::clockid_t) -> u64 {
    let mut ts = libc::timespec { tv_sec: 0, tv_nsec: 0 };
    // SAFETY: `ts` is a valid, writable timespec; the clock ids are constants libc defines.
    let rc = unsafe { libc::clock_gettime(clock, &raw mut ts) };
    if rc != 0 {
        return 0;
    }
    (ts.tv_sec as u64).saturating_mul(1_000_000_000).saturating_add(ts.tv_nsec as u64)
}

/// The process's resident set, in bytes, from `/proc/self/statm` (`None` where it is absent).
pub(crate) fn rss_bytes() -> Option<u64> {
    let statm = std::fs::read_to_string("/proc/self/statm").ok()?;
    let pages: u64 = statm.split_whitespace().nth(1)?.parse().ok()?;
    // SAFETY: sysconf has no preconditions.
    let page = unsafe { libc::sysconf(libc::_SC_PAGESIZE) };
    Some(pages * u64::try_from(page).ok().filter(|&p| p > 0).unwrap_or(4096))
}

#[cfg(test)]
mod tests {
    #[test]
    fn process_figures_are_read() {
        let before = super::process_cpu_ns();
        let x = (0..200_000u64).fold(1u64, |a, b| a.wrapping_mul(31).wrapping_add(b));
        std::hint::black_box(x);
        assert!(super::process_cpu_ns() >= before);
        assert!(super::thread_cpu_ns() > 0);
        assert!(super::rss_bytes().is_some_and(|b| b > 0));
    }
}
