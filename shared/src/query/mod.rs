//! The list query language of `GET /leads` and `/leads/export` (SPEC §4), parsed into types:
//! repeatable `filter`s (`logic.operator.field[.value]`, split on the first three dots only,
//! folded left to right), `sort_by`/`sort_order`, `limit` and the opaque `cursor`. Nothing here
//! touches SQL; compiling a `ListQuery` to parameterized SQL is the read side's job.

mod fields;
mod filter;
#[cfg(test)]
mod tests;
pub mod words;

pub use fields::{NumberField, SortKey};
pub use filter::{parse_filter, CmpOp, Condition, Filter, Logic, TagsOp, TextOp};

use crate::error::ApiError;

pub const DEFAULT_LIMIT: u32 = 50;
pub const MAX_LIMIT: u32 = 1000;

#[derive(Debug, Clone, PartialEq)]
pub struct ListQuery {
    pub filters: Vec<Filter>,
    pub sort: Sort,
    pub limit: u32,
    pub cursor: Option<String>,
    /// Free-text words every lead must contain (`q`; see `words`).
    pub words: Vec<String>,
}

/// Order of a list; ties are broken by lead id so the order is total.
#[derive(Debug, Clone, PartialEq)]
pub struct Sort {
    pub key: SortKey,
    pub descending: bool,
}

impl Default for Sort {
    /// Without `sort_by`: oldest first.
    fn default() -> Self {
        Self {
            key: SortKey::Number(NumberField::CreatedAt),
            descending: false,
        }
    }
}

/// A refused query: `invalid_filter` for filters, `bad_request` for the other parameters.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
#[error("{message}")]
pub struct QueryError {
    pub code: &'static str,
    pub message: String,
}

impl QueryError {
    pub(crate) fn filter(raw: &str, why: impl std::fmt::Display) -> Self {
        Self {
            code: "invalid_filter",
            message: format!("filter '{raw}': {why}"),
        }
    }

    fn param(message: impl Into<String>) -> Self {
        Self {
            code: "bad_request",
            message: message.into(),
        }
    }
}

impl From<QueryError> for ApiError {
    fn from(e: QueryError) -> Self {
        ApiError::BadRequest {
            code: e.code,
            message: e.message,
        }
    }
}

/// Parses a raw query string (`filter=...&sort_by=...`), form-decoded (`+` is a space).
/// Unknown parameters are ignored.
pub fn parse_list_query(raw_query: &str) -> Result<ListQuery, QueryError> {
    let mut q = ListQuery {
        filters: Vec::new(),
        sort: Sort::default(),
        limit: DEFAULT_LIMIT,
        cursor: None,
        words: Vec::new(),
    };
    let (mut sort_by, mut sort_order) = (None, None);
    for (name, value) in form_urlencoded::parse(raw_query.as_bytes()) {
        // Postgres stores no NUL character: refuse it here, naming the parameter, rather
        // than fail in the database.
        if value.contains('\0') && matches!(name.as_ref(), "filter" | "sort_by" | "cursor" | "q") {
            let shown = value.replace('\0', "%00");
            return Err(if name == "filter" {
                QueryError::filter(&shown, "values must not contain NUL characters (%00)")
            } else {
                QueryError::param(format!(
                    "{name} '{shown}' must not contain NUL characters (%00)"
                ))
            });
        }
        match name.as_ref() {
            "filter" => q.filters.push(parse_filter(&value)?),
            "sort_by" if !value.trim().is_empty() => sort_by = Some(value.trim().to_owned()),
            "sort_order" if !value.trim().is_empty() => sort_order = Some(value.trim().to_owned()),
            "limit" => q.limit = parse_limit(&value)?,
            "cursor" if !value.trim().is_empty() => q.cursor = Some(value.trim().to_owned()),
            "q" => q.words = words::search_words(&value),
            _ => {}
        }
    }
    if let Some(name) = sort_by {
        q.sort.key = SortKey::parse(&name).ok_or_else(|| {
            QueryError::param(format!(
                "sort_by '{name}' is not sortable; use one of {}, or attr:<name>",
                SortKey::NAMES
            ))
        })?;
    }
    if let Some(order) = sort_order {
        q.sort.descending = match order.to_ascii_uppercase().as_str() {
            "ASC" => false,
            "DESC" => true,
            _ => {
                return Err(QueryError::param(format!(
                    "sort_order '{order}' must be ASC or DESC"
                )))
            }
        };
    }
    Ok(q)
}

fn parse_limit(raw: &str) -> Result<u32, QueryError> {
    let raw = raw.trim();
    if raw.is_empty() {
        return Ok(DEFAULT_LIMIT);
    }
    let n: i64 = raw.parse().map_err(|_| {
        QueryError::param(format!(
            "limit '{raw}' must be an integer (1 to {MAX_LIMIT})"
        ))
    })?;
    Ok(if n <= 0 {
        DEFAULT_LIMIT
    } else {
        n.min(MAX_LIMIT as i64) as u32
    })
}
