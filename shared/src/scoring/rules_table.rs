//! The `scoring_rules` rows (the current state of each rule stream, written by command-service
//! in the command's transaction): reading them for the API (query-service) and compiling them
//! for scoring (command-service), in the order SPEC §3 lists them (priority, then creation).

use super::{Expr, LeadSchema, Rule};
use serde_json::{json, Value};
use sqlx::PgConnection;
use uuid::Uuid;

#[derive(Debug, Clone, PartialEq, sqlx::FromRow, serde::Deserialize)]
pub struct RuleRow {
    pub rule_id: Uuid,
    pub name: String,
    pub expression: String,
    pub weight: f64,
    pub priority: i64,
    pub version: i64,
    pub created_at: i64,
    pub updated_at: i64,
}

impl RuleRow {
    /// The ScoringRule object of SPEC §2.
    pub fn json(&self) -> Value {
        json!({
            "id": self.rule_id,
            "name": self.name,
            "expression": self.expression,
            "weight": self.weight,
            "priority": self.priority,
            "created_at": self.created_at,
            "updated_at": self.updated_at,
        })
    }
}

const COLUMNS: &str =
    "rule_id, name, expression, weight, priority, version, created_at, updated_at";

/// A subquery answering the rules of tenant `$1` as one JSON array (in [`list_rules`]'s
/// order), for statements that read them alongside something else; [`from_json`] decodes it.
pub const RULES_JSON: &str =
    "(SELECT coalesce(json_agg(r ORDER BY r.priority, r.created_at, r.rule_id), '[]')::text
      FROM (SELECT rule_id, name, expression, weight, priority, version, created_at, updated_at
            FROM scoring_rules WHERE tenant_id = $1) r)";

/// Rules read with [`RULES_JSON`].
pub fn from_json(json: &str) -> Result<Vec<RuleRow>, serde_json::Error> {
    serde_json::from_str(json)
}

pub async fn list_rules(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<Vec<RuleRow>, sqlx::Error> {
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM scoring_rules WHERE tenant_id = $1
         ORDER BY priority, created_at, rule_id"
    ))
    .bind(tenant)
    .fetch_all(conn)
    .await
}

/// One rule, locked for the caller's transaction when `for_update`.
pub async fn get_rule(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
    for_update: bool,
) -> Result<Option<RuleRow>, sqlx::Error> {
    let lock = if for_update { " FOR UPDATE" } else { "" };
    sqlx::query_as(&format!(
        "SELECT {COLUMNS} FROM scoring_rules WHERE tenant_id = $1 AND rule_id = $2{lock}"
    ))
    .bind(tenant)
    .bind(id)
    .fetch_optional(conn)
    .await
}

/// The account's rules, compiled, for scoring in the caller's transaction. A rule that no
/// longer compiles (its expression was accepted by an older build) is skipped and logged.
pub async fn compiled_rules(
    conn: &mut PgConnection,
    tenant: Uuid,
) -> Result<Vec<Rule>, sqlx::Error> {
    Ok(compile(&list_rules(conn, tenant).await?))
}

pub fn compile(rows: &[RuleRow]) -> Vec<Rule> {
    rows.iter()
        .filter_map(|r| match Expr::compile(&r.expression, &LeadSchema) {
            Ok(expr) => Some(Rule {
                expr,
                weight: r.weight,
            }),
            Err(e) => {
                tracing::warn!(rule = %r.rule_id, error = %e, "scoring rule skipped");
                None
            }
        })
        .collect()
}
