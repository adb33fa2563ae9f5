//! Parsing `#[profile(...)]`'s arguments.

use syn::parse::{Parse, ParseStream};
use syn::{Expr, Ident, LitBool, LitStr, Path, Token};

/// The arguments, each at most once.
#[derive(Default, Clone)]
pub(crate) struct Args {
    pub(crate) name: Option<LitStr>,
    pub(crate) profiler: Option<Expr>,
    pub(crate) krate: Option<Path>,
    pub(crate) errors: Option<LitBool>,
    /// `skip`: leave this function out (of a profiled `impl` block, or at all).
    pub(crate) skip: Option<Ident>,
}

impl Args {
    /// A method's own arguments over those of its `impl` block, argument by argument.
    pub(crate) fn over(self, block: &Args) -> Args {
        Args {
            name: self.name.or_else(|| block.name.clone()),
            profiler: self.profiler.or_else(|| block.profiler.clone()),
            krate: self.krate.or_else(|| block.krate.clone()),
            errors: self.errors.or_else(|| block.errors.clone()),
            skip: self.skip.or_else(|| block.skip.clone()),
        }
    }
}

const EXPECTED: &str = "expected `name`, `profiler`, `crate`, `errors` or `skip`";

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
                let key: Ident = input.parse().map_err(|e| {
                    syn::Error::new(
                        e.span(),
                        "expected an argument: `name = \"...\"`, `profiler = <expr>`, \
                         `crate = <path>`, `errors = <bool>` or `skip`",
                    )
                })?;
                let twice = || syn::Error::new_spanned(&key, format!("`{key}` is given twice"));
                if key == "skip" {
                    if args.skip.replace(key.clone()).is_some() {
                        return Err(twice());
                    }
                } else {
                    input.parse::<Token![=]>()?;
                    match key.to_string().as_str() {
                        "name" => {
                            let lit: LitStr = input.parse()?;
                            if lit.value().is_empty() {
                                return Err(syn::Error::new_spanned(
                                    lit,
                                    "the name must not be empty",
                                ));
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
                                format!("unknown argument `{other}`; {EXPECTED}"),
                            ));
                        }
                    }
                }
            }
            if input.is_empty() {
                break;
            }
            input.parse::<Token![,]>()?;
        }
        if let Some(skip) = &args.skip
            && (args.name.is_some()
                || args.profiler.is_some()
                || args.krate.is_some()
                || args.errors.is_some())
        {
            return Err(syn::Error::new_spanned(
                skip,
                "`skip` leaves the function out, so it takes no other argument",
            ));
        }
        Ok(args)
    }
}
