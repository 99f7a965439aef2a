//! Application layer of the write side: load what a decision needs, call the pure deciders in
//! `shared`, append the events and reserve dedup keys in one transaction, retry on conflict.

pub mod attributes;
pub mod context;
pub mod modify;
pub mod notes;
pub mod push;
mod repo;
pub mod rescore;
mod retry;
pub mod rules;
pub mod rules_repo;
pub mod score;
mod single;
mod working;

pub use context::CommandContext;
