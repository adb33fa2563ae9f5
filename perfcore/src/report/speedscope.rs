//! speedscope's JSON file format (<https://www.speedscope.app/file-format-schema.json>).

use std::fmt::Write as _;

use super::tree::for_each_path;
use crate::Snapshot;

/// The schema URL every speedscope file names.
const SCHEMA: &str = "https://www.speedscope.app/file-format-schema.json";

/// Appends `s` as a JSON string literal (quotes included).
fn push_json_string(out: &mut String, s: &str) {
    out.push('"');
    let mut last = 0;
    for (i, c) in s.char_indices() {
        let escaped = match c {
            '"' => "\\\"",
            '\\' => "\\\\",
            '\n' => "\\n",
            '\r' => "\\r",
            '\t' => "\\t",
            c if c < ' ' => "",
            _ => continue,
        };
        out.push_str(&s[last..i]);
        if escaped.is_empty() {
            let _ = write!(out, "\\u{:04x}", c as u32);
        } else {
            out.push_str(escaped);
        }
        last = i + c.len_utf8();
    }
    out.push_str(&s[last..]);
    out.push('"');
}

/// The snapshot in speedscope's file format: one shared frame per function (its name, and its
/// file and line when known) and one `sampled` profile in nanoseconds whose samples are the
/// call-tree paths weighted by their self time — what speedscope makes of folded stacks, with
/// the source locations kept. A snapshot without a call tree has one sample per function.
///
/// Open the file at <https://www.speedscope.app> or with the `speedscope` command.
///
/// # Examples
/// ```
/// let snap = perfcore::Snapshot::from_functions(
///     vec![perfcore::FunctionStats::from_durations("load", [40, 60])], 0, 1_000);
/// let json = perfcore::report::to_speedscope_json(&snap);
/// assert!(json.starts_with(r#"{"$schema":"https://www.speedscope.app/file-format-schema.json""#));
/// assert!(json.contains(r#""samples":[[0]],"weights":[100]"#));
/// ```
#[must_use]
pub fn to_speedscope_json(snap: &Snapshot) -> String {
    let mut out = String::with_capacity(64 * snap.functions.len() + 24 * snap.call_tree.len());
    out.push_str("{\"$schema\":");
    push_json_string(&mut out, SCHEMA);
    out.push_str(",\"shared\":{\"frames\":[");
    for (i, f) in snap.functions.iter().enumerate() {
        if i > 0 {
            out.push(',');
        }
        out.push_str("{\"name\":");
        push_json_string(&mut out, &f.name);
        if !f.file.is_empty() {
            out.push_str(",\"file\":");
            push_json_string(&mut out, &f.file);
        }
        if f.line > 0 {
            let _ = write!(out, ",\"line\":{}", f.line);
        }
        out.push('}');
    }
    let mut samples = String::with_capacity(16 * snap.call_tree.len());
    let mut weights = String::with_capacity(8 * snap.call_tree.len());
    let mut total: u64 = 0;
    let mut sample = |path: &[usize], weight: u64| {
        if weight == 0 {
            return;
        }
        if !weights.is_empty() {
            samples.push(',');
            weights.push(',');
        }
        samples.push('[');
        for (k, f) in path.iter().enumerate() {
            if k > 0 {
                samples.push(',');
            }
            let _ = write!(samples, "{f}");
        }
        samples.push(']');
        let _ = write!(weights, "{weight}");
        total = total.saturating_add(weight);
    };
    if snap.call_tree.is_empty() {
        for (i, f) in snap.functions.iter().enumerate() {
            sample(&[i], f.self_ns);
        }
    } else {
        for_each_path(snap, |node, path| sample(path, snap.call_tree[node].self_ns));
    }
    out.push_str(
        "]},\"profiles\":[{\"type\":\"sampled\",\"name\":\"perfcore\",\"unit\":\"nanoseconds\",",
    );
    let _ = write!(out, "\"startValue\":0,\"endValue\":{total},\"samples\":[");
    out.push_str(&samples);
    out.push_str("],\"weights\":[");
    out.push_str(&weights);
    let _ = write!(
        out,
        "]}}],\"name\":\"perfcore\",\"activeProfileIndex\":0,\"exporter\":\"perfcore {}\"}}",
        env!("CARGO_PKG_VERSION")
    );
    out
}

#[cfg(all(test, feature = "json"))]
mod tests {
    use super::super::tree::tests::{node, snapshot};
    use super::*;

    #[test]
    fn frames_samples_and_weights() {
        let mut snap = snapshot(
            &["main", "say \"hi\"\n\u{1}"],
            vec![node(None, 0, 5), node(Some(0), 1, 0), node(Some(0), 1, 7)],
        );
        snap.functions[0].file = "src/main.rs".into();
        snap.functions[0].line = 3;
        let v: serde_json::Value = serde_json::from_str(&to_speedscope_json(&snap)).unwrap();
        assert_eq!(v["$schema"], SCHEMA);
        assert_eq!(
            v["shared"]["frames"][0],
            serde_json::json!({"name": "main", "file": "src/main.rs", "line": 3})
        );
        assert_eq!(v["shared"]["frames"][1], serde_json::json!({"name": "say \"hi\"\n\u{1}"}));
        let p = &v["profiles"][0];
        assert_eq!(p["samples"], serde_json::json!([[0], [0, 1]]));
        assert_eq!(p["weights"], serde_json::json!([5, 7]));
        assert_eq!(p["endValue"], 12);
        assert_eq!(p["unit"], "nanoseconds");
    }

    #[test]
    fn an_empty_snapshot_is_still_valid_json() {
        let v: serde_json::Value =
            serde_json::from_str(&to_speedscope_json(&Snapshot::default())).unwrap();
        assert_eq!(v["profiles"][0]["samples"], serde_json::json!([]));
    }
}
