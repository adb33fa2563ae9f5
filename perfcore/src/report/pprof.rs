//! pprof's `profile.proto` (google/pprof, `proto/profile.proto`), gzipped, for `go tool pprof`,
//! Grafana Pyroscope and the other tools that read it.
//!
//! The encoder is written out here (the message is small and flat: varints and
//! length-delimited fields), so the export needs no protobuf code generator.

use std::collections::HashMap;
use std::io::{self, Write as _};

use flate2::Compression;
use flate2::write::GzEncoder;

use super::ReportError;
use super::tree::for_each_path;
use crate::Snapshot;

// Field numbers of profile.proto.
mod field {
    // Profile
    pub(super) const SAMPLE_TYPE: u32 = 1;
    pub(super) const SAMPLE: u32 = 2;
    pub(super) const LOCATION: u32 = 4;
    pub(super) const FUNCTION: u32 = 5;
    pub(super) const STRING_TABLE: u32 = 6;
    pub(super) const TIME_NANOS: u32 = 9;
    pub(super) const DURATION_NANOS: u32 = 10;
    pub(super) const COMMENT: u32 = 13;
    pub(super) const DEFAULT_SAMPLE_TYPE: u32 = 14;
    // ValueType
    pub(super) const VALUE_TYPE_TYPE: u32 = 1;
    pub(super) const VALUE_TYPE_UNIT: u32 = 2;
    // Sample
    pub(super) const SAMPLE_LOCATION_ID: u32 = 1;
    pub(super) const SAMPLE_VALUE: u32 = 2;
    // Location
    pub(super) const LOCATION_ID: u32 = 1;
    pub(super) const LOCATION_LINE: u32 = 4;
    // Line
    pub(super) const LINE_FUNCTION_ID: u32 = 1;
    pub(super) const LINE_LINE: u32 = 2;
    // Function
    pub(super) const FUNCTION_ID: u32 = 1;
    pub(super) const FUNCTION_NAME: u32 = 2;
    pub(super) const FUNCTION_SYSTEM_NAME: u32 = 3;
    pub(super) const FUNCTION_FILENAME: u32 = 4;
    pub(super) const FUNCTION_START_LINE: u32 = 5;
}

/// Protobuf wire types.
const VARINT: u32 = 0;
const LEN: u32 = 2;

/// A protobuf message being written: fields appended in order.
#[derive(Default)]
struct Message(Vec<u8>);

impl Message {
    fn varint(&mut self, mut v: u64) {
        while v >= 0x80 {
            self.0.push((v as u8) | 0x80);
            v >>= 7;
        }
        self.0.push(v as u8);
    }

    fn key(&mut self, field: u32, wire: u32) {
        self.varint(u64::from((field << 3) | wire));
    }

    /// A varint field; proto3 leaves zeros out.
    fn uint(&mut self, field: u32, v: u64) {
        if v != 0 {
            self.key(field, VARINT);
            self.varint(v);
        }
    }

    /// An `int64` field holding a non-negative value (every one perfcore writes).
    fn int(&mut self, field: u32, v: u64) {
        self.uint(field, v.min(i64::MAX as u64));
    }

    fn bytes(&mut self, field: u32, b: &[u8]) {
        self.key(field, LEN);
        self.varint(b.len() as u64);
        self.0.extend_from_slice(b);
    }

    fn message(&mut self, field: u32, m: &Message) {
        self.bytes(field, &m.0);
    }

    /// A packed repeated varint field.
    fn packed(&mut self, field: u32, values: impl Iterator<Item = u64>, scratch: &mut Message) {
        scratch.0.clear();
        for v in values {
            scratch.varint(v);
        }
        if !scratch.0.is_empty() {
            self.bytes(field, &scratch.0);
        }
    }
}

/// The string table: index 0 is "".
struct Strings<'a> {
    index: HashMap<&'a str, u64>,
    table: Vec<&'a str>,
}

impl<'a> Strings<'a> {
    fn new() -> Self {
        Self { index: HashMap::from([("", 0)]), table: vec![""] }
    }

    fn get(&mut self, s: &'a str) -> u64 {
        let next = self.table.len() as u64;
        *self.index.entry(s).or_insert_with(|| {
            self.table.push(s);
            next
        })
    }
}

/// Splits `total` over parts in proportion to `weights`, in whole units that add up to
/// `total` exactly (largest remainders get the leftover units).
fn apportion(total: u64, weights: &[u64]) -> Vec<u64> {
    let sum: u128 = weights.iter().map(|&w| u128::from(w)).sum();
    if sum == 0 {
        return vec![0; weights.len()];
    }
    let mut shares: Vec<u64> = Vec::with_capacity(weights.len());
    let mut rest: Vec<(u128, usize)> = Vec::with_capacity(weights.len());
    for (i, &w) in weights.iter().enumerate() {
        let exact = u128::from(total) * u128::from(w);
        shares.push((exact / sum) as u64);
        rest.push((exact % sum, i));
    }
    let left = total - shares.iter().sum::<u64>();
    rest.sort_unstable_by(|a, b| b.0.cmp(&a.0).then(a.1.cmp(&b.1)));
    for &(_, i) in rest.iter().take(left as usize) {
        shares[i] += 1;
    }
    shares
}

/// Per call-tree node, its share of its function's allocations `(bytes, objects)`: perfcore
/// counts allocations per function, not per call path, so a function's are shared among its
/// nodes in proportion to their calls.
fn node_allocations(snap: &Snapshot) -> Vec<(u64, u64)> {
    let mut nodes_of: Vec<Vec<usize>> = vec![Vec::new(); snap.functions.len()];
    for (i, n) in snap.call_tree.iter().enumerate() {
        if let Some(v) = nodes_of.get_mut(n.function) {
            v.push(i);
        }
    }
    let mut out = vec![(0, 0); snap.call_tree.len()];
    for (f, nodes) in snap.functions.iter().zip(&nodes_of) {
        let Some(a) = f.allocations else { continue };
        let (bytes, objects) = self_allocations(a);
        let calls: Vec<u64> = nodes.iter().map(|&i| snap.call_tree[i].count).collect();
        let by_bytes = apportion(bytes, &calls);
        let by_objects = apportion(objects, &calls);
        for (k, &i) in nodes.iter().enumerate() {
            out[i] = (by_bytes[k], by_objects[k]);
        }
    }
    out
}

/// A function's own allocations: its self bytes and its self allocation count.
fn self_allocations(a: crate::AllocationStats) -> (u64, u64) {
    (a.self_allocated_bytes, a.self_allocations)
}

/// The uncompressed `Profile` message.
fn encode(snap: &Snapshot) -> Vec<u8> {
    let mut strings = Strings::new();
    let mut profile = Message::default();
    let tracked = snap.functions.iter().any(|f| f.allocations.is_some());
    let mut types = vec![("calls", "count"), ("wall", "nanoseconds"), ("self", "nanoseconds")];
    if tracked {
        types.extend([("alloc_space", "bytes"), ("alloc_objects", "count")]);
    }
    let mut m = Message::default();
    for (t, u) in &types {
        m.0.clear();
        m.int(field::VALUE_TYPE_TYPE, strings.get(t));
        m.int(field::VALUE_TYPE_UNIT, strings.get(u));
        profile.message(field::SAMPLE_TYPE, &m);
    }

    let mut scratch = Message::default();
    let mut sample = |profile: &mut Message,
                      path: &mut dyn Iterator<Item = u64>,
                      values: &[u64]| {
        m.0.clear();
        m.packed(field::SAMPLE_LOCATION_ID, path, &mut scratch);
        m.packed(field::SAMPLE_VALUE, values.iter().map(|&v| v.min(i64::MAX as u64)), &mut scratch);
        profile.message(field::SAMPLE, &m);
    };
    let width = types.len();
    if snap.call_tree.is_empty() {
        for (i, f) in snap.functions.iter().enumerate() {
            let (bytes, objects) = f.allocations.map_or((0, 0), self_allocations);
            let values = [f.count, f.total_ns, f.self_ns, bytes, objects];
            sample(&mut profile, &mut std::iter::once(i as u64 + 1), &values[..width]);
        }
    } else {
        let allocs = if tracked { node_allocations(snap) } else { Vec::new() };
        for_each_path(snap, |node, path| {
            let n = &snap.call_tree[node];
            let (bytes, objects) = allocs.get(node).copied().unwrap_or((0, 0));
            let values = [n.count, n.total_ns, n.self_ns, bytes, objects];
            // Location ids are function indices plus one; the leaf comes first.
            sample(&mut profile, &mut path.iter().rev().map(|&f| f as u64 + 1), &values[..width]);
        });
    }

    let mut line = Message::default();
    for (i, f) in snap.functions.iter().enumerate() {
        let id = i as u64 + 1;
        line.0.clear();
        line.uint(field::LINE_FUNCTION_ID, id);
        line.int(field::LINE_LINE, u64::from(f.line));
        m.0.clear();
        m.uint(field::LOCATION_ID, id);
        m.message(field::LOCATION_LINE, &line);
        profile.message(field::LOCATION, &m);
    }
    for (i, f) in snap.functions.iter().enumerate() {
        let name = strings.get(&f.name);
        let system_name = if f.module_path.is_empty() { name } else { strings.get(&f.module_path) };
        m.0.clear();
        m.uint(field::FUNCTION_ID, i as u64 + 1);
        m.int(field::FUNCTION_NAME, name);
        m.int(field::FUNCTION_SYSTEM_NAME, system_name);
        m.int(field::FUNCTION_FILENAME, strings.get(&f.file));
        m.int(field::FUNCTION_START_LINE, u64::from(f.line));
        profile.message(field::FUNCTION, &m);
    }
    profile.int(field::TIME_NANOS, snap.started_unix_ns);
    profile.int(field::DURATION_NANOS, snap.window().as_nanos() as u64);
    let comment = strings.get("perfcore: wall is each call path's total time; read self");
    profile.uint(field::COMMENT, comment);
    profile.int(field::DEFAULT_SAMPLE_TYPE, strings.get("self"));
    for s in &strings.table {
        profile.bytes(field::STRING_TABLE, s.as_bytes());
    }
    profile.0
}

/// The snapshot as a gzipped pprof profile (`profile.proto`).
///
/// Sample types: `calls`/count, `wall`/nanoseconds (each call path's total time), `self`
/// /nanoseconds (the default), and, when allocations were tracked, `alloc_space`/bytes and
/// `alloc_objects`/count. There is one sample per call-tree node (one per function when the
/// snapshot has no tree), whose stack is the node's path, and one location and function per
/// perfcore function (name, module path as the system name, file, line). `time_nanos` and
/// `duration_nanos` are the snapshot's window.
///
/// Read `self`: its flat column is each function's self time and its cumulative column the
/// time under it. `wall` sums nested paths again in the cumulative column (its flat column is
/// a function's total time). perfcore counts allocations per function, not per call path, so
/// a function's own allocations (its self bytes and self allocation count) are shared among
/// its call paths in proportion to their calls.
///
/// # Examples
/// ```
/// let snap = perfcore::Snapshot::from_functions(
///     vec![perfcore::FunctionStats::from_durations("load", [40, 60])], 0, 1_000);
/// let gz = perfcore::report::to_pprof(&snap);
/// assert_eq!(&gz[..2], &[0x1f, 0x8b]); // gzip
/// // go tool pprof -top -sample_index=self profile.pb.gz
/// ```
#[must_use]
pub fn to_pprof(snap: &Snapshot) -> Vec<u8> {
    let mut out = Vec::new();
    // Writing into a Vec cannot fail.
    let _ = write_pprof(snap, &mut out);
    out
}

/// Writes [`to_pprof`]'s bytes to `out`.
///
/// # Errors
/// [`ReportError::Io`] when `out` fails.
///
/// # Examples
/// ```
/// let snap = perfcore::Snapshot::default();
/// let mut file = Vec::new(); // or std::fs::File::create("profile.pb.gz")?
/// perfcore::report::write_pprof(&snap, &mut file)?;
/// assert!(!file.is_empty());
/// # Ok::<(), perfcore::report::ReportError>(())
/// ```
pub fn write_pprof(snap: &Snapshot, out: impl io::Write) -> Result<(), ReportError> {
    let raw = encode(snap);
    let mut gz = GzEncoder::new(out, Compression::fast());
    gz.write_all(&raw)?;
    gz.finish()?.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tree::tests::{node, snapshot};
    use super::*;

    /// A minimal protobuf reader for the tests: (field, wire type, varint or bytes).
    fn fields(mut b: &[u8]) -> Vec<(u32, u64, Vec<u8>)> {
        fn varint(b: &mut &[u8]) -> u64 {
            let (mut v, mut shift) = (0u64, 0);
            loop {
                let byte = b[0];
                *b = &b[1..];
                v |= u64::from(byte & 0x7f) << shift;
                if byte < 0x80 {
                    return v;
                }
                shift += 7;
            }
        }
        let mut out = Vec::new();
        while !b.is_empty() {
            let key = varint(&mut b);
            let (field, wire) = ((key >> 3) as u32, key & 7);
            if wire == 0 {
                out.push((field, varint(&mut b), Vec::new()));
            } else {
                assert_eq!(wire, 2);
                let len = varint(&mut b) as usize;
                out.push((field, len as u64, b[..len].to_vec()));
                b = &b[len..];
            }
        }
        out
    }

    fn packed(b: &[u8]) -> Vec<u64> {
        let mut m = Message::default();
        m.0.extend_from_slice(b);
        let mut out = Vec::new();
        let mut rest = &m.0[..];
        while !rest.is_empty() {
            let (mut v, mut shift) = (0u64, 0);
            loop {
                let byte = rest[0];
                rest = &rest[1..];
                v |= u64::from(byte & 0x7f) << shift;
                if byte < 0x80 {
                    break;
                }
                shift += 7;
            }
            out.push(v);
        }
        out
    }

    #[test]
    fn varints_and_keys() {
        let mut m = Message::default();
        m.varint(300);
        assert_eq!(m.0, [0xac, 0x02]);
        m.0.clear();
        m.uint(2, 0);
        assert!(m.0.is_empty(), "proto3 zeros are left out");
        m.int(1, u64::MAX);
        assert_eq!(m.0.len(), 1 + 9, "clamped to i64::MAX, nine bytes");
    }

    #[test]
    fn apportion_adds_up() {
        assert_eq!(apportion(10, &[1, 1, 1]), [4, 3, 3]);
        assert_eq!(apportion(7, &[0, 0]), [0, 0]);
        assert_eq!(
            apportion(u64::MAX, &[u64::MAX, 1]).iter().map(|&v| u128::from(v)).sum::<u128>(),
            u128::from(u64::MAX)
        );
    }

    #[test]
    fn samples_are_paths_leaf_first_with_values() {
        let mut snap = snapshot(&["main", "work"], vec![node(None, 0, 5), node(Some(0), 1, 7)]);
        snap.call_tree[0].total_ns = 12;
        snap.started_unix_ns = 100;
        snap.ended_unix_ns = 1_100;
        let raw = encode(&snap);
        let top = fields(&raw);
        let strings: Vec<String> = top
            .iter()
            .filter(|f| f.0 == field::STRING_TABLE)
            .map(|f| String::from_utf8(f.2.clone()).unwrap())
            .collect();
        assert_eq!(strings[0], "");
        let samples: Vec<(Vec<u64>, Vec<u64>)> = top
            .iter()
            .filter(|f| f.0 == field::SAMPLE)
            .map(|f| {
                let s = fields(&f.2);
                (packed(&s[0].2), packed(&s[1].2))
            })
            .collect();
        assert_eq!(samples, vec![(vec![1], vec![1, 12, 5]), (vec![2, 1], vec![1, 7, 7])]);
        let value = |field: u32| top.iter().find(|f| f.0 == field).map(|f| f.1);
        assert_eq!(value(field::TIME_NANOS), Some(100));
        assert_eq!(value(field::DURATION_NANOS), Some(1_000));
        let default = value(field::DEFAULT_SAMPLE_TYPE).unwrap() as usize;
        assert_eq!(strings[default], "self");
        assert_eq!(top.iter().filter(|f| f.0 == field::FUNCTION).count(), 2);
        assert_eq!(top.iter().filter(|f| f.0 == field::LOCATION).count(), 2);
    }

    #[test]
    fn allocations_are_shared_by_calls() {
        let mut snap =
            snapshot(&["a", "b"], vec![node(None, 0, 1), node(Some(0), 1, 1), node(None, 1, 1)]);
        snap.call_tree[2].count = 3;
        snap.functions[1].allocations = Some(crate::AllocationStats {
            calls: 4,
            allocated_bytes: 800,
            self_allocated_bytes: 400,
            freed_bytes: 0,
            allocations: 8,
            self_allocations: 4,
        });
        let shares = node_allocations(&snap);
        assert_eq!(shares, vec![(0, 0), (100, 1), (300, 3)]);
    }
}
