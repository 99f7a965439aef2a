//! `GET|POST /scoring-rules`, `GET|PUT|PATCH|DELETE /scoring-rules/{id}`, and the rescore
//! jobs they queue: `GET /scoring-jobs`, `GET /scoring-jobs/{id}`.

use crate::app::rescore::{get_job, list_jobs};
use crate::app::rules::{create_rule, delete_rule, update_rule};
use crate::app::rules_repo::{get_rule, list_rules};
use crate::app::CommandContext;
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use shared::http::{Auth, JsonBody, RequestId};
use shared::scoring::rule_input::{parse_create, parse_update, RuleInputError};
use shared::ApiError;
use uuid::Uuid;

fn refused(e: RuleInputError) -> ApiError {
    match e {
        RuleInputError::Field(message) => ApiError::bad_request(message),
        RuleInputError::Expression(message) => ApiError::BadRequest {
            code: "invalid_expression",
            message,
        },
    }
}

fn parse_id(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw).ok()
}

pub async fn list(
    State(state): State<AppState>,
    Auth(auth): Auth,
) -> Result<Json<Value>, ApiError> {
    let mut conn = state.pool.acquire().await?;
    let rules = list_rules(&mut conn, auth.account_id).await?;
    Ok(Json(
        json!({"rules": rules.iter().map(|r| r.json()).collect::<Vec<_>>()}),
    ))
}

pub async fn create(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RequestId(request_id): RequestId,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input = parse_create(&body).map_err(refused)?;
    let ctx = CommandContext::new(&auth, request_id);
    let rule = create_rule(&state.pool, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(rule.json())))
}

pub async fn get(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::not_found("Scoring rule not found");
    let id = parse_id(&id).ok_or_else(not_found)?;
    let mut conn = state.pool.acquire().await?;
    let rule = get_rule(&mut conn, auth.account_id, id, false)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(rule.json()))
}

pub async fn update(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RequestId(request_id): RequestId,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let input = parse_update(&body).map_err(refused)?;
    let ctx = CommandContext::new(&auth, request_id);
    let rule = update_rule(&state.pool, &ctx, parse_id(&id), input).await?;
    Ok(Json(rule.json()))
}

pub async fn delete(
    State(state): State<AppState>,
    Auth(auth): Auth,
    RequestId(request_id): RequestId,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    let ctx = CommandContext::new(&auth, request_id);
    delete_rule(&state.pool, &ctx, parse_id(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub async fn jobs(
    State(state): State<AppState>,
    Auth(auth): Auth,
) -> Result<Json<Value>, ApiError> {
    let jobs = list_jobs(&state.pool, auth.account_id).await?;
    Ok(Json(
        json!({"jobs": jobs.iter().map(|j| j.json()).collect::<Vec<_>>()}),
    ))
}

pub async fn job(
    State(state): State<AppState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let not_found = || ApiError::not_found("Scoring job not found");
    let id = parse_id(&id).ok_or_else(not_found)?;
    let job = get_job(&state.pool, auth.account_id, id)
        .await?
        .ok_or_else(not_found)?;
    Ok(Json(job.json()))
}
