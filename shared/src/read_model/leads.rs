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

fn sql_type(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text { .. } | FieldKind::Status => "text",
        FieldKind::Number { .. } => "float8",
        FieldKind::Count => "int8",
    }
}

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

/// Upserts the `lead_view` rows of `leads` (not their scores: `write_scores`) and the typed
/// attribute rows of the rows it wrote; a row already at this or a newer version is left alone.
pub async fn write_leads(
    conn: &mut PgConnection,
    tables: &Tables,
    leads: &[&Lead],
) -> Result<(), sqlx::Error> {
    if leads.is_empty() {
        return Ok(());
    }
    let fixed = "tenant_id, lead_id, version, deleted, tags, attributes, created_at, \
                 updated_at, last_interaction_at";
    let names: Vec<&str> = Field::ALL.iter().map(|f| f.name()).collect();
    let mut params = vec![
        "$1::uuid[]",
        "$2::uuid[]",
        "$3::int8[]",
        "$4::bool[]",
        "$5::jsonb[]",
        "$6::jsonb[]",
        "$7::int8[]",
        "$8::int8[]",
        "$9::int8[]",
    ]
    .into_iter()
    .map(str::to_owned)
    .collect::<Vec<_>>();
    for (i, f) in Field::ALL.iter().enumerate() {
        params.push(format!("${}::{}[]", 10 + i, sql_type(f.kind())));
    }
    let select_cols: Vec<String> = ["tenant_id", "lead_id", "version", "deleted"]
        .iter()
        .map(|c| format!("r.{c}"))
        .chain(["ARRAY(SELECT jsonb_array_elements_text(r.tags))".to_owned()])
        .chain(
            [
                "attributes",
                "created_at",
                "updated_at",
                "last_interaction_at",
            ]
            .iter()
            .map(|c| format!("r.{c}")),
        )
        .chain(names.iter().map(|c| format!("r.{c}")))
        .collect();
    let updates: Vec<String> = fixed
        .split(", ")
        .skip(2)
        .map(str::trim)
        .chain(names.iter().copied())
        .map(|c| format!("{c} = EXCLUDED.{c}"))
        .collect();
    let sql = format!(
        "INSERT INTO {table} AS v ({fixed}, {cols})
         SELECT {select} FROM unnest({params}) AS r({fixed}, {cols})
         ON CONFLICT (tenant_id, lead_id) DO UPDATE SET {updates}
         WHERE v.version < EXCLUDED.version
         RETURNING v.lead_id",
        table = tables.leads,
        cols = names.join(", "),
        select = select_cols.join(", "),
        params = params.join(", "),
        updates = updates.join(", "),
    );
    let mut q = sqlx::query(&sql)
        .bind(leads.iter().map(|l| l.tenant_id).collect::<Vec<_>>())
        .bind(leads.iter().map(|l| l.id).collect::<Vec<_>>())
        .bind(leads.iter().map(|l| l.version).collect::<Vec<_>>())
        .bind(leads.iter().map(|l| l.deleted).collect::<Vec<_>>())
        .bind(
            leads
                .iter()
                .map(|l| serde_json::json!(l.tags))
                .collect::<Vec<_>>(),
        )
        .bind(
            leads
                .iter()
                .map(|l| serde_json::json!(l.attributes))
                .collect::<Vec<_>>(),
        )
        .bind(leads.iter().map(|l| l.created_at).collect::<Vec<_>>())
        .bind(leads.iter().map(|l| l.updated_at).collect::<Vec<_>>())
        .bind(
            leads
                .iter()
                .map(|l| l.last_interaction_at)
                .collect::<Vec<_>>(),
        );
    for field in Field::ALL {
        let values = leads.iter().map(|l| l.fields.get(&field));
        q = match field.kind() {
            FieldKind::Text { .. } | FieldKind::Status => q.bind(
                values
                    .map(|v| v.and_then(FieldValue::as_text).map(str::to_owned))
                    .collect::<Vec<_>>(),
            ),
            FieldKind::Number { .. } => q.bind(
                values
                    .map(|v| v.and_then(FieldValue::as_f64))
                    .collect::<Vec<_>>(),
            ),
            FieldKind::Count => q.bind(
                values
                    .map(|v| match v {
                        Some(FieldValue::Integer(i)) => Some(*i),
                        _ => None,
                    })
                    .collect::<Vec<_>>(),
            ),
        };
    }
    // Attribute rows follow only the rows the version guard let through.
    let applied: std::collections::HashSet<Uuid> = q
        .fetch_all(&mut *conn)
        .await?
        .iter()
        .map(|r| r.get::<Uuid, _>(0))
        .collect();
    let applied: Vec<&Lead> = leads
        .iter()
        .copied()
        .filter(|l| applied.contains(&l.id))
        .collect();
    write_attrs(conn, tables, &applied).await
}

async fn write_attrs(
    conn: &mut PgConnection,
    tables: &Tables,
    leads: &[&Lead],
) -> Result<(), sqlx::Error> {
    // Only leads that may have attribute rows: a lead created with none has none yet.
    let (tenants, ids): (Vec<Uuid>, Vec<Uuid>) = leads
        .iter()
        .filter(|l| l.version > 1 || !l.attributes.is_empty())
        .map(|l| (l.tenant_id, l.id))
        .unzip();
    if !ids.is_empty() {
        sqlx::query(&format!(
            "DELETE FROM {} a USING unnest($1::uuid[], $2::uuid[]) AS k(tenant_id, lead_id)
             WHERE a.tenant_id = k.tenant_id AND a.lead_id = k.lead_id",
            tables.attrs
        ))
        .bind(&tenants)
        .bind(&ids)
        .execute(&mut *conn)
        .await?;
    }
    let (mut tenant, mut lead, mut name, mut kind, mut num, mut text) =
        (vec![], vec![], vec![], vec![], vec![], vec![]);
    for l in leads.iter().filter(|l| !l.deleted) {
        for a in &l.attributes {
            tenant.push(l.tenant_id);
            lead.push(l.id);
            name.push(a.name.clone());
            kind.push(a.kind.as_str());
            num.push(a.value.as_f64());
            text.push(match &a.value {
                serde_json::Value::String(s) => Some(s.to_lowercase()),
                serde_json::Value::Bool(b) => Some(b.to_string()),
                _ => None,
            });
        }
    }
    if tenant.is_empty() {
        return Ok(());
    }
    sqlx::query(&format!(
        "INSERT INTO {} (tenant_id, lead_id, name, kind, num, text_lower)
         SELECT * FROM unnest($1::uuid[], $2::uuid[], $3::text[], $4::text[], $5::float8[], $6::text[])",
        tables.attrs
    ))
    .bind(&tenant)
    .bind(&lead)
    .bind(&name)
    .bind(&kind)
    .bind(&num)
    .bind(&text)
    .execute(&mut *conn)
    .await?;
    Ok(())
}
