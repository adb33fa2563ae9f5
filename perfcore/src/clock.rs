//! The profiler's clock: the CPU's time-stamp counter when it is trustworthy, else the OS's
//! monotonic clock.
//!
//! Reading the clock twice is most of a scope's cost, so the choice is measured, not guessed
//! (see BENCHMARKS.md): on the reference VM two `Instant::now()` cost about 50 ns and two TSC
//! reads about 20 ns. The TSC is used only where [quanta] reports an invariant (constant-rate,
//! non-stop) TSC; quanta calibrates it against the monotonic clock once per process, and
//! perfcore reads it inline with `rdtsc` and scales with that calibration. Elsewhere (no
//! invariant TSC, or not x86-64) quanta's monotonic clock is used. Hot paths store raw readings and convert only the difference to nanoseconds.

use std::time::Duration;

/// Where time comes from: the calibrated hardware clock, or a manual one in tests.
///
/// On x86-64 with an invariant TSC the counter is read inline with `rdtsc` and scaled with
/// quanta's calibration (quanta's own reader is an out-of-line call, which cost several ns
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
        let quanta = quanta::Clock::new();
        #[cfg(target_arch = "x86_64")]
        if clock_source() == ClockSource::Tsc {
            // quanta reads the TSC with `rdtsc` too, so its calibration applies to our reads:
            // the nanoseconds it gives 2^32 ticks are our fixed-point scale.
            let ns_per_2_32_ticks = quanta.delta_as_nanos(0, 1 << 32);
            if ns_per_2_32_ticks > 0 {
                return Self { source: Source::Tsc { ns_per_2_32_ticks } };
            }
        }
        Self { source: Source::Quanta(quanta) }
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
    // quanta scales only TSC readings; a monotonic source's readings are already nanoseconds,
    // so scaling is the identity exactly when the source is not the TSC.
    let c = quanta::Clock::new();
    let a = c.scaled(1 << 40);
    let b = c.scaled(1 << 41);
    if b.duration_since(a) == Duration::from_nanos(1 << 40) {
        ClockSource::Monotonic
    } else {
        ClockSource::Tsc
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use std::time::Instant;

    /// The profiler's clock and `Instant` time the same ~100 ms interval within 1%.
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
        assert!(best < 0.01, "relative disagreement {best}");
    }

    #[test]
    fn manual_clock_moves_only_when_told() {
        let (clock, mock) = Clock::manual();
        let a = clock.raw();
        mock.increment(Duration::from_nanos(250));
        assert_eq!(clock.delta_ns(a, clock.raw()), 250);
    }
}
