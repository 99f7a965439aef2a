//! Rescoring a lead: a `LeadScored` event only when the score actually changes.

use crate::events::lead::{LeadEvent, LeadScored};
use crate::lead::state::Lead;
use crate::scoring::{score, Rule};

/// Scores are kept to 4 decimals, so float noise never makes a change.
pub fn round_score(score: f64) -> f64 {
    (score * 10_000.0).round() / 10_000.0
}

/// The event that moves `lead` to its score under `rules`, or `None` when it would not change
/// (or the lead is deleted).
pub fn decide_score(lead: &Lead, rules: &[Rule], now: i64) -> Option<LeadEvent> {
    if lead.deleted {
        return None;
    }
    let new = round_score(score(rules, lead));
    (new != lead.score).then_some(LeadEvent::Scored(LeadScored {
        score: new,
        previous: lead.score,
        at: now,
    }))
}
