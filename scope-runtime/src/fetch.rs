//! What the validators that ask another server over HTTP share
//! (`introspect.rs`, `jwt.rs`): a bounded body read, and transport errors
//! that never repeat the URL's secrets.

use crate::token::TokenError;

/// The largest response read; a larger one is an error.
pub(crate) const MAX_RESPONSE: usize = 64 * 1024;

/// A transport error of `doing` (e.g. "token introspection at URL"),
/// with its causes: `reqwest`'s own message repeats the URL, which is left
/// out (the token is in the body, never in the URL).
pub(crate) fn unavailable(doing: &str, e: &reqwest::Error) -> TokenError {
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
    TokenError::Unavailable(format!("{doing} {what}{source}"))
}

/// The body, or `None` when it exceeds [`MAX_RESPONSE`].
pub(crate) async fn read_limited(
    mut response: reqwest::Response,
) -> reqwest::Result<Option<Vec<u8>>> {
    if response
        .content_length()
        .is_some_and(|n| n > MAX_RESPONSE as u64)
    {
        return Ok(None);
    }
    let mut body = Vec::new();
    while let Some(chunk) = response.chunk().await? {
        if body.len() + chunk.len() > MAX_RESPONSE {
            return Ok(None);
        }
        body.extend_from_slice(&chunk);
    }
    Ok(Some(body))
}
