//! The `#[profile]` attribute of [perfcore](https://docs.rs/perfcore), re-exported as
//! `perfcore::profile`; see its documentation there.

mod args;
mod expand;
mod validate;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;

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
    profile2(args.into(), item.into(), cfg!(feature = "enabled")).into()
}

/// The attribute on `proc_macro2` tokens: the arguments and the item are parsed and checked
/// whether or not profiling is `enabled`, so that code compiles the same either way; only
/// when it is does the item change.
fn profile2(args: TokenStream2, item: TokenStream2, enabled: bool) -> TokenStream2 {
    let args = match syn::parse2::<args::Args>(args) {
        Ok(args) => args,
        Err(e) => return with_item(e, item),
    };
    if let Ok(closure) = syn::parse2::<syn::ExprClosure>(item.clone()) {
        // In expression position the closure cannot be re-emitted after an error item, so
        // the error stands alone (rustc adds that attributes on expressions are unstable).
        let e = syn::Error::new_spanned(
            closure.or1_token,
            "#[profile] cannot be put on a closure; use `perfcore::profile_scope!` inside it",
        );
        return e.to_compile_error();
    }
    let parsed = match validate::item(&args, item.clone()) {
        Ok(parsed) => parsed,
        Err(e) => return with_item(e, item),
    };
    if !enabled {
        return item;
    }
    match expand::item(&args, parsed) {
        Ok(out) => out,
        Err(e) => with_item(e, item),
    }
}

/// The error, and the item unchanged, so the user sees this one error and no cascade.
fn with_item(e: syn::Error, item: TokenStream2) -> TokenStream2 {
    let mut out = e.to_compile_error();
    out.extend(item);
    out
}

#[cfg(test)]
mod tests {
    //! Expansion snapshots: what `#[profile]` writes for each kind of function, pretty-printed
    //! and compared with `expand/*.expanded.rs`. `PERFCORE_BLESS=1 cargo test -p
    //! perfcore-macros` rewrites them after a deliberate change; review the diff.
    use quote::quote;

    fn check(case: &str, args: proc_macro2::TokenStream, item: proc_macro2::TokenStream) {
        let out = crate::profile2(args, item, true);
        let file: syn::File = syn::parse2(out).expect("the expansion parses as Rust");
        let pretty = prettyplease::unparse(&file);
        let path = std::path::Path::new(env!("CARGO_MANIFEST_DIR"))
            .join("expand")
            .join(format!("{case}.expanded.rs"));
        if std::env::var_os("PERFCORE_BLESS").is_some() {
            std::fs::create_dir_all(path.parent().unwrap()).unwrap();
            std::fs::write(&path, &pretty).unwrap();
        }
        let expected = std::fs::read_to_string(&path)
            .unwrap_or_else(|e| panic!("{}: {e} (run with PERFCORE_BLESS=1)", path.display()));
        assert_eq!(pretty, expected, "expansion of `{case}` changed");
    }

    #[test]
    fn sync_function() {
        check(
            "sync",
            quote!(),
            quote!(
                pub fn add(a: u32, b: u32) -> u32 {
                    a + b
                }
            ),
        );
    }

    #[test]
    fn result_function_counts_errors() {
        check(
            "result",
            quote!(name = "parse"),
            quote!(
                fn parse(s: &str) -> Result<u8, std::num::ParseIntError> {
                    Ok(s.parse()?)
                }
            ),
        );
    }

    #[test]
    fn method_with_profiler() {
        check(
            "method",
            quote!(profiler = PROFILER, errors = false),
            quote!(
                fn get(&self) -> Result<u64, ()> {
                    Ok(self.n)
                }
            ),
        );
    }

    #[test]
    fn generic_function() {
        check(
            "generic",
            quote!(crate = my::perfcore),
            quote!(
                fn first<'a, T: Clone, const N: usize>(xs: &'a [T; N]) -> Option<T>
                where
                    T: 'a,
                {
                    xs.first().cloned()
                }
            ),
        );
    }

    #[test]
    fn async_function() {
        check(
            "async",
            quote!(),
            quote!(
                async fn fetch(id: u64) -> Result<String, Error> {
                    let page = get(id).await?;
                    Ok(page)
                }
            ),
        );
    }
}
