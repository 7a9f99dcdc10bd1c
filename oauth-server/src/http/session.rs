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

/// The cookie's name under an `http://` issuer (development).
const COOKIE_NAME: &str = "oauth_session";
/// Its name under an `https://` issuer: the `__Host-` prefix makes
/// browsers refuse it unless it is `Secure`, host-only and `Path=/`, so a
/// sibling subdomain cannot plant one (cookie fixation, login CSRF).
const SECURE_COOKIE_NAME: &str = "__Host-oauth_session";
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
    /// Whether the issuer is `https://`: the cookie is then `Secure` and
    /// `__Host-` prefixed.
    secure: bool,
}

impl Visitor {
    /// The visitor of `headers`: a live session, an anonymous visitor with
    /// a cookie, or a new anonymous visitor (`fresh`); `secure` for an
    /// `https://` issuer.
    ///
    /// # Errors
    /// 503 if the store fails.
    pub(crate) async fn of<St: Store>(
        store: &St,
        headers: &HeaderMap,
        secure: bool,
    ) -> Result<Self, OAuthError> {
        let name = if secure {
            SECURE_COOKIE_NAME
        } else {
            COOKIE_NAME
        };
        match cookie(headers, name) {
            Some(cookie) => {
                let user = store.session(SecretHash::of(&cookie), now()).await?;
                Ok(Self {
                    cookie,
                    fresh: false,
                    user,
                    secure,
                })
            }
            None => Ok(Self {
                cookie: secret::generate()?,
                fresh: true,
                user: None,
                secure,
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

    /// Adds `Set-Cookie` to `response` when the cookie is new: a browser
    /// session cookie for an anonymous visitor, one that lives as long as
    /// the session once logged in.
    pub(crate) fn set_cookie(&self, response: &mut Response) {
        if !self.fresh {
            return;
        }
        let (name, secure) = if self.secure {
            (SECURE_COOKIE_NAME, "; Secure")
        } else {
            (COOKIE_NAME, "")
        };
        let max_age = if self.user.is_some() {
            format!("; Max-Age={SESSION_LIFETIME}")
        } else {
            String::new()
        };
        // The value is base64url and hex: always a valid header value.
        if let Ok(value) = HeaderValue::from_str(&format!(
            "{name}={}; Path=/; HttpOnly; SameSite=Lax{secure}{max_age}",
            self.cookie
        )) {
            response
                .headers_mut()
                .append(http::header::SET_COOKIE, value);
        }
    }
}

/// The value of cookie `name`, if the request carries exactly one
/// plausible one: two (one planted beside ours) are ambiguous, and count as
/// none.
fn cookie(headers: &HeaderMap, name: &str) -> Option<String> {
    let mut values = headers
        .get_all(COOKIE)
        .iter()
        .filter_map(|v| v.to_str().ok())
        .flat_map(|v| v.split(';'))
        .filter_map(|pair| pair.trim().split_once('='))
        .filter(|(k, _)| *k == name)
        .map(|(_, v)| v);
    let value = values.next()?;
    if values.next().is_some() {
        return None;
    }
    let plausible = !value.is_empty()
        && value.len() <= MAX_COOKIE
        && value
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    plausible.then(|| value.to_owned())
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::store::MemoryStore;

    fn headers(cookie: &str) -> HeaderMap {
        let mut h = HeaderMap::new();
        h.insert(COOKIE, HeaderValue::from_str(cookie).expect("header"));
        h
    }

    fn set_cookie(visitor: &Visitor) -> String {
        let mut response = Response::default();
        visitor.set_cookie(&mut response);
        response.headers()[http::header::SET_COOKIE]
            .to_str()
            .expect("ascii")
            .to_owned()
    }

    #[tokio::test]
    async fn under_https_the_cookie_is_host_prefixed_and_secure() {
        let store = MemoryStore::new();
        let mut visitor = Visitor::of(&store, &HeaderMap::new(), true)
            .await
            .expect("visitor");
        let anonymous = set_cookie(&visitor);
        assert!(
            anonymous.starts_with("__Host-oauth_session="),
            "{anonymous}"
        );
        assert!(anonymous.contains("; Path=/") && anonymous.contains("; Secure"));
        assert!(!anonymous.contains("Max-Age"), "a browser-session cookie");
        let user = store.create_user("u", "x", false).await.expect("user").id;
        visitor.log_in(&store, user).await.expect("login");
        assert!(set_cookie(&visitor).contains("; Max-Age=86400"));
        // The unprefixed name (settable by a sibling subdomain) is not read.
        let planted = Visitor::of(&store, &headers("oauth_session=abc"), true)
            .await
            .expect("visitor");
        assert!(!planted.has_cookie());
        let http = Visitor::of(&store, &HeaderMap::new(), false)
            .await
            .expect("visitor");
        let plain = set_cookie(&http);
        assert!(plain.starts_with("oauth_session=") && !plain.contains("Secure"));
    }

    #[tokio::test]
    async fn two_cookies_of_our_name_count_as_none() {
        let store = MemoryStore::new();
        let one = Visitor::of(&store, &headers("oauth_session=abc"), false)
            .await
            .expect("visitor");
        assert!(one.has_cookie());
        let two = Visitor::of(
            &store,
            &headers("oauth_session=planted; oauth_session=abc"),
            false,
        )
        .await
        .expect("visitor");
        assert!(!two.has_cookie(), "ambiguous: a planted cookie beside ours");
    }
}
