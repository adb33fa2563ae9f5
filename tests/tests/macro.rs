//! `#[profile]` on every kind of (synchronous) function a user can write.

use std::sync::LazyLock;

use perfcore::{PerformanceProfiler, profile};

static P: LazyLock<PerformanceProfiler> = LazyLock::new(PerformanceProfiler::new);

fn count(name: &str) -> u64 {
    P.snapshot().function(name).map_or(0, |f| f.count)
}

fn errors(name: &str) -> u64 {
    P.snapshot().function(name).map_or(0, |f| f.errors)
}

#[profile(profiler = P, name = "free")]
fn free(x: u32) -> u32 {
    x + 1
}

/// Doc comments and `#[must_use]` survive.
#[must_use]
#[profile(profiler = P, name = "kept_attrs")]
pub fn kept_attrs() -> u8 {
    7
}

#[profile(profiler = P)]
fn default_name() {}

struct Counter {
    n: u64,
}

impl Counter {
    #[profile(profiler = P, name = "Counter::new")]
    fn new() -> Self {
        Counter { n: 0 }
    }

    #[profile(profiler = P, name = "Counter::get")]
    fn get(&self) -> u64 {
        self.n
    }

    #[profile(profiler = P, name = "Counter::bump")]
    fn bump(&mut self) {
        self.n += 1;
    }

    #[profile(profiler = P, name = "Counter::into_inner")]
    fn into_inner(self) -> u64 {
        self.n
    }

    #[allow(clippy::boxed_local)] // the receiver type is what this test is about
    #[profile(profiler = P, name = "Counter::boxed")]
    fn boxed(self: Box<Self>) -> u64 {
        self.n
    }
}

trait Shape {
    fn area(&self) -> f64;

    #[profile(profiler = P, name = "Shape::describe")]
    fn describe(&self) -> String {
        format!("area {}", self.area())
    }
}

struct Square(f64);

impl Shape for Square {
    #[profile(profiler = P, name = "Square::area")]
    fn area(&self) -> f64 {
        self.0 * self.0
    }
}

#[profile(profiler = P, name = "generic")]
fn generic<'a, T, const N: usize>(items: &'a [&'a T; N]) -> Vec<&'a str>
where
    T: AsRef<str> + ?Sized + 'a,
{
    items.iter().map(|s| s.as_ref()).collect()
}

#[profile(profiler = P, name = "impl_trait")]
fn impl_trait(xs: impl IntoIterator<Item = u32>) -> impl Iterator<Item = u32> {
    xs.into_iter().map(|x| x * 2)
}

/// # Safety
/// None needed; `unsafe` only to show the attribute keeps it.
#[profile(profiler = P, name = "unsafe_fn")]
unsafe fn unsafe_fn(x: u8) -> u8 {
    x
}

#[profile(profiler = P, name = "extern_c")]
extern "C" fn extern_c(x: i32) -> i32 {
    x * 3
}

#[derive(Debug, PartialEq)]
struct Bad(u8);

#[profile(profiler = P, name = "parse")]
fn parse(s: &str) -> Result<u8, Bad> {
    if s.is_empty() {
        return Err(Bad(0)); // an early return is seen too
    }
    let n: u8 = s.parse().map_err(|_| Bad(1))?;
    Ok(n)
}

#[profile(profiler = P, name = "io_result")]
fn io_result(fail: bool) -> std::io::Result<()> {
    if fail { Err(std::io::Error::other("nope")) } else { Ok(()) }
}

#[profile(profiler = P, name = "not_counted", errors = false)]
fn not_counted() -> Result<(), Bad> {
    Err(Bad(2))
}

#[profile(profiler = P, name = "borrows")]
fn borrows<'a>(s: &'a str) -> Result<&'a str, Bad> {
    s.split(',').next().ok_or(Bad(3))
}

#[profile(profiler = P, name = "panics")]
fn panics() {
    panic!("boom");
}

mod reexported {
    pub use perfcore as renamed;
}

#[profile(crate = reexported::renamed, profiler = P, name = "via_crate_path")]
fn via_crate_path() {}

#[profile]
fn on_global() {}

#[test]
fn every_kind_of_function_records_calls() {
    assert_eq!(free(1), 2);
    assert_eq!(kept_attrs(), 7);
    default_name();
    let mut c = Counter::new();
    c.bump();
    assert_eq!(c.get(), 1);
    assert_eq!(Box::new(Counter { n: 5 }).boxed(), 5);
    assert_eq!(c.into_inner(), 1);
    assert_eq!(Square(2.0).describe(), "area 4");
    assert_eq!(generic::<str, 2>(&["a", "b"]), ["a", "b"]);
    assert_eq!(impl_trait([1, 2]).collect::<Vec<_>>(), [2, 4]);
    // SAFETY: `unsafe_fn` has no preconditions.
    assert_eq!(unsafe { unsafe_fn(4) }, 4);
    assert_eq!(extern_c(2), 6);
    via_crate_path();
    for name in [
        "free",
        "kept_attrs",
        "Counter::new",
        "Counter::bump",
        "Counter::get",
        "Counter::boxed",
        "Counter::into_inner",
        "Shape::describe",
        "Square::area",
        "generic",
        "impl_trait",
        "unsafe_fn",
        "extern_c",
        "via_crate_path",
    ] {
        assert_eq!(count(name), 1, "{name}");
    }
    assert_eq!(count("macro::default_name"), 0, "the default name is the full module path");
    let snap = P.snapshot();
    let f = snap.functions().iter().find(|f| f.name.ends_with("::default_name")).unwrap();
    assert_eq!(f.name, format!("{}::default_name", module_path!()));
    assert!(f.file.ends_with("macro.rs") && f.line > 0);
    // describe() called area(): the call tree has the edge.
    let area = snap.call_tree.iter().find(|n| snap.functions[n.function].name == "Square::area");
    let parent = area.and_then(|n| n.parent).map(|p| &snap.functions[snap.call_tree[p].function]);
    assert_eq!(parent.map(|f| f.name.as_str()), Some("Shape::describe"));
}

#[test]
fn err_results_count_as_errors_early_returns_included() {
    assert_eq!(parse("7"), Ok(7));
    assert_eq!(parse(""), Err(Bad(0)));
    assert_eq!(parse("x"), Err(Bad(1)));
    assert!(io_result(true).is_err());
    assert!(io_result(false).is_ok());
    assert!(not_counted().is_err());
    assert_eq!(borrows("a,b"), Ok("a"));
    assert_eq!((count("parse"), errors("parse")), (3, 2));
    assert_eq!((count("io_result"), errors("io_result")), (2, 1));
    assert_eq!((count("not_counted"), errors("not_counted")), (1, 0));
    assert_eq!(errors("borrows"), 0);
}

#[test]
fn a_panic_is_recorded_as_an_error_and_propagates_unchanged() {
    let err = std::panic::catch_unwind(panics).unwrap_err();
    assert_eq!(err.downcast_ref::<&str>(), Some(&"boom"));
    assert_eq!((count("panics"), errors("panics")), (1, 1));
}

#[test]
fn without_a_profiler_argument_it_records_into_the_global_profiler() {
    on_global();
    let snap = perfcore::global().snapshot();
    assert!(snap.functions().iter().any(|f| f.name.ends_with("::on_global") && f.count >= 1));
}
