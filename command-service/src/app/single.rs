//! Commands on one existing lead that do not touch its dedup keys (attributes, notes,
//! rescoring on request): load it under the tenant's shared lock and the lead's own lock,
//! decide, rescore, append — one transaction, retried when the lead moved meanwhile anyway.

use super::context::CommandContext;
use super::repo::{load_leads, lock, LockMode, WriteError};
use super::retry::with_retries;
use super::rules_repo::compiled_rules;
use super::working::WorkingSet;
use shared::events::lead::LeadEvent;
use shared::lead::Lead;
use shared::store::lock_streams;
use shared::ApiError;
use sqlx::PgPool;
use uuid::Uuid;

/// What a note command changes in `note_index`, checked in the command's transaction.
#[derive(Debug, Clone, Copy)]
pub enum NoteIndex {
    Add {
        note_id: Uuid,
        created_at: i64,
    },
    /// The note must exist (and is locked until commit).
    Edit(Uuid),
    Remove(Uuid),
}

async fn write_note_index(
    conn: &mut sqlx::PgConnection,
    tenant: Uuid,
    lead: Uuid,
    change: NoteIndex,
) -> Result<(), WriteError> {
    let found = match change {
        NoteIndex::Add {
            note_id,
            created_at,
        } => sqlx::query(
            "INSERT INTO note_index (note_id, tenant_id, lead_id, created_at) VALUES ($1, $2, $3, $4)",
        )
        .bind(note_id)
        .bind(tenant)
        .bind(lead)
        .bind(created_at)
        .execute(conn)
        .await?
        .rows_affected(),
        NoteIndex::Edit(note_id) => sqlx::query(
            "SELECT 1 FROM note_index WHERE note_id = $1 AND tenant_id = $2 AND lead_id = $3
               AND NOT deleted FOR UPDATE",
        )
        .bind(note_id)
        .bind(tenant)
        .bind(lead)
        .fetch_all(conn)
        .await?
        .len() as u64,
        NoteIndex::Remove(note_id) => sqlx::query(
            "UPDATE note_index SET deleted = true
             WHERE note_id = $1 AND tenant_id = $2 AND lead_id = $3 AND NOT deleted",
        )
        .bind(note_id)
        .bind(tenant)
        .bind(lead)
        .execute(conn)
        .await?
        .rows_affected(),
    };
    if found == 0 {
        return Err(ApiError::not_found("Note not found").into());
    }
    Ok(())
}

/// Runs `decide` on lead `id` (404 when it is unknown, malformed or deleted) and commits the
/// event it returns, if any, with the note index change. Answers what `decide` answered and
/// the lead after the command.
pub async fn on_lead<T>(
    pool: &PgPool,
    ctx: &CommandContext,
    id: Option<Uuid>,
    note: Option<NoteIndex>,
    decide: impl Fn(&Lead) -> Result<(Option<(Lead, LeadEvent)>, T), ApiError>,
) -> Result<(T, Lead), ApiError> {
    let id = id.ok_or_else(|| ApiError::not_found("Lead not found"))?;
    with_retries(|| async {
        let mut tx = pool.begin().await?;
        lock(&mut tx, ctx.tenant, LockMode::Keys, &[]).await?;
        // Writers of one lead take turns (before any write: see `lock_streams`).
        lock_streams(&mut tx, &[id]).await?;
        let leads = load_leads(&mut tx, ctx.tenant, &[id]).await?;
        let lead = leads
            .get(&id)
            .filter(|l| !l.deleted)
            .cloned()
            .ok_or_else(|| WriteError::Api(ApiError::not_found("Lead not found")))?;
        let (decided, answer) = decide(&lead)?;
        let mut ws = WorkingSet::new(ctx.tenant, leads, Vec::new());
        if let Some((after, event)) = decided {
            if let Some(change) = note {
                write_note_index(&mut tx, ctx.tenant, id, change).await?;
            }
            ws.record(after, event);
            let rules = compiled_rules(&mut tx, ctx.tenant).await?;
            ws.rescore(&rules, ctx.now);
            ws.commit(&mut tx, &ctx.metadata).await?;
            tx.commit().await?;
        }
        let after = ws.get(id).cloned().unwrap_or(lead);
        Ok((answer, after))
    })
    .await
}
