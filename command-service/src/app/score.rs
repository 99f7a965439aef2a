//! Scores on request: `POST /leads/{id}/score` (rescore one lead now), `POST /leads/score/batch` (the whole account: at once when it
//! is small, else as a background job).

use super::context::CommandContext;
use super::repo::load_leads;
use super::rescore::rescore_batch;
use super::retry::with_retries;
use super::rules::enqueue_rescore;
use super::rules_repo::compiled_rules;
use super::working::WorkingSet;
use shared::store::lock_streams;
use shared::ApiError;
use sqlx::PgPool;
use uuid::Uuid;

fn lead_not_found() -> ApiError {
    ApiError::not_found("Lead not found")
}

/// Rescores one lead in its own command; answers its score.
pub async fn score_one(
    pool: &PgPool,
    ctx: &CommandContext,
    id: Option<Uuid>,
) -> Result<f64, ApiError> {
    let id = id.ok_or_else(lead_not_found)?;
    with_retries(|| async {
        let mut tx = pool.begin().await?;
        lock_streams(&mut tx, &[id]).await?;
        let leads = load_leads(&mut tx, ctx.tenant, &[id]).await?;
        if leads.get(&id).is_none_or(|l| l.deleted) {
            return Err(lead_not_found().into());
        }
        let rules = compiled_rules(&mut tx, ctx.tenant).await?;
        let mut ws = WorkingSet::new(ctx.tenant, leads, Vec::new());
        ws.rescore_ids(&[id], &rules, ctx.now);
        ws.commit(&mut tx, &ctx.metadata).await?;
        tx.commit().await?;
        Ok(ws.score_of(id).unwrap_or_default())
    })
    .await
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

pub async fn score_all(pool: &PgPool, ctx: &CommandContext) -> Result<ScoreAll, ApiError> {
    with_retries(|| async {
        let mut tx = pool.begin().await?;
        let streams: i64 = sqlx::query_scalar(
            "SELECT count(*) FROM streams WHERE tenant_id = $1 AND stream_type = 'lead'",
        )
        .bind(ctx.tenant)
        .fetch_one(&mut *tx)
        .await?;
        if streams > AT_ONCE {
            let job =
                enqueue_rescore(&mut tx, ctx.tenant, "requested (POST /leads/score/batch)").await?;
            tx.commit().await?;
            return Ok(ScoreAll::Queued(job));
        }
        let outcome =
            rescore_batch(&mut tx, ctx.tenant, (None, None), AT_ONCE, &ctx.metadata).await?;
        tx.commit().await?;
        Ok(ScoreAll::Done(outcome.scores))
    })
    .await
}
