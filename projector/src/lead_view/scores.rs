//! The narrow writes of the lead read model: scores into `lead_scores` (one 70-byte row and two
//! indexes per lead, so a rescore of a whole account never rewrites a wide `lead_view` row),
//! and the version alone of `lead_view` rows whose only new events were notes. Both are
//! guarded by stream version: a replayed older event changes nothing.

use shared::lead::Lead;
use shared::read_model::Tables;
use sqlx::PgConnection;
use uuid::Uuid;

/// A lead's score as of a stream version.
#[derive(Debug, Clone, Copy, PartialEq)]
pub struct ScoreRow {
    pub tenant_id: Uuid,
    pub lead_id: Uuid,
    pub version: i64,
    pub score: f64,
}

impl ScoreRow {
    pub fn of(lead: &Lead) -> Self {
        Self {
            tenant_id: lead.tenant_id,
            lead_id: lead.id,
            version: lead.version,
            score: lead.score,
        }
    }
}

/// Upserts the scores; a row already at this or a newer version is left alone.
pub async fn write_scores(
    conn: &mut PgConnection,
    tables: &Tables,
    rows: &[ScoreRow],
) -> Result<(), sqlx::Error> {
    if rows.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!(
        "INSERT INTO {} AS s (tenant_id, lead_id, version, score)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::int8[], $4::float8[])
         ON CONFLICT (tenant_id, lead_id) DO UPDATE SET score = EXCLUDED.score, version = EXCLUDED.version
         WHERE s.version < EXCLUDED.version",
        tables.scores
    ))
    .bind(rows.iter().map(|r| r.tenant_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.lead_id).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.version).collect::<Vec<_>>())
    .bind(rows.iter().map(|r| r.score).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}

/// Moves the version of `lead_view` rows whose other columns the new events left alone (notes
/// live in `note_view`): a narrow update of an unindexed column.
pub async fn write_versions(
    conn: &mut PgConnection,
    tables: &Tables,
    leads: &[&Lead],
) -> Result<(), sqlx::Error> {
    if leads.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!(
        "UPDATE {} v SET version = u.version
         FROM unnest($1::uuid[], $2::uuid[], $3::int8[]) AS u(tenant_id, lead_id, version)
         WHERE v.tenant_id = u.tenant_id AND v.lead_id = u.lead_id AND v.version < u.version",
        tables.leads
    ))
    .bind(leads.iter().map(|l| l.tenant_id).collect::<Vec<_>>())
    .bind(leads.iter().map(|l| l.id).collect::<Vec<_>>())
    .bind(leads.iter().map(|l| l.version).collect::<Vec<_>>())
    .execute(conn)
    .await?;
    Ok(())
}
