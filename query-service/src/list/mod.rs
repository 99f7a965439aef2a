//! `GET /leads`: the list query compiled to parameterized SQL over the lead read model, keyset
//! paging with signed cursors tied to the sort, and `has_more` exactly when `next_cursor` is set.

mod condition;
mod handler;
mod sql;

pub use handler::list_leads;
pub use sql::{fetch_page, select};

/// `GET /api/v1/leads`; every other method on the path goes on to command-service.
pub fn router() -> axum::Router<crate::EdgeState> {
    axum::Router::new().route(
        "/api/v1/leads",
        axum::routing::get(handler::list_leads).fallback(crate::proxy::forward),
    )
}
