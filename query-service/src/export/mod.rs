//! `GET /leads/export?format=csv|json|xlsx`: every lead matching the list's filters and sort, no
//! pagination, streamed. A producer task reads the rows of one ordered query as Postgres sends
//! them and hands encoded chunks to the response through a small bounded channel, so memory
//! stays flat and the first bytes leave before the last row is read.

mod columns;
mod encode;
mod handler;
mod xlsx;

/// `GET /api/v1/leads/export`; every other method on the path goes on to command-service.
pub fn router() -> axum::Router<crate::EdgeState> {
    axum::Router::new().route(
        "/api/v1/leads/export",
        axum::routing::get(handler::export_leads).fallback(crate::proxy::forward),
    )
}
