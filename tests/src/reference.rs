//! Naive, string-based reference models that the typed implementation is
//! checked against: the scope tables of `tests/data/*-scopes.txt` read as
//! they are, and the `HashSet<String>` representation other OAuth libraries
//! use.

use std::collections::{HashMap, HashSet};

/// One row of a research scope table (`#scope  parent(s)  description ...`).
#[derive(Debug, Clone)]
pub struct Row {
    /// Full scope name.
    pub name: String,
    /// Direct parents (`read, follow` for Mastodon's `read:blocks`).
    pub parents: Vec<String>,
    /// The description column; `(none)` becomes empty.
    pub description: String,
    /// The deprecated column (`no`, or why and since when).
    pub deprecated: String,
}

impl Row {
    /// Whether the table marks the scope deprecated or removed.
    pub fn is_deprecated(&self) -> bool {
        self.deprecated != "no"
    }

    /// Whether the scope no longer exists (removed, or renamed before any
    /// release), as opposed to merely deprecated.
    pub fn is_removed(&self) -> bool {
        self.deprecated.contains("removed 4.3.0") || self.deprecated.contains("renamed")
    }
}

/// A research scope table, parsed.
#[derive(Debug, Clone)]
pub struct ScopeTable {
    /// The rows, in file order.
    pub rows: Vec<Row>,
}

impl ScopeTable {
    /// Parses the tab-separated table; lines starting with `#` are comments.
    ///
    /// # Panics
    /// On a row with fewer than four columns (the fixture is malformed).
    pub fn parse(tsv: &str) -> Self {
        let rows = tsv
            .lines()
            .filter(|l| !l.starts_with('#') && !l.trim().is_empty())
            .map(|line| {
                let cols: Vec<&str> = line.split('\t').collect();
                assert!(cols.len() >= 4, "malformed row: {line}");
                let parents = if cols[1] == "-" {
                    Vec::new()
                } else {
                    cols[1].split(',').map(|p| p.trim().to_owned()).collect()
                };
                let description = if cols[2] == "(none)" {
                    String::new()
                } else {
                    cols[2].to_owned()
                };
                Row {
                    name: cols[0].to_owned(),
                    parents,
                    description,
                    deprecated: cols[3].to_owned(),
                }
            })
            .collect();
        Self { rows }
    }

    /// The row of `name`.
    pub fn row(&self, name: &str) -> Option<&Row> {
        self.rows.iter().find(|r| r.name == name)
    }

    /// Every scope that grants `name` through the parent columns,
    /// transitively, `name` included.
    pub fn grantors(&self, name: &str) -> HashSet<String> {
        let mut out = HashSet::new();
        let mut todo = vec![name.to_owned()];
        while let Some(n) = todo.pop() {
            if out.insert(n.clone())
                && let Some(row) = self.row(&n)
            {
                todo.extend(row.parents.iter().cloned());
            }
        }
        out
    }
}

/// The representation other libraries use: a `HashSet<String>` of granted
/// scopes, a prefix rule (`write` grants `write:*`) and an alias table.
#[derive(Debug, Clone, Default)]
pub struct NaiveScopes {
    /// The granted scope strings.
    pub granted: HashSet<String>,
}

impl NaiveScopes {
    /// Splits a scope string on whitespace.
    pub fn parse(s: &str) -> Self {
        Self {
            granted: s.split_ascii_whitespace().map(str::to_owned).collect(),
        }
    }

    /// Whether the set grants `required`: it holds `required` or one of its
    /// `:`-prefixes, or an alias whose list holds one of them.
    pub fn grants(&self, required: &str, aliases: &HashMap<&str, Vec<&str>>) -> bool {
        let mut prefix = required;
        loop {
            if self.granted.contains(prefix)
                || aliases.iter().any(|(alias, targets)| {
                    self.granted.contains(*alias) && targets.contains(&prefix)
                })
            {
                return true;
            }
            match prefix.rsplit_once(':') {
                Some((head, _)) => prefix = head,
                None => return false,
            }
        }
    }
}
