//! The `#[profile]` attribute of [perfcore](https://docs.rs/perfcore), re-exported as
//! `perfcore::profile`; see its documentation there.

mod args;
mod expand;
mod validate;

use proc_macro::TokenStream;
use proc_macro2::TokenStream as TokenStream2;

/// Profiles every call of the function it is put on, or of each method of the `impl` block or
/// trait it is put on.
///
/// ```ignore
/// #[perfcore::profile]
/// fn parse(line: &str) -> Result<Entry, ParseError> {
///     let n = line.parse()?;
///     if n == 0 {
///         return Err(ParseError::Zero);
///     }
///     Ok(Entry(n))
/// }
/// ```
/// expands to (in essence; every name it adds is hygienic)
/// ```ignore
/// fn parse(line: &str) -> Result<Entry, ParseError> {
///     let __perfcore_guard = {
///         fn __perfcore_name() -> &'static str {
///             // `type_name` of this fn item: `my_crate::module::parse::__perfcore_name`.
///             ::perfcore::__private::name_from_marker(
///                 ::core::any::type_name_of_val(&__perfcore_name), "__perfcore_name")
///         }
///         static __PERFCORE_CALLSITE: ::perfcore::Callsite = ::perfcore::Callsite::__resolved_by(
///             __perfcore_name, module_path!(), file!(), line!());
///         ::perfcore::__private::enter_global(&__PERFCORE_CALLSITE)
///     };
///     // A `?` returns only `Err`, and before anything below runs: failed until seen `Ok`.
///     ::perfcore::__private::set_failed(&__perfcore_guard, true);
///     let n = line.parse()?;
///     if n == 0 {
///         return {
///             let __perfcore_result: Result<Entry, ParseError> = Err(ParseError::Zero);
///             ::perfcore::__private::set_failed(&__perfcore_guard, __perfcore_result.is_err());
///             __perfcore_result
///         };
///     }
///     {
///         let __perfcore_result: Result<Entry, ParseError> = Ok(Entry(n));
///         ::perfcore::__private::set_failed(&__perfcore_guard, __perfcore_result.is_err());
///         __perfcore_result
///     }
/// }
/// ```
/// The body's statements stay in the function (no closure): borrows, `?` conversions,
/// `#[track_caller]`, inner attributes and the order in which the parameters drop are those of
/// the function as written. A function not returning `Result` (or with `errors = false`) gets
/// only the guard. A `return` hidden in a macro call (`anyhow::bail!`) is not seen, and counts
/// as an error, as a `?` does.
///
/// The default name is the function's path as `core::any::type_name` gives it, computed once
/// per callsite, when a report first asks for it: `my_crate::module::parse`, and for methods
/// `my_crate::module::Type::method` (`<my_crate::Type as my_crate::Trait>::method` in a trait
/// impl; rustc writes `my_crate::module::<impl my_crate::Trait for my_crate::Type>::method` for
/// one in another module than the type, as semver's `impl FromStr for Version` in its `parse`
/// module; `my_crate::Trait::method` for a default method). One callsite serves every
/// instantiation of a generic function, so the generic arguments a generic impl shows as `<_>`
/// are left out (`Wrapper<T>::get` is `my_crate::Wrapper::get`), while an impl for a concrete
/// type keeps them (`Wrapper<u8>::get`). Raw identifiers lose their `r#`.
///
/// On an `async fn` (`async fn fetch(id: u64) -> Result<Page, Error>`) the function becomes
/// `fn fetch(id: u64) -> impl Future<Output = Result<Page, Error>>` returning
/// `perfcore::Instrumented` around `async move { let id = id; ... }`, so the arguments are
/// stored once, in that block, and drop as in the `async fn`. The future records one call from
/// its first poll to its completion (wall time) with the time spent inside `poll` (busy time);
/// one dropped before completing counts as cancelled. A `fn` returning
/// `impl Future<Output = T>` has the future its body returns instrumented the same way. `Err`
/// outputs count as errors in both.
///
/// On an `impl` block (inherent or trait impl) or a trait, each fn with a body is instrumented
/// as if the attribute were on it, with the block's arguments; `const fn`s are left out, and
/// so are the methods of an `impl GlobalAlloc` (the profiler allocates: as the global allocator
/// each call would re-enter it; their own `#[profile]` is an error there). A
/// method's own `#[profile(...)]` replaces the block's for that method, argument by argument
/// (`#[profile(errors = false)]` keeps the block's `profiler`), and `#[profile(skip)]` leaves it
/// out.
///
/// Arguments:
/// - `name = "..."`: the name in reports (default: the path above; not on a block);
/// - `profiler = <expr>`: a `PerformanceProfiler` place or reference (default: the global one);
/// - `errors = false`: do not count `Err` returns as errors;
/// - `crate = <path>`: where perfcore is, when it is re-exported;
/// - `skip`: leave this function (or block) as it is.
///
/// The arguments and the item are checked also with perfcore's `enabled` feature off; then the
/// item is returned as written (the methods of a profiled block only lose their own
/// `#[profile(...)]`, as with it on, so the attribute need not be imported for them).
#[proc_macro_attribute]
pub fn profile(args: TokenStream, item: TokenStream) -> TokenStream {
    profile2(args.into(), item.into(), cfg!(feature = "enabled")).into()
}

/// The attribute on `proc_macro2` tokens: the arguments and the item are parsed and checked
/// whether or not profiling is `enabled`, so that code compiles the same either way; only
/// when it is is anything instrumented.
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
        return match expand::disabled(&args, parsed) {
            Ok(Some(out)) => out,
            Ok(None) => item,
            Err(e) => with_item(e, item),
        };
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
    fn default_name_and_impl_block() {
        check(
            "impl_block",
            quote!(profiler = P),
            quote!(
                impl Parser {
                    fn parse(&self, s: &str) -> Result<u8, Error> {
                        #![allow(unused_variables)]
                        if s.is_empty() {
                            return Err(Error);
                        }
                        Ok(s.len() as u8)
                    }

                    #[profile(skip)]
                    fn skipped(&self) {}

                    const fn constant() -> u8 {
                        0
                    }
                }
            ),
        );
    }

    #[test]
    fn function_returning_a_future() {
        check(
            "future",
            quote!(),
            quote!(
                fn fetch(id: u64) -> impl Future<Output = Result<u64, Error>> {
                    let fut = async move { Ok(id) };
                    return fut;
                }
            ),
        );
    }

    /// With the `enabled` feature off the item comes back as written, but only once its
    /// arguments and kind have been checked as with it on.
    #[test]
    fn disabled_still_checks_arguments_and_item() {
        let item = quote!(
            fn f() -> Result<(), ()> {
                Ok(())
            }
        );
        let out = crate::profile2(quote!(name = "f", errors = false), item.clone(), false);
        assert_eq!(out.to_string(), item.to_string());
        // A block's methods lose their own `#[profile(...)]`s, as with profiling on.
        let block = quote!(impl S {
            #[profile(skip)]
            fn f() {}
        });
        let out = crate::profile2(quote!(), block, false);
        assert_eq!(out.to_string(), quote!(impl S { fn f() {} }).to_string());
        for (args, item, error) in [
            (quote!(nmae = "x"), item.clone(), "unknown argument `nmae`"),
            (quote!(errors = "no"), item.clone(), "expected boolean literal"),
            (quote!(skip, name = "x"), item.clone(), "`skip` leaves the function out"),
            (quote!(name = "x"), quote!(impl S {}), "`name` cannot be given on an impl block"),
            (
                quote!(),
                quote!(
                    const fn c() {}
                ),
                "cannot profile a `const fn`",
            ),
            (
                quote!(),
                quote!(
                    struct S;
                ),
                "not on a struct",
            ),
        ] {
            let out = crate::profile2(args, item, false).to_string();
            assert!(out.contains("compile_error") && out.contains(error), "{out}");
        }
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
