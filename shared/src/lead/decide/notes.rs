//! Notes on a lead: add, edit, remove — events of the lead's stream. Content must not be empty
//! and holds at most 10,000 characters.

use crate::events::lead::{LeadEvent, NoteAdded, NoteEdited, NoteRemoved};
use crate::lead::state::Lead;
use serde_json::Value;
use uuid::Uuid;

pub const MAX_NOTE_CHARS: usize = 10_000;

/// The `content` of a note body, trimmed; the message says what is wrong otherwise.
pub fn parse_note_content(body: &Value) -> Result<String, String> {
    let content = match body.get("content") {
        Some(Value::String(s)) => s.trim(),
        Some(Value::Null) | None => return Err(
            "invalid field 'content': is required, e.g. {\"content\": \"Called, wants a demo\"}"
                .into(),
        ),
        Some(_) => return Err("invalid field 'content': must be a string".into()),
    };
    if content.is_empty() {
        return Err("invalid field 'content': must not be empty".into());
    }
    if content.chars().count() > MAX_NOTE_CHARS {
        return Err(format!(
            "invalid field 'content': longer than {MAX_NOTE_CHARS} characters"
        ));
    }
    Ok(content.to_owned())
}

fn after(lead: &Lead, event: LeadEvent) -> (Lead, LeadEvent) {
    let mut next = lead.clone();
    next.apply(&event);
    (next, event)
}

pub fn decide_add_note(lead: &Lead, note_id: Uuid, content: &str, now: i64) -> (Lead, LeadEvent) {
    after(
        lead,
        LeadEvent::NoteAdded(NoteAdded {
            note_id,
            content: content.to_owned(),
            at: now,
        }),
    )
}

pub fn decide_edit_note(lead: &Lead, note_id: Uuid, content: &str, now: i64) -> (Lead, LeadEvent) {
    after(
        lead,
        LeadEvent::NoteEdited(NoteEdited {
            note_id,
            content: content.to_owned(),
            at: now,
        }),
    )
}

pub fn decide_remove_note(lead: &Lead, note_id: Uuid, now: i64) -> (Lead, LeadEvent) {
    after(
        lead,
        LeadEvent::NoteRemoved(NoteRemoved { note_id, at: now }),
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn note_content_is_required_trimmed_and_bounded() {
        assert_eq!(
            parse_note_content(&json!({"content": "  hi "})).unwrap(),
            "hi"
        );
        for (body, fragment) in [
            (json!({}), "is required"),
            (json!({"content": null}), "is required"),
            (json!({"content": "   "}), "must not be empty"),
            (json!({"content": 5}), "must be a string"),
            (
                json!({"content": "x".repeat(MAX_NOTE_CHARS + 1)}),
                "longer than",
            ),
            (json!("text"), "is required"),
        ] {
            let e = parse_note_content(&body).unwrap_err();
            assert!(e.contains(fragment), "{body}: {e}");
        }
    }
}
