//! The lead read model's rows (`lead_view`, one per lead, deleted ones as tombstones, with its
//! score in `lead_scores`; and `lead_view_attrs`, one typed row per attribute): `Lead` state <->
//! typed columns, many rows per statement.

use crate::lead::fields::FieldKind;
use crate::lead::{Attribute, Field, FieldValue, Lead};
use sqlx::postgres::PgRow;
use sqlx::{PgConnection, Row};
use std::collections::HashMap;
use uuid::Uuid;

/// The lead projection's checkpoint: reads wait for it to pass their tenant's last write.
pub const LEAD_VIEW_CHECKPOINT: &str = "lead-view";

/// The tables a projection writes: the live ones, or a rebuild's fresh ones.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct Tables {
    pub leads: String,
    pub scores: String,
    pub attrs: String,
    pub notes: String,
}

impl Tables {
    pub fn live() -> Self {
        Self::with_suffix("")
    }

    pub fn with_suffix(suffix: &str) -> Self {
        Self {
            leads: format!("lead_view{suffix}"),
            scores: format!("lead_scores{suffix}"),
            attrs: format!("lead_view_attrs{suffix}"),
            notes: format!("note_view{suffix}"),
        }
    }

    /// Every table with its primary key columns.
    pub fn all(&self) -> [(&str, &str); 4] {
        [
            (&self.leads, "tenant_id, lead_id"),
            (&self.scores, "tenant_id, lead_id"),
            (&self.attrs, "tenant_id, lead_id, name"),
            (&self.notes, "tenant_id, note_id"),
        ]
    }
}

impl Tables {
    /// `lead_view v` joined with its scores `s`, for [`LEAD_COLUMNS`].
    pub fn lead_rows(&self) -> String {
        format!(
            "{} v JOIN {} s ON s.tenant_id = v.tenant_id AND s.lead_id = v.lead_id",
            self.leads, self.scores
        )
    }
}

/// What [`decode_row`] reads, selected from [`Tables::lead_rows`].
pub const LEAD_COLUMNS: &str = "v.*, s.score, s.version AS score_version";

/// Rows of the `(tenant, lead)` pairs, keyed by lead id (one primary-key probe each).
pub async fn read_leads(
    conn: &mut PgConnection,
    tables: &Tables,
    keys: &[(Uuid, Uuid)],
) -> Result<HashMap<Uuid, Lead>, sqlx::Error> {
    let tenants: Vec<Uuid> = keys.iter().map(|k| k.0).collect();
    let ids: Vec<Uuid> = keys.iter().map(|k| k.1).collect();
    let rows = sqlx::query(&format!(
        "SELECT {LEAD_COLUMNS} FROM {} JOIN unnest($1::uuid[], $2::uuid[]) AS k(tenant_id, lead_id)
           ON v.tenant_id = k.tenant_id AND v.lead_id = k.lead_id",
        tables.lead_rows()
    ))
    .bind(&tenants)
    .bind(&ids)
    .fetch_all(conn)
    .await?;
    rows.iter()
        .map(decode_row)
        .map(|r| r.map(|l| (l.id, l)))
        .collect()
}

/// One lead from [`LEAD_COLUMNS`] (extra columns are ignored). Its version is the greater of
/// its row's and its score's: the events between the two changed only the one further ahead.
pub fn decode_row(row: &PgRow) -> Result<Lead, sqlx::Error> {
    let mut fields = std::collections::BTreeMap::new();
    for field in Field::ALL {
        let value = match field.kind() {
            FieldKind::Text { .. } | FieldKind::Status => row
                .try_get::<Option<String>, _>(field.name())?
                .map(FieldValue::Text),
            FieldKind::Number { .. } => row
                .try_get::<Option<f64>, _>(field.name())?
                .map(FieldValue::Number),
            FieldKind::Count => row
                .try_get::<Option<i64>, _>(field.name())?
                .map(FieldValue::Integer),
        };
        if let Some(v) = value {
            fields.insert(field, v);
        }
    }
    let attributes: serde_json::Value = row.try_get("attributes")?;
    let attributes: Vec<Attribute> =
        serde_json::from_value(attributes).map_err(|e| sqlx::Error::Decode(Box::new(e)))?;
    let version: i64 = row.try_get("version")?;
    let score_version: i64 = row.try_get("score_version")?;
    Ok(Lead {
        id: row.try_get("lead_id")?,
        tenant_id: row.try_get("tenant_id")?,
        version: version.max(score_version),
        fields,
        tags: row.try_get("tags")?,
        attributes,
        score: row.try_get("score")?,
        created_at: row.try_get("created_at")?,
        updated_at: row.try_get("updated_at")?,
        last_interaction_at: row.try_get("last_interaction_at")?,
        deleted: row.try_get("deleted")?,
        snapshot_version: 0,
    })
}
