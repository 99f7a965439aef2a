//! Updating and deleting existing leads (`PUT|PATCH|DELETE /leads/{id}`, `PUT|DELETE
//! /leads/batch`): load the leads, decide each id in order, commit together.

use super::context::CommandContext;
use super::error::CommandError;
use super::repo::LockMode;
use super::unit::{lead_command, Scope};
use super::working::WorkingSet;
use shared::dedup::{keys_of, DedupKey, KeyKind};
use shared::lead::decide::{decide_delete, decide_update, Rejected};
use shared::lead::{Lead, LeadInput};
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
) -> Result<Lead, CommandError> {
    let ids = [id];
    let mut results = modify(pool, ctx, &ids, change, LockMode::Keys).await?;
    match results.pop() {
        Some(result) => Ok(result?),
        None => Err(CommandError::internal("modification produced no result")),
    }
}

/// Applies the same change to many leads in one transaction.
pub async fn modify_many(
    pool: &PgPool,
    ctx: &CommandContext,
    ids: &[Option<Uuid>],
    change: Modification<'_>,
) -> Result<Vec<ModifyResult>, CommandError> {
    modify(pool, ctx, ids, change, LockMode::Tenant).await
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

async fn modify(
    pool: &PgPool,
    ctx: &CommandContext,
    ids: &[Option<Uuid>],
    change: Modification<'_>,
    mode: LockMode,
) -> Result<Vec<ModifyResult>, CommandError> {
    let keys = claimed_keys(change);
    let scope = Scope {
        mode,
        owner_keys: keys.iter().filter(|k| k.kind.unique()).cloned().collect(),
        lock_keys: keys,
        ids: ids
            .iter()
            .flatten()
            .copied()
            .collect::<BTreeSet<_>>()
            .into_iter()
            .collect(),
        ..Scope::default()
    };
    let (mut results, ws) = lead_command(pool, ctx, &scope, |ws| {
        Ok(ids
            .iter()
            .map(|id| decide_one(ws, ctx, *id, change))
            .collect::<Vec<_>>())
    })
    .await?;
    // Scores as the command's rescore left them.
    for lead in results.iter_mut().flatten() {
        if let Some(score) = ws.score_of(lead.id) {
            lead.score = score;
        }
    }
    Ok(results)
}

/// Decides the change of one id against the working set as the ids before it left it.
fn decide_one(
    ws: &mut WorkingSet,
    ctx: &CommandContext,
    id: Option<Uuid>,
    change: Modification<'_>,
) -> ModifyResult {
    let Some(lead) = id.and_then(|id| ws.get(id)).cloned() else {
        return Err(Rejected::NotFound);
    };
    let (after, event) = match change {
        Modification::Update(input) => {
            decide_update(&lead, input, |k| ws.owner(k), ctx.now, Uuid::new_v4)?
        }
        Modification::Delete => decide_delete(&lead, ctx.now).map(|(a, e)| (a, Some(e)))?,
    };
    if let Some(event) = event {
        ws.record(after.clone(), event);
    }
    Ok(after)
}
