//! `scope_routes!`: the route→scope table as a `const`, and the router
//! built from the same rows.
//!
//! ```text
//! input := attr* vis IDENT ("<" HIERARCHY ("," STATE)? ">")? "{" row,* "}"
//! row   := METHOD ("|" METHOD)* STRING "=>" PATH
//! ```
//!
//! Each row's declaration comes from the hidden item `#[requires_scope]`
//! wrote next to the handler: a handler without one does not compile (deny
//! by default), and a public route says so with `#[requires_scope(public)]`.

use std::collections::{BTreeMap, HashSet};

use proc_macro2::TokenStream;
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitStr, Path, Token, Type, Visibility, braced};

use crate::ctxt::Ctxt;

const METHODS: [(&str, &str); 7] = [
    ("GET", "Get"),
    ("HEAD", "Head"),
    ("POST", "Post"),
    ("PUT", "Put"),
    ("PATCH", "Patch"),
    ("DELETE", "Delete"),
    ("OPTIONS", "Options"),
];

pub(crate) struct Input {
    krate: TokenStream,
    attrs: Vec<Attribute>,
    vis: Visibility,
    ident: Ident,
    hierarchy: Option<Type>,
    state: Option<Type>,
    rows: Punctuated<Row, Token![,]>,
}

struct Row {
    methods: Vec<Ident>,
    path: LitStr,
    handler: Path,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let krate = crate::krate(input)?;
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        let ident = input.parse()?;
        let (mut hierarchy, mut state) = (None, None);
        if input.peek(Token![<]) {
            input.parse::<Token![<]>()?;
            hierarchy = Some(input.parse()?);
            if input.peek(Token![,]) {
                input.parse::<Token![,]>()?;
                state = Some(input.parse()?);
            }
            input.parse::<Token![>]>()?;
        }
        let content;
        braced!(content in input);
        let rows = content.parse_terminated(Row::parse, Token![,])?;
        Ok(Self {
            krate,
            attrs,
            vis,
            ident,
            hierarchy,
            state,
            rows,
        })
    }
}

impl Parse for Row {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let mut methods = vec![input.parse()?];
        while input.peek(Token![|]) {
            input.parse::<Token![|]>()?;
            methods.push(input.parse()?);
        }
        let path = input.parse()?;
        input.parse::<Token![=>]>()?;
        let handler = input.parse()?;
        Ok(Self {
            methods,
            path,
            handler,
        })
    }
}

pub(crate) fn expand(input: Input) -> TokenStream {
    let cx = Ctxt::new();
    let Input {
        krate: runtime,
        attrs,
        vis,
        ident,
        hierarchy,
        state,
        rows,
    } = &input;
    let axum = quote!(#runtime::__private::axum);
    let hierarchy = hierarchy
        .clone()
        .unwrap_or_else(|| syn::parse_quote_spanned!(ident.span()=> Scope));
    let state = state.clone().unwrap_or_else(|| syn::parse_quote!(()));

    // (method variant, path, handler, row index) for every valid row.
    let mut entries = Vec::new();
    let mut seen = HashSet::new();
    for row in rows {
        let path = row.path.value();
        if !path.starts_with('/') {
            cx.error_spanned_by(
                &row.path,
                format_args!("route paths start with `/`: \"/{path}\""),
            );
            continue;
        }
        if let Some(segment) = path.split('/').find(|s| s.starts_with(':')) {
            cx.error_spanned_by(
                &row.path,
                format_args!(
                    "`{segment}` is the old axum syntax; write `{{{}}}`",
                    segment.trim_start_matches(':')
                ),
            );
            continue;
        }
        // Two spellings of one route (`/a/{id}` and `/a/{x}`) would make
        // axum panic when the router is built; the table must not hold them.
        let shape = normalize(&path);
        for method in &row.methods {
            let name = method.to_string();
            let Some((_, variant)) = METHODS.iter().find(|(m, _)| *m == name) else {
                cx.error_spanned_by(
                    method,
                    format_args!(
                        "unknown method `{name}`; expected GET, HEAD, POST, PUT, PATCH, DELETE or OPTIONS"
                    ),
                );
                continue;
            };
            if !seen.insert((name.clone(), shape.clone())) {
                cx.error_spanned_by(
                    method,
                    format_args!(
                        "duplicate route `{name} {path}`: each method and path is routed once \
                         (whatever the parameter names)"
                    ),
                );
                continue;
            }
            entries.push((format_ident!("{}", variant), row));
        }
    }

    let marker = |handler: &Path| {
        let mut marker = handler.clone();
        if let Some(last) = marker.segments.last_mut() {
            last.ident = format_ident!("__requires_scope_{}", last.ident, span = last.ident.span());
            // `show::<Mem>` routes the generic handler; its marker is not generic.
            last.arguments = syn::PathArguments::None;
        }
        marker
    };

    let table = entries.iter().map(|(variant, row)| {
        let path = &row.path;
        let handler = &row.handler;
        let handler_name = quote!(#handler).to_string().replace(' ', "");
        let marker = marker(handler);
        quote_spanned! {handler.segments.last().map_or(ident.span(), |s| s.ident.span())=>
            #runtime::route::Route::__new(
                #runtime::route::Method::#variant,
                #path,
                #handler_name,
                <#marker as #runtime::route::ScopedHandler<#hierarchy>>::DECLARATION,
            )
        }
    });

    // Each handler checked against the table's state first, on its name:
    // the error says what to write (see `__private::RoutedWith`).
    let state_checks = entries.iter().map(|(_, row)| {
        let handler = &row.handler;
        let span = handler
            .segments
            .last()
            .map_or(ident.span(), |s| s.ident.span());
        quote_spanned! {span=>
            #runtime::__private::routed_with::<_, _, #state>(&#handler);
        }
    });

    // One axum route per path, its methods merged; each method behind the
    // enforcement layer of its own row.
    let mut by_path: BTreeMap<String, Vec<TokenStream>> = BTreeMap::new();
    let mut order = Vec::new();
    for (index, (variant, row)) in entries.iter().enumerate() {
        let path = row.path.value();
        let handler = &row.handler;
        if !by_path.contains_key(&path) {
            order.push(path.clone());
        }
        // `Handler::layer` wraps the handler itself, so the check runs
        // before its extractors and the service it clones per request is the
        // cheap handler service, not a boxed route.
        by_path.entry(path).or_default().push(quote! {
            #axum::routing::on(
                #runtime::route::Method::#variant.filter(),
                #axum::handler::Handler::layer(
                    #handler,
                    enforcer.layer(&<Self as #runtime::route::RouteTable>::ROUTES[#index]),
                ),
            )
        });
    }
    let routes = order.iter().map(|path| {
        let methods = &by_path[path];
        quote! {
            router = router.route(#path, #axum::routing::MethodRouter::new() #(.merge(#methods))*);
        }
    });

    let mut out = quote! {
        #(#attrs)*
        #[derive(Debug, Clone, Copy)]
        #vis struct #ident;

        impl #runtime::route::RouteTable for #ident {
            type Scope = #hierarchy;
            type State = #state;
            const ROUTES: &'static [#runtime::route::Route<#hierarchy>] = &[#(#table),*];

            fn router(enforcer: #runtime::enforce::Enforcer<#hierarchy>) -> #axum::Router<#state> {
                #(#state_checks)*
                let mut router = #axum::Router::<#state>::new();
                #(#routes)*
                router
            }
        }
    };
    if let Err(errors) = cx.check() {
        out.extend(errors.into_compile_error());
    }
    out
}

/// `/a/{id}/b` -> `/a/{}/b`: parameter names do not distinguish routes.
fn normalize(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with('{') && seg.ends_with('}') {
                "{}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}
