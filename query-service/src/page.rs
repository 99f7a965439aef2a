//! Paging of the C-route lists that go newest first by a time-ordered id (SPEC-CRM §2.5): the
//! `per_page` parameter (default 25, at most 100), a signed keyset cursor bound to the list's
//! filters, and the `{data, meta}` answer.

use crate::cursor::Cursor;
use crate::EdgeState;
use serde_json::{json, Value};
use shared::ApiError;
use uuid::Uuid;

pub const DEFAULT_PER_PAGE: i64 = 25;
const MAX_PER_PAGE: i64 = 100;

/// `per_page` (or `limit`): ≤ 0 means the default, more than 100 is 100.
pub fn per_page(key: &str, value: &str) -> Result<i64, ApiError> {
    let n: i64 = value
        .parse()
        .map_err(|_| ApiError::bad_request(format!("'{key}' must be an integer, e.g. 25")))?;
    Ok(if n <= 0 {
        DEFAULT_PER_PAGE
    } else {
        n.min(MAX_PER_PAGE)
    })
}

/// The id a page starts after: from `cursor`, which must have been made for `scope`.
pub fn after(
    state: &EdgeState,
    cursor: Option<&str>,
    scope: &str,
) -> Result<Option<Uuid>, ApiError> {
    cursor
        .map(|raw| {
            state
                .cursors
                .decode(raw, scope, true)
                .map(|c| c.id)
                .map_err(|e| ApiError::BadRequest {
                    code: "invalid_cursor",
                    message: e.to_string(),
                })
        })
        .transpose()
}

/// The answer for `rows` (fetched with one more than `per_page`) of `total`, each item as
/// JSON with its id; `next_cursor` after the last item shown when more follow.
pub fn answer<T>(
    state: &EdgeState,
    rows: &[T],
    per_page: i64,
    total: i64,
    scope: String,
    item: impl Fn(&T) -> (Uuid, Value),
) -> Value {
    let has_more = rows.len() as i64 > per_page;
    let shown: Vec<(Uuid, Value)> = rows.iter().take(per_page as usize).map(item).collect();
    let next_cursor = match (has_more, shown.last()) {
        (true, Some((id, _))) => Some(state.cursors.encode(&Cursor {
            sort: scope,
            descending: true,
            value: Value::Null,
            id: *id,
        })),
        _ => None,
    };
    json!({
        "data": shown.into_iter().map(|(_, v)| v).collect::<Vec<_>>(),
        "meta": {
            "page": Value::Null,
            "per_page": per_page,
            "total": total,
            "has_more": has_more,
            "next_cursor": next_cursor,
        },
    })
}
