//! Scoring-rule commands: create, partial update, delete. Each appends the rule's event, keeps
//! its `scoring_rules` row and, when scores can change, queues a background rescore of the
//! account — all in one transaction.

use super::context::CommandContext;
use super::error::CommandError;
use super::rules_repo::{delete_rule_row, get_rule, save_rule, RuleRow};
use super::unit::{append_event, transaction};
use shared::events::scoring::{
    RuleEvent, ScoringRuleCreated, ScoringRuleDeleted, ScoringRuleUpdated,
};
use shared::store::ExpectedVersion;
use sqlx::{PgConnection, PgPool};
use uuid::Uuid;

fn not_found() -> CommandError {
    CommandError::NotFound("Scoring rule not found")
}

/// Queues a rescore of every lead of `tenant`; an unfinished older job is superseded (the new
/// one covers it). Returns the job id.
pub async fn enqueue_rescore(
    conn: &mut PgConnection,
    tenant: Uuid,
    reason: &str,
) -> Result<Uuid, sqlx::Error> {
    sqlx::query(
        "UPDATE rescore_jobs SET status = 'superseded', updated_at = now(), finished_at = now()
         WHERE tenant_id = $1 AND status IN ('pending', 'running')",
    )
    .bind(tenant)
    .execute(&mut *conn)
    .await?;
    let id = shared::ids::new_id();
    sqlx::query("INSERT INTO rescore_jobs (job_id, tenant_id, reason) VALUES ($1, $2, $3)")
        .bind(id)
        .bind(tenant)
        .bind(reason)
        .execute(&mut *conn)
        .await?;
    super::rescore::wake_workers(conn, id).await?;
    Ok(id)
}

pub async fn create_rule(
    pool: &PgPool,
    ctx: &CommandContext,
    (name, expression, weight, priority): (String, String, f64, i64),
) -> Result<RuleRow, CommandError> {
    let row = RuleRow {
        rule_id: shared::ids::new_id(),
        name,
        expression,
        weight,
        priority,
        version: 1,
        created_at: ctx.now,
        updated_at: ctx.now,
    };
    let event = RuleEvent::Created(ScoringRuleCreated {
        name: row.name.clone(),
        expression: row.expression.clone(),
        weight,
        priority,
        at: ctx.now,
    });
    transaction(pool, &(ctx, &row, &event), |tx, &(ctx, row, event)| {
        Box::pin(async move {
            append_event(tx, ctx, row.rule_id, ExpectedVersion::NoStream, event).await?;
            save_rule(tx, ctx.tenant, row).await?;
            enqueue_rescore(tx, ctx.tenant, "scoring rule created").await?;
            Ok(row.clone())
        })
    })
    .await
}

/// Applies the given fields; an update that changes nothing writes nothing.
pub async fn update_rule(
    pool: &PgPool,
    ctx: &CommandContext,
    id: Option<Uuid>,
    mut update: ScoringRuleUpdated,
) -> Result<RuleRow, CommandError> {
    let id = id.ok_or_else(not_found)?;
    update.at = ctx.now;
    transaction(pool, &(ctx, id, &update), |tx, &(ctx, id, update)| {
        Box::pin(async move {
            let before = get_rule(tx, ctx.tenant, id, true)
                .await?
                .ok_or_else(not_found)?;
            let changed = ScoringRuleUpdated {
                name: update.name.clone().filter(|n| *n != before.name),
                expression: update
                    .expression
                    .clone()
                    .filter(|e| *e != before.expression),
                weight: update.weight.filter(|w| *w != before.weight),
                priority: update.priority.filter(|p| *p != before.priority),
                at: ctx.now,
            };
            if changed
                == (ScoringRuleUpdated {
                    at: ctx.now,
                    ..Default::default()
                })
            {
                return Ok(before);
            }
            let rescore = changed.expression.is_some() || changed.weight.is_some();
            let after = RuleRow {
                name: changed.name.clone().unwrap_or_else(|| before.name.clone()),
                expression: changed
                    .expression
                    .clone()
                    .unwrap_or_else(|| before.expression.clone()),
                weight: changed.weight.unwrap_or(before.weight),
                priority: changed.priority.unwrap_or(before.priority),
                version: before.version + 1,
                updated_at: ctx.now,
                ..before.clone()
            };
            let event = RuleEvent::Updated(changed);
            append_event(tx, ctx, id, ExpectedVersion::Exact(before.version), &event).await?;
            save_rule(tx, ctx.tenant, &after).await?;
            if rescore {
                enqueue_rescore(tx, ctx.tenant, "scoring rule updated").await?;
            }
            Ok(after)
        })
    })
    .await
}

pub async fn delete_rule(
    pool: &PgPool,
    ctx: &CommandContext,
    id: Option<Uuid>,
) -> Result<(), CommandError> {
    let id = id.ok_or_else(not_found)?;
    transaction(pool, &(ctx, id), |tx, &(ctx, id)| {
        Box::pin(async move {
            let before = get_rule(tx, ctx.tenant, id, true)
                .await?
                .ok_or_else(not_found)?;
            let event = RuleEvent::Deleted(ScoringRuleDeleted { at: ctx.now });
            append_event(tx, ctx, id, ExpectedVersion::Exact(before.version), &event).await?;
            delete_rule_row(tx, ctx.tenant, id).await?;
            enqueue_rescore(tx, ctx.tenant, "scoring rule deleted").await?;
            Ok(())
        })
    })
    .await
}
