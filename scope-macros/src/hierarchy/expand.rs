//! Writes the enum, its `Scope` implementation and its lookup macro from a
//! checked [`Model`].

use proc_macro2::{Ident, TokenStream};
use quote::{format_ident, quote};
use syn::Visibility;

use super::valid::Model;

pub(crate) fn expand(model: &Model<'_>) -> TokenStream {
    let input = model.input;
    let krate = &input.krate;
    let attrs = &input.attrs;
    let vis = &input.vis;
    let ident = &input.ident;
    let hierarchy = ident.to_string();
    let words = model.words();

    let variants: Vec<&Ident> = model.scopes.iter().map(|s| &s.variant).collect();
    let names: Vec<&str> = model.scopes.iter().map(|s| s.name.as_str()).collect();

    let variant_defs = model.scopes.iter().map(|s| {
        let variant = &s.variant;
        let summary = if s.description.is_empty() {
            format!(" Scope `{}`.", s.name)
        } else {
            format!(" {}\n\n Scope `{}`.", s.description, s.name)
        };
        let deprecated = s.deprecated.as_ref().map(|(since, note)| {
            let since = since.iter();
            let note = note.iter();
            quote!(#[deprecated(#(since = #since,)* #(note = #note)*)])
        });
        quote! {
            #[doc = #summary]
            #deprecated
            #variant
        }
    });

    let infos = model.scopes.iter().map(|s| {
        let variant = &s.variant;
        let name = &s.name;
        let description = &s.description;
        let parent = match s.parent {
            Some(p) => {
                let p = &model.scopes[p].variant;
                quote!(::core::option::Option::Some(#ident::#p))
            }
            None => quote!(::core::option::Option::None),
        };
        let expands_to = s.expands_to.iter().map(|&t| &model.scopes[t].variant);
        let deprecated = match &s.deprecated {
            Some((since, note)) => {
                let since = option_str(since.as_ref().map(syn::LitStr::value));
                let note = option_str(note.as_ref().map(syn::LitStr::value));
                quote!(::core::option::Option::Some(
                    #krate::Deprecation::__new(#since, #note)
                ))
            }
            None => quote!(::core::option::Option::None),
        };
        let is_default = s.default;
        quote! {
            #krate::ScopeInfo::__new(
                #ident::#variant, #name, #description, #parent,
                &[#(#ident::#expands_to),*], #deprecated, #is_default,
            )
        }
    });

    let bits = |set: &mut dyn Iterator<Item = usize>| {
        let mut w = vec![0u64; words];
        for i in set {
            w[i / 64] |= 1 << (i % 64);
        }
        quote!([#(#w),*])
    };
    let n = model.scopes.len();
    let implies = (0..n).map(|i| bits(&mut (0..n).filter(|&j| model.implies[i][j])));
    let granted_by = (0..n).map(|j| bits(&mut (0..n).filter(|&i| model.implies[i][j])));
    let default = bits(&mut (0..n).filter(|&i| model.scopes[i].default));

    let roots = model
        .scopes
        .iter()
        .filter(|s| s.parent.is_none())
        .map(|s| s.name.as_str());
    let groups: Vec<&str> = model.groups.iter().map(|g| g.name.as_str()).collect();
    let group_members = model.groups.iter().map(|g| {
        let members = g.members.iter().map(|&m| model.scopes[m].name.as_str());
        quote!([#(#members),*])
    });

    let index_body = if variants.is_empty() {
        quote!(match self {})
    } else {
        quote!(self as usize)
    };

    // The lookup macro. A `pub` hierarchy's is `#[macro_export]`ed (at the
    // crate root, under a name unique to this tree) and re-exported beside
    // the enum under the enum's name by a single-segment `use`, so that
    // `use other_crate::Scope;` or `hierarchy = other_crate::Scope` brings
    // both, and `scope!` and `#[requires_scope]` check names in every crate
    // that depends on the declaring one. (A macro-expanded exported macro
    // may not be named by a multi-segment path in its own crate,
    // rust-lang/rust#52234; the `use` below names it by one segment.)
    // Other visibilities keep a crate-local `macro_rules!`.
    let exported = matches!(vis, Visibility::Public(_));
    let (macro_name, export) = if exported {
        // The site, and the order of this expansion among the process's
        // (two expansions of one `macro_rules!` that writes a fixed name
        // share a site).
        static EXPANSIONS: std::sync::atomic::AtomicU64 = std::sync::atomic::AtomicU64::new(0);
        let nth = EXPANSIONS.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
        let unique = fingerprint(&format!("{}#{nth}", site(ident)), &hierarchy, &names);
        (
            format_ident!("__scope_hierarchy_{}_{:016x}", ident, unique),
            quote!(#[macro_export]),
        )
    } else {
        (format_ident!("__scope_hierarchy_{}", ident), quote!())
    };
    let macro_vis = vis;

    quote! {
        #(#attrs)*
        #[derive(
            ::core::clone::Clone, ::core::marker::Copy, ::core::cmp::PartialEq,
            ::core::cmp::Eq, ::core::cmp::PartialOrd, ::core::cmp::Ord,
            ::core::hash::Hash, ::core::fmt::Debug,
        )]
        #vis enum #ident {
            #(#variant_defs,)*
        }

        #[allow(deprecated)]
        impl #ident {
            /// The full scope name, e.g. `"read:playlists"`.
            pub const fn name(self) -> &'static str {
                match self {
                    #(#ident::#variants => #names,)*
                }
            }
        }

        impl #krate::__private::Sealed for #ident {}

        // Variants are named through the enum's path, never `Self::`, so a
        // scope such as `bits` (variant `Bits`) cannot clash with an
        // associated item.
        #[allow(deprecated)]
        impl #krate::Scope for #ident {
            type Bits = [u64; #words];
            const HIERARCHY: &'static str = #hierarchy;
            const ALL: &'static [#ident] = &[#(#ident::#variants),*];
            const INFO: &'static [#krate::ScopeInfo<#ident>] = &[#(#infos),*];
            const GROUPS: &'static [&'static str] = &[#(#groups),*];
            const IMPLIES: &'static [[u64; #words]] = &[#(#implies),*];
            const GRANTED_BY: &'static [[u64; #words]] = &[#(#granted_by),*];
            const DEFAULT: [u64; #words] = #default;

            #[inline]
            fn index(self) -> usize {
                #index_body
            }

            fn from_name(name: &str) -> ::core::option::Option<#ident> {
                match name {
                    #(#names => ::core::option::Option::Some(#ident::#variants),)*
                    _ => ::core::option::Option::None,
                }
            }
        }

        impl ::core::fmt::Display for #ident {
            fn fmt(&self, f: &mut ::core::fmt::Formatter<'_>) -> ::core::fmt::Result {
                f.write_str(#ident::name(*self))
            }
        }

        impl ::core::str::FromStr for #ident {
            type Err = #krate::ParseScopeError;

            fn from_str(s: &str) -> ::core::result::Result<#ident, #krate::ParseScopeError> {
                <#ident as #krate::Scope>::from_name(s).ok_or_else(|| {
                    #krate::ParseScopeError::unknown(s, #hierarchy)
                })
            }
        }

        #[doc(hidden)]
        #[allow(unused_macros)]
        #export
        macro_rules! #macro_name {
            (@resolve [$($path:tt)*] $($name:tt)*) => {
                #krate::__private::__resolve_scope! {
                    hierarchy = #hierarchy,
                    path = [$($path)*],
                    scopes = [#(#names => #variants),*],
                    roots = [#(#roots),*],
                    groups = [#(#groups => #group_members),*],
                    name = $($name)*
                }
            };
        }
        #[doc(hidden)]
        #[allow(unused_imports)]
        #macro_vis use #macro_name as #ident;
    }
}

/// Where the hierarchy's name was written (file, line, column): two `pub`
/// hierarchies of one crate, even with the same name and scopes (in two
/// test modules, say), were written in two places.
fn site(ident: &Ident) -> String {
    if !proc_macro::is_available() {
        return String::new();
    }
    let span = ident.span().unwrap();
    format!("{}:{}:{}", span.file(), span.line(), span.column())
}

/// A name for an exported lookup macro: unique to the declaration's site
/// and tree (FNV-1a: stable across builds of the same source).
fn fingerprint(site: &str, hierarchy: &str, names: &[&str]) -> u64 {
    let mut hash: u64 = 0xcbf2_9ce4_8422_2325;
    for part in [site, hierarchy].into_iter().chain(names.iter().copied()) {
        for byte in part.bytes().chain([0]) {
            hash ^= u64::from(byte);
            hash = hash.wrapping_mul(0x0100_0000_01b3);
        }
    }
    hash
}

fn option_str(value: Option<String>) -> TokenStream {
    match value {
        Some(v) => quote!(::core::option::Option::Some(#v)),
        None => quote!(::core::option::Option::None),
    }
}
