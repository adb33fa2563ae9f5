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
            let args =
                Args::Span { errors: u8::from(e.failed), depth: e.depth, cancelled: e.cancelled };
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
                    (event.cat, event.ph, event.dur, event.id) =
                        ("async", "b", None, Some(next_id));
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

#[cfg(test)]
mod tests {
    use proptest::prelude::*;
    use serde_json::Value;

    use super::*;
    use crate::stats::{SpanEvent, ThreadTimeline};

    /// Two threads: "main" with a call holding a failed child, and an unnamed one with a
    /// future and its poll.
    fn sample() -> Timeline {
        let mut t = Timeline::new(1_700_000_000_000_000_000);
        t.functions = vec!["outer".into(), "inner \"quoted\"".into(), "fetch".into()];
        let mut main = ThreadTimeline::new(10, 1, Some("main".into()));
        main.events.push(SpanEvent::new(0, 1_500, 10_000, 0));
        let mut inner = SpanEvent::new(1, 2_000, 3_250, 1);
        inner.failed = true;
        main.events.push(inner);
        main.dropped = 4;
        let mut other = ThreadTimeline::new(10, 2, None);
        let mut whole = SpanEvent::new(2, 0, 9_000, 0);
        (whole.kind, whole.cancelled) = (SpanKind::Async, true);
        let mut poll = SpanEvent::new(2, 0, 2_000, 0);
        poll.kind = SpanKind::Poll;
        other.events.extend([whole, poll]);
        t.threads = vec![main, other];
        t
    }

    fn parse(t: &Timeline) -> Value {
        serde_json::from_str(&to_chrome_trace_json(t)).expect("valid JSON")
    }

    fn events<'a>(trace: &'a Value, ph: &str) -> Vec<&'a Value> {
        trace["traceEvents"].as_array().unwrap().iter().filter(|e| e["ph"] == ph).collect()
    }

    #[test]
    fn writes_complete_events_in_microseconds() {
        let trace = parse(&sample());
        assert_eq!(trace["displayTimeUnit"], "ns");
        assert_eq!(trace["otherData"]["started_unix_ns"], "1700000000000000000");
        assert_eq!(trace["otherData"]["dropped_spans"], 4);
        let x = events(&trace, "X");
        assert_eq!(x.len(), 3);
        let outer = x.iter().find(|e| e["name"] == "outer").unwrap();
        assert_eq!((outer["ts"].as_f64(), outer["dur"].as_f64()), (Some(1.5), Some(10.0)));
        assert_eq!(
            (&outer["pid"], &outer["tid"], &outer["cat"]),
            (&10.into(), &1.into(), &"call".into())
        );
        assert_eq!(outer["args"]["errors"], 0);
        let inner = x.iter().find(|e| e["name"] == "inner \"quoted\"").unwrap();
        assert_eq!((inner["ts"].as_f64(), inner["dur"].as_f64()), (Some(2.0), Some(3.25)));
        assert_eq!((&inner["args"]["errors"], &inner["args"]["depth"]), (&1.into(), &1.into()));
        let poll = x.iter().find(|e| e["cat"] == "poll").unwrap();
        assert_eq!((&poll["name"], &poll["tid"]), (&"fetch".into(), &2.into()));
    }

    #[test]
    fn names_threads_and_processes_and_pairs_async_spans() {
        let trace = parse(&sample());
        let m = events(&trace, "M");
        let names: Vec<(&str, &Value, &str)> = m
            .iter()
            .map(|e| (e["name"].as_str().unwrap(), &e["tid"], e["args"]["name"].as_str().unwrap()))
            .collect();
        assert_eq!(
            names,
            [
                ("process_name", &1.into(), "perfcore"),
                ("thread_name", &1.into(), "main"),
                ("thread_name", &2.into(), "thread 2")
            ]
        );
        let (b, e) = (events(&trace, "b"), events(&trace, "e"));
        assert_eq!((b.len(), e.len()), (1, 1));
        assert_eq!((&b[0]["id"], &b[0]["cat"]), (&e[0]["id"], &e[0]["cat"]));
        assert_eq!((b[0]["ts"].as_f64(), e[0]["ts"].as_f64()), (Some(0.0), Some(9.0)));
        assert_eq!(b[0]["args"]["cancelled"], true);
    }

    #[test]
    fn writes_to_any_writer_and_reports_its_failure() {
        struct Full;
        impl io::Write for Full {
            fn write(&mut self, _: &[u8]) -> io::Result<usize> {
                Err(io::Error::other("disk full"))
            }
            fn flush(&mut self) -> io::Result<()> {
                Ok(())
            }
        }
        let mut buf = Vec::new();
        write_chrome_trace(&sample(), &mut buf).unwrap();
        assert_eq!(String::from_utf8(buf).unwrap(), to_chrome_trace_json(&sample()));
        let err = write_chrome_trace(&sample(), Full).unwrap_err();
        assert!(matches!(err, ReportError::Io(_)), "{err}");
    }

    /// A profiled run through the whole path: spans on a manual clock, the snapshot's
    /// timeline, its JSON file read back, then the trace, whose complete events nest.
    #[test]
    #[cfg(feature = "testing")]
    fn a_profiled_run_exports_nested_spans() {
        use std::time::Duration;
        let clock = crate::testing::ManualClock::new();
        let p = crate::PerformanceProfiler::builder().clock(&clock).timeline(64).build().unwrap();
        for _ in 0..3 {
            let _a = p.scope("request").unwrap();
            clock.advance(Duration::from_nanos(300));
            for _ in 0..2 {
                let _b = p.scope("query").unwrap();
                clock.advance(Duration::from_nanos(1_234));
            }
        }
        let snap = crate::Snapshot::from_json(&p.snapshot().to_json()).unwrap();
        let trace = parse(snap.timeline.as_ref().unwrap());
        let x = events(&trace, "X");
        assert_eq!(x.len(), 9);
        let span = |e: &Value| {
            (e["ts"].as_f64().unwrap(), e["ts"].as_f64().unwrap() + e["dur"].as_f64().unwrap())
        };
        for q in x.iter().filter(|e| e["name"] == "query") {
            let (s, end) = span(q);
            assert!(
                x.iter().filter(|e| e["name"] == "request").any(|r| {
                    let (rs, re) = span(r);
                    rs <= s && end <= re + 1e-9
                }),
                "{q} outside every request"
            );
        }
    }

    fn arb_timeline() -> impl Strategy<Value = Timeline> {
        let event = (0..4usize, any::<u64>(), any::<u64>(), any::<u32>(), any::<bool>(), 0..3u8)
            .prop_map(|(function, start, dur, depth, failed, kind)| {
                let mut e = SpanEvent::new(function, start, dur, depth);
                e.failed = failed;
                e.kind = [SpanKind::Call, SpanKind::Poll, SpanKind::Async][kind as usize];
                e
            });
        let thread = (
            any::<u32>(),
            any::<u64>(),
            proptest::option::of(".{0,12}"),
            proptest::collection::vec(event, 0..20),
            any::<u64>(),
        )
            .prop_map(|(pid, tid, name, events, dropped)| {
                let mut t = ThreadTimeline::new(pid, tid, name);
                (t.events, t.dropped) = (events, dropped);
                t
            });
        // Names of any characters, and events whose function may be out of range.
        (
            any::<u64>(),
            proptest::collection::vec(".{0,12}", 0..4),
            proptest::collection::vec(thread, 0..4),
        )
            .prop_map(|(start, functions, threads)| {
                let mut t = Timeline::new(start);
                (t.functions, t.threads) = (functions, threads);
                t
            })
    }

    proptest! {
        /// Any timeline gives valid JSON with one X per call or poll, a b/e pair per future,
        /// a thread_name per thread, and finite, non-negative times.
        #[test]
        fn any_timeline_gives_a_valid_trace(t in arb_timeline()) {
            let trace = parse(&t);
            let all = t.threads.iter().flat_map(|t| &t.events);
            let asyncs = all.clone().filter(|e| e.kind == SpanKind::Async).count();
            prop_assert_eq!(events(&trace, "X").len(), t.event_count() - asyncs);
            prop_assert_eq!(events(&trace, "b").len(), asyncs);
            prop_assert_eq!(events(&trace, "e").len(), asyncs);
            let threads = events(&trace, "M").iter().filter(|e| e["name"] == "thread_name").count();
            prop_assert_eq!(threads, t.threads.len());
            for e in trace["traceEvents"].as_array().unwrap() {
                prop_assert!(e["name"].is_string() && e["pid"].is_u64() && e["tid"].is_u64());
                if e["ph"] != "M" {
                    prop_assert!(e["ts"].as_f64().is_some_and(|ts| ts.is_finite() && ts >= 0.0));
                }
            }
        }
    }
}
