//! Reading the fields of a body as DRF's serializers do, with its error
//! messages.

use serde_json::{Map, Value};

use super::{FieldErrors, REQUIRED};

/// Reads a required or optional string field, checking its length.
pub(crate) fn string_field(
    body: &Map<String, Value>,
    field: &str,
    required: bool,
    max: usize,
    errors: &mut FieldErrors,
) -> Option<String> {
    match body.get(field) {
        None if required => {
            errors.add(field, REQUIRED);
            None
        }
        None => None,
        Some(Value::Null) => {
            errors.add(field, "This field may not be null.");
            None
        }
        Some(Value::String(s)) => {
            let s = s.trim();
            if s.contains('\0') {
                // Django's ProhibitNullCharactersValidator.
                errors.add(field, "Null characters are not allowed.");
                None
            } else if s.is_empty() && required {
                errors.add(field, "This field may not be blank.");
                None
            } else if s.chars().count() > max {
                errors.add(
                    field,
                    format!("Ensure this field has no more than {max} characters."),
                );
                None
            } else {
                Some(s.to_owned())
            }
        }
        Some(Value::Number(n)) => Some(n.to_string()),
        Some(_) => {
            errors.add(field, "Not a valid string.");
            None
        }
    }
}

/// Reads an integer field (a JSON number or a numeric string, as DRF accepts).
pub(crate) fn int_field(
    body: &Map<String, Value>,
    field: &str,
    required: bool,
    errors: &mut FieldErrors,
) -> Option<i64> {
    match body.get(field) {
        None if required => {
            errors.add(field, REQUIRED);
            None
        }
        None => None,
        Some(v) => match as_int(v) {
            Some(n) => Some(n),
            None => {
                errors.add(field, "A valid integer is required.");
                None
            }
        },
    }
}

/// A JSON number or numeric string as an integer.
pub(crate) fn as_int(v: &Value) -> Option<i64> {
    match v {
        Value::Number(n) => n.as_i64(),
        Value::String(s) => s.trim().parse().ok(),
        _ => None,
    }
}

/// Reads a boolean field (JSON boolean, or DRF's accepted strings).
pub(crate) fn bool_field(
    body: &Map<String, Value>,
    field: &str,
    errors: &mut FieldErrors,
) -> Option<bool> {
    match body.get(field)? {
        Value::Bool(b) => Some(*b),
        Value::Number(n) if n.as_i64() == Some(1) => Some(true),
        Value::Number(n) if n.as_i64() == Some(0) => Some(false),
        Value::String(s) => match s.to_ascii_lowercase().as_str() {
            "true" | "1" | "yes" | "on" => Some(true),
            "false" | "0" | "no" | "off" => Some(false),
            _ => {
                errors.add(field, "Must be a valid boolean.");
                None
            }
        },
        _ => {
            errors.add(field, "Must be a valid boolean.");
            None
        }
    }
}

/// Reads a choice field.
pub(crate) fn choice_field(
    body: &Map<String, Value>,
    field: &str,
    choices: &[&str],
    errors: &mut FieldErrors,
) -> Option<String> {
    let value = body.get(field)?;
    match value.as_str() {
        Some(s) if choices.contains(&s) => Some(s.to_owned()),
        _ => {
            let shown = match value {
                Value::String(s) => s.clone(),
                other => other.to_string(),
            };
            errors.add(field, format!("\"{shown}\" is not a valid choice."));
            None
        }
    }
}

/// The `privacy_level` choices of playlists and libraries.
pub(crate) const PRIVACY_LEVELS: &[&str] = &["me", "instance", "everyone"];
