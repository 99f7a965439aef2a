//! `GET /leads`: the list query compiled to parameterized SQL over the lead read model, keyset
//! paging with signed cursors tied to the sort, and `has_more` exactly when `next_cursor` is set.

mod condition;
mod handler;
mod sql;

pub use handler::list_leads;
pub use sql::{fetch_page, select};
