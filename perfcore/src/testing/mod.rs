//! Test helpers: a manual clock, so tests of code that uses perfcore are deterministic.
//!
//! ```
//! use perfcore::{PerformanceProfiler, testing::ManualClock};
//! use std::time::Duration;
//!
//! let clock = ManualClock::new();
//! let p = PerformanceProfiler::builder().clock(&clock).build()?;
//! {
//!     let _g = p.scope("step")?;
//!     clock.advance(Duration::from_micros(5));
//! }
//! assert_eq!(p.snapshot().function("step").unwrap().total_ns, 5_000);
//! # Ok::<(), perfcore::ProfileError>(())
//! ```

pub use crate::regress::rng::Rng;

use std::sync::Arc;
use std::time::Duration;

/// A clock that moves only when [`advance`](Self::advance) is called. Clones share the time.
#[derive(Clone, Debug)]
pub struct ManualClock {
    pub(crate) clock: crate::clock::Clock,
    mock: Arc<quanta::Mock>,
}

impl Default for ManualClock {
    fn default() -> Self {
        Self::new()
    }
}

impl ManualClock {
    /// A clock at time zero.
    #[must_use]
    pub fn new() -> Self {
        let (clock, mock) = crate::clock::Clock::manual();
        Self { clock, mock }
    }

    /// Moves the clock forward by `by`.
    pub fn advance(&self, by: Duration) {
        self.mock.increment(by);
    }
}

pub mod simulate;
