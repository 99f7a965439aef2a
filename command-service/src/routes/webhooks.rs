//! `POST /webhooks`, `PATCH|DELETE /webhooks/{id}` and the endpoint's actions: rotate its
//! secret, send a test, replay a delivery, recover failed deliveries. (The reads and the
//! delivery log are query-service's.) `POST /webhooks` and `DELETE` answer as SPEC §3; the
//! others in the `{"data": …}` envelope of SPEC-CRM §2.1.

use super::command::Command;
use crate::app::webhooks::input::{check_reachable, parse_create, parse_patch};
use crate::app::webhooks::{
    await_test, create_webhook, delete_webhook_cmd, recover_deliveries, replay_delivery,
    request_test, rotate_secret, update_webhook_cmd,
};
use crate::state::AppState;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::routing::{patch, post};
use axum::{Json, Router};
use chrono::{DateTime, Utc};
use serde_json::{json, Value};
use shared::http::JsonBody;
use shared::ApiError;
use uuid::Uuid;

fn parse_id(raw: &str) -> Option<Uuid> {
    Uuid::parse_str(raw).ok()
}

async fn create(
    State(state): State<AppState>,
    Command(ctx): Command,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let input = parse_create(&body).map_err(ApiError::bad_request)?;
    check_reachable(&input.url, &state.config.webhooks.networks)
        .await
        .map_err(ApiError::bad_request)?;
    let max = state.config.webhooks.max_endpoints;
    let (row, secret) = create_webhook(&state.pool, &ctx, input, max).await?;
    let mut out = row.json();
    out["secret"] = json!(secret);
    Ok((StatusCode::CREATED, Json(out)))
}

async fn update(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<Json<Value>, ApiError> {
    let input = parse_patch(&body).map_err(ApiError::bad_request)?;
    if let Some(url) = &input.url {
        check_reachable(url, &state.config.webhooks.networks)
            .await
            .map_err(ApiError::bad_request)?;
    }
    let row = update_webhook_cmd(&state.pool, &ctx, parse_id(&id), input).await?;
    Ok(Json(json!({ "data": row.json() })))
}

async fn delete(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path(id): Path<String>,
) -> Result<StatusCode, ApiError> {
    delete_webhook_cmd(&state.pool, &ctx, parse_id(&id)).await?;
    Ok(StatusCode::NO_CONTENT)
}

async fn rotate(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path(id): Path<String>,
) -> Result<Json<Value>, ApiError> {
    let grace = state.config.webhooks.rotation_grace;
    let (row, secret) = rotate_secret(&state.pool, &ctx, parse_id(&id), grace).await?;
    let mut out = row.json();
    out["secret"] = json!(secret);
    Ok(Json(json!({ "data": out })))
}

/// Sends a `webhook.test` message now and answers its first attempt (200), or the delivery
/// still pending (202) when the dispatcher has not tried it within the wait.
async fn test(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path(id): Path<String>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let webhook = parse_id(&id);
    let message = request_test(&state.pool, &ctx, webhook).await?;
    let webhook = webhook.unwrap_or_default();
    let wait = state.config.webhooks.test_wait;
    let delivery = await_test(&state.pool, &ctx, webhook, message, wait).await?;
    let attempt = match &delivery {
        Some(d) if d.attempts > 0 => {
            let mut conn = state.pool.acquire().await.map_err(ApiError::internal)?;
            shared::webhooks::deliveries::attempts(&mut conn, d.delivery_id)
                .await
                .map_err(ApiError::internal)?
                .first()
                .map(|a| a.json())
        }
        _ => None,
    };
    let status = if attempt.is_some() {
        StatusCode::OK
    } else {
        StatusCode::ACCEPTED
    };
    let success = attempt
        .as_ref()
        .and_then(|a| a["status_code"].as_i64())
        .is_some_and(|c| (200..300).contains(&c));
    let body = json!({"data": {
        "event_id": message,
        "event": shared::webhooks::TEST_EVENT,
        "success": success,
        "attempt": attempt,
        "delivery": delivery.map(|d| d.json()),
    }});
    Ok((status, Json(body)))
}

async fn replay(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path((id, delivery)): Path<(String, String)>,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let row = replay_delivery(&state.pool, &ctx, parse_id(&id), parse_id(&delivery)).await?;
    Ok((StatusCode::ACCEPTED, Json(json!({ "data": row.json() }))))
}

/// `since`: Unix seconds or an RFC 3339 instant (SPEC-CRM §2.2).
fn parse_since(body: &Value) -> Result<DateTime<Utc>, ApiError> {
    let bad = || {
        ApiError::bad_request(
            "'since' is required: Unix seconds or an RFC 3339 instant, e.g. {\"since\": 1767225600}",
        )
    };
    body.get("since")
        .and_then(shared::instant::from_json)
        .ok_or_else(bad)
}

async fn recover(
    State(state): State<AppState>,
    Command(ctx): Command,
    Path(id): Path<String>,
    JsonBody(body): JsonBody,
) -> Result<(StatusCode, Json<Value>), ApiError> {
    let since = parse_since(&body)?;
    let count = recover_deliveries(&state.pool, &ctx, parse_id(&id), since).await?;
    Ok((
        StatusCode::ACCEPTED,
        Json(json!({"data": {"count": count}})),
    ))
}

pub fn router() -> Router<AppState> {
    Router::new()
        .route("/api/v1/webhooks", post(create))
        .route("/api/v1/webhooks/{id}", patch(update).delete(delete))
        .route("/api/v1/webhooks/{id}/rotate-secret", post(rotate))
        .route("/api/v1/webhooks/{id}/test", post(test))
        .route("/api/v1/webhooks/{id}/recover", post(recover))
        .route(
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay",
            post(replay),
        )
}
