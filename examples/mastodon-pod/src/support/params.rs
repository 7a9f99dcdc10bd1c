//! Request parameters, Rails style, and the files uploaded with them.

use serde_json::{Map, Value};

use super::{ApiError, parse_id};

/// An uploaded file (a multipart part with a file name, or a raw body).
#[derive(Debug, Clone)]
pub(crate) struct Upload {
    pub(crate) field: String,
    pub(crate) file_name: String,
    pub(crate) content_type: String,
    pub(crate) data: Vec<u8>,
}

/// Parameters from the query string and the body, Rails style: `a[]=1`
/// makes an array, `a[b]=1` an object.
#[derive(Debug, Clone, Default)]
pub(crate) struct Params {
    pub(super) map: Map<String, Value>,
    pub(crate) files: Vec<Upload>,
}

/// How deep `a[b][c]` keys may nest.
const MAX_NESTING: usize = 16;

impl Params {
    pub(super) fn from_pairs(pairs: impl IntoIterator<Item = (String, String)>) -> Self {
        let mut p = Self::default();
        for (k, v) in pairs {
            p.insert(&k, v);
        }
        p
    }

    pub(super) fn insert(&mut self, key: &str, value: String) {
        let (base, mut rest) = match key.find('[') {
            Some(i) if i > 0 => (&key[..i], &key[i..]),
            _ => (key, ""),
        };
        let mut segments = Vec::new();
        while let Some(stripped) = rest.strip_prefix('[') {
            let Some(end) = stripped.find(']') else {
                break;
            };
            segments.push(stripped[..end].to_owned());
            rest = &stripped[end + 1..];
        }
        if !rest.is_empty() || segments.len() > MAX_NESTING {
            // Malformed brackets, or nesting deeper than any Mastodon
            // parameter (Rack stops at 100): keep the key as written, so
            // the recursion below stays shallow.
            self.map.insert(key.to_owned(), Value::String(value));
            return;
        }
        let slot = self.map.entry(base.to_owned()).or_insert(Value::Null);
        insert_at(slot, &segments, value);
    }

    pub(super) fn merge_under(&mut self, other: Self) {
        for (k, v) in other.map {
            self.map.insert(k, v);
        }
        self.files.extend(other.files);
    }

    fn get(&self, key: &str) -> Option<&Value> {
        self.map.get(key).filter(|v| !v.is_null())
    }

    /// Whether the parameter was sent.
    pub(crate) fn has(&self, key: &str) -> bool {
        self.get(key).is_some()
    }

    /// A string parameter (numbers and booleans are written out).
    pub(crate) fn text(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.raw_text(key)? {
            // PostgreSQL text cannot hold a NUL (SQLite's can): text bound
            // to a query is refused on both engines alike.
            Some(s) if s.contains('\0') => {
                Err(ApiError::invalid(format!("{key} contains a null byte")))
            }
            other => Ok(other),
        }
    }

    /// [`Params::text`] without the NUL check, for values parsed before
    /// any query sees them (ids, limits).
    pub(crate) fn raw_text(&self, key: &str) -> Result<Option<String>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::String(s)) => Ok(Some(s.clone())),
            Some(Value::Number(n)) => Ok(Some(n.to_string())),
            Some(Value::Bool(b)) => Ok(Some(b.to_string())),
            Some(_) => Err(ApiError::invalid(format!("{key} must be a string"))),
        }
    }

    /// A boolean parameter (`true`, `1`, `on` or `false`, `0`, `off`, ``).
    pub(crate) fn flag(&self, key: &str) -> Result<Option<bool>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Bool(b)) => Ok(Some(*b)),
            Some(Value::Number(n)) if n.as_i64() == Some(0) => Ok(Some(false)),
            Some(Value::Number(n)) if n.as_i64() == Some(1) => Ok(Some(true)),
            Some(Value::String(s)) => match s.to_ascii_lowercase().as_str() {
                "true" | "1" | "on" | "t" | "yes" => Ok(Some(true)),
                "false" | "0" | "off" | "f" | "no" | "" => Ok(Some(false)),
                _ => Err(ApiError::invalid(format!("{key} must be a boolean"))),
            },
            Some(_) => Err(ApiError::invalid(format!("{key} must be a boolean"))),
        }
    }

    /// An integer parameter.
    pub(crate) fn int(&self, key: &str) -> Result<Option<i64>, ApiError> {
        match self.get(key) {
            None => Ok(None),
            Some(Value::Number(n)) => n
                .as_i64()
                .map(Some)
                .ok_or_else(|| ApiError::invalid(format!("{key} must be an integer"))),
            Some(Value::String(s)) if s.trim().is_empty() => Ok(None),
            Some(Value::String(s)) => s
                .trim()
                .parse()
                .map(Some)
                .map_err(|_| ApiError::invalid(format!("{key} must be an integer"))),
            Some(_) => Err(ApiError::invalid(format!("{key} must be an integer"))),
        }
    }

    /// A list parameter: `k[]=a&k[]=b`, a JSON array, or a single value.
    pub(crate) fn list(&self, key: &str) -> Result<Vec<String>, ApiError> {
        let item = |v: &Value| match v {
            Value::String(s) if s.contains('\0') => {
                Err(ApiError::invalid(format!("{key} contains a null byte")))
            }
            Value::String(s) => Ok(s.clone()),
            Value::Number(n) => Ok(n.to_string()),
            _ => Err(ApiError::invalid(format!(
                "{key} must be a list of strings"
            ))),
        };
        match self.get(key) {
            None => Ok(Vec::new()),
            Some(Value::Array(items)) => items.iter().filter(|v| !v.is_null()).map(item).collect(),
            Some(Value::Object(items)) => items.values().map(item).collect(),
            Some(v) => Ok(vec![item(v)?]),
        }
    }

    /// A list of record ids; one that is not a number is an unknown record.
    pub(crate) fn ids(&self, key: &str) -> Result<Vec<i64>, ApiError> {
        self.list(key)?
            .iter()
            .map(|s| parse_id(s).ok_or_else(ApiError::not_found))
            .collect()
    }

    /// The nested parameters `key[...]`.
    pub(crate) fn nested(&self, key: &str) -> Self {
        match self.get(key) {
            Some(Value::Object(map)) => Self {
                map: map.clone(),
                files: Vec::new(),
            },
            _ => Self::default(),
        }
    }

    /// The first uploaded file under this field name.
    pub(crate) fn file(&self, field: &str) -> Option<&Upload> {
        self.files.iter().find(|f| f.field == field)
    }
}

fn insert_at(slot: &mut Value, segments: &[String], value: String) {
    match segments.split_first() {
        None => *slot = Value::String(value),
        Some((seg, rest)) if seg.is_empty() => {
            if !slot.is_array() {
                *slot = Value::Array(Vec::new());
            }
            if let Value::Array(items) = slot {
                if rest.is_empty() {
                    items.push(Value::String(value));
                } else {
                    let mut child = Value::Null;
                    insert_at(&mut child, rest, value);
                    items.push(child);
                }
            }
        }
        Some((seg, rest)) => {
            if !slot.is_object() {
                *slot = Value::Object(Map::new());
            }
            if let Value::Object(map) = slot {
                let child = map.entry(seg.clone()).or_insert(Value::Null);
                insert_at(child, rest, value);
            }
        }
    }
}
