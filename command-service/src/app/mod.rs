//! Application layer of the write side: load what a decision needs, call the pure deciders in
//! `shared`, record the events and dedup keys in one transaction, retry on a lost race
//! (`unit`: the one unit of work). Commands answer `CommandError`; `routes::error` maps it.

pub mod attributes;
pub mod context;
pub mod error;
pub mod modify;
pub mod notes;
pub mod push;
mod repo;
pub mod rescore;
pub mod rules;
pub mod rules_repo;
pub mod score;
mod single;
pub(crate) mod unit;
pub mod webhooks;
mod working;

pub use context::CommandContext;
pub use error::CommandError;
