//! A small hand-written multipart/form-data reader (a later change replaces
//! it with axum's `Multipart`).

use super::{ApiError, Params, Upload};

/// A small multipart/form-data reader: text fields become parameters, parts
/// with a file name become uploads.
pub(super) fn multipart(content_type: &str, body: &[u8]) -> Result<Params, ApiError> {
    let boundary = content_type
        .split(';')
        .filter_map(|p| p.trim().strip_prefix("boundary="))
        .next()
        .map(|b| b.trim_matches('"'))
        .filter(|b| !b.is_empty())
        .ok_or_else(|| ApiError::bad_request("multipart body without a boundary"))?;
    let delimiter = format!("--{boundary}");
    let malformed = || ApiError::bad_request("Malformed multipart body");
    let mut params = Params::default();
    let mut rest = body;
    let start = find(rest, delimiter.as_bytes()).ok_or_else(malformed)?;
    rest = &rest[start + delimiter.len()..];
    loop {
        if rest.starts_with(b"--") {
            break;
        }
        rest = rest.strip_prefix(b"\r\n").ok_or_else(malformed)?;
        let head_end = find(rest, b"\r\n\r\n").ok_or_else(malformed)?;
        let head = String::from_utf8_lossy(&rest[..head_end]).into_owned();
        rest = &rest[head_end + 4..];
        let end_marker = format!("\r\n{delimiter}");
        let end = find(rest, end_marker.as_bytes()).ok_or_else(malformed)?;
        let data = &rest[..end];
        rest = &rest[end + end_marker.len()..];
        let mut name = None;
        let mut file_name = None;
        let mut part_type = String::from("application/octet-stream");
        for line in head.split("\r\n") {
            let Some((h, v)) = line.split_once(':') else {
                continue;
            };
            if h.trim().eq_ignore_ascii_case("content-disposition") {
                for attr in v.split(';') {
                    let attr = attr.trim();
                    if let Some(n) = attr.strip_prefix("name=") {
                        name = Some(n.trim_matches('"').to_owned());
                    } else if let Some(n) = attr.strip_prefix("filename=") {
                        file_name = Some(n.trim_matches('"').to_owned());
                    }
                }
            } else if h.trim().eq_ignore_ascii_case("content-type") {
                part_type = v.trim().to_ascii_lowercase();
            }
        }
        let Some(name) = name else {
            continue;
        };
        match file_name {
            Some(file_name) => params.files.push(Upload {
                field: name,
                file_name,
                content_type: part_type,
                data: data.to_vec(),
            }),
            None => params.insert(&name, String::from_utf8_lossy(data).into_owned()),
        }
    }
    Ok(params)
}

fn find(haystack: &[u8], needle: &[u8]) -> Option<usize> {
    haystack.windows(needle.len()).position(|w| w == needle)
}
