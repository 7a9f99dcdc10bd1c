//! The attributes a node may carry: doc comments (its description),
//! `#[default]`, `#[group]` and `#[deprecated]`.

use syn::{Attribute, Expr, ExprLit, Lit, LitStr, Meta};

use crate::ctxt::Ctxt;

/// What the attributes of one node say.
#[derive(Default)]
pub(crate) struct NodeAttrs<'a> {
    /// The doc comment, lines trimmed and joined with spaces.
    pub(crate) description: String,
    pub(crate) default: Option<&'a Attribute>,
    pub(crate) group: Option<&'a Attribute>,
    pub(crate) deprecated: Option<Deprecated<'a>>,
}

/// `#[deprecated]`, `#[deprecated = "note"]` or
/// `#[deprecated(since = "..", note = "..")]`.
pub(crate) struct Deprecated<'a> {
    pub(crate) attr: &'a Attribute,
    pub(crate) since: Option<LitStr>,
    pub(crate) note: Option<LitStr>,
}

const EXPECTED: &str = "expected a doc comment, `#[default]`, `#[group]` or `#[deprecated(since = \"..\", note = \"..\")]`";

impl<'a> NodeAttrs<'a> {
    pub(crate) fn parse(cx: &Ctxt, attrs: &'a [Attribute]) -> Self {
        let mut out = Self::default();
        let mut doc_lines = Vec::new();
        for attr in attrs {
            let path = attr.path();
            if path.is_ident("doc") {
                match doc_line(attr) {
                    Some(line) => doc_lines.push(line),
                    None => cx.error_spanned_by(attr, "expected `#[doc = \"...\"]`"),
                }
            } else if path.is_ident("default") {
                flag(cx, attr, &mut out.default, "default");
            } else if path.is_ident("group") {
                flag(cx, attr, &mut out.group, "group");
            } else if path.is_ident("deprecated") {
                if out.deprecated.is_some() {
                    cx.error_spanned_by(attr, "duplicate `#[deprecated]` attribute");
                } else if let Some(d) = deprecated(cx, attr) {
                    out.deprecated = Some(d);
                }
            } else {
                cx.error_spanned_by(
                    attr,
                    format_args!(
                        "unknown attribute `#[{}]` on a scope; {EXPECTED}",
                        quote::quote!(#path).to_string().replace(' ', "")
                    ),
                );
            }
        }
        out.description = doc_lines
            .iter()
            .map(|l| l.trim())
            .filter(|l| !l.is_empty())
            .collect::<Vec<_>>()
            .join(" ");
        out
    }
}

/// A marker attribute that takes no arguments.
fn flag<'a>(cx: &Ctxt, attr: &'a Attribute, slot: &mut Option<&'a Attribute>, name: &str) {
    if !matches!(attr.meta, Meta::Path(_)) {
        cx.error_spanned_by(attr, format_args!("`#[{name}]` takes no arguments"));
    } else if slot.is_some() {
        cx.error_spanned_by(attr, format_args!("duplicate `#[{name}]` attribute"));
    } else {
        *slot = Some(attr);
    }
}

fn doc_line(attr: &Attribute) -> Option<String> {
    match &attr.meta {
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => Some(s.value()),
            _ => None,
        },
        _ => None,
    }
}

fn deprecated<'a>(cx: &Ctxt, attr: &'a Attribute) -> Option<Deprecated<'a>> {
    let mut out = Deprecated {
        attr,
        since: None,
        note: None,
    };
    match &attr.meta {
        Meta::Path(_) => {}
        Meta::NameValue(nv) => match &nv.value {
            Expr::Lit(ExprLit {
                lit: Lit::Str(s), ..
            }) => out.note = Some(s.clone()),
            other => {
                cx.error_spanned_by(other, "expected a string: `#[deprecated = \"note\"]`");
                return None;
            }
        },
        Meta::List(list) => {
            let parsed = list.parse_nested_meta(|meta| {
                let (slot, key) = if meta.path.is_ident("since") {
                    (&mut out.since, "since")
                } else if meta.path.is_ident("note") {
                    (&mut out.note, "note")
                } else {
                    return Err(meta.error("unknown key; expected `since` or `note`"));
                };
                if slot.is_some() {
                    return Err(meta.error(format_args!("`{key}` is given twice")));
                }
                *slot = Some(meta.value()?.parse()?);
                Ok(())
            });
            if let Err(e) = parsed {
                cx.syn_error(e);
                return None;
            }
        }
    }
    Some(out)
}
