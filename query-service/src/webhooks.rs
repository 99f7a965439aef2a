//! The webhook reads: `GET /webhooks` and `GET /webhooks/{id}` (SPEC §3 and the CRM
//! envelope), and the delivery log — `GET /webhooks/{id}/deliveries` (newest first, filtered
//! by status and event, cursor-paged) and `GET /webhooks/{id}/deliveries/{delivery_id}` (every
//! attempt and the exact body sent). Writes on these paths go on to command-service.

use crate::consistency::answer_fresh;
use crate::page;
use crate::EdgeState;
use axum::extract::{Path, RawQuery, State};
use axum::response::{IntoResponse, Response};
use axum::routing::{get, post};
use axum::{Json, Router};
use serde_json::json;
use shared::http::Auth;
use shared::webhooks::deliveries::{
    attempts, get_delivery, DeliveryRow, DELIVERY_COLUMNS, STATUSES,
};
use shared::webhooks::{get_webhook, list_webhooks, PUBLIC_EVENTS, TEST_EVENT};
use shared::ApiError;
use uuid::Uuid;

pub fn router() -> Router<EdgeState> {
    let forward = crate::proxy::forward;
    Router::new()
        .route("/api/v1/webhooks", get(list).fallback(forward))
        .route("/api/v1/webhooks/{id}", get(one).fallback(forward))
        .route("/api/v1/webhooks/{id}/deliveries", get(deliveries))
        .route(
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}",
            get(delivery),
        )
        .route("/api/v1/webhooks/{id}/rotate-secret", post(forward))
        .route("/api/v1/webhooks/{id}/test", post(forward))
        .route("/api/v1/webhooks/{id}/recover", post(forward))
        .route(
            "/api/v1/webhooks/{id}/deliveries/{delivery_id}/replay",
            post(forward),
        )
}

fn not_found() -> ApiError {
    ApiError::not_found("Webhook not found")
}

async fn list(State(state): State<EdgeState>, Auth(auth): Auth) -> Result<Response, ApiError> {
    answer_fresh(&state, auth.account_id, async {
        let rows = list_webhooks(&mut *state.pool.acquire().await?, auth.account_id).await?;
        Ok(json!({"webhooks": rows.iter().map(|r| r.json()).collect::<Vec<_>>()}))
    })
    .await
}

async fn one(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
) -> Result<Response, ApiError> {
    answer_fresh(&state, auth.account_id, async {
        let id = Uuid::parse_str(&id).map_err(|_| not_found())?;
        let row = get_webhook(
            &mut *state.pool.acquire().await?,
            auth.account_id,
            id,
            false,
        )
        .await?
        .ok_or_else(not_found)?;
        Ok(json!({"data": row.json()}))
    })
    .await
}

/// The delivery log's query: `status`, `event`, `per_page` (default 25, at most 100) and
/// `cursor`; anything else is refused (SPEC-CRM [D7]).
struct LogQuery {
    status: Option<String>,
    event: Option<String>,
    per_page: i64,
    cursor: Option<String>,
}

const KNOWN: &str = "status, event, per_page, cursor";

fn parse_log_query(raw: Option<&str>) -> Result<LogQuery, ApiError> {
    let mut q = LogQuery {
        status: None,
        event: None,
        per_page: page::DEFAULT_PER_PAGE,
        cursor: None,
    };
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "status" => {
                if !STATUSES.contains(&value.as_ref()) {
                    return Err(ApiError::bad_request(format!(
                        "unknown status '{value}': use one of {}",
                        STATUSES.join(", ")
                    )));
                }
                q.status = Some(value.into_owned());
            }
            "event" => {
                if value != TEST_EVENT && !PUBLIC_EVENTS.contains(&value.as_ref()) {
                    return Err(ApiError::bad_request(format!(
                        "unknown event '{value}': use one of {}, {TEST_EVENT}",
                        PUBLIC_EVENTS.join(", ")
                    )));
                }
                q.event = Some(value.into_owned());
            }
            "per_page" | "limit" => q.per_page = page::per_page(&key, &value)?,
            "cursor" => q.cursor = Some(value.into_owned()).filter(|c| !c.is_empty()),
            "page" => {}
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter '{other}': the delivery log takes {KNOWN}"
                )))
            }
        }
    }
    Ok(q)
}

/// What a cursor of the log is bound to: the filters it was made with.
fn cursor_scope(q: &LogQuery) -> String {
    format!(
        "deliveries:{}:{}",
        q.status.as_deref().unwrap_or("*"),
        q.event.as_deref().unwrap_or("*")
    )
}

async fn deliveries(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    Path(id): Path<String>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let q = parse_log_query(raw.as_deref())?;
    let scope = cursor_scope(&q);
    let after = page::after(&state, q.cursor.as_deref(), &scope)?;
    let webhook = Uuid::parse_str(&id).map_err(|_| not_found())?;
    let mut conn = state.pool.acquire().await?;
    get_webhook(&mut conn, auth.account_id, webhook, false)
        .await?
        .ok_or_else(not_found)?;
    let filters = "webhook_id = $1 AND tenant_id = $2
                   AND ($3::text IS NULL OR status = $3) AND ($4::text IS NULL OR event = $4)";
    let rows: Vec<DeliveryRow> = sqlx::query_as(&format!(
        "SELECT {DELIVERY_COLUMNS} FROM webhook_deliveries
         WHERE {filters} AND ($5::uuid IS NULL OR delivery_id < $5)
         ORDER BY delivery_id DESC LIMIT $6"
    ))
    .bind(webhook)
    .bind(auth.account_id)
    .bind(&q.status)
    .bind(&q.event)
    .bind(after)
    .bind(q.per_page + 1)
    .fetch_all(&mut *conn)
    .await?;
    let total: i64 = sqlx::query_scalar(&format!(
        "SELECT count(*) FROM webhook_deliveries WHERE {filters}"
    ))
    .bind(webhook)
    .bind(auth.account_id)
    .bind(&q.status)
    .bind(&q.event)
    .fetch_one(&mut *conn)
    .await?;
    let body = page::answer(&state, &rows, q.per_page, total, scope, |d| {
        (d.delivery_id, d.json())
    });
    Ok(Json(body).into_response())
}

async fn delivery(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    Path((id, delivery_id)): Path<(String, String)>,
) -> Result<Response, ApiError> {
    let missing = || ApiError::not_found("Delivery not found");
    let webhook = Uuid::parse_str(&id).map_err(|_| missing())?;
    let delivery_id = Uuid::parse_str(&delivery_id).map_err(|_| missing())?;
    let mut conn = state.pool.acquire().await?;
    let row = get_delivery(&mut conn, auth.account_id, webhook, delivery_id)
        .await?
        .ok_or_else(missing)?;
    let body: Option<String> =
        sqlx::query_scalar("SELECT body FROM webhook_messages WHERE message_id = $1")
            .bind(row.message_id)
            .fetch_optional(&mut *conn)
            .await?;
    let log = attempts(&mut conn, delivery_id).await?;
    let mut out = row.json();
    out["body"] = json!(body);
    out["attempt_log"] = json!(log.iter().map(|a| a.json()).collect::<Vec<_>>());
    Ok(Json(json!({ "data": out })).into_response())
}
