//! Pushing leads (`POST /leads`, `POST /leads/batch`): lock the dedup keys, find the leads
//! that share them, decide each item in order against the evolving working set, commit.

use super::context::CommandContext;
use super::repo::{key_owners, load_leads, lock, room_for_leads, LockMode, WriteError};
use super::retry::with_retries;
use super::rules_repo::compiled_rules;
use super::working::WorkingSet;
use shared::dedup::{keys_of, DedupKey};
use shared::ids::new_id;
use shared::lead::decide::{decide_push, PushDecision, Rejected};
use shared::lead::{Lead, LeadInput};
use shared::store::lock_streams;
use shared::ApiError;
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
) -> Result<PushOutcome, ApiError> {
    let inputs = [input];
    let mut results = with_retries(|| attempt(pool, ctx, &inputs, LockMode::Keys)).await?;
    match results.pop() {
        Some(result) => result.map_err(ApiError::from),
        None => Err(ApiError::internal("push produced no result")),
    }
}

/// Pushes many leads in one transaction, each deduplicated against stored leads and against
/// the items before it. A refused item does not stop the others.
pub async fn push_many(
    pool: &PgPool,
    ctx: &CommandContext,
    inputs: &[LeadInput],
) -> Result<Vec<PushResult>, ApiError> {
    with_retries(|| attempt(pool, ctx, inputs, LockMode::Tenant)).await
}

async fn attempt(
    pool: &PgPool,
    ctx: &CommandContext,
    inputs: &[LeadInput],
    mode: LockMode,
) -> Result<Vec<PushResult>, WriteError> {
    let input_keys: Vec<Vec<DedupKey>> = inputs.iter().map(|i| keys_of(&i.given())).collect();
    let all_keys: Vec<DedupKey> = input_keys
        .iter()
        .flatten()
        .cloned()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let mut tx = pool.begin().await?;
    lock(&mut tx, ctx.tenant, mode, &all_keys).await?;
    let owners = key_owners(&mut tx, ctx.tenant, &all_keys).await?;
    let ids: Vec<Uuid> = owners
        .iter()
        .map(|(_, id)| *id)
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();
    if mode == LockMode::Keys {
        // Pushes merging into one lead by different keys take turns on the lead itself
        // (batches hold the tenant lock exclusively).
        lock_streams(&mut tx, &ids).await?;
    }
    let leads = load_leads(&mut tx, ctx.tenant, &ids).await?;
    let mut ws = WorkingSet::new(ctx.tenant, leads, owners);
    let mut room = match ctx.max_leads {
        Some(max) => Some((max, room_for_leads(&mut tx, ctx.tenant, max).await?)),
        None => None,
    };

    let mut results = Vec::with_capacity(inputs.len());
    for (input, keys) in inputs.iter().zip(&input_keys) {
        let decided = decide_push(
            ctx.tenant,
            input,
            &ws.matches(keys),
            new_id(),
            ctx.now,
            Uuid::new_v4,
        );
        let decided = match (decided, &mut room) {
            // A create past the plan's limit; a merge is not a create.
            (Ok(PushDecision::Create { .. }), Some((max, 0))) => {
                Err(Rejected::LeadsLimitReached(*max))
            }
            (Ok(d @ PushDecision::Create { .. }), Some((_, left))) => {
                *left -= 1;
                Ok(d)
            }
            (other, _) => other,
        };
        match decided {
            Ok(decision) => {
                let (duplicate, potential_duplicate_id) = match &decision {
                    PushDecision::Create {
                        potential_duplicate_id,
                        ..
                    } => (false, *potential_duplicate_id),
                    PushDecision::Merge { .. } => (true, None),
                };
                let (lead, event) = match decision {
                    PushDecision::Create { lead, event, .. }
                    | PushDecision::Merge { lead, event, .. } => (lead, event),
                };
                results.push(Ok(PushOutcome {
                    lead: lead.clone(),
                    duplicate,
                    potential_duplicate_id,
                }));
                ws.record(lead, event);
            }
            Err(rejected) => results.push(Err(rejected)),
        }
    }
    let rules = compiled_rules(&mut tx, ctx.tenant).await?;
    ws.rescore(&rules, ctx.now);
    for outcome in results.iter_mut().flatten() {
        if let Some(score) = ws.score_of(outcome.lead.id) {
            outcome.lead.score = score;
        }
    }
    ws.commit(&mut tx, &ctx.metadata).await?;
    tx.commit().await?;
    Ok(results)
}
