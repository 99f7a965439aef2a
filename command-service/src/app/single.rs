//! Commands on one existing lead that leave its dedup keys alone (attributes, notes): the
//! lead under the tenant's shared lock and its own lock, decided, rescored and recorded by the
//! unit of work.

use super::context::CommandContext;
use super::error::CommandError;
use super::repo::NoteIndex;
use super::unit::{lead_command, Scope};
use shared::events::lead::LeadEvent;
use shared::lead::Lead;
use sqlx::PgPool;
use uuid::Uuid;

/// Runs `decide` on lead `id` (404 when it is unknown, malformed or deleted) and records the
/// event it returns, if any, with the note index change. Answers what `decide` answered and
/// the lead after the command.
pub async fn on_lead<T: Send>(
    pool: &PgPool,
    ctx: &CommandContext,
    id: Option<Uuid>,
    note: Option<NoteIndex>,
    decide: impl Fn(&Lead) -> Result<(Option<(Lead, LeadEvent)>, T), CommandError> + Sync,
) -> Result<(T, Lead), CommandError> {
    let id = id.ok_or(CommandError::NotFound("Lead not found"))?;
    let (answer, ws) = lead_command(pool, ctx, &Scope::lead(id), |ws| {
        let (decided, answer) = decide(&ws.live(id)?)?;
        if let Some((after, event)) = decided {
            ws.record(after, event);
            if let Some(change) = note {
                ws.note_index(id, change);
            }
        }
        Ok(answer)
    })
    .await?;
    Ok((answer, ws.live(id)?))
}
