//! The latency histogram: HdrHistogram at 3 significant digits, 0 ns to 1 hour.
//!
//! Each thread counts into flat arrays laid out exactly as HdrHistogram lays out its counts
//! (see [`bucket_index`]); a snapshot keeps only the non-empty buckets, as a sorted sparse
//! list. The layout functions here are the single definition both sides use, and property
//! tests check them, and the quantiles, against the `hdrhistogram` crate itself.
//!
//! Why not keep an `hdrhistogram::Histogram` per function in snapshots: its smallest counts
//! array for 3 digits has 2,048+ counters, and every quantile, mean or merge walks all of
//! them; a snapshot of 1,000 functions spent most of its 16 ms there. The sparse list holds
//! the same buckets (typically a few dozen) and makes a snapshot several times faster.

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

/// The highest value that lands in counter `index`.
#[inline]
pub(crate) const fn highest_value(index: usize) -> u64 {
    let chunk = chunk_of(index);
    if chunk <= 1 { index as u64 } else { lowest_value(index) + (1u64 << (chunk - 1)) - 1 }
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
#[derive(Clone, Debug, Default, PartialEq, Eq)]
pub struct LatencyHistogram {
    /// Non-empty buckets: (counter index in HdrHistogram's layout, count), sorted by index.
    buckets: Vec<(u32, u64)>,
    total: u64,
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
        Self::default()
    }

    /// Builds a histogram from counts in HdrHistogram's layout (see [`bucket_index`]).
    pub(crate) fn from_counts(counts: &[u64]) -> Self {
        let buckets: Vec<(u32, u64)> = counts
            .iter()
            .enumerate()
            .filter(|&(_, &n)| n > 0)
            .map(|(i, &n)| (i as u32, n))
            .collect();
        let total = buckets.iter().fold(0u64, |t, &(_, n)| t.saturating_add(n));
        Self { buckets, total }
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

    /// Records `count` occurrences of one value (clamped to the range).
    pub(crate) fn record_n(&mut self, value_ns: u64, count: u64) {
        if count == 0 {
            return;
        }
        let index = bucket_index(clamp(value_ns).0) as u32;
        match self.buckets.binary_search_by_key(&index, |&(i, _)| i) {
            Ok(pos) => self.buckets[pos].1 = self.buckets[pos].1.saturating_add(count),
            Err(pos) => self.buckets.insert(pos, (index, count)),
        }
        self.total = self.total.saturating_add(count);
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
        if other.buckets.is_empty() {
            return;
        }
        let mut merged = Vec::with_capacity(self.buckets.len() + other.buckets.len());
        let (mut a, mut b) = (self.buckets.iter().peekable(), other.buckets.iter().peekable());
        loop {
            let next = match (a.peek(), b.peek()) {
                (Some(&&(ia, na)), Some(&&(ib, nb))) => {
                    if ia == ib {
                        a.next();
                        b.next();
                        (ia, na.saturating_add(nb))
                    } else if ia < ib {
                        a.next();
                        (ia, na)
                    } else {
                        b.next();
                        (ib, nb)
                    }
                }
                (Some(&&x), None) => {
                    a.next();
                    x
                }
                (None, Some(&&x)) => {
                    b.next();
                    x
                }
                (None, None) => break,
            };
            merged.push(next);
        }
        self.buckets = merged;
        self.total = self.total.saturating_add(other.total);
    }

    /// The number of values recorded.
    #[must_use]
    pub fn len(&self) -> u64 {
        self.total
    }

    /// Whether nothing was recorded.
    #[must_use]
    pub fn is_empty(&self) -> bool {
        self.total == 0
    }

    /// The smallest value `v` such that at least a fraction `q` of the values are `<= v`,
    /// to 3 significant digits (HdrHistogram's definition: the highest value of the bucket
    /// where the cumulative count reaches `ceil(q × n)`); 0 for an empty histogram. `q` is
    /// clamped to `0.0..=1.0`.
    #[must_use]
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        let target = ((q * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for &(index, n) in &self.buckets {
            seen = seen.saturating_add(n);
            if seen >= target {
                let i = index as usize;
                return if q == 0.0 { lowest_value(i) } else { highest_value(i) };
            }
        }
        self.buckets.last().map_or(0, |&(i, _)| highest_value(i as usize))
    }

    /// The largest recorded value, to 3 significant digits (its bucket's highest value).
    #[must_use]
    pub fn max(&self) -> u64 {
        self.buckets.last().map_or(0, |&(i, _)| highest_value(i as usize))
    }

    /// The mid-point of each bucket, weighted by its count.
    fn midpoints(&self) -> impl Iterator<Item = (f64, f64)> + '_ {
        self.buckets.iter().map(|&(i, n)| {
            let i = i as usize;
            let mid = lowest_value(i) as f64 + (highest_value(i) - lowest_value(i)) as f64 / 2.0;
            (mid, n as f64)
        })
    }

    /// The mean of the recorded values, to the histogram's precision.
    #[must_use]
    pub fn mean(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        self.midpoints().map(|(v, n)| v * n).sum::<f64>() / self.total as f64
    }

    /// The standard deviation of the recorded values, to the histogram's precision.
    #[must_use]
    pub fn stddev(&self) -> f64 {
        if self.total == 0 {
            return 0.0;
        }
        let mean = self.mean();
        let var = self.midpoints().map(|(v, n)| (v - mean) * (v - mean) * n).sum::<f64>()
            / self.total as f64;
        var.sqrt()
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
        self.buckets.iter().map(|&(i, n)| (lowest_value(i as usize), n))
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
    use hdrhistogram::Histogram;
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

        /// Quantiles, max and count agree with the `hdrhistogram` crate fed the same values.
        #[test]
        fn agrees_with_hdrhistogram(
            values in prop::collection::vec(0..=MAX_TRACKABLE_NS, 1..300),
            q in 0.0..=1.0f64,
        ) {
            let mut ours = LatencyHistogram::new();
            let mut theirs = Histogram::<u64>::new_with_bounds(1, MAX_TRACKABLE_NS, 3).unwrap();
            for &v in &values {
                ours.record(v);
                theirs.record(v).unwrap();
            }
            prop_assert_eq!(ours.len(), theirs.len());
            prop_assert_eq!(ours.value_at_quantile(q), theirs.value_at_quantile(q));
            prop_assert_eq!(ours.max(), theirs.max());
            let mean = theirs.mean();
            prop_assert!((ours.mean() - mean).abs() <= mean * 1e-3 + 1.0);
            // Both take each bucket's midpoint: the spread agrees to rounding.
            let sd = theirs.stdev();
            prop_assert!((ours.stddev() - sd).abs() <= sd * 1e-6 + 1e-3, "{} vs {sd}", ours.stddev());
        }

        /// The spread is within the bucket precision of the exact population standard
        /// deviation of the values recorded.
        #[test]
        fn stddev_within_precision_of_exact(
            values in prop::collection::vec(0..=10_000_000_000u64, 1..300),
        ) {
            let mut h = LatencyHistogram::new();
            for &v in &values {
                h.record(v);
            }
            let n = values.len() as f64;
            let mean = values.iter().map(|&v| v as f64).sum::<f64>() / n;
            let exact = (values.iter().map(|&v| (v as f64 - mean).powi(2)).sum::<f64>() / n).sqrt();
            let max = *values.iter().max().unwrap() as f64;
            // Each value moves by at most 1/1024 of itself (plus one for the midpoint).
            prop_assert!((h.stddev() - exact).abs() <= max * 2e-3 + 2.0, "{} vs {exact}", h.stddev());
        }

        /// Merging is the same as recording everything into one histogram.
        #[test]
        fn merge_equals_recording_both(
            a in prop::collection::vec(0..=MAX_TRACKABLE_NS, 0..100),
            b in prop::collection::vec(0..=MAX_TRACKABLE_NS, 0..100),
        ) {
            let (mut ha, mut hb, mut both) =
                (LatencyHistogram::new(), LatencyHistogram::new(), LatencyHistogram::new());
            for &v in &a { ha.record(v); both.record(v); }
            for &v in &b { hb.record(v); both.record(v); }
            ha.merge(&hb);
            prop_assert_eq!(ha, both);
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
