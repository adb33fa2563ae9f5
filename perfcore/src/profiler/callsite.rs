//! Callsites: where a scope is in the source, and its process-wide numeric id.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

/// A place in the source that opens a profiling scope: its name, module, file and line.
///
/// Callsites are `static`: [`profile_scope!`](crate::profile_scope) and `#[profile]` declare one
/// per instrumented place. Each gets a small numeric id the first time it runs (one relaxed
/// atomic load afterwards), which indexes the per-thread counters on the hot path.
///
/// # Examples
/// ```
/// use perfcore::{Callsite, PerformanceProfiler};
///
/// static PARSE: Callsite = Callsite::new("parse", module_path!(), file!(), line!());
///
/// let profiler = PerformanceProfiler::new();
/// {
///     let _guard = profiler.enter(&PARSE);
/// }
/// assert_eq!(profiler.snapshot().function("parse").unwrap().count, 1);
/// ```
#[derive(Debug)]
pub struct Callsite {
    name: &'static str,
    module_path: &'static str,
    file: &'static str,
    line: u32,
    /// 0 until registered, then the index in the registry plus one.
    id: AtomicU32,
}

impl Callsite {
    /// Declares a callsite. Usually written by a macro, with `module_path!()`, `file!()`, `line!()`.
    #[must_use]
    pub const fn new(
        name: &'static str,
        module_path: &'static str,
        file: &'static str,
        line: u32,
    ) -> Self {
        Self { name, module_path, file, line, id: AtomicU32::new(0) }
    }

    /// The scope's name as it appears in reports.
    #[must_use]
    pub fn name(&self) -> &'static str {
        self.name
    }

    /// The module that declared it (empty for scopes named at run time).
    #[must_use]
    pub fn module_path(&self) -> &'static str {
        self.module_path
    }

    /// The source file (empty for scopes named at run time).
    #[must_use]
    pub fn file(&self) -> &'static str {
        self.file
    }

    /// The source line (0 for scopes named at run time).
    #[must_use]
    pub fn line(&self) -> u32 {
        self.line
    }

    /// This callsite's index in the process-wide registry, registering it on first use.
    #[inline(always)]
    pub(crate) fn index(&'static self) -> usize {
        let id = self.id.load(Ordering::Relaxed);
        if id != 0 { (id - 1) as usize } else { self.register() }
    }

    #[cold]
    #[inline(never)]
    fn register(&'static self) -> usize {
        let mut all = registry().lock().unwrap_or_else(PoisonError::into_inner);
        // Another thread may have registered it between our load and the lock.
        let id = self.id.load(Ordering::Relaxed);
        if id != 0 {
            return (id - 1) as usize;
        }
        all.push(self);
        let id = u32::try_from(all.len()).expect("fewer than 2^32 callsites");
        // Relaxed is enough: the registry mutex orders the entry; the id is just a number.
        self.id.store(id, Ordering::Relaxed);
        (id - 1) as usize
    }
}

fn registry() -> &'static Mutex<Vec<&'static Callsite>> {
    static ALL: OnceLock<Mutex<Vec<&'static Callsite>>> = OnceLock::new();
    ALL.get_or_init(|| Mutex::new(Vec::new()))
}

/// All registered callsites, indexed by their index.
pub(crate) fn all() -> Vec<&'static Callsite> {
    registry().lock().unwrap_or_else(PoisonError::into_inner).clone()
}

type Named = Mutex<HashMap<Box<str>, &'static Callsite>>;

fn named() -> &'static Named {
    static NAMED: OnceLock<Named> = OnceLock::new();
    NAMED.get_or_init(Default::default)
}

/// Guards of both callsite locks (see [`lock_all`]).
pub(crate) type Guards = (
    MutexGuard<'static, Vec<&'static Callsite>>,
    MutexGuard<'static, HashMap<Box<str>, &'static Callsite>>,
);

/// Both callsite locks, for the fork protocol (`profiler/fork.rs`): each is taken alone
/// elsewhere, never with another lock held.
pub(crate) fn lock_all() -> Guards {
    let all = registry().lock().unwrap_or_else(PoisonError::into_inner);
    let named = named().lock().unwrap_or_else(PoisonError::into_inner);
    (all, named)
}

/// The callsite for a scope named at run time, created (and leaked, once per distinct name)
/// on first use.
pub(crate) fn by_name(name: &str) -> &'static Callsite {
    use std::cell::RefCell;
    thread_local! {
        static CACHE: RefCell<HashMap<Box<str>, &'static Callsite>> = RefCell::new(HashMap::new());
    }

    let cached =
        CACHE.try_with(|c| c.try_borrow().ok().and_then(|c| c.get(name).copied())).ok().flatten();
    if let Some(cs) = cached {
        return cs;
    }
    let cs = crate::alloc::untracked(|| {
        let mut named = named().lock().unwrap_or_else(PoisonError::into_inner);
        if let Some(cs) = named.get(name) {
            return *cs;
        }
        let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
        let cs: &'static Callsite = Box::leak(Box::new(Callsite::new(leaked, "", "", 0)));
        named.insert(leaked.into(), cs);
        cs
    });
    let _ = CACHE.try_with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            crate::alloc::untracked(|| c.insert(name.into(), cs));
        }
    });
    cs
}
