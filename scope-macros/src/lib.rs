//! Procedural macros of [`scope-runtime`](https://docs.rs/scope-runtime).
//!
//! Depend on `scope-runtime`, which re-exports these macros with their
//! documentation; the generated code names `::scope_runtime` items.
//!
//! Each entry point parses its input and hands off to one module; errors
//! become tokens in one place, so a mistake in the input is a compile error
//! pointing at the tokens that caused it, never a panic.

mod ctxt;
mod hierarchy;
mod requires_scope;
mod resolve;
mod routes;
mod suggest;

use proc_macro::TokenStream;
use syn::parse::ParseStream;

/// The runtime crate's path: a leading `[$crate]` that scope-runtime's
/// `macro_rules!` wrappers pass, so generated code works whatever name the
/// user's `Cargo.toml` gives the dependency; `::scope_runtime` without it.
fn krate(input: ParseStream<'_>) -> syn::Result<proc_macro2::TokenStream> {
    if input.peek(syn::token::Bracket) {
        let content;
        syn::bracketed!(content in input);
        content.parse()
    } else {
        Ok(quote::quote!(::scope_runtime))
    }
}

/// Declares a scope hierarchy. Documented in `scope_runtime::scope_hierarchy`.
#[proc_macro]
pub fn scope_hierarchy(input: TokenStream) -> TokenStream {
    syn::parse(input)
        .map(hierarchy::expand)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Declares the scopes an axum handler requires. Documented in
/// `scope_runtime::requires_scope`.
#[proc_macro_attribute]
pub fn requires_scope(args: TokenStream, item: TokenStream) -> TokenStream {
    match syn::parse(args) {
        Ok(args) => requires_scope::expand(args, item.into()).into(),
        Err(error) => {
            // Keep the handler so the rest of the crate still compiles.
            let mut out = error.into_compile_error();
            out.extend(proc_macro2::TokenStream::from(item));
            out.into()
        }
    }
}

/// Declares a route table and its router. Documented in
/// `scope_runtime::scope_routes`.
#[proc_macro]
pub fn scope_routes(input: TokenStream) -> TokenStream {
    syn::parse(input)
        .map(routes::expand)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}

/// Looks a scope name up in a hierarchy's table at compile time.
///
/// Called by the hidden macro that `scope_hierarchy!` defines next to each
/// hierarchy (and so by `scope!`); not public API.
#[doc(hidden)]
#[proc_macro]
pub fn __resolve_scope(input: TokenStream) -> TokenStream {
    syn::parse(input)
        .map(resolve::expand)
        .unwrap_or_else(syn::Error::into_compile_error)
        .into()
}
