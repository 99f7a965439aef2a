//! The `GET /healthz` answer every service gives: 200 when its database answers, else 503.

use axum::http::StatusCode;
use axum::Json;
use serde_json::{json, Value};
use sqlx::PgPool;

pub async fn health(pool: &PgPool, service: &'static str) -> (StatusCode, Json<Value>) {
    match sqlx::query("SELECT 1").execute(pool).await {
        Ok(_) => (
            StatusCode::OK,
            Json(json!({"status": "ok", "service": service})),
        ),
        Err(e) => {
            tracing::warn!(error = %e, service, "health check: database unreachable");
            (
                StatusCode::SERVICE_UNAVAILABLE,
                Json(json!({"status": "unavailable", "service": service})),
            )
        }
    }
}
