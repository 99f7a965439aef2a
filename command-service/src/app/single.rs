//! Commands on one existing lead that do not touch its dedup keys (attributes, notes,
//! rescoring on request): load it under the tenant's shared lock, decide, rescore, append —
//! one transaction, retried when the lead moved meanwhile.

use super::context::CommandContext;
use super::repo::{load_leads, lock, LockMode, WriteError};
use super::retry::with_retries;
use super::rules_repo::compiled_rules;
use super::working::WorkingSet;
use shared::events::lead::LeadEvent;
use shared::lead::Lead;
use shared::ApiError;
use sqlx::PgPool;
use uuid::Uuid;

/// Runs `decide` on lead `id` (404 when it is unknown, malformed or deleted) and commits the
/// event it returns, if any. Answers what `decide` answered and the lead after the command.
pub async fn on_lead<T>(
    pool: &PgPool,
    ctx: &CommandContext,
    id: Option<Uuid>,
    decide: impl Fn(&Lead) -> Result<(Option<(Lead, LeadEvent)>, T), ApiError>,
) -> Result<(T, Lead), ApiError> {
    let id = id.ok_or_else(|| ApiError::not_found("Lead not found"))?;
    with_retries(|| async {
        let mut tx = pool.begin().await?;
        lock(&mut tx, ctx.tenant, LockMode::Keys, &[]).await?;
        let leads = load_leads(&mut tx, ctx.tenant, &[id]).await?;
        let lead = leads
            .get(&id)
            .filter(|l| !l.deleted)
            .cloned()
            .ok_or_else(|| WriteError::Api(ApiError::not_found("Lead not found")))?;
        let (decided, answer) = decide(&lead)?;
        let mut ws = WorkingSet::new(ctx.tenant, leads, Vec::new());
        if let Some((after, event)) = decided {
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
