//! The figures of a run that a history keeps: a few numbers per function, no histograms.

use std::borrow::Cow;

use serde::{Deserialize, Serialize};

use super::{FunctionStats, Snapshot};

/// One function's figures in one run, as a run history keeps them.
///
/// Functions are identified by name across runs (lines move between commits); a snapshot
/// with several callsites of one name summarises them as one.
///
/// # Examples
/// ```
/// let p = perfcore::PerformanceProfiler::new();
/// for _ in 0..4 {
///     let _g = p.scope("step").unwrap();
/// }
/// let run = p.snapshot().summary();
/// let step = run.function("step").unwrap();
/// assert_eq!(step.count, 4);
/// assert!(step.p50_ns <= step.p99_ns);
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct FunctionSummary {
    /// The function's name.
    pub name: String,
    /// Finished calls.
    pub count: u64,
    /// Failed calls.
    pub errors: u64,
    /// Mean wall time per call.
    pub mean_ns: f64,
    /// Median wall time.
    pub p50_ns: u64,
    /// 95th percentile.
    pub p95_ns: u64,
    /// 99th percentile.
    pub p99_ns: u64,
    /// Slowest call.
    pub max_ns: u64,
    /// Bytes allocated per call, when the tracking allocator was installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub bytes_per_call: Option<f64>,
    /// Allocations per call, when the tracking allocator was installed.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub allocs_per_call: Option<f64>,
}

impl FunctionSummary {
    /// The summary of one function's statistics.
    ///
    /// # Examples
    /// ```
    /// # let p = perfcore::PerformanceProfiler::new();
    /// # { let _g = p.scope("f").unwrap(); }
    /// let snap = p.snapshot();
    /// let s = perfcore::FunctionSummary::of(snap.function("f").unwrap());
    /// assert_eq!((s.name.as_str(), s.count), ("f", 1));
    /// ```
    #[must_use]
    pub fn of(f: &FunctionStats) -> Self {
        let per_call = |x: u64, calls: u64| (calls > 0).then(|| x as f64 / calls as f64);
        Self {
            name: f.name.clone(),
            count: f.count,
            errors: f.errors,
            mean_ns: f.mean_ns,
            p50_ns: f.p50_ns,
            p95_ns: f.p95_ns,
            p99_ns: f.p99_ns,
            max_ns: f.max_ns,
            bytes_per_call: f.allocations.and_then(|a| per_call(a.allocated_bytes, a.calls)),
            allocs_per_call: f.allocations.and_then(|a| per_call(a.allocations, a.calls)),
        }
    }

    /// The fraction of calls that failed (0 when there were none).
    ///
    /// # Examples
    /// ```
    /// # let p = perfcore::PerformanceProfiler::new();
    /// # { let g = p.scope("f").unwrap(); g.mark_failed(); }
    /// assert_eq!(p.snapshot().summary().function("f").unwrap().error_rate(), 1.0);
    /// ```
    #[must_use]
    pub fn error_rate(&self) -> f64 {
        if self.count == 0 { 0.0 } else { self.errors as f64 / self.count as f64 }
    }
}

/// The summary of a whole run: one [`FunctionSummary`] per function name, sorted by name.
///
/// # Examples
/// ```
/// assert!(perfcore::Snapshot::default().summary().functions.is_empty());
/// ```
#[derive(Clone, Debug, Default, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct RunSummary {
    /// One entry per function name that ran, sorted by name.
    pub functions: Vec<FunctionSummary>,
}

impl RunSummary {
    /// The function of this name.
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::RunSummary::default().function("f").is_none());
    /// ```
    #[must_use]
    pub fn function(&self, name: &str) -> Option<&FunctionSummary> {
        self.functions
            .binary_search_by(|f| f.name.as_str().cmp(name))
            .ok()
            .map(|i| &self.functions[i])
    }
}

impl Snapshot {
    /// The functions of this snapshot by name, callsites of the same name merged into one.
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// { let _g = p.scope("a").unwrap(); }
    /// { let _g = p.scope("b").unwrap(); }
    /// let names: Vec<_> = p.snapshot().by_name().into_iter().map(|f| f.name).collect();
    /// assert_eq!(names, ["a", "b"]);
    /// ```
    #[must_use]
    pub fn by_name(&self) -> Vec<FunctionStats> {
        let window = self.window().as_nanos() as u64;
        let mut out: Vec<FunctionStats> =
            self.by_name_borrowed().into_iter().map(Cow::into_owned).collect();
        // Derived figures (calls per second) from this snapshot's window, whoever built them.
        for f in &mut out {
            f.finish(window);
        }
        out
    }

    /// [`by_name`](Self::by_name) without copying: a function whose name is its own is
    /// borrowed as it is (its derived figures not recomputed), only callsites that share a
    /// name are merged into a new one.
    pub(crate) fn by_name_borrowed(&self) -> Vec<Cow<'_, FunctionStats>> {
        let mut sorted: Vec<&FunctionStats> = self.functions.iter().collect();
        sorted.sort_by(|a, b| a.name.cmp(&b.name));
        let window = self.window().as_nanos() as u64;
        let mut out: Vec<Cow<'_, FunctionStats>> = Vec::with_capacity(sorted.len());
        for f in sorted {
            match out.last_mut() {
                Some(last) if last.name == f.name => {
                    let merged = last.to_mut();
                    merged.absorb(f);
                    merged.finish(window);
                }
                _ => out.push(Cow::Borrowed(f)),
            }
        }
        out
    }

    /// The figures a run history keeps of this snapshot: see [`RunSummary`].
    ///
    /// # Examples
    /// ```
    /// # let p = perfcore::PerformanceProfiler::new();
    /// # { let _g = p.scope("f").unwrap(); }
    /// assert_eq!(p.snapshot().summary().functions.len(), 1);
    /// ```
    #[must_use]
    pub fn summary(&self) -> RunSummary {
        RunSummary { functions: self.by_name().iter().map(FunctionSummary::of).collect() }
    }
}

#[cfg(test)]
mod tests {
    // `profile_scope!` records nothing with the `enabled` feature off.
    #[cfg(feature = "enabled")]
    #[test]
    #[cfg(feature = "enabled")] // `profile_scope!` records nothing without it
    fn callsites_of_one_name_are_one_function() {
        let p = crate::PerformanceProfiler::new();
        for _ in 0..2 {
            crate::profile_scope!(&p, "twice");
        }
        {
            crate::profile_scope!(&p, "twice");
        }
        let snap = p.snapshot();
        assert_eq!(snap.functions.len(), 2);
        let merged = snap.by_name();
        assert_eq!(merged.len(), 1);
        assert_eq!(merged[0].count, 3);
        assert_eq!(snap.summary().function("twice").unwrap().count, 3);
    }
}
