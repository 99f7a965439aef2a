//! Updating and deleting existing leads (`PUT|PATCH|DELETE /leads/{id}`, `PUT|DELETE
//! /leads/batch`): load the leads, decide each id in order, commit together.

use super::context::CommandContext;
use super::repo::{key_owners, load_leads, lock, LockMode, WriteError};
use super::retry::with_retries;
use super::rules_repo::compiled_rules;
use super::working::WorkingSet;
use shared::dedup::{keys_of, DedupKey, KeyKind};
use shared::lead::decide::{decide_delete, decide_update, Rejected};
use shared::lead::{Lead, LeadInput};
use shared::store::lock_streams;
use shared::ApiError;
use sqlx::PgPool;
use std::collections::BTreeSet;
use uuid::Uuid;

#[derive(Debug, Clone, Copy)]
pub enum Modification<'a> {
    Update(&'a LeadInput),
    Delete,
}

/// The outcome per id: the lead after the change (deleted leads too), or why not.
pub type ModifyResult = Result<Lead, Rejected>;

/// Modifies one lead; `None` is a malformed id (404 like any unknown id).
pub async fn modify_one(
    pool: &PgPool,
    ctx: &CommandContext,
    id: Option<Uuid>,
    change: Modification<'_>,
) -> Result<Lead, ApiError> {
    let ids = [id];
    let mut results = with_retries(|| attempt(pool, ctx, &ids, change, LockMode::Keys)).await?;
    match results.pop() {
        Some(result) => result.map_err(ApiError::from),
        None => Err(ApiError::internal("modification produced no result")),
    }
}

/// Applies the same change to many leads in one transaction.
pub async fn modify_many(
    pool: &PgPool,
    ctx: &CommandContext,
    ids: &[Option<Uuid>],
    change: Modification<'_>,
) -> Result<Vec<ModifyResult>, ApiError> {
    with_retries(|| attempt(pool, ctx, ids, change, LockMode::Tenant)).await
}

/// Keys an update could take from other leads: lock them, and learn who holds the unique ones.
fn claimed_keys(change: Modification<'_>) -> Vec<DedupKey> {
    let Modification::Update(input) = change else {
        return Vec::new();
    };
    keys_of(&input.given())
        .into_iter()
        .filter(|k| k.kind != KeyKind::NameCity)
        .collect()
}

async fn attempt(
    pool: &PgPool,
    ctx: &CommandContext,
    ids: &[Option<Uuid>],
    change: Modification<'_>,
    mode: LockMode,
) -> Result<Vec<ModifyResult>, WriteError> {
    let keys = claimed_keys(change);
    let wanted: Vec<Uuid> = ids
        .iter()
        .flatten()
        .copied()
        .collect::<BTreeSet<_>>()
        .into_iter()
        .collect();

    let mut tx = pool.begin().await?;
    lock(&mut tx, ctx.tenant, mode, &keys).await?;
    let unique: Vec<DedupKey> = keys.into_iter().filter(|k| k.kind.unique()).collect();
    let owners = key_owners(&mut tx, ctx.tenant, &unique).await?;
    if mode == LockMode::Keys {
        // Writers of one lead take turns (batches hold the tenant lock exclusively).
        lock_streams(&mut tx, &wanted).await?;
    }
    let leads = load_leads(&mut tx, ctx.tenant, &wanted).await?;
    let mut ws = WorkingSet::new(ctx.tenant, leads, owners);

    let mut results = Vec::with_capacity(ids.len());
    for id in ids {
        let Some(lead) = id.and_then(|id| ws.get(id)).cloned() else {
            results.push(Err(Rejected::NotFound));
            continue;
        };
        let decided = match change {
            Modification::Update(input) => {
                decide_update(&lead, input, |k| ws.owner(k), ctx.now, Uuid::new_v4)
            }
            Modification::Delete => decide_delete(&lead, ctx.now).map(|(a, e)| (a, Some(e))),
        };
        match decided {
            Ok((after, Some(event))) => {
                results.push(Ok(after.clone()));
                ws.record(after, event);
            }
            Ok((after, None)) => results.push(Ok(after)),
            Err(rejected) => results.push(Err(rejected)),
        }
    }
    let rules = compiled_rules(&mut tx, ctx.tenant).await?;
    ws.rescore(&rules, ctx.now);
    for lead in results.iter_mut().flatten() {
        if let Some(score) = ws.score_of(lead.id) {
            lead.score = score;
        }
    }
    ws.commit(&mut tx, &ctx.metadata).await?;
    tx.commit().await?;
    Ok(results)
}
