//! Parsing `#[profile(...)]`'s arguments.

use syn::parse::{Parse, ParseStream};
use syn::{Expr, LitBool, LitStr, Path, Token};

/// The arguments, each at most once.
#[derive(Default)]
pub(crate) struct Args {
    pub(crate) name: Option<LitStr>,
    pub(crate) profiler: Option<Expr>,
    pub(crate) krate: Option<Path>,
    pub(crate) errors: Option<LitBool>,
}

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut args = Args::default();
        while !input.is_empty() {
            // `crate` is a keyword, so it is not an identifier: look for it first.
            if input.peek(Token![crate]) {
                let kw: Token![crate] = input.parse()?;
                input.parse::<Token![=]>()?;
                let path: Path = input.parse()?;
                if args.krate.replace(path).is_some() {
                    return Err(syn::Error::new_spanned(kw, "`crate` is given twice"));
                }
            } else {
                let key: syn::Ident = input.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "expected an argument: `name = \"...\"`, `profiler = <expr>`, \
                         `crate = <path>` or `errors = <bool>`",
                    )
                })?;
                input.parse::<Token![=]>()?;
                let twice = || syn::Error::new_spanned(&key, format!("`{key}` is given twice"));
                match key.to_string().as_str() {
                    "name" => {
                        let lit: LitStr = input.parse()?;
                        if lit.value().is_empty() {
                            return Err(syn::Error::new_spanned(lit, "the name must not be empty"));
                        }
                        if args.name.replace(lit).is_some() {
                            return Err(twice());
                        }
                    }
                    "profiler" => {
                        if args.profiler.replace(input.parse()?).is_some() {
                            return Err(twice());
                        }
                    }
                    "errors" => {
                        if args.errors.replace(input.parse()?).is_some() {
                            return Err(twice());
                        }
                    }
                    other => {
                        return Err(syn::Error::new_spanned(
                            &key,
                            format!(
                                "unknown argument `{other}`; expected `name`, `profiler`, \
                                 `crate` or `errors`"
                            ),
                        ));
                    }
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        Ok(args)
    }
}
