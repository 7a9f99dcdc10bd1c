//! The syntax of a `scope_hierarchy!` declaration, kept as `syn` nodes so
//! that later errors can point at them.
//!
//! ```text
//! input  := attr* vis "enum"? IDENT "{" node,* "}"
//! node   := attr* NAME ("{" node,* "}")? ("=" "[" STRING,* "]")?
//! ```

use syn::ext::IdentExt;
use syn::parse::{Parse, ParseStream};
use syn::punctuated::Punctuated;
use syn::{Attribute, Ident, LitStr, Token, Visibility, braced, bracketed};

/// The whole declaration.
pub(crate) struct Input {
    /// Path of the runtime crate: `$crate` from the `scope_hierarchy!`
    /// wrapper in scope-runtime, `::scope_runtime` otherwise.
    pub(crate) krate: proc_macro2::TokenStream,
    /// Attributes of the generated enum (its doc comment, derives, ...).
    pub(crate) attrs: Vec<Attribute>,
    pub(crate) vis: Visibility,
    pub(crate) ident: Ident,
    pub(crate) nodes: Punctuated<Node, Token![,]>,
}

/// One node of the tree: a scope, a group or an alias.
pub(crate) struct Node {
    pub(crate) attrs: Vec<Attribute>,
    /// The last segment of the name (`playlists` in `read:playlists`).
    pub(crate) name: Ident,
    /// `Some` when the node has a `{ ... }` block, even an empty one.
    pub(crate) children: Option<Punctuated<Node, Token![,]>>,
    pub(crate) alias: Option<Alias>,
}

/// `= ["read:blocks", "write:blocks"]`: what an alias grants.
pub(crate) struct Alias {
    pub(crate) eq: Token![=],
    pub(crate) targets: Punctuated<LitStr, Token![,]>,
}

impl Parse for Input {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let krate = crate::krate(input)?;
        let attrs = input.call(Attribute::parse_outer)?;
        let vis = input.parse()?;
        if input.peek(Token![enum]) {
            input.parse::<Token![enum]>()?;
        }
        let ident = input.parse()?;
        let content;
        braced!(content in input);
        let nodes = content.parse_terminated(Node::parse, Token![,])?;
        Ok(Self {
            krate,
            attrs,
            vis,
            ident,
            nodes,
        })
    }
}

impl Parse for Node {
    fn parse(input: ParseStream<'_>) -> syn::Result<Self> {
        let attrs = input.call(Attribute::parse_outer)?;
        // Scope names may be Rust keywords (`type`, `move`): accept any
        // identifier and strip `r#`.
        let name = Ident::parse_any(input)?.unraw();
        let children = if input.peek(syn::token::Brace) {
            let content;
            braced!(content in input);
            Some(content.parse_terminated(Node::parse, Token![,])?)
        } else {
            None
        };
        let alias = if input.peek(Token![=]) {
            let eq = input.parse()?;
            let content;
            bracketed!(content in input);
            let targets = content.parse_terminated(<LitStr as Parse>::parse, Token![,])?;
            Some(Alias { eq, targets })
        } else {
            None
        };
        Ok(Self {
            attrs,
            name,
            children,
            alias,
        })
    }
}
