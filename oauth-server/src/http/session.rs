//! Browser sessions of the login and consent pages.
//!
//! An anonymous visitor costs the server nothing: their cookie holds a
//! random value that is stored nowhere, and the CSRF token of their forms is
//! derived from it (a double-submit cookie: a cross-site form cannot read
//! the cookie, so it cannot send the token). A stranger sending a million
//! cookie-less requests fills no table and locks nobody out.
//!
//! A session row exists only after a successful login, in the [`Store`]
//! (so a login on one instance and the consent on another work), keyed by
//! the hash of a *new* cookie value (no session fixation), and at most
//! [`MAX_SESSIONS_PER_USER`] per user: the oldest go first, so logging in
//! again never fails.

use axum::response::Response;
use base64::Engine as _;
use base64::engine::general_purpose::URL_SAFE_NO_PAD;
use http::header::COOKIE;
use http::{HeaderMap, HeaderValue};
use sha2::{Digest, Sha256};
use subtle::ConstantTimeEq;

use crate::flows::{OAuthError, now};
use crate::primitives::Store;
use crate::secret::{self, SecretHash};

const COOKIE_NAME: &str = "oauth_session";
/// How long a logged-in session lives.
const SESSION_LIFETIME: i64 = 24 * 3600;
/// Live sessions kept per user (browsers, devices); the oldest go first.
pub(crate) const MAX_SESSIONS_PER_USER: u32 = 16;
/// Longest cookie value read; ours are 59 characters.
const MAX_COOKIE: usize = 128;

/// Who is looking at a page: the cookie that identifies their browser, and
/// the user it is logged in as, if any.
pub(crate) struct Visitor {
    /// The cookie value (random; never stored in clear).
    cookie: String,
    /// The cookie was made for this response: send it (`Set-Cookie`).
    fresh: bool,
    /// The logged-in user, if the cookie is a live session.
    pub(crate) user: Option<i64>,
}

impl Visitor {
    /// The visitor of `headers`: a live session, an anonymous visitor with
    /// a cookie, or a new anonymous visitor (`fresh`).
    ///
    /// # Errors
    /// 503 if the store fails.
    pub(crate) async fn of<St: Store>(store: &St, headers: &HeaderMap) -> Result<Self, OAuthError> {
        match cookie(headers) {
            Some(cookie) => {
                let user = store.session(SecretHash::of(&cookie), now()).await?;
                Ok(Self {
                    cookie,
                    fresh: false,
                    user,
                })
            }
            None => Ok(Self {
                cookie: secret::generate()?,
                fresh: true,
                user: None,
            }),
        }
    }

    /// Whether the browser sent a cookie: a form posted without one was not
    /// sent from our page (or the cookie was lost).
    pub(crate) fn has_cookie(&self) -> bool {
        !self.fresh
    }

    /// The CSRF token of this visitor's forms.
    pub(crate) fn csrf(&self) -> String {
        let mut h = Sha256::new();
        h.update(b"oauth-csrf\0");
        h.update(self.cookie.as_bytes());
        URL_SAFE_NO_PAD.encode(h.finalize())
    }

    /// Whether `sent` is this visitor's CSRF token (constant time).
    pub(crate) fn csrf_matches(&self, sent: Option<&str>) -> bool {
        let expected = self.csrf();
        bool::from(
            sent.unwrap_or_default()
                .as_bytes()
                .ct_eq(expected.as_bytes()),
        )
    }

    /// Logs `user_id` in: ends this browser's previous session, if any,
    /// and starts a new one under a new cookie value.
    ///
    /// # Errors
    /// 503 if the store fails.
    pub(crate) async fn log_in<St: Store>(
        &mut self,
        store: &St,
        user_id: i64,
    ) -> Result<(), OAuthError> {
        if self.user.is_some() {
            store.delete_session(SecretHash::of(&self.cookie)).await?;
        }
        let cookie = secret::generate()?;
        let now = now();
        store
            .create_session(
                SecretHash::of(&cookie),
                user_id,
                now,
                now.saturating_add(SESSION_LIFETIME),
                MAX_SESSIONS_PER_USER,
            )
            .await?;
        self.cookie = cookie;
        self.fresh = true;
        self.user = Some(user_id);
        Ok(())
    }

    /// Adds `Set-Cookie` to `response` when the cookie is new.
    pub(crate) fn set_cookie(&self, response: &mut Response, secure: bool) {
        if !self.fresh {
            return;
        }
        let secure = if secure { "; Secure" } else { "" };
        // The value is base64url and hex: always a valid header value.
        if let Ok(value) = HeaderValue::from_str(&format!(
            "{COOKIE_NAME}={}; Path=/; HttpOnly; SameSite=Lax{secure}",
            self.cookie
        )) {
            response
                .headers_mut()
                .append(http::header::SET_COOKIE, value);
        }
    }
}

/// Our cookie's value, if the request carries a plausible one.
fn cookie(headers: &HeaderMap) -> Option<String> {
    headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .find(|(k, _)| *k == COOKIE_NAME)
        .map(|(_, v)| v)
        .filter(|v| {
            !v.is_empty()
                && v.len() <= MAX_COOKIE
                && v.bytes()
                    .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_')
        })
        .map(str::to_owned)
}
