//! Leadstream's shared library: the domain (leads, events, dedup, deciders), the Postgres event
//! store, accounts and API keys, configuration, the error type and the NATS subjects.
//! Nothing here runs an HTTP server; services adapt these pieces to their routes.
#![warn(clippy::unwrap_used)]
#![cfg_attr(test, allow(clippy::unwrap_used))]

pub mod auth;
pub mod boot;
pub mod config;
pub mod db;
pub mod dedup;
pub mod error;
pub mod events;
pub mod http;
pub mod ids;
pub mod lead;
pub mod nats;
pub mod plan;
pub mod query;
pub mod read_model;
pub mod scoring;
pub mod shutdown;
pub mod store;
pub mod telemetry;

pub use error::ApiError;
