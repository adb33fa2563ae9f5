//! The profiler's clock: the CPU's time-stamp counter when it is trustworthy, else the OS's
//! monotonic clock.
//!
//! Reading the clock twice is most of a scope's cost, and a TSC read is several times cheaper
//! than `Instant::now()` on the virtual machines services run on (BENCHMARKS.md). The TSC is used only where the CPU reports it invariant (constant-rate,
//! non-stop); perfcore reads it inline with `rdtsc` and scales it with its own calibration
//! against the monotonic clock, made once per process (see [`calibrate_tsc`]). Elsewhere (no
//! invariant TSC, or not x86-64) quanta's monotonic clock is used. Hot paths store raw
//! readings and convert only the difference to nanoseconds.

use std::time::Duration;
#[cfg(target_arch = "x86_64")]
use std::{sync::OnceLock, time::Instant};

/// Where time comes from: the calibrated hardware clock, or a manual one in tests.
///
/// On x86-64 with an invariant TSC the counter is read inline with `rdtsc` and scaled with
/// perfcore's calibration (quanta's own reader is an out-of-line call, which cost several ns
/// per scope in `benches/overhead.rs`); everywhere else quanta's clock is used as it is.
#[derive(Clone, Debug)]
pub(crate) struct Clock {
    source: Source,
}

#[derive(Clone, Debug)]
enum Source {
    /// Raw `rdtsc`; nanoseconds = ticks × `ns_per_2_32_ticks` / 2^32.
    #[cfg(target_arch = "x86_64")]
    Tsc { ns_per_2_32_ticks: u64 },
    /// quanta: the OS monotonic clock, or a mock in tests.
    Quanta(quanta::Clock),
}

#[cfg(target_arch = "x86_64")]
#[inline(always)]
fn rdtsc() -> u64 {
    // SAFETY: `rdtsc` exists on every x86-64 CPU and has no preconditions: it reads the
    // time-stamp counter into registers and touches no memory.
    unsafe { core::arch::x86_64::_rdtsc() }
}

impl Clock {
    /// The fastest correct clock on this machine.
    pub(crate) fn system() -> Self {
        #[cfg(target_arch = "x86_64")]
        if let Some(ns_per_2_32_ticks) = tsc_scale() {
            return Self { source: Source::Tsc { ns_per_2_32_ticks } };
        }
        Self { source: Source::Quanta(quanta::Clock::new()) }
    }

    /// A clock that advances only when told to; readings are nanoseconds.
    #[cfg(any(test, feature = "testing"))]
    pub(crate) fn manual() -> (Self, std::sync::Arc<quanta::Mock>) {
        let (inner, mock) = quanta::Clock::mock();
        (Self { source: Source::Quanta(inner) }, mock)
    }

    /// A raw reading (ticks); only differences of readings mean anything.
    #[inline(always)]
    pub(crate) fn raw(&self) -> u64 {
        match &self.source {
            #[cfg(target_arch = "x86_64")]
            Source::Tsc { .. } => rdtsc(),
            Source::Quanta(c) => c.raw(),
        }
    }

    /// Nanoseconds between two raw readings (0 if `end` is not after `start`).
    #[inline(always)]
    pub(crate) fn delta_ns(&self, start: u64, end: u64) -> u64 {
        match &self.source {
            #[cfg(target_arch = "x86_64")]
            Source::Tsc { ns_per_2_32_ticks } => {
                let ticks = end.saturating_sub(start);
                ((u128::from(ticks) * u128::from(*ns_per_2_32_ticks)) >> 32) as u64
            }
            Source::Quanta(c) => c.delta_as_nanos(start, end),
        }
    }
}

/// Which clock perfcore times scopes with on this machine.
///
/// # Examples
/// ```
/// let source = perfcore::clock_source();
/// println!("timing with {source:?}");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
#[non_exhaustive]
pub enum ClockSource {
    /// The CPU's invariant time-stamp counter, calibrated against the monotonic clock.
    Tsc,
    /// The operating system's monotonic clock (`clock_gettime(CLOCK_MONOTONIC)` on Linux).
    Monotonic,
}

/// Reports which clock the profiler uses here: [`ClockSource::Tsc`] where the CPU has an
/// invariant TSC, else [`ClockSource::Monotonic`].
///
/// # Examples
/// ```
/// use perfcore::ClockSource;
/// assert!(matches!(perfcore::clock_source(), ClockSource::Tsc | ClockSource::Monotonic));
/// ```
#[must_use]
pub fn clock_source() -> ClockSource {
    #[cfg(target_arch = "x86_64")]
    if has_invariant_tsc() {
        return ClockSource::Tsc;
    }
    ClockSource::Monotonic
}

/// Whether the CPU says its TSC ticks at a constant rate through frequency changes and sleep
/// states (CPUID leaf 0x8000_0007, EDX bit 8), and has `rdtscp` (leaf 0x8000_0001, EDX bit
/// 27): the same test quanta makes.
#[cfg(target_arch = "x86_64")]
fn has_invariant_tsc() -> bool {
    use core::arch::x86_64::__cpuid;
    #[allow(unused_unsafe)] // `__cpuid` is a safe function from Rust 1.94 on.
    // SAFETY: `cpuid` exists on every x86-64 CPU; it only writes registers. Leaves above the
    // maximum extended leaf (checked first) are never queried.
    let (power, features) = unsafe {
        if __cpuid(0x8000_0000).eax < 0x8000_0007 {
            return false;
        }
        (__cpuid(0x8000_0007).edx, __cpuid(0x8000_0001).edx)
    };
    power & (1 << 8) != 0 && features & (1 << 27) != 0
}

/// The process's TSC calibration (nanoseconds per 2^32 ticks), made on first use; `None`
/// where the TSC is not invariant.
#[cfg(target_arch = "x86_64")]
fn tsc_scale() -> Option<u64> {
    static SCALE: OnceLock<Option<u64>> = OnceLock::new();
    *SCALE.get_or_init(|| has_invariant_tsc().then(|| calibrate_tsc(CALIBRATION_WINDOW)))
}

/// How long calibration spins between its two paired readings. The scale's error is at most
/// the two pairs' bracket widths (tens of ns) over this window: a few parts in 10⁵. It is
/// paid once per process, by the first profiler made.
#[cfg(target_arch = "x86_64")]
const CALIBRATION_WINDOW: Duration = Duration::from_millis(2);

/// One reading of the monotonic clock paired with the TSC: the clock read is bracketed by two
/// TSC reads, and of several tries the narrowest bracket wins, so a preemption or interrupt
/// between the reads cannot skew the pair (each try is ~50 ns; the one that was preempted is
/// the widest). Returns (TSC at the bracket's midpoint, ns since `origin`).
#[cfg(target_arch = "x86_64")]
fn paired_reading(origin: Instant) -> (u64, u64) {
    let mut best = (u64::MAX, 0, 0);
    for _ in 0..32 {
        let before = rdtsc();
        let ns = origin.elapsed().as_nanos() as u64;
        let after = rdtsc();
        let width = after.wrapping_sub(before);
        if width < best.0 {
            best = (width, before + width / 2, ns);
        }
    }
    (best.1, best.2)
}

/// Measures the TSC's rate against the monotonic clock over `window`: nanoseconds per 2^32
/// ticks.
///
/// Only the two end readings matter, and each is the best of many bracketed tries (see
/// [`paired_reading`]), so being descheduled during the window costs nothing. quanta's own
/// calibration takes single unbracketed pairs and may stop after half a millisecond, so one
/// preemption at either end skews it, and it runs for anywhere between 0.5 and 200 ms, where
/// this takes a fixed [`CALIBRATION_WINDOW`].
#[cfg(target_arch = "x86_64")]
fn calibrate_tsc(window: Duration) -> u64 {
    let origin = Instant::now();
    let (t0, n0) = paired_reading(origin);
    while origin.elapsed() < window {
        std::hint::spin_loop();
    }
    let (t1, n1) = paired_reading(origin);
    let ticks = u128::from(t1.saturating_sub(t0).max(1));
    let scale = (u128::from(n1.saturating_sub(n0)) << 32) / ticks;
    u64::try_from(scale).unwrap_or(u64::MAX).max(1)
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// The profiler's clock and `Instant` time the same ~100 ms interval within 0.1%.
    #[test]
    fn agrees_with_instant_within_one_percent() {
        let clock = Clock::system();
        let mut best = f64::INFINITY;
        // Compare the two clocks over the same interval; retry to ride out a preempted read.
        for _ in 0..5 {
            let (i0, r0) = (Instant::now(), clock.raw());
            let spin_until = i0 + Duration::from_millis(100);
            while Instant::now() < spin_until {
                std::hint::spin_loop();
            }
            let (r1, i1) = (clock.raw(), Instant::now());
            let ours = clock.delta_ns(r0, r1) as f64;
            let theirs = i1.duration_since(i0).as_nanos() as f64;
            best = best.min((ours - theirs).abs() / theirs);
        }
        assert!(best < 1e-3, "relative disagreement {best}");
    }

    /// Two calibrations agree within 0.1%: the bracketed end readings keep the scale stable.
    #[cfg(target_arch = "x86_64")]
    #[test]
    fn calibration_is_repeatable() {
        if !has_invariant_tsc() {
            return;
        }
        let a = calibrate_tsc(Duration::from_millis(2)) as f64;
        let b = calibrate_tsc(Duration::from_millis(2)) as f64;
        assert!((a - b).abs() / a < 1e-3, "{a} vs {b}");
    }

    #[test]
    fn clock_source_matches_the_clock_in_use() {
        let tsc = matches!(Clock::system().source, Source::Tsc { .. });
        assert_eq!(tsc, clock_source() == ClockSource::Tsc);
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let (clock, mock) = Clock::manual();
        let a = clock.raw();
        mock.increment(Duration::from_nanos(250));
        assert_eq!(clock.delta_ns(a, clock.raw()), 250);
    }
}
