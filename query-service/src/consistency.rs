//! Read-your-writes (invariant 6): before answering, a read waits until the lead read model has
//! applied everything its tenant has committed. No header is needed: the tenant's last
//! position comes from the event store (one index probe), the model's from its checkpoint.
//! The wait is bounded; past the bound the read answers what it has and says so.

use axum::http::{HeaderName, HeaderValue};
use sqlx::PgPool;
use std::time::{Duration, Instant};
use uuid::Uuid;

pub const CONSISTENCY_HEADER: HeaderName = HeaderName::from_static("x-read-consistency");

#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Freshness {
    /// Every write of the tenant committed before the read started is visible.
    Fresh,
    /// The bound passed first: the answer may miss the tenant's latest writes.
    Stale,
}

impl Freshness {
    pub fn header_value(self) -> HeaderValue {
        HeaderValue::from_static(match self {
            Freshness::Fresh => "fresh",
            Freshness::Stale => "stale",
        })
    }
}

/// Waits (at most `bound`) until `checkpoint` has passed the tenant's last event.
pub async fn wait_for_tenant(
    pool: &PgPool,
    tenant: Uuid,
    checkpoint: &str,
    bound: Duration,
) -> Result<Freshness, sqlx::Error> {
    let started = Instant::now();
    let mut pause = Duration::from_millis(1);
    loop {
        let caught_up: bool = sqlx::query_scalar(
            "SELECT coalesce((SELECT max(position) FROM events WHERE tenant_id = $1), 0)
                 <= coalesce((SELECT position FROM checkpoints WHERE name = $2), 0)",
        )
        .bind(tenant)
        .bind(checkpoint)
        .fetch_one(pool)
        .await?;
        if caught_up {
            return Ok(Freshness::Fresh);
        }
        if started.elapsed() >= bound {
            return Ok(Freshness::Stale);
        }
        tokio::time::sleep(pause).await;
        pause = (pause * 2).min(Duration::from_millis(20));
    }
}
