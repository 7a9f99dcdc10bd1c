//! What the validators that ask another server over HTTP share
//! (`introspect.rs`, the JWKS fetch of `jwt/keys.rs`): the client they
//! build, the endpoint shown without its password, a bounded body read,
//! and transport errors that never repeat the URL's secrets.

use std::fmt;
use std::sync::Arc;

use crate::token::TokenError;

/// The largest response read; a larger one is an error.
pub(crate) const MAX_RESPONSE: usize = 64 * 1024;

/// The HTTP client a validator builds unless it is given one: no
/// redirects (a redirected POST would lose its body, and a followed
/// redirect would send the request somewhere else than configured).
pub(crate) fn client() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        // Building fails only when the TLS backend cannot initialize;
        // `Client::new` then fails the same way, loudly.
        .unwrap_or_else(|_| reqwest::Client::new())
}

/// A URL a validator asks, and how messages show it: with `***` for the
/// password it may carry. `Debug` shows that form only.
#[derive(Clone)]
pub(crate) struct Endpoint {
    url: reqwest::Url,
    shown: Arc<str>,
    /// What it is, for messages: "the introspection endpoint".
    name: &'static str,
}

impl fmt::Debug for Endpoint {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        fmt::Debug::fmt(&self.shown, f)
    }
}

/// Whether `answered` (a response's final URL) is `endpoint` (userinfo
/// aside).
pub(crate) fn same_resource(answered: &reqwest::Url, endpoint: &reqwest::Url) -> bool {
    answered.scheme() == endpoint.scheme()
        && answered.host_str() == endpoint.host_str()
        && answered.port_or_known_default() == endpoint.port_or_known_default()
        && answered.path() == endpoint.path()
        && answered.query() == endpoint.query()
}

impl Endpoint {
    /// `url`, named `name` in messages.
    pub(crate) fn new(url: reqwest::Url, name: &'static str) -> Self {
        let mut shown = url.clone();
        if shown.password().is_some() {
            let _ = shown.set_password(Some("***"));
        }
        Self {
            shown: shown.as_str().into(),
            url,
            name,
        }
    }

    /// The URL, password included.
    pub(crate) fn url(&self) -> &reqwest::Url {
        &self.url
    }

    /// The URL for messages, without its password.
    pub(crate) fn shown(&self) -> &str {
        &self.shown
    }

    /// A transport error of a request to the endpoint, with its causes:
    /// `reqwest`'s own message repeats the URL, which is left out (a token
    /// is in the body, never in the URL).
    pub(crate) fn unavailable(&self, e: &reqwest::Error) -> TokenError {
        let what = if e.is_timeout() {
            "timed out"
        } else if e.is_connect() {
            "could not connect"
        } else {
            "failed"
        };
        let mut source = String::new();
        let mut cause: Option<&dyn std::error::Error> = std::error::Error::source(e);
        while let Some(c) = cause {
            source.push_str(": ");
            source.push_str(&c.to_string());
            cause = c.source();
        }
        TokenError::Unavailable(format!("{} {} {what}{source}", self.name, self.shown))
    }

    /// Refuses an answer that came from another URL than the endpoint's: a
    /// client of the caller's that follows redirects would otherwise take
    /// introspection answers or signing keys from wherever a redirect led.
    ///
    /// # Errors
    /// [`TokenError::Unavailable`] when `response` comes from elsewhere.
    pub(crate) fn answered_here(&self, response: &reqwest::Response) -> Result<(), TokenError> {
        if same_resource(response.url(), &self.url) {
            return Ok(());
        }
        Err(TokenError::Unavailable(format!(
            "{} {} redirected; configure its final URL",
            self.name, self.shown
        )))
    }

    /// The error of an answer with an unexpected HTTP status.
    pub(crate) fn status(&self, status: reqwest::StatusCode) -> TokenError {
        TokenError::Unavailable(format!(
            "{} {} answered HTTP {status}",
            self.name, self.shown
        ))
    }

    /// The body of `response`, read up to [`MAX_RESPONSE`] bytes.
    ///
    /// # Errors
    /// [`TokenError::Unavailable`] for a transport error or a larger body.
    pub(crate) async fn body(
        &self,
        mut response: reqwest::Response,
    ) -> Result<Vec<u8>, TokenError> {
        let too_large = || {
            TokenError::Unavailable(format!(
                "the answer of {} {} is larger than {MAX_RESPONSE} bytes",
                self.name, self.shown
            ))
        };
        if response
            .content_length()
            .is_some_and(|n| n > MAX_RESPONSE as u64)
        {
            return Err(too_large());
        }
        let mut body = Vec::new();
        while let Some(chunk) = response.chunk().await.map_err(|e| self.unavailable(&e))? {
            if body.len() + chunk.len() > MAX_RESPONSE {
                return Err(too_large());
            }
            body.extend_from_slice(&chunk);
        }
        Ok(body)
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_password_is_never_shown() {
        let url = "https://rs:hunter2@auth.example/oauth/introspect"
            .parse()
            .expect("url");
        let endpoint = Endpoint::new(url, "the introspection endpoint");
        assert_eq!(
            endpoint.shown(),
            "https://rs:***@auth.example/oauth/introspect"
        );
        assert!(!format!("{endpoint:?}").contains("hunter2"));
        assert!(endpoint.url().password() == Some("hunter2"));
    }
}
