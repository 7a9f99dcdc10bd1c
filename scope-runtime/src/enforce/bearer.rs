//! Reading the bearer token of a request without ever failing on what a
//! client sends: `Authorization: Bearer <token>` (RFC 6750 §2.1) on every
//! route; on a stream route, when there is no such header, also an
//! `access_token` query parameter (RFC 6750 §2.3) and, for WebSocket, the
//! `Sec-WebSocket-Protocol` header, in the order Mastodon's streaming
//! server reads them (browsers' `EventSource` and `WebSocket` cannot set
//! headers). The only bearer parser of the workspace.

use std::borrow::Cow;

use http::header::{AUTHORIZATION, SEC_WEBSOCKET_PROTOCOL};
use http::{HeaderMap, Uri};

use crate::stream::StreamKind;

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
    /// The `access_token` query parameter is repeated, empty, too long or
    /// not a token68 value.
    Query,
    /// The `Sec-WebSocket-Protocol` header holds more than one value, or
    /// one that is not a token68 value.
    Protocol,
}

impl Malformed {
    pub(crate) fn describe(self) -> &'static str {
        match self {
            Self::Several => "more than one Authorization header",
            Self::TooLong => "the Authorization header is too long",
            Self::NotVisibleAscii => "the Authorization header is not visible ASCII",
            Self::Empty => "the bearer token is empty",
            Self::NotToken68 => "the bearer token is not a single token68 value",
            Self::Query => "the access_token parameter is not a single bearer token",
            Self::Protocol => "the Sec-WebSocket-Protocol header is not a single bearer token",
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

/// Where a stream route's token came from, when not from `Authorization`.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(crate) enum Source {
    Header,
    Query,
    Protocol,
}

/// The bearer token of a request to a route serving `stream` (`None`: not
/// a stream route, only the `Authorization` header counts), and where it
/// came from. `Ok(None)`: no token.
pub(crate) fn credentials<'r>(
    stream: Option<StreamKind>,
    headers: &'r HeaderMap,
    uri: &'r Uri,
) -> Result<Option<(Cow<'r, str>, Source)>, Malformed> {
    if let Some(token) = token(headers)? {
        return Ok(Some((Cow::Borrowed(token), Source::Header)));
    }
    let Some(stream) = stream else {
        return Ok(None);
    };
    if let Some(token) = query_token(uri.query())? {
        return Ok(Some((token, Source::Query)));
    }
    if stream == StreamKind::WebSocket
        && let Some(token) = protocol_token(headers)?
    {
        return Ok(Some((Cow::Borrowed(token), Source::Protocol)));
    }
    Ok(None)
}

/// The `access_token` parameter of a query string, percent-decoded.
fn query_token(query: Option<&str>) -> Result<Option<Cow<'_, str>>, Malformed> {
    let Some(query) = query else {
        return Ok(None);
    };
    let mut found = None;
    for (key, value) in form_urlencoded::parse(query.as_bytes()) {
        if key != "access_token" {
            continue;
        }
        if found.is_some() || value.len() > MAX_CREDENTIALS || !is_token68(&value) {
            return Err(Malformed::Query);
        }
        found = Some(value);
    }
    Ok(found)
}

/// `uri` without its `access_token` parameters (the other parameters kept,
/// in order, form-encoded again); `None` if it cannot be rebuilt.
pub(crate) fn without_query_token(uri: &Uri) -> Option<Uri> {
    let query = uri.query()?;
    let kept: String = form_urlencoded::Serializer::new(String::new())
        .extend_pairs(form_urlencoded::parse(query.as_bytes()).filter(|(k, _)| k != "access_token"))
        .finish();
    let path_and_query = if kept.is_empty() {
        uri.path().to_owned()
    } else {
        format!("{}?{kept}", uri.path())
    };
    let mut parts = uri.clone().into_parts();
    parts.path_and_query = Some(path_and_query.parse().ok()?);
    Uri::from_parts(parts).ok()
}

/// A single-valued `Sec-WebSocket-Protocol` header that is a token68 value.
fn protocol_token(headers: &HeaderMap) -> Result<Option<&str>, Malformed> {
    let mut values = headers.get_all(SEC_WEBSOCKET_PROTOCOL).iter();
    let Some(value) = values.next() else {
        return Ok(None);
    };
    if values.next().is_some() || value.len() > MAX_CREDENTIALS {
        return Err(Malformed::Protocol);
    }
    let value = value.to_str().map_err(|_| Malformed::Protocol)?.trim();
    if value.contains(',') || !is_token68(value) {
        return Err(Malformed::Protocol);
    }
    Ok(Some(value))
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

    fn read<'r>(
        stream: Option<StreamKind>,
        headers: &'r HeaderMap,
        uri: &'r Uri,
    ) -> Result<Option<(String, Source)>, Malformed> {
        credentials(stream, headers, uri).map(|t| t.map(|(t, s)| (t.into_owned(), s)))
    }

    #[test]
    fn stream_routes_read_the_query_and_the_protocol() {
        let uri: Uri = "/s?stream=user&access_token=a%2Bb%2F%3D".parse().unwrap();
        let none = HeaderMap::new();
        // Not a stream route: the query is not looked at.
        assert_eq!(read(None, &none, &uri), Ok(None));
        assert_eq!(
            read(Some(StreamKind::Sse), &none, &uri),
            Ok(Some(("a+b/=".to_owned(), Source::Query)))
        );
        // The header comes first.
        let bearer = headers(&[b"Bearer h"]);
        assert_eq!(
            read(Some(StreamKind::Sse), &bearer, &uri),
            Ok(Some(("h".to_owned(), Source::Header)))
        );
        let mut protocol = HeaderMap::new();
        protocol.insert(SEC_WEBSOCKET_PROTOCOL, "p".parse().unwrap());
        let bare: Uri = "/s".parse().unwrap();
        assert_eq!(read(Some(StreamKind::Sse), &protocol, &bare), Ok(None));
        assert_eq!(
            read(Some(StreamKind::WebSocket), &protocol, &bare),
            Ok(Some(("p".to_owned(), Source::Protocol)))
        );
    }

    #[test]
    fn the_query_token_leaves_the_uri() {
        let uri: Uri = "/s?tag=rust&access_token=secret&list=1".parse().unwrap();
        assert_eq!(
            without_query_token(&uri).unwrap().to_string(),
            "/s?tag=rust&list=1"
        );
        let only: Uri = "/s?access_token=secret".parse().unwrap();
        assert_eq!(without_query_token(&only).unwrap().to_string(), "/s");
    }

    #[test]
    fn refuses_unreadable_stream_credentials() {
        let none = HeaderMap::new();
        let sse = Some(StreamKind::Sse);
        for query in [
            "/s?access_token=a&access_token=b",
            "/s?access_token=",
            "/s?access_token=a%20b",
            "/s?access_token=%FF",
        ] {
            let uri: Uri = query.parse().unwrap();
            assert_eq!(read(sse, &none, &uri), Err(Malformed::Query), "{query}");
        }
        let long: Uri = format!("/s?access_token={}", "a".repeat(5000))
            .parse()
            .unwrap();
        assert_eq!(read(sse, &none, &long), Err(Malformed::Query));
        let bare: Uri = "/s".parse().unwrap();
        let mut several = HeaderMap::new();
        several.insert(SEC_WEBSOCKET_PROTOCOL, "a, b".parse().unwrap());
        assert_eq!(
            read(Some(StreamKind::WebSocket), &several, &bare),
            Err(Malformed::Protocol)
        );
    }
}
