//! What `#[profile]` can be put on.

use syn::{Attribute, ItemFn, ItemImpl, ItemTrait};

use crate::args::Args;

/// An item `#[profile]` accepts.
pub(crate) enum Item {
    /// A function (also a method, when the attribute is on the method itself).
    Fn(ItemFn),
    /// An inherent or trait impl: each of its fns with a body.
    Impl(ItemImpl),
    /// A trait definition: each of its default method bodies.
    Trait(ItemTrait),
}

/// Parses the annotated item, or says what is wrong with it and with the arguments.
pub(crate) fn item(args: &Args, item: proc_macro2::TokenStream) -> syn::Result<Item> {
    if let Ok(f) = syn::parse2::<ItemFn>(item.clone()) {
        if let Some(c) = &f.sig.constness
            && args.skip.is_none()
        {
            return Err(const_fn(c));
        }
        return Ok(Item::Fn(f));
    }
    let what = match syn::parse2::<syn::Item>(item.clone()) {
        Ok(syn::Item::Impl(i)) => {
            no_name(args, "an impl block", "Type::method")?;
            return Ok(Item::Impl(i));
        }
        Ok(syn::Item::Trait(t)) => {
            no_name(args, "a trait", "Trait::method")?;
            return Ok(Item::Trait(t));
        }
        Ok(syn::Item::Struct(s)) => return Err(not_a_fn(&s.struct_token, "a struct")),
        Ok(syn::Item::Enum(e)) => return Err(not_a_fn(&e.enum_token, "an enum")),
        Ok(syn::Item::Const(c)) => return Err(not_a_fn(&c.const_token, "a const")),
        Ok(syn::Item::Static(s)) => return Err(not_a_fn(&s.static_token, "a static")),
        Ok(syn::Item::Mod(m)) => return Err(not_a_fn(&m.mod_token, "a module")),
        _ => "this item",
    };
    if let Ok(sig) = syn::parse2::<syn::TraitItemFn>(item.clone()) {
        return Err(syn::Error::new_spanned(
            sig.sig,
            "#[profile] needs a function body; put it on the implementations instead",
        ));
    }
    Err(syn::Error::new_spanned(
        item,
        format!(
            "#[profile] can only be put on a function, an impl block or a trait, not on {what}"
        ),
    ))
}

/// The error for `#[profile]` (explicitly) on a `const fn`.
pub(crate) fn const_fn(c: &syn::token::Const) -> syn::Error {
    syn::Error::new_spanned(
        c,
        "#[profile] cannot profile a `const fn`: it reads the clock at run time",
    )
}

fn no_name(args: &Args, what: &str, example: &str) -> syn::Result<()> {
    match &args.name {
        Some(name) => Err(syn::Error::new_spanned(
            name,
            format!(
                "`name` cannot be given on {what}: each of its methods is named after its own \
                 path (`{example}`); put `#[profile(name = \"...\")]` on the method instead"
            ),
        )),
        None => Ok(()),
    }
}

/// Whether `attr` is `#[profile]` (`#[profile(...)]`, `#[perfcore::profile(...)]`, ...).
pub(crate) fn is_profile(attr: &Attribute) -> bool {
    attr.path().segments.last().is_some_and(|s| s.ident == "profile")
}

/// A method's own `#[profile(...)]` inside a profiled block, taken out of its attributes (so
/// it does not instrument the method a second time) and parsed.
pub(crate) fn own_args(attrs: &mut Vec<Attribute>) -> syn::Result<Option<Args>> {
    let mut own: Option<Args> = None;
    let mut error = None;
    let mut kept = Vec::with_capacity(attrs.len());
    for attr in attrs.drain(..) {
        // `#[profile = ...]` is not an attribute macro's syntax: rustc says so itself.
        if !is_profile(&attr) || matches!(attr.meta, syn::Meta::NameValue(_)) {
            kept.push(attr);
            continue;
        }
        let parsed = match &attr.meta {
            syn::Meta::List(list) => list.parse_args::<Args>(),
            _ => Ok(Args::default()),
        };
        let result = match parsed {
            Ok(_) if own.is_some() => {
                Err(syn::Error::new_spanned(&attr, "#[profile] is given twice on this method"))
            }
            Ok(args) => {
                own = Some(args);
                Ok(())
            }
            Err(e) => Err(e),
        };
        if let Err(e) = result {
            match &mut error {
                None => error = Some(e),
                Some(all) => syn::Error::combine(all, e),
            }
        }
    }
    *attrs = kept;
    match error {
        Some(e) => Err(e),
        None => Ok(own),
    }
}

fn not_a_fn(token: &impl quote::ToTokens, what: &str) -> syn::Error {
    syn::Error::new_spanned(
        token,
        format!(
            "#[profile] can only be put on a function, an impl block or a trait, not on {what}"
        ),
    )
}
