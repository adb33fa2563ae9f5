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
    // The default name is the function's path: `type_name`'s, so the crate `macro` is not
    // written `r#macro` as `module_path!()` has it.
    assert_eq!(count("macro::default_name"), 1);
    let snap = P.snapshot();
    let f = snap.function("macro::default_name").unwrap();
    assert_eq!(f.module_path, module_path!());
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

// What the attribute used to break: a closure around the body (borrows through `&mut`,
// `#[track_caller]`, drop order), inner attributes, spans mixed by a `macro_rules!`, `impl
// Trait` inside a `Result`, methods named without their type.

struct Reader {
    buf: Vec<u8>,
}

impl Reader {
    #[profile(profiler = P, name = "Reader::fill_buf")]
    fn fill_buf(&mut self) -> std::io::Result<&[u8]> {
        self.buf.push(1);
        Ok(&self.buf)
    }
}

#[profile(profiler = P, name = "fill")]
fn fill(mut dst: &mut [u8]) -> Result<(), ()> {
    while !dst.is_empty() {
        dst[0] = 1;
        dst = &mut dst[1..];
    }
    Ok(())
}

#[profile(profiler = P, name = "inner_attrs")]
fn inner_attrs(x: u8) -> Result<u8, ()> {
    #![allow(unused_variables)]
    let unused = 1;
    Ok(x)
}

macro_rules! profiled {
    ($item:item) => {
        #[profile(profiler = P, name = "from_macro_rules")]
        $item
    };
}

profiled! {
    fn from_macro_rules(fail: bool) -> Result<(), ()> {
        if fail { Err(()) } else { Ok(()) }
    }
}

#[track_caller]
#[profile(profiler = P, name = "caller")]
fn caller() -> Result<&'static std::panic::Location<'static>, ()> {
    Ok(std::panic::Location::caller())
}

#[profile(profiler = P, name = "result_impl_trait")]
fn result_impl_trait(fail: bool) -> Result<impl Iterator<Item = u8>, String> {
    if fail {
        return Err("no".into());
    }
    Ok([1, 2].into_iter())
}

#[allow(clippy::never_loop)] // a tail that diverges through a `return` is the point
#[profile(profiler = P, name = "diverges")]
fn diverges(fail: bool) -> Result<u8, ()> {
    if fail {
        return Err(());
    }
    loop {
        return Ok(1);
    }
}

#[test]
fn result_bodies_keep_borrows_track_caller_and_impl_trait() {
    let mut r = Reader { buf: Vec::new() };
    assert_eq!(r.fill_buf().unwrap(), [1]);
    let mut buf = [0u8; 3];
    fill(&mut buf).unwrap();
    assert_eq!(buf, [1, 1, 1]);
    assert_eq!(inner_attrs(3), Ok(3));
    from_macro_rules(false).unwrap();
    from_macro_rules(true).unwrap_err();
    let line = line!() + 1;
    let here = caller().unwrap();
    assert_eq!((here.file(), here.line()), (file!(), line), "#[track_caller] is kept");
    assert_eq!(result_impl_trait(false).unwrap().sum::<u8>(), 3);
    assert!(result_impl_trait(true).is_err());
    assert_eq!(diverges(false), Ok(1));
    assert_eq!(diverges(true), Err(()));
    for (name, calls, errors_) in [
        ("Reader::fill_buf", 1, 0),
        ("fill", 1, 0),
        ("inner_attrs", 1, 0),
        ("from_macro_rules", 2, 1),
        ("caller", 1, 0),
        ("result_impl_trait", 2, 1),
        ("diverges", 2, 1),
    ] {
        assert_eq!((count(name), errors(name)), (calls, errors_), "{name}");
    }
}

/// Records the order in which values drop.
struct Noisy<'a>(&'static str, &'a std::cell::RefCell<Vec<&'static str>>);

impl Drop for Noisy<'_> {
    fn drop(&mut self) {
        self.1.borrow_mut().push(self.0);
    }
}

#[allow(clippy::needless_pass_by_value)] // dropping the arguments is the point
fn drops_plain(_a: Noisy<'_>, (_b, _): (Noisy<'_>, Noisy<'_>), _d: Noisy<'_>) -> Result<(), ()> {
    let _local = Noisy("local", _a.1);
    Ok(())
}

#[allow(clippy::needless_pass_by_value)]
#[profile(profiler = P, name = "drops_profiled")]
fn drops_profiled(_a: Noisy<'_>, (_b, _): (Noisy<'_>, Noisy<'_>), _d: Noisy<'_>) -> Result<(), ()> {
    let _local = Noisy("local", _a.1);
    Ok(())
}

#[test]
fn parameters_drop_as_without_the_attribute() {
    let order = |f: fn(Noisy<'_>, (Noisy<'_>, Noisy<'_>), Noisy<'_>) -> Result<(), ()>| {
        let log = std::cell::RefCell::new(Vec::new());
        f(Noisy("a", &log), (Noisy("b", &log), Noisy("c", &log)), Noisy("d", &log)).unwrap();
        log.into_inner()
    };
    assert_eq!(order(drops_profiled), order(drops_plain));
}

mod names {
    use super::P;
    use perfcore::profile;

    pub(super) struct Json;
    pub(super) struct Toml;
    pub(super) struct Wrapper<T>(pub(super) T);

    pub(super) trait Format {
        fn parse(&self) -> u8;
    }

    impl Json {
        #[profile(profiler = P)]
        pub(super) fn parse(&self) -> u8 {
            1
        }
    }

    impl Toml {
        #[profile(profiler = P)]
        pub(super) fn parse(&self) -> u8 {
            2
        }
    }

    impl Format for Json {
        #[profile(profiler = P)]
        fn parse(&self) -> u8 {
            3
        }
    }

    impl<T: Copy> Wrapper<T> {
        #[profile(profiler = P)]
        pub(super) fn get(&self) -> T {
            self.0
        }
    }

    #[profile(profiler = P)]
    pub(super) fn r#type() -> u8 {
        4
    }
}

#[test]
fn methods_are_named_with_their_type_once_per_callsite() {
    use names::Format;
    assert_eq!(names::Json.parse(), 1);
    assert_eq!(names::Toml.parse(), 2);
    assert_eq!(Format::parse(&names::Json), 3);
    assert_eq!(names::Wrapper(1u8).get(), 1);
    assert_eq!(names::Wrapper("a").get(), "a");
    assert_eq!(names::r#type(), 4);
    for (name, calls) in [
        ("macro::names::Json::parse", 1),
        ("macro::names::Toml::parse", 1),
        ("<macro::names::Json as macro::names::Format>::parse", 1),
        // One callsite (a `static`) for every `T`: one name, without the arguments.
        ("macro::names::Wrapper::get", 2),
        ("macro::names::type", 1),
    ] {
        assert_eq!(count(name), calls, "{name}");
    }
}

mod blocks {
    use super::P;
    use perfcore::profile;

    pub(super) struct Stack(pub(super) Vec<u8>);

    #[profile(profiler = P)]
    impl Stack {
        pub(super) fn push(&mut self, x: u8) {
            self.0.push(x);
        }

        pub(super) fn pop(&mut self) -> Result<u8, ()> {
            self.0.pop().ok_or(())
        }

        #[profile(skip)]
        pub(super) fn len(&self) -> usize {
            self.0.len()
        }

        // Its own arguments over the block's: named, errors not counted, still into `P`.
        #[perfcore::profile(name = "Stack::peek", errors = false)]
        pub(super) fn peek(&self) -> Result<u8, ()> {
            self.0.last().copied().ok_or(())
        }

        // Left out: a `const fn` cannot read the clock.
        pub(super) const fn capacity_hint() -> usize {
            8
        }
    }

    pub(super) trait Describe {
        fn name(&self) -> String;

        fn describe(&self) -> String {
            format!("<{}>", self.name())
        }
    }

    #[profile(profiler = P)]
    impl Describe for Stack {
        fn name(&self) -> String {
            "stack".into()
        }
    }

    #[profile(profiler = P)]
    pub(super) trait Greet {
        fn required(&self) -> u8;

        fn hello(&self) -> u8 {
            self.required() + 1
        }
    }

    impl Greet for Stack {
        fn required(&self) -> u8 {
            1
        }
    }
}

#[test]
fn profile_on_an_impl_block_or_a_trait_instruments_each_method() {
    use blocks::{Describe, Greet, Stack};
    let mut s = Stack(Vec::new());
    s.push(1);
    assert_eq!(s.len(), 1);
    assert_eq!(s.pop(), Ok(1));
    assert_eq!(s.pop(), Err(()));
    assert_eq!(s.peek(), Err(()));
    assert_eq!(Stack::capacity_hint(), 8);
    assert_eq!(s.describe(), "<stack>");
    assert_eq!(s.hello(), 2);
    for (name, calls, errors_) in [
        ("macro::blocks::Stack::push", 1, 0),
        ("macro::blocks::Stack::pop", 2, 1),
        ("Stack::peek", 1, 0),
        ("<macro::blocks::Stack as macro::blocks::Describe>::name", 1, 0),
        ("macro::blocks::Greet::hello", 1, 0),
    ] {
        assert_eq!((count(name), errors(name)), (calls, errors_), "{name}");
    }
    let snap = P.snapshot();
    let names: Vec<_> = snap.functions().iter().map(|f| f.name.as_str()).collect();
    for left_out in ["len", "capacity_hint", "required", "describe"] {
        let left_out = |n: &&str| n.contains("blocks") && n.ends_with(left_out);
        assert!(!names.iter().any(left_out), "{names:?}");
    }
    // The method's own attribute replaced the block's: one callsite, not two.
    assert!(!names.contains(&"macro::blocks::Stack::peek"), "{names:?}");
}

/// A profiled `impl GlobalAlloc` leaves its methods out: the profiler allocates, so as the
/// global allocator each call would re-enter it (a deadlock on the first allocation).
mod allocator {
    use std::alloc::{GlobalAlloc, Layout, System};

    pub(super) struct Counting;

    #[perfcore::profile(profiler = super::P)]
    // SAFETY: forwards to `System`.
    unsafe impl GlobalAlloc for Counting {
        unsafe fn alloc(&self, layout: Layout) -> *mut u8 {
            // SAFETY: the caller's contract is `System`'s.
            unsafe { System.alloc(layout) }
        }

        unsafe fn dealloc(&self, ptr: *mut u8, layout: Layout) {
            // SAFETY: as above.
            unsafe { System.dealloc(ptr, layout) }
        }
    }
}

#[test]
fn a_global_allocator_impl_is_left_out() {
    use std::alloc::{GlobalAlloc, Layout};
    let layout = Layout::new::<u64>();
    // SAFETY: a non-zero-sized layout; the pointer is freed with it.
    unsafe {
        let p = allocator::Counting.alloc(layout);
        assert!(!p.is_null());
        allocator::Counting.dealloc(p, layout);
    }
    let snap = P.snapshot();
    let names: Vec<_> = snap.functions().iter().map(|f| f.name.as_str()).collect();
    assert!(!names.iter().any(|n| n.contains("Counting")), "{names:?}");
}

/// A macro called with braces at the end of the body is a statement: it may expand to
/// statements before its value.
macro_rules! parse_then_check {
    ($s:expr) => {
        let n: u8 = $s.parse().map_err(|_| ())?;
        if n == 0 { Err(()) } else { Ok(n) }
    };
}

#[profile(profiler = P, name = "statement_macro_tail")]
fn statement_macro_tail(s: &str) -> Result<u8, ()> {
    parse_then_check! { s }
}

#[test]
fn a_tail_macro_expanding_to_statements_keeps_working() {
    assert_eq!(statement_macro_tail("3"), Ok(3));
    assert_eq!(statement_macro_tail("0"), Err(()));
    assert_eq!(statement_macro_tail("x"), Err(()));
    let name = "statement_macro_tail";
    assert_eq!((count(name), errors(name)), (3, 2));
}

/// A tail that is a diverging macro (`todo!()`, `panic!(...)`): no `clippy::diverging_sub_expression`
/// on it (clippy checks this file with `-D warnings`), and the panic counts as an error.
#[profile(profiler = P, name = "unfinished")]
fn unfinished(_: u8) -> Result<u8, ()> {
    todo!()
}

#[test]
fn a_diverging_tail_macro_is_an_error_and_no_lint() {
    let caught = std::panic::catch_unwind(|| unfinished(1));
    assert!(caught.is_err());
    assert_eq!((count("unfinished"), errors("unfinished")), (1, 1));
}

/// A return type merely named `Result`, without `is_err`: compiles, and is never an error.
mod ffi {
    #[derive(Debug, PartialEq)]
    pub(super) enum Result {
        Done,
        Failed,
    }

    #[perfcore::profile(profiler = super::P, name = "ffi_status")]
    pub(super) fn status(ok: bool) -> Result {
        if ok {
            return Result::Done;
        }
        Result::Failed
    }

    #[perfcore::profile(profiler = super::P, name = "ffi_status_async")]
    pub(super) async fn status_async() -> Result {
        Result::Failed
    }
}

#[test]
fn a_type_merely_named_result_is_never_an_error() {
    assert_eq!(ffi::status(true), ffi::Result::Done);
    assert_eq!(ffi::status(false), ffi::Result::Failed);
    let fut = std::pin::pin!(ffi::status_async());
    let waker = std::task::Waker::noop();
    let polled = fut.poll(&mut std::task::Context::from_waker(waker));
    assert_eq!(polled, std::task::Poll::Ready(ffi::Result::Failed));
    assert_eq!((count("ffi_status"), errors("ffi_status")), (2, 0));
    assert_eq!((count("ffi_status_async"), errors("ffi_status_async")), (1, 0));
}
