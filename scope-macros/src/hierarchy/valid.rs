//! Checks that span several nodes, and the model that [`expand`] writes
//! code from: the flattened scopes, the groups and the closure of every
//! scope.
//!
//! A mistake is recorded in the [`Ctxt`] and the offending piece is left out
//! of the model, so the rest still expands.
//!
//! [`expand`]: super::expand

use std::collections::HashMap;

use syn::{Ident, LitStr};

use super::ast::{Input, Node};
use super::attr::NodeAttrs;
use crate::ctxt::Ctxt;
use crate::suggest;

/// A grantable scope.
pub(crate) struct ScopeDef {
    /// Full name, `"read:playlists"`.
    pub(crate) name: String,
    /// Enum variant, `ReadPlaylists`.
    pub(crate) variant: Ident,
    pub(crate) description: String,
    /// Nearest grantable ancestor.
    pub(crate) parent: Option<usize>,
    /// Declared alias targets, resolved (a group target stands for its
    /// members).
    pub(crate) expands_to: Vec<usize>,
    pub(crate) deprecated: Option<(Option<LitStr>, Option<LitStr>)>,
    pub(crate) default: bool,
}

/// A grouping node: a name prefix that is not itself grantable.
pub(crate) struct GroupDef {
    pub(crate) name: String,
    /// The nearest grantable scopes below the group.
    pub(crate) members: Vec<usize>,
}

pub(crate) struct Model<'a> {
    pub(crate) input: &'a Input,
    pub(crate) scopes: Vec<ScopeDef>,
    pub(crate) groups: Vec<GroupDef>,
    /// `implies[i][j]`: granting scope `i` grants scope `j`.
    pub(crate) implies: Vec<Vec<bool>>,
}

/// What the walk found about a name.
#[derive(Clone, Copy)]
enum Named {
    Scope(usize),
    Group(usize),
}

struct Builder<'a, 'c> {
    cx: &'c Ctxt,
    scopes: Vec<ScopeDef>,
    groups: Vec<GroupDef>,
    names: HashMap<String, Named>,
    variants: HashMap<String, String>,
    aliases: Vec<(usize, &'a LitStr)>,
    /// Resolved alias edges with the literal that declared them.
    alias_edges: Vec<(usize, usize, &'a LitStr)>,
}

impl<'a> Model<'a> {
    pub(crate) fn build(cx: &Ctxt, input: &'a Input) -> Self {
        let mut b = Builder {
            cx,
            scopes: Vec::new(),
            groups: Vec::new(),
            names: HashMap::new(),
            variants: HashMap::new(),
            aliases: Vec::new(),
            alias_edges: Vec::new(),
        };
        for node in &input.nodes {
            b.walk(node, "", None, &[]);
        }
        if b.scopes.is_empty() {
            cx.error_spanned_by(
                &input.ident,
                "a scope hierarchy needs at least one grantable scope, e.g. `read { statuses }`",
            );
        }
        b.resolve_aliases();
        let implies = b.closure();
        Self {
            input,
            scopes: b.scopes,
            groups: b.groups,
            implies,
        }
    }

    /// Bits of storage a set needs: whole 64-bit words, at least one.
    pub(crate) fn words(&self) -> usize {
        self.scopes.len().div_ceil(64).max(1)
    }
}

impl<'a> Builder<'a, '_> {
    /// Flattens `node` and its subtree. `groups_above` are the groups
    /// between `node` and its nearest grantable ancestor `parent`.
    fn walk(
        &mut self,
        node: &'a Node,
        prefix: &str,
        parent: Option<usize>,
        groups_above: &[usize],
    ) {
        let cx = self.cx;
        let attrs = NodeAttrs::parse(cx, &node.attrs);
        let name = if prefix.is_empty() {
            node.name.to_string()
        } else {
            format!("{prefix}:{}", node.name)
        };
        if self.names.contains_key(&name) {
            cx.error_spanned_by(
                &node.name,
                format_args!("duplicate scope \"{name}\"; each scope is declared once"),
            );
            return;
        }

        if let Some(group) = attrs.group {
            self.check_group(node, group, &attrs, &name);
            let index = self.groups.len();
            self.groups.push(GroupDef {
                name: name.clone(),
                members: Vec::new(),
            });
            self.names.insert(name.clone(), Named::Group(index));
            let mut above = groups_above.to_vec();
            above.push(index);
            for child in node.children.iter().flatten() {
                self.walk(child, &name, parent, &above);
            }
            return;
        }

        let variant_name = pascal_case(&name);
        let variant = match syn::parse_str::<Ident>(&variant_name) {
            Ok(mut ident) => {
                ident.set_span(node.name.span());
                ident
            }
            Err(_) => {
                cx.error_spanned_by(
                    &node.name,
                    format_args!(
                        "scope \"{name}\" would be the enum variant `{variant_name}`, which is not a valid identifier; rename the scope"
                    ),
                );
                return;
            }
        };
        if let Some(other) = self.variants.get(&variant_name) {
            cx.error_spanned_by(
                &node.name,
                format_args!(
                    "scopes \"{other}\" and \"{name}\" would both be the enum variant `{variant_name}`; rename one of them"
                ),
            );
            return;
        }
        self.variants.insert(variant_name, name.clone());

        let index = self.scopes.len();
        self.scopes.push(ScopeDef {
            name: name.clone(),
            variant,
            description: attrs.description,
            parent,
            expands_to: Vec::new(),
            deprecated: attrs.deprecated.map(|d| (d.since, d.note)),
            default: attrs.default.is_some(),
        });
        self.names.insert(name.clone(), Named::Scope(index));
        for &g in groups_above {
            self.groups[g].members.push(index);
        }
        if let Some(alias) = &node.alias {
            if alias.targets.is_empty() {
                cx.error_spanned_by(
                    alias.eq,
                    format_args!("the alias \"{name}\" grants nothing; list the scopes it grants"),
                );
            }
            self.aliases
                .extend(alias.targets.iter().map(|lit| (index, lit)));
        }
        for child in node.children.iter().flatten() {
            self.walk(child, &name, Some(index), &[]);
        }
    }

    /// A group is a name prefix only: it cannot be granted, so it takes no
    /// `#[default]`, `#[deprecated]` or alias targets, and it must group
    /// something.
    fn check_group(&self, node: &Node, group: &syn::Attribute, attrs: &NodeAttrs<'_>, name: &str) {
        let cx = self.cx;
        if let Some(default) = attrs.default {
            cx.error_spanned_by(
                default,
                format_args!(
                    "the group \"{name}\" is not a grantable scope and cannot be a default; mark scopes inside it `#[default]`"
                ),
            );
        }
        if let Some(deprecated) = &attrs.deprecated {
            cx.error_spanned_by(
                deprecated.attr,
                format_args!(
                    "the group \"{name}\" is not a grantable scope and cannot be deprecated; deprecate the scopes inside it"
                ),
            );
        }
        if let Some(alias) = &node.alias {
            cx.error_spanned_by(
                alias.eq,
                format_args!(
                    "the group \"{name}\" is not a grantable scope and cannot be an alias; remove `#[group]` to make it one"
                ),
            );
        }
        if node.children.as_ref().is_none_or(|c| c.is_empty()) {
            cx.error_spanned_by(
                group,
                format_args!("the group \"{name}\" groups nothing; add scopes inside `{{ ... }}`"),
            );
        }
    }

    /// Turns alias target literals into scope indices.
    fn resolve_aliases(&mut self) {
        for (from, lit) in std::mem::take(&mut self.aliases) {
            let target = lit.value();
            let targets = match self.names.get(&target) {
                Some(Named::Scope(to)) => vec![*to],
                Some(Named::Group(g)) => self.groups[*g].members.clone(),
                None => {
                    let known = self.scopes.iter().map(|s| s.name.as_str());
                    let close = suggest::similar(&target, known);
                    let hint = if close.is_empty() {
                        String::new()
                    } else {
                        format!("; did you mean {}?", suggest::quoted_list(&close, "or"))
                    };
                    self.cx.error_spanned_by(
                        lit,
                        format_args!(
                            "alias \"{}\" names unknown scope \"{target}\"{hint}",
                            self.scopes[from].name
                        ),
                    );
                    continue;
                }
            };
            for to in targets {
                self.scopes[from].expands_to.push(to);
                self.alias_edges.push((from, to, lit));
            }
        }
    }

    /// Reachability over "parent grants child" and "alias grants target";
    /// reports every alias edge that closes a cycle.
    fn closure(&self) -> Vec<Vec<bool>> {
        let n = self.scopes.len();
        let mut edges: Vec<Vec<usize>> = vec![Vec::new(); n];
        for (i, scope) in self.scopes.iter().enumerate() {
            if let Some(p) = scope.parent {
                edges[p].push(i);
            }
            edges[i].extend(&scope.expands_to);
        }
        let implies: Vec<Vec<bool>> = (0..n)
            .map(|start| {
                let mut seen = vec![false; n];
                let mut stack = vec![start];
                while let Some(i) = stack.pop() {
                    if !seen[i] {
                        seen[i] = true;
                        stack.extend(&edges[i]);
                    }
                }
                seen
            })
            .collect();
        self.report_cycles(&implies);
        implies
    }

    fn report_cycles(&self, implies: &[Vec<bool>]) {
        // An alias edge `from -> to` lies on a cycle exactly when `to`
        // already grants `from`.
        for &(from, to, lit) in &self.alias_edges {
            if implies[to][from] {
                let (from, to) = (&self.scopes[from].name, &self.scopes[to].name);
                let message = if from == to {
                    format!("alias cycle: \"{from}\" grants itself")
                } else {
                    format!(
                        "alias cycle: \"{from}\" grants \"{to}\", which already grants \"{from}\""
                    )
                };
                self.cx.error_spanned_by(lit, message);
            }
        }
    }
}

/// `read:instance:settings` -> `ReadInstanceSettings`.
fn pascal_case(name: &str) -> String {
    name.split([':', '_'])
        .filter(|part| !part.is_empty())
        .map(|part| {
            let mut chars = part.chars();
            chars.next().map_or_else(String::new, |first| {
                first.to_uppercase().chain(chars).collect()
            })
        })
        .collect()
}
