//! Severity, thresholds and the evidence a finding carries.

use std::fmt;

use serde::{Deserialize, Serialize};

use super::fmt_ns;

/// How much a finding matters, from the [`Thresholds`] its figure passed.
///
/// # Examples
/// ```
/// use perfcore::analysis::Severity;
/// assert!(Severity::Critical > Severity::Warning && Severity::Warning > Severity::Info);
/// assert_eq!(Severity::Warning.to_string(), "warning");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, PartialOrd, Ord, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Severity {
    /// Worth knowing; past the `info` threshold.
    Info,
    /// Worth a look; past the `warning` threshold.
    Warning,
    /// Worth acting on; past the `critical` threshold.
    Critical,
}

impl Severity {
    /// The severity's name, as JSON writes it: `info`, `warning`, `critical`.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::analysis::Severity::Critical.name(), "critical");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Severity::Info => "info",
            Severity::Warning => "warning",
            Severity::Critical => "critical",
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.name())
    }
}

/// Three thresholds on one figure: a value at or above `critical` is
/// [`Severity::Critical`], at or above `warning` a warning, at or above `info` an info, and
/// below `info` no finding at all.
///
/// # Examples
/// ```
/// use perfcore::analysis::{Severity, Thresholds};
/// let t = Thresholds::new(0.05, 0.10, 0.25);
/// assert_eq!(t.severity(0.30), Some(Severity::Critical));
/// assert_eq!(t.severity(0.07), Some(Severity::Info));
/// assert_eq!(t.severity(0.01), None);
/// assert_eq!(t.severity(f64::NAN), None);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Thresholds {
    /// The least value that is a finding.
    pub info: f64,
    /// The least value that is a warning.
    pub warning: f64,
    /// The least value that is critical.
    pub critical: f64,
}

impl Thresholds {
    /// Thresholds of the three severities. They need not be ordered: the highest severity
    /// whose threshold the value reaches wins.
    ///
    /// # Examples
    /// ```
    /// let t = perfcore::analysis::Thresholds::new(1.0, 2.0, 3.0);
    /// assert_eq!(t.warning, 2.0);
    /// ```
    #[must_use]
    pub const fn new(info: f64, warning: f64, critical: f64) -> Self {
        Self { info, warning, critical }
    }

    /// The severity of `value`, `None` below every threshold (or for NaN).
    ///
    /// # Examples
    /// ```
    /// # use perfcore::analysis::{Severity, Thresholds};
    /// assert_eq!(Thresholds::new(1.0, 2.0, 3.0).severity(2.0), Some(Severity::Warning));
    /// ```
    #[must_use]
    pub fn severity(&self, value: f64) -> Option<Severity> {
        if value >= self.critical {
            Some(Severity::Critical)
        } else if value >= self.warning {
            Some(Severity::Warning)
        } else if value >= self.info {
            Some(Severity::Info)
        } else {
            None
        }
    }

    /// The threshold of `severity`.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::analysis::{Severity, Thresholds};
    /// assert_eq!(Thresholds::new(1.0, 2.0, 3.0).of(Severity::Critical), 3.0);
    /// ```
    #[must_use]
    pub fn of(&self, severity: Severity) -> f64 {
        match severity {
            Severity::Info => self.info,
            Severity::Warning => self.warning,
            Severity::Critical => self.critical,
        }
    }
}

/// The unit of an [`Evidence`] value, so a report can print it.
///
/// # Examples
/// ```
/// assert_eq!(perfcore::analysis::Unit::Fraction.name(), "fraction");
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum Unit {
    /// A fraction of a whole (0.25 prints as 25.0%).
    Fraction,
    /// A ratio of two figures (printed as `12.0×`).
    Ratio,
    /// Nanoseconds.
    Nanoseconds,
    /// Bytes.
    Bytes,
    /// A count (calls, allocations).
    Count,
}

impl Unit {
    /// The unit's name, as JSON writes it.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::analysis::Unit::Nanoseconds.name(), "nanoseconds");
    /// ```
    #[must_use]
    pub fn name(self) -> &'static str {
        match self {
            Unit::Fraction => "fraction",
            Unit::Ratio => "ratio",
            Unit::Nanoseconds => "nanoseconds",
            Unit::Bytes => "bytes",
            Unit::Count => "count",
        }
    }

    /// `value` written in this unit: `25.0%`, `12.0×`, `4.56 ms`, `64.0 KiB`, `1000000`.
    ///
    /// # Examples
    /// ```
    /// use perfcore::analysis::Unit;
    /// assert_eq!(Unit::Fraction.format(0.25), "25.0%");
    /// assert_eq!(Unit::Bytes.format(65_536.0), "64.0 KiB");
    /// ```
    #[must_use]
    pub fn format(self, value: f64) -> String {
        match self {
            Unit::Fraction => format!("{:.1}%", value * 100.0),
            Unit::Ratio => format!("{value:.1}×"),
            Unit::Nanoseconds => fmt_ns(value),
            Unit::Bytes => {
                let (mut v, mut unit) = (value, "B");
                for next in ["KiB", "MiB", "GiB", "TiB"] {
                    if v.abs() < 1024.0 {
                        break;
                    }
                    (v, unit) = (v / 1024.0, next);
                }
                if unit == "B" { format!("{v:.0} B") } else { format!("{v:.1} {unit}") }
            }
            Unit::Count => {
                if value.fract() == 0.0 {
                    format!("{value:.0}")
                } else {
                    format!("{value:.1}")
                }
            }
        }
    }
}

/// One measured figure behind a finding, with the threshold it was judged against.
///
/// # Examples
/// ```
/// use perfcore::analysis::{Evidence, Unit};
/// let e = Evidence::new("self_share", 0.41, Some(0.25), Unit::Fraction);
/// assert_eq!(e.to_string(), "self_share = 41.0% (threshold 25.0%)");
/// ```
#[derive(Clone, Debug, PartialEq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Evidence {
    /// What was measured, as a short snake_case name (`self_share`, `p99_over_p50`, ...).
    pub metric: String,
    /// The measured value, in `unit`.
    pub value: f64,
    /// The threshold of the severity the value reached, when this figure was judged
    /// (context figures such as the call count have none).
    pub threshold: Option<f64>,
    /// The unit of `value` and `threshold`.
    pub unit: Unit,
}

impl Evidence {
    /// One figure of evidence.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::analysis::{Evidence, Unit};
    /// assert_eq!(Evidence::new("calls", 3.0, None, Unit::Count).to_string(), "calls = 3");
    /// ```
    #[must_use]
    pub fn new(metric: &str, value: f64, threshold: Option<f64>, unit: Unit) -> Self {
        Self { metric: metric.to_owned(), value, threshold, unit }
    }
}

impl fmt::Display for Evidence {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} = {}", self.metric, self.unit.format(self.value))?;
        if let Some(t) = self.threshold {
            write!(f, " (threshold {})", self.unit.format(t))?;
        }
        Ok(())
    }
}
