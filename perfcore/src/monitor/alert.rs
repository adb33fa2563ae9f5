//! Alert rules over [`Observation`]s, and the engine that walks each alert through its
//! lifecycle: inactive → pending → firing → resolved.
//!
//! A rule compares one metric with a threshold (`system_cpu_utilization_ratio > 0.8`),
//! optionally only on series whose labels match, and applies to each series separately: a disk
//! rule fires once per mount that is full. A rule with a `for` duration stays *pending* until
//! the condition has held that long, then *fires*; a pending alert whose condition stops
//! holding is *cancelled* (it never fired, so nothing is resolved). A firing alert *resolves*
//! once its value is back past the rule's resolve level (hysteresis: by default the
//! threshold itself), or once its series has been missing from the observations for the
//! engine's [`stale_after`](AlertEngine::stale_after) (5 minutes by default, Prometheus's own
//! look-back: a disk unmounted or a function no longer called stops its alert, a sampler
//! skipping a few ticks does not).
//!
//! The text form of rules is documented on [`AlertRule`].

use std::collections::{BTreeMap, HashMap};
use std::fmt;
use std::time::Duration;

use serde::Serialize;

use super::{MonitorError, Observation};

/// How urgent an alert is.
///
/// # Examples
/// ```
/// use perfcore::monitor::Severity;
/// assert_eq!(Severity::Critical.as_str(), "critical");
/// assert!(Severity::Critical > Severity::Warning);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Severity {
    /// Someone should look soon.
    #[default]
    Warning,
    /// Someone should look now.
    Critical,
}

impl Severity {
    /// The word used in the text form, events and the `alerts` series.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::monitor::Severity::Warning.as_str(), "warning");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Warning => "warning",
            Self::Critical => "critical",
        }
    }

    /// The severity named `word` (`"warning"` or `"critical"`).
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::Severity;
    /// assert_eq!(Severity::from_name("critical"), Some(Severity::Critical));
    /// assert_eq!(Severity::from_name("page"), None);
    /// ```
    #[must_use]
    pub fn from_name(word: &str) -> Option<Self> {
        match word {
            "warning" => Some(Self::Warning),
            "critical" => Some(Self::Critical),
            _ => None,
        }
    }
}

impl fmt::Display for Severity {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(self.as_str())
    }
}

/// Which side of the threshold is the bad one.
///
/// # Examples
/// ```
/// use perfcore::monitor::{AlertRule, Comparison};
/// assert_eq!(AlertRule::below("low_hits", "cache_hit_ratio", 0.8).comparison, Comparison::Below);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum Comparison {
    /// The alert fires when the value is above the threshold (`>`).
    Above,
    /// The alert fires when the value is below the threshold (`<`).
    Below,
}

impl Comparison {
    /// `>` or `<`.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::monitor::Comparison::Above.symbol(), ">");
    /// ```
    #[must_use]
    pub fn symbol(self) -> &'static str {
        match self {
            Self::Above => ">",
            Self::Below => "<",
        }
    }

    /// Whether `value` is strictly on the bad side of `level` (never for NaN).
    fn past(self, value: f64, level: f64) -> bool {
        match self {
            Self::Above => value > level,
            Self::Below => value < level,
        }
    }
}

/// One alert rule: a metric, a threshold and what to do when it is crossed.
///
/// Built with [`above`](Self::above) / [`below`](Self::below) and the setters, or read with
/// [`parse`](Self::parse); checked by [`validate`](Self::validate) (which
/// [`AlertEngine::new`] calls).
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use perfcore::monitor::{AlertRule, Severity};
/// let rule = AlertRule::above("disk_full", "system_disk_utilization_ratio", 0.9)
///     .severity(Severity::Critical)
///     .for_duration(Duration::from_secs(60))
///     .resolve_at(0.85)
///     .matching("mount", "/")
///     .summary("disk {labels} is {value} full");
/// rule.validate()?;
/// assert_eq!(rule.to_string(), r#"disk_full: system_disk_utilization_ratio{mount="/"} > 0.9 for 1m resolve 0.85 severity critical summary "disk {labels} is {value} full""#);
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
///
/// # The text form
/// Rules read from configuration, the command line or Python use one line each:
///
/// ```text
/// rule     = name ":" metric [ "{" matcher { "," matcher } "}" ] ( ">" | "<" ) number { clause }
/// matcher  = label "=" string
/// clause   = "for" duration | "resolve" number | "severity" ( "warning" | "critical" )
///          | "summary" string
/// duration = { integer unit }       unit = "h" | "m" | "s" | "ms" | "us" | "ns"   (1m30s)
/// string   = '"' { char | '\"' | '\\' | '\n' } '"'
/// ```
///
/// `name` is `[A-Za-z_][A-Za-z0-9_.-]*`, `metric` a Prometheus metric name and `label` a label
/// name; each clause comes at most once, in any order; spaces are free between tokens.
/// `Display` writes this form back, and parsing it gives the same rule.
///
/// ```
/// use perfcore::monitor::{AlertRule, Severity};
/// let rule = AlertRule::parse(r#"disk_full: system_disk_utilization_ratio{mount="/"} > 0.9 for 5m resolve 0.85 severity critical"#)?;
/// assert_eq!(rule.severity, Severity::Critical);
/// assert_eq!(AlertRule::parse(&rule.to_string())?, rule);
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AlertRule {
    /// The alert's name (`alertname` in the `alerts` series).
    pub name: String,
    /// The metric it watches, as observations name it.
    pub metric: String,
    /// Above or below.
    pub comparison: Comparison,
    /// The level past which the alert becomes pending (or fires, without a `for`).
    pub threshold: f64,
    /// The level a firing alert must come back past to resolve; `None`: the threshold.
    pub resolve: Option<f64>,
    /// Warning or critical.
    pub severity: Severity,
    /// How long the condition must hold before the alert fires.
    #[serde(serialize_with = "as_secs")]
    pub for_duration: Duration,
    /// Label matchers (`label = value`): the rule only reads series that have them all.
    pub matchers: Vec<(String, String)>,
    /// The summary template (`{value}`, `{threshold}`, `{labels}`, `{metric}`); `None`: the
    /// default, `"{metric}{labels} is {value}, above {threshold}"`.
    pub summary: Option<String>,
}

fn as_secs<S: serde::Serializer>(d: &Duration, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_f64(d.as_secs_f64())
}

impl AlertRule {
    fn new(name: &str, metric: &str, comparison: Comparison, threshold: f64) -> Self {
        Self {
            name: name.to_owned(),
            metric: metric.to_owned(),
            comparison,
            threshold,
            resolve: None,
            severity: Severity::Warning,
            for_duration: Duration::ZERO,
            matchers: Vec::new(),
            summary: None,
        }
    }

    /// A warning that fires at once when `metric` is above `threshold`.
    ///
    /// # Examples
    /// ```
    /// let r = perfcore::monitor::AlertRule::above("cpu", "system_cpu_utilization_ratio", 0.8);
    /// assert_eq!(r.to_string(), "cpu: system_cpu_utilization_ratio > 0.8 severity warning");
    /// ```
    #[must_use]
    pub fn above(name: &str, metric: &str, threshold: f64) -> Self {
        Self::new(name, metric, Comparison::Above, threshold)
    }

    /// A warning that fires at once when `metric` is below `threshold`.
    ///
    /// # Examples
    /// ```
    /// let r = perfcore::monitor::AlertRule::below("hits", "cache_hit_ratio", 0.8);
    /// assert_eq!(r.to_string(), "hits: cache_hit_ratio < 0.8 severity warning");
    /// ```
    #[must_use]
    pub fn below(name: &str, metric: &str, threshold: f64) -> Self {
        Self::new(name, metric, Comparison::Below, threshold)
    }

    /// Sets the severity.
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::{AlertRule, Severity};
    /// assert_eq!(AlertRule::above("a", "m", 1.0).severity(Severity::Critical).severity, Severity::Critical);
    /// ```
    #[must_use]
    pub fn severity(mut self, severity: Severity) -> Self {
        self.severity = severity;
        self
    }

    /// Keeps the alert pending until the condition has held for `d`.
    ///
    /// # Examples
    /// ```
    /// let r = perfcore::monitor::AlertRule::above("a", "m", 1.0).for_duration(std::time::Duration::from_secs(90));
    /// assert!(r.to_string().contains("for 1m30s"));
    /// ```
    #[must_use]
    pub fn for_duration(mut self, d: Duration) -> Self {
        self.for_duration = d;
        self
    }

    /// A firing alert resolves only once the value is back past `level` (below it for an
    /// `above` rule), which keeps a value hovering at the threshold from flapping.
    ///
    /// # Examples
    /// ```
    /// let r = perfcore::monitor::AlertRule::above("a", "m", 0.9).resolve_at(0.8);
    /// assert_eq!(r.resolve_level(), 0.8);
    /// ```
    #[must_use]
    pub fn resolve_at(mut self, level: f64) -> Self {
        self.resolve = Some(level);
        self
    }

    /// Only series with the label `label` equal to `value` (repeat for more labels).
    ///
    /// # Examples
    /// ```
    /// let r = perfcore::monitor::AlertRule::above("a", "m", 0.9).matching("mount", "/");
    /// assert_eq!(r.matchers, vec![("mount".to_string(), "/".to_string())]);
    /// ```
    #[must_use]
    pub fn matching(mut self, label: &str, value: &str) -> Self {
        self.matchers.push((label.to_owned(), value.to_owned()));
        self
    }

    /// The summary template: `{value}`, `{threshold}`, `{labels}` (`{mount="/"}`, or nothing)
    /// and `{metric}` are replaced in each event.
    ///
    /// # Examples
    /// ```
    /// let r = perfcore::monitor::AlertRule::above("a", "m", 0.9).summary("m at {value}");
    /// assert_eq!(r.summary.as_deref(), Some("m at {value}"));
    /// ```
    #[must_use]
    pub fn summary(mut self, template: &str) -> Self {
        self.summary = Some(template.to_owned());
        self
    }

    /// The level a firing alert resolves at: [`resolve`](Self::resolve), or the threshold.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::monitor::AlertRule::above("a", "m", 0.9).resolve_level(), 0.9);
    /// ```
    #[must_use]
    pub fn resolve_level(&self) -> f64 {
        self.resolve.unwrap_or(self.threshold)
    }

    /// Checks the rule: a name, Prometheus metric and label names, finite levels, and a
    /// resolve level on the good side of the threshold (at or below it for an `above` rule).
    ///
    /// # Errors
    /// [`MonitorError::InvalidRule`] naming the rule and what is wrong, or
    /// [`MonitorError::InvalidName`] for a metric or label name.
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::AlertRule;
    /// assert!(AlertRule::above("a", "m", 0.9).resolve_at(0.95).validate().is_err());
    /// assert!(AlertRule::above("a", "9m", 0.9).validate().is_err());
    /// assert!(AlertRule::above("a", "m", 0.9).resolve_at(0.8).validate().is_ok());
    /// ```
    pub fn validate(&self) -> Result<(), MonitorError> {
        let bad = |reason: String| MonitorError::InvalidRule { rule: self.name.clone(), reason };
        if !is_rule_name(&self.name) {
            return Err(bad("the name must match [A-Za-z_][A-Za-z0-9_.-]*".into()));
        }
        check_metric_name(&self.metric)?;
        for (label, _) in &self.matchers {
            check_label_name(label)?;
        }
        if !self.threshold.is_finite() {
            return Err(bad(format!("the threshold {} is not a finite number", self.threshold)));
        }
        if let Some(r) = self.resolve {
            if !r.is_finite() {
                return Err(bad(format!("the resolve level {r} is not a finite number")));
            }
            if self.comparison.past(r, self.threshold) {
                let side = match self.comparison {
                    Comparison::Above => "above",
                    Comparison::Below => "below",
                };
                return Err(bad(format!(
                    "the resolve level {r} is {side} the threshold {}: a firing alert would never resolve before it fires again",
                    self.threshold
                )));
            }
        }
        Ok(())
    }

    /// Whether `labels` has every matcher.
    fn matches(&self, o: &Observation) -> bool {
        o.name == self.metric.as_str()
            && self.matchers.iter().all(|(k, v)| o.label_value(k) == Some(v.as_str()))
    }

    /// The summary of an alert of this rule with `value` on a series with `labels`.
    fn render_summary(&self, value: f64, labels: &[(String, String)]) -> String {
        let default = match self.comparison {
            Comparison::Above => "{metric}{labels} is {value}, above {threshold}",
            Comparison::Below => "{metric}{labels} is {value}, below {threshold}",
        };
        let template = self.summary.as_deref().unwrap_or(default);
        let labels = if labels.is_empty() {
            String::new()
        } else {
            let inner: Vec<String> =
                labels.iter().map(|(k, v)| format!("{k}=\"{}\"", escape(v))).collect();
            format!("{{{}}}", inner.join(", "))
        };
        template
            .replace("{value}", &fmt_value(value))
            .replace("{threshold}", &fmt_value(self.threshold))
            .replace("{labels}", &labels)
            .replace("{metric}", &self.metric)
    }

    /// Reads a rule from its text form (the grammar is in [`AlertRule`]'s docs).
    ///
    /// # Errors
    /// [`MonitorError::InvalidRule`] with the text and the column (counted in characters from
    /// 1) where it stops making sense, or what [`validate`](Self::validate) finds.
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::AlertRule;
    /// let r = AlertRule::parse("slow: function_p95_seconds{function=\"load\"} > 2 for 2m")?;
    /// assert_eq!(r.threshold, 2.0);
    /// let e = AlertRule::parse("slow: function_p95_seconds >> 2").unwrap_err();
    /// assert!(e.to_string().contains("column 29"), "{e}");
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn parse(text: &str) -> Result<Self, MonitorError> {
        let mut p = Parser { text, chars: text.char_indices().collect(), pos: 0 };
        let rule = p.rule().map_err(|(col, reason)| MonitorError::InvalidRule {
            rule: text.to_owned(),
            reason: format!("column {col}: {reason}"),
        })?;
        rule.validate()?;
        Ok(rule)
    }

    /// The seed's alerts: CPU, memory and disk (per mount) at warning and critical levels,
    /// slow functions and failing functions.
    ///
    /// | rule | condition | for | resolves below | severity |
    /// |---|---|---|---|---|
    /// | `cpu_warning` | `system_cpu_utilization_ratio > 0.8` | 5m | 0.75 | warning |
    /// | `cpu_critical` | `system_cpu_utilization_ratio > 0.9` | 2m | 0.85 | critical |
    /// | `memory_warning` | `system_memory_utilization_ratio > 0.85` | 5m | 0.8 | warning |
    /// | `memory_critical` | `system_memory_utilization_ratio > 0.95` | 1m | 0.9 | critical |
    /// | `disk_warning` | `system_disk_utilization_ratio > 0.9` | 5m | 0.88 | warning |
    /// | `disk_critical` | `system_disk_utilization_ratio > 0.95` | 1m | 0.93 | critical |
    /// | `function_slow` | `function_p95_seconds > 2` | 2m | 1.5 | warning |
    /// | `function_errors` | `function_error_ratio > 0.05` | 2m | 0.03 | critical |
    ///
    /// Why these `for` durations: CPU bursts are normal (a build, a GC, a batch), so only
    /// load that lasts five minutes warns, and two at 90% is critical. Memory near full is
    /// closer to the OOM killer than CPU is to anything, so the critical level waits only a
    /// minute. Disks fill slowly, but a temporary file can push a disk past 90% for a
    /// moment: five minutes for the warning, one for the critical level. The function rules
    /// read statistics over a window (60 s by default, see `FunctionWindow`), which already
    /// smooths one slow or failed call; two minutes is two whole windows. The resolve levels
    /// sit a little on the good side of each threshold so a value hovering there does not
    /// flap. Rules apply per series: per mount for the disk, per `function` for the function
    /// rules.
    ///
    /// # Examples
    /// ```
    /// let rules = perfcore::monitor::AlertRule::defaults();
    /// assert_eq!(rules.len(), 8);
    /// assert!(rules.iter().all(|r| r.validate().is_ok()));
    /// ```
    #[must_use]
    pub fn defaults() -> Vec<Self> {
        let m = |n: u64| Duration::from_secs(60 * n);
        let (w, c) = (Severity::Warning, Severity::Critical);
        let cpu = "system_cpu_utilization_ratio";
        let mem = "system_memory_utilization_ratio";
        let disk = "system_disk_utilization_ratio";
        vec![
            Self::above("cpu_warning", cpu, 0.8).for_duration(m(5)).resolve_at(0.75).severity(w),
            Self::above("cpu_critical", cpu, 0.9).for_duration(m(2)).resolve_at(0.85).severity(c),
            Self::above("memory_warning", mem, 0.85).for_duration(m(5)).resolve_at(0.8).severity(w),
            Self::above("memory_critical", mem, 0.95)
                .for_duration(m(1))
                .resolve_at(0.9)
                .severity(c),
            Self::above("disk_warning", disk, 0.9).for_duration(m(5)).resolve_at(0.88).severity(w),
            Self::above("disk_critical", disk, 0.95)
                .for_duration(m(1))
                .resolve_at(0.93)
                .severity(c),
            Self::above("function_slow", "function_p95_seconds", 2.0)
                .for_duration(m(2))
                .resolve_at(1.5)
                .severity(w)
                .summary("{labels} p95 is {value} s, above {threshold} s"),
            Self::above("function_errors", "function_error_ratio", 0.05)
                .for_duration(m(2))
                .resolve_at(0.03)
                .severity(c)
                .summary("{labels} fails {value} of its calls, above {threshold}"),
        ]
    }
}

impl fmt::Display for AlertRule {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}: {}", self.name, self.metric)?;
        if !self.matchers.is_empty() {
            f.write_str("{")?;
            for (i, (k, v)) in self.matchers.iter().enumerate() {
                if i > 0 {
                    f.write_str(", ")?;
                }
                write!(f, "{k}=\"{}\"", escape(v))?;
            }
            f.write_str("}")?;
        }
        write!(f, " {} {}", self.comparison.symbol(), self.threshold)?;
        if !self.for_duration.is_zero() {
            write!(f, " for {}", fmt_duration(self.for_duration))?;
        }
        if let Some(r) = self.resolve {
            write!(f, " resolve {r}")?;
        }
        write!(f, " severity {}", self.severity)?;
        if let Some(s) = &self.summary {
            write!(f, " summary \"{}\"", escape(s))?;
        }
        Ok(())
    }
}

/// `1h30m`, `1s500ms`, `0s`.
fn fmt_duration(d: Duration) -> String {
    if d.is_zero() {
        return "0s".into();
    }
    let mut ns = d.as_nanos();
    let mut out = String::new();
    for (unit, size) in [
        ("h", 3_600_000_000_000u128),
        ("m", 60_000_000_000),
        ("s", 1_000_000_000),
        ("ms", 1_000_000),
        ("us", 1_000),
        ("ns", 1),
    ] {
        let n = ns / size;
        if n > 0 {
            out.push_str(&format!("{n}{unit}"));
            ns -= n * size;
        }
    }
    out
}

fn escape(s: &str) -> String {
    s.replace('\\', "\\\\").replace('"', "\\\"").replace('\n', "\\n")
}

/// A value for a summary: four decimals at most, trailing zeros cut.
fn fmt_value(v: f64) -> String {
    if !v.is_finite() || v.abs() >= 1e9 {
        return format!("{v}");
    }
    let s = format!("{v:.4}");
    let s = s.trim_end_matches('0').trim_end_matches('.');
    if s == "-0" { "0".into() } else { s.into() }
}

fn is_rule_name(s: &str) -> bool {
    let mut chars = s.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic() || c == '_')
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'))
}

fn check_metric_name(name: &str) -> Result<(), MonitorError> {
    let bad = |reason: &str| MonitorError::InvalidName {
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    let mut chars = name.chars();
    match chars.next() {
        None => return Err(bad("it is empty")),
        Some(c) if c.is_ascii_digit() => return Err(bad("starts with a digit")),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_' || c == ':') => {
            return Err(bad("holds a character outside [a-zA-Z0-9_:]"));
        }
        Some(_) => {}
    }
    if chars.all(|c| c.is_ascii_alphanumeric() || c == '_' || c == ':') {
        Ok(())
    } else {
        Err(bad("holds a character outside [a-zA-Z0-9_:]"))
    }
}

fn check_label_name(name: &str) -> Result<(), MonitorError> {
    let bad = |reason: &str| MonitorError::InvalidName {
        name: name.to_owned(),
        reason: reason.to_owned(),
    };
    if name.contains(':') {
        return Err(bad("label names cannot hold ':'"));
    }
    if name.starts_with("__") {
        return Err(bad("label names starting with __ are reserved"));
    }
    check_metric_name(name)
}

/// The text form's parser; errors are (column, reason).
struct Parser<'a> {
    text: &'a str,
    chars: Vec<(usize, char)>,
    pos: usize,
}

type PResult<T> = Result<T, (usize, String)>;

impl Parser<'_> {
    fn peek(&self) -> Option<char> {
        self.chars.get(self.pos).map(|&(_, c)| c)
    }

    fn col(&self) -> usize {
        self.pos + 1
    }

    fn err<T>(&self, what: &str) -> PResult<T> {
        let found = match self.peek() {
            Some(c) => format!("found {c:?}"),
            None => "found the end".to_owned(),
        };
        Err((self.col(), format!("expected {what}, {found}")))
    }

    fn ws(&mut self) {
        while self.peek().is_some_and(char::is_whitespace) {
            self.pos += 1;
        }
    }

    fn eat(&mut self, c: char) -> bool {
        self.ws();
        if self.peek() == Some(c) {
            self.pos += 1;
            true
        } else {
            false
        }
    }

    fn expect(&mut self, c: char) -> PResult<()> {
        if self.eat(c) { Ok(()) } else { self.err(&format!("{c:?}")) }
    }

    /// A run of characters: `first` for the first one, `rest` for the others.
    fn word(&mut self, first: fn(char) -> bool, rest: fn(char) -> bool) -> Option<String> {
        self.ws();
        let start = self.pos;
        if !self.peek().is_some_and(first) {
            return None;
        }
        self.pos += 1;
        while self.peek().is_some_and(rest) {
            self.pos += 1;
        }
        Some(self.slice(start, self.pos).to_owned())
    }

    fn slice(&self, from: usize, to: usize) -> &str {
        let at = |i: usize| self.chars.get(i).map_or(self.text.len(), |&(b, _)| b);
        &self.text[at(from)..at(to)]
    }

    fn string(&mut self) -> PResult<String> {
        self.ws();
        if self.peek() != Some('"') {
            return self.err("a string in double quotes");
        }
        let start = self.col();
        self.pos += 1;
        let mut out = String::new();
        loop {
            match self.peek() {
                None => return Err((start, "the string is not closed".into())),
                Some('"') => {
                    self.pos += 1;
                    return Ok(out);
                }
                Some('\\') => {
                    self.pos += 1;
                    match self.peek() {
                        Some('"') => out.push('"'),
                        Some('\\') => out.push('\\'),
                        Some('n') => out.push('\n'),
                        _ => return self.err("an escape: \\\", \\\\ or \\n"),
                    }
                    self.pos += 1;
                }
                Some(c) => {
                    out.push(c);
                    self.pos += 1;
                }
            }
        }
    }

    fn number(&mut self) -> PResult<f64> {
        self.ws();
        let start = self.pos;
        let digits = |p: &mut Self| {
            let s = p.pos;
            while p.peek().is_some_and(|c| c.is_ascii_digit()) {
                p.pos += 1;
            }
            p.pos > s
        };
        if matches!(self.peek(), Some('-' | '+')) {
            self.pos += 1;
        }
        let int = digits(self);
        let mut frac = false;
        if self.peek() == Some('.') {
            self.pos += 1;
            frac = digits(self);
        }
        if !int && !frac {
            self.pos = start;
            return self.err("a number");
        }
        if matches!(self.peek(), Some('e' | 'E')) {
            self.pos += 1;
            if matches!(self.peek(), Some('-' | '+')) {
                self.pos += 1;
            }
            if !digits(self) {
                return self.err("the exponent's digits");
            }
        }
        let text = self.slice(start, self.pos);
        match text.parse::<f64>() {
            Ok(v) if v.is_finite() => Ok(v),
            _ => Err((start + 1, format!("{text} is not a finite number"))),
        }
    }

    fn duration(&mut self) -> PResult<Duration> {
        self.ws();
        let start = self.col();
        let mut total: u128 = 0;
        let mut parts = 0;
        while self.peek().is_some_and(|c| c.is_ascii_digit()) {
            let s = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_digit()) {
                self.pos += 1;
            }
            let n: u128 = self
                .slice(s, self.pos)
                .parse()
                .map_err(|_| (s + 1, "the number is too large".to_owned()))?;
            let u = self.pos;
            while self.peek().is_some_and(|c| c.is_ascii_alphabetic()) {
                self.pos += 1;
            }
            let size: u128 = match self.slice(u, self.pos) {
                "h" => 3_600_000_000_000,
                "m" => 60_000_000_000,
                "s" => 1_000_000_000,
                "ms" => 1_000_000,
                "us" => 1_000,
                "ns" => 1,
                _ => return Err((u + 1, "expected a unit: h, m, s, ms, us or ns".into())),
            };
            total = n
                .checked_mul(size)
                .and_then(|v| v.checked_add(total))
                .ok_or((start, "the duration is too long".to_owned()))?;
            parts += 1;
        }
        if parts == 0 {
            return self.err("a duration such as 30s, 5m or 1h30m");
        }
        let secs = u64::try_from(total / 1_000_000_000)
            .map_err(|_| (start, "the duration is too long".to_owned()))?;
        // Below 1e9: fits.
        Ok(Duration::new(secs, (total % 1_000_000_000) as u32))
    }

    fn rule(&mut self) -> PResult<AlertRule> {
        let name = self
            .word(
                |c| c.is_ascii_alphabetic() || c == '_',
                |c| c.is_ascii_alphanumeric() || matches!(c, '_' | '.' | '-'),
            )
            .map_or_else(|| self.err("the rule's name"), Ok)?;
        self.expect(':')?;
        let metric = self
            .word(
                |c| c.is_ascii_alphabetic() || c == '_' || c == ':',
                |c| c.is_ascii_alphanumeric() || c == '_' || c == ':',
            )
            .map_or_else(|| self.err("a metric name"), Ok)?;
        let mut matchers = Vec::new();
        if self.eat('{') {
            loop {
                let label = self
                    .word(
                        |c| c.is_ascii_alphabetic() || c == '_',
                        |c| c.is_ascii_alphanumeric() || c == '_',
                    )
                    .map_or_else(|| self.err("a label name"), Ok)?;
                self.expect('=')?;
                let value = self.string()?;
                matchers.push((label, value));
                if self.eat(',') {
                    continue;
                }
                self.expect('}')?;
                break;
            }
        }
        let comparison = if self.eat('>') {
            Comparison::Above
        } else if self.eat('<') {
            Comparison::Below
        } else {
            return self.err("'>' or '<'");
        };
        let threshold = self.number()?;
        let mut rule = AlertRule::new(&name, &metric, comparison, threshold);
        rule.matchers = matchers;
        let mut seen: HashMap<&'static str, ()> = HashMap::new();
        loop {
            self.ws();
            if self.peek().is_none() {
                return Ok(rule);
            }
            let col = self.col();
            let Some(word) = self.word(|c| c.is_ascii_alphabetic(), |c| c.is_ascii_alphabetic())
            else {
                return self.err("for, resolve, severity, summary or the end");
            };
            let key: &'static str = match word.as_str() {
                "for" => "for",
                "resolve" => "resolve",
                "severity" => "severity",
                "summary" => "summary",
                _ => {
                    return Err((
                        col,
                        format!(
                            "expected for, resolve, severity, summary or the end, found {word:?}"
                        ),
                    ));
                }
            };
            if seen.insert(key, ()).is_some() {
                return Err((col, format!("{key} is given twice")));
            }
            match key {
                "for" => rule.for_duration = self.duration()?,
                "resolve" => rule.resolve = Some(self.number()?),
                "severity" => {
                    self.ws();
                    let c = self.col();
                    let w = self
                        .word(|c| c.is_ascii_alphabetic(), |c| c.is_ascii_alphabetic())
                        .unwrap_or_default();
                    rule.severity = Severity::from_name(&w)
                        .ok_or((c, format!("expected warning or critical, found {w:?}")))?;
                }
                _ => rule.summary = Some(self.string()?),
            }
        }
    }
}

/// Where an alert is in its lifecycle, as events and [`ActiveAlert`]s report it.
///
/// # Examples
/// ```
/// use perfcore::monitor::AlertState;
/// assert_eq!(AlertState::Firing.as_str(), "firing");
/// assert!(AlertState::Resolved.is_notification() && !AlertState::Pending.is_notification());
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Hash, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum AlertState {
    /// The condition holds, not yet for the rule's `for` duration.
    Pending,
    /// The condition has held for the `for` duration: the alert is on.
    Firing,
    /// A firing alert whose value came back past the resolve level, or whose series went away.
    Resolved,
    /// A pending alert whose condition stopped holding before it fired.
    Cancelled,
}

impl AlertState {
    /// `pending`, `firing`, `resolved` or `cancelled`.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::monitor::AlertState::Cancelled.as_str(), "cancelled");
    /// ```
    #[must_use]
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Pending => "pending",
            Self::Firing => "firing",
            Self::Resolved => "resolved",
            Self::Cancelled => "cancelled",
        }
    }

    /// Whether an event in this state is one people are told about (firing, resolved), as
    /// Alertmanager is; pending and cancelled are bookkeeping.
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::monitor::AlertState::Firing.is_notification());
    /// ```
    #[must_use]
    pub fn is_notification(self) -> bool {
        matches!(self, Self::Firing | Self::Resolved)
    }
}

/// A change of an alert's state, as [`AlertEngine::evaluate`] returns it and sinks receive it.
///
/// Serialized (JSON lines, webhooks) as one object:
/// `{"rule": "disk_warning", "metric": "system_disk_utilization_ratio", "severity":
/// "warning", "state": "firing", "labels": {"mount": "/"}, "value": 0.93, "threshold": 0.9,
/// "started_unix_ns": 1700000000000000000, "at_unix_ns": 1700000300000000000, "summary":
/// "..."}`; `state` is `pending`, `firing`, `resolved` or `cancelled`, `started_unix_ns` when
/// the alert became pending (or fired, without a `for`), `at_unix_ns` when this change
/// happened, `value` the series' last value (a non-finite one is `null`).
///
/// # Examples
/// ```
/// use perfcore::monitor::{AlertEngine, AlertRule, AlertState, Observation};
/// let mut engine = AlertEngine::new(vec![AlertRule::above("hot", "temp", 80.0)])?;
/// let events = engine.evaluate(1_000, &[Observation::gauge("temp", "", 85.0)]);
/// assert_eq!(events[0].state, AlertState::Firing);
/// let json = serde_json::to_value(&events[0]).unwrap();
/// assert_eq!(json["state"], "firing");
/// assert_eq!(json["summary"], "temp is 85, above 80");
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct AlertEvent {
    /// The rule's name.
    pub rule: String,
    /// The metric the rule watches.
    pub metric: String,
    /// The rule's severity.
    pub severity: Severity,
    /// The state the alert entered.
    pub state: AlertState,
    /// The series' labels.
    pub labels: BTreeMap<String, String>,
    /// The series' last value.
    pub value: f64,
    /// The rule's threshold.
    pub threshold: f64,
    /// When the alert became active (pending, or firing without a `for`), Unix ns.
    pub started_unix_ns: u64,
    /// When this change happened, Unix ns.
    pub at_unix_ns: u64,
    /// The rule's summary filled in.
    pub summary: String,
}

/// A pending or firing alert, as [`AlertEngine::active`] lists it.
///
/// # Examples
/// ```
/// use perfcore::monitor::{AlertEngine, AlertRule, AlertState, Observation};
/// let rule = AlertRule::above("hot", "temp", 80.0).for_duration(std::time::Duration::from_secs(60));
/// let mut engine = AlertEngine::new(vec![rule])?;
/// engine.evaluate(0, &[Observation::gauge("temp", "", 85.0)]);
/// assert_eq!(engine.active()[0].state, AlertState::Pending);
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
#[derive(Clone, Debug, PartialEq, Serialize)]
#[non_exhaustive]
pub struct ActiveAlert {
    /// The rule's name.
    pub rule: String,
    /// The metric the rule watches.
    pub metric: String,
    /// The rule's severity.
    pub severity: Severity,
    /// Pending or firing.
    pub state: AlertState,
    /// The series' labels.
    pub labels: BTreeMap<String, String>,
    /// The series' last value.
    pub value: f64,
    /// The rule's threshold.
    pub threshold: f64,
    /// When it became pending (or fired, without a `for`), Unix ns.
    pub started_unix_ns: u64,
    /// When it fired, Unix ns, if it has.
    pub firing_since_unix_ns: Option<u64>,
}

/// One alert's state inside the engine.
#[derive(Clone, Debug)]
struct Tracked {
    firing_since: Option<u64>,
    started: u64,
    last_seen: u64,
    value: f64,
}

/// The series of one rule: the rule's index and the series' sorted labels.
type SeriesKey = (usize, Vec<(String, String)>);

/// Evaluates rules over observations and keeps each alert's state between evaluations.
///
/// A rule compares one metric with a threshold (`system_cpu_utilization_ratio > 0.8`),
/// optionally only on series whose labels match, and applies to each series separately: a disk
/// rule fires once per mount that is full. A rule with a `for` duration stays *pending* until
/// the condition has held that long, then *fires*; a pending alert whose condition stops
/// holding is *cancelled* (it never fired, so nothing is resolved). A firing alert *resolves*
/// once its value is back past the rule's resolve level (hysteresis: by default the
/// threshold itself), or once its series has been missing from the observations for the
/// engine's [`stale_after`](Self::stale_after) (5 minutes by default, Prometheus's own
/// look-back: a disk unmounted or a function no longer called stops its alert, a sampler
/// skipping a few ticks does not).
///
/// Memory: one small entry per pending or firing alert; inactive series are not kept.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use perfcore::monitor::{AlertEngine, AlertRule, AlertState, Observation};
/// let s = 1_000_000_000u64;
/// let rule = AlertRule::above("disk", "system_disk_utilization_ratio", 0.9).for_duration(Duration::from_secs(60));
/// let mut engine = AlertEngine::new(vec![rule])?;
/// let full = |v: f64| vec![Observation::gauge("system_disk_utilization_ratio", "", v).label("mount", "/")];
/// assert_eq!(engine.evaluate(0, &full(0.95))[0].state, AlertState::Pending);
/// assert!(engine.evaluate(30 * s, &full(0.96)).is_empty()); // still pending: no event
/// assert_eq!(engine.evaluate(60 * s, &full(0.97))[0].state, AlertState::Firing);
/// assert!(engine.evaluate(90 * s, &full(0.97)).is_empty()); // deduplicated
/// assert_eq!(engine.evaluate(120 * s, &full(0.5))[0].state, AlertState::Resolved);
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
#[derive(Debug)]
pub struct AlertEngine {
    rules: Vec<AlertRule>,
    tracked: BTreeMap<SeriesKey, Tracked>,
    stale_after: Duration,
}

impl AlertEngine {
    /// An engine for `rules`, each checked with [`AlertRule::validate`].
    ///
    /// # Errors
    /// The first rule's [`validate`](AlertRule::validate) error.
    ///
    /// # Examples
    /// ```
    /// let engine = perfcore::monitor::AlertEngine::new(perfcore::monitor::AlertRule::defaults())?;
    /// assert_eq!(engine.rules().len(), 8);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn new(rules: Vec<AlertRule>) -> Result<Self, MonitorError> {
        for r in &rules {
            r.validate()?;
        }
        Ok(Self { rules, tracked: BTreeMap::new(), stale_after: Duration::from_secs(300) })
    }

    /// How long a series may be missing from the observations before its alert ends
    /// (resolved if firing, cancelled if pending); 5 minutes by default.
    ///
    /// # Examples
    /// ```
    /// let engine = perfcore::monitor::AlertEngine::new(vec![])?.stale_after(std::time::Duration::from_secs(60));
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn stale_after(mut self, d: Duration) -> Self {
        self.stale_after = d;
        self
    }

    /// The rules.
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::monitor::AlertEngine::new(vec![])?.rules().is_empty());
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn rules(&self) -> &[AlertRule] {
        &self.rules
    }

    /// Reads `observations` taken at `now_unix_ns` and returns the alerts that changed state,
    /// in the order of the rules, then of the series' labels. Each alert gives one event per
    /// transition: pending (only with a `for`), firing, then resolved, or cancelled if it
    /// stops holding while pending. When several observations of one series are given, the
    /// last counts; a NaN value never breaches.
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::{AlertEngine, AlertRule, AlertState, Observation};
    /// let mut engine = AlertEngine::new(vec![AlertRule::below("hits", "cache_hit_ratio", 0.8).resolve_at(0.85)])?;
    /// let obs = |v: f64| [Observation::gauge("cache_hit_ratio", "", v)];
    /// assert_eq!(engine.evaluate(1, &obs(0.7))[0].state, AlertState::Firing);
    /// assert!(engine.evaluate(2, &obs(0.82)).is_empty()); // hysteresis: still firing
    /// assert_eq!(engine.evaluate(3, &obs(0.9))[0].state, AlertState::Resolved);
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn evaluate(&mut self, now_unix_ns: u64, observations: &[Observation]) -> Vec<AlertEvent> {
        let mut by_name: HashMap<&str, Vec<&Observation>> = HashMap::new();
        for o in observations {
            by_name.entry(o.name.as_ref()).or_default().push(o);
        }
        let mut seen: BTreeMap<SeriesKey, f64> = BTreeMap::new();
        for (i, rule) in self.rules.iter().enumerate() {
            let candidates = by_name.get(rule.metric.as_str()).into_iter().flatten();
            for o in candidates.filter(|o| rule.matches(o)) {
                let mut labels: Vec<(String, String)> =
                    o.labels.iter().map(|(k, v)| (k.to_string(), v.clone())).collect();
                labels.sort();
                labels.dedup_by(|a, b| a.0 == b.0);
                seen.insert((i, labels), o.value);
            }
        }
        let mut events = Vec::new();
        let stale_ns = u64::try_from(self.stale_after.as_nanos()).unwrap_or(u64::MAX);
        // Series missing from this evaluation, gone for too long.
        let gone: Vec<SeriesKey> = self
            .tracked
            .iter()
            .filter(|(k, t)| {
                !seen.contains_key(*k) && now_unix_ns.saturating_sub(t.last_seen) >= stale_ns
            })
            .map(|(k, _)| k.clone())
            .collect();
        let mut changes: BTreeMap<SeriesKey, AlertEvent> = BTreeMap::new();
        for key in gone {
            if let Some(t) = self.tracked.remove(&key) {
                let state = if t.firing_since.is_some() {
                    AlertState::Resolved
                } else {
                    AlertState::Cancelled
                };
                changes
                    .insert(key.clone(), self.event(&key, state, t.value, t.started, now_unix_ns));
            }
        }
        for (key, value) in seen {
            let rule = &self.rules[key.0];
            let breach = rule.comparison.past(value, rule.threshold);
            let for_ns = u64::try_from(rule.for_duration.as_nanos()).unwrap_or(u64::MAX);
            let change = match self.tracked.get_mut(&key) {
                None if breach => {
                    let firing = for_ns == 0;
                    self.tracked.insert(
                        key.clone(),
                        Tracked {
                            firing_since: firing.then_some(now_unix_ns),
                            started: now_unix_ns,
                            last_seen: now_unix_ns,
                            value,
                        },
                    );
                    Some((
                        if firing { AlertState::Firing } else { AlertState::Pending },
                        now_unix_ns,
                    ))
                }
                None => None,
                Some(t) => {
                    t.last_seen = now_unix_ns;
                    t.value = value;
                    let started = t.started;
                    if t.firing_since.is_some() {
                        if rule.comparison.past(value, rule.resolve_level()) {
                            None
                        } else {
                            self.tracked.remove(&key);
                            Some((AlertState::Resolved, started))
                        }
                    } else if !breach {
                        self.tracked.remove(&key);
                        Some((AlertState::Cancelled, started))
                    } else if now_unix_ns.saturating_sub(started) >= for_ns {
                        t.firing_since = Some(now_unix_ns);
                        Some((AlertState::Firing, started))
                    } else {
                        None
                    }
                }
            };
            if let Some((state, started)) = change {
                let event = self.event(&key, state, value, started, now_unix_ns);
                changes.insert(key, event);
            }
        }
        events.extend(changes.into_values());
        events
    }

    fn event(
        &self,
        key: &SeriesKey,
        state: AlertState,
        value: f64,
        started: u64,
        at: u64,
    ) -> AlertEvent {
        let rule = &self.rules[key.0];
        AlertEvent {
            rule: rule.name.clone(),
            metric: rule.metric.clone(),
            severity: rule.severity,
            state,
            labels: key.1.iter().cloned().collect(),
            value,
            threshold: rule.threshold,
            started_unix_ns: started,
            at_unix_ns: at,
            summary: rule.render_summary(value, &key.1),
        }
    }

    /// The pending and firing alerts, in the order of the rules, then of the labels.
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::{AlertEngine, AlertRule, Observation};
    /// let mut engine = AlertEngine::new(vec![AlertRule::above("hot", "temp", 80.0)])?;
    /// engine.evaluate(0, &[Observation::gauge("temp", "", 90.0).label("room", "a")]);
    /// assert_eq!(engine.active()[0].labels["room"], "a");
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn active(&self) -> Vec<ActiveAlert> {
        self.tracked
            .iter()
            .map(|((i, labels), t)| {
                let rule = &self.rules[*i];
                ActiveAlert {
                    rule: rule.name.clone(),
                    metric: rule.metric.clone(),
                    severity: rule.severity,
                    state: if t.firing_since.is_some() {
                        AlertState::Firing
                    } else {
                        AlertState::Pending
                    },
                    labels: labels.iter().cloned().collect(),
                    value: t.value,
                    threshold: rule.threshold,
                    started_unix_ns: t.started,
                    firing_since_unix_ns: t.firing_since,
                }
            })
            .collect()
    }

    /// The alerts as series, the way Prometheus exposes its own `ALERTS`: a gauge `alerts`
    /// = 1 per pending or firing alert, labelled `alertname`, `alertstate`, `severity` and
    /// the series' own labels (those three names win over a series label of the same name).
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::{AlertEngine, AlertRule, Observation};
    /// let mut engine = AlertEngine::new(vec![AlertRule::above("hot", "temp", 80.0)])?;
    /// engine.evaluate(0, &[Observation::gauge("temp", "", 90.0)]);
    /// let obs = engine.observations();
    /// assert_eq!(obs[0].name, "alerts");
    /// assert_eq!(obs[0].label_value("alertstate"), Some("firing"));
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn observations(&self) -> Vec<Observation> {
        self.active()
            .into_iter()
            .map(|a| {
                let mut o = Observation::gauge(
                    "alerts",
                    "Pending and firing alerts, 1 each (as Prometheus's ALERTS).",
                    1.0,
                )
                .label("alertname", a.rule)
                .label("alertstate", a.state.as_str())
                .label("severity", a.severity.as_str());
                for (k, v) in a.labels {
                    if !matches!(k.as_str(), "alertname" | "alertstate" | "severity") {
                        o = o.label(k, v);
                    }
                }
                o
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    const S: u64 = 1_000_000_000;

    fn disk(mount: &str, v: f64) -> Observation {
        Observation::gauge("system_disk_utilization_ratio", "", v).label("mount", mount)
    }

    fn states(events: &[AlertEvent]) -> Vec<(&str, AlertState)> {
        events.iter().map(|e| (e.labels.get("mount").map_or("", String::as_str), e.state)).collect()
    }

    #[test]
    fn one_alert_per_series_and_dedup() {
        let rule = AlertRule::above("disk", "system_disk_utilization_ratio", 0.9);
        let mut e = AlertEngine::new(vec![rule]).unwrap();
        let ev = e.evaluate(0, &[disk("/", 0.95), disk("/home", 0.5), disk("/var", 0.99)]);
        assert_eq!(states(&ev), [("/", AlertState::Firing), ("/var", AlertState::Firing)]);
        assert!(
            e.evaluate(S, &[disk("/", 0.95), disk("/home", 0.5), disk("/var", 0.99)]).is_empty()
        );
        let ev = e.evaluate(2 * S, &[disk("/", 0.5), disk("/home", 0.5), disk("/var", 0.99)]);
        assert_eq!(states(&ev), [("/", AlertState::Resolved)]);
        assert_eq!(ev[0].started_unix_ns, 0);
        assert_eq!(ev[0].at_unix_ns, 2 * S);
        assert_eq!(e.active().len(), 1);
    }

    #[test]
    fn pending_then_cancelled_is_not_resolved() {
        let rule = AlertRule::above("disk", "system_disk_utilization_ratio", 0.9)
            .for_duration(Duration::from_secs(60));
        let mut e = AlertEngine::new(vec![rule]).unwrap();
        assert_eq!(states(&e.evaluate(0, &[disk("/", 0.95)])), [("/", AlertState::Pending)]);
        assert_eq!(states(&e.evaluate(30 * S, &[disk("/", 0.5)])), [("/", AlertState::Cancelled)]);
        // It starts over: pending again, and fires only 60 s after the new start.
        assert_eq!(states(&e.evaluate(40 * S, &[disk("/", 0.95)])), [("/", AlertState::Pending)]);
        assert!(e.evaluate(90 * S, &[disk("/", 0.95)]).is_empty());
        let ev = e.evaluate(100 * S, &[disk("/", 0.95)]);
        assert_eq!(states(&ev), [("/", AlertState::Firing)]);
        assert_eq!(ev[0].started_unix_ns, 40 * S);
    }

    #[test]
    fn hysteresis_holds_a_firing_alert() {
        let rule = AlertRule::above("cpu", "c", 0.9).resolve_at(0.8);
        let mut e = AlertEngine::new(vec![rule]).unwrap();
        let c = |v| [Observation::gauge("c", "", v)];
        assert_eq!(e.evaluate(0, &c(0.95))[0].state, AlertState::Firing);
        assert!(e.evaluate(1, &c(0.85)).is_empty());
        assert!(e.evaluate(2, &c(0.91)).is_empty());
        assert_eq!(e.evaluate(3, &c(0.8))[0].state, AlertState::Resolved);
        // Below the threshold but above resolve: a new alert needs a new breach.
        assert!(e.evaluate(4, &c(0.85)).is_empty());
        assert!(e.evaluate(5, &c(f64::NAN)).is_empty());
    }

    #[test]
    fn missing_series_resolve_after_stale_after() {
        let rule = AlertRule::above("disk", "system_disk_utilization_ratio", 0.9);
        let mut e = AlertEngine::new(vec![rule]).unwrap().stale_after(Duration::from_secs(60));
        e.evaluate(0, &[disk("/mnt", 0.99)]);
        assert!(e.evaluate(30 * S, &[]).is_empty());
        let ev = e.evaluate(60 * S, &[]);
        assert_eq!(states(&ev), [("/mnt", AlertState::Resolved)]);
        assert_eq!(ev[0].value, 0.99);
        assert!(e.active().is_empty());
    }

    #[test]
    fn matchers_select_series() {
        let rule =
            AlertRule::above("root", "system_disk_utilization_ratio", 0.9).matching("mount", "/");
        let mut e = AlertEngine::new(vec![rule]).unwrap();
        let ev = e.evaluate(
            0,
            &[disk("/", 0.95), disk("/var", 0.99), Observation::gauge("other", "", 1.0)],
        );
        assert_eq!(states(&ev), [("/", AlertState::Firing)]);
    }

    #[test]
    fn observations_are_prometheus_alerts() {
        let rules = vec![
            AlertRule::above("disk", "system_disk_utilization_ratio", 0.9)
                .severity(Severity::Critical),
            AlertRule::above("slow", "system_disk_utilization_ratio", 0.5)
                .for_duration(Duration::from_secs(60)),
        ];
        let mut e = AlertEngine::new(rules).unwrap();
        e.evaluate(0, &[disk("/", 0.95)]);
        let obs = e.observations();
        assert_eq!(obs.len(), 2);
        let labels: Vec<Vec<(String, String)>> = obs
            .iter()
            .map(|o| o.labels.iter().map(|(k, v)| (k.to_string(), v.clone())).collect())
            .collect();
        let l = |pairs: &[(&str, &str)]| {
            pairs.iter().map(|(k, v)| ((*k).to_owned(), (*v).to_owned())).collect::<Vec<_>>()
        };
        assert_eq!(
            labels[0],
            l(&[
                ("alertname", "disk"),
                ("alertstate", "firing"),
                ("severity", "critical"),
                ("mount", "/")
            ])
        );
        assert_eq!(
            labels[1],
            l(&[
                ("alertname", "slow"),
                ("alertstate", "pending"),
                ("severity", "warning"),
                ("mount", "/")
            ])
        );
        assert!(obs.iter().all(|o| o.value == 1.0));
    }

    #[test]
    fn summaries_fill_placeholders() {
        let rule = AlertRule::above("disk", "system_disk_utilization_ratio", 0.9)
            .summary("{metric} {labels}: {value} > {threshold}");
        let mut e = AlertEngine::new(vec![rule]).unwrap();
        let ev = e.evaluate(0, &[disk("/", 0.953_21)]);
        assert_eq!(ev[0].summary, "system_disk_utilization_ratio {mount=\"/\"}: 0.9532 > 0.9");
        let json = serde_json::to_value(&ev[0]).unwrap();
        assert_eq!(json["labels"]["mount"], "/");
        assert_eq!(json["severity"], "warning");
        assert_eq!(json["started_unix_ns"], 0);
    }

    #[test]
    fn defaults_fire_at_the_seed_thresholds() {
        let mut e = AlertEngine::new(AlertRule::defaults()).unwrap();
        let obs = [
            Observation::gauge("system_cpu_utilization_ratio", "", 0.95),
            Observation::gauge("function_error_ratio", "", 0.06).label("function", "load"),
        ];
        let pend = e.evaluate(0, &obs);
        assert_eq!(pend.len(), 3);
        assert!(pend.iter().all(|e| e.state == AlertState::Pending));
        let fired = e.evaluate(2 * 60 * S, &obs);
        assert_eq!(
            fired.iter().map(|e| e.rule.as_str()).collect::<Vec<_>>(),
            ["cpu_critical", "function_errors"]
        );
        let fired = e.evaluate(5 * 60 * S, &obs);
        assert_eq!(fired.iter().map(|e| e.rule.as_str()).collect::<Vec<_>>(), ["cpu_warning"]);
    }

    #[test]
    fn validation_names_the_problem() {
        let e = AlertRule::above("a", "m", f64::NAN).validate().unwrap_err().to_string();
        assert!(e.contains("not a finite number"), "{e}");
        let e = AlertRule::below("a", "m", 0.5).resolve_at(0.4).validate().unwrap_err().to_string();
        assert!(e.contains("below the threshold"), "{e}");
        assert!(matches!(
            AlertRule::above("a", "m", 1.0).matching("__x", "y").validate(),
            Err(MonitorError::InvalidName { .. })
        ));
        assert!(matches!(
            AlertRule::above("", "m", 1.0).validate(),
            Err(MonitorError::InvalidRule { .. })
        ));
    }

    #[test]
    fn parse_errors_name_the_column() {
        let cases = [
            ("", "column 1: expected the rule's name"),
            ("a m > 1", "column 3: expected ':'"),
            ("a: m >", "column 7: expected a number"),
            ("a: m{x=1} > 1", "column 8: expected a string"),
            ("a: m > 1 for 5q", "column 15: expected a unit"),
            ("a: m > 1 severity page", "column 19: expected warning or critical"),
            ("a: m > 1 for 1m for 2m", "column 17: for is given twice"),
            ("a: m > 1 summary \"x", "column 18: the string is not closed"),
            ("a: m > 1 bogus", "column 10: expected for, resolve"),
            ("a: m > 1e999", "column 8: 1e999 is not a finite number"),
        ];
        for (text, want) in cases {
            let e = AlertRule::parse(text).unwrap_err().to_string();
            assert!(e.contains(want), "{text:?}: {e}");
        }
    }

    #[test]
    fn parse_reads_every_clause() {
        let r = AlertRule::parse(
            r#"  api.errors-1 :  function_error_ratio { function = "a\"b" , env="prod" } <  -1.5e-3 summary "x\ny" severity critical resolve -1e-3 for 1h2m3s4ms"#,
        )
        .unwrap();
        assert_eq!(r.name, "api.errors-1");
        assert_eq!(r.matchers, [("function".into(), "a\"b".into()), ("env".into(), "prod".into())]);
        assert_eq!(r.comparison, Comparison::Below);
        assert_eq!((r.threshold, r.resolve), (-1.5e-3, Some(-1e-3)));
        assert_eq!(r.for_duration, Duration::from_millis(3_723_004));
        assert_eq!(r.summary.as_deref(), Some("x\ny"));
        assert_eq!(AlertRule::parse(&r.to_string()).unwrap(), r);
    }

    /// Prints the cost of one evaluation of the default rules over a service's observations
    /// (a measurement, not a test: no timing is asserted).
    #[test]
    #[ignore = "a measurement: cargo test --release -p perfcore --features monitor --lib measure_ -- --ignored --nocapture"]
    fn measure_evaluate() {
        let mut obs = vec![
            Observation::gauge("system_cpu_utilization_ratio", "", 0.95),
            Observation::gauge("system_memory_utilization_ratio", "", 0.5),
        ];
        obs.extend((0..16).map(|i| disk(&format!("/mnt/{i}"), 0.5 + f64::from(i) / 20.0)));
        for i in 0..1000 {
            let f = format!("function_{i}");
            for (name, v) in [
                ("function_p95_seconds", 0.01 * f64::from(i % 300)),
                ("function_p99_seconds", 0.02),
                ("function_error_ratio", 0.001),
                ("function_calls_per_second", 10.0),
            ] {
                obs.push(Observation::gauge(name, "", v).label("function", f.clone()));
            }
        }
        let mut e = AlertEngine::new(AlertRule::defaults()).unwrap();
        let n = 200u32;
        let start = std::time::Instant::now();
        let mut events = 0;
        for k in 0..n {
            events += e.evaluate(u64::from(k) * S, &obs).len();
        }
        let each = start.elapsed() / n;
        println!(
            "evaluate: {} observations, {} rules, {} active alerts: {each:?} per evaluation ({events} events)",
            obs.len(),
            e.rules().len(),
            e.active().len()
        );
    }

    fn arb_rule() -> impl Strategy<Value = AlertRule> {
        (
            "[a-z_][a-z0-9_.-]{0,8}",
            "[a-z_:][a-z0-9_:]{0,8}",
            any::<bool>(),
            -1e6f64..1e6,
            proptest::option::of(0f64..1e6),
            any::<bool>(),
            0u64..10_000_000_000_000,
            proptest::collection::vec(("[a-z][a-z0-9_]{0,5}", "[ -~\n]{0,6}"), 0..3),
            proptest::option::of("[ -~\n{}]{0,12}"),
        )
            .prop_map(|(name, metric, above, t, resolve, crit, ns, matchers, summary)| {
                let mut r = if above {
                    AlertRule::above(&name, &metric, t)
                } else {
                    AlertRule::below(&name, &metric, t)
                };
                r.resolve = resolve.map(|d| if above { t - d } else { t + d });
                r.severity = if crit { Severity::Critical } else { Severity::Warning };
                r.for_duration = Duration::from_nanos(ns);
                r.matchers = matchers;
                r.summary = summary;
                r
            })
    }

    proptest! {
        #[test]
        fn display_parse_round_trips(rule in arb_rule()) {
            let text = rule.to_string();
            let back = AlertRule::parse(&text);
            prop_assert!(back.is_ok(), "{text}: {back:?}");
            prop_assert_eq!(back.unwrap(), rule);
        }

        #[test]
        fn random_text_never_panics(text in "\\PC{0,60}") {
            let _ = AlertRule::parse(&text);
        }

        #[test]
        fn rule_like_text_never_panics(text in "[a-z]{1,3}: ?[a-z]{1,3}(\\{[a-z]=\"[^\"]{0,3}\"?\\}?)? ?[<>]? ?-?[0-9.e]{0,6}( for [0-9]{0,3}[a-z]{0,2})?( resolve [0-9.]{0,3})?( severity [a-z]{0,8})?( summary \"[^\"]{0,4})?") {
            let _ = AlertRule::parse(&text);
        }

        /// Per series: at most one firing event between resolutions, and events alternate.
        #[test]
        fn lifecycle_is_consistent(values in proptest::collection::vec(proptest::option::of(0f64..1.0), 1..60), for_s in 0u64..5) {
            let rule = AlertRule::above("r", "m", 0.6).resolve_at(0.4).for_duration(Duration::from_secs(for_s));
            let mut e = AlertEngine::new(vec![rule]).unwrap().stale_after(Duration::from_secs(3));
            let mut state = None::<AlertState>;
            for (i, v) in values.iter().enumerate() {
                let obs: Vec<Observation> = v.iter().map(|&v| Observation::gauge("m", "", v)).collect();
                for ev in e.evaluate(i as u64 * S, &obs) {
                    let ok = matches!(
                        (state, ev.state),
                        (None | Some(AlertState::Resolved | AlertState::Cancelled), AlertState::Pending | AlertState::Firing)
                            | (Some(AlertState::Pending), AlertState::Firing | AlertState::Cancelled)
                            | (Some(AlertState::Firing), AlertState::Resolved)
                    );
                    prop_assert!(ok, "{state:?} -> {:?}", ev.state);
                    state = Some(ev.state);
                }
                let active = e.active();
                prop_assert!(active.len() <= 1);
                match state {
                    Some(AlertState::Pending | AlertState::Firing) => prop_assert_eq!(active[0].state, state.unwrap()),
                    _ => prop_assert!(active.is_empty()),
                }
            }
        }
    }
}
