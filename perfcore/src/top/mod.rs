//! `perfcore top`: a live terminal dashboard over a perfcore endpoint or a snapshot file
//! (feature `cli`).
//!
//! The pure parts and the terminal are apart: an [`App`] holds the data of the last refresh
//! and the view (sort, filter, selection, detail, pause), changed by [`App::apply`] (a
//! [`Key`]) and [`App::update`] (a snapshot and the endpoint's observations); [`draw`]
//! renders it onto any ratatui backend, laid out from the frame's size every time; [`run`]
//! owns the real terminal (raw mode and the alternate screen, restored on exit, on error
//! and on panic) and, for an endpoint, fetches `/snapshot.json` and `/observations.json`
//! every interval on a thread of its own, so keys stay responsive while a request waits.
//!
//! ```
//! use std::time::Instant;
//! use ratatui::{Terminal, backend::TestBackend};
//! use perfcore::top::{App, Key, draw};
//!
//! let p = perfcore::PerformanceProfiler::new();
//! for name in ["db::query", "api::checkout"] { let _g = p.scope(name)?; }
//! let mut app = App::new("http://127.0.0.1:9464");
//! app.update(p.snapshot(), &[], Instant::now());
//! app.apply(Key::Char('/'));
//! for c in "db".chars() { app.apply(Key::Char(c)); }
//! app.apply(Key::Enter);
//! let mut terminal = Terminal::new(TestBackend::new(120, 30))?;
//! terminal.draw(|frame| draw(frame, &app))?;
//! assert_eq!(app.visible_functions(), vec!["db::query"]);
//! # Ok::<(), Box<dyn std::error::Error>>(())
//! ```

mod app;
mod draw;
mod fetch;
mod format;

pub use app::{App, Key, Sort};
pub use draw::draw;

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::mpsc;
use std::time::{Duration, Instant};

use ratatui::crossterm::event::{self, Event, KeyCode, KeyEventKind, KeyModifiers};

use crate::stats::Snapshot;

/// Why `perfcore top` could not run.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum TopError {
    /// The `--url` is not `http://host[:port][/path]`: fix the URL (https is not supported).
    #[error("invalid endpoint URL `{url}`: {reason}")]
    InvalidUrl {
        /// The URL as given.
        url: String,
        /// What is wrong with it.
        reason: String,
    },
    /// The refresh interval is zero or too long: give one between 10 ms and 1 hour.
    #[error("the refresh interval {0:?} is outside 10ms..=1h")]
    Interval(Duration),
    /// The terminal could not be set up, drawn or read (not a terminal, or it went away).
    #[error("terminal error")]
    Terminal(#[from] std::io::Error),
    /// The fetching thread could not be started.
    #[error("cannot start the fetching thread")]
    Thread(#[source] std::io::Error),
}

/// Where the dashboard's data comes from.
#[derive(Clone, Debug)]
#[non_exhaustive]
pub enum Source {
    /// A perfcore endpoint's base URL (`http://127.0.0.1:9464`; a `/metrics` suffix is
    /// dropped), fetched every interval.
    Url(String),
    /// One snapshot (a file already read), shown statically.
    Snapshot {
        /// What to call it in the header (the file's name).
        name: String,
        /// The snapshot.
        snapshot: Box<Snapshot>,
    },
}

/// What to show and how often: the options of `perfcore top`.
///
/// # Examples
/// ```
/// use std::time::Duration;
/// use perfcore::top::{Sort, Source, TopOptions};
/// let options = TopOptions::new(Source::Url("http://127.0.0.1:9464".into()))
///     .interval(Duration::from_millis(500))
///     .sort(Sort::P99)
///     .filter("db::");
/// assert!(options.validate().is_ok());
/// ```
#[derive(Clone, Debug)]
pub struct TopOptions {
    source: Source,
    interval: Duration,
    sort: Sort,
    filter: String,
}

impl TopOptions {
    /// Options for `source`: a refresh a second, sorted by self time, no filter.
    ///
    /// # Examples
    /// ```
    /// let o = perfcore::top::TopOptions::new(perfcore::top::Source::Url("http://127.0.0.1:9464".into()));
    /// # let _ = o;
    /// ```
    #[must_use]
    pub fn new(source: Source) -> Self {
        Self {
            source,
            interval: Duration::from_secs(1),
            sort: Sort::default(),
            filter: String::new(),
        }
    }

    /// How often an endpoint is fetched (10 ms to 1 hour; default 1 s).
    ///
    /// # Examples
    /// ```
    /// # use std::time::Duration;
    /// # use perfcore::top::{Source, TopOptions};
    /// let o = TopOptions::new(Source::Url("http://h:1".into())).interval(Duration::ZERO);
    /// assert!(o.validate().is_err());
    /// ```
    #[must_use]
    pub fn interval(mut self, interval: Duration) -> Self {
        self.interval = interval;
        self
    }

    /// The initial sort key.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::top::{Sort, Source, TopOptions};
    /// let o = TopOptions::new(Source::Url("http://h:1".into())).sort(Sort::Calls);
    /// # let _ = o;
    /// ```
    #[must_use]
    pub fn sort(mut self, sort: Sort) -> Self {
        self.sort = sort;
        self
    }

    /// The initial filter (a substring of the name or module, ignoring case).
    ///
    /// # Examples
    /// ```
    /// # use perfcore::top::{Source, TopOptions};
    /// let o = TopOptions::new(Source::Url("http://h:1".into())).filter("api::");
    /// # let _ = o;
    /// ```
    #[must_use]
    pub fn filter(mut self, text: impl Into<String>) -> Self {
        self.filter = text.into();
        self
    }

    /// Checks the options without touching the terminal.
    ///
    /// # Errors
    /// [`TopError::InvalidUrl`] for a URL that is not `http://host[:port][/path]`,
    /// [`TopError::Interval`] for an interval outside 10 ms..=1 h.
    ///
    /// # Examples
    /// ```
    /// use perfcore::top::{Source, TopOptions};
    /// assert!(TopOptions::new(Source::Url("https://h:1".into())).validate().is_err());
    /// ```
    pub fn validate(&self) -> Result<(), TopError> {
        if !(Duration::from_millis(10)..=Duration::from_secs(3600)).contains(&self.interval) {
            return Err(TopError::Interval(self.interval));
        }
        if let Source::Url(url) = &self.source {
            fetch::Endpoint::parse(url)?;
        }
        Ok(())
    }

    /// The dashboard these options start with: empty for an endpoint, the snapshot for a
    /// file.
    ///
    /// # Examples
    /// ```
    /// # use perfcore::top::{Sort, Source, TopOptions};
    /// let app = TopOptions::new(Source::Url("http://h:1".into())).sort(Sort::P95).app();
    /// assert_eq!(app.sort(), Sort::P95);
    /// ```
    #[must_use]
    pub fn app(&self) -> App {
        let app = match &self.source {
            Source::Url(url) => {
                App::new(fetch::Endpoint::parse(url).map_or_else(|_| url.clone(), |e| e.display()))
            }
            Source::Snapshot { name, snapshot } => {
                App::from_snapshot(name.clone(), (**snapshot).clone())
            }
        };
        app.with_sort(self.sort).with_filter(self.filter.clone())
    }
}

/// Restores the terminal when dropped: on return, on error, and while unwinding (the panic
/// hook `ratatui::try_init` installs restores it before the message prints, too).
struct TerminalGuard;

impl Drop for TerminalGuard {
    fn drop(&mut self) {
        let _ = ratatui::try_restore();
    }
}

/// Runs the dashboard in the real terminal until `q` (or Esc, or Ctrl-C): raw mode and the
/// alternate screen, restored however it ends. An endpoint is fetched every interval on a
/// thread of its own (paused while the dashboard is); a failed fetch shows "cannot reach
/// …: reason" and is retried at the next interval.
///
/// # Errors
/// What [`TopOptions::validate`] refuses, [`TopError::Terminal`] when standard output is
/// not a terminal or it cannot be drawn, [`TopError::Thread`] when the fetching thread
/// cannot start.
///
/// # Examples
/// ```no_run
/// use perfcore::top::{Source, TopOptions};
/// perfcore::top::run(TopOptions::new(Source::Url("http://127.0.0.1:9464".into())))?;
/// # Ok::<(), perfcore::top::TopError>(())
/// ```
pub fn run(options: TopOptions) -> Result<(), TopError> {
    options.validate()?;
    let mut app = options.app();
    let paused = Arc::new(AtomicBool::new(false));
    let stop = Arc::new(AtomicBool::new(false));
    let (tx, rx) = mpsc::channel();
    if let Source::Url(url) = &options.source {
        let endpoint = fetch::Endpoint::parse(url)?;
        let (paused, stop, interval) = (Arc::clone(&paused), Arc::clone(&stop), options.interval);
        std::thread::Builder::new()
            .name("perfcore-top-fetch".into())
            .spawn(move || fetch_loop(&endpoint, interval, &paused, &stop, &tx))
            .map_err(TopError::Thread)?;
    }
    let result = (|| -> Result<(), TopError> {
        let mut terminal = ratatui::try_init()?;
        let _guard = TerminalGuard;
        // Drawn when something changed: a refresh, a key, a resize.
        let mut changed = true;
        loop {
            while let Ok(message) = rx.try_recv() {
                match message {
                    Ok((snapshot, observations)) => {
                        app.update(snapshot, &observations, Instant::now());
                    }
                    Err(status) => app.set_status(status),
                }
                changed = true;
            }
            if changed {
                terminal.draw(|frame| draw(frame, &app))?;
                changed = false;
            }
            if event::poll(Duration::from_millis(50))? {
                changed = true;
                match event::read()? {
                    Event::Key(k) if k.kind != KeyEventKind::Release => {
                        if k.modifiers.contains(KeyModifiers::CONTROL)
                            && k.code == KeyCode::Char('c')
                        {
                            break;
                        }
                        if let Some(key) = key_of(k.code) {
                            app.apply(key);
                            paused.store(app.is_paused(), Ordering::Relaxed);
                        }
                    }
                    // The next draw lays the screen out for the new size.
                    _ => {}
                }
            }
            if app.should_quit() {
                break;
            }
        }
        Ok(())
    })();
    stop.store(true, Ordering::Relaxed);
    result
}

/// The fetching thread: a refresh every `interval` (none while paused) until `stop`.
fn fetch_loop(
    endpoint: &fetch::Endpoint,
    interval: Duration,
    paused: &AtomicBool,
    stop: &AtomicBool,
    tx: &mpsc::Sender<Result<(Snapshot, Vec<crate::monitor::Observation>), String>>,
) {
    let timeout = interval.clamp(Duration::from_millis(500), Duration::from_secs(5));
    while !stop.load(Ordering::Relaxed) {
        let started = Instant::now();
        if !paused.load(Ordering::Relaxed) {
            let message = endpoint.fetch(timeout).map_err(|reason| {
                format!("cannot reach {}: {reason} (retrying)", endpoint.display())
            });
            if tx.send(message).is_err() {
                return;
            }
        }
        while started.elapsed() < interval && !stop.load(Ordering::Relaxed) {
            std::thread::sleep(
                (interval - started.elapsed().min(interval)).min(Duration::from_millis(20)),
            );
        }
    }
}

/// The dashboard's key for a terminal key code.
fn key_of(code: KeyCode) -> Option<Key> {
    Some(match code {
        KeyCode::Char(c) => Key::Char(c),
        KeyCode::Enter => Key::Enter,
        KeyCode::Esc => Key::Esc,
        KeyCode::Backspace => Key::Backspace,
        KeyCode::Up => Key::Up,
        KeyCode::Down => Key::Down,
        KeyCode::PageUp => Key::PageUp,
        KeyCode::PageDown => Key::PageDown,
        KeyCode::Home => Key::Home,
        KeyCode::End => Key::End,
        _ => return None,
    })
}

#[cfg(test)]
mod tests;
