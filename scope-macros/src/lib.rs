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
mod resolve;
mod suggest;

use proc_macro::TokenStream;

/// Declares a scope hierarchy. Documented in `scope_runtime::scope_hierarchy`.
#[proc_macro]
pub fn scope_hierarchy(input: TokenStream) -> TokenStream {
    syn::parse(input)
        .map(hierarchy::expand)
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
