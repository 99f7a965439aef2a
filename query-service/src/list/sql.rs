//! A page of leads (`lead_view` with `lead_scores`) for a `ListQuery`: tenant and liveness
//! first, the filters folded left to right, the keyset condition from the cursor, a total order
//! (sort key, then id), and one row more than the limit to know whether another page exists.

use super::condition::{indexed_text, number_column, push_condition, text_column};
use crate::cursor::Cursor;
use serde_json::{json, Value};
use shared::lead::Lead;
use shared::query::{Condition, ListQuery, Logic, NumberField, SortKey};
use shared::read_model::{decode_row, Tables, LEAD_COLUMNS};
use sqlx::{PgPool, Postgres, QueryBuilder, Row};
use uuid::Uuid;

/// The lowest sort value: rows without a value sort first ascending, last descending.
const FLOOR: f64 = -1e308;

pub struct Page {
    pub leads: Vec<Lead>,
    /// The cursor of the row after which the next page starts, when there is one.
    pub next: Option<Cursor>,
}

/// Pushes the `i`-th sort expression (attributes sort by number, then text).
fn push_sort_expr(q: &mut QueryBuilder<'_, Postgres>, key: &SortKey, i: usize) {
    match key {
        SortKey::Text(f) => {
            q.push(indexed_text(&format!("lower(v.{})", text_column(*f))));
        }
        SortKey::Number(f) => {
            q.push(number_sort(*f).0);
        }
        SortKey::Attr(name) => {
            let col = if i == 0 { "a.num" } else { "a.text_lower" };
            let floor = if i == 0 {
                format!("{FLOOR:e}")
            } else {
                "''".to_owned()
            };
            q.push(format!("coalesce((SELECT {col} FROM lead_view_attrs a WHERE a.tenant_id = v.tenant_id AND a.lead_id = v.lead_id AND a.name = "))
                .push_bind(name.clone())
                .push(format!("), {floor})"));
        }
    }
}

/// A numeric sort's expression (the same expression as its index in migration 0006, so the
/// index serves both the order and the keyset condition) and whether it holds integers.
fn number_sort(f: NumberField) -> (String, bool) {
    let col = number_column(f);
    match f {
        NumberField::Rating => (format!("coalesce({col}, {FLOOR:e}::float8)"), false),
        NumberField::ReviewCount => (format!("coalesce({col}, -1)"), true),
        NumberField::Score => (col.to_owned(), false),
        NumberField::CreatedAt | NumberField::UpdatedAt | NumberField::LastInteractionAt => {
            (col.to_owned(), true)
        }
    }
}

fn arity(key: &SortKey) -> usize {
    if matches!(key, SortKey::Attr(_)) {
        2
    } else {
        1
    }
}

fn push_sort_tuple(q: &mut QueryBuilder<'_, Postgres>, key: &SortKey) {
    for i in 0..arity(key) {
        push_sort_expr(q, key, i);
        q.push(", ");
    }
    q.push("v.lead_id");
}

/// Binds the cursor's sort value(s); `None` when it does not fit the sort (treated as tampering).
fn push_cursor_values(
    q: &mut QueryBuilder<'_, Postgres>,
    key: &SortKey,
    value: &Value,
) -> Option<()> {
    match key {
        SortKey::Text(_) => {
            q.push_bind(value.as_str()?.to_owned());
        }
        SortKey::Number(f) if number_sort(*f).1 => {
            q.push_bind(value.as_i64()?);
        }
        SortKey::Number(_) => {
            q.push_bind(value.as_f64()?);
        }
        SortKey::Attr(_) => {
            let pair = value.as_array()?;
            q.push_bind(pair.first()?.as_f64()?)
                .push(", ")
                .push_bind(pair.get(1)?.as_str()?.to_owned());
        }
    }
    Some(())
}

/// Whether the query filters or sorts by score (which lives in `lead_scores`).
fn uses_score(query: &ListQuery) -> bool {
    let by_score = |f: &NumberField| *f == NumberField::Score;
    matches!(&query.sort.key, SortKey::Number(f) if by_score(f))
        || query
            .filters
            .iter()
            .any(|f| matches!(&f.condition, Condition::Number { field, .. } if by_score(field)))
}

/// The ordered selection of `query`, after `after`, at most `limit` rows (all when `None`).
/// `None` when the cursor does not fit the sort. Run it unprepared (`persistent(false)`):
/// selectivity depends on the values (tenant size, city, threshold), and a cached generic
/// plan was measured at 20 ms where the plan for the actual values takes 1.6 ms.
///
/// A page that neither filters nor sorts by score picks its rows from `lead_view` alone and
/// joins their scores after the limit (otherwise every candidate row is joined before the
/// sort: 1,762 score lookups for a 5 km radius page of 51 rows, +5 ms).
/// A free-text word (`q`): in the name, e-mail, city, category, description or a tag.
fn push_word(q: &mut QueryBuilder<'_, Postgres>, word: &str) {
    q.push(" AND (");
    for (i, column) in ["name", "email", "city", "category", "description"]
        .iter()
        .enumerate()
    {
        if i > 0 {
            q.push(" OR ");
        }
        q.push(format!("strpos(lower(v.{column}), "))
            .push_bind(word.to_owned())
            .push(") > 0");
    }
    q.push(" OR EXISTS (SELECT 1 FROM unnest(v.tags) AS t(tag) WHERE strpos(lower(t.tag), ")
        .push_bind(word.to_owned())
        .push(") > 0))");
}

pub fn select<'a>(
    tenant: Uuid,
    query: &ListQuery,
    after: Option<&Cursor>,
    limit: Option<i64>,
) -> Option<QueryBuilder<'a, Postgres>> {
    let key = &query.sort.key;
    let dir = if query.sort.descending { "DESC" } else { "ASC" };
    let tables = Tables::live();
    let late_scores = limit.is_some() && !uses_score(query);
    let mut q = QueryBuilder::<Postgres>::new(if late_scores {
        format!("SELECT {LEAD_COLUMNS} FROM (SELECT v.*")
    } else {
        format!("SELECT {LEAD_COLUMNS}")
    });
    for i in 0..arity(key) {
        q.push(", ");
        push_sort_expr(&mut q, key, i);
        q.push(format!(" AS sort{i}"));
    }
    let from = if late_scores {
        format!("{} v", tables.leads)
    } else {
        tables.lead_rows()
    };
    q.push(format!(" FROM {from} WHERE v.tenant_id = "))
        .push_bind(tenant)
        .push(" AND NOT v.deleted");
    if let Some((first, rest)) = query.filters.split_first() {
        q.push(" AND ").push("(".repeat(rest.len())).push("(");
        push_condition(&mut q, &first.condition);
        q.push(")");
        for f in rest {
            q.push(if f.logic == Logic::And {
                " AND ("
            } else {
                " OR ("
            });
            push_condition(&mut q, &f.condition);
            q.push("))");
        }
    }
    for word in &query.words {
        push_word(&mut q, word);
    }
    if let Some(c) = after {
        q.push(" AND (");
        push_sort_tuple(&mut q, key);
        q.push(if query.sort.descending {
            ") < ("
        } else {
            ") > ("
        });
        push_cursor_values(&mut q, key, &c.value)?;
        q.push(", ").push_bind(c.id).push(")");
    }
    q.push(" ORDER BY ");
    for i in 0..arity(key) {
        push_sort_expr(&mut q, key, i);
        q.push(format!(" {dir}, "));
    }
    q.push(format!("v.lead_id {dir}"));
    if let Some(limit) = limit {
        q.push(" LIMIT ").push_bind(limit);
    }
    if late_scores {
        q.push(format!(
            ") v JOIN {} s ON s.tenant_id = v.tenant_id AND s.lead_id = v.lead_id ORDER BY ",
            tables.scores
        ));
        for i in 0..arity(key) {
            q.push(format!("v.sort{i} {dir}, "));
        }
        q.push(format!("v.lead_id {dir}"));
    }
    Some(q)
}

pub async fn fetch_page(
    pool: &PgPool,
    tenant: Uuid,
    query: &ListQuery,
    after: Option<&Cursor>,
) -> Result<Option<Page>, sqlx::Error> {
    let key = &query.sort.key;
    let Some(mut q) = select(tenant, query, after, Some(i64::from(query.limit) + 1)) else {
        return Ok(None);
    };
    let rows = q.build().persistent(false).fetch_all(pool).await?;
    let has_more = rows.len() > query.limit as usize;
    let rows = &rows[..rows.len().min(query.limit as usize)];
    let leads = rows.iter().map(decode_row).collect::<Result<Vec<_>, _>>()?;
    let next = match (has_more, rows.last(), leads.last()) {
        (true, Some(row), Some(lead)) => {
            let value = match key {
                SortKey::Text(_) => json!(row.try_get::<String, _>("sort0")?),
                SortKey::Number(f) if number_sort(*f).1 => json!(row.try_get::<i64, _>("sort0")?),
                SortKey::Number(_) => json!(row.try_get::<f64, _>("sort0")?),
                SortKey::Attr(_) => json!([
                    row.try_get::<f64, _>("sort0")?,
                    row.try_get::<String, _>("sort1")?
                ]),
            };
            Some(Cursor {
                sort: key.name(),
                descending: query.sort.descending,
                value,
                id: lead.id,
            })
        }
        _ => None,
    };
    Ok(Some(Page { leads, next }))
}
