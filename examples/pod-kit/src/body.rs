//! The pieces of a request body's decoding that the pods' body extractors
//! share: the media type, blank bodies, JSON objects, URL-encoded pairs.
//! What each pod makes of them (DRF's field map, Rails' nested parameters)
//! and how it answers a bad body stays in the pod.

use axum::http::HeaderMap;
use axum::http::header::CONTENT_TYPE;
use serde_json::{Map, Value};

/// The media type of `Content-Type`, lower-cased, without its parameters
/// (`multipart/form-data; boundary=x` is `multipart/form-data`); empty
/// when the header is missing or not text.
pub fn media_type(headers: &HeaderMap) -> String {
    headers
        .get(CONTENT_TYPE)
        .and_then(|v| v.to_str().ok())
        .unwrap_or("")
        .split(';')
        .next()
        .unwrap_or("")
        .trim()
        .to_ascii_lowercase()
}

/// Whether `media_type` is URL-encoded form data.
pub fn is_form(media_type: &str) -> bool {
    media_type == "application/x-www-form-urlencoded"
}

/// Whether the body holds nothing but white space (an empty body).
pub fn is_blank(bytes: &[u8]) -> bool {
    bytes.iter().all(u8::is_ascii_whitespace)
}

/// Why a JSON body was refused.
#[derive(Debug, thiserror::Error)]
#[non_exhaustive]
pub enum JsonBodyError {
    /// Well-formed JSON, but not an object.
    #[error("the body is not a JSON object")]
    NotAnObject,
    /// Not JSON.
    #[error(transparent)]
    Malformed(#[from] serde_json::Error),
}

/// The body as a JSON object.
///
/// # Errors
/// [`JsonBodyError`]: not JSON, or JSON of another type.
pub fn json_object(bytes: &[u8]) -> Result<Map<String, Value>, JsonBodyError> {
    match serde_json::from_slice::<Value>(bytes)? {
        Value::Object(map) => Ok(map),
        _ => Err(JsonBodyError::NotAnObject),
    }
}

/// The decoded pairs of a URL-encoded form body, in order.
pub fn form_pairs(bytes: &[u8]) -> impl Iterator<Item = (String, String)> + '_ {
    form_urlencoded::parse(bytes).map(|(k, v)| (k.into_owned(), v.into_owned()))
}

/// The decoded pairs of a query string (none without one), in order.
pub fn query_pairs(query: Option<&str>) -> Vec<(String, String)> {
    query
        .map(|q| form_pairs(q.as_bytes()).collect())
        .unwrap_or_default()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn media_types_lose_their_parameters() {
        let mut headers = HeaderMap::new();
        assert_eq!(media_type(&headers), "");
        headers.insert(
            CONTENT_TYPE,
            " Application/X-WWW-Form-URLEncoded ; charset=utf-8"
                .parse()
                .expect("header"),
        );
        assert!(is_form(&media_type(&headers)));
    }

    #[test]
    fn bodies_decode() {
        assert!(is_blank(b" \r\n"));
        assert!(json_object(b"{\"a\": 1}").is_ok());
        assert!(matches!(
            json_object(b"[]"),
            Err(JsonBodyError::NotAnObject)
        ));
        assert!(matches!(
            json_object(b"{"),
            Err(JsonBodyError::Malformed(_))
        ));
        assert_eq!(
            query_pairs(Some("a=1&b=%20")),
            [("a".into(), "1".into()), ("b".into(), " ".into())]
        );
        assert!(query_pairs(None).is_empty());
    }
}
