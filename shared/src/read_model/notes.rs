//! The notes read model (`note_view`): one row per note, removed notes as tombstones, written
//! by the lead projection from its note events, and read by query-service.

use serde_json::{json, Value};
use sqlx::{PgConnection, Row};
use uuid::Uuid;

/// The Note object of SPEC §2.
pub fn note_json(
    note_id: Uuid,
    lead_id: Uuid,
    content: &str,
    created_at: i64,
    updated_at: i64,
) -> Value {
    json!({
        "id": crate::ids::note_public_id(note_id),
        "lead_id": crate::ids::lead_public_id(lead_id),
        "content": content,
        "created_at": created_at,
        "updated_at": updated_at,
    })
}

/// The live notes of a lead, oldest first.
pub async fn read_notes(
    conn: &mut PgConnection,
    tenant: Uuid,
    lead_id: Uuid,
) -> Result<Vec<Value>, sqlx::Error> {
    let rows = sqlx::query(
        "SELECT note_id, content, created_at, updated_at FROM note_view
         WHERE tenant_id = $1 AND lead_id = $2 AND NOT deleted ORDER BY created_at, note_id",
    )
    .bind(tenant)
    .bind(lead_id)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(|r| {
            Ok(note_json(
                r.try_get("note_id")?,
                lead_id,
                r.try_get::<&str, _>("content")?,
                r.try_get("created_at")?,
                r.try_get("updated_at")?,
            ))
        })
        .collect()
}
