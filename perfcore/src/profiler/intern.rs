//! Callsites made at run time, interned: one per distinct place, however often it is asked for.

use std::collections::HashMap;
use std::sync::{Mutex, MutexGuard, PoisonError};

use super::Callsite;

type Key = (&'static str, &'static str, &'static str, u32);
pub(crate) type Table = Option<HashMap<Key, &'static Callsite>>;

static ALL: Mutex<Table> = Mutex::new(None);

/// The table's lock, for the fork protocol (`profiler/fork.rs`): taken alone elsewhere.
#[cfg_attr(loom, allow(dead_code))]
pub(crate) fn lock() -> MutexGuard<'static, Table> {
    ALL.lock().unwrap_or_else(PoisonError::into_inner)
}

impl Callsite {
    /// The process-wide callsite of a place known only at run time (a function of a
    /// scripting language, a plug-in), made on first use and shared afterwards.
    ///
    /// Interned by all four fields, so asking again for the same place (a function
    /// decorated again, a closure made in a loop, a notebook cell run twice) returns the same
    /// callsite and allocates nothing; each distinct place keeps its strings and about 100
    /// bytes for the life of the process (callsites are `'static`).
    ///
    /// # Examples
    /// ```
    /// use perfcore::Callsite;
    ///
    /// let a = Callsite::intern("handler", "app.views", "app/views.py", 12);
    /// let b = Callsite::intern("handler", "app.views", "app/views.py", 12);
    /// assert!(std::ptr::eq(a, b));
    /// assert_eq!(a.file(), "app/views.py");
    /// let p = perfcore::PerformanceProfiler::new();
    /// drop(p.enter(a));
    /// assert_eq!(p.snapshot().function("handler").unwrap().line, 12);
    /// ```
    #[must_use]
    pub fn intern(name: &str, module_path: &str, file: &str, line: u32) -> &'static Callsite {
        crate::alloc::untracked(|| {
            let mut all = lock();
            let map = all.get_or_insert_with(HashMap::new);
            // The keys are the callsites' own leaked strings; a map with longer-lived keys
            // is one with shorter-lived keys (covariance), so borrowed ones look it up.
            let lookup: &HashMap<(&str, &str, &str, u32), &'static Callsite> = map;
            if let Some(cs) = lookup.get(&(name, module_path, file, line)) {
                return *cs;
            }
            let leak = |s: &str| -> &'static str {
                if s.is_empty() { "" } else { Box::leak(s.to_owned().into_boxed_str()) }
            };
            let cs: &'static Callsite =
                Box::leak(Box::new(Callsite::new(leak(name), leak(module_path), leak(file), line)));
            map.insert((cs.name(), cs.module_path(), cs.file(), line), cs);
            cs
        })
    }
}
