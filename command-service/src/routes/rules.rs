//! `POST /scoring-rules`, `PUT|PATCH|DELETE /scoring-rules/{id}` (their reads are
//! query-service's).

use super::command::Command;
use crate::app::rules::{create_rule, delete_rule, update_rule};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{post, put};
use axum::Json;
use axum::Router;
use serde_json::Value;
use shared::http::JsonBody;
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

async fn create(
    State(state): State<AppState>,
    Command(ctx): Command,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input = parse_create(&body).map_err(refused)?;
    let rule = create_rule(&state.pool, &ctx, input).await?;
    Ok((StatusCode::CREATED, Json(rule.json())))
}

async fn update(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let input = parse_update(&body).map_err(refused)?;
    let rule = update_rule(&state.pool, &ctx, parse_id(&id), input).await?;
    Ok(Json(rule.json()))
}

async fn delete(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    delete_rule(&state.pool, &ctx, parse_id(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/scoring-rules", post(create))
        .route(
            "/api/v1/scoring-rules/{id}",
            put(update).patch(update).delete(delete),
        )
}
