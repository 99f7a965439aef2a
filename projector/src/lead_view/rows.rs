//! Writing `lead_view` rows (the aggregate's state as typed columns, many rows per statement)
//! and their typed attribute rows in `lead_view_attrs`. Readers decode them with
//! `shared::read_model::decode_row`.

use shared::lead::fields::FieldKind;
use shared::lead::{Field, FieldValue, Lead};
use shared::read_model::Tables;
use sqlx::{PgConnection, Row};
use uuid::Uuid;

fn sql_type(kind: FieldKind) -> &'static str {
    match kind {
        FieldKind::Text { .. } | FieldKind::Status => "text",
        FieldKind::Number { .. } => "float8",
        FieldKind::Count => "int8",
    }
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
