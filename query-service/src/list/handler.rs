//! The `GET /leads` handler: parse, check the cursor, wait for the caller's writes, fetch.

use super::sql::fetch_page;
use crate::consistency::{wait_for_tenant, CONSISTENCY_HEADER};
use crate::inproc::{json_answer, InProcess};
use crate::EdgeState;
use axum::extract::{RawQuery, State};
use axum::response::Response;
use axum::Extension;
use serde_json::{json, Value};
use shared::http::Auth;
use shared::lead::view::lead_json;
use shared::query::parse_list_query;
use shared::read_model::LEAD_VIEW_CHECKPOINT;
use shared::ApiError;

fn invalid_cursor(message: String) -> ApiError {
    ApiError::BadRequest {
        code: "invalid_cursor",
        message,
    }
}

pub async fn list_leads(
    State(state): State<EdgeState>,
    Auth(auth): Auth,
    caller: Option<Extension<InProcess>>,
    RawQuery(raw): RawQuery,
) -> Result<Response, ApiError> {
    let query = parse_list_query(raw.as_deref().unwrap_or(""))?;
    let cursor = match &query.cursor {
        Some(raw) => Some(
            state
                .cursors
                .decode(raw, &query.sort.key.name(), query.sort.descending)
                .map_err(|e| invalid_cursor(e.to_string()))?,
        ),
        None => None,
    };
    let freshness = wait_for_tenant(
        &state.pool,
        auth.account_id,
        LEAD_VIEW_CHECKPOINT,
        state.read_wait,
    )
    .await?;
    let page = fetch_page(&state.pool, auth.account_id, &query, cursor.as_ref())
        .await?
        .ok_or_else(|| {
            invalid_cursor("the cursor does not fit this sort; start again without 'cursor'".into())
        })?;
    let next_cursor = page.next.as_ref().map(|c| state.cursors.encode(c));
    let leads: Vec<Value> = page
        .leads
        .iter()
        .map(|l| Value::Object(lead_json(l)))
        .collect();
    let body = json!({
        "count": leads.len(),
        "has_more": next_cursor.is_some(),
        "next_cursor": next_cursor,
        "leads": leads,
    });
    let mut response = json_answer(caller.map(|Extension(c)| c), body);
    response
        .headers_mut()
        .insert(CONSISTENCY_HEADER, freshness.header_value());
    Ok(response)
}
