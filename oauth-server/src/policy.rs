//! Which scopes a grant may carry: Funkwhale's rule, **effective scopes =
//! token ∩ app ∩ what the user may have**, applied when a token is issued
//! (every grant: authorization code, refresh, client credentials, personal
//! applications) and again each time one is validated or introspected, so
//! that a user demoted from administrator loses the administrators' scopes
//! on the tokens they already hold.
//!
//! The intersection is taken on what the sets *grant*, not on the names
//! they list: Funkwhale's `read` covers `read:instance:settings`, so a
//! non-administrator's `read` becomes every `read:*` scope but the
//! instance ones, never a `read` that would still grant them.

use std::sync::Arc;

use scope_runtime::{Scope, ScopeSet};

use crate::primitives::{Store, StoreError, TokenRecord, UserRecord};

/// The scopes reserved to administrators, by name prefix (Mastodon's
/// `admin:`, Funkwhale's `read:instance:` and `write:instance:`). Cheap to
/// clone.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ScopePolicy {
    admin_prefixes: Arc<[String]>,
}

impl Default for ScopePolicy {
    /// Mastodon's: `admin:`.
    fn default() -> Self {
        Self::new(["admin:"])
    }
}

impl ScopePolicy {
    /// Scopes whose names start with one of `admin_prefixes` are reserved
    /// to administrators.
    pub fn new(admin_prefixes: impl IntoIterator<Item = impl Into<String>>) -> Self {
        Self {
            admin_prefixes: admin_prefixes.into_iter().map(Into::into).collect(),
        }
    }

    /// The prefixes that name no scope of `S`.
    pub fn unmatched_prefixes<S: Scope>(&self) -> Vec<&str> {
        self.admin_prefixes
            .iter()
            .map(String::as_str)
            .filter(|p| !S::ALL.iter().any(|s| s.name().starts_with(p)))
            .collect()
    }

    /// The scopes reserved to administrators.
    pub fn reserved<S: Scope>(&self) -> ScopeSet<S> {
        S::ALL
            .iter()
            .copied()
            .filter(|s| {
                let name = s.name();
                self.admin_prefixes
                    .iter()
                    .any(|p| name.starts_with(p.as_str()))
            })
            .collect()
    }

    /// Whether a grant of `scopes` reaches a reserved scope, directly or
    /// through a parent or an alias: only then does the user's role matter.
    pub fn reaches_reserved<S: Scope>(&self, scopes: ScopeSet<S>) -> bool {
        !scopes.closure().is_disjoint(&self.reserved())
    }

    /// What the stored token `record` may do now, for every path that
    /// answers it (validation, introspection): its scopes as the hierarchy
    /// knows them (names it no longer knows are dropped, never fatal), less
    /// the reserved ones unless its user is an administrator now. The user
    /// is read from `store` only when the token reaches a reserved scope
    /// and `user` (the caller's copy, if it read it) is `None`.
    ///
    /// # Errors
    /// The store's, reading the user.
    pub async fn current<S: Scope, St: Store>(
        &self,
        store: &St,
        record: &TokenRecord,
        user: Option<&UserRecord>,
    ) -> Result<ScopeSet<S>, StoreError> {
        let scopes: ScopeSet<S> = scope_runtime::claims::known_scopes(&record.scopes);
        if !self.reaches_reserved(scopes) {
            return Ok(scopes);
        }
        let admin = match (user, record.user_id) {
            (Some(user), _) => user.admin,
            (None, Some(id)) => store.user(id).await?.is_some_and(|u| u.admin),
            (None, None) => false,
        };
        Ok(self.effective(scopes, None, admin))
    }

    /// What a grant of `token` may do, for an app registered with `app`
    /// (`None`: not checked again) and a user who is an administrator or
    /// not (app tokens have no user: `false`). `token` itself when nothing
    /// is cut; otherwise the smallest set that grants exactly what is left.
    pub fn effective<S: Scope>(
        &self,
        token: ScopeSet<S>,
        app: Option<ScopeSet<S>>,
        admin: bool,
    ) -> ScopeSet<S> {
        let mut allowed = token.closure();
        if let Some(app) = app {
            allowed = allowed.intersection(app.closure());
        }
        if !admin {
            allowed = allowed.difference(self.reserved());
        }
        if token.closure().is_subset(&allowed) {
            return token;
        }
        // Every scope whose whole grant is allowed (a parent stays only if
        // all it covers does), then without those another one grants.
        let whole: ScopeSet<S> = allowed
            .iter()
            .filter(|s| {
                std::iter::once(*s)
                    .collect::<ScopeSet<S>>()
                    .closure()
                    .is_subset(&allowed)
            })
            .collect();
        whole
            .iter()
            .filter(|s| {
                let mut others = whole;
                others.remove(*s);
                !others.grants(*s)
            })
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::ScopePolicy;
    use scope_runtime::{ScopeSet, scope_hierarchy};

    scope_hierarchy! {
        pub Fw {
            read { libraries, instance { settings, users } },
            write { libraries, instance { settings } },
        }
    }

    fn set(s: &str) -> ScopeSet<Fw> {
        s.parse().expect("scopes")
    }

    #[test]
    fn a_parent_loses_only_its_reserved_children() {
        let policy = ScopePolicy::new(["read:instance", "write:instance"]);
        let user = policy.effective(set("read write"), None, false);
        assert_eq!(user.to_string(), "read:libraries write:libraries");
        assert!(!user.grants(scope_runtime::scope!(Fw, "read:instance:settings")));
        assert_eq!(
            policy.effective(set("read write"), None, true),
            set("read write")
        );
        // Nothing reserved: the token as it is.
        assert_eq!(
            policy.effective(set("read:libraries"), None, false),
            set("read:libraries")
        );
    }

    #[test]
    fn the_app_bounds_the_token() {
        let policy = ScopePolicy::new(["read:instance"]);
        let cut = policy.effective(set("read"), Some(set("read:libraries read:instance")), true);
        assert_eq!(cut.to_string(), "read:libraries read:instance");
        assert!(policy.reaches_reserved(set("read")));
        assert!(!policy.reaches_reserved(set("write:libraries")));
    }
}
