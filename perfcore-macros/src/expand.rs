//! Writing the instrumented function.

use proc_macro2::TokenStream;
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::{ItemFn, ReturnType, Type};

use crate::args::Args;

/// Wraps `f`'s body in a scope of a static callsite; `Err` results count as errors.
pub(crate) fn function(args: &Args, f: ItemFn) -> TokenStream {
    let ItemFn { attrs, vis, sig, block } = f;
    let krate = args.krate.as_ref().map_or_else(|| quote!(::perfcore), ToTokens::to_token_stream);
    let ident = &sig.ident;
    let name = match &args.name {
        Some(lit) => lit.to_token_stream(),
        None => {
            let ident = ident.to_string();
            quote!(::core::concat!(::core::module_path!(), "::", #ident))
        }
    };
    let span = sig.span();
    let callsite = quote! {
        static __PERFCORE_CALLSITE: #krate::Callsite = #krate::Callsite::new(
            #name,
            ::core::module_path!(),
            ::core::file!(),
            ::core::line!(),
        );
    };
    // For futures: the profiler they record into (the global one unless given).
    let profiler_ref = match &args.profiler {
        Some(p) => quote_spanned!(p.span()=> &#p),
        None => quote!(#krate::global()),
    };
    // Wraps a future so it records one call of the callsite.
    let instrument = |is_err: TokenStream, fut: TokenStream| {
        quote! {
            #krate::__private::instrument(#profiler_ref, &__PERFCORE_CALLSITE, #is_err, #fut)
        }
    };
    let enter = match &args.profiler {
        Some(p) => quote_spanned!(p.span()=> #krate::__private::enter(&#p, &__PERFCORE_CALLSITE)),
        None => quote!(#krate::__private::enter_global(&__PERFCORE_CALLSITE)),
    };
    let guard = quote_spanned! {span=>
        let __perfcore_guard = {
            #callsite
            #enter
        };
    };
    let errors = args.errors.as_ref().is_none_or(|b| b.value);
    if sig.asyncness.is_some() {
        let (is_err, fake_return) = match &sig.output {
            ReturnType::Type(_, ty) if !has_impl_trait(ty) => {
                let is_err = if errors && is_result(ty) {
                    quote!(::core::option::Option::Some(|r: &#ty| r.is_err()))
                } else {
                    quote!(::core::option::Option::None)
                };
                // Pins the inner block's output type to the function's, so `?` converts.
                let fake = quote! {
                    #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::empty_loop)]
                    if false {
                        let __perfcore_never: #ty = loop {};
                        return __perfcore_never;
                    }
                };
                (is_err, fake)
            }
            _ => (quote!(::core::option::Option::None), quote!()),
        };
        let fut = instrument(is_err, quote!(async move { #fake_return #block }));
        return quote! {
            #(#attrs)*
            #vis #sig {
                #callsite
                #fut.await
            }
        };
    }
    if let ReturnType::Type(_, ty) = &sig.output
        && returns_impl_future(ty)
    {
        // `fn f() -> impl Future<Output = T> { async move { ... } }`: profile the future the
        // body returns, as for an `async fn`.
        let fut = instrument(quote!(::core::option::Option::None), block.to_token_stream());
        return quote! {
            #(#attrs)*
            #vis #sig {
                #callsite
                #fut
            }
        };
    }
    let body = match &sig.output {
        ReturnType::Type(_, ty) if errors && is_result(ty) && !has_impl_trait(ty) => {
            // A closure, so that `return` and `?` in the body are seen by the error check.
            quote! {
                #guard
                #[allow(clippy::redundant_closure_call)]
                let __perfcore_result: #ty = (move || -> #ty #block)();
                if __perfcore_result.is_err() {
                    __perfcore_guard.mark_failed();
                }
                __perfcore_result
            }
        }
        _ => quote! {
            #guard
            #block
        },
    };
    quote! {
        #(#attrs)*
        #vis #sig {
            #body
        }
    }
}

/// Whether the return type is `impl Future<...>` (any path ending in `Future`).
fn returns_impl_future(ty: &Type) -> bool {
    match ty {
        Type::ImplTrait(t) => t.bounds.iter().any(|b| match b {
            syn::TypeParamBound::Trait(t) => {
                t.path.segments.last().is_some_and(|s| s.ident == "Future")
            }
            _ => false,
        }),
        Type::Paren(p) => returns_impl_future(&p.elem),
        Type::Group(g) => returns_impl_future(&g.elem),
        _ => false,
    }
}

/// Whether the type's last path segment is `Result` (`Result<T, E>`, `io::Result<T>`, ...).
fn is_result(ty: &Type) -> bool {
    match ty {
        Type::Path(p) => p.path.segments.last().is_some_and(|s| s.ident == "Result"),
        Type::Paren(p) => is_result(&p.elem),
        Type::Group(g) => is_result(&g.elem),
        _ => false,
    }
}

/// Whether `impl Trait` appears anywhere in the type (a closure cannot name it).
fn has_impl_trait(ty: &Type) -> bool {
    ty.to_token_stream()
        .to_string()
        .split(|c: char| !c.is_alphanumeric() && c != '_')
        .any(|w| w == "impl")
}
