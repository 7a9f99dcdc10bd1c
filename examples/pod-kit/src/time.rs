//! Times as the pods store them: ISO 8601 text, UTC, milliseconds, `Z`
//! (`2024-05-01T12:00:00.000Z`), computed in Rust and bound, so both
//! engines store the same text.

/// The current time as the pods store it: ISO 8601, UTC, milliseconds,
/// `Z` (`2024-05-01T12:00:00.000Z`), what SQLite's
/// `strftime('%Y-%m-%dT%H:%M:%fZ', 'now')` wrote. Computed here and bound,
/// so both engines store the same text.
pub fn now() -> String {
    iso8601_millis(now_millis())
}

/// The current time plus `seconds` (saturating), in the format of [`now`]:
/// an expiry to store.
pub fn in_seconds(seconds: i64) -> String {
    iso8601_millis(now_millis().saturating_add(seconds.saturating_mul(1000)))
}

/// Milliseconds since the Unix epoch (0 before it, `i64::MAX` past it).
fn now_millis() -> i64 {
    std::time::SystemTime::now()
        .duration_since(std::time::UNIX_EPOCH)
        .map_or(0, |d| i64::try_from(d.as_millis()).unwrap_or(i64::MAX))
}

/// `millis` since the Unix epoch as ISO 8601 (UTC, milliseconds, `Z`).
pub fn iso8601_millis(millis: i64) -> String {
    let secs = millis.div_euclid(1000);
    let ms = millis.rem_euclid(1000);
    let days = secs.div_euclid(86_400);
    let rem = secs.rem_euclid(86_400);
    // Howard Hinnant's civil_from_days.
    let z = days + 719_468;
    let era = z.div_euclid(146_097);
    let doe = z.rem_euclid(146_097);
    let yoe = (doe - doe / 1460 + doe / 36_524 - doe / 146_096) / 365;
    let doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    let mp = (5 * doy + 2) / 153;
    let day = doy - (153 * mp + 2) / 5 + 1;
    let month = if mp < 10 { mp + 3 } else { mp - 9 };
    let year = yoe + era * 400 + i64::from(month <= 2);
    format!(
        "{year:04}-{month:02}-{day:02}T{:02}:{:02}:{:02}.{ms:03}Z",
        rem / 3600,
        rem % 3600 / 60,
        rem % 60
    )
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn times_are_iso8601_utc_milliseconds() {
        assert_eq!(iso8601_millis(0), "1970-01-01T00:00:00.000Z");
        assert_eq!(iso8601_millis(951_782_400_123), "2000-02-29T00:00:00.123Z");
        assert_eq!(
            iso8601_millis(1_714_564_800_000),
            "2024-05-01T12:00:00.000Z"
        );
        assert_eq!(iso8601_millis(-1), "1969-12-31T23:59:59.999Z");
        assert_eq!(now().len(), 24);
    }
}
