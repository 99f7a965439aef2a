//! `POST /leads/{id}/notes`, `PUT|DELETE /notes/{note_id}`: note events on the lead's stream;
//! a note is found through `note_index`, so another account's note is simply not found.

use super::context::CommandContext;
use super::error::CommandError;
use super::repo::NoteIndex;
use super::single::on_lead;
use serde_json::Value;
use shared::lead::decide::{decide_add_note, decide_edit_note, decide_remove_note};
use shared::read_model::notes::note_json;
use sqlx::PgPool;
use uuid::Uuid;

fn not_found() -> CommandError {
    CommandError::NotFound("Note not found")
}

/// The note's lead and creation time, if the note exists in `tenant`.
async fn find(
    pool: &PgPool,
    tenant: Uuid,
    note: Option<Uuid>,
) -> Result<(Uuid, Uuid, i64), CommandError> {
    let note = note.ok_or_else(not_found)?;
    let row: Option<(Uuid, i64)> = sqlx::query_as(
        "SELECT lead_id, created_at FROM note_index WHERE note_id = $1 AND tenant_id = $2 AND NOT deleted",
    )
    .bind(note)
    .bind(tenant)
    .fetch_optional(pool)
    .await?;
    let (lead, created_at) = row.ok_or_else(not_found)?;
    Ok((note, lead, created_at))
}

pub async fn add_note(
    pool: &PgPool,
    ctx: &CommandContext,
    lead: Option<Uuid>,
    content: String,
) -> Result<Value, CommandError> {
    let note_id = shared::ids::new_id();
    let index = NoteIndex::Add {
        note_id,
        created_at: ctx.now,
    };
    let (_, after) = on_lead(pool, ctx, lead, Some(index), |l| {
        Ok((Some(decide_add_note(l, note_id, &content, ctx.now)), ()))
    })
    .await?;
    Ok(note_json(note_id, after.id, &content, ctx.now, ctx.now))
}

pub async fn edit_note(
    pool: &PgPool,
    ctx: &CommandContext,
    note: Option<Uuid>,
    content: String,
) -> Result<Value, CommandError> {
    let (note_id, lead, created_at) = find(pool, ctx.tenant, note).await?;
    on_lead(pool, ctx, Some(lead), Some(NoteIndex::Edit(note_id)), |l| {
        Ok((Some(decide_edit_note(l, note_id, &content, ctx.now)), ()))
    })
    .await
    .map_err(lead_gone)?;
    Ok(note_json(note_id, lead, &content, created_at, ctx.now))
}

pub async fn remove_note(
    pool: &PgPool,
    ctx: &CommandContext,
    note: Option<Uuid>,
) -> Result<(), CommandError> {
    let (note_id, lead, _) = find(pool, ctx.tenant, note).await?;
    on_lead(
        pool,
        ctx,
        Some(lead),
        Some(NoteIndex::Remove(note_id)),
        |l| Ok((Some(decide_remove_note(l, note_id, ctx.now)), ())),
    )
    .await
    .map_err(lead_gone)?;
    Ok(())
}

/// A note of a deleted lead is gone with it.
fn lead_gone(e: CommandError) -> CommandError {
    match e {
        CommandError::NotFound(_) => not_found(),
        other => other,
    }
}
