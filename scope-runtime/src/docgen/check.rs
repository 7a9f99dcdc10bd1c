//! Check mode: compare a published scope matrix with the code's table and
//! list every disagreement.
//!
//! Two formats are read, detected line by line:
//! - tab-separated rows `METHOD<TAB>path<TAB>scopes[<TAB>token kind ...]`,
//!   `#` lines being comments; the scopes column is `-` or an any-of list
//!   `read | read:statuses` (the research files' format);
//! - a nested Markdown (or `•`) list of scopes with `METHOD /path` items
//!   under them (Mastodon's "OAuth details" page, and [`markdown_matrix`]'s
//!   own output); an endpoint listed under several scopes accepts any, and
//!   one listed after a prose line (a heading) requires none.
//!
//! Requirements are compared by meaning, not by spelling: `write |
//! write:statuses` equals `write:statuses`, because `write` grants
//! `write:statuses` anyway. Paths match whatever their parameter names
//! (`:id` = `{id}` = `{status_id}`).
//!
//! [`markdown_matrix`]: super::markdown_matrix

use std::collections::BTreeMap;
use std::fmt;

use crate::route::{Access, Method, Requirement, Route};
use crate::scope::Scope;
use crate::set::ScopeSet;

/// Options of [`check`], built with [`CheckOptions::new`] (or `default()`)
/// and one chained setter per field.
///
/// The struct is `#[non_exhaustive]` so that options can be added without
/// breaking callers; that is also why struct-literal syntax
/// (`CheckOptions { implemented_only: true, .. }`) does not compile outside
/// this crate (`E0639`): use the setters.
///
/// ```
/// use scope_runtime::docgen::CheckOptions;
///
/// // Mastodon's research file: scopes in column 4, token kinds in column 5.
/// let options = CheckOptions::new()
///     .scope_column(4)
///     .token_column(Some(5))
///     .implemented_only(true);
/// assert_eq!(options.scope_column, 4);
/// assert_eq!(options.token_column, Some(5));
/// assert!(options.implemented_only);
/// // The defaults: column 2, token kinds in column 3, every endpoint.
/// let default = CheckOptions::default();
/// assert_eq!((default.scope_column, default.token_column), (2, Some(3)));
/// assert!(!default.implemented_only);
/// ```
#[derive(Debug, Clone)]
#[non_exhaustive]
pub struct CheckOptions {
    /// Zero-based column of the scopes in tab-separated input (2 by
    /// default; the research files' documented scope is column 4).
    pub scope_column: usize,
    /// Zero-based column of the token kind in tab-separated input, compared
    /// when it reads `public`, `user`, `app`, `token ...` or `public (scope
    /// checked if a token is sent)`; `None` skips the comparison.
    pub token_column: Option<usize>,
    /// Report only the published endpoints the code implements (and the
    /// code's endpoints), not every endpoint the code lacks.
    pub implemented_only: bool,
}

impl Default for CheckOptions {
    fn default() -> Self {
        Self {
            scope_column: 2,
            token_column: Some(3),
            implemented_only: false,
        }
    }
}

impl CheckOptions {
    /// The default options (the same as [`Default::default`]).
    #[must_use]
    pub fn new() -> Self {
        Self::default()
    }

    /// Reads scopes from column `n` (zero-based) of tab-separated input.
    #[must_use]
    pub fn scope_column(mut self, n: usize) -> Self {
        self.scope_column = n;
        self
    }

    /// Reads token kinds from column `n`, or skips them with `None`.
    #[must_use]
    pub fn token_column(mut self, n: Option<usize>) -> Self {
        self.token_column = n;
        self
    }

    /// Leaves out published endpoints the code does not implement.
    #[must_use]
    pub fn implemented_only(mut self, yes: bool) -> Self {
        self.implemented_only = yes;
        self
    }
}

/// What differs for one endpoint.
#[derive(Debug, Clone, PartialEq, Eq)]
#[non_exhaustive]
pub enum DisagreementKind {
    /// The code serves the endpoint; the matrix does not list it.
    OnlyInCode,
    /// The matrix lists the endpoint; the code does not serve it.
    OnlyPublished,
    /// Both have it with different scopes.
    Scopes {
        /// As published.
        published: String,
        /// As declared in the code.
        code: String,
    },
    /// Both have it with different token kinds.
    TokenKind {
        /// As published.
        published: String,
        /// As declared in the code.
        code: String,
    },
    /// The matrix names a scope the hierarchy does not have.
    UnknownScope(String),
}

/// One disagreement.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Disagreement {
    /// The method, upper case.
    pub method: String,
    /// The path as the matrix writes it (the code's, when only in code).
    pub path: String,
    /// What differs.
    pub kind: DisagreementKind,
}

impl fmt::Display for Disagreement {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{} {}: ", self.method, self.path)?;
        match &self.kind {
            DisagreementKind::OnlyInCode => {
                f.write_str("served by the code, missing from the matrix")
            }
            DisagreementKind::OnlyPublished => f.write_str("in the matrix, not served by the code"),
            DisagreementKind::Scopes { published, code } => {
                write!(f, "matrix requires {published}, code requires {code}")
            }
            DisagreementKind::TokenKind { published, code } => {
                write!(f, "matrix says token kind {published}, code says {code}")
            }
            DisagreementKind::UnknownScope(s) => write!(f, "matrix names unknown scope \"{s}\""),
        }
    }
}

/// The result of [`check`].
#[derive(Debug, Clone, Default)]
pub struct CheckReport {
    /// Endpoints found in both.
    pub compared: usize,
    /// Every disagreement, sorted by path then method.
    pub disagreements: Vec<Disagreement>,
}

impl CheckReport {
    /// Whether code and matrix agree.
    pub fn is_clean(&self) -> bool {
        self.disagreements.is_empty()
    }
}

impl fmt::Display for CheckReport {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        writeln!(
            f,
            "{} endpoints compared, {} disagreements",
            self.compared,
            self.disagreements.len()
        )?;
        for d in &self.disagreements {
            writeln!(f, "  {d}")?;
        }
        Ok(())
    }
}

/// One published endpoint.
struct Published {
    path: String,
    scopes: Vec<String>,
    /// The scopes are all required (`(all of: ..)` in Markdown), not any.
    all_of: bool,
    token: Option<Access>,
}

/// `/a/:id/{x}/` -> `/a/{}/{}/`.
pub(crate) fn normalize(path: &str) -> String {
    path.split('/')
        .map(|seg| {
            if seg.starts_with(':') || (seg.starts_with('{') && seg.ends_with('}')) {
                "{}"
            } else {
                seg
            }
        })
        .collect::<Vec<_>>()
        .join("/")
}

fn published_access(kind: &str) -> Option<Access> {
    let kind = kind.trim();
    if kind.starts_with("public (scope checked if a token is sent)")
        && !kind.contains("user required")
    {
        Some(Access::Optional)
    } else if kind == "public" {
        Some(Access::Public)
    } else if kind == "user" {
        Some(Access::User)
    } else if kind.starts_with("app (") || kind == "app" {
        Some(Access::App)
    } else if kind.starts_with("token (") || kind == "token" {
        Some(Access::Required)
    } else {
        None
    }
}

/// `GET`, `POST|DELETE`.
fn methods(word: &str) -> Option<Vec<Method>> {
    word.split('|').map(Method::from_name).collect()
}

fn parse(text: &str, options: &CheckOptions) -> BTreeMap<(Method, String), Published> {
    let mut out: BTreeMap<(Method, String), Published> = BTreeMap::new();
    let mut add =
        |method: Method, path: &str, scopes: Vec<String>, all_of: bool, token: Option<Access>| {
            let entry = out
                .entry((method, normalize(path)))
                .or_insert_with(|| Published {
                    path: path.to_owned(),
                    scopes: Vec::new(),
                    all_of,
                    token,
                });
            for scope in scopes {
                if !entry.scopes.contains(&scope) {
                    entry.scopes.push(scope);
                }
            }
        };
    // The enclosing scope headings of a nested list, by indentation.
    let mut headings: Vec<(usize, String)> = Vec::new();
    for line in text.lines() {
        if line.trim().is_empty() {
            continue;
        }
        if line.starts_with('#') {
            // A comment, or a Markdown heading that ends the scope list.
            headings.clear();
            continue;
        }
        if line.contains('\t') {
            let cols: Vec<&str> = line.split('\t').collect();
            let (Some(ms), Some(path)) =
                (cols.first().and_then(|m| methods(m.trim())), cols.get(1))
            else {
                continue;
            };
            let scopes: Vec<String> = cols
                .get(options.scope_column)
                .map(|c| c.trim())
                .filter(|c| !c.is_empty() && *c != "-")
                .map(|c| c.split('|').map(|s| s.trim().to_owned()).collect())
                .unwrap_or_default();
            let token = options
                .token_column
                .and_then(|n| cols.get(n))
                .and_then(|k| published_access(k));
            for m in ms {
                add(m, path.trim(), scopes.clone(), false, token);
            }
            continue;
        }
        let trimmed = line.trim_start();
        if !trimmed.starts_with(['•', '-', '*']) {
            // Prose ends the list the previous headings belonged to.
            headings.clear();
            continue;
        }
        let indent = line.len() - trimmed.len();
        while headings.last().is_some_and(|(i, _)| *i >= indent) {
            headings.pop();
        }
        let item = trimmed
            .trim_start_matches(['•', '-', '*'])
            .trim()
            .replace('`', "");
        let mut words = item.split_whitespace();
        let Some(first) = words.next() else { continue };
        if let (Some(ms), Some(path)) = (methods(first), words.next())
            && path.starts_with('/')
        {
            // An endpoint requires the scope of the heading it is nested
            // in; outside any heading (after prose such as "Endpoints
            // without a scope") it requires none.
            let (scopes, all_of) = match item.split_once("(all of:") {
                Some((_, list)) => (
                    list.trim_end_matches(')')
                        .split(',')
                        .map(|s| s.trim().to_owned())
                        .collect(),
                    true,
                ),
                None => (
                    headings
                        .last()
                        .map(|(_, s)| s.clone())
                        .into_iter()
                        .collect::<Vec<_>>(),
                    false,
                ),
            };
            for m in ms {
                add(m, path, scopes.clone(), all_of, None);
            }
        } else {
            headings.push((indent, first.trim_end_matches(':').to_owned()));
        }
    }
    out
}

/// The any-of mask of a requirement: every scope that satisfies it alone.
/// Two any-of lists are equivalent exactly when their masks are equal.
fn satisfiers<S: Scope>(scopes: &[S]) -> ScopeSet<S> {
    scopes
        .iter()
        .fold(ScopeSet::new(), |acc, s| acc | s.granted_by())
}

/// An all-of list without the scopes another member already grants.
fn essential<S: Scope>(scopes: &[S]) -> ScopeSet<S> {
    scopes
        .iter()
        .filter(|s| !scopes.iter().any(|o| o != *s && o.implied().contains(**s)))
        .copied()
        .collect()
}

fn describe_published(entry: &Published) -> String {
    if entry.scopes.is_empty() {
        "-".to_owned()
    } else if entry.all_of {
        format!("all({})", entry.scopes.join(", "))
    } else {
        entry.scopes.join(" | ")
    }
}

/// Compares the published matrix `text` with `routes`.
pub fn check<S: Scope>(text: &str, routes: &[Route<S>], options: &CheckOptions) -> CheckReport {
    let published = parse(text, options);
    let mut report = CheckReport::default();
    let mut code: BTreeMap<(Method, String), &Route<S>> = BTreeMap::new();
    for route in routes {
        code.insert((route.method(), normalize(route.path())), route);
    }
    for ((method, key), entry) in &published {
        let disagree = |kind| Disagreement {
            method: method.as_str().to_owned(),
            path: entry.path.clone(),
            kind,
        };
        // axum answers HEAD on every GET route.
        let served = code.get(&(*method, key.clone())).or_else(|| {
            (*method == Method::Head)
                .then(|| code.get(&(Method::Get, key.clone())))
                .flatten()
        });
        let Some(route) = served else {
            if !options.implemented_only {
                report
                    .disagreements
                    .push(disagree(DisagreementKind::OnlyPublished));
            }
            continue;
        };
        report.compared += 1;
        let mut known = Vec::new();
        for name in &entry.scopes {
            match S::from_name(name) {
                Some(s) => known.push(s),
                None => report
                    .disagreements
                    .push(disagree(DisagreementKind::UnknownScope(name.clone()))),
            }
        }
        let requirement = route.requirement();
        let same = match (requirement, entry.all_of) {
            (Requirement::None, _) => entry.scopes.is_empty(),
            (Requirement::AllOf(l), true) => essential(&known) == essential(l),
            (Requirement::AllOf(l), false) if l.len() > 1 => false,
            (_, true) if known.len() > 1 => false,
            _ => !known.is_empty() && satisfiers(&known) == satisfiers(requirement.scopes()),
        };
        if !same && known.len() == entry.scopes.len() {
            report
                .disagreements
                .push(disagree(DisagreementKind::Scopes {
                    published: describe_published(entry),
                    code: requirement.to_string(),
                }));
        }
        if let Some(token) = entry.token
            && token != route.access()
        {
            report
                .disagreements
                .push(disagree(DisagreementKind::TokenKind {
                    published: token.as_str().to_owned(),
                    code: route.access().as_str().to_owned(),
                }));
        }
    }
    for ((method, key), route) in &code {
        if !published.contains_key(&(*method, key.clone())) {
            report.disagreements.push(Disagreement {
                method: method.as_str().to_owned(),
                path: route.path().to_owned(),
                kind: DisagreementKind::OnlyInCode,
            });
        }
    }
    report
        .disagreements
        .sort_by(|a, b| (normalize(&a.path), &a.method).cmp(&(normalize(&b.path), &b.method)));
    report
}
