//! The latency histogram: log-linear buckets, 64 per power of two, 0 ns to 1 hour.
//!
//! # Layout and error
//! Values below 128 ns have a bucket each (exact). Above, each power of two `[2^k, 2^(k+1))`
//! is split into 64 equal buckets of width `2^(k-6)`, so a bucket is at most 1/64 of its
//! lowest value wide. A quantile is reported as its bucket's midpoint, within 1/128 (0.79%)
//! of the true value; the mean and standard deviation use the midpoints too. This is the
//! layout of HdrHistogram (`bucket_index` is its formula) with 128 sub-buckets instead of
//! 2,048: a 3-significant-digit HdrHistogram needs 16 KiB per power of two a call path
//! touches, this one 512 bytes, so six decades of latency (20 powers of two) cost about
//! 10 KiB per call path per thread. DDSketch and Prometheus' native histograms keep 1–5%.
//!
//! Each thread counts into flat arrays in this layout (see [`bucket_index`]); a snapshot
//! keeps only the non-empty buckets, as a sorted sparse list. The layout functions here are
//! the single definition both sides use, and property tests check them and the quantiles
//! against exact references.
//!
//! Snapshots written before this layout (schema 1) hold 3-digit HdrHistogram buckets; each of
//! those lies inside exactly one of these buckets, so reading them re-buckets without loss
//! beyond this layout's own precision.

use serde::{Deserialize, Serialize};

/// Buckets per power of two (above 128 ns) in every latency histogram: quantiles are within
/// 1/128 (0.79%) of the true value.
///
/// # Examples
/// ```
/// let mut h = perfcore::LatencyHistogram::new();
/// h.record(1_000_000);
/// let q = h.value_at_quantile(0.5) as f64;
/// assert!((q - 1e6).abs() <= 1e6 / (2.0 * f64::from(perfcore::HISTOGRAM_SUB_BUCKETS)));
/// ```
pub const HISTOGRAM_SUB_BUCKETS: u32 = 1 << HALF_MAGNITUDE;

/// The largest value a histogram records, in nanoseconds: one hour. Longer scopes are
/// recorded as one hour and counted in [`FunctionStats::clamped`](crate::FunctionStats).
pub const MAX_TRACKABLE_NS: u64 = 3_600_000_000_000;

/// log2 of the buckets per power of two.
const HALF_MAGNITUDE: u32 = 6;
const HALF_COUNT: usize = 1 << HALF_MAGNITUDE;
/// Values below this have a bucket each.
const EXACT_BELOW: u64 = 2 * HALF_COUNT as u64;

/// Counts per chunk: a chunk is one power of two (the first two share values 0 to 127).
pub(crate) const CHUNK_LEN: usize = HALF_COUNT;

/// Chunks needed to reach [`MAX_TRACKABLE_NS`] (just under 2^42).
pub(crate) const CHUNKS: usize = chunk_of(bucket_index(MAX_TRACKABLE_NS)) + 1;

/// The index of `value`'s counter (HdrHistogram's formula, with 128 sub-buckets).
#[inline(always)]
pub(crate) const fn bucket_index(value: u64) -> usize {
    // Which power of two: 0 for values below 128, then one per doubling.
    let bucket = (63 - HALF_MAGNITUDE) - (value | (EXACT_BELOW - 1)).leading_zeros();
    // bucket * 64 + (value >> bucket), written so it cannot overflow.
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

/// The value a quantile in counter `index` is reported as: the middle of its range.
#[inline]
pub(crate) const fn midpoint(index: usize) -> u64 {
    let lo = lowest_value(index);
    lo + (highest_value(index) - lo) / 2
}

/// Clamps a duration to the histogram's range; the flag says whether it was clamped.
#[inline(always)]
pub(crate) const fn clamp(value_ns: u64) -> (u64, bool) {
    if value_ns > MAX_TRACKABLE_NS { (MAX_TRACKABLE_NS, true) } else { (value_ns, false) }
}

/// A latency distribution of nanoseconds: 64 buckets per power of two.
///
/// Every recorded value is kept to within 1/64 of itself (exactly, below 128 ns), and
/// quantiles are reported as a bucket's midpoint, within 0.79%; two histograms merge without
/// loss. In JSON it is `{"sub_buckets": 64, "buckets": [[lowest value of a bucket, count], ..]}`.
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

    /// The counts of `self` minus those of `earlier`, bucket by bucket; `None` when
    /// `earlier` has more in some bucket (it is not an earlier state of this histogram).
    pub(crate) fn difference(&self, earlier: &LatencyHistogram) -> Option<LatencyHistogram> {
        let mut theirs = earlier.buckets.iter().peekable();
        let mut buckets = Vec::with_capacity(self.buckets.len());
        for &(i, n) in &self.buckets {
            let mut left = n;
            while let Some(&&(j, m)) = theirs.peek() {
                if j > i {
                    break;
                }
                if j < i {
                    return None;
                }
                left = n.checked_sub(m)?;
                theirs.next();
            }
            if left > 0 {
                buckets.push((i, left));
            }
        }
        if theirs.next().is_some() {
            return None;
        }
        let total = buckets.iter().fold(0u64, |t, &(_, n)| t.saturating_add(n));
        Some(Self { buckets, total })
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

    /// The value below which a fraction `q` of the values lie: the midpoint of the bucket
    /// where the cumulative count reaches `ceil(q × n)` (its lowest value for `q = 0`), within
    /// 0.79% of the exact order statistic; 0 for an empty histogram. `q` is clamped to
    /// `0.0..=1.0`.
    #[must_use]
    pub fn value_at_quantile(&self, q: f64) -> u64 {
        let q = if q.is_nan() { 0.0 } else { q.clamp(0.0, 1.0) };
        let target = ((q * self.total as f64).ceil() as u64).max(1);
        let mut seen = 0u64;
        for &(index, n) in &self.buckets {
            seen = seen.saturating_add(n);
            if seen >= target {
                let i = index as usize;
                return if q == 0.0 { lowest_value(i) } else { midpoint(i) };
            }
        }
        self.buckets.last().map_or(0, |&(i, _)| highest_value(i as usize))
    }

    /// The non-empty buckets as (counter index, count), ascending: for code that needs the
    /// layout (bucket bounds from [`lowest_value`] and [`highest_value`]).
    pub(crate) fn raw_buckets(&self) -> &[(u32, u64)] {
        &self.buckets
    }

    /// The largest recorded value, to the histogram's precision (its bucket's highest value).
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

/// The JSON form. `sub_buckets` names this layout; `significant_digits: 3` names the 3-digit
/// HdrHistogram layout of schema-1 snapshots, whose buckets each lie inside one of ours.
#[derive(Serialize, Deserialize)]
struct HistogramRepr {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    sub_buckets: Option<u32>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    significant_digits: Option<u8>,
    buckets: Vec<(u64, u64)>,
}

/// The layout of schema-1 snapshots: HdrHistogram with 3 significant digits.
const SCHEMA1_SIGNIFICANT_DIGITS: u8 = 3;

impl Serialize for LatencyHistogram {
    fn serialize<S: serde::Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        HistogramRepr {
            sub_buckets: Some(HISTOGRAM_SUB_BUCKETS),
            significant_digits: None,
            buckets: self.buckets().collect(),
        }
        .serialize(s)
    }
}

impl<'de> Deserialize<'de> for LatencyHistogram {
    fn deserialize<D: serde::Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        use serde::de::Error;
        let repr = HistogramRepr::deserialize(d)?;
        match (repr.sub_buckets, repr.significant_digits) {
            (Some(HISTOGRAM_SUB_BUCKETS), None) | (None, Some(SCHEMA1_SIGNIFICANT_DIGITS)) => {}
            (Some(n), _) => {
                return Err(D::Error::custom(format_args!(
                    "histogram has {n} sub-buckets; perfcore reads {HISTOGRAM_SUB_BUCKETS}"
                )));
            }
            (None, Some(n)) => {
                return Err(D::Error::custom(format_args!(
                    "histogram has {n} significant digits; perfcore reads \
                     {SCHEMA1_SIGNIFICANT_DIGITS} (schema 1) or {HISTOGRAM_SUB_BUCKETS} sub-buckets"
                )));
            }
            (None, None) => {
                return Err(D::Error::custom("histogram names no layout (`sub_buckets`)"));
            }
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

    /// The relative error a reported quantile may have: half a bucket of 1/64.
    const QUANTILE_ERROR: f64 = 1.0 / 128.0;

    #[test]
    fn layout_at_edges() {
        for v in [0, 1, 127] {
            assert_eq!((lowest_value(bucket_index(v)), highest_value(bucket_index(v))), (v, v));
        }
        assert_eq!(bucket_index(128), 128);
        assert_eq!((lowest_value(128), highest_value(128)), (128, 129));
        assert_eq!(bucket_index(255), 191);
        assert_eq!((lowest_value(bucket_index(256)), highest_value(bucket_index(256))), (256, 259));
        assert_eq!(CHUNKS, 37);
        assert_eq!(chunk_of(bucket_index(MAX_TRACKABLE_NS)), CHUNKS - 1);
    }

    /// Six decades of latency (1 µs to 1 s) touch 21 chunks of 64 counters: about 10 KiB of
    /// u64 counters per call path, the figure the docs state.
    #[test]
    fn six_decades_fit_in_eleven_kib() {
        let chunks = chunk_of(bucket_index(1_000_000_000)) - chunk_of(bucket_index(1_000)) + 1;
        assert_eq!(chunks, 21);
        assert!(chunks * CHUNK_LEN * 8 <= 11 * 1024);
    }

    proptest! {
        /// Buckets tile the range: each value lies in its bucket, consecutive buckets touch,
        /// and a bucket is at most 1/64 of its lowest value wide.
        #[test]
        fn layout_tiles_the_range(v in 0..=MAX_TRACKABLE_NS) {
            let i = bucket_index(v);
            let (lo, hi) = (lowest_value(i), highest_value(i));
            prop_assert!(lo <= v && v <= hi, "{v} not in [{lo}, {hi}]");
            prop_assert!(chunk_of(i) < CHUNKS);
            prop_assert_eq!(bucket_index(lo), i);
            prop_assert_eq!(bucket_index(hi), i);
            prop_assert_eq!(bucket_index(hi + 1), i + 1);
            prop_assert!((hi - lo + 1) as f64 <= (lo as f64 / 64.0).max(1.0));
            let mid = midpoint(i);
            prop_assert!(mid.abs_diff(v) as f64 <= v as f64 * QUANTILE_ERROR);
        }

        /// Each bucket of a schema-1 snapshot (3-digit HdrHistogram) lies inside one bucket.
        #[test]
        fn hdrhistogram_3_digit_buckets_nest(v in 0..=MAX_TRACKABLE_NS) {
            let h = Histogram::<u64>::new_with_bounds(1, MAX_TRACKABLE_NS, 3).unwrap();
            let (lo, hi) = (h.lowest_equivalent(v), h.highest_equivalent(v).min(MAX_TRACKABLE_NS));
            prop_assert_eq!(bucket_index(lo), bucket_index(hi));
        }

        #[test]
        fn quantiles_within_precision_of_sorted_reference(
            mut values in prop::collection::vec(0..=10_000_000_000u64, 1..400),
            q in 0.0..=1.0f64,
        ) {
            let mut h = LatencyHistogram::new();
            for &v in &values { h.record(v); }
            values.sort_unstable();
            // The first value whose cumulative count reaches q·n.
            let rank = ((q * values.len() as f64).ceil() as usize).clamp(1, values.len());
            let exact = values[rank - 1];
            let got = h.value_at_quantile(q);
            let tolerance = if q == 0.0 { exact as f64 / 64.0 } else { exact as f64 * QUANTILE_ERROR };
            prop_assert!(got.abs_diff(exact) as f64 <= tolerance, "q={q} exact={exact} got={got}");
        }

        /// Count, quantiles, mean and spread agree with the `hdrhistogram` crate (3 digits)
        /// fed the same values, to this layout's precision.
        #[test]
        fn agrees_with_hdrhistogram(
            values in prop::collection::vec(0..=MAX_TRACKABLE_NS, 1..300),
            q in 0.001..=1.0f64,
        ) {
            let mut ours = LatencyHistogram::new();
            let mut theirs = Histogram::<u64>::new_with_bounds(1, MAX_TRACKABLE_NS, 3).unwrap();
            for &v in &values {
                ours.record(v);
                theirs.record(v).unwrap();
            }
            prop_assert_eq!(ours.len(), theirs.len());
            let (a, b) = (ours.value_at_quantile(q) as f64, theirs.value_at_quantile(q) as f64);
            // Theirs is within 1/1024 (its bucket's highest value), ours within 1/128.
            prop_assert!((a - b).abs() <= b * (QUANTILE_ERROR + 1.0 / 1024.0) + 1.0, "{a} vs {b}");
            let mean = theirs.mean();
            prop_assert!((ours.mean() - mean).abs() <= mean / 64.0 + 1.0);
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
            // Each value moves by at most 1/128 of itself to its bucket's midpoint.
            prop_assert!((h.stddev() - exact).abs() <= max * 2.0 / 128.0 + 2.0, "{} vs {exact}", h.stddev());
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

        /// A schema-1 histogram (3-digit HdrHistogram buckets) reads back as the same values
        /// recorded in this layout.
        #[test]
        fn reads_schema_1_buckets(values in prop::collection::vec(0..=MAX_TRACKABLE_NS, 0..50)) {
            let mut hdr = Histogram::<u64>::new_with_bounds(1, MAX_TRACKABLE_NS, 3).unwrap();
            let mut ours = LatencyHistogram::new();
            for &v in &values {
                hdr.record(v).unwrap();
                ours.record(v);
            }
            let buckets: Vec<(u64, u64)> =
                hdr.iter_recorded().map(|b| (hdr.lowest_equivalent(b.value_iterated_to()), b.count_at_value())).collect();
            let json = serde_json::json!({"significant_digits": 3, "buckets": buckets});
            let back: LatencyHistogram = serde_json::from_value(json).unwrap();
            prop_assert_eq!(back, ours);
        }
    }

    #[test]
    fn unknown_layouts_are_refused() {
        for (json, says) in [
            (r#"{"sub_buckets": 32, "buckets": []}"#, "32 sub-buckets"),
            (r#"{"significant_digits": 2, "buckets": []}"#, "2 significant digits"),
            (r#"{"buckets": []}"#, "names no layout"),
        ] {
            let err = serde_json::from_str::<LatencyHistogram>(json).unwrap_err().to_string();
            assert!(err.contains(says), "{err}");
        }
    }
}
