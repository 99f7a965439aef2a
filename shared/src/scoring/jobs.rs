//! Rescore jobs (`rescore_jobs`, written by command-service's rescore workers) as the API
//! shows them: status, reason, progress (`total`, `done`, `changed`,
//! and how many of the job's parts are finished).

use serde_json::{json, Value};
use sqlx::PgPool;
use uuid::Uuid;

#[derive(Debug, Clone, sqlx::FromRow)]
pub struct Job {
    pub job_id: Uuid,
    pub tenant_id: Uuid,
    pub reason: String,
    pub status: String,
    pub total: i64,
    pub done: i64,
    pub changed: i64,
    pub parts: i64,
    pub parts_done: i64,
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
            "parts": self.parts,
            "parts_done": self.parts_done,
            "created_at": self.created_at.timestamp(),
            "finished_at": self.finished_at.map(|t| t.timestamp()),
        })
    }
}

const JOB_COLUMNS: &str = "j.job_id, j.tenant_id, j.reason, j.status, j.total, j.done, j.changed,
    (SELECT count(*) FROM rescore_parts p WHERE p.job_id = j.job_id) AS parts,
    (SELECT count(*) FROM rescore_parts p WHERE p.job_id = j.job_id AND p.finished) AS parts_done,
    j.created_at, j.finished_at";

pub async fn get_job(pool: &PgPool, tenant: Uuid, id: Uuid) -> Result<Option<Job>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {JOB_COLUMNS} FROM rescore_jobs j WHERE j.tenant_id = $1 AND j.job_id = $2"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(pool)
    .await
}

pub async fn list_jobs(pool: &PgPool, tenant: Uuid) -> Result<Vec<Job>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {JOB_COLUMNS} FROM rescore_jobs j WHERE j.tenant_id = $1
         ORDER BY j.created_at DESC LIMIT 50"
    ))
    .bind(tenant)
    .fetch_all(pool)
    .await
}
