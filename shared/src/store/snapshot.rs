//! Saving aggregate snapshots, in the appending transaction. A newer snapshot never gives way
//! to an older one.

use serde_json::Value;
use sqlx::PgConnection;
use uuid::Uuid;

/// Upserts `(stream_id, version, state)` snapshots of `tenant` in `format`.
pub async fn save_snapshots(
    conn: &mut PgConnection,
    tenant_id: Uuid,
    format: i32,
    snapshots: &[(Uuid, i64, Value)],
) -> Result<(), sqlx::Error> {
    if snapshots.is_empty() {
        return Ok(());
    }
    let ids: Vec<Uuid> = snapshots.iter().map(|s| s.0).collect();
    let versions: Vec<i64> = snapshots.iter().map(|s| s.1).collect();
    let states: Vec<Value> = snapshots.iter().map(|s| s.2.clone()).collect();
    sqlx::query(
        "INSERT INTO snapshots (stream_id, tenant_id, stream_version, format, state)
         SELECT s.id, $4, s.version, $5, s.state
         FROM unnest($1::uuid[], $2::bigint[], $3::jsonb[]) AS s(id, version, state)
         ON CONFLICT (stream_id) DO UPDATE
            SET stream_version = EXCLUDED.stream_version, format = EXCLUDED.format,
                state = EXCLUDED.state, taken_at = now()
          WHERE snapshots.stream_version < EXCLUDED.stream_version
             OR snapshots.format <> EXCLUDED.format",
    )
    .bind(&ids)
    .bind(&versions)
    .bind(&states)
    .bind(tenant_id)
    .bind(format)
    .execute(conn)
    .await?;
    Ok(())
}
