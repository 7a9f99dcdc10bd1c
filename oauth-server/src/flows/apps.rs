//! App registration (Mastodon `POST /api/v1/apps`, Funkwhale
//! `POST /api/v1/oauth/apps`).

use scope_runtime::{Scope, ScopeSet};

use super::{AuthServer, OAuthError, now};
use crate::primitives::{ClientRecord, NewClient, Store};
use crate::secret::{self, SecretHash};

/// The out-of-band redirect URI: the code is shown instead of redirected.
pub const OOB: &str = "urn:ietf:wg:oauth:2.0:oob";

/// What a client sends to register.
#[derive(Debug, Clone, Default)]
pub struct AppRegistration {
    /// `client_name` (`name` on Funkwhale).
    pub client_name: String,
    /// `redirect_uris`: one or more, whitespace-separated in a string.
    pub redirect_uris: Vec<String>,
    /// `scopes`; `None` or empty means `read`.
    pub scopes: Option<String>,
    /// `website`.
    pub website: Option<String>,
}

/// A registered app and its secret, shown once.
#[derive(Clone)]
pub struct RegisteredApp {
    /// The stored record.
    pub record: ClientRecord,
    /// The `client_secret` in clear: returned to the client, never stored.
    pub client_secret: String,
}

/// The secret redacted.
impl std::fmt::Debug for RegisteredApp {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("RegisteredApp")
            .field("record", &self.record)
            .finish_non_exhaustive()
    }
}

/// An absolute URI (RFC 3986 §4.3: a scheme, no fragment), or the OOB URN.
fn is_absolute_uri(uri: &str) -> bool {
    let Some((scheme, rest)) = uri.split_once(':') else {
        return false;
    };
    // Schemes a browser would run or render instead of handing to an app.
    if ["javascript", "data", "vbscript", "file"]
        .iter()
        .any(|s| scheme.eq_ignore_ascii_case(s))
    {
        return false;
    }
    let mut chars = scheme.chars();
    chars.next().is_some_and(|c| c.is_ascii_alphabetic())
        && chars.all(|c| c.is_ascii_alphanumeric() || matches!(c, '+' | '-' | '.'))
        && !rest.is_empty()
        && !uri.contains('#')
        && !uri.chars().any(|c| c.is_whitespace() || c.is_control())
}

impl<S: Scope, St: Store> AuthServer<S, St> {
    /// Registers an app; `owner` makes it a personal application.
    ///
    /// # Errors
    /// 422 with Mastodon's validation messages for a missing name, a
    /// missing or non-absolute redirect URI, or an unknown scope.
    pub async fn register_app(
        &self,
        app: AppRegistration,
        owner: Option<i64>,
    ) -> Result<RegisteredApp, OAuthError> {
        let name = app.client_name.trim();
        if name.is_empty() {
            return Err(OAuthError::validation(
                "Validation failed: Name can't be blank",
            ));
        }
        if name.chars().count() > 60 {
            return Err(OAuthError::validation(
                "Validation failed: Name is too long (maximum is 60 characters)",
            ));
        }
        let uris: Vec<String> = app
            .redirect_uris
            .iter()
            .flat_map(|u| u.split_whitespace())
            .map(str::to_owned)
            .collect();
        if uris.is_empty() {
            return Err(OAuthError::validation(
                "Validation failed: Redirect URI can't be blank",
            ));
        }
        // Mastodon caps each URI at 2,000 characters; the count keeps one
        // registration (and every code issued for it) small.
        if uris.len() > 16 || uris.iter().any(|u| u.len() > 2000) {
            return Err(OAuthError::validation(
                "Validation failed: Redirect URI is too long (at most 16 URIs of 2000 characters)",
            ));
        }
        if uris.iter().any(|u| !is_absolute_uri(u)) {
            return Err(OAuthError::validation(
                "Validation failed: Redirect URI must be an absolute URI.",
            ));
        }
        let scopes = ScopeSet::<S>::parse_requested(app.scopes.as_deref().unwrap_or_default())
            .map_err(|e| {
                OAuthError::validation(format!("Validation failed: Scopes are invalid ({e})"))
            })?;
        let client_secret = secret::generate()?;
        let record = self
            .store
            .create_client(NewClient {
                client_id: secret::generate()?,
                secret_hash: SecretHash::of(&client_secret),
                name: name.to_owned(),
                redirect_uris: uris,
                scopes: scopes.to_string(),
                website: app.website.filter(|w| !w.trim().is_empty()),
                owner,
                created_at: now(),
            })
            .await?;
        tracing::info!(client_id = %record.client_id, name = ?record.name, "app registered");
        Ok(RegisteredApp {
            record,
            client_secret,
        })
    }
}

#[cfg(test)]
mod tests {
    use super::is_absolute_uri;

    #[test]
    fn absolute_uris() {
        assert!(is_absolute_uri("https://app.example/cb"));
        assert!(is_absolute_uri("myapp://oauth"));
        assert!(is_absolute_uri(super::OOB));
        assert!(!is_absolute_uri("/relative"));
        assert!(!is_absolute_uri("app.example/cb"));
        assert!(!is_absolute_uri("https://app.example/cb#frag"));
        assert!(!is_absolute_uri("1http://x"));
        assert!(!is_absolute_uri("https:"));
        assert!(!is_absolute_uri("javascript:alert(1)"));
        assert!(!is_absolute_uri("DATA:text/html,x"));
    }
}
