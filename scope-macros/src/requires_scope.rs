//! `#[requires_scope(...)]`: attaches a scope declaration to an axum
//! handler without touching the handler.
//!
//! The handler is emitted unchanged. Next to it goes a hidden unit struct
//! `__requires_scope_<handler>` implementing `ScopedHandler`, whose
//! declaration names scopes through the hierarchy's lookup macro, so every
//! scope literal is checked at compile time with the hierarchy's errors and
//! suggestions. `scope_routes!` finds the struct from the handler's path.
//!
//! ```text
//! args  := arg,*
//! arg   := STRING | any(STRING,*) | all(STRING,*) | resource = STRING
//!        | public | authenticated
//!        | token = (any|user|app|optional|setting) | throttle = STRING
//!        | hierarchy = PATH
//!        | stream = (sse|websocket)
//!        | channel = PATH     (a `scope_channels!` channel: its scopes and token kind)
//!        | channels = PATH    (a `scope_channels!` table, chosen at run time)
//!        | crate = PATH   (the runtime crate, if not `::scope_runtime`)
//! ```

use proc_macro2::{Span, TokenStream};
use quote::{format_ident, quote, quote_spanned};
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::spanned::Spanned;
use syn::{Ident, ItemFn, LitStr, Path, Token, parenthesized};

use crate::ctxt::Ctxt;

/// What the scope of the handler is.
enum Rule {
    Scope(LitStr),
    Any(Ident, Vec<LitStr>),
    All(Ident, Vec<LitStr>),
    Resource(LitStr),
    Public(Ident),
    /// Any valid token, whatever its scopes.
    Authenticated(Ident),
}

enum Arg {
    Rule(Rule),
    Token(Ident, Ident),
    Throttle(LitStr),
    Hierarchy(Path),
    Crate(Path),
    Stream(Ident, Ident),
    Channel(Ident, Path),
    Channels(Ident, Path),
}

impl Parse for Arg {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        if input.peek(LitStr) {
            return Ok(Self::Rule(Rule::Scope(input.parse()?)));
        }
        if input.peek(Token![crate]) {
            input.parse::<Token![crate]>()?;
            input.parse::<Token![=]>()?;
            return Ok(Self::Crate(input.parse()?));
        }
        let key: Ident = input.parse()?;
        let list = |input: ParseStream<'_>| -> syn::Result<Vec<LitStr>> {
            let content;
            parenthesized!(content in input);
            Ok(Punctuated::<LitStr, Token![,]>::parse_terminated(&content)?
                .into_iter()
                .collect())
        };
        match key.to_string().as_str() {
            "any" => Ok(Self::Rule(Rule::Any(key, list(input)?))),
            "all" => Ok(Self::Rule(Rule::All(key, list(input)?))),
            "public" => Ok(Self::Rule(Rule::Public(key))),
            "authenticated" => Ok(Self::Rule(Rule::Authenticated(key))),
            "throttle" => {
                input.parse::<Token![=]>()?;
                Ok(Self::Throttle(input.parse()?))
            }
            "resource" => {
                input.parse::<Token![=]>()?;
                Ok(Self::Rule(Rule::Resource(input.parse()?)))
            }
            "token" => {
                input.parse::<Token![=]>()?;
                // `any` is an identifier; accept every keyword spelling.
                let kind = syn::ext::IdentExt::parse_any(input)?;
                Ok(Self::Token(key, kind))
            }
            "hierarchy" => {
                input.parse::<Token![=]>()?;
                Ok(Self::Hierarchy(input.parse()?))
            }
            "stream" => {
                input.parse::<Token![=]>()?;
                Ok(Self::Stream(key, input.parse()?))
            }
            "channel" => {
                input.parse::<Token![=]>()?;
                Ok(Self::Channel(key, input.parse()?))
            }
            "channels" => {
                input.parse::<Token![=]>()?;
                Ok(Self::Channels(key, input.parse()?))
            }
            _ => Err(syn::Error::new(
                key.span(),
                format_args!(
                    "unknown argument `{key}`; expected a scope string, `any(..)`, `all(..)`, \
                     `resource = \"..\"`, `public`, `authenticated`, `token = ..`, `throttle = \"..\"`, \
                     `stream = ..`, `channel = ..`, `channels = ..`, `hierarchy = ..` or `crate = ..`"
                ),
            )),
        }
    }
}

pub(crate) struct Args(Punctuated<Arg, Token![,]>);

impl Parse for Args {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        Ok(Self(Punctuated::parse_terminated(input)?))
    }
}

/// Every `token = ...` keyword (the one list the macro knows them from):
/// the variant of `scope_runtime::route::Access` it stands for, and whether
/// a request must carry a token.
const TOKEN_KINDS: &[(&str, &str, bool)] = &[
    ("required", "Required", true),
    ("user", "User", true),
    ("app", "App", true),
    ("optional", "Optional", false),
    ("setting", "Setting", false),
];

/// The entry of [`TOKEN_KINDS`] for `kind`.
fn token_kind(kind: &Ident) -> Option<&'static (&'static str, &'static str, bool)> {
    let kind = kind.to_string();
    TOKEN_KINDS.iter().find(|(name, ..)| *name == kind)
}

/// "`required`, `user`, ... or `setting`", for error messages.
fn token_kind_list(names: impl Iterator<Item = &'static str>) -> String {
    crate::suggest::marked_list(&names.collect::<Vec<_>>(), "`", "or")
}

pub(crate) fn expand(args: Args, item: TokenStream) -> TokenStream {
    let function: ItemFn = match syn::parse2(item.clone()) {
        Ok(f) => f,
        Err(_) => {
            let error = syn::Error::new(
                Span::call_site(),
                "`#[requires_scope]` goes on an `async fn` axum handler",
            );
            let mut out = error.into_compile_error();
            out.extend(item);
            return out;
        }
    };
    let cx = Ctxt::new();
    let declaration = declaration(&cx, args, &function);
    let mut out = quote!(#function);
    if let Some(declaration) = declaration {
        out.extend(declaration);
    }
    if let Err(errors) = cx.check() {
        out.extend(errors.into_compile_error());
    }
    out
}

/// The hidden struct and its `ScopedHandler` impl, or `None` if the
/// arguments are wrong (errors are in `cx`).
fn declaration(cx: &Ctxt, args: Args, function: &ItemFn) -> Option<TokenStream> {
    if let Some(receiver) = function.sig.receiver() {
        cx.error_spanned_by(
            receiver,
            "`#[requires_scope]` goes on free `async fn` handlers, not on methods: \
             the declaration it adds next to the handler is an item, which an `impl` cannot hold",
        );
        return None;
    }
    if function.sig.asyncness.is_none() {
        cx.error_spanned_by(
            function.sig.fn_token,
            "`#[requires_scope]` goes on an `async fn` axum handler; add `async`",
        );
    }

    let mut rule: Option<Rule> = None;
    let mut token: Option<(Ident, Ident)> = None;
    let mut hierarchy: Option<Path> = None;
    let mut krate: Option<Path> = None;
    let mut throttle: Option<LitStr> = None;
    let mut stream: Option<(Ident, Ident)> = None;
    let mut channel: Option<(Ident, Path)> = None;
    let mut channels: Option<(Ident, Path)> = None;
    for arg in args.0 {
        match arg {
            Arg::Rule(r) => {
                if let Some(first) = &rule {
                    let keyword = |rule: &Rule| match rule {
                        Rule::Public(_) => Some("public"),
                        Rule::Authenticated(_) => Some("authenticated"),
                        _ => None,
                    };
                    let message = if let (Some(a), Some(b)) = (keyword(first), keyword(&r)) {
                        if a == b {
                            format!("`{a}` is given twice; write it once")
                        } else {
                            "`public` and `authenticated` contradict each other: a public route \
                             needs no token, an authenticated one a valid token; keep one"
                                .to_owned()
                        }
                    } else if matches!(first, Rule::Public(_)) || matches!(r, Rule::Public(_)) {
                        "a `public` route takes no scope; for a public route whose scopes are \
                         checked when a token is sent, write the scope and `token = optional`"
                            .to_owned()
                    } else if matches!(first, Rule::Authenticated(_))
                        || matches!(r, Rule::Authenticated(_))
                    {
                        "`authenticated` takes no scope: a route with a scope already needs a \
                             valid token carrying it; drop `authenticated`"
                            .to_owned()
                    } else {
                        format!(
                            "a handler has one scope requirement, and this one already has {}; \
                             combine scopes with `any(..)` or `all(..)`",
                            describe(first)
                        )
                    };
                    cx.syn_error(syn::Error::new(rule_span(&r), message));
                } else {
                    rule = Some(r);
                }
            }
            Arg::Token(key, kind) => {
                if let Some((_, first)) = &token {
                    cx.error_spanned_by(
                        &kind,
                        format_args!("conflicting token kinds: `token = {first}` is already given"),
                    );
                } else if kind == "any" {
                    cx.error_spanned_by(
                        &kind,
                        "`token = any` is now `token = required` (any valid token, user or app; \
                         it is the default); `any(..)` is the scope combinator",
                    );
                } else if token_kind(&kind).is_none() {
                    let expected = token_kind_list(TOKEN_KINDS.iter().map(|(name, ..)| *name));
                    cx.error_spanned_by(
                        &kind,
                        format_args!("unknown token kind `{kind}`; expected {expected}"),
                    );
                } else {
                    token = Some((key, kind));
                }
            }
            Arg::Throttle(name) => {
                let value = name.value();
                if throttle.is_some() {
                    cx.error_spanned_by(&name, "`throttle` is given twice");
                } else if value.is_empty()
                    || !value
                        .bytes()
                        .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || b == b'-')
                {
                    cx.error_spanned_by(
                        &name,
                        format_args!(
                            "invalid throttling scope {value:?}: use lowercase letters, digits and `-` \
                             (e.g. `throttle = \"oauth-app\"`)"
                        ),
                    );
                } else {
                    throttle = Some(name);
                }
            }
            Arg::Crate(path) => {
                if krate.is_some() {
                    cx.error_spanned_by(&path, "`crate` is given twice");
                } else {
                    krate = Some(path);
                }
            }
            Arg::Stream(key, kind) => {
                if stream.is_some() {
                    cx.error_spanned_by(&key, "`stream` is given twice");
                } else if stream_kind(&kind).is_none() {
                    cx.error_spanned_by(
                        &kind,
                        format_args!("unknown stream kind `{kind}`; expected `sse` or `websocket`"),
                    );
                } else {
                    stream = Some((key, kind));
                }
            }
            Arg::Channel(key, path) | Arg::Channels(key, path) => {
                if channel.is_some() || channels.is_some() {
                    cx.error_spanned_by(
                        &key,
                        "a stream route names its channel once: `channel = ..` (one channel) \
                         or `channels = ..` (a table, chosen at run time)",
                    );
                } else if key == "channel" {
                    channel = Some((key, path));
                } else {
                    channels = Some((key, path));
                }
            }
            Arg::Hierarchy(path) => {
                if hierarchy.is_some() {
                    cx.error_spanned_by(&path, "`hierarchy` is given twice");
                } else {
                    hierarchy = Some(path);
                }
            }
        }
    }

    if stream.is_some() && !takes_watch(function) {
        cx.error_spanned_by(
            &function.sig.ident,
            format_args!(
                "the stream handler `{}` takes no `Watch`: add a `watch: Watch<Scope>` parameter \
                 (`Option<Watch<Scope>>` on an optional route) and end the stream with it \
                 (`watch.until(events)`, or `watch.ended()` in a WebSocket loop); without it the \
                 stream would be checked only when it opens, never when its token is revoked",
                function.sig.ident
            ),
        );
    }
    if let Some((key, _)) = channel.as_ref().or(channels.as_ref())
        && stream.is_none()
    {
        cx.error_spanned_by(
            key,
            format_args!(
                "`{key}` is for stream routes: add `stream = sse` or `stream = websocket`"
            ),
        );
        return None;
    }
    if let Some((_, path)) = &channel {
        if let Some(rule) = &rule {
            cx.syn_error(syn::Error::new(
                rule_span(rule),
                format!(
                    "a `channel` route takes its scopes from the channel's declaration; \
                     drop {} (the channel `{}` declares them)",
                    describe(rule),
                    quote!(#path).to_string().replace(' ', "")
                ),
            ));
        }
        if let Some((_, kind)) = &token {
            cx.error_spanned_by(
                kind,
                "a `channel` route takes its token kind from the channel's declaration; \
                 drop `token = ..` (or write it in `scope_channels!`)",
            );
        }
        let krate = krate.map_or_else(|| quote!(::scope_runtime), |path| quote!(#path));
        return Some(channel_declaration(
            function,
            &krate,
            hierarchy,
            path,
            stream.as_ref().map(|(_, k)| k),
            &throttle,
        ));
    }
    let Some(rule) = rule else {
        cx.error_spanned_by(
            &function.sig.ident,
            "`#[requires_scope]` needs a scope: `#[requires_scope(\"read:statuses\")]`, \
             `any(..)`, `all(..)` or `resource = \"..\"`; `#[requires_scope(authenticated)]` for any \
             valid token; or `#[requires_scope(public)]`",
        );
        return None;
    };
    if let (Rule::Public(public), Some(_)) = (&rule, &stream) {
        cx.error_spanned_by(
            public,
            "a `public` route reads no token, so its stream's `Watch` could never be had: \
             for a stream anyone may open whose token is checked when sent, write the scope \
             and `token = optional` (and take `Option<Watch<Scope>>`); for any valid token, \
             `authenticated`",
        );
    }
    if let (Rule::Public(public), Some((_, kind))) = (&rule, &token) {
        cx.error_spanned_by(
            kind,
            format_args!(
                "conflicting token kinds: `{public}` needs no token; for a public route whose \
                 scopes are checked when a token is sent, write the scope and `token = optional`"
            ),
        );
    }
    if let (Rule::Authenticated(_), Some((_, kind))) = (&rule, &token)
        && token_kind(kind).is_some_and(|(_, _, needs_token)| !needs_token)
    {
        let needing = token_kind_list(
            TOKEN_KINDS
                .iter()
                .filter(|(_, _, needs_token)| *needs_token)
                .map(|(name, ..)| *name),
        );
        cx.error_spanned_by(
            kind,
            format_args!(
                "conflicting token kinds: `authenticated` needs a valid token, and \
                 `token = {kind}` lets requests without one through; use {needing}, \
                 or `#[requires_scope(public)]` for a route that needs no token"
            ),
        );
    }
    if let Rule::Any(key, list) | Rule::All(key, list) = &rule
        && list.is_empty()
    {
        cx.error_spanned_by(key, format_args!("`{key}(..)` needs at least one scope"));
    }

    let krate = krate.map_or_else(|| quote!(::scope_runtime), |path| quote!(#path));
    let runtime = quote!(#krate::route);
    let fn_name = &function.sig.ident;
    let summary = summary(function);
    let throttle = throttle_tokens(&throttle);
    let hierarchy = hierarchy.unwrap_or_else(|| syn::parse_quote_spanned!(fn_name.span()=> Scope));
    let resolve =
        |lit: &LitStr| quote_spanned!(lit.span()=> #hierarchy! { @resolve [#hierarchy] #lit });

    let stream = match &stream {
        Some((_, kind)) => {
            let variant = Ident::new(stream_kind(kind).unwrap_or("Sse"), kind.span());
            let table = match &channels {
                Some((_, path)) => quote!(<#path as #krate::stream::ChannelTable>::CHANNELS),
                None => quote!(&[]),
            };
            quote!(.__stream(#krate::stream::StreamKind::#variant, #table))
        }
        None => quote!(),
    };
    let access = match &token {
        Some((_, kind)) => {
            let variant = token_kind(kind).map_or("Required", |(_, variant, _)| variant);
            let variant = Ident::new(variant, kind.span());
            quote!(#runtime::Access::#variant)
        }
        None if matches!(rule, Rule::Public(_)) => quote!(#runtime::Access::Public),
        None => quote!(#runtime::Access::Required),
    };

    // Scope-free rules hold for every hierarchy, unless the route names a
    // table of channels, whose hierarchy it is then.
    if let Rule::Public(_) | Rule::Authenticated(_) = rule {
        let (generics, hierarchy) = match &channels {
            Some((_, path)) => (
                quote!(),
                quote!(<#path as #krate::stream::ChannelTable>::Scope),
            ),
            None => (quote!(<S: #krate::Scope>), quote!(S)),
        };
        let declaration = quote! {
            #runtime::HandlerScope::__new(
                #runtime::ScopeRule::Fixed(#runtime::Requirement::None),
                #access,
                #throttle,
                #summary,
            )#stream
        };
        return Some(marker_item(
            function,
            &runtime,
            &generics,
            &hierarchy,
            &declaration,
        ));
    }

    let rule = match &rule {
        Rule::Scope(lit) => {
            let s = resolve(lit);
            quote!(#runtime::ScopeRule::Fixed(#runtime::Requirement::Scope(#s)))
        }
        Rule::Any(_, list) => {
            let s = list.iter().map(resolve);
            quote!(#runtime::ScopeRule::Fixed(#runtime::Requirement::AnyOf(&[#(#s),*])))
        }
        Rule::All(_, list) => {
            let s = list.iter().map(resolve);
            quote!(#runtime::ScopeRule::Fixed(#runtime::Requirement::AllOf(&[#(#s),*])))
        }
        Rule::Resource(lit) => {
            let read = resolve(&LitStr::new(&format!("read:{}", lit.value()), lit.span()));
            let write = resolve(&LitStr::new(&format!("write:{}", lit.value()), lit.span()));
            quote!(#runtime::ScopeRule::Resource { read: #read, write: #write })
        }
        Rule::Public(_) | Rule::Authenticated(_) => unreachable!("handled above"),
    };
    let declaration = quote! {
        #runtime::HandlerScope::__new(#rule, #access, #throttle, #summary)#stream
    };
    Some(marker_item(
        function,
        &runtime,
        &quote!(),
        &quote!(#hierarchy),
        &declaration,
    ))
}

/// The hidden marker `scope_routes!` finds next to the handler
/// (`__requires_scope_<fn>`, under the handler's `cfg`s, so that it exists
/// exactly when the handler does) and its `ScopedHandler` impl with
/// `declaration`: the one writer of both, whatever the rule.
fn marker_item(
    function: &ItemFn,
    runtime: &TokenStream,
    generics: &TokenStream,
    hierarchy: &TokenStream,
    declaration: &TokenStream,
) -> TokenStream {
    let vis = &function.vis;
    let fn_name = &function.sig.ident;
    let marker = format_ident!("__requires_scope_{}", fn_name, span = fn_name.span());
    let cfgs = function.attrs.iter().filter(|a| a.path().is_ident("cfg"));
    let cfgs_again = cfgs.clone();
    quote! {
        #(#cfgs)*
        #[doc(hidden)]
        #[allow(non_camel_case_types)]
        #vis struct #marker;

        #(#cfgs_again)*
        impl #generics #runtime::ScopedHandler<#hierarchy> for #marker {
            const DECLARATION: #runtime::HandlerScope<#hierarchy> = #declaration;
        }
    }
}

/// `Some("..")` or `None`: the declared throttling bucket as an expression.
fn throttle_tokens(throttle: &Option<LitStr>) -> TokenStream {
    match throttle {
        Some(name) => quote!(::core::option::Option::Some(#name)),
        None => quote!(::core::option::Option::None),
    }
}

/// Whether a parameter of the handler is a `Watch` (or holds one, as
/// `Option<Watch<_>>`): read from the tokens of the parameter types.
fn takes_watch(function: &ItemFn) -> bool {
    fn mentions(tokens: TokenStream) -> bool {
        tokens.into_iter().any(|tt| match tt {
            proc_macro2::TokenTree::Ident(ident) => ident == "Watch",
            proc_macro2::TokenTree::Group(group) => mentions(group.stream()),
            _ => false,
        })
    }
    function.sig.inputs.iter().any(|input| match input {
        syn::FnArg::Typed(pat) => mentions(quote!(#pat)),
        syn::FnArg::Receiver(_) => false,
    })
}

/// The variant of `scope_runtime::stream::StreamKind` of a `stream = ..`
/// keyword.
fn stream_kind(kind: &Ident) -> Option<&'static str> {
    match kind.to_string().as_str() {
        "sse" => Some("Sse"),
        "websocket" => Some("WebSocket"),
        _ => None,
    }
}

/// The declaration of a route serving one `scope_channels!` channel: the
/// channel's scopes and token kind.
fn channel_declaration(
    function: &ItemFn,
    krate: &TokenStream,
    hierarchy: Option<Path>,
    channel: &Path,
    kind: Option<&Ident>,
    throttle: &Option<LitStr>,
) -> TokenStream {
    let runtime = quote!(#krate::route);
    let fn_name = &function.sig.ident;
    let summary = summary(function);
    let throttle = throttle_tokens(throttle);
    let hierarchy: Path =
        hierarchy.unwrap_or_else(|| syn::parse_quote_spanned!(fn_name.span()=> Scope));
    let variant = Ident::new(
        kind.and_then(stream_kind).unwrap_or("Sse"),
        kind.map_or_else(Span::call_site, Ident::span),
    );
    let channel = quote_spanned!(channel.span()=> &#channel);
    let declaration = quote! {
        #runtime::HandlerScope::__channel(
            #channel,
            #krate::stream::StreamKind::#variant,
            #throttle,
            #summary,
        )
    };
    marker_item(
        function,
        &runtime,
        &quote!(),
        &quote!(#hierarchy),
        &declaration,
    )
}

fn rule_span(rule: &Rule) -> Span {
    match rule {
        Rule::Scope(l) | Rule::Resource(l) => l.span(),
        Rule::Any(k, _) | Rule::All(k, _) | Rule::Public(k) | Rule::Authenticated(k) => k.span(),
    }
}

fn describe(rule: &Rule) -> String {
    match rule {
        Rule::Scope(l) => format!("\"{}\"", l.value()),
        Rule::Any(..) => "`any(..)`".into(),
        Rule::All(..) => "`all(..)`".into(),
        Rule::Resource(l) => format!("`resource = \"{}\"`", l.value()),
        Rule::Public(_) => "`public`".into(),
        Rule::Authenticated(_) => "`authenticated`".into(),
    }
}

/// The first paragraph of the doc comment, lines joined with spaces.
fn summary(function: &ItemFn) -> String {
    let mut lines = Vec::new();
    for attr in &function.attrs {
        if !attr.path().is_ident("doc") {
            continue;
        }
        if let syn::Meta::NameValue(nv) = &attr.meta
            && let syn::Expr::Lit(syn::ExprLit {
                lit: syn::Lit::Str(s),
                ..
            }) = &nv.value
        {
            let line = s.value();
            let line = line.trim();
            if line.is_empty() {
                if !lines.is_empty() {
                    break;
                }
            } else {
                lines.push(line.to_owned());
            }
        }
    }
    lines.join(" ")
}
