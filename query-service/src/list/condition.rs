//! One filter condition as a SQL predicate over `lead_view v`, values always bound.
//! Text comparisons are case-insensitive, a missing text counts as "".

use shared::lead::Field;
use shared::query::{CmpOp, Condition, NumberField, TagsOp, TextOp};
use sqlx::{Postgres, QueryBuilder};

pub fn text_column(f: Field) -> &'static str {
    // Field names are the column names of `lead_view`.
    f.name()
}

pub fn number_column(f: NumberField) -> &'static str {
    f.name()
}

fn cmp(op: CmpOp) -> &'static str {
    match op {
        CmpOp::Eq => "=",
        CmpOp::Neq => "<>",
        CmpOp::Gt => ">",
        CmpOp::Gte => ">=",
        CmpOp::Lt => "<",
        CmpOp::Lte => "<=",
    }
}

/// `expr` (lower-cased text) against a value, by operator.
fn text_match(q: &mut QueryBuilder<'_, Postgres>, expr: &str, op: TextOp, value: &str) {
    let v = value.to_lowercase();
    match op {
        TextOp::Eq => {
            q.push(format!("coalesce({expr}, '') = ")).push_bind(v);
        }
        TextOp::Neq => {
            q.push(format!("coalesce({expr}, '') <> ")).push_bind(v);
        }
        TextOp::Contains => {
            q.push(format!("strpos(coalesce({expr}, ''), "))
                .push_bind(v)
                .push(") > 0");
        }
        TextOp::NotContains => {
            q.push(format!("strpos(coalesce({expr}, ''), "))
                .push_bind(v)
                .push(") = 0");
        }
        TextOp::StartsWith => {
            q.push(format!("starts_with(coalesce({expr}, ''), "))
                .push_bind(v)
                .push(")");
        }
        TextOp::EndsWith => {
            q.push(format!("right(coalesce({expr}, ''), "))
                .push_bind(v.chars().count() as i32)
                .push(") = ")
                .push_bind(v);
        }
    }
}

/// `EXISTS (an attribute row of this lead named `name` where <pred>)`.
fn attr_exists<'a>(
    q: &mut QueryBuilder<'a, Postgres>,
    name: &str,
    negate: bool,
    pred: impl FnOnce(&mut QueryBuilder<'a, Postgres>),
) {
    q.push(if negate { "NOT EXISTS" } else { "EXISTS" });
    q.push(" (SELECT 1 FROM lead_view_attrs a WHERE a.tenant_id = v.tenant_id AND a.lead_id = v.lead_id AND a.name = ")
        .push_bind(name.to_owned())
        .push(" AND (");
    pred(q);
    q.push("))");
}

pub fn push_condition(q: &mut QueryBuilder<'_, Postgres>, c: &Condition) {
    match c {
        Condition::Text { field, op, value } => {
            text_match(q, &format!("lower(v.{})", text_column(*field)), *op, value)
        }
        Condition::TextIn { field, values } => {
            let lower: Vec<String> = values.iter().map(|v| v.to_lowercase()).collect();
            q.push(format!("lower(v.{}) = ANY(", text_column(*field)))
                .push_bind(lower)
                .push(")");
        }
        Condition::TextEmpty { field, empty } => {
            q.push(format!(
                "coalesce(v.{}, '') {} ''",
                text_column(*field),
                if *empty { "=" } else { "<>" }
            ));
        }
        Condition::Number {
            field,
            op: CmpOp::Neq,
            value,
        } => {
            let col = number_column(*field);
            q.push(format!("(v.{col} IS NULL OR v.{col}::float8 <> "))
                .push_bind(*value)
                .push(")");
        }
        Condition::Number { field, op, value } => {
            q.push(format!("v.{}::float8 {} ", number_column(*field), cmp(*op)))
                .push_bind(*value);
        }
        Condition::Tags(TagsOp::Contains(tag)) => {
            q.push("v.tags @> ARRAY[")
                .push_bind(tag.clone())
                .push("]::text[]");
        }
        Condition::Tags(TagsOp::NotContains(tag)) => {
            q.push("NOT (v.tags @> ARRAY[")
                .push_bind(tag.clone())
                .push("]::text[])");
        }
        Condition::Tags(TagsOp::Empty) => {
            q.push("cardinality(v.tags) = 0");
        }
        Condition::Tags(TagsOp::NotEmpty) => {
            q.push("cardinality(v.tags) > 0");
        }
        Condition::WithinRadius { lat, lng, km } => {
            let meters = km * 1000.0;
            q.push("(v.latitude IS NOT NULL AND earth_box(ll_to_earth(")
                .push_bind(*lat)
                .push(", ")
                .push_bind(*lng)
                .push("), ")
                .push_bind(meters)
                .push(") @> ll_to_earth(v.latitude, v.longitude) AND earth_distance(ll_to_earth(")
                .push_bind(*lat)
                .push(", ")
                .push_bind(*lng)
                .push("), ll_to_earth(v.latitude, v.longitude)) <= ")
                .push_bind(meters)
                .push(")");
        }
        Condition::LocationSet(set) => {
            q.push(if *set {
                "v.latitude IS NOT NULL"
            } else {
                "v.latitude IS NULL"
            });
        }
        Condition::AttrText {
            name,
            op: op @ (TextOp::Neq | TextOp::NotContains),
            value,
        } => {
            let positive = if *op == TextOp::Neq {
                TextOp::Eq
            } else {
                TextOp::Contains
            };
            attr_exists(q, name, true, |q| {
                text_match(q, "a.text_lower", positive, value)
            });
        }
        Condition::AttrText { name, op, value } => attr_exists(q, name, false, |q| {
            text_match(q, "a.text_lower", *op, value)
        }),
        Condition::AttrCmp {
            name,
            op: op @ (CmpOp::Eq | CmpOp::Neq),
            text,
            number,
        } => {
            attr_exists(q, name, *op == CmpOp::Neq, |q| match number {
                Some(n) => {
                    q.push("(a.kind = 'number' AND a.num = ")
                        .push_bind(*n)
                        .push(") OR (a.kind <> 'number' AND a.text_lower = ")
                        .push_bind(text.to_lowercase())
                        .push(")");
                }
                None => {
                    q.push("a.text_lower = ").push_bind(text.to_lowercase());
                }
            });
        }
        Condition::AttrCmp {
            name, op, number, ..
        } => {
            let n = number.unwrap_or(f64::NAN);
            attr_exists(q, name, false, |q| {
                q.push(format!("a.kind = 'number' AND a.num {} ", cmp(*op)))
                    .push_bind(n);
            });
        }
        Condition::AttrIn { name, values } => {
            let lower: Vec<String> = values.iter().map(|v| v.to_lowercase()).collect();
            let numbers: Vec<f64> = values
                .iter()
                .filter_map(|v| v.parse::<f64>().ok())
                .collect();
            attr_exists(q, name, false, |q| {
                q.push("a.text_lower = ANY(")
                    .push_bind(lower)
                    .push(") OR (a.kind = 'number' AND a.num = ANY(")
                    .push_bind(numbers)
                    .push("))");
            });
        }
        Condition::AttrEmpty { name, empty } => {
            attr_exists(q, name, *empty, |q| {
                q.push("a.num IS NOT NULL OR coalesce(a.text_lower, '') <> '' OR a.kind IN ('list', 'object')");
            });
        }
    }
}
