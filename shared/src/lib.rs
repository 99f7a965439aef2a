//! What two or more Leadstream services need, and nothing else: the domain (leads, dedup keys,
//! pure deciders, the scoring engine, the filter language), events and upcasters, the Postgres
//! event store (append, load, the gap-free tail, checkpoints, the one event follower), the read
//! models as readers see them, API keys and their resolver, plans, configuration, ids, the
//! error type, the NATS subject scheme, and the HTTP plumbing every service mounts (`http`).
//! What one service alone does lives in that service: commands and accounts in
//! command-service, the projection runner and read-model writers in projector, cursors and
//! rate limits in query-service.
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
pub mod instant;
pub mod lead;
pub mod nats;
pub mod plan;
pub mod query;
pub mod read_model;
pub mod scoring;
pub mod shutdown;
pub mod store;
pub mod telemetry;
pub mod webhooks;

pub use error::ApiError;
