//! The token endpoint's grants (RFC 6749 §4.1.3, §4.4, §6; RFC 7636 §4.6),
//! revocation (RFC 7009) and introspection (RFC 7662).

use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use scope_runtime::{Scope, ScopeSet};
use serde::{Deserialize, Serialize};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use super::{AuthServer, OAuthError, Revocation, now};
use crate::jwt::AccessTokenClaims;
use crate::primitives::{ClientRecord, CodeRecord, Redeemed, Rotated, Store, TokenRecord};
use crate::secret::{self, SecretHash};

/// The form of `POST /oauth/token`. Unknown parameters are ignored
/// (RFC 6749 §3.2).
#[derive(Clone, Default, Deserialize)]
pub struct TokenRequest {
    /// `authorization_code`, `refresh_token` or `client_credentials`.
    pub grant_type: Option<String>,
    /// The authorization code.
    pub code: Option<String>,
    /// Must match the authorization request's.
    pub redirect_uri: Option<String>,
    /// Client id, when not sent with HTTP Basic.
    pub client_id: Option<String>,
    /// Client secret, when not sent with HTTP Basic.
    pub client_secret: Option<String>,
    /// The refresh token.
    pub refresh_token: Option<String>,
    /// Requested scopes (client credentials; narrowing on refresh).
    pub scope: Option<String>,
    /// PKCE verifier.
    pub code_verifier: Option<String>,
}

/// Secrets redacted.
impl std::fmt::Debug for TokenRequest {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("TokenRequest")
            .field("grant_type", &self.grant_type)
            .field("redirect_uri", &self.redirect_uri)
            .field("client_id", &self.client_id)
            .field("scope", &self.scope)
            .finish_non_exhaustive()
    }
}

/// A token response (Mastodon's Token entity plus RFC 6749 §5.1 fields).
#[derive(Clone, Serialize)]
pub struct IssuedToken {
    /// The bearer token.
    pub access_token: String,
    /// Always `Bearer`.
    pub token_type: &'static str,
    /// Granted scopes.
    pub scope: String,
    /// Issue time, Unix seconds.
    pub created_at: i64,
    /// Seconds until the access token expires.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub expires_in: Option<u64>,
    /// The refresh token, for authorization-code grants.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub refresh_token: Option<String>,
}

/// Secrets redacted.
impl std::fmt::Debug for IssuedToken {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_struct("IssuedToken")
            .field("scope", &self.scope)
            .field("created_at", &self.created_at)
            .field("expires_in", &self.expires_in)
            .finish_non_exhaustive()
    }
}

/// An RFC 7662 introspection response.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Introspection {
    /// Whether the token is valid now.
    pub active: bool,
    /// Granted scopes.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub scope: Option<String>,
    /// The client.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub client_id: Option<String>,
    /// The user's name.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub username: Option<String>,
    /// `Bearer`.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub token_type: Option<&'static str>,
    /// Expiry.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub exp: Option<i64>,
    /// Issue time.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub iat: Option<i64>,
    /// The user's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub sub: Option<String>,
    /// The grant's id.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub jti: Option<String>,
}

impl Introspection {
    fn inactive() -> Self {
        Self {
            active: false,
            scope: None,
            client_id: None,
            username: None,
            token_type: None,
            exp: None,
            iat: None,
            sub: None,
            jti: None,
        }
    }
}

/// RFC 7636 §4.6.
fn pkce_matches(code: &CodeRecord, verifier: &str) -> bool {
    let (Some(challenge), Some(method)) = (&code.challenge, &code.challenge_method) else {
        return false;
    };
    if !super::authorize::is_pkce_value(verifier) {
        return false;
    }
    let computed = match method.as_str() {
        "S256" => URL_SAFE_NO_PAD.encode(Sha256::digest(verifier.as_bytes())),
        "plain" => verifier.to_owned(),
        _ => return false,
    };
    computed.as_bytes().ct_eq(challenge.as_bytes()).into()
}

impl<S: Scope, St: Store> AuthServer<S, St> {
    fn lifetime(&self) -> i64 {
        i64::try_from(self.config.access_token_lifetime.as_secs()).unwrap_or(i64::MAX)
    }

    /// Mints a token record and the secrets to hand out.
    fn mint(
        &self,
        client: &ClientRecord,
        user_id: Option<i64>,
        scopes: &ScopeSet<S>,
        refresh: bool,
        family: Option<String>,
        code_hash: Option<SecretHash>,
    ) -> Result<(TokenRecord, IssuedToken), OAuthError> {
        let id = secret::ordered_id()?;
        let created_at = now();
        let lifetime = self.lifetime();
        let expires_at = created_at.saturating_add(lifetime);
        let scope = scopes.to_string();
        let access = match &self.config.jwt_keys {
            // RFC 9068; the store keeps its hash like an opaque token's (see
            // `crate::jwt` for why), with the record's id as `jti`.
            Some(keys) => keys
                .sign(&AccessTokenClaims::new(
                    &self.config.issuer,
                    self.config.access_token_audience(),
                    &client.client_id,
                    user_id.map(|u| u.to_string()),
                    scope.clone(),
                    created_at,
                    expires_at,
                    &id,
                ))
                .map_err(|e| {
                    tracing::error!(error = %e, "cannot sign a JWT access token");
                    OAuthError::server_error()
                })?,
            None => secret::generate()?,
        };
        let refresh_token = if refresh {
            Some(secret::generate()?)
        } else {
            None
        };
        let record = TokenRecord {
            id,
            access_hash: SecretHash::of(&access),
            refresh_hash: refresh_token.as_deref().map(SecretHash::of),
            client_id: client.client_id.clone(),
            user_id,
            scopes: scope,
            created_at,
            expires_at: Some(expires_at),
            family: match family {
                Some(f) => f,
                None => secret::ordered_id()?,
            },
            code_hash,
            revoked: false,
        };
        let issued = IssuedToken {
            access_token: access,
            token_type: "Bearer",
            scope: record.scopes.clone(),
            created_at,
            expires_in: u64::try_from(lifetime).ok(),
            refresh_token,
        };
        Ok((record, issued))
    }

    /// Runs the token endpoint for an authenticated `client`. Every token is
    /// in the store before this returns.
    ///
    /// # Errors
    /// The documented OAuth errors: `invalid_grant` (unknown, expired,
    /// replayed or foreign code; PKCE failure; reused refresh token; a
    /// code or refresh token of a disabled user),
    /// `invalid_scope`, `unsupported_grant_type`, `invalid_request`.
    pub async fn token(
        &self,
        client: &ClientRecord,
        req: &TokenRequest,
    ) -> Result<IssuedToken, OAuthError> {
        match req.grant_type.as_deref() {
            Some("authorization_code") => self.exchange_code(client, req).await,
            Some("refresh_token") => self.refresh(client, req).await,
            Some("client_credentials") => self.client_credentials(client, req).await,
            Some(_) => Err(OAuthError::unsupported_grant_type()),
            None => Err(OAuthError::invalid_request("grant_type is missing")),
        }
    }

    async fn exchange_code(
        &self,
        client: &ClientRecord,
        req: &TokenRequest,
    ) -> Result<IssuedToken, OAuthError> {
        let code = req
            .code
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("code is missing"))?;
        let hash = SecretHash::of(code);
        let Some((code, spent)) = self.store.code(hash).await? else {
            return Err(OAuthError::invalid_grant());
        };
        // Another client learns nothing and changes nothing: it can neither
        // spend the code nor trigger the replay revocation.
        if code.client_id != client.client_id {
            return Err(OAuthError::invalid_grant());
        }
        if spent {
            // RFC 6749 §4.1.2: a code used twice revokes what it issued.
            let n = self.store.revoke_by_code(hash).await?;
            // Only when something was revoked: replaying a spent code again
            // must not make every cache and open stream check again.
            if n > 0 {
                self.revoked(Revocation::Grant {
                    user: Some(code.user_id),
                });
            }
            tracing::warn!(client_id = %client.client_id, revoked = n, "authorization code replayed");
            return Err(OAuthError::invalid_grant());
        }
        if code.expires_at <= now() {
            return Err(OAuthError::invalid_grant());
        }
        // RFC 6749 §4.1.3: required, and identical, when the authorization
        // request carried one; when it did not (a client with one URI),
        // optional, and the one used if sent.
        match req.redirect_uri.as_deref() {
            Some(uri) if uri == code.redirect_uri => {}
            None if !code.redirect_uri_given => {}
            _ => return Err(OAuthError::invalid_grant()),
        }
        match (&code.challenge, req.code_verifier.as_deref()) {
            (Some(_), Some(verifier)) if pkce_matches(&code, verifier) => {}
            (None, None) => {}
            // A verifier without a challenge is a downgrade attempt
            // (RFC 9700 §2.1.1); a challenge without a verifier, a failure.
            _ => return Err(OAuthError::invalid_grant()),
        }
        self.refuse_disabled(Some(code.user_id)).await?;
        let scopes = ScopeSet::<S>::parse(&code.scopes).map_err(|_| OAuthError::invalid_grant())?;
        let scopes = self.grantable(client, Some(code.user_id), scopes).await?;
        let (record, issued) = self.mint(
            client,
            Some(code.user_id),
            &scopes,
            self.config.refresh_tokens,
            None,
            Some(hash),
        )?;
        // Spending the code and storing the token is one atomic step: a
        // concurrent replay either loses or revokes this very token.
        match self.store.redeem_code(hash, record).await? {
            Redeemed::Issued => Ok(issued),
            Redeemed::Replayed => {
                // The store revoked what the code issued.
                self.revoked(Revocation::Grant {
                    user: Some(code.user_id),
                });
                tracing::warn!(client_id = %client.client_id, "authorization code replayed concurrently");
                Err(OAuthError::invalid_grant())
            }
            Redeemed::Unknown => Err(OAuthError::invalid_grant()),
        }
    }

    async fn refresh(
        &self,
        client: &ClientRecord,
        req: &TokenRequest,
    ) -> Result<IssuedToken, OAuthError> {
        let refresh = req
            .refresh_token
            .as_deref()
            .ok_or_else(|| OAuthError::invalid_request("refresh_token is missing"))?;
        let hash = SecretHash::of(refresh);
        let Some(old) = self.store.token_by_refresh(hash).await? else {
            return Err(OAuthError::invalid_grant());
        };
        if old.client_id != client.client_id {
            return Err(OAuthError::invalid_grant());
        }
        // Refused before rotating: the refresh token stays usable for when
        // the user is enabled again.
        self.refuse_disabled(old.user_id).await?;
        let granted = ScopeSet::<S>::parse(&old.scopes).map_err(|_| OAuthError::invalid_grant())?;
        let asked = match req.scope.as_deref().filter(|s| !s.trim().is_empty()) {
            None => granted,
            Some(asked) => ScopeSet::<S>::parse(asked).map_err(|_| OAuthError::invalid_scope())?,
        };
        // What the user may have now, of what is asked: a user demoted
        // since the grant loses the reserved scopes, and a non-admin's
        // `read` means what it meant at the grant (the `read:*` scopes but
        // the reserved ones).
        let scopes = self.grantable(client, old.user_id, asked).await?;
        // A refresh can narrow the grant, never widen it.
        if !granted.grants_all(&scopes) || (scopes.is_empty() && !asked.is_empty()) {
            return Err(OAuthError::invalid_scope());
        }
        let (record, issued) = self.mint(
            client,
            old.user_id,
            &scopes,
            true,
            Some(old.family.clone()),
            old.code_hash,
        )?;
        match self.store.rotate_refresh(hash, record).await? {
            Rotated::Done => {
                // The replaced access token stops working at once in every
                // cache of this process (PostgreSQL also tells the others).
                self.revoked(Revocation::AccessTokenDigest(*old.access_hash.digest()));
                Ok(issued)
            }
            Rotated::Reused { family } => {
                // RFC 9700 §4.14.2: reuse of a rotated refresh token revokes
                // the whole family, the attacker's copy and the victim's.
                let n = self.store.revoke_family(&family).await?;
                if n > 0 {
                    self.revoked(Revocation::Grant { user: old.user_id });
                }
                tracing::warn!(client_id = %client.client_id, revoked = n, "refresh token reused");
                Err(OAuthError::invalid_grant())
            }
            Rotated::Unknown => Err(OAuthError::invalid_grant()),
        }
    }

    async fn client_credentials(
        &self,
        client: &ClientRecord,
        req: &TokenRequest,
    ) -> Result<IssuedToken, OAuthError> {
        let scopes = ScopeSet::<S>::parse_requested(req.scope.as_deref().unwrap_or_default())
            .map_err(|_| OAuthError::invalid_scope())?;
        let allowed = ScopeSet::<S>::parse(&client.scopes).unwrap_or_default();
        if !allowed.grants_all(&scopes) {
            return Err(OAuthError::invalid_scope());
        }
        // An app token has no user: it never carries a reserved scope. A
        // request for nothing but those is refused rather than answered
        // with an empty token.
        let granted = self.grantable(client, None, scopes).await?;
        if granted.is_empty() && !scopes.is_empty() {
            return Err(OAuthError::invalid_scope());
        }
        let scopes = granted;
        let (record, issued) = self.mint(client, None, &scopes, false, None, None)?;
        self.store.insert_token(record).await?;
        Ok(issued)
    }

    /// Issues a token for a personal application of `user_id` (Funkwhale's
    /// `/settings/applications/new`): no consent round trip, no refresh.
    ///
    /// # Errors
    /// As [`AuthServer::register_app`]; `invalid_grant` if the user is
    /// disabled.
    pub async fn personal_token(
        &self,
        user_id: i64,
        app: super::AppRegistration,
    ) -> Result<(super::RegisteredApp, IssuedToken), OAuthError> {
        self.refuse_disabled(Some(user_id)).await?;
        let registered = self.register_app(app, Some(user_id)).await?;
        let scopes = ScopeSet::<S>::parse(&registered.record.scopes)
            .map_err(|_| OAuthError::invalid_scope())?;
        let scopes = self
            .grantable(&registered.record, Some(user_id), scopes)
            .await?;
        let (record, issued) = self.mint(
            &registered.record,
            Some(user_id),
            &scopes,
            false,
            None,
            None,
        )?;
        self.store.insert_token(record).await?;
        Ok((registered, issued))
    }

    async fn find_token(&self, token: &str) -> Result<Option<(TokenRecord, bool)>, OAuthError> {
        let hash = SecretHash::of(token);
        if let Some(t) = self.store.token_by_access(hash).await? {
            return Ok(Some((t, false)));
        }
        Ok(self.store.token_by_refresh(hash).await?.map(|t| (t, true)))
    }

    /// Revokes `token` (access or refresh) for its `client` (RFC 7009).
    /// Idempotent: an unknown or already revoked token is not an error.
    ///
    /// # Errors
    /// 403 `unauthorized_client` for a token of another client.
    pub async fn revoke(&self, client: &ClientRecord, token: &str) -> Result<(), OAuthError> {
        let Some((record, is_refresh)) = self.find_token(token).await? else {
            return Ok(());
        };
        if record.client_id != client.client_id {
            return Err(OAuthError::not_your_token());
        }
        if is_refresh {
            // Revoking the refresh token ends the grant (RFC 7009 §2.1).
            self.store.revoke_family(&record.family).await?;
        } else {
            self.store.revoke_token(&record.id).await?;
        }
        if !record.revoked {
            self.revoked(if is_refresh {
                Revocation::Grant {
                    user: record.user_id,
                }
            } else {
                Revocation::AccessToken(token)
            });
        }
        tracing::info!(client_id = %client.client_id, token_id = %record.id, "token revoked");
        Ok(())
    }

    /// What `caller` may learn about `token` (RFC 7662): everything about
    /// its own tokens, or about any token for a configured resource server;
    /// `active: false` otherwise.
    ///
    /// # Errors
    /// 503 if the store fails.
    pub async fn introspect(
        &self,
        caller: &ClientRecord,
        token: &str,
    ) -> Result<Introspection, OAuthError> {
        let Some((record, is_refresh)) = self.find_token(token).await? else {
            return Ok(Introspection::inactive());
        };
        // RFC 7662 §4: a client learns about its own tokens only, unless it
        // is a configured resource server.
        if record.client_id != caller.client_id
            && !self.config.resource_servers.contains(&caller.client_id)
        {
            return Ok(Introspection::inactive());
        }
        let expired = !is_refresh && record.expires_at.is_some_and(|e| e <= now());
        if record.revoked || expired {
            return Ok(Introspection::inactive());
        }
        let user = match record.user_id {
            Some(id) => self.store.user(id).await?,
            None => None,
        };
        // A disabled user's tokens are not active while the user is.
        if user.as_ref().is_some_and(|u| u.disabled) {
            return Ok(Introspection::inactive());
        }
        // What the token may do now (a demoted administrator's loses the
        // reserved scopes): the one function the validator answers with.
        let scope = self
            .policy
            .current::<S, St>(&self.store, &record, user.as_ref())
            .await?
            .to_string();
        let username = user.map(|u| u.username);
        Ok(Introspection {
            active: true,
            scope: Some(scope),
            client_id: Some(record.client_id),
            username,
            token_type: Some(if is_refresh {
                "refresh_token"
            } else {
                "Bearer"
            }),
            exp: if is_refresh { None } else { record.expires_at },
            iat: Some(record.created_at),
            sub: record.user_id.map(|id| id.to_string()),
            jti: Some(record.id),
        })
    }
}
