//! The Pushgateway client: short-lived processes (a CI job, a batch run) push their metrics,
//! which a Prometheus then scrapes from the gateway.

use std::sync::Arc;
use std::time::Duration;

use super::sources::Sources;
use super::{MonitorError, Observation};
use crate::Snapshot;
use crate::report::{ExpositionFormat, PrometheusOptions};

/// Whether a push replaces the group's metrics or adds to them.
///
/// # Examples
/// ```
/// use perfcore::monitor::PushMethod;
/// assert_eq!(PushMethod::default(), PushMethod::Replace);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq)]
#[non_exhaustive]
pub enum PushMethod {
    /// `PUT`: the pushed metrics replace every metric of the group (the usual choice: the
    /// group then holds exactly this run's figures).
    #[default]
    Replace,
    /// `POST`: the pushed metrics replace only the metrics of the same names.
    Add,
}

/// A push to a Prometheus Pushgateway: where, which group, and what.
///
/// The group is the job and any grouping labels (`instance`, `branch`); a Prometheus
/// scraping the gateway with `honor_labels: true` keeps them as the series' labels.
///
/// # Examples
/// ```
/// use perfcore::monitor::PushOptions;
/// let push = PushOptions::new("http://127.0.0.1:9091", "nightly-batch")?
///     .grouping_label("instance", "runner-3")?;
/// assert_eq!(push.url(), "http://127.0.0.1:9091/metrics/job/nightly-batch/instance/runner-3");
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
#[derive(Clone)]
pub struct PushOptions {
    gateway: String,
    job: String,
    grouping: Vec<(String, String)>,
    method: PushMethod,
    prometheus: PrometheusOptions,
    timeout: Duration,
    sources: Sources,
}

impl std::fmt::Debug for PushOptions {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("PushOptions")
            .field("url", &self.url())
            .field("method", &self.method)
            .field("timeout", &self.timeout)
            .field("sources", &self.sources)
            .finish_non_exhaustive()
    }
}

/// Whether `name` is a valid label name for the gateway's path.
fn check_label_name(name: &str) -> Result<(), MonitorError> {
    let bad =
        |reason: &str| MonitorError::InvalidName { name: name.to_owned(), reason: reason.into() };
    let mut chars = name.chars();
    match chars.next() {
        None => return Err(bad("is empty")),
        Some(c) if !(c.is_ascii_alphabetic() || c == '_') => {
            return Err(bad("must start with a letter or `_`"));
        }
        _ => {}
    }
    if !chars.all(|c| c.is_ascii_alphanumeric() || c == '_') {
        return Err(bad("may hold only letters, digits and `_`"));
    }
    if name.starts_with("__") {
        return Err(bad("names starting with `__` are reserved"));
    }
    Ok(())
}

/// URL-safe base64 (RFC 4648 §5) with padding, as the Pushgateway reads `@base64` values.
fn base64_url(bytes: &[u8]) -> String {
    const ALPHABET: &[u8; 64] = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    let mut out = String::with_capacity(bytes.len().div_ceil(3) * 4);
    for chunk in bytes.chunks(3) {
        let b = [chunk[0], *chunk.get(1).unwrap_or(&0), *chunk.get(2).unwrap_or(&0)];
        let n = (u32::from(b[0]) << 16) | (u32::from(b[1]) << 8) | u32::from(b[2]);
        for (i, shift) in [18, 12, 6, 0].into_iter().enumerate() {
            if i <= chunk.len() {
                out.push(char::from(ALPHABET[((n >> shift) & 63) as usize]));
            } else {
                out.push('=');
            }
        }
    }
    out
}

/// One `/<name>/<value>` segment of the gateway's path: the value as it is when it is plain
/// URL text, `@base64`-encoded otherwise (a `/`, an empty value, anything outside
/// `[A-Za-z0-9._~-]`).
fn segment(name: &str, value: &str) -> String {
    let plain = !value.is_empty()
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~'));
    if plain {
        format!("/{name}/{value}")
    } else if value.is_empty() {
        format!("/{name}@base64/=")
    } else {
        format!("/{name}@base64/{}", base64_url(value.as_bytes()))
    }
}

impl PushOptions {
    /// A push of the global profiler's function metrics and the global application metrics
    /// (and every started monitor's observations) to the gateway at `gateway`
    /// (`http://host:port`, as the gateway listens; default port 9091) for `job`, replacing
    /// the group's metrics, with a 10 s timeout.
    ///
    /// # Errors
    /// [`MonitorError::InvalidUrl`] unless `gateway` is an `http://` URL,
    /// [`MonitorError::InvalidName`] if `job` is empty.
    ///
    /// # Examples
    /// ```
    /// let push = perfcore::monitor::PushOptions::new("http://localhost:9091/", "ci")?;
    /// assert_eq!(push.url(), "http://localhost:9091/metrics/job/ci");
    /// assert!(perfcore::monitor::PushOptions::new("https://gw", "ci").is_err());
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn new(gateway: &str, job: &str) -> Result<Self, MonitorError> {
        let Some(rest) = gateway.strip_prefix("http://") else {
            return Err(MonitorError::InvalidUrl {
                url: gateway.to_owned(),
                reason: "only http:// URLs are supported (put a TLS proxy in front for https)"
                    .to_owned(),
            });
        };
        if rest.is_empty() || rest.starts_with('/') {
            return Err(MonitorError::InvalidUrl {
                url: gateway.to_owned(),
                reason: "has no host".to_owned(),
            });
        }
        if job.is_empty() {
            return Err(MonitorError::InvalidName {
                name: job.to_owned(),
                reason: "a job name must not be empty".to_owned(),
            });
        }
        Ok(Self {
            gateway: gateway.trim_end_matches('/').to_owned(),
            job: job.to_owned(),
            grouping: Vec::new(),
            method: PushMethod::Replace,
            prometheus: PrometheusOptions::new(),
            timeout: Duration::from_secs(10),
            sources: Sources::default(),
        })
    }

    /// Adds a grouping label (`instance`, `branch`): pushes with other values are other
    /// groups, kept side by side.
    ///
    /// # Errors
    /// [`MonitorError::InvalidName`] if `name` is not a valid label name or is `job`.
    ///
    /// # Examples
    /// ```
    /// let push = perfcore::monitor::PushOptions::new("http://gw:9091", "ci")?
    ///     .grouping_label("branch", "feature/x")?;
    /// assert_eq!(push.url(), "http://gw:9091/metrics/job/ci/branch@base64/ZmVhdHVyZS94");
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn grouping_label(
        mut self,
        name: &str,
        value: impl Into<String>,
    ) -> Result<Self, MonitorError> {
        check_label_name(name)?;
        if name == "job" {
            return Err(MonitorError::InvalidName {
                name: name.to_owned(),
                reason: "the job is given by PushOptions::new".to_owned(),
            });
        }
        self.grouping.push((name.to_owned(), value.into()));
        Ok(self)
    }

    /// Replace the group's metrics (`PUT`, the default) or only those of the same names
    /// (`POST`).
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::{PushMethod, PushOptions};
    /// let push = PushOptions::new("http://gw:9091", "ci")?.method(PushMethod::Add);
    /// # let _ = push;
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn method(mut self, method: PushMethod) -> Self {
        self.method = method;
        self
    }

    /// The namespace and const labels of the pushed metrics.
    ///
    /// # Examples
    /// ```
    /// use perfcore::report::PrometheusOptions;
    /// let push = perfcore::monitor::PushOptions::new("http://gw:9091", "ci")?
    ///     .prometheus(PrometheusOptions::new().namespace("batch"));
    /// # let _ = push;
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn prometheus(mut self, options: PrometheusOptions) -> Self {
        self.prometheus = options;
        self
    }

    /// How long the push may take, connecting included (default 10 s).
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// let push = perfcore::monitor::PushOptions::new("http://gw:9091", "ci")?.timeout(Duration::from_secs(2));
    /// # let _ = push;
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn timeout(mut self, timeout: Duration) -> Self {
        self.timeout = timeout.max(Duration::from_millis(1));
        self
    }

    /// Takes the function statistics from `snapshot` instead of the global profiler.
    ///
    /// # Examples
    /// ```
    /// let push = perfcore::monitor::PushOptions::new("http://gw:9091", "ci")?
    ///     .snapshot(|| perfcore::Snapshot::from_functions(Vec::new(), 0, 0));
    /// # let _ = push;
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn snapshot(mut self, snapshot: impl Fn() -> Snapshot + Send + Sync + 'static) -> Self {
        self.sources.set_snapshot(Arc::new(snapshot));
        self
    }

    /// Adds a source of observations to push.
    ///
    /// # Examples
    /// ```
    /// use perfcore::monitor::{Observation, PushOptions};
    /// let push = PushOptions::new("http://gw:9091", "ci")?
    ///     .source(|| vec![Observation::gauge("rows_processed", "Rows.", 1e6)]);
    /// # let _ = push;
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn source(mut self, source: impl Fn() -> Vec<Observation> + Send + Sync + 'static) -> Self {
        self.sources.add(Arc::new(source));
        self
    }

    /// Whether the global application metrics and the started monitors are pushed too
    /// (default yes).
    ///
    /// # Examples
    /// ```
    /// let push = perfcore::monitor::PushOptions::new("http://gw:9091", "ci")?.default_sources(false);
    /// # let _ = push;
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn default_sources(mut self, on: bool) -> Self {
        self.sources.set_defaults(on);
        self
    }

    /// The URL pushes go to: `<gateway>/metrics/job/<job>[/<label>/<value>…]`, values
    /// `@base64`-encoded where they are not plain URL text.
    ///
    /// # Examples
    /// ```
    /// let push = perfcore::monitor::PushOptions::new("http://gw:9091", "nightly batch")?;
    /// assert_eq!(push.url(), "http://gw:9091/metrics/job@base64/bmlnaHRseSBiYXRjaA==");
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn url(&self) -> String {
        let mut url = format!("{}/metrics{}", self.gateway, segment("job", &self.job));
        for (name, value) in &self.grouping {
            url.push_str(&segment(name, value));
        }
        url
    }

    /// The text a push sends: the exposition in Prometheus' classic text format, which the
    /// gateway reads.
    ///
    /// # Examples
    /// ```
    /// let push = perfcore::monitor::PushOptions::new("http://gw:9091", "ci")?
    ///     .snapshot(|| perfcore::Snapshot::from_functions(
    ///         vec![perfcore::FunctionStats::from_durations("step", [2_000])], 0, 1_000))
    ///     .default_sources(false);
    /// assert!(push.body().contains("perfcore_function_duration_seconds_count{function=\"step\"} 1"));
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    #[must_use]
    pub fn body(&self) -> String {
        let (snapshot, observations) = (self.sources.snapshot(), self.sources.observations());
        let options = self.prometheus.clone().format(ExpositionFormat::Prometheus);
        super::exposition(&snapshot, &observations, &options)
    }

    /// Pushes.
    ///
    /// # Errors
    /// [`MonitorError::Request`] if the gateway cannot be reached in time,
    /// [`MonitorError::Rejected`] if it answers with an error (its message included: a
    /// metric pushed with other help text or type than the group already has, say).
    ///
    /// # Examples
    /// ```no_run
    /// perfcore::monitor::PushOptions::new("http://127.0.0.1:9091", "nightly-batch")?.push()?;
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn push(&self) -> Result<(), MonitorError> {
        let method = match self.method {
            PushMethod::Replace => "PUT",
            PushMethod::Add => "POST",
        };
        let body = self.body();
        self.send(method, "text/plain; version=0.0.4; charset=utf-8", body.as_bytes())
    }

    /// Deletes the group's metrics from the gateway (at the end of a job whose figures should
    /// not linger).
    ///
    /// # Errors
    /// As [`push`](Self::push).
    ///
    /// # Examples
    /// ```no_run
    /// perfcore::monitor::PushOptions::new("http://127.0.0.1:9091", "nightly-batch")?.delete()?;
    /// # Ok::<(), perfcore::monitor::MonitorError>(())
    /// ```
    pub fn delete(&self) -> Result<(), MonitorError> {
        self.send("DELETE", "text/plain", b"")
    }

    fn send(&self, method: &str, content_type: &str, body: &[u8]) -> Result<(), MonitorError> {
        let url = self.url();
        let response = super::http::request(method, &url, content_type, body, self.timeout)?;
        if (200..300).contains(&response.status) {
            Ok(())
        } else {
            let mut text = response.body;
            if text.len() > 500 {
                let mut end = 500;
                while !text.is_char_boundary(end) {
                    end -= 1;
                }
                text.truncate(end);
            }
            Err(MonitorError::Rejected {
                url,
                status: response.status,
                body: text.trim().to_owned(),
            })
        }
    }
}

/// Pushes the global profiler's function metrics and the global application metrics (and
/// every started monitor's observations) to the Pushgateway at `gateway` for `job`,
/// replacing what that job pushed before. [`PushOptions`] sets grouping labels, `POST`, a
/// timeout or other sources.
///
/// # Errors
/// As [`PushOptions::new`] and [`PushOptions::push`].
///
/// # Examples
/// ```no_run
/// // At the end of a batch run or a CI job:
/// perfcore::monitor::push_metrics("http://127.0.0.1:9091", "nightly-batch")?;
/// # Ok::<(), perfcore::monitor::MonitorError>(())
/// ```
pub fn push_metrics(gateway: &str, job: &str) -> Result<(), MonitorError> {
    PushOptions::new(gateway, job)?.push()
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn base64_matches_rfc_4648_vectors() {
        let cases = [
            ("", ""),
            ("f", "Zg=="),
            ("fo", "Zm8="),
            ("foo", "Zm9v"),
            ("foob", "Zm9vYg=="),
            ("fooba", "Zm9vYmE="),
            ("foobar", "Zm9vYmFy"),
        ];
        for (plain, encoded) in cases {
            assert_eq!(base64_url(plain.as_bytes()), encoded);
        }
        // The URL-safe alphabet: 0xfb 0xff → "-_8=" rather than "+/8=".
        assert_eq!(base64_url(&[0xfb, 0xff]), "-_8=");
    }

    #[test]
    fn bad_options_are_refused() {
        assert!(matches!(PushOptions::new("gw:9091", "ci"), Err(MonitorError::InvalidUrl { .. })));
        assert!(matches!(PushOptions::new("http://", "ci"), Err(MonitorError::InvalidUrl { .. })));
        assert!(matches!(PushOptions::new("http://gw", ""), Err(MonitorError::InvalidName { .. })));
        let push = PushOptions::new("http://gw", "ci").unwrap();
        assert!(push.clone().grouping_label("job", "x").is_err());
        assert!(push.clone().grouping_label("9x", "x").is_err());
        assert!(push.clone().grouping_label("__x", "x").is_err());
        assert!(push.grouping_label("instance", "").unwrap().url().ends_with("/instance@base64/="));
    }

    proptest! {
        #[test]
        fn a_segment_decodes_to_its_value(value in ".{0,40}") {
            let seg = segment("k", &value);
            if let Some(encoded) = seg.strip_prefix("/k@base64/") {
                prop_assert!(encoded.bytes().all(|b| b.is_ascii_alphanumeric() || b"-_=".contains(&b)));
                if value.is_empty() {
                    prop_assert_eq!(encoded, "=");
                } else {
                    prop_assert_eq!(encoded.len() % 4, 0);
                }
            } else {
                prop_assert_eq!(seg, format!("/k/{value}"));
            }
        }
    }
}
