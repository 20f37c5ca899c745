//! `#[unik::main]`: marks the function a unikernel runs after boot.
//!
//! The attribute keeps the function as written and adds the one symbol the platform calls,
//! `__unik_app_main`, which runs it and turns its result into an exit status through
//! `unik::Termination`. An image without the attribute fails to link; `unik build`
//! explains that failure.
#![forbid(unsafe_code)]

use proc_macro::TokenStream;
use quote::quote;
use syn::spanned::Spanned;

/// Marks the application's entry: `fn main()`, `fn main() -> i32`, or
/// `fn main() -> Result<(), E>` with `E: Debug`. See the `unik` crate documentation.
#[proc_macro_attribute]
pub fn main(attr: TokenStream, item: TokenStream) -> TokenStream {
    expand(attr.into(), item.into())
        .unwrap_or_else(|e| e.to_compile_error())
        .into()
}

fn expand(attr: proc_macro2::TokenStream, item: proc_macro2::TokenStream) -> syn::Result<proc_macro2::TokenStream> {
    if !attr.is_empty() {
        return Err(syn::Error::new(attr.span(), "#[unik::main] takes no arguments"));
    }
    let function: syn::ItemFn = syn::parse2(item)
        .map_err(|e| syn::Error::new(e.span(), "#[unik::main] goes on a function: `fn main() { ... }`"))?;
    let signature = &function.sig;
    let problem = if !signature.inputs.is_empty() {
        Some((
            signature.inputs.span(),
            "the entry takes no parameters; read the command line with `unik::args()`",
        ))
    } else if !signature.generics.params.is_empty() || signature.generics.where_clause.is_some() {
        Some((signature.generics.span(), "the entry cannot be generic"))
    } else if let Some(asyncness) = &signature.asyncness {
        Some((asyncness.span(), "the entry cannot be `async`"))
    } else {
        signature
            .unsafety
            .as_ref()
            .map(|unsafety| (unsafety.span(), "the entry cannot be `unsafe`"))
    };
    if let Some((span, message)) = problem {
        return Err(syn::Error::new(span, message));
    }
    let name = &signature.ident;
    Ok(quote! {
        #function

        #[doc(hidden)]
        #[unsafe(export_name = "__unik_app_main")]
        fn __unik_app_main() -> i32 {
            ::unik::Termination::report(#name())
        }
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    fn error_of(attr: &str, item: &str) -> String {
        expand(attr.parse().unwrap(), item.parse().unwrap())
            .unwrap_err()
            .to_string()
    }

    #[test]
    fn accepts_a_plain_main_and_exports_the_entry() {
        let out = expand(
            quote!(),
            quote!(
                fn main() -> i32 {
                    0
                }
            ),
        )
        .unwrap()
        .to_string();
        assert!(out.contains("__unik_app_main"), "{out}");
        assert!(out.contains("Termination :: report (main ())"), "{out}");
    }

    #[test]
    fn rejects_what_cannot_be_an_entry() {
        assert!(error_of("", "fn main(x: u32) {}").contains("no parameters"));
        assert!(error_of("", "async fn main() {}").contains("async"));
        assert!(error_of("", "fn main<T>() {}").contains("generic"));
        assert!(error_of("x", "fn main() {}").contains("no arguments"));
        assert!(error_of("", "struct Main;").contains("goes on a function"));
    }
}
