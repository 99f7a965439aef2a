//! `projection_failures` as readers see it: a stream the projector quarantined answers an
//! error instead of a state built past a gap (the projector writes these rows).

use sqlx::PgConnection;
use uuid::Uuid;

/// The failure that quarantined a stream of `projection`, if any: (position, event type).
pub async fn failure_of(
    conn: &mut PgConnection,
    projection: &str,
    tenant: Uuid,
    stream: Uuid,
) -> Result<Option<(i64, String)>, sqlx::Error> {
    sqlx::query_as(
        "SELECT position, event_type FROM projection_failures
         WHERE projection = $1 AND stream_id = $2 AND tenant_id = $3",
    )
    .bind(projection)
    .bind(stream)
    .bind(tenant)
    .fetch_optional(conn)
    .await
}
