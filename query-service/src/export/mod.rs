//! `GET /leads/export?format=csv|json|xlsx`: every lead matching the list's filters and sort, no
//! pagination, streamed. A producer task reads the rows of one ordered query as Postgres sends
//! them and hands encoded chunks to the response through a small bounded channel, so memory
//! stays flat and the first bytes leave before the last row is read.

mod columns;
mod encode;
mod handler;
mod xlsx;

pub use handler::export_leads;
