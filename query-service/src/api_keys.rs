//! The API key reads (SPEC-CRM §4.13, the `{"data": …}` envelope): `GET /api-keys` (admin;
//! `status`, `per_page`, `cursor`; newest first) and `GET /api-keys/current` (any key: the
//! calling key, so an agent can learn its scopes). Creating and revoking go on to
//! command-service.

use crate::cursor::Cursor;
use crate::EdgeState;
use axum::extract::{RawQuery, State};
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
        .route("/api/v1/api-keys/{id}", axum::routing::any(forward))
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
        per_page: 25,
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
            "per_page" | "limit" => {
                let n: i64 = value.parse().map_err(|_| {
                    ApiError::bad_request(format!("'{key}' must be an integer, e.g. 25"))
                })?;
                q.per_page = if n <= 0 { 25 } else { n.min(100) };
            }
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
    let after = match &q.cursor {
        Some(raw) => {
            Some(
                state
                    .cursors
                    .decode(raw, &scope, true)
                    .map_err(|e| ApiError::BadRequest {
                        code: "invalid_cursor",
                        message: e.to_string(),
                    })?,
            )
        }
        None => None,
    };
    let mut conn = state.pool.acquire().await?;
    let (rows, total) = list_keys(
        &mut conn,
        auth.account_id,
        q.status,
        after.map(|c| c.id),
        q.per_page + 1,
    )
    .await?;
    let has_more = rows.len() as i64 > q.per_page;
    let page = &rows[..rows.len().min(q.per_page as usize)];
    let next_cursor = match (has_more, page.last()) {
        (true, Some(last)) => Some(state.cursors.encode(&Cursor {
            sort: scope,
            descending: true,
            value: Value::Null,
            id: last.key_id,
        })),
        _ => None,
    };
    Ok(Json(json!({
        "data": page.iter().map(|k| k.json()).collect::<Vec<_>>(),
        "meta": {
            "page": Value::Null,
            "per_page": q.per_page,
            "total": total,
            "has_more": has_more,
            "next_cursor": next_cursor,
        },
    })))
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
