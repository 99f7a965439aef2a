//! Instants as C routes take them (SPEC-CRM §2.2): an RFC 3339 string (offset converted to
//! UTC, fraction truncated) or an integer of Unix seconds.

use chrono::{DateTime, SubsecRound, TimeZone, Utc};
use serde_json::Value;

/// The instant `value` names, or `None` when it is neither form.
pub fn from_json(value: &Value) -> Option<DateTime<Utc>> {
    match value {
        Value::Number(n) => n
            .as_i64()
            .filter(|s| *s >= 0)
            .and_then(|s| Utc.timestamp_opt(s, 0).single()),
        Value::String(s) => DateTime::parse_from_rfc3339(s)
            .ok()
            .map(|t| t.with_timezone(&Utc).trunc_subsecs(0)),
        _ => None,
    }
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn both_forms_and_nothing_else() {
        let at = Utc.timestamp_opt(1_767_225_600, 0).unwrap();
        assert_eq!(from_json(&json!(1_767_225_600)), Some(at));
        assert_eq!(from_json(&json!("2026-01-01T01:00:00.9+01:00")), Some(at));
        for bad in [
            json!(-1),
            json!(1.5),
            json!("tomorrow"),
            json!(null),
            json!([1]),
        ] {
            assert_eq!(from_json(&bad), None, "{bad}");
        }
    }
}
