//! The scoring reads: `GET /scoring-rules`, `GET /scoring-rules/{id}`, `GET /scoring-jobs`,
//! `GET /scoring-jobs/{id}` and `GET /leads/{id}/score` (what each rule contributes to the
//! lead's score as its read-model state stands), each after the read-your-writes wait.

use crate::consistency::answer_fresh;
use crate::leads::find;
use crate::EdgeState;
use axum::extract::{Path, State};
use axum::response::Response;
use axum::routing::get;
use axum::Router;
use serde_json::{json, Value};
use shared::http::Auth;
use shared::ids::lead_public_id;
use shared::lead::decide::round_score;
use shared::scoring::jobs::{get_job, list_jobs};
use shared::scoring::rules_table::{get_rule, list_rules, RuleRow};
use shared::scoring::{breakdown, Expr, LeadSchema, Rule};
use shared::ApiError;
use uuid::Uuid;

/// Read routes; every other method on these paths goes on to command-service.
pub fn router() -> Router<EdgeState> {
    Router::new()
        .route(
            "/api/v1/scoring-rules",
            get(rules).fallback(crate::proxy::forward),
        )
        .route(
            "/api/v1/scoring-rules/{id}",
            get(rule).fallback(crate::proxy::forward),
        )
        .route("/api/v1/scoring-jobs", get(jobs))
        .route("/api/v1/scoring-jobs/{id}", get(job))
        .route(
            "/api/v1/leads/{id}/score",
            get(lead_score).fallback(crate::proxy::forward),
        )
}

async fn rules(State(state): State<EdgeState>, Auth(auth): Auth) -> Result<Response, ApiError> {
    answer_fresh(&state, auth.account_id, async {
        let rules = list_rules(&mut *state.pool.acquire().await?, auth.account_id).await?;
        Ok(json!({"rules": rules.iter().map(RuleRow::json).collect::<Vec<_>>()}))
    })
    .await
}

async fn rule(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    answer_fresh(&state, auth.account_id, async {
        let not_found = || ApiError::not_found("Scoring rule not found");
        let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
        let mut conn = state.pool.acquire().await?;
        let rule = get_rule(&mut conn, auth.account_id, id, false)
            .await?
            .ok_or_else(not_found)?;
        Ok(rule.json())
    })
    .await
}

async fn jobs(State(state): State<EdgeState>, Auth(auth): Auth) -> Result<Response, ApiError> {
    answer_fresh(&state, auth.account_id, async {
        let jobs = list_jobs(&state.pool, auth.account_id).await?;
        Ok(json!({"jobs": jobs.iter().map(|j| j.json()).collect::<Vec<_>>()}))
    })
    .await
}

async fn job(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    answer_fresh(&state, auth.account_id, async {
        let not_found = || ApiError::not_found("Scoring job not found");
        let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
        let job = get_job(&state.pool, auth.account_id, id)
            .await?
            .ok_or_else(not_found)?;
        Ok(job.json())
    })
    .await
}

/// The lead's stored score and each rule's part of the score its current state earns.
async fn lead_score(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    answer_fresh(&state, auth.account_id, async {
        let lead = find(&state, auth.account_id, &id).await?;
        let rows = list_rules(&mut *state.pool.acquire().await?, auth.account_id).await?;
        // Rules that no longer compile are left out, as scoring leaves them out.
        let compiled: Vec<(&RuleRow, Rule)> = rows
            .iter()
            .filter_map(|r| {
                let expr = Expr::compile(&r.expression, &LeadSchema).ok()?;
                Some((
                    r,
                    Rule {
                        expr,
                        weight: r.weight,
                    },
                ))
            })
            .collect();
        let rules: Vec<Rule> = compiled.iter().map(|(_, r)| r.clone()).collect();
        let (parts, total) = breakdown(&rules, &lead);
        let explained: Vec<Value> = compiled
            .iter()
            .zip(&parts)
            .map(|((row, _), part)| {
                json!({
                    "id": row.rule_id,
                    "name": row.name,
                    "expression": row.expression,
                    "weight": part.weight,
                    "value": part.value,
                    "points": part.points,
                    "division_by_zero": part.division_by_zero,
                })
            })
            .collect();
        Ok(json!({
            "id": lead_public_id(lead.id),
            "score": lead.score,
            "computed": round_score(total),
            "rules": explained,
        }))
    })
    .await
}
