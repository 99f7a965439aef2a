//! The API key reads (SPEC-CRM §4.13, the `{"data": …}` envelope): `GET /api-keys` (admin;
//! `status`, `per_page`, `cursor`; newest first) and `GET /api-keys/current` (any key: the
//! calling key, so an agent can learn its scopes). Creating and revoking go on to
//! command-service.

use crate::page;
use crate::EdgeState;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::routing::get;
use axum::{Json, Router};
use serde_json::{json, Value};
use shared::auth::records::{get_key, list_keys, KeyStatus};
use shared::http::Auth;
use shared::ApiError;

pub fn router() -> Router<EdgeState> {
    let forward = crate::proxy::forward;
    Router::new()
        .route("/api/v1/api-keys", get(list).fallback(forward))
        .route("/api/v1/api-keys/current", get(current))
        .route("/api/v1/api-keys/{id}", axum::routing::any(revoke))
}

/// Forwards a revocation; once it has succeeded this replica forgets its cached keys at once.
async fn revoke(State(state): State<EdgeState>, req: axum::extract::Request) -> Response {
    let response = crate::proxy::forward(State(state.clone()), req).await;
    if response.status().is_success() {
        state.keys.forget_all();
    }
    response
}

struct ListQuery {
    status: KeyStatus,
    per_page: i64,
    cursor: Option<String>,
}

const KNOWN: &str = "status, per_page, cursor";

fn parse_query(raw: Option<&str>) -> Result<ListQuery, ApiError> {
    let mut q = ListQuery {
        status: KeyStatus::Active,
        per_page: page::DEFAULT_PER_PAGE,
        cursor: None,
    };
    for (key, value) in form_urlencoded::parse(raw.unwrap_or_default().as_bytes()) {
        match key.as_ref() {
            "status" => {
                q.status = KeyStatus::parse(&value).ok_or_else(|| {
                    ApiError::bad_request(format!(
                        "unknown status '{value}': use one of {}",
                        KeyStatus::NAMES.join(", ")
                    ))
                })?
            }
            "per_page" | "limit" => q.per_page = page::per_page(&key, &value)?,
            "cursor" => q.cursor = Some(value.into_owned()).filter(|c| !c.is_empty()),
            "page" => {}
            other => {
                return Err(ApiError::bad_request(format!(
                    "unknown query parameter '{other}': GET /api-keys takes {KNOWN}"
                )))
            }
        }
    }
    Ok(q)
}

async fn list(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    RawQuery(raw): RawQuery,
) -> Result<Json<Value>, ApiError> {
    let q = parse_query(raw.as_deref())?;
    let scope = format!("api-keys:{}", q.status.as_str());
    let after = page::after(&state, q.cursor.as_deref(), &scope)?;
    let mut conn = state.pool.acquire().await?;
    let (rows, total) =
        list_keys(&mut conn, auth.account_id, q.status, after, q.per_page + 1).await?;
    Ok(Json(page::answer(
        &state,
        &rows,
        q.per_page,
        total,
        scope,
        |k| (k.key_id, k.json()),
    )))
}

async fn current(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
) -> Result<Json<Value>, ApiError> {
    let key = get_key(
        &mut *state.pool.acquire().await?,
        auth.account_id,
        auth.key_id,
    )
    .await?
    .ok_or_else(|| ApiError::Unauthorized("invalid API key: it was revoked".into()))?;
    Ok(Json(json!({"data": key.json()})))
}
