//! Reading token claims: the JSON object of an RFC 7662 introspection
//! answer or of an RFC 9068 JWT payload, with the expected `iss` and `aud`,
//! into a [`Principal`]. Both remote validators (`introspect`, `jwt`) read
//! their claims here, so that a claim means the same to each; the scope
//! string is read by [`known_scopes`], which the store validator of
//! `oauth-server` uses too.
//!
//! | claim | read as |
//! |---|---|
//! | `iss` | when an issuer is expected: equal to it, else refused |
//! | `aud` | when an audience is expected: a string equal to it or an array holding it, else refused |
//! | `exp` | a NumericDate (seconds, possibly fractional); refused once past (plus the grace a validator allows); required in a JWT |
//! | `nbf`, `iat` | in a JWT: NumericDates, refused when further in the future than the allowed clock skew; not read in an introspection answer (`active` decides) |
//! | `client_id` | required |
//! | `sub` (an introspection answer: else `username`) | the user; none, or the `client_id` itself (RFC 9068 §2.2: a client-credentials token names the client as its subject), is an app token (the `client_id` itself as `sub` only in a JWT); required in a JWT |
//! | `scope` | space-separated; names the hierarchy does not know are dropped |
//!
//! A member of the wrong type is *malformed*: the caller decides what that
//! means (an introspection answer from a broken server is
//! [`TokenError::Unavailable`](crate::TokenError::Unavailable), a signed
//! JWT that says it is [`TokenError::Invalid`](crate::TokenError::Invalid)). An introspection answer may carry `null` for
//! a member it does not have (servers do); in a JWT, `null` is malformed.

// Without `introspection` or `jwt`, only `known_scopes` is used.
#![cfg_attr(not(any(feature = "introspection", feature = "jwt")), allow(dead_code))]

use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde_json::{Map, Value};

use crate::scope::Scope;
use crate::set::ScopeSet;
use crate::token::Principal;

/// Clock skew tolerated on `nbf` and `iat` (and on `exp` by the JWT
/// validator) unless the validator sets another.
pub const DEFAULT_LEEWAY: Duration = Duration::from_secs(30);

/// The scopes of a space-separated scope string that the hierarchy `S`
/// knows; the others are **dropped**, never fatal.
///
/// A token may carry scopes of other APIs of its authorization server (or
/// of a newer version of this hierarchy, or names a hierarchy no longer
/// has): its principal gets the scopes it can be checked against, which
/// only ever grants less than the authorization server did. Refusing the
/// token instead would log out every user whose grant holds one foreign
/// scope.
///
/// ```
/// use scope_runtime::claims::known_scopes;
/// use scope_runtime::{scope_hierarchy, ScopeSet};
///
/// scope_hierarchy! { pub Api { read { statuses }, write { statuses } } }
///
/// let scopes: ScopeSet<Api> = known_scopes("read:statuses admin:write");
/// assert_eq!(scopes, "read:statuses".parse()?);
/// # Ok::<(), scope_runtime::ParseScopeError>(())
/// ```
pub fn known_scopes<S: Scope>(scope: &str) -> ScopeSet<S> {
    scope
        .split_ascii_whitespace()
        .filter_map(S::from_name)
        .collect()
}

/// Where the claims come from: what each protocol requires.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Profile {
    /// An RFC 7662 introspection answer (`active` already read): `exp` and
    /// `sub` optional, `username` a fallback for `sub`, `null` members
    /// absent.
    Introspection,
    /// The payload of an RFC 9068 JWT access token: `exp` and `sub`
    /// required, `null` members malformed.
    AccessToken,
}

/// What the claims must say, besides being well-formed.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Expected<'a> {
    /// The `iss`, when checked.
    pub(crate) issuer: Option<&'a str>,
    /// One of the `aud` values, when checked.
    pub(crate) audience: Option<&'a str>,
    /// How far in the future `nbf` and `iat` may be (clock skew).
    pub(crate) skew: Duration,
    /// How long past `exp` the token is still taken; the principal's
    /// expiry is `exp` plus this, so that the enforcement layer and the
    /// cache, which refuse a principal past its expiry, agree.
    pub(crate) grace: Duration,
}

/// Why claims were refused.
#[derive(Debug, Clone, PartialEq, Eq)]
pub(crate) enum Refused {
    /// Well-formed, but not a valid token for this validator.
    Invalid,
    /// A member of the wrong type, or a required one missing: what.
    Malformed(String),
}

/// A claims object being read.
#[derive(Debug, Clone, Copy)]
pub(crate) struct Claims<'a> {
    map: &'a Map<String, Value>,
    profile: Profile,
}

impl<'a> Claims<'a> {
    /// The claims of `map`, read as `profile` says.
    pub(crate) fn new(map: &'a Map<String, Value>, profile: Profile) -> Self {
        Self { map, profile }
    }

    /// The member `name`, `None` when absent (or, in an introspection
    /// answer, `null`).
    fn get(&self, name: &str) -> Option<&'a Value> {
        match self.map.get(name) {
            Some(Value::Null) if self.profile == Profile::Introspection => None,
            other => other,
        }
    }

    /// The string member `name`.
    pub(crate) fn text(&self, name: &str) -> Result<Option<&'a str>, Refused> {
        match self.get(name) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.as_str())),
            Some(_) => Err(Refused::Malformed(format!("`{name}` is not a string"))),
        }
    }

    /// The NumericDate member `name` (RFC 7519 §2), in seconds since the
    /// epoch.
    fn date(&self, name: &str) -> Result<Option<f64>, Refused> {
        let malformed = || Refused::Malformed(format!("`{name}` is not a number"));
        match self.get(name) {
            None => Ok(None),
            Some(Value::Number(n)) => n.as_f64().map(Some).ok_or_else(malformed),
            Some(_) => Err(malformed()),
        }
    }

    /// Whether `aud` (a string or an array of them) holds `audience`.
    fn meant_for(&self, audience: &str) -> Result<bool, Refused> {
        match self.get("aud") {
            Some(Value::String(aud)) => Ok(aud == audience),
            Some(Value::Array(auds)) => Ok(auds.iter().any(|a| a.as_str() == Some(audience))),
            None => Ok(false),
            Some(_) => Err(Refused::Malformed(
                "`aud` is neither a string nor an array".into(),
            )),
        }
    }

    /// Checks the claims against `expected` at `now`, and reads the
    /// principal (see the table of the [module documentation](self)).
    pub(crate) fn principal<S: Scope>(
        &self,
        expected: &Expected<'_>,
        now: SystemTime,
    ) -> Result<Principal<S>, Refused> {
        let required = self.profile == Profile::AccessToken;
        let missing = |name: &str| Refused::Malformed(format!("`{name}` is missing"));
        if let Some(issuer) = expected.issuer
            && self.text("iss")? != Some(issuer)
        {
            return Err(Refused::Invalid);
        }
        if let Some(audience) = expected.audience
            && !self.meant_for(audience)?
        {
            return Err(Refused::Invalid);
        }
        let now_s = seconds(now);
        let expiry = match self.date("exp")? {
            Some(exp) => Some(system_time(exp + expected.grace.as_secs_f64())),
            None if required => return Err(missing("exp")),
            None => None,
        };
        if expiry.is_some_and(|at| at <= now) {
            return Err(Refused::Invalid);
        }
        // `nbf` and `iat` are the token's own claims (RFC 9068, checked
        // with the leeway); in an introspection answer the authorization
        // server has already decided `active`, and its clock is not ours:
        // they are not read there, as before the two readers were one.
        let skew = expected.skew.as_secs_f64();
        if required
            && (self.date("nbf")?.is_some_and(|nbf| nbf > now_s + skew)
                || self.date("iat")?.is_some_and(|iat| iat > now_s + skew))
        {
            return Err(Refused::Invalid);
        }
        let client_id = self
            .text("client_id")?
            .ok_or_else(|| missing("client_id"))?;
        let scopes = known_scopes(self.text("scope")?.unwrap_or_default());
        let user = match self.text("sub")? {
            // RFC 9068 §2.2: without a resource owner, the subject of an
            // access token is the client. RFC 7662 has no such rule: an
            // introspected `sub` is the user's, whatever its value.
            Some(sub) if required && sub == client_id => None,
            Some(sub) => Some(sub),
            None if required => return Err(missing("sub")),
            None => self.text("username")?,
        };
        let principal = match user {
            Some(user) => Principal::user(user, client_id, scopes),
            None => Principal::app(client_id, scopes),
        };
        Ok(match expiry {
            Some(at) => principal.expires_at(at),
            None => principal,
        })
    }
}

/// Seconds since the epoch (a NumericDate may be fractional); 0 before.
pub(crate) fn seconds(at: SystemTime) -> f64 {
    at.duration_since(UNIX_EPOCH)
        .map_or(0.0, |d| d.as_secs_f64())
}

/// A NumericDate as a time: before 1970 (and beyond what a `SystemTime`
/// holds) is the epoch, long past.
fn system_time(seconds: f64) -> SystemTime {
    Duration::try_from_secs_f64(seconds.max(0.0))
        .ok()
        .and_then(|d| UNIX_EPOCH.checked_add(d))
        .unwrap_or(UNIX_EPOCH)
}

#[cfg(test)]
mod tests;
