//! Pushing leads (`POST /leads`, `POST /leads/batch`): lock the dedup keys, find the leads
//! that share them, decide each item in order against the evolving working set, commit.

use super::context::CommandContext;
use super::error::CommandError;
use super::repo::LockMode;
use super::unit::{lead_command, Scope};
use super::working::WorkingSet;
use shared::dedup::{keys_of, DedupKey};
use shared::ids::new_id;
use shared::lead::decide::{decide_push, PushDecision, Rejected};
use shared::lead::{Lead, LeadInput};
use sqlx::PgPool;
use std::collections::BTreeSet;
use uuid::Uuid;

#[derive(Debug, Clone)]
pub struct PushOutcome {
    pub lead: Lead,
    /// Merged into an existing lead (dedup tiers 1-3).
    pub duplicate: bool,
    /// Created, but a lead with the same name and city exists (tier 4).
    pub potential_duplicate_id: Option<Uuid>,
}

pub type PushResult = Result<PushOutcome, Rejected>;

/// Pushes one lead.
pub async fn push_one(
    pool: &PgPool,
    ctx: &CommandContext,
    input: LeadInput,
) -> Result<PushOutcome, CommandError> {
    let inputs = [input];
    let mut results = push(pool, ctx, &inputs, LockMode::Keys).await?;
    match results.pop() {
        Some(result) => Ok(result?),
        None => Err(CommandError::internal("push produced no result")),
    }
}

/// Pushes many leads in one transaction, each deduplicated against stored leads and against
/// the items before it. A refused item does not stop the others.
pub async fn push_many(
    pool: &PgPool,
    ctx: &CommandContext,
    inputs: &[LeadInput],
) -> Result<Vec<PushResult>, CommandError> {
    push(pool, ctx, inputs, LockMode::Tenant).await
}

async fn push(
    pool: &PgPool,
    ctx: &CommandContext,
    inputs: &[LeadInput],
    mode: LockMode,
) -> Result<Vec<PushResult>, CommandError> {
    let input_keys: Vec<Vec<DedupKey>> = inputs.iter().map(|i| keys_of(&i.given())).collect();
    let all_keys: Vec<DedupKey> = input_keys
        .iter()
        .flatten()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    let scope = Scope {
        mode,
        lock_keys: all_keys.clone(),
        owner_keys: all_keys,
        load_owners: true,
        creates: true,
        ..Scope::default()
    };
    let (mut results, ws) = lead_command(pool, ctx, &scope, |ws| {
        Ok(inputs
            .iter()
            .zip(&input_keys)
            .map(|(input, keys)| decide_one(ws, ctx, input, keys))
            .collect::<Vec<_>>())
    })
    .await?;
    // Scores as the command's rescore left them.
    for outcome in results.iter_mut().flatten() {
        if let Some(score) = ws.score_of(outcome.lead.id) {
            outcome.lead.score = score;
        }
    }
    Ok(results)
}

/// Decides one item against the working set as the items before it left it.
fn decide_one(
    ws: &mut WorkingSet,
    ctx: &CommandContext,
    input: &LeadInput,
    keys: &[DedupKey],
) -> PushResult {
    let decision = decide_push(
        ctx.tenant,
        input,
        &ws.matches(keys),
        new_id(),
        ctx.now,
        Uuid::new_v4,
    )?;
    let outcome = match decision {
        PushDecision::Create {
            lead,
            event,
            potential_duplicate_id,
        } => {
            // A create past the plan's limit is refused; a merge is not a create.
            ws.claim_room()?;
            ws.record(lead.clone(), event);
            PushOutcome {
                lead,
                duplicate: false,
                potential_duplicate_id,
            }
        }
        PushDecision::Merge { lead, event, .. } => {
            ws.record(lead.clone(), event);
            PushOutcome {
                lead,
                duplicate: true,
                potential_duplicate_id: None,
            }
        }
    };
    Ok(outcome)
}
