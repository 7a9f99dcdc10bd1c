//! Errors of scope parsing.

/// A scope string named a token that is not a grantable scope of the
/// hierarchy.
///
/// Returned by [`ScopeSet::parse`](crate::ScopeSet::parse) and the `FromStr`
/// implementations of generated scope types. The OAuth server maps it to an
/// `invalid_scope` error.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
// `{token:?}` escapes quotes and control characters: the message may end
// up in an OAuth `error_description` or a log line.
#[error("unknown scope {token:?} in {hierarchy}")]
pub struct ParseScopeError {
    token: Box<str>,
    hierarchy: &'static str,
}

impl ParseScopeError {
    /// An error for `token`, unknown in `hierarchy`.
    pub fn unknown(token: &str, hierarchy: &'static str) -> Self {
        Self {
            token: token.into(),
            hierarchy,
        }
    }

    /// The token that is not a scope, exactly as it appeared in the input.
    pub fn token(&self) -> &str {
        &self.token
    }

    /// The name of the hierarchy type the token was looked up in.
    pub fn hierarchy(&self) -> &'static str {
        self.hierarchy
    }
}
