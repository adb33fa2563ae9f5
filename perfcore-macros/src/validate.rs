//! What `#[profile]` can be put on.

use syn::ItemFn;

/// Parses the annotated item as a function with a body, or says what is wrong with it.
pub(crate) fn function(item: proc_macro2::TokenStream) -> syn::Result<ItemFn> {
    let f: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            // Say what the item is, pointing at it.
            let what = match syn::parse2::<syn::Item>(item.clone()) {
                Ok(syn::Item::Struct(s)) => return Err(not_a_fn(&s.struct_token, "a struct")),
                Ok(syn::Item::Enum(e)) => return Err(not_a_fn(&e.enum_token, "an enum")),
                Ok(syn::Item::Const(c)) => return Err(not_a_fn(&c.const_token, "a const")),
                Ok(syn::Item::Static(s)) => return Err(not_a_fn(&s.static_token, "a static")),
                Ok(syn::Item::Impl(i)) => return Err(not_a_fn(&i.impl_token, "an impl block")),
                Ok(syn::Item::Trait(t)) => return Err(not_a_fn(&t.trait_token, "a trait")),
                Ok(syn::Item::Mod(m)) => return Err(not_a_fn(&m.mod_token, "a module")),
                _ => "this item",
            };
            if let Ok(sig) = syn::parse2::<syn::TraitItemFn>(item.clone()) {
                return Err(syn::Error::new_spanned(
                    sig.sig,
                    "#[profile] needs a function body; put it on the implementations instead",
                ));
            }
            return Err(syn::Error::new_spanned(
                item,
                format!("#[profile] can only be put on a function, not on {what}"),
            ));
        }
    };
    if let Some(c) = &f.sig.constness {
        return Err(syn::Error::new_spanned(
            c,
            "#[profile] cannot profile a `const fn`: it reads the clock at run time",
        ));
    }
    Ok(f)
}

fn not_a_fn(token: &impl quote::ToTokens, what: &str) -> syn::Error {
    syn::Error::new_spanned(
        token,
        format!("#[profile] can only be put on a function, not on {what}"),
    )
}
