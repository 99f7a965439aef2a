//! Pure deciders: `(state, command) -> events`, synchronous and free of I/O. What a decision
//! needs (dedup matches, owners of unique keys) is loaded first and passed in.

mod attributes;
mod notes;
mod push;
mod score;
mod update;

pub use attributes::{
    decide_add_attribute, decide_remove_attribute, decide_set_attribute, AttrRejected,
};
pub use notes::{
    decide_add_note, decide_edit_note, decide_remove_note, parse_note_content, MAX_NOTE_CHARS,
};
pub use push::{decide_push, PushDecision, PushMatches};
pub use score::{decide_score, round_score};
pub use update::{decide_delete, decide_update};

use super::state::Lead;
use crate::dedup::{keys_of, DedupKey, KeyKind};
use crate::ids::lead_public_id;
use uuid::Uuid;

/// A command the rules refuse.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum Rejected {
    #[error("lead not found")]
    NotFound,
    #[error("{0}")]
    Conflict(String),
    /// A create past the plan's lead limit (the number is the limit).
    #[error("the plan's limit of {0} leads is reached")]
    LeadsLimitReached(u64),
}

/// E-mail and source id identify one lead: refuse a state that would take a key another lead
/// holds. `owner` answers who holds a unique key now.
pub(crate) fn check_unique_keys(
    after: &Lead,
    owner: impl Fn(&DedupKey) -> Option<Uuid>,
) -> Result<(), Rejected> {
    for key in keys_of(&after.fields)
        .into_iter()
        .filter(|k| k.kind.unique())
    {
        if let Some(other) = owner(&key).filter(|o| *o != after.id) {
            let what = match key.kind {
                KeyKind::Email => "email",
                _ => "source_id",
            };
            return Err(Rejected::Conflict(format!(
                "{what} '{}' already belongs to lead {}; update or merge that lead instead",
                key.key,
                lead_public_id(other)
            )));
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests;
