//! Folded stacks ("collapsed" format): one line per call path, `root;child;leaf <value>`,
//! as Brendan Gregg's `flamegraph.pl`, `inferno-flamegraph` and speedscope read them.

use std::borrow::Cow;
use std::fmt::Write as _;
use std::io;

use super::ReportError;
use super::tree::for_each_path;
use crate::Snapshot;

/// How many bytes [`write_folded`] gathers before it hands them to the writer.
const CHUNK: usize = 64 * 1024;

/// A function name as a folded-stack frame: `;` (the frame separator) and line breaks (the
/// line separator) become `_`, and an empty name becomes `_`, so any name keeps the format
/// intact. Spaces may stay: readers split a line at its last space.
pub(crate) fn frame_name(name: &str) -> Cow<'_, str> {
    if name.is_empty() {
        return Cow::Borrowed("_");
    }
    if name.contains([';', '\n', '\r']) {
        Cow::Owned(name.replace([';', '\n', '\r'], "_"))
    } else {
        Cow::Borrowed(name)
    }
}

/// Writes the lines of `snap` into `buf`, calling `flush` whenever it holds [`CHUNK`] bytes.
fn fold(
    snap: &Snapshot,
    buf: &mut String,
    flush: &mut dyn FnMut(&mut String) -> io::Result<()>,
) -> io::Result<()> {
    let names: Vec<Cow<'_, str>> = snap.functions.iter().map(|f| frame_name(&f.name)).collect();
    let mut result = Ok(());
    let line = |path: &[usize], value: u64, buf: &mut String| {
        for (k, &f) in path.iter().enumerate() {
            if k > 0 {
                buf.push(';');
            }
            buf.push_str(&names[f]);
        }
        // Writing to a String cannot fail.
        let _ = writeln!(buf, " {value}");
    };
    if snap.call_tree.is_empty() {
        for (i, f) in snap.functions.iter().enumerate() {
            if f.self_ns > 0 {
                line(&[i], f.self_ns, buf);
                if buf.len() >= CHUNK {
                    flush(buf)?;
                }
            }
        }
    } else {
        for_each_path(snap, |node, path| {
            let self_ns = snap.call_tree[node].self_ns;
            if self_ns > 0 && result.is_ok() {
                line(path, self_ns, buf);
                if buf.len() >= CHUNK {
                    result = flush(buf);
                }
            }
        });
    }
    result
}

/// The snapshot as folded stacks: one line `root;child;leaf <self ns>` per call-tree node
/// with nonzero self time, so the widths of a flame graph add up to the profiled time. A
/// snapshot without a call tree gives one line per function with its self time.
///
/// Frame names are function names with `;` and line breaks replaced by `_` (an empty name
/// is `_`); the order of lines is a depth-first walk of the tree.
///
/// # Examples
/// ```
/// # #[cfg(feature = "testing")] {
/// use perfcore::{PerformanceProfiler, testing::ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let p = PerformanceProfiler::builder().clock(&clock).build()?;
/// {
///     let _outer = p.scope("outer")?;
///     clock.advance(Duration::from_nanos(300));
///     let _inner = p.scope("inner")?;
///     clock.advance(Duration::from_nanos(700));
/// }
/// let folded = perfcore::report::to_folded(&p.snapshot());
/// assert_eq!(folded, "outer 300\nouter;inner 700\n");
/// # }
/// # Ok::<(), perfcore::ProfileError>(())
/// ```
#[must_use]
pub fn to_folded(snap: &Snapshot) -> String {
    let mut out = String::new();
    // Flushing into the same String: nothing to do, and it cannot fail.
    let _ = fold(snap, &mut out, &mut |_| Ok(()));
    out
}

/// Writes [`to_folded`]'s text to `out`, in chunks (no need to wrap `out` in a `BufWriter`).
///
/// # Errors
/// [`ReportError::Io`] when `out` fails.
///
/// # Examples
/// ```
/// let snap = perfcore::Snapshot::from_functions(
///     vec![perfcore::FunctionStats::from_durations("load", [40, 60])], 0, 1_000);
/// let mut out = Vec::new();
/// perfcore::report::write_folded(&snap, &mut out)?;
/// assert_eq!(out, b"load 100\n");
/// # Ok::<(), perfcore::report::ReportError>(())
/// ```
pub fn write_folded(snap: &Snapshot, mut out: impl io::Write) -> Result<(), ReportError> {
    let mut buf = String::with_capacity(CHUNK + 4096);
    let mut flush = |buf: &mut String| {
        let r = out.write_all(buf.as_bytes());
        buf.clear();
        r
    };
    fold(snap, &mut buf, &mut flush)?;
    flush(&mut buf)?;
    out.flush()?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::super::tree::tests::{node, snapshot};
    use super::*;
    use proptest::prelude::*;

    #[test]
    fn one_line_per_node_with_self_time() {
        let snap = snapshot(
            &["main", "parse", "eval"],
            vec![node(None, 0, 5), node(Some(0), 1, 0), node(Some(1), 2, 7), node(Some(0), 2, 11)],
        );
        assert_eq!(to_folded(&snap), "main 5\nmain;parse;eval 7\nmain;eval 11\n");
    }

    #[test]
    fn names_cannot_break_lines_or_frames() {
        let snap = snapshot(
            &["a;b", "c\nd\r", ""],
            vec![node(None, 0, 1), node(Some(0), 1, 2), node(Some(1), 2, 3)],
        );
        assert_eq!(to_folded(&snap), "a_b 1\na_b;c_d_ 2\na_b;c_d_;_ 3\n");
    }

    #[test]
    fn without_a_tree_each_function_is_a_line() {
        let snap = snapshot(&["x", "y"], Vec::new());
        assert_eq!(to_folded(&snap), "x 10\ny 10\n");
    }

    #[test]
    fn the_writer_gives_the_same_bytes_in_chunks() {
        let names: Vec<String> = (0..5_000).map(|i| format!("function_{i}")).collect();
        let refs: Vec<&str> = names.iter().map(String::as_str).collect();
        let tree = (0..20_000).map(|i| node((i >= 5).then_some(i / 5), i % 5_000, 3)).collect();
        let snap = snapshot(&refs, tree);
        let mut out = Vec::new();
        write_folded(&snap, &mut out).unwrap();
        assert!(out.len() > 4 * CHUNK);
        assert_eq!(String::from_utf8(out).unwrap(), to_folded(&snap));
    }

    #[test]
    fn a_failing_writer_is_an_error() {
        struct Full;
        impl io::Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let snap = snapshot(&["x"], vec![node(None, 0, 1)]);
        assert!(matches!(write_folded(&snap, Full), Err(ReportError::Io(_))));
    }

    /// Parses folded text back into (frames, value) pairs, as a flame-graph tool would.
    fn parse(text: &str) -> Vec<(Vec<String>, u64)> {
        text.lines()
            .map(|l| {
                let (stack, value) = l.rsplit_once(' ').unwrap();
                (stack.split(';').map(str::to_owned).collect(), value.parse().unwrap())
            })
            .collect()
    }

    proptest! {
        #[test]
        fn any_names_and_trees_keep_the_format_and_the_totals(
            names in prop::collection::vec(any::<String>(), 1..8),
            raw in prop::collection::vec((any::<Option<usize>>(), any::<usize>(), 0u64..1_000_000), 0..40),
        ) {
            let refs: Vec<&str> = names.iter().map(String::as_str).collect();
            let tree: Vec<_> = raw
                .iter()
                .enumerate()
                .map(|(i, &(p, f, s))| node(p.map(|p| p % (i + 1)), f % names.len(), s))
                .collect();
            let snap = snapshot(&refs, tree);
            let text = to_folded(&snap);
            let lines = parse(&text);
            // Every node is reachable here (valid functions; a bad parent makes a root).
            let expected: u64 = if snap.call_tree.is_empty() {
                snap.functions.iter().map(|f| f.self_ns).sum()
            } else {
                snap.call_tree.iter().map(|n| n.self_ns).sum()
            };
            prop_assert_eq!(lines.iter().map(|l| l.1).sum::<u64>(), expected);
            prop_assert_eq!(lines.len(), text.lines().count());
            for (frames, value) in &lines {
                prop_assert!(*value > 0);
                for f in frames {
                    prop_assert!(!f.is_empty() && !f.contains(['\n', '\r', ';']));
                    prop_assert!(names.iter().any(|n| frame_name(n) == f.as_str()));
                }
            }
        }
    }
}
