//! The `#[profile]` attribute of [perfcore](https://docs.rs/perfcore), re-exported as
//! `perfcore::profile`; see its documentation there.

mod args;
mod expand;
mod validate;

use proc_macro::TokenStream;

/// Profiles every call of the function it is put on.
///
/// ```ignore
/// #[perfcore::profile]
/// fn parse(line: &str) -> Result<Entry, ParseError> { ... }
/// ```
/// expands to (in essence)
/// ```ignore
/// fn parse(line: &str) -> Result<Entry, ParseError> {
///     let __perfcore_guard = {
///         static __PERFCORE_CALLSITE: ::perfcore::Callsite = ::perfcore::Callsite::new(
///             concat!(module_path!(), "::parse"), module_path!(), file!(), line!());
///         ::perfcore::__private::enter_global(&__PERFCORE_CALLSITE)
///     };
///     let __perfcore_result: Result<Entry, ParseError> = (move || -> Result<Entry, ParseError> { ... })();
///     if __perfcore_result.is_err() { __perfcore_guard.mark_failed(); }
///     __perfcore_result
/// }
/// ```
/// On an `async fn` the body becomes a future wrapped in `perfcore::Instrumented`: one call
/// from first poll to completion (wall time) with the time spent inside `poll` (busy time); a
/// future dropped before completing counts as cancelled.
///
/// Arguments: `name = "..."` (default: the function's module path and name),
/// `profiler = <expr>` (a `PerformanceProfiler` place or reference; default the global one),
/// `errors = false` (do not count `Err` returns as errors), `crate = <path>` (where perfcore is).
#[proc_macro_attribute]
pub fn profile(args: TokenStream, item: TokenStream) -> TokenStream {
    if !cfg!(feature = "enabled") {
        return item;
    }
    let args = match syn::parse::<args::Args>(args) {
        Ok(args) => args,
        Err(e) => return with_item(e, item),
    };
    match validate::function(item.clone().into()) {
        Ok(f) => expand::function(&args, f).into(),
        Err(e) => with_item(e, item),
    }
}

/// The error, and the item unchanged, so the user sees this one error and no cascade.
fn with_item(e: syn::Error, item: TokenStream) -> TokenStream {
    let mut out: TokenStream = e.to_compile_error().into();
    out.extend(item);
    out
}
