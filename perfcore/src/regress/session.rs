//! Seed 003's baseline API on the profiler: set a baseline, compare what was recorded since.

use crate::error::ProfileError;
use crate::profiler::{MarkedBaseline, PerformanceProfiler};
use crate::stats::Snapshot;

use super::{CompareOptions, Comparison, FunctionComparison, compare};

/// The functions of `snap` named `function` (all of them for `None`).
fn only(snap: &Snapshot, function: Option<&str>) -> Snapshot {
    match function {
        None => snap.clone(),
        Some(name) => {
            let functions = snap.functions.iter().filter(|f| f.name == name).cloned().collect();
            Snapshot::from_functions(functions, snap.started_unix_ns, snap.ended_unix_ns)
        }
    }
}

impl PerformanceProfiler {
    /// Sets the baseline `name` to what this profiler has recorded so far: one function, or
    /// every function for `None`. A later [`compare_with_baseline`](Self::compare_with_baseline)
    /// compares it with the calls recorded *after* this point only (a snapshot difference,
    /// [`Snapshot::since`]), so the calls of the baseline are never counted twice. Setting a
    /// name again replaces it.
    ///
    /// # Errors
    /// [`ProfileError::NotRecorded`] when `function` has no calls yet, and
    /// [`ProfileError::EmptyName`] for an empty baseline name.
    ///
    /// # Examples
    /// ```
    /// use perfcore::regress::{CompareOptions, Verdict};
    /// let p = perfcore::PerformanceProfiler::new();
    /// let work = |n: u64| (0..std::hint::black_box(n)).fold(0u64, |a, x| a.wrapping_mul(31) ^ x);
    /// p.profile_function("work", 200, || work(2_000))?;
    /// p.set_baseline(Some("work"), "default")?;
    /// p.profile_function("work", 200, || work(16_000))?; // eight times the work
    /// let regressions = p.detect_regressions("default", &CompareOptions::default())?;
    /// assert_eq!(regressions[0].function, "work");
    /// assert!(regressions[0].degradation_percent > 100.0);
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn set_baseline(&self, function: Option<&str>, name: &str) -> Result<(), ProfileError> {
        if name.is_empty() {
            return Err(ProfileError::EmptyName { what: "baseline name" });
        }
        let mark = self.snapshot();
        let baseline = only(&mark, function);
        if let Some(f) = function
            && baseline.total_calls() == 0
        {
            return Err(ProfileError::NotRecorded { name: f.to_owned() });
        }
        let epoch = self.inner().epoch();
        let mut all = self.inner().baselines.lock();
        all.retain(|b| b.name != name);
        all.push(MarkedBaseline { name: name.to_owned(), baseline, mark, epoch });
        Ok(())
    }

    /// The baseline `name` as it was set: the snapshot it compares against.
    ///
    /// # Errors
    /// [`ProfileError::NoBaseline`] when no baseline of that name was set.
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// { let _g = p.scope("f").unwrap(); }
    /// p.set_baseline(None, "before")?;
    /// assert_eq!(p.baseline("before")?.function("f").unwrap().count, 1);
    /// assert!(p.baseline("other").is_err());
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn baseline(&self, name: &str) -> Result<Snapshot, ProfileError> {
        let all = self.inner().baselines.lock();
        all.iter()
            .find(|b| b.name == name)
            .map(|b| b.baseline.clone())
            .ok_or_else(|| ProfileError::NoBaseline { name: name.to_owned() })
    }

    /// What was recorded since the baseline `name` was set (everything since the last reset,
    /// if the profiler was reset after it): one function, or all for `None`.
    ///
    /// # Errors
    /// [`ProfileError::NoBaseline`] when no baseline of that name was set.
    ///
    /// # Examples
    /// ```
    /// let p = perfcore::PerformanceProfiler::new();
    /// { let _g = p.scope("f").unwrap(); }
    /// p.set_baseline(None, "default")?;
    /// for _ in 0..2 { let _g = p.scope("f").unwrap(); }
    /// assert_eq!(p.recorded_since_baseline(None, "default")?.function("f").unwrap().count, 2);
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn recorded_since_baseline(
        &self,
        function: Option<&str>,
        name: &str,
    ) -> Result<Snapshot, ProfileError> {
        let now = self.snapshot();
        let all = self.inner().baselines.lock();
        let b = all
            .iter()
            .find(|b| b.name == name)
            .ok_or_else(|| ProfileError::NoBaseline { name: name.to_owned() })?;
        // After a reset the mark is of another window: everything recorded is new.
        let since = if b.epoch == self.inner().epoch() { now.since(&b.mark).ok() } else { None };
        Ok(only(&since.unwrap_or(now), function))
    }

    /// Compares the calls recorded since the baseline `name` was set with the baseline: one
    /// comparison per function (of `function` only, when given), by the rule of the
    /// [`regress`](crate::regress) module.
    ///
    /// # Errors
    /// [`ProfileError::NoBaseline`] when no baseline of that name was set.
    ///
    /// # Examples
    /// ```
    /// use perfcore::regress::{CompareOptions, Verdict};
    /// let p = perfcore::PerformanceProfiler::new();
    /// p.profile_function("sum", 100, || (0..1_000u64).sum::<u64>())?;
    /// p.set_baseline(None, "default")?;
    /// p.profile_function("sum", 100, || (0..1_000u64).sum::<u64>())?;
    /// let report = p.compare_with_baseline(None, "default", &CompareOptions::default())?;
    /// assert_eq!(report.functions.len(), 1);
    /// assert_eq!(report.functions[0].current_calls, 100); // the new calls only
    /// # Ok::<(), perfcore::ProfileError>(())
    /// ```
    pub fn compare_with_baseline(
        &self,
        function: Option<&str>,
        name: &str,
        options: &CompareOptions,
    ) -> Result<Comparison, ProfileError> {
        let baseline = only(&self.baseline(name)?, function);
        let current = self.recorded_since_baseline(function, name)?;
        // A function of the baseline that was not called since is `Removed` only if the
        // baseline covered all functions; a one-function baseline says nothing of the others.
        let current = if function.is_none() {
            current
        } else {
            let names: Vec<&str> = baseline.functions.iter().map(|f| f.name.as_str()).collect();
            let functions = current
                .functions
                .iter()
                .filter(|f| names.contains(&f.name.as_str()))
                .cloned()
                .collect();
            Snapshot::from_functions(functions, current.started_unix_ns, current.ended_unix_ns)
        };
        Ok(compare(&baseline, &current, &[], options))
    }

    /// The functions that regressed since the baseline `name` was set, worst first: seed
    /// 003's `detect_regressions`, each with `function` and `degradation_percent` (and the
    /// metric that decided, its interval, p-value and verdict).
    ///
    /// A baseline set for one function is compared with that function only.
    ///
    /// # Errors
    /// [`ProfileError::NoBaseline`] when no baseline of that name was set.
    ///
    /// # Examples
    /// See [`set_baseline`](Self::set_baseline).
    pub fn detect_regressions(
        &self,
        name: &str,
        options: &CompareOptions,
    ) -> Result<Vec<FunctionComparison>, ProfileError> {
        let report = self.compare_with_baseline(None, name, options)?;
        let scope: Vec<String> =
            self.baseline(name)?.functions.iter().map(|f| f.name.clone()).collect();
        Ok(report
            .functions
            .into_iter()
            .filter(|f| f.verdict.is_regression() && scope.contains(&f.function))
            .collect())
    }
}

#[cfg(test)]
mod tests {
    use crate::PerformanceProfiler;
    use crate::regress::CompareOptions;

    /// On a manual clock, so the verdict does not depend on how busy the machine is.
    #[test]
    #[cfg(feature = "testing")]
    fn seed_003_flow_reports_the_new_calls_alone() {
        use crate::regress::Verdict;
        use std::time::Duration;
        let clock = crate::testing::ManualClock::new();
        let p = PerformanceProfiler::builder().clock(&clock).build().unwrap();
        let call = |micros: u64| {
            let clock = clock.clone();
            move || clock.advance(Duration::from_micros(micros))
        };
        p.profile_function("f", 300, call(30)).unwrap();
        p.set_baseline(Some("f"), "default").unwrap();
        // Unchanged code: no regression, and the comparison sees only the 300 new calls.
        p.profile_function("f", 300, call(30)).unwrap();
        let report =
            p.compare_with_baseline(Some("f"), "default", &CompareOptions::default()).unwrap();
        assert_eq!(report.functions[0].current_calls, 300);
        assert_eq!(report.functions[0].baseline_calls, 300);
        assert_eq!(report.functions[0].verdict, Verdict::Unchanged);
        // Three times the time: a regression of 200%.
        p.set_baseline(Some("f"), "default").unwrap();
        p.profile_function("f", 300, call(90)).unwrap();
        let regs = p.detect_regressions("default", &CompareOptions::default()).unwrap();
        assert_eq!(regs.len(), 1, "{regs:?}");
        assert_eq!(regs[0].verdict, Verdict::Regressed);
        assert!(
            (regs[0].degradation_percent - 200.0).abs() < 3.0,
            "{}",
            regs[0].degradation_percent
        );
    }

    #[test]
    fn unknown_names_and_resets() {
        let p = PerformanceProfiler::new();
        assert!(p.set_baseline(Some("never"), "default").is_err());
        assert!(p.compare_with_baseline(None, "nope", &CompareOptions::default()).is_err());
        for _ in 0..40 {
            drop(p.scope("g").unwrap());
        }
        p.set_baseline(None, "default").unwrap();
        p.reset();
        for _ in 0..35 {
            drop(p.scope("g").unwrap());
        }
        let since = p.recorded_since_baseline(None, "default").unwrap();
        assert_eq!(since.function("g").unwrap().count, 35);
    }
}
