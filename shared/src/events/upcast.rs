//! Upcasters: pure `fn(Value) -> Value` steps keyed by (event type, schema version) that lift an
//! old stored payload to the next version. Stored events are never rewritten; they are lifted
//! every time they are read.

use super::DecodeError;
use serde_json::Value;

type Step = fn(Value) -> Value;

/// (event type, from version, step to from+1). Keep sorted by type then version.
const STEPS: &[(&str, i32, Step)] = &[("LeadCreated", 1, lead_created_v1_to_v2)];

/// The schema version this build writes for each event type.
pub fn current_version(event_type: &str) -> i32 {
    STEPS
        .iter()
        .filter(|(t, _, _)| *t == event_type)
        .map(|(_, v, _)| v + 1)
        .max()
        .unwrap_or(1)
}

/// Lifts `payload` from `version` to the current version of `event_type`.
pub fn upcast(event_type: &str, version: i32, mut payload: Value) -> Result<Value, DecodeError> {
    let current = current_version(event_type);
    if version > current {
        return Err(DecodeError::FutureVersion {
            event_type: event_type.to_owned(),
            version,
        });
    }
    let mut v = version;
    while v < current {
        let step = STEPS
            .iter()
            .find(|(t, from, _)| *t == event_type && *from == v)
            .map(|(_, _, step)| *step)
            .ok_or_else(|| DecodeError::FutureVersion {
                event_type: event_type.to_owned(),
                version: v,
            })?;
        payload = step(payload);
        v += 1;
    }
    Ok(payload)
}

/// `LeadCreated` v1 predates lead status (Klozeo API v1.3.0): such leads start as `new`.
fn lead_created_v1_to_v2(mut payload: Value) -> Value {
    if let Some(fields) = payload
        .pointer_mut("/lead/fields")
        .and_then(Value::as_object_mut)
    {
        fields
            .entry("status")
            .or_insert_with(|| Value::String("new".to_owned()));
    }
    payload
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn lead_created_v1_gains_the_default_status() {
        let v1 = json!({"lead": {"fields": {"name": "Acme", "source": "web"}, "tags": [], "attributes": []}, "at": 1});
        let lifted = upcast("LeadCreated", 1, v1).unwrap();
        assert_eq!(lifted["lead"]["fields"]["status"], "new");
        assert_eq!(lifted["lead"]["fields"]["name"], "Acme");
    }

    #[test]
    fn a_current_payload_passes_through_unchanged() {
        let v2 = json!({"lead": {"fields": {"name": "A", "source": "s", "status": "qualified"}}});
        assert_eq!(upcast("LeadCreated", 2, v2.clone()).unwrap(), v2);
        assert_eq!(current_version("LeadDeleted"), 1);
    }

    #[test]
    fn a_version_from_the_future_is_refused() {
        assert!(matches!(
            upcast("LeadCreated", 9, json!({})),
            Err(DecodeError::FutureVersion { version: 9, .. })
        ));
    }
}
