//! Callsites: where a scope is in the source, and its process-wide numeric id.

use std::collections::HashMap;
use std::sync::atomic::{AtomicU32, Ordering};
use std::sync::{Mutex, MutexGuard, OnceLock, PoisonError};

use crate::alloc;

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
pub struct Callsite {
    name: Name,
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
        Self { name: Name::Given(name), module_path, file, line, id: AtomicU32::new(0) }
    }

    /// Declares a callsite whose name `resolve` computes on the first call of
    /// [`Callsite::name`]; what `#[profile]` writes when no `name` is given, because the full
    /// path of a method (`crate::module::Type::method`) is known only from
    /// `core::any::type_name`, which is not `const`. Not public API.
    #[doc(hidden)]
    #[must_use]
    pub const fn __resolved_by(
        resolve: fn() -> &'static str,
        module_path: &'static str,
        file: &'static str,
        line: u32,
    ) -> Self {
        Self {
            name: Name::Resolved { resolve, name: OnceLock::new() },
            module_path,
            file,
            line,
            id: AtomicU32::new(0),
        }
    }

    /// The scope's name as it appears in reports.
    #[must_use]
    pub fn name(&self) -> &'static str {
        match &self.name {
            Name::Given(name) => name,
            // Once per callsite; recording never reads the name, only reports do.
            Name::Resolved { resolve, name } => name.get_or_init(|| alloc::untracked(*resolve)),
        }
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

    /// This callsite's index in the process-wide registry, registering it on first use;
    /// `None` only while registering it would wait for a lock this thread holds (a profiled
    /// function called by the allocator from inside perfcore): that call records nothing.
    #[inline(always)]
    pub(crate) fn index(&'static self) -> Option<usize> {
        let id = self.id.load(Ordering::Relaxed);
        if id != 0 { Some((id - 1) as usize) } else { self.register() }
    }

    #[cold]
    #[inline(never)]
    fn register(&'static self) -> Option<usize> {
        super::reentry::guarded(|| {
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
        })
    }
}

/// A callsite's name: written in the source, or computed once when first asked for.
enum Name {
    Given(&'static str),
    Resolved { resolve: fn() -> &'static str, name: OnceLock<&'static str> },
}

impl std::fmt::Debug for Callsite {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("Callsite")
            .field("name", &self.name())
            .field("module_path", &self.module_path)
            .field("file", &self.file)
            .field("line", &self.line)
            .field("id", &self.id)
            .finish()
    }
}

/// The name `#[profile]` gives a function from the `core::any::type_name` of `marker`, a fn
/// item it declares in the function's body: that path less `marker`'s own segment, and less
/// the generic arguments a generic impl shows as `<_>`. One callsite (a `static`) serves
/// every instantiation of a generic function, so its name must not depend on them; an impl
/// for a concrete type keeps its arguments (`Wrapper<u8>::get`), so that impls for different
/// types stay apart.
#[must_use]
pub fn name_from_marker(marker_path: &'static str, marker: &str) -> &'static str {
    let path =
        marker_path.strip_suffix(marker).and_then(|p| p.strip_suffix("::")).unwrap_or(marker_path);
    if !path.contains("<_") {
        return path;
    }
    let mut out = String::with_capacity(path.len());
    let mut rest = path;
    while let Some(open) = rest.find('<') {
        let (before, after) = rest.split_at(open);
        out.push_str(before);
        // Generic arguments follow a name; a `<` that starts a segment opens `<T as Trait>`.
        let follows_name = before.ends_with(|c: char| c.is_alphanumeric() || c == '_');
        let close = matching_close(after);
        let args = &after[1..close];
        if follows_name && args.split(',').all(|a| a.trim() == "_") {
            rest = &after[close + 1..];
        } else {
            out.push('<');
            rest = &after[1..];
        }
    }
    out.push_str(rest);
    Box::leak(out.into_boxed_str())
}

/// The index of the `>` closing the `<` that `s` starts with (the end of `s` if none does).
fn matching_close(s: &str) -> usize {
    let mut depth = 0usize;
    let mut prev = ' ';
    for (i, c) in s.char_indices() {
        match c {
            '<' => depth += 1,
            // Not the arrow of a `fn(..) -> T` type.
            '>' if prev != '-' => {
                depth = depth.saturating_sub(1);
                if depth == 0 {
                    return i;
                }
            }
            _ => {}
        }
        prev = c;
    }
    s.len() - 1
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
    let cs = alloc::untracked(|| {
        super::reentry::inside(|| {
            let mut named = named().lock().unwrap_or_else(PoisonError::into_inner);
            if let Some(cs) = named.get(name) {
                return *cs;
            }
            let leaked: &'static str = Box::leak(name.to_owned().into_boxed_str());
            let cs: &'static Callsite = Box::leak(Box::new(Callsite::new(leaked, "", "", 0)));
            named.insert(leaked.into(), cs);
            cs
        })
    });
    let _ = CACHE.try_with(|c| {
        if let Ok(mut c) = c.try_borrow_mut() {
            alloc::untracked(|| c.insert(name.into(), cs));
        }
    });
    cs
}

#[cfg(test)]
mod tests {
    use super::Callsite;
    use super::name_from_marker as name;
    use std::sync::atomic::{AtomicUsize, Ordering};

    #[test]
    fn a_resolved_name_is_computed_once_and_only_when_asked_for() {
        static RESOLVED: AtomicUsize = AtomicUsize::new(0);
        fn resolve() -> &'static str {
            RESOLVED.fetch_add(1, Ordering::Relaxed);
            "app::Type::method"
        }
        static CS: Callsite = Callsite::__resolved_by(resolve, "app", "app.rs", 1);
        let p = crate::PerformanceProfiler::new();
        for _ in 0..3 {
            let _g = p.enter(&CS);
        }
        assert_eq!(RESOLVED.load(Ordering::Relaxed), 0, "recording does not need the name");
        assert_eq!(CS.name(), "app::Type::method");
        assert_eq!(p.snapshot().function("app::Type::method").map(|f| f.count), Some(3));
        assert_eq!(CS.name(), "app::Type::method");
        assert_eq!(RESOLVED.load(Ordering::Relaxed), 1);
    }

    #[test]
    fn the_marker_segment_and_unnamed_generic_arguments_are_removed() {
        let m = "__perfcore_name";
        assert_eq!(name("app::parse::__perfcore_name", m), "app::parse");
        assert_eq!(name("app::Foo<_>::parse::__perfcore_name", m), "app::Foo::parse");
        assert_eq!(name("app::Foo<_, _>::parse::__perfcore_name", m), "app::Foo::parse");
        assert_eq!(
            name("<app::Foo<_> as app::Tr<_>>::parse::__perfcore_name", m),
            "<app::Foo as app::Tr>::parse"
        );
        assert_eq!(name("app::Foo<u8>::get::__perfcore_name", m), "app::Foo<u8>::get");
        assert_eq!(
            name("app::Foo<_, alloc::vec::Vec<u8>>::get::__perfcore_name", m),
            "app::Foo<_, alloc::vec::Vec<u8>>::get"
        );
        assert_eq!(
            name("<&[u8] as app::Tr>::parse::__perfcore_name", m),
            "<&[u8] as app::Tr>::parse"
        );
        assert_eq!(name("app::W<fn(u8) -> u8>::f::__perfcore_name", m), "app::W<fn(u8) -> u8>::f");
        assert_eq!(name("app::W<_>::f::<_>::__perfcore_name", m), "app::W::f::<_>");
        assert_eq!(name("unexpected", m), "unexpected");
    }
}
