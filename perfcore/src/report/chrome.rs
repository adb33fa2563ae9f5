//! A [`Timeline`] as a Chrome Trace Event Format file: the JSON object that Perfetto
//! (ui.perfetto.dev), `chrome://tracing` and speedscope open.
//!
//! What is written:
//! - one complete event (`"ph": "X"`) per [`SpanKind::Call`] and [`SpanKind::Poll`], on its
//!   thread's track, with `ts` and `dur` in microseconds (floats, so nanoseconds survive)
//!   and `args` `{ "errors": 0 or 1, "depth": n }`; a thread's calls nest by time, which is
//!   how the viewers draw the stack;
//! - one pair of nestable async events (`"ph": "b"` / `"e"`, one `id` per pair) per
//!   [`SpanKind::Async`] span (a whole future, first poll to completion), since a future
//!   suspended across other work does not nest among its thread's calls;
//! - `"ph": "M"` metadata naming each process (`perfcore`) and each thread (its name, or
//!   `thread <id>`);
//! - `"displayTimeUnit": "ns"`, and in `otherData` the window's start as Unix nanoseconds
//!   (a string: it does not fit a float) and the number of dropped spans.
//!
//! Timestamps are relative: `ts` 0 is the profiler window's start,
//! [`Timeline::started_unix_ns`]. Absolute Unix microseconds (about 1.8e15) would leave a
//! double only a quarter-microsecond of precision; add `otherData.started_unix_ns` to get
//! wall-clock times back.

use std::io::{self, Write};

use serde::Serialize;

use super::ReportError;
use crate::stats::{SpanKind, Timeline};

/// One entry of `traceEvents`.
#[derive(Serialize)]
struct Event<'a> {
    name: &'a str,
    #[serde(skip_serializing_if = "str::is_empty")]
    cat: &'static str,
    ph: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    ts: Option<f64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    dur: Option<f64>,
    pid: u32,
    tid: u64,
    #[serde(skip_serializing_if = "Option::is_none")]
    id: Option<u64>,
    #[serde(skip_serializing_if = "Option::is_none")]
    args: Option<Args<'a>>,
}

/// The `args` of an event.
#[derive(Serialize)]
#[serde(untagged)]
enum Args<'a> {
    /// Of a metadata event.
    Name { name: &'a str },
    /// Of a span.
    Span {
        errors: u8,
        depth: u32,
        #[serde(skip_serializing_if = "std::ops::Not::not")]
        cancelled: bool,
    },
}

/// The trailer's `otherData`.
#[derive(Serialize)]
struct OtherData {
    started_unix_ns: String,
    dropped_spans: u64,
}

fn micros(ns: u64) -> f64 {
    ns as f64 / 1_000.0
}

/// Writes `timeline` to `out` as a Chrome Trace Event Format JSON object (see the module
/// docs for what it holds). Streams: memory stays flat however many events there are.
///
/// # Errors
/// [`ReportError::Io`] when `out` fails.
///
/// # Examples
/// ```
/// let p = perfcore::PerformanceProfiler::builder().timeline(16).build()?;
/// drop(p.scope("step")?);
/// let mut file = Vec::new();
/// perfcore::report::write_chrome_trace(&p.timeline(), &mut file)?;
/// let trace: serde_json::Value = serde_json::from_slice(&file).unwrap();
/// assert!(trace["traceEvents"].as_array().unwrap().iter().any(|e| e["name"] == "step"));
/// # Ok::<(), Box<dyn std::error::Error>>(())
/// ```
pub fn write_chrome_trace(timeline: &Timeline, out: impl io::Write) -> Result<(), ReportError> {
    let mut out = io::BufWriter::new(out);
    out.write_all(b"{\"traceEvents\":[")?;
    let mut first = true;
    let mut emit = |out: &mut io::BufWriter<_>, event: &Event<'_>| -> io::Result<()> {
        if !std::mem::take(&mut first) {
            out.write_all(b",\n")?;
        }
        serde_json::to_writer(&mut *out, event).map_err(io::Error::from)
    };
    let mut processes: Vec<u32> = Vec::new();
    let mut next_id = 1u64;
    for t in &timeline.threads {
        let meta = |name, args| Event {
            name,
            cat: "",
            ph: "M",
            ts: None,
            dur: None,
            pid: t.process_id,
            tid: t.thread_id,
            id: None,
            args: Some(args),
        };
        if !processes.contains(&t.process_id) {
            processes.push(t.process_id);
            emit(&mut out, &meta("process_name", Args::Name { name: "perfcore" }))?;
        }
        let fallback = format!("thread {}", t.thread_id);
        let thread_name = t.name.as_deref().unwrap_or(&fallback);
        emit(&mut out, &meta("thread_name", Args::Name { name: thread_name }))?;
        for e in &t.events {
            let name = timeline.name_of(e).unwrap_or("?");
            let args = Args::Span { errors: u8::from(e.failed), depth: e.depth, cancelled: e.cancelled };
            let mut event = Event {
                name,
                cat: "call",
                ph: "X",
                ts: Some(micros(e.start_ns)),
                dur: Some(micros(e.duration_ns)),
                pid: t.process_id,
                tid: t.thread_id,
                id: None,
                args: Some(args),
            };
            match e.kind {
                SpanKind::Call => emit(&mut out, &event)?,
                SpanKind::Poll => {
                    event.cat = "poll";
                    emit(&mut out, &event)?;
                }
                SpanKind::Async => {
                    (event.cat, event.ph, event.dur, event.id) = ("async", "b", None, Some(next_id));
                    emit(&mut out, &event)?;
                    (event.ph, event.ts, event.args) = ("e", Some(micros(e.end_ns())), None);
                    emit(&mut out, &event)?;
                    next_id += 1;
                }
            }
        }
    }
    out.write_all(b"],\"displayTimeUnit\":\"ns\",\"otherData\":")?;
    let other = OtherData {
        started_unix_ns: timeline.started_unix_ns.to_string(),
        dropped_spans: timeline.dropped(),
    };
    serde_json::to_writer(&mut out, &other).map_err(io::Error::from)?;
    out.write_all(b"}\n")?;
    out.flush()?;
    Ok(())
}

/// `timeline` as a Chrome Trace Event Format JSON string; see [`write_chrome_trace`].
///
/// # Examples
/// ```
/// let json = perfcore::report::to_chrome_trace_json(&perfcore::Timeline::default());
/// let trace: serde_json::Value = serde_json::from_str(&json).unwrap();
/// assert_eq!(trace["traceEvents"].as_array().unwrap().len(), 0);
/// assert_eq!(trace["displayTimeUnit"], "ns");
/// ```
#[must_use]
pub fn to_chrome_trace_json(timeline: &Timeline) -> String {
    let mut buf = Vec::new();
    // Writing to a Vec cannot fail, and serde_json writes UTF-8.
    write_chrome_trace(timeline, &mut buf).expect("writing to memory cannot fail");
    String::from_utf8(buf).expect("serde_json writes UTF-8")
}
