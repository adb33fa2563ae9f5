//! The latency histogram: HdrHistogram at 3 significant digits, 0 ns to 1 hour.
//!
//! The hot path never touches an `hdrhistogram::Histogram`: each thread counts into flat
//! arrays laid out exactly as HdrHistogram lays out its counts (see [`bucket_index`]), and a
//! snapshot folds those counts in. The layout functions here are the single definition both
//! sides use, and a property test checks them against the `hdrhistogram` crate itself.

use hdrhistogram::Histogram;
use serde::{Deserialize, Serialize};

/// Significant decimal digits kept by every latency histogram.
pub const SIGNIFICANT_DIGITS: u8 = 3;

/// The largest value a histogram records, in nanoseconds: one hour. Longer scopes are
/// recorded as one hour and counted in [`FunctionStats::clamped`](crate::FunctionStats).
pub const MAX_TRACKABLE_NS: u64 = 3_600_000_000_000;

/// log2 of half the sub-bucket count: 2048 sub-buckets resolve 3 significant digits.
const HALF_MAGNITUDE: u32 = 10;
const HALF_COUNT: usize = 1 << HALF_MAGNITUDE;

/// Counts per chunk: a chunk is one HdrHistogram bucket (the first two share chunks 0 and 1).
pub(crate) const CHUNK_LEN: usize = HALF_COUNT;

/// Chunks needed to reach [`MAX_TRACKABLE_NS`] (just under 2^42).
pub(crate) const CHUNKS: usize = chunk_of(bucket_index(MAX_TRACKABLE_NS)) + 1;

/// The index of `value`'s counter in HdrHistogram's layout (lowest value 1, 3 digits).
#[inline(always)]
pub(crate) const fn bucket_index(value: u64) -> usize {
    // Which power-of-two bucket: 0 for values below 2048, then one per doubling.
    let bucket = 53 - (value | 2047).leading_zeros();
    // bucket * 1024 + (value >> bucket), written so it cannot overflow.
    ((bucket as usize) << HALF_MAGNITUDE) + (value >> bucket) as usize
}

/// The chunk that holds counter `index`.
#[inline(always)]
pub(crate) const fn chunk_of(index: usize) -> usize {
    index >> HALF_MAGNITUDE
}

/// The lowest value that lands in counter `index`.
#[inline]
pub(crate) const fn lowest_value(index: usize) -> u64 {
    let chunk = chunk_of(index);
    if chunk <= 1 {
        index as u64
    } else {
        let shift = (chunk - 1) as u32;
        (((index & (HALF_COUNT - 1)) + HALF_COUNT) as u64) << shift
    }
}

/// Clamps a duration to the histogram's range; the flag says whether it was clamped.
#[inline(always)]
pub(crate) const fn clamp(value_ns: u64) -> (u64, bool) {
    if value_ns > MAX_TRACKABLE_NS { (MAX_TRACKABLE_NS, true) } else { (value_ns, false) }
}

/// A latency distribution: an HdrHistogram of nanoseconds with 3 significant digits.
///
/// Every recorded value is kept to within 0.1% (exactly, below 2,048 ns); two histograms merge
/// without loss. In JSON it is a list of `[lowest value of the bucket, count]` pairs.
///
/// # Examples
/// ```
/// use perfcore::LatencyHistogram;
///
/// let mut h = LatencyHistogram::new();
/// for ns in [100, 200, 300, 400] {
///     h.record(ns);
/// }
/// assert_eq!(h.len(), 4);
/// assert_eq!(h.value_at_quantile(0.5), 200);
/// ```
#[derive(Clone, Debug, PartialEq)]
pub struct LatencyHistogram {
    inner: Histogram<u64>,
}

impl Default for LatencyHistogram {
    fn default() -> Self {
        Self::new()
    }
}

impl LatencyHistogram {
    /// An empty histogram.
    ///
    /// # Examples
    /// ```
    /// assert!(perfcore::LatencyHistogram::new().is_empty());
    /// ```
    #[must_use]
    pub fn new() -> Self {
        // 3 digits is always a valid precision, so this cannot fail.
        let mut inner = Histogram::new(SIGNIFICANT_DIGITS)
            .expect("3 significant digits is a valid HdrHistogram precision");
        inner.auto(true);
        Self { inner }
    }

    /// Records one value in nanoseconds, clamped to [`MAX_TRACKABLE_NS`].
    ///
    /// Returns `true` when the value was clamped.
    ///
    /// # Examples
    /// ```
    /// let mut h = perfcore::LatencyHistogram::new();
    /// assert!(!h.record(5));
    /// assert!(h.record(u64::MAX));
    /// assert!(h.max() >= perfcore::MAX_TRACKABLE_NS); // the top bucket's highest value
    /// ```
    pub fn record(&mut self, value_ns: u64) -> bool {
        let (v, clamped) = clamp(value_ns);
        self.record_n(v, 1);
        clamped
    }

    /// Records `count` occurrences of one (already clamped) value.
    pub(crate) fn record_n(&mut self, value_ns: u64, count: u64) {
        if count == 0 {
            return;
        }
        // With auto-resize on and the value clamped to 2^42, recording cannot fail; a count
        // that would overflow u64 saturates instead.
        if self.inner.record_n(value_ns, count).is_err() {
            self.inner.saturating_record_n(value_ns, count);
        }
    }

    /// Adds every count of `other` into this histogram.
    ///
    /// # Examples
    /// ```
    /// let mut a = perfcore::LatencyHistogram::new();
    /// let mut b = perfcore::LatencyHistogram::new();
    /// a.record(10);
    /// b.record(20);
    /// a.merge(&b);
    /// assert_eq!(a.len(), 2);
    /// ```
    pub fn merge(&mut self, other: &LatencyHistogram) {
        for (value, count) in other.buckets() {
            self.record_n(value, count);
        }
    }

    /// The number of values recorded.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.inner.len()
    }

    /// Whether nothing was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.inner.is_empty()
    }

    /// The smallest value `v` such that at least a fraction `q` of the values are `<= v`,
    /// to 3 significant digits; 0 for an empty histogram. `q` is clamped to `0.0..=1.0`.
    #[must_use]
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        if self.is_empty() {
            return 0;
        }
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        self.inner.value_at_quantile(q)
    }

    /// The largest recorded value, to 3 significant digits (its bucket's highest value).
    #[must_use]
    pub fn max(&self) -> u64 {
        self.inner.max()
    }

    /// The mean of the recorded values, to the histogram's precision.
    #[must_use]
    pub fn mean(&self) -> f64 {
        self.inner.mean()
    }

    /// The standard deviation of the recorded values, to the histogram's precision.
    #[must_use]
    pub fn stddev(&self) -> f64 {
        self.inner.stdev()
    }

    /// The non-empty buckets as `(lowest value in the bucket, count)`, ascending.
    ///
    /// # Examples
    /// ```
    /// let mut h = perfcore::LatencyHistogram::new();
    /// h.record(3);
    /// h.record(3);
    /// assert_eq!(h.buckets().collect::<Vec<_>>(), vec![(3, 2)]);
    /// ```
    pub fn buckets(&self) -> impl Iterator<Item = (u64, u64)> + '_ {
        self.inner
            .iter_recorded()
            .map(|v| (self.inner.lowest_equivalent(v.value_iterated_to()), v.count_at_value()))
    }
}

#[derive(Serialize, Deserialize)]
struct HistogramRepr {
    significant_digits: u8,
    buckets: Vec<(u64, u64)>,
}

impl Serialize for LatencyHistogram {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        HistogramRepr { significant_digits: SIGNIFICANT_DIGITS, buckets: self.buckets().collect() }
            .serialize(s)
    }
}

impl<'de> Deserialize<'de> for LatencyHistogram {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let repr = HistogramRepr::deserialize(d)?;
        if repr.significant_digits != SIGNIFICANT_DIGITS {
            return Err(D::Error::custom(format_args!(
                "histogram has {} significant digits; perfcore reads {SIGNIFICANT_DIGITS}",
                repr.significant_digits
            )));
        }
        let mut h = LatencyHistogram::new();
        for (value, count) in repr.buckets {
            if value > MAX_TRACKABLE_NS {
                return Err(D::Error::custom(format_args!(
                    "histogram bucket {value} ns is above the 1 hour maximum"
                )));
            }
            h.record_n(value, count);
        }
        Ok(h)
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn layout_matches_hdrhistogram_at_edges() {
        let h = Histogram::<u64>::new_with_bounds(1, MAX_TRACKABLE_NS, 3).unwrap();
        for v in [0, 1, 1023, 1024, 2047, 2048, 2049, 4095, 4096, 1 << 30, MAX_TRACKABLE_NS] {
            assert_eq!(lowest_value(bucket_index(v)), h.lowest_equivalent(v), "value {v}");
        }
        assert_eq!(CHUNKS, 33);
    }

    proptest! {
        #[test]
        fn layout_matches_hdrhistogram(v in 0..=MAX_TRACKABLE_NS) {
            let h = Histogram::<u64>::new_with_bounds(1, MAX_TRACKABLE_NS, 3).unwrap();
            let i = bucket_index(v);
            prop_assert_eq!(lowest_value(i), h.lowest_equivalent(v));
            prop_assert!(chunk_of(i) < CHUNKS);
            // The representative value maps back to the same counter.
            prop_assert_eq!(bucket_index(lowest_value(i)), i);
        }

        #[test]
        fn quantiles_within_precision_of_sorted_reference(
            mut values in prop::collection::vec(0..=10_000_000_000u64, 1..400),
            q in 0.0..=1.0f64,
        ) {
            let mut h = LatencyHistogram::new();
            for &v in &values { h.record(v); }
            values.sort_unstable();
            // HdrHistogram's definition: the first value whose cumulative count reaches q·n.
            let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
            let exact = values[rank - 1];
            let got = h.value_at_quantile(q);
            let tolerance = exact / 1024 + 1;
            prop_assert!(got.abs_diff(exact) <= tolerance, "q={q} exact={exact} got={got}");
        }

        #[test]
        fn serde_round_trip(values in prop::collection::vec(0..=u64::MAX, 0..50)) {
            let mut h = LatencyHistogram::new();
            for &v in &values { h.record(v); }
            let json = serde_json::to_string(&h).unwrap();
            let back: LatencyHistogram = serde_json::from_str(&json).unwrap();
            prop_assert_eq!(back, h);
        }
    }
}
