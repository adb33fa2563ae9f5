//! Writing the instrumented function.
//!
//! Every token the expansion adds is spanned at `Span::mixed_site()`: its identifiers are
//! hygienic (a `macro_rules!` that passes the function on cannot mix them up, and the user's
//! code cannot see them), and rustc and clippy treat the added code as a macro's, so it
//! triggers no lint. The user's tokens keep their spans, and the body keeps its braces' span,
//! so the function is still the user's code to the lints (`dead_code`, `missing_safety_doc`,
//! `result_unit_err`, `needless_return`, ...; only `needless_return` on a `return` in a
//! function returning `Result` is lost, as that `return`'s value is rewritten). The body is not wrapped in a closure: its statements stay where
//! they are, so borrows, `?`, `#[track_caller]` and the drop order of the parameters are those
//! of the function as written.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote, quote_spanned};
use syn::spanned::Spanned;
use syn::visit_mut::{self, VisitMut};
use syn::{
    AttrStyle, Attribute, Block, Expr, FnArg, ImplItem, Pat, ReturnType, Signature, Stmt,
    TraitItem, Type,
};

use crate::args::Args;
use crate::validate::{self, Item};

/// The instrumented item.
pub(crate) fn item(args: &Args, item: Item) -> syn::Result<TokenStream> {
    match item {
        Item::Fn(f) => {
            if args.skip.is_some() {
                return Ok(f.into_token_stream());
            }
            Ok(function(args, f.attrs, f.vis.into_token_stream(), f.sig, *f.block))
        }
        Item::Impl(mut i) => {
            if args.skip.is_some() {
                return Ok(i.into_token_stream());
            }
            let mut errors = Errors::default();
            let allocator = is_global_alloc(&i);
            for it in &mut i.items {
                let ImplItem::Fn(f) = it else { continue };
                let Some(args) = method_args(args, &mut f.attrs, left_out(&f.sig, allocator))
                    .unwrap_or_else(|e| errors.push(e))
                else {
                    continue;
                };
                let vis = &f.vis;
                let defaultness = &f.defaultness;
                let head = quote!(#vis #defaultness);
                let attrs = std::mem::take(&mut f.attrs);
                let out = function(&args, attrs, head, f.sig.clone(), f.block.clone());
                *it = ImplItem::Verbatim(out);
            }
            errors.into_result()?;
            Ok(i.into_token_stream())
        }
        Item::Trait(mut t) => {
            if args.skip.is_some() {
                return Ok(t.into_token_stream());
            }
            let mut errors = Errors::default();
            for it in &mut t.items {
                let TraitItem::Fn(f) = it else { continue };
                let Some(block) = &f.default else { continue };
                let Some(args) = method_args(args, &mut f.attrs, left_out(&f.sig, false))
                    .unwrap_or_else(|e| errors.push(e))
                else {
                    continue;
                };
                let attrs = std::mem::take(&mut f.attrs);
                let out = function(&args, attrs, TokenStream::new(), f.sig.clone(), block.clone());
                *it = TraitItem::Verbatim(out);
            }
            errors.into_result()?;
            Ok(t.into_token_stream())
        }
    }
}

/// The item with profiling compiled out: as written, except that the `#[profile(...)]`s of a
/// profiled block's methods (checked as when it is on) are taken off, as they would be then,
/// so that they need not be in scope in either case.
pub(crate) fn disabled(args: &Args, item: Item) -> syn::Result<Option<TokenStream>> {
    let mut errors = Errors::default();
    let mut check = |attrs: &mut Vec<Attribute>, left_out: Option<LeftOut>| {
        if let Err(e) = method_args(args, attrs, left_out) {
            errors.push::<()>(e);
        }
    };
    let out = match item {
        Item::Fn(_) => None,
        Item::Impl(mut i) => {
            let allocator = is_global_alloc(&i);
            for it in &mut i.items {
                if let ImplItem::Fn(f) = it {
                    check(&mut f.attrs, left_out(&f.sig, allocator));
                }
            }
            Some(i.into_token_stream())
        }
        Item::Trait(mut t) => {
            for it in &mut t.items {
                if let TraitItem::Fn(f) = it
                    && f.default.is_some()
                {
                    check(&mut f.attrs, left_out(&f.sig, false));
                }
            }
            Some(t.into_token_stream())
        }
    };
    errors.into_result()?;
    Ok(out)
}

/// Why a profiled block leaves a method out (and its own `#[profile]` is an error).
#[derive(Clone, Copy)]
enum LeftOut<'a> {
    /// A `const fn` cannot read the clock.
    Const(&'a syn::token::Const),
    /// A method of `impl GlobalAlloc`: the profiler allocates, so as the global allocator
    /// each call would re-enter it (on the first call, a deadlock in the profiler's set-up).
    Allocator(&'a syn::Ident),
}

fn left_out(sig: &Signature, allocator: bool) -> Option<LeftOut<'_>> {
    match &sig.constness {
        Some(c) => Some(LeftOut::Const(c)),
        None => allocator.then_some(LeftOut::Allocator(&sig.ident)),
    }
}

/// Whether the block is `impl GlobalAlloc for ...` (any path ending in `GlobalAlloc`).
fn is_global_alloc(i: &syn::ItemImpl) -> bool {
    i.trait_
        .as_ref()
        .and_then(|(_, path, _)| path.segments.last())
        .is_some_and(|s| s.ident == "GlobalAlloc")
}

/// The arguments a method of a profiled block is instrumented with, or `None` to leave it as
/// it is: its own `#[profile(...)]` (taken off it) over the block's; `const fn`s and the
/// methods of a `GlobalAlloc` impl are left out.
fn method_args(
    block: &Args,
    attrs: &mut Vec<Attribute>,
    left_out: Option<LeftOut<'_>>,
) -> syn::Result<Option<Args>> {
    let own = validate::own_args(attrs)?;
    let args = match own {
        Some(own) => {
            match (left_out, &own.skip) {
                (Some(LeftOut::Const(c)), None) => return Err(validate::const_fn(c)),
                (Some(LeftOut::Allocator(ident)), None) => {
                    return Err(syn::Error::new_spanned(
                        ident,
                        "#[profile] cannot profile a `GlobalAlloc` method: the profiler \
                         allocates, so each call would re-enter the allocator",
                    ));
                }
                _ => {}
            }
            own.over(block)
        }
        None => block.clone(),
    };
    Ok((args.skip.is_none() && left_out.is_none()).then_some(args))
}

/// Errors gathered over a block's methods, reported together.
#[derive(Default)]
struct Errors(Option<syn::Error>);

impl Errors {
    fn push<T>(&mut self, e: syn::Error) -> Option<T> {
        match &mut self.0 {
            None => self.0 = Some(e),
            Some(all) => all.combine(e),
        }
        None
    }

    fn into_result(self) -> syn::Result<()> {
        self.0.map_or(Ok(()), Err)
    }
}

/// One instrumented function: `head` (visibility, `default`) `sig` and a new body.
pub(crate) fn function(
    args: &Args,
    attrs: Vec<Attribute>,
    head: TokenStream,
    sig: Signature,
    block: Block,
) -> TokenStream {
    let (inner, outer): (Vec<_>, Vec<_>) =
        attrs.into_iter().partition(|a| matches!(a.style, AttrStyle::Inner(_)));
    let cx = Cx::new(args);
    let Block { brace_token, stmts } = block;
    let errors = args.errors.as_ref().is_none_or(|b| b.value);

    if sig.asyncness.is_some() {
        return async_fn(&cx, &outer, &inner, head, sig, brace_token, stmts, errors);
    }
    let mut body = TokenStream::new();
    let ms = cx.ms;
    if let ReturnType::Type(_, ty) = &sig.output
        && let Some(output) = future_output(ty)
    {
        // `fn f() -> impl Future<Output = T> { ... }`: profile the future the body returns,
        // as for an `async fn`.
        let is_err = cx.is_err(errors.then_some(output).flatten());
        let mut stmts = stmts;
        let label = syn::Lifetime::new("'__perfcore_body", ms);
        let labelled = Rewrite::returns(&mut stmts, Exit::Break(&label));
        let label = labelled.then(|| quote_spanned!(ms=> #label:));
        // `return fut` in the body would skip the instrumentation: it breaks out of a
        // labelled block with the future instead.
        let callsite = cx.callsite();
        let profiler = cx.profiler_ref();
        let krate = &cx.krate;
        let fut = quote_spanned!(ms=> #label { #(#stmts)* });
        quote_spanned!(ms=>
            #krate::__private::instrument(#profiler, { #callsite &__PERFCORE_CALLSITE }, #fut, #is_err)
        )
        .to_tokens(&mut body);
    } else {
        let guard = cx.guard();
        let krate = &cx.krate;
        let result = match &sig.output {
            ReturnType::Type(_, ty) if errors && is_result(ty) => Some(erase_impl_trait(ty)),
            _ => None,
        };
        match result {
            Some(ty) => {
                // Every way out is seen: the tail and each `return` set the outcome from the
                // value; a `?` (or a `return` inside a macro) returns before either can, and
                // in a function returning `Result` it only returns `Err`, so the call starts
                // out failed.
                let mut stmts = stmts;
                Rewrite::returns(&mut stmts, Exit::Observe(&cx, &ty));
                observe_tail(&cx, &ty, &mut stmts);
                quote_spanned!(ms=>
                    #guard
                    #krate::__private::set_failed(&__perfcore_guard, true);
                    #(#stmts)*
                )
                .to_tokens(&mut body);
            }
            None => quote_spanned!(ms=> #guard #(#stmts)*).to_tokens(&mut body),
        }
    }
    let mut out = quote!(#(#outer)* #head #sig);
    brace_token.surround(&mut out, |out| {
        quote!(#(#inner)*).to_tokens(out);
        body.to_tokens(out);
    });
    out
}

/// `async fn f(args) -> T { body }` as `fn f(args) -> impl Future<Output = T>` returning the
/// instrumented `async move` block directly: an `async fn` around it would store the
/// arguments twice, once for itself and once captured by the block.
#[allow(clippy::too_many_arguments)]
fn async_fn(
    cx: &Cx<'_>,
    outer: &[Attribute],
    inner: &[Attribute],
    head: TokenStream,
    mut sig: Signature,
    brace_token: syn::token::Brace,
    stmts: Vec<Stmt>,
    errors: bool,
) -> TokenStream {
    let ms = cx.ms;
    sig.asyncness = None;
    let output = match &sig.output {
        ReturnType::Type(_, ty) => Some((**ty).clone()),
        ReturnType::Default => None,
    };
    let output_ty =
        output.as_ref().map_or_else(|| quote_spanned!(ms=> ()), ToTokens::to_token_stream);
    let arrow = match &sig.output {
        ReturnType::Type(arrow, _) => *arrow,
        ReturnType::Default => syn::Token![->](ms),
    };
    let future = quote_spanned!(ms=> impl ::core::future::Future<Output = #output_ty>);
    sig.output = ReturnType::Type(arrow, Box::new(Type::Verbatim(future)));

    // The parameters move into the block as an `async fn`'s do (the same `let`s, in the same
    // order), so that they drop when it completes, in the order of the function as written.
    let mut moves = TokenStream::new();
    for (i, arg) in sig.inputs.iter_mut().enumerate() {
        match arg {
            FnArg::Typed(pt) => match &mut *pt.pat {
                Pat::Ident(p) if p.by_ref.is_none() && p.subpat.is_none() => {
                    let mutability = p.mutability.take();
                    let ident = &p.ident;
                    quote_spanned!(ms=> let #mutability #ident = #ident;).to_tokens(&mut moves);
                }
                pat => {
                    let arg = syn::Ident::new(&format!("__perfcore_arg{i}"), ms);
                    quote_spanned!(ms=> let #arg = #arg; let #pat = #arg;).to_tokens(&mut moves);
                    *pt.pat = Pat::Verbatim(arg.into_token_stream());
                }
            },
            // A `self` taken by value is moved into the block whole, as an `async fn` does;
            // it drops with the future.
            FnArg::Receiver(r) if r.reference.is_none() => {
                let this = &r.self_token;
                quote_spanned!(ms=> let _ = &#this;).to_tokens(&mut moves);
            }
            FnArg::Receiver(_) => {}
        }
    }
    // Pins the block's output type to the function's, so `return` and `?` convert as they
    // would in the `async fn`.
    let pin = output.as_ref().map(|ty| {
        let ty = erase_impl_trait(ty);
        quote_spanned! {ms=>
            #[allow(unreachable_code, clippy::diverging_sub_expression, clippy::empty_loop)]
            if false {
                let __perfcore_never: #ty = loop {};
                return __perfcore_never;
            }
        }
    });
    let is_err = cx.is_err(output.as_ref().filter(|_| errors));
    let callsite = cx.callsite();
    let profiler = cx.profiler_ref();
    let krate = &cx.krate;
    let body = quote_spanned! {ms=>
        #krate::__private::instrument(
            #profiler,
            { #callsite &__PERFCORE_CALLSITE },
            async move { #moves #pin #(#stmts)* },
            #is_err,
        )
    };
    let mut out = quote!(#(#outer)* #head #sig);
    brace_token.surround(&mut out, |out| {
        quote!(#(#inner)*).to_tokens(out);
        body.to_tokens(out);
    });
    out
}

/// What the expansion of one function shares: the crate path, the span, the arguments.
struct Cx<'a> {
    args: &'a Args,
    krate: TokenStream,
    ms: Span,
}

impl<'a> Cx<'a> {
    fn new(args: &'a Args) -> Self {
        let ms = Span::mixed_site();
        let krate = args
            .krate
            .as_ref()
            .map_or_else(|| quote_spanned!(ms=> ::perfcore), ToTokens::to_token_stream);
        Cx { args, krate, ms }
    }

    /// The `static __PERFCORE_CALLSITE`, and the fn item naming it when no name is given.
    fn callsite(&self) -> TokenStream {
        let Cx { krate, ms, .. } = self;
        let ms = *ms;
        let location =
            quote_spanned!(ms=> ::core::module_path!(), ::core::file!(), ::core::line!());
        match &self.args.name {
            Some(name) => quote_spanned! {ms=>
                static __PERFCORE_CALLSITE: #krate::Callsite = #krate::Callsite::new(#name, #location);
            },
            // Its `type_name` is the function's path (with the impl's type), plus its own name.
            None => quote_spanned! {ms=>
                fn __perfcore_name() -> &'static str {
                    #krate::__private::name_from_marker(
                        ::core::any::type_name_of_val(&__perfcore_name),
                        "__perfcore_name",
                    )
                }
                static __PERFCORE_CALLSITE: #krate::Callsite =
                    #krate::Callsite::__resolved_by(__perfcore_name, #location);
            },
        }
    }

    /// The profiler a future records into, as a reference.
    fn profiler_ref(&self) -> TokenStream {
        let krate = &self.krate;
        match &self.args.profiler {
            Some(p) => quote_spanned!(p.span()=> &#p),
            None => quote_spanned!(self.ms=> #krate::global()),
        }
    }

    /// `let __perfcore_guard = ...;`: the scope of a synchronous function.
    fn guard(&self) -> TokenStream {
        let Cx { krate, ms, .. } = self;
        let callsite = self.callsite();
        let enter = match &self.args.profiler {
            Some(p) => {
                let p = quote_spanned!(p.span()=> &#p);
                quote_spanned!(*ms=> #krate::__private::enter(#p, &__PERFCORE_CALLSITE))
            }
            None => quote_spanned!(*ms=> #krate::__private::enter_global(&__PERFCORE_CALLSITE)),
        };
        quote_spanned!(*ms=> let __perfcore_guard = { #callsite #enter };)
    }

    /// A future's error check: `|r| r.is_err()` when it yields a `Result`, else `NoErrors`
    /// (both zero-sized).
    fn is_err(&self, output: Option<&Type>) -> TokenStream {
        let Cx { krate, ms, .. } = self;
        match output.filter(|ty| is_result(ty)) {
            Some(ty) => {
                let ty = erase_impl_trait(ty);
                quote_spanned!(*ms=> |__perfcore_r: &#ty| {
                    // For a type merely named `Result`; `Result::is_err` is found first.
                    #[allow(unused_imports)]
                    use #krate::__private::NotAResult as _;
                    __perfcore_r.is_err()
                })
            }
            None => quote_spanned!(*ms=> #krate::__private::NoErrors),
        }
    }

    /// `{ let r: T = value; set_failed(&guard, r.is_err()); r }`.
    fn observe(&self, ty: &Type, value: impl ToTokens) -> Expr {
        let Cx { krate, ms, .. } = self;
        Expr::Verbatim(quote_spanned! {*ms=> {
            // A diverging value (`todo!()`) is a tail as written, not a sub-expression.
            #[allow(clippy::diverging_sub_expression)]
            let __perfcore_result: #ty = #value;
            // When the value diverges (`todo!()`, a `loop` left by `return`).
            // For a type merely named `Result`; `Result::is_err` is found first.
            #[allow(unused_imports)]
            use #krate::__private::NotAResult as _;
            #[allow(unreachable_code)]
            #krate::__private::set_failed(&__perfcore_guard, (&__perfcore_result).is_err());
            __perfcore_result
        }})
    }
}

/// Where a rewritten `return` goes.
enum Exit<'a> {
    /// `return` the value after setting the call's outcome from it.
    Observe(&'a Cx<'a>, &'a Type),
    /// `break` out of the labelled block that stands for the body.
    Break(&'a syn::Lifetime),
}

/// Rewrites the `return`s of a body (not those of the closures, async blocks and items in it).
struct Rewrite<'a> {
    exit: Exit<'a>,
    found: bool,
}

impl<'a> Rewrite<'a> {
    /// Whether there was any.
    fn returns(stmts: &mut [Stmt], exit: Exit<'a>) -> bool {
        let mut r = Rewrite { exit, found: false };
        for stmt in stmts {
            r.visit_stmt_mut(stmt);
        }
        r.found
    }
}

impl VisitMut for Rewrite<'_> {
    fn visit_expr_mut(&mut self, e: &mut Expr) {
        match e {
            // Their `return`s are their own.
            Expr::Closure(_) | Expr::Async(_) | Expr::Const(_) => {}
            Expr::Return(ret) => {
                if let Some(value) = &mut ret.expr {
                    self.visit_expr_mut(value);
                }
                self.found = true;
                match &self.exit {
                    Exit::Observe(cx, ty) => {
                        let value = ret.expr.take().map(|v| cx.observe(ty, v));
                        ret.expr = value.map(Box::new);
                    }
                    Exit::Break(label) => {
                        let value = &ret.expr;
                        let kw = ret.return_token.span;
                        let brk = quote_spanned!(kw=> break);
                        *e = Expr::Verbatim(quote!(#brk #label #value));
                    }
                }
            }
            _ => visit_mut::visit_expr_mut(self, e),
        }
    }

    fn visit_item_mut(&mut self, _: &mut syn::Item) {}
}

/// Sets the outcome from the body's tail expression, if it has one (a body may also end in a
/// `return` or diverge).
fn observe_tail(cx: &Cx<'_>, ty: &Type, stmts: &mut [Stmt]) {
    let Some(last) = stmts.last_mut() else { return };
    let tail = match last {
        Stmt::Expr(e, None) => std::mem::replace(e, Expr::Verbatim(TokenStream::new())),
        // A macro call ending the body is its tail (`todo!()`, `Ok(x)` from a macro, ...). It
        // stays a statement, in a block of its own, as it may expand to statements before
        // its value (`let y = f(); Ok(y)`), which an expression cannot.
        Stmt::Macro(m) if m.semi_token.is_none() => {
            let m = std::mem::replace(last, Stmt::Expr(Expr::Verbatim(TokenStream::new()), None));
            Expr::Verbatim(quote_spanned!(cx.ms=> { #m }))
        }
        _ => return,
    };
    *last = Stmt::Expr(cx.observe(ty, tail), None);
}

/// `T` of a return type `impl Future<Output = T>` (any path ending in `Future`), or
/// `Some(None)` for an `impl Future` whose output is not written; `None` for other types.
fn future_output(ty: &Type) -> Option<Option<&Type>> {
    match ty {
        Type::ImplTrait(t) => t.bounds.iter().find_map(|b| match b {
            syn::TypeParamBound::Trait(t) => {
                let last = t.path.segments.last().filter(|s| s.ident == "Future")?;
                let syn::PathArguments::AngleBracketed(a) = &last.arguments else {
                    return Some(None);
                };
                Some(a.args.iter().find_map(|arg| match arg {
                    syn::GenericArgument::AssocType(at) if at.ident == "Output" => Some(&at.ty),
                    _ => None,
                }))
            }
            _ => None,
        }),
        Type::Paren(p) => future_output(&p.elem),
        Type::Group(g) => future_output(&g.elem),
        _ => None,
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

/// The type with each `impl Trait` replaced by `_`, so that a `let` can be annotated with it.
fn erase_impl_trait(ty: &Type) -> Type {
    struct Erase;
    impl VisitMut for Erase {
        fn visit_type_mut(&mut self, ty: &mut Type) {
            if let Type::ImplTrait(t) = ty {
                *ty = Type::Infer(syn::TypeInfer { underscore_token: syn::Token![_](t.span()) });
            } else {
                visit_mut::visit_type_mut(self, ty);
            }
        }
    }
    let mut ty = ty.clone();
    Erase.visit_type_mut(&mut ty);
    ty
}
