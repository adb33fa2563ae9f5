//! HdrHistogram's interchange formats: the V2 compressed encoding of one histogram, and the
//! interval log (`HistogramLogWriter`'s text format) with one tagged interval per function,
//! which Java's `HistogramLogProcessor`, Python's `hdrh` and the `hdrhistogram` crate read.

use std::fmt::Write as _;
use std::io::{self, Write as _};
use std::time::{Duration, UNIX_EPOCH};

use hdrhistogram::Histogram;
use hdrhistogram::serialization::interval_log::{
    IntervalLogWriterBuilder, IntervalLogWriterError, Tag,
};
use hdrhistogram::serialization::{Serializer as _, V2DeflateSerializer};

use super::ReportError;
use crate::stats::histogram;
use crate::{FunctionStats, Snapshot};

/// Significant digits of the HdrHistogram each function is copied into (see [`write_hdr_log`]).
const SIGNIFICANT_DIGITS: u8 = 2;

/// An empty HdrHistogram that holds every value perfcore records.
fn empty() -> Result<Histogram<u64>, ReportError> {
    let highest = histogram::highest_value(histogram::bucket_index(crate::MAX_TRACKABLE_NS));
    Ok(Histogram::new_with_bounds(1, highest, SIGNIFICANT_DIGITS)?)
}

/// Records `f`'s buckets into `h` (which is reset first).
fn fill(h: &mut Histogram<u64>, f: &FunctionStats) -> Result<(), ReportError> {
    h.reset();
    for &(index, n) in f.histogram.raw_buckets() {
        h.record_n(histogram::midpoint(index as usize), n)?;
    }
    Ok(())
}

/// One function's latency histogram in HdrHistogram's V2 compressed (deflate) encoding, the
/// bytes `Histogram.decodeFromCompressedByteBuffer` (Java), `HdrHistogram.decode` after
/// base64 (Python's `hdrh`) and `hdrhistogram::serialization::Deserializer` read. Values are
/// nanoseconds; [`write_hdr_log`] gives the precision.
///
/// # Errors
/// [`ReportError::HdrRecord`] or [`ReportError::HdrSerialize`] if the hdrhistogram crate
/// refuses a value or the encoding (not expected for a snapshot's histograms).
///
/// # Examples
/// ```
/// use hdrhistogram::{Histogram, serialization::Deserializer};
/// let f = perfcore::FunctionStats::from_durations("parse", [1_000, 2_000, 3_000]);
/// let bytes = perfcore::report::hdr_histogram_v2(&f)?;
/// let h: Histogram<u64> = Deserializer::new().deserialize(&mut &bytes[..]).unwrap();
/// assert_eq!(h.len(), 3);
/// assert_eq!(h.value_at_quantile(0.5), f.p50_ns);
/// # Ok::<(), perfcore::report::ReportError>(())
/// ```
pub fn hdr_histogram_v2(f: &FunctionStats) -> Result<Vec<u8>, ReportError> {
    let mut h = empty()?;
    fill(&mut h, f)?;
    let mut out = Vec::new();
    V2DeflateSerializer::new().serialize(&h, &mut out)?;
    Ok(out)
}

/// A function name as an interval-log tag (see [`write_hdr_log`]).
pub(crate) fn tag_of(name: &str) -> String {
    if name.is_empty() {
        return "_".to_owned();
    }
    let mut out = String::with_capacity(name.len());
    let mut utf8 = [0u8; 4];
    for c in name.chars() {
        if c == '%' || c == ',' || c.is_whitespace() || c.is_control() {
            for b in c.encode_utf8(&mut utf8).bytes() {
                let _ = write!(out, "%{b:02X}");
            }
        } else {
            out.push(c);
        }
    }
    out
}

/// Writes the snapshot as an HdrHistogram interval log: a comment naming perfcore, the
/// `StartTime` and `BaseTime` headers (the snapshot's start), then one interval per function
/// that has calls, tagged with its name (see Tags below), starting at the
/// snapshot's start and lasting its window, its histogram V2-compressed.
///
/// Read it with `HistogramLogProcessor -i perfcore.hlog -tag <tag>` (Java; its default
/// `-outputValueUnitRatio` of 1e6 shows the nanoseconds as milliseconds) or Python's
/// `hdrh.log.HistogramLogReader`.
///
/// # Precision
/// Each of perfcore's buckets is recorded at its midpoint (the value perfcore reports
/// quantiles as) with its count, into an HdrHistogram of 2 significant digits. Those
/// histograms split each power of two into 128 buckets where perfcore has 64, aligned, so
/// every midpoint is the highest value of its HdrHistogram bucket: quantiles read from the
/// file equal perfcore's (up to the two libraries' rounding of the rank), within the same
/// 0.79% of the true values. Values are nanoseconds.
///
/// # Tags
/// An interval's tag is its function's name with `%`, `,`, whitespace and control
/// characters percent-encoded (each UTF-8 byte as `%XX`, e.g. `a b,c` → `a%20b%2Cc`), as
/// tags may not hold commas or spaces; the mapping is reversible. An empty name is tagged `_`.
///
/// # Errors
/// [`ReportError::Io`] when `out` fails; [`ReportError::HdrRecord`] or
/// [`ReportError::HdrSerialize`] as for [`hdr_histogram_v2`].
///
/// # Examples
/// ```
/// let snap = perfcore::Snapshot::from_functions(
///     vec![perfcore::FunctionStats::from_durations("load data", [40, 60])], 0, 1_000_000_000);
/// let mut log = Vec::new();
/// perfcore::report::write_hdr_log(&snap, &mut log)?;
/// let log = String::from_utf8(log).unwrap();
/// assert!(log.lines().any(|l| l.starts_with("Tag=load%20data,0.000,1.000,")));
/// # Ok::<(), perfcore::report::ReportError>(())
/// ```
pub fn write_hdr_log(snap: &Snapshot, mut out: impl io::Write) -> Result<(), ReportError> {
    let start = UNIX_EPOCH + Duration::from_nanos(snap.started_unix_ns);
    let mut serializer = V2DeflateSerializer::new();
    let mut buffered = io::BufWriter::new(&mut out);
    {
        let mut log = IntervalLogWriterBuilder::new()
            .add_comment(&format!(
                "perfcore {}: one interval per function, values in nanoseconds, Tag = the \
                 function's name with %, comma, whitespace and control characters percent-encoded",
                env!("CARGO_PKG_VERSION")
            ))
            .with_start_time(start)
            .with_base_time(start)
            .begin_log_with(&mut buffered, &mut serializer)?;
        let mut h = empty()?;
        for f in snap.functions.iter().filter(|f| f.count > 0) {
            fill(&mut h, f)?;
            let tag = tag_of(&f.name);
            log.write_histogram(&h, Duration::ZERO, snap.window(), Tag::new(&tag)).map_err(
                |e| match e {
                    IntervalLogWriterError::IoError(e) => ReportError::Io(e),
                    IntervalLogWriterError::SerializeError(e) => ReportError::HdrSerialize(e),
                },
            )?;
        }
    }
    buffered.flush()?;
    drop(buffered);
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;
    use hdrhistogram::serialization::Deserializer;
    use hdrhistogram::serialization::interval_log::{IntervalLogIterator, LogEntry};

    #[test]
    fn quantiles_survive_the_round_trip() {
        let durations: Vec<u64> = (0..5_000u64).map(|i| 50 + i * i * 37 % 9_000_000).collect();
        let f = FunctionStats::from_durations("f", durations);
        let bytes = hdr_histogram_v2(&f).unwrap();
        let h: Histogram<u64> = Deserializer::new().deserialize(&mut &bytes[..]).unwrap();
        assert_eq!(h.len(), f.count);
        for (q, ours) in [(0.5, f.p50_ns), (0.9, f.p90_ns), (0.99, f.p99_ns), (0.999, f.p999_ns)] {
            assert_eq!(h.value_at_quantile(q), ours, "q = {q}");
        }
        // Every midpoint is the top of its HdrHistogram bucket.
        for &(index, _) in f.histogram.raw_buckets() {
            let mid = histogram::midpoint(index as usize);
            assert_eq!(h.highest_equivalent(mid), mid);
        }
    }

    #[test]
    fn tags_are_reversible_and_allowed() {
        assert_eq!(tag_of("a b,c%d"), "a%20b%2Cc%25d");
        assert_eq!(tag_of("x\ny\r\u{3000}é"), "x%0Ay%0D%E3%80%80é");
        assert_eq!(tag_of(""), "_");
        for name in ["plain", "a, b", "tab\tname", "%"] {
            assert!(Tag::new(&tag_of(name)).is_some(), "{name}");
        }
    }

    #[test]
    fn the_log_has_one_interval_per_function() {
        let functions = vec![
            FunctionStats::from_durations("a b", [10, 20, 30]),
            FunctionStats::from_durations("unused", []),
            FunctionStats::from_durations("c", [1_000_000]),
        ];
        let snap = Snapshot::from_functions(functions, 1_000_000_000, 3_500_000_000);
        let mut log = Vec::new();
        write_hdr_log(&snap, &mut log).unwrap();
        let intervals: Vec<_> = IntervalLogIterator::new(&log)
            .filter_map(|e| match e.unwrap() {
                LogEntry::Interval(i) => Some(i),
                _ => None,
            })
            .collect();
        assert_eq!(intervals.len(), 2);
        assert_eq!(intervals[0].tag().unwrap().as_str(), "a%20b");
        assert_eq!(intervals[0].duration(), Duration::from_millis(2_500));
        // The bucket of 1 ms, [999,424, 1,007,615] ns, at its midpoint.
        assert_eq!(intervals[1].max(), 1_003_519.0);
    }
}
