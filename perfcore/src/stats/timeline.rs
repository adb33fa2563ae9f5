//! Timelines: the most recent spans each thread finished, in order, with their start times.
//!
//! A [`Timeline`] is plain data, like a [`Snapshot`](crate::Snapshot): the profiler fills one
//! from its per-thread ring buffers when [`ProfilerBuilder::timeline`](crate::ProfilerBuilder::timeline)
//! is on, and [`perfcore::report::to_chrome_trace_json`](crate::report) turns one into a
//! trace that Perfetto and `chrome://tracing` open.

use serde::{Deserialize, Serialize};

/// What kind of span a [`SpanEvent`] is.
///
/// # Examples
/// ```
/// assert_eq!(perfcore::SpanKind::default(), perfcore::SpanKind::Call);
/// ```
#[derive(Clone, Copy, Debug, Default, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
#[non_exhaustive]
pub enum SpanKind {
    /// A synchronous scope, from its guard's creation to its drop.
    #[default]
    Call,
    /// One poll of an instrumented future (or one resumption of a generator): nested in the
    /// polling thread's scopes like a call.
    Poll,
    /// A whole future (or generator), from its first poll to its completion or drop. It may
    /// span time the thread spent on other work, so it does not nest among the thread's
    /// calls; it is recorded on the thread that finished it.
    Async,
}

/// One finished span of a [`Timeline`].
///
/// # Examples
/// ```
/// let e = perfcore::SpanEvent::new(0, 1_000, 250, 0);
/// assert_eq!(e.end_ns(), 1_250);
/// assert!(!e.failed);
/// ```
#[derive(Clone, Copy, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct SpanEvent {
    /// Index into [`Timeline::functions`].
    pub function: usize,
    /// When the span started, in nanoseconds since [`Timeline::started_unix_ns`].
    pub start_ns: u64,
    /// How long it lasted, in nanoseconds.
    pub duration_ns: u64,
    /// How many scopes of the same profiler were open around it on its thread (0: none).
    pub depth: u32,
    /// Marked failed, unwound with a panic, or (a future) returned an error.
    #[serde(default)]
    pub failed: bool,
    /// A future dropped before it completed.
    #[serde(default)]
    pub cancelled: bool,
    /// A call, a poll or a whole future.
    #[serde(default)]
    pub kind: SpanKind,
}

impl SpanEvent {
    /// A successful [`SpanKind::Call`] of `function` from `start_ns` lasting `duration_ns`, at
    /// `depth`; set the other fields afterwards.
    ///
    /// # Examples
    /// ```
    /// let mut e = perfcore::SpanEvent::new(2, 0, 10, 1);
    /// e.failed = true;
    /// assert_eq!((e.function, e.depth, e.failed), (2, 1, true));
    /// ```
    #[must_use]
    pub fn new(function: usize, start_ns: u64, duration_ns: u64, depth: u32) -> Self {
        Self {
            function,
            start_ns,
            duration_ns,
            depth,
            failed: false,
            cancelled: false,
            kind: SpanKind::Call,
        }
    }

    /// When the span ended, in nanoseconds since [`Timeline::started_unix_ns`] (saturating).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::SpanEvent::new(0, u64::MAX, 5, 0).end_ns(), u64::MAX);
    /// ```
    #[must_use]
    pub fn end_ns(&self) -> u64 {
        self.start_ns.saturating_add(self.duration_ns)
    }
}

/// The spans one thread finished, oldest first by start time.
///
/// # Examples
/// ```
/// let mut t = perfcore::ThreadTimeline::new(1, 7, Some("worker".into()));
/// t.events.push(perfcore::SpanEvent::new(0, 0, 10, 0));
/// assert_eq!((t.thread_id, t.events.len(), t.dropped), (7, 1, 0));
/// ```
#[derive(Clone, Debug, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct ThreadTimeline {
    /// The process that recorded it (`std::process::id()`).
    pub process_id: u32,
    /// perfcore's number for the thread: unique in its process, 1 for the first thread that
    /// recorded into a timeline, and the same for every profiler.
    pub thread_id: u64,
    /// The thread's name (`std::thread::current().name()`), if it has one.
    #[serde(default)]
    pub name: Option<String>,
    /// The recorded spans, by start time (a parent before its children).
    pub events: Vec<SpanEvent>,
    /// Spans finished in the window but not in `events`: overwritten in the ring buffer by
    /// newer ones (it keeps the most recent), or being overwritten while it was read.
    #[serde(default)]
    pub dropped: u64,
}

impl ThreadTimeline {
    /// An empty timeline of thread `thread_id` of process `process_id`.
    ///
    /// # Examples
    /// ```
    /// let t = perfcore::ThreadTimeline::new(1, 2, None);
    /// assert!(t.events.is_empty());
    /// ```
    #[must_use]
    pub fn new(process_id: u32, thread_id: u64, name: Option<String>) -> Self {
        Self { process_id, thread_id, name, events: Vec::new(), dropped: 0 }
    }
}

/// The most recent spans of every thread of a profiler, with their start times: what
/// [`PerformanceProfiler::timeline`](crate::PerformanceProfiler::timeline) returns and
/// [`Snapshot::timeline`](crate::Snapshot::timeline) carries.
///
/// # Examples
/// ```
/// use perfcore::{PerformanceProfiler, testing::ManualClock};
/// use std::time::Duration;
///
/// let clock = ManualClock::new();
/// let p = PerformanceProfiler::builder().clock(&clock).timeline(1024).build()?;
/// {
///     let _outer = p.scope("outer")?;
///     clock.advance(Duration::from_micros(1));
///     let _inner = p.scope("inner")?;
///     clock.advance(Duration::from_micros(2));
/// }
/// let timeline = p.timeline();
/// let events = &timeline.threads[0].events;
/// assert_eq!(timeline.name_of(&events[0]), Some("outer"));
/// assert_eq!((events[0].start_ns, events[0].duration_ns), (0, 3_000));
/// assert_eq!((events[1].start_ns, events[1].duration_ns, events[1].depth), (1_000, 2_000, 1));
/// # Ok::<(), perfcore::ProfileError>(())
/// ```
#[derive(Clone, Debug, Default, PartialEq, Eq, Serialize, Deserialize)]
#[non_exhaustive]
pub struct Timeline {
    /// What every event's `start_ns` counts from: the start of the profiler's window (its
    /// creation or last reset), Unix time in nanoseconds.
    pub started_unix_ns: u64,
    /// Function names, indexed by [`SpanEvent::function`].
    pub functions: Vec<String>,
    /// One entry per thread that recorded a span.
    pub threads: Vec<ThreadTimeline>,
}

impl Timeline {
    /// An empty timeline whose events count from `started_unix_ns`.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::Timeline::new(5).started_unix_ns, 5);
    /// ```
    #[must_use]
    pub fn new(started_unix_ns: u64) -> Self {
        Self { started_unix_ns, functions: Vec::new(), threads: Vec::new() }
    }

    /// The name of `event`'s function (`None` if its index is out of range).
    ///
    /// # Examples
    /// ```
    /// let mut t = perfcore::Timeline::new(0);
    /// t.functions.push("load".into());
    /// assert_eq!(t.name_of(&perfcore::SpanEvent::new(0, 0, 1, 0)), Some("load"));
    /// assert_eq!(t.name_of(&perfcore::SpanEvent::new(9, 0, 1, 0)), None);
    /// ```
    #[must_use]
    pub fn name_of(&self, event: &SpanEvent) -> Option<&str> {
        self.functions.get(event.function).map(String::as_str)
    }

    /// Events over all threads.
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::Timeline::default().event_count(), 0);
    /// ```
    #[must_use]
    pub fn event_count(&self) -> usize {
        self.threads.iter().map(|t| t.events.len()).sum()
    }

    /// Spans dropped over all threads (see [`ThreadTimeline::dropped`]).
    ///
    /// # Examples
    /// ```
    /// assert_eq!(perfcore::Timeline::default().dropped(), 0);
    /// ```
    #[must_use]
    pub fn dropped(&self) -> u64 {
        self.threads.iter().fold(0, |n, t| n.saturating_add(t.dropped))
    }

    /// The index of function `name` in [`functions`](Self::functions), added if new.
    fn function_index(&mut self, name: &str) -> usize {
        match self.functions.iter().position(|f| f == name) {
            Some(i) => i,
            None => {
                self.functions.push(name.to_owned());
                self.functions.len() - 1
            }
        }
    }

    /// Adds `other`'s threads, as [`Snapshot::merge`](crate::Snapshot::merge) does: events
    /// count from the earlier of the two starts, functions are matched by name, and a thread
    /// present in both (same process and thread id: two profilers of one process) gets the
    /// events of both, in order.
    ///
    /// # Examples
    /// ```
    /// use perfcore::{SpanEvent, ThreadTimeline, Timeline};
    /// let mut a = Timeline::new(1_000);
    /// a.functions.push("f".into());
    /// let mut t = ThreadTimeline::new(1, 1, None);
    /// t.events.push(SpanEvent::new(0, 0, 10, 0));
    /// a.threads.push(t);
    /// let mut b = a.clone();
    /// b.started_unix_ns = 500;
    /// a.merge(&b);
    /// assert_eq!(a.started_unix_ns, 500);
    /// let starts: Vec<u64> = a.threads[0].events.iter().map(|e| e.start_ns).collect();
    /// assert_eq!(starts, [0, 500]);
    /// ```
    pub fn merge(&mut self, other: &Timeline) {
        let start = self.started_unix_ns.min(other.started_unix_ns);
        let (mine, theirs) = (self.started_unix_ns - start, other.started_unix_ns - start);
        if mine > 0 {
            for e in self.threads.iter_mut().flat_map(|t| t.events.iter_mut()) {
                e.start_ns = e.start_ns.saturating_add(mine);
            }
        }
        self.started_unix_ns = start;
        let fmap: Vec<usize> = other.functions.iter().map(|f| self.function_index(f)).collect();
        for t in &other.threads {
            let pos = match self
                .threads
                .iter()
                .position(|m| (m.process_id, m.thread_id) == (t.process_id, t.thread_id))
            {
                Some(pos) => pos,
                None => {
                    self.threads.push(ThreadTimeline::new(t.process_id, t.thread_id, None));
                    self.threads.len() - 1
                }
            };
            let mine = &mut self.threads[pos];
            if mine.name.is_none() {
                mine.name.clone_from(&t.name);
            }
            mine.dropped = mine.dropped.saturating_add(t.dropped);
            mine.events.extend(t.events.iter().map(|e| SpanEvent {
                // An index out of range stays out of range (the reader rejects those).
                function: fmap.get(e.function).copied().unwrap_or(usize::MAX),
                start_ns: e.start_ns.saturating_add(theirs),
                ..*e
            }));
            sort_events(&mut mine.events);
        }
    }

    /// The spans that started at or after `unix_ns`, counted from it (what
    /// [`Snapshot::since`](crate::Snapshot::since) keeps); functions and dropped counts stay.
    pub(crate) fn starting_from(&self, unix_ns: u64) -> Timeline {
        let offset = unix_ns.saturating_sub(self.started_unix_ns);
        let threads = self
            .threads
            .iter()
            .map(|t| ThreadTimeline {
                events: t
                    .events
                    .iter()
                    .filter(|e| e.start_ns >= offset)
                    .map(|e| SpanEvent { start_ns: e.start_ns - offset, ..*e })
                    .collect(),
                ..t.clone()
            })
            .collect();
        Timeline {
            started_unix_ns: self.started_unix_ns.max(unix_ns),
            functions: self.functions.clone(),
            threads,
        }
    }

    /// The first event whose function index is out of range: (thread, event).
    pub(crate) fn unknown_function(&self) -> Option<(usize, usize)> {
        self.threads.iter().enumerate().find_map(|(ti, t)| {
            t.events.iter().position(|e| e.function >= self.functions.len()).map(|ei| (ti, ei))
        })
    }
}

/// Orders a thread's events by start time, a parent (longer) before the children that start
/// with it, then shallower first.
pub(crate) fn sort_events(events: &mut [SpanEvent]) {
    events.sort_by(|a, b| {
        a.start_ns
            .cmp(&b.start_ns)
            .then(b.duration_ns.cmp(&a.duration_ns))
            .then(a.depth.cmp(&b.depth))
    });
}
