//! Scores on request: `POST /leads/{id}/score` (rescore one lead now), `POST /leads/score/batch` (the whole account: at once when it
//! is small, else as a background job).

use super::context::CommandContext;
use super::error::CommandError;
use super::rescore::rescore_batch;
use super::rules::enqueue_rescore;
use super::unit::{lead_command, transaction, Scope};
use sqlx::PgPool;
use uuid::Uuid;

/// Rescores one lead in its own command; answers its score.
pub async fn score_one(
    pool: &PgPool,
    ctx: &CommandContext,
    id: Option<Uuid>,
) -> Result<f64, CommandError> {
    let id = id.ok_or(CommandError::NotFound("Lead not found"))?;
    let (_, ws) = lead_command(pool, ctx, &Scope::lead(id), |ws| {
        ws.live(id)?;
        ws.touch(id);
        Ok(())
    })
    .await?;
    Ok(ws.score_of(id).unwrap_or_default())
}

/// Rescores every lead of the account: in this request when the account has at most one
/// batch of leads (answering `{count, leads: [{id, score}]}`), else as a queued job
/// (answering the job, whose progress `GET /scoring-jobs/{id}` shows).
/// Accounts up to this many leads are rescored within `POST /leads/score/batch`.
pub const AT_ONCE: i64 = 1000;

pub enum ScoreAll {
    Done(Vec<(Uuid, f64)>),
    Queued(Uuid),
}

pub async fn score_all(pool: &PgPool, ctx: &CommandContext) -> Result<ScoreAll, CommandError> {
    transaction(pool, ctx, |tx, ctx| {
        Box::pin(async move {
            let streams: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM streams WHERE tenant_id = $1 AND stream_type = 'lead'",
            )
            .bind(ctx.tenant)
            .fetch_one(&mut *tx)
            .await?;
            if streams > AT_ONCE {
                let reason = "requested (POST /leads/score/batch)";
                return Ok(ScoreAll::Queued(
                    enqueue_rescore(tx, ctx.tenant, reason).await?,
                ));
            }
            let range = (None, None);
            let outcome = rescore_batch(tx, ctx.tenant, range, AT_ONCE, &ctx.metadata).await?;
            Ok(ScoreAll::Done(outcome.scores))
        })
    })
    .await
}
