//! Writing the notes read model (`note_view`): one row per note, removed notes as tombstones,
//! from the lead stream's note events.

use shared::events::lead::LeadEvent;
use shared::read_model::Tables;
use sqlx::PgConnection;
use uuid::Uuid;

/// Applies one note event of lead `lead_id` (other events are ignored).
pub async fn write_note_event(
    conn: &mut PgConnection,
    tables: &Tables,
    tenant: Uuid,
    lead_id: Uuid,
    event: &LeadEvent,
) -> Result<(), sqlx::Error> {
    match event {
        LeadEvent::NoteAdded(e) => {
            sqlx::query(&format!(
                "INSERT INTO {} (tenant_id, note_id, lead_id, content, created_at, updated_at)
                 VALUES ($1, $2, $3, $4, $5, $5)
                 ON CONFLICT (tenant_id, note_id) DO NOTHING",
                tables.notes
            ))
            .bind(tenant)
            .bind(e.note_id)
            .bind(lead_id)
            .bind(&e.content)
            .bind(e.at)
            .execute(conn)
            .await?;
        }
        LeadEvent::NoteEdited(e) => {
            sqlx::query(&format!(
                "UPDATE {} SET content = $3, updated_at = $4 WHERE tenant_id = $1 AND note_id = $2",
                tables.notes
            ))
            .bind(tenant)
            .bind(e.note_id)
            .bind(&e.content)
            .bind(e.at)
            .execute(conn)
            .await?;
        }
        LeadEvent::NoteRemoved(e) => {
            sqlx::query(&format!(
                "UPDATE {} SET deleted = true, updated_at = $3 WHERE tenant_id = $1 AND note_id = $2",
                tables.notes
            ))
            .bind(tenant)
            .bind(e.note_id)
            .bind(e.at)
            .execute(conn)
            .await?;
        }
        _ => {}
    }
    Ok(())
}
