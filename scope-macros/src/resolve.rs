//! Compile-time lookup of a scope name in one hierarchy.
//!
//! `scope_hierarchy!` cannot leave state behind for later macros, so it
//! defines, next to the enum, a `macro_rules!` macro of the same name that
//! carries the hierarchy's name table and forwards to this one with the
//! name being looked up. The result is the enum variant, spanned at the
//! literal, or a compile error on the literal with a suggestion.

use proc_macro2::{Span, TokenStream};
use quote::{ToTokens, quote};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Ident, Lit, LitStr, Token, bracketed};

use crate::suggest;

pub(crate) struct Input {
    hierarchy: LitStr,
    path: TokenStream,
    scopes: Vec<(LitStr, Ident)>,
    roots: Vec<LitStr>,
    groups: Vec<(LitStr, Vec<LitStr>)>,
    name: Lit,
}

fn key(input: ParseStream<'_>, expected: &str) -> syn::Result<()> {
    let ident: Ident = input.parse()?;
    if ident != expected {
        return Err(syn::Error::new(
            ident.span(),
            format_args!("expected `{expected}`"),
        ));
    }
    input.parse::<Token![=]>()?;
    Ok(())
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        key(input, "hierarchy")?;
        let hierarchy = input.parse()?;
        input.parse::<Token![,]>()?;

        key(input, "path")?;
        let content;
        bracketed!(content in input);
        let path = content.parse()?;
        input.parse::<Token![,]>()?;

        key(input, "scopes")?;
        let content;
        bracketed!(content in input);
        let scopes =
            Punctuated::<(LitStr, Ident), Token![,]>::parse_terminated_with(&content, |p| {
                let name = p.parse()?;
                p.parse::<Token![=>]>()?;
                Ok((name, p.parse()?))
            })?
            .into_iter()
            .collect();
        input.parse::<Token![,]>()?;

        key(input, "roots")?;
        let content;
        bracketed!(content in input);
        let roots = Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?
            .into_iter()
            .collect();
        input.parse::<Token![,]>()?;

        key(input, "groups")?;
        let content;
        bracketed!(content in input);
        let groups =
            Punctuated::<(LitStr, Vec<LitStr>), Token![,]>::parse_terminated_with(&content, |p| {
                let name = p.parse()?;
                p.parse::<Token![=>]>()?;
                let members;
                bracketed!(members in p);
                let members = Punctuated::<LitStr, Token![,]>::parse_terminated(&members)?;
                Ok((name, members.into_iter().collect()))
            })?
            .into_iter()
            .collect();
        input.parse::<Token![,]>()?;

        key(input, "name")?;
        let name = input.parse()?;
        Ok(Self {
            hierarchy,
            path,
            scopes,
            roots,
            groups,
            name,
        })
    }
}

pub(crate) fn expand(input: Input) -> TokenStream {
    let hierarchy = input.hierarchy.value();
    let path = &input.path;
    let lit = match &input.name {
        Lit::Str(lit) => lit,
        other => {
            let message = format!(
                "expected a string literal naming a scope of {hierarchy}, e.g. \"{}\"",
                input
                    .scopes
                    .first()
                    .map_or(String::new(), |(n, _)| n.value())
            );
            return fallback(&input, other.span(), &message);
        }
    };
    let wanted = lit.value();

    if let Some((_, variant)) = input.scopes.iter().find(|(n, _)| n.value() == wanted) {
        let mut variant = variant.clone();
        // Point uses (and deprecation warnings) at the literal.
        variant.set_span(lit.span());
        return quote!(#path::#variant);
    }

    let message = if let Some((_, members)) = input.groups.iter().find(|(n, _)| n.value() == wanted)
    {
        let members: Vec<String> = members.iter().map(LitStr::value).collect();
        let members: Vec<&str> = members.iter().map(String::as_str).collect();
        format!(
            "\"{wanted}\" is a group of scopes in {hierarchy}, not a scope that can be granted; name one of {}",
            suggest::quoted_list(&members, "or")
        )
    } else {
        let known: Vec<String> = input.scopes.iter().map(|(n, _)| n.value()).collect();
        let close = suggest::similar(&wanted, known.iter().map(String::as_str));
        if close.is_empty() {
            let roots: Vec<String> = input.roots.iter().map(LitStr::value).collect();
            let roots: Vec<&str> = roots.iter().map(String::as_str).collect();
            format!(
                "unknown scope \"{wanted}\" in {hierarchy}; its top-level scopes are {}",
                suggest::quoted_list(&roots, "and")
            )
        } else {
            format!(
                "unknown scope \"{wanted}\" in {hierarchy}; did you mean {}?",
                suggest::quoted_list(&close, "or")
            )
        }
    };
    fallback(&input, lit.span(), &message)
}

/// The error, followed by a value of the right type so the surrounding
/// code type-checks and no follow-on errors appear.
fn fallback(input: &Input, span: Span, message: &str) -> TokenStream {
    let error = syn::Error::new(span, message).into_compile_error();
    let path = &input.path;
    let value = match input.scopes.first() {
        Some((_, variant)) => quote!(#path::#variant),
        None => quote!(::core::panic!()),
    };
    let mut out = TokenStream::new();
    quote!({ #error #value }).to_tokens(&mut out);
    out
}
