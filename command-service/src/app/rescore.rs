//! Rescoring whole accounts: `rescore_jobs` rows worked through in batches of leads (by lead
//! id). Each batch loads the leads, scores them with the account's current rules, appends a
//! `LeadScored` event for each changed score and moves the job's cursor and counts — one
//! transaction, so a crash resumes at the last committed batch and never scores twice. The
//! job row is locked per batch (`SKIP LOCKED`): replicas share the work, never a batch.

use super::repo::{load_leads, WriteError};
use super::retry::with_retries;
use super::rules_repo::compiled_rules;
use super::working::WorkingSet;
use serde_json::{json, Value};
use shared::events::EventMetadata;
use shared::lead::Lead;
use shared::read_model::decode_row;
use shared::ApiError;
use sqlx::{PgConnection, PgPool, Row};
use std::collections::HashMap;
use std::time::Duration;
use tokio_util::sync::CancellationToken;
use uuid::Uuid;

/// Leads per batch transaction of a job (larger batches: fewer commits and wake-ups of the
/// relay and projector; 2,500 was no faster than 1,000 at 1M leads).
pub const BATCH: i64 = 1000;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub job_id: Uuid,
    pub tenant_id: Uuid,
    pub reason: String,
    pub status: String,
    pub total: i64,
    pub done: i64,
    pub changed: i64,
    pub cursor: Option<Uuid>,
    pub created_at: chrono::DateTime<chrono::Utc>,
    pub finished_at: Option<chrono::DateTime<chrono::Utc>>,
}

impl Job {
    pub fn json(&self) -> Value {
        json!({
            "id": self.job_id,
            "status": self.status,
            "reason": self.reason,
            "total": self.total,
            "done": self.done,
            "changed": self.changed,
            "created_at": self.created_at.timestamp(),
            "finished_at": self.finished_at.map(|t| t.timestamp()),
        })
    }
}

const JOB_COLUMNS: &str =
    "job_id, tenant_id, reason, status, total, done, changed, cursor, created_at, finished_at";

pub async fn get_job(pool: &PgPool, tenant: Uuid, id: Uuid) -> Result<Option<Job>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {JOB_COLUMNS} FROM rescore_jobs WHERE tenant_id = $1 AND job_id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn list_jobs(pool: &PgPool, tenant: Uuid) -> Result<Vec<Job>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {JOB_COLUMNS} FROM rescore_jobs WHERE tenant_id = $1 ORDER BY created_at DESC LIMIT 50"
    ))
    .bind(tenant)
    .fetch_all(pool)
    .await
}

/// The leads of `tenant` after `cursor` (by id, at most `limit`; deleted ones included, they
/// are skipped) with their current state. A state comes from the lead read model when it is
/// at the stream's version (checked in the caller's transaction; an append that follows is
/// compare-and-set on that version anyway), else from the event store.
async fn next_leads(
    conn: &mut PgConnection,
    tenant: Uuid,
    cursor: Option<Uuid>,
    limit: i64,
) -> Result<(Vec<Uuid>, HashMap<Uuid, Lead>), WriteError> {
    let rows = sqlx::query(
        "SELECT st.stream_id, st.version AS stream_version, v.*, s.score, s.version AS score_version
         FROM streams st
         LEFT JOIN lead_view v ON v.tenant_id = st.tenant_id AND v.lead_id = st.stream_id
         LEFT JOIN lead_scores s ON s.tenant_id = st.tenant_id AND s.lead_id = st.stream_id
         WHERE st.tenant_id = $1 AND st.stream_type = 'lead'
           AND st.stream_id > coalesce($2, '00000000-0000-0000-0000-000000000000'::uuid)
         ORDER BY st.stream_id LIMIT $3",
    )
    .bind(tenant)
    .bind(cursor)
    .bind(limit)
    .fetch_all(&mut *conn)
    .await?;
    let mut ids = Vec::with_capacity(rows.len());
    let mut leads = HashMap::with_capacity(rows.len());
    let mut behind = Vec::new();
    for row in &rows {
        let id: Uuid = row.try_get("stream_id")?;
        ids.push(id);
        let current: i64 = row.try_get("stream_version")?;
        let row_version = row.try_get::<Option<i64>, _>("version")?;
        let score_version = row.try_get::<Option<i64>, _>("score_version")?;
        if row_version.zip(score_version).map(|(a, b)| a.max(b)) == Some(current) {
            let mut lead = decode_row(row)?;
            // No snapshot is due for a state that did not come from the store.
            lead.snapshot_version = lead.version;
            leads.insert(id, lead);
        } else {
            behind.push(id);
        }
    }
    if !behind.is_empty() {
        leads.extend(load_leads(conn, tenant, &behind).await?);
    }
    Ok((ids, leads))
}

/// What one batch did.
pub struct BatchOutcome {
    /// Leads looked at, and the last of them (the next cursor).
    pub seen: Vec<Uuid>,
    /// (lead, new score) of the live leads of the batch.
    pub scores: Vec<(Uuid, f64)>,
    pub changed: usize,
}

/// Rescores the leads of `tenant` after `cursor` (at most `limit`) in the caller's transaction.
pub async fn rescore_batch(
    conn: &mut PgConnection,
    tenant: Uuid,
    cursor: Option<Uuid>,
    limit: i64,
    metadata: &EventMetadata,
) -> Result<BatchOutcome, WriteError> {
    let (ids, leads) = next_leads(conn, tenant, cursor, limit).await?;
    if ids.is_empty() {
        return Ok(BatchOutcome {
            seen: ids,
            scores: Vec::new(),
            changed: 0,
        });
    }
    let rules = compiled_rules(conn, tenant).await?;
    let mut ws = WorkingSet::new(tenant, leads, Vec::new());
    let now = chrono::Utc::now().timestamp();
    let changed = ws.rescore_ids(&ids, &rules, now).len();
    ws.commit(conn, metadata).await?;
    let scores = ids
        .iter()
        .filter_map(|id| ws.get(*id).filter(|l| !l.deleted).map(|l| (*id, l.score)))
        .collect();
    Ok(BatchOutcome {
        seen: ids,
        scores,
        changed,
    })
}

/// Works one batch of the oldest open job; false when there is nothing to do (no open job,
/// or every open job is being worked by another replica).
pub async fn step(pool: &PgPool, batch: i64) -> Result<bool, ApiError> {
    with_retries(|| async {
        let mut tx = pool.begin().await?;
        let job: Option<Job> = sqlx::query_as(&format!(
            "SELECT {JOB_COLUMNS} FROM rescore_jobs WHERE status IN ('pending', 'running')
             ORDER BY created_at LIMIT 1 FOR UPDATE SKIP LOCKED"
        ))
        .fetch_optional(&mut *tx)
        .await?;
        let Some(job) = job else {
            return Ok(false);
        };
        if job.status == "pending" {
            let total: i64 = sqlx::query_scalar(
                "SELECT count(*) FROM streams WHERE tenant_id = $1 AND stream_type = 'lead'",
            )
            .bind(job.tenant_id)
            .fetch_one(&mut *tx)
            .await?;
            sqlx::query("UPDATE rescore_jobs SET status = 'running', total = $2, updated_at = now() WHERE job_id = $1")
                .bind(job.job_id)
                .bind(total)
                .execute(&mut *tx)
                .await?;
        }
        let metadata = EventMetadata {
            actor: Some("system:rescore".into()),
            correlation_id: Some(job.job_id),
            ..Default::default()
        };
        let outcome = rescore_batch(&mut tx, job.tenant_id, job.cursor, batch, &metadata).await?;
        match outcome.seen.last() {
            Some(last) => {
                sqlx::query(
                    "UPDATE rescore_jobs SET cursor = $2, done = done + $3, changed = changed + $4,
                         total = greatest(total, done + $3), updated_at = now()
                     WHERE job_id = $1",
                )
                .bind(job.job_id)
                .bind(last)
                .bind(outcome.seen.len() as i64)
                .bind(outcome.changed as i64)
                .execute(&mut *tx)
                .await?;
            }
            None => {
                sqlx::query(
                    "UPDATE rescore_jobs SET status = 'done', total = done, updated_at = now(), finished_at = now()
                     WHERE job_id = $1",
                )
                .bind(job.job_id)
                .execute(&mut *tx)
                .await?;
            }
        }
        tx.commit().await?;
        Ok(true)
    })
    .await
}

/// Works open jobs until shutdown: woken by `NOTIFY leadstream_rescore` when one is queued,
/// with a fallback poll.
pub async fn run(pool: PgPool, poll: Duration, shutdown: CancellationToken) {
    let mut listener = match sqlx::postgres::PgListener::connect_with(&pool).await {
        Ok(mut l) => match l.listen("leadstream_rescore").await {
            Ok(()) => Some(l),
            Err(e) => {
                tracing::warn!(error = %e, "rescore worker: LISTEN failed; polling");
                None
            }
        },
        Err(e) => {
            tracing::warn!(error = %e, "rescore worker: no listener; polling");
            None
        }
    };
    loop {
        if shutdown.is_cancelled() {
            return;
        }
        match step(&pool, BATCH).await {
            Ok(true) => continue,
            Ok(false) => {}
            Err(e) => tracing::error!(error = %e, "rescore batch failed"),
        }
        let wake = async {
            match listener.as_mut() {
                Some(l) => {
                    let _ = l.recv().await;
                }
                None => std::future::pending::<()>().await,
            }
        };
        tokio::select! {
            _ = shutdown.cancelled() => return,
            _ = wake => {}
            _ = tokio::time::sleep(poll) => {}
        }
    }
}
