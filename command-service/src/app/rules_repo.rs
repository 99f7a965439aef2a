//! Writing the `scoring_rules` rows in the rule command's transaction (readers:
//! `shared::scoring::rules_table`).

pub use shared::scoring::rules_table::RuleRow;
use sqlx::PgConnection;
use uuid::Uuid;

pub use shared::scoring::rules_table::{compiled_rules, get_rule};

pub async fn save_rule(
    conn: &mut PgConnection,
    tenant: Uuid,
    row: &RuleRow,
) -> Result<(), sqlx::Error> {
    sqlx::query(
        "INSERT INTO scoring_rules (tenant_id, rule_id, name, expression, weight, priority, version, created_at, updated_at)
         VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)
         ON CONFLICT (tenant_id, rule_id) DO UPDATE SET name = $3, expression = $4, weight = $5,
             priority = $6, version = $7, updated_at = $9",
    )
    .bind(tenant)
    .bind(row.rule_id)
    .bind(&row.name)
    .bind(&row.expression)
    .bind(row.weight)
    .bind(row.priority)
    .bind(row.version)
    .bind(row.created_at)
    .bind(row.updated_at)
    .execute(conn)
    .await?;
    Ok(())
}

pub async fn delete_rule_row(
    conn: &mut PgConnection,
    tenant: Uuid,
    id: Uuid,
) -> Result<(), sqlx::Error> {
    sqlx::query("DELETE FROM scoring_rules WHERE tenant_id = $1 AND rule_id = $2")
        .bind(tenant)
        .bind(id)
        .execute(conn)
        .await?;
    Ok(())
}
