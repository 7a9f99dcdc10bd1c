//! Reading `Authorization: Bearer <token>` (RFC 6750 §2.1) without ever
//! failing on what a client sends.

use http::HeaderMap;
use http::header::AUTHORIZATION;

/// Longest credentials accepted; longer headers are refused unread.
pub(crate) const MAX_CREDENTIALS: usize = 4096;

/// Why an `Authorization` header could not be read as a bearer token.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Malformed {
    Several,
    TooLong,
    NotVisibleAscii,
    Empty,
    NotToken68,
}

impl Malformed {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Several => "more than one Authorization header",
            Self::TooLong => "the Authorization header is too long",
            Self::NotVisibleAscii => "the Authorization header is not visible ASCII",
            Self::Empty => "the bearer token is empty",
            Self::NotToken68 => "the bearer token is not a single token68 value",
        }
    }
}

/// The bearer token of the request: `Ok(None)` when there is no
/// `Authorization` header or it uses another scheme (RFC 6750 §3.1: no
/// bearer credentials), `Err` when a bearer header cannot be read.
pub(crate) fn token(headers: &HeaderMap) -> Result<Option<&str>, Malformed> {
    let mut values = headers.get_all(AUTHORIZATION).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() {
        return Err(Malformed::Several);
    }
    if value.len() > MAX_CREDENTIALS {
        return Err(Malformed::TooLong);
    }
    let value = value.to_str().map_err(|_| Malformed::NotVisibleAscii)?;
    let (scheme, rest) = value.split_once(' ').unwrap_or((value, ""));
    if !scheme.eq_ignore_ascii_case("bearer") {
        return Ok(None);
    }
    let token = rest.trim_matches(' ');
    if token.is_empty() {
        return Err(Malformed::Empty);
    }
    if !is_token68(token) {
        return Err(Malformed::NotToken68);
    }
    Ok(Some(token))
}

/// `token68 = 1*( ALPHA / DIGIT / "-" / "." / "_" / "~" / "+" / "/" ) *"="`
fn is_token68(s: &str) -> bool {
    let body = s.trim_end_matches('=');
    !body.is_empty()
        && body.bytes().all(|b| {
            b.is_ascii_alphanumeric() || matches!(b, b'-' | b'.' | b'_' | b'~' | b'+' | b'/')
        })
}

#[cfg(test)]
mod tests {
    use super::*;
    use http::HeaderValue;

    fn headers(values: &[&[u8]]) -> HeaderMap {
        let mut h = HeaderMap::new();
        for v in values {
            h.append(
                AUTHORIZATION,
                HeaderValue::from_bytes(v).expect("header bytes"),
            );
        }
        h
    }

    #[test]
    fn reads_bearer_tokens() {
        assert_eq!(
            token(&headers(&[b"Bearer abc.DEF-123_~+/=="])),
            Ok(Some("abc.DEF-123_~+/=="))
        );
        assert_eq!(token(&headers(&[b"bearer  abc "])), Ok(Some("abc")));
        assert_eq!(token(&headers(&[])), Ok(None));
        assert_eq!(token(&headers(&[b"Basic dXNlcjpwYXNz"])), Ok(None));
    }

    #[test]
    fn refuses_malformed_headers() {
        assert_eq!(
            token(&headers(&[b"Bearer a", b"Bearer b"])),
            Err(Malformed::Several)
        );
        assert_eq!(
            token(&headers(&[b"Bearer a b"])),
            Err(Malformed::NotToken68)
        );
        assert_eq!(token(&headers(&[b"Bearer"])), Err(Malformed::Empty));
        assert_eq!(token(&headers(&[b"Bearer ="])), Err(Malformed::NotToken68));
        assert_eq!(
            token(&headers(&[b"Bearer \xff\xfe"])),
            Err(Malformed::NotVisibleAscii)
        );
        let long = format!("Bearer {}", "a".repeat(10 * 1024));
        assert_eq!(token(&headers(&[long.as_bytes()])), Err(Malformed::TooLong));
    }
}
